"""The UC Voicemail Settings and Mobile Subscriber groups (seed 003).

* **Voicemail settings** per user. ``allowVoicemail`` IS the extension's ``voicemail`` setting (the engine
  sends a busy, unanswered or DND call to the mailbox only while it is on; off, an unanswered call rings on
  and a busy one hears busy). ``emailNotification`` is obeyed too: each new message in the user's mailbox
  puts a notification mail in the captured outbox (``/_callyard/mail``, template ``voicemail``) in the
  transaction that deposits it. The other fields (greeting options, SMS notification, download, call back)
  are stored (documents ``voicemail_settings``, id field ``userId``) and shown; the twin plays no greetings.
* **Mobile subscriber** settings per mobile number of the organisation (a user's ``mobile``): full caller
  id, number presentation (0-3), PBX integration and route to PBX, stored (documents ``mobile_subscriber``, id
  field ``{accountId}:{number}``). The user whose number it is, or an administrator of the account, reads
  and changes them; any other number of the domain is not found.
"""
from __future__ import annotations

from typing import Any

from callyard.core.devices.service import acting_for
from callyard.core.engine.model import EXTENSION
from callyard.core.engine.service import Engine
from callyard.core.errors import Forbidden, Invalid, NotFound
from callyard.core.principal import Principal
from callyard.core.state import UnitOfWork
from callyard.events.event import Event
from callyard.events.projections import DERIVE

VOICEMAIL = "voicemail_settings"
VOICEMAIL_DEFAULTS: dict[str, Any] = {
    "playActivity": True, "playMergedUnavailableEndTime": False, "playHumanAssistance": False,
    "humanAssistanceNumber": "", "smsNotification": False, "emailNotification": False, "fileAttached": False,
    "voicemailInboxFullSmsNotification": False, "voicemailInboxFullEmailNotification": False,
    "allowDownload": True, "bypassVoicemail": False, "voicemailCallbackEnabled": True}
MOBILE = "mobile_subscriber"
MOBILE_DEFAULTS: dict[str, Any] = {"fullCallerId": False, "numberPresentation": 0, "pbxIntegration": True,
                                   "routeToPbx": False}
PRESENTATIONS = (0, 1, 2, 3)


class UserSettings:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.rt = engine.rt
        self.rt.projections.in_transaction("voicemail e-mail notifications", self._notify,
                                           events=("voicemail.created",), order=DERIVE)

    # ================================================================== voicemail settings
    def _extension(self, user: dict[str, Any]) -> Any:
        number = user.get("extension")
        endpoint = self.engine.endpoint(user["accountId"], str(number)) if number else None
        return endpoint if endpoint is not None and endpoint.kind == EXTENSION else None

    def voicemail(self, actor: Principal, account_id: str, user_id: str) -> dict[str, Any]:
        user = acting_for(self.rt, actor, account_id, user_id)
        return self._voicemail_view(user)

    def _voicemail_view(self, user: dict[str, Any]) -> dict[str, Any]:
        stored = (self.rt.state.get(VOICEMAIL, user["userId"]) or {}).get("settings") or {}
        endpoint = self._extension(user)
        allow = bool(self.engine.settings(endpoint)["voicemail"]) if endpoint is not None else False
        view = {**VOICEMAIL_DEFAULTS, **stored, "allowVoicemail": allow}
        order = ("playActivity", "playMergedUnavailableEndTime", "playHumanAssistance", "humanAssistanceNumber",
                 "smsNotification", "emailNotification", "fileAttached", "voicemailInboxFullSmsNotification",
                 "voicemailInboxFullEmailNotification", "allowDownload", "allowVoicemail", "bypassVoicemail",
                 "voicemailCallbackEnabled")
        return {key: view[key] for key in order}

    async def set_voicemail(self, actor: Principal, account_id: str, user_id: str,
                            fields: dict[str, Any]) -> dict[str, Any]:
        """Change the fields given (all optional); unknown fields and wrong types are refused (400)."""
        known = {*VOICEMAIL_DEFAULTS, "allowVoicemail"}
        unknown = set(fields) - known
        if unknown:
            name = sorted(unknown)[0]
            raise Invalid(f"{name}.not.allowed", f"{name} is not a voicemail setting", field=name)
        for key, value in fields.items():
            if key == "humanAssistanceNumber":
                if not isinstance(value, str) or len(value) > 32:
                    raise Invalid(f"{key}.not.valid", f"{key} is a number (at most 32 characters)", field=key)
            elif not isinstance(value, bool):
                raise Invalid(f"{key}.not.valid", f"{key} is true or false", field=key, value=str(value))
        async with self.rt.write() as uow:
            user = acting_for(self.rt, actor, account_id, user_id)
            if "allowVoicemail" in fields:
                endpoint = self._extension(user)
                if endpoint is None:
                    raise Invalid("allowVoicemail.not.valid", "the user has no extension, hence no mailbox",
                                  field="allowVoicemail")
                self.engine.save_settings(uow, endpoint, {"voicemail": fields["allowVoicemail"]})
            rest = {k: v for k, v in fields.items() if k != "allowVoicemail"}
            if rest:
                doc = dict(self.rt.state.get(VOICEMAIL, user["userId"]) or {
                    "userId": user["userId"], "accountId": account_id, "settings": {}})
                doc["settings"] = {**doc.get("settings", {}), **rest}
                uow.put(VOICEMAIL, user["userId"], doc)
            return self._voicemail_view(user)

    def _notify(self, uow: UnitOfWork, events: list[Event]) -> None:
        for event in events:
            data = event.data or {}
            user = self.rt.state.get("user", str(data.get("userId") or ""))
            if user is None or not user.get("email"):
                continue
            stored = (self.rt.state.get(VOICEMAIL, user["userId"]) or {}).get("settings") or {}
            if not stored.get("emailNotification"):
                continue
            mail_id = self.rt.ids.uuid()
            caller = data.get("fromName") or data.get("from") or "an unknown caller"
            uow.put("mail", mail_id, {
                "mailId": mail_id, "accountId": user["accountId"], "userId": user["userId"], "to": user["email"],
                "from": "voicemail@callyard.example", "template": "voicemail",
                "languageCode": user.get("languageCode", "en-US"),
                "subject": f"New voicemail from {caller}",
                "body": (f"You have a new voicemail message from {caller} ({data.get('from')}), "
                         f"{data.get('durationInSeconds')} s, left {data.get('createdOn')}.\n"
                         + ("The message is attached.\n" if stored.get("fileAttached") else "")),
                "voicemailId": data.get("voicemailId"), "attached": bool(stored.get("fileAttached")),
                "createdOn": self.rt.now_iso(), "delivery": "outbox"})

    # ================================================================== mobile subscriber
    def _subscriber(self, actor: Principal, account_id: str, number: str) -> dict[str, Any]:
        """The user of ``account_id`` whose mobile is ``number`` (acted for by ``actor``)."""
        wanted = number.strip().replace(" ", "")
        for user in self.rt.state.all("user"):
            if user["accountId"] == account_id and str(user.get("mobile") or "").replace(" ", "") == wanted:
                try:
                    return acting_for(self.rt, actor, account_id, user["userId"])
                except Forbidden:
                    raise Forbidden("access.denied", "a user changes their own mobile's settings only",
                                    field="number", value=number) from None
        raise NotFound("mobile.subscriber.does.not.exist", f"{number} is not a mobile number of the organisation",
                       field="number", value=number)

    def mobile(self, actor: Principal, account_id: str, number: str) -> dict[str, Any]:
        user = self._subscriber(actor, account_id, number)
        key = f"{account_id}:{user['mobile']}"
        return {**MOBILE_DEFAULTS, **((self.rt.state.get(MOBILE, key) or {}).get("settings") or {})}

    async def set_mobile(self, actor: Principal, account_id: str, number: str, key: str, value: Any) -> None:
        if key == "numberPresentation":
            if not isinstance(value, int) or isinstance(value, bool) or value not in PRESENTATIONS:
                raise Invalid("value.not.valid", "value is 0, 1, 2 or 3", field="value", value=str(value))
        elif not isinstance(value, bool):
            raise Invalid("enable.not.valid", "enable is true or false", field="enable", value=str(value))
        async with self.rt.write() as uow:
            user = self._subscriber(actor, account_id, number)
            doc_id = f"{account_id}:{user['mobile']}"
            doc = dict(self.rt.state.get(MOBILE, doc_id) or {"subscriberKey": doc_id, "accountId": account_id,
                                                             "number": user["mobile"], "userId": user["userId"],
                                                             "settings": {}})
            doc["settings"] = {**doc.get("settings", {}), key: value}
            uow.put(MOBILE, doc_id, doc)
