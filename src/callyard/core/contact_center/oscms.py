"""The OSCMS webhooks (MiCC's recording system integration, the WebHook tag of seed 004).

An OSCMS (a call recorder) registers itself with ``{id, name, url, token}``: the contact center then knows
where it is and which extensions it records (every Voice agent's extension of the account, while at least one
OSCMS is registered), and serves it the engine's real call recordings (``core/engine/recordings.py``: the
metadata documents and their WAV audio) by case and call, to download or to play.

Who: the seed says Local or Enterprise Administrator, "system-level users only". The twin's administrators
are the account's users with the ``ACCOUNT_ADMIN`` role (or above) who are employees; a client registered
with the contact center (a system integration, client credentials without impersonation) counts as
system-level. Agents are refused (403). Everything is per account.

Documents of kind ``cc_oscms_webhook``: ``{id (account-scoped key), accountId, oscmsId, name, url,
oscmsToken, createdOn, modifiedOn}`` (the token is a secret: sealed in exports, never listed back).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from callyard.core.contact_center.config import INTERACTION
from callyard.core.errors import Forbidden, Invalid, NotFound
from callyard.core.principal import Principal

if TYPE_CHECKING:
    from callyard.core.contact_center.desk import Desk

KIND = "cc_oscms_webhook"
ID_MAX = 128
TEXT_MAX = 2048


class OscmsWebhooks:
    def __init__(self, desk: "Desk") -> None:
        self.desk = desk
        self.rt = desk.rt
        self.config = desk.config

    def _system(self, actor: Principal) -> str:
        """The caller's account, if the caller is an administrator or a system-level client."""
        caller = self.desk.caller(actor)
        if caller.third_party or actor.kind == "control":
            return caller.account_id
        if not actor.at_least("ACCOUNT_ADMIN"):
            raise Forbidden("InsufficientPermissions", "OSCMS webhooks need the Local or Enterprise Administrator "
                                                       "role (an account administrator) or a registered client")
        return caller.account_id

    # ------------------------------------------------------------------ registration
    @staticmethod
    def _text(body: dict[str, Any], key: str, required: bool, limit: int = TEXT_MAX) -> str | None:
        value = body.get(key)
        if value is None or value == "":
            if required:
                raise Invalid("InvalidWebhook", f"{key} is required")
            return None
        if not isinstance(value, str) or len(value) > limit or any(ord(c) < 32 for c in value):
            raise Invalid("InvalidWebhook", f"{key} is a string of at most {limit} printable characters")
        return value

    async def register(self, actor: Principal, body: dict[str, Any]) -> dict[str, Any]:
        """Register an OSCMS, or register it again (same id: its name, URL and token are replaced)."""
        account_id = self._system(actor)
        oscms_id = self._text(body, "id", True, ID_MAX)
        assert oscms_id is not None
        url = self._text(body, "url", True)
        assert url is not None
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise Invalid("InvalidWebhook", "url is an absolute http or https URL")
        name = self._text(body, "name", False, 256)
        token = self._text(body, "token", False)
        key = f"{account_id}:{oscms_id.lower()}"
        async with self.rt.write() as uow:
            now = self.rt.now_iso()
            existing = self.rt.state.get(KIND, key)
            doc = {"id": key, "accountId": account_id, "oscmsId": oscms_id, "name": name or oscms_id, "url": url,
                   "createdOn": existing["createdOn"] if existing else now, "modifiedOn": now}
            if token:
                doc["oscmsToken"] = token
            uow.put(KIND, key, doc)
            uow.emit("cc.oscms.registered", account_id, f"/webhooks/{oscms_id}",
                     {k: v for k, v in doc.items() if k != "oscmsToken"}, now)
            return doc

    def webhooks(self, actor: Principal) -> list[dict[str, Any]]:
        account_id = self._system(actor)
        return sorted((d for d in self.rt.state.all(KIND) if d["accountId"] == account_id),
                      key=lambda d: d["oscmsId"].lower())

    def extensions(self, actor: Principal) -> list[dict[str, Any]]:
        """The extensions the registered OSCMS record: each Voice agent's extension (their own, or the one
        they are hot-desked at), with the OSCMS that record it. None while no OSCMS is registered."""
        webhooks = self.webhooks(actor)
        account_id = self._system(actor)
        if not webhooks:
            return []
        out = []
        for employee in self.config.employees(account_id):
            if "Voice" not in employee["agents"]:
                continue
            phone = self.desk.states.phone(employee)
            if phone is None:
                continue
            out.append({"extension": phone.number, "name": phone.name, "employeeId": employee["id"],
                        "agentId": employee["agents"]["Voice"]["id"],
                        "agentReporting": employee["agents"]["Voice"]["reporting"],
                        "oscmsIds": [w["oscmsId"] for w in webhooks]})
        return out

    # ------------------------------------------------------------------ recordings
    def _case_of(self, account_id: str, call_id: str) -> str | None:
        doc = self.rt.state.get(INTERACTION, call_id)
        if doc is not None and doc.get("accountId") == account_id:
            case = doc.get("caseId")
            return case if isinstance(case, str) else None
        return None

    def recordings(self, actor: Principal, case_id: str, call_id: str) -> list[dict[str, Any]]:
        """The stored recordings of a call (or conference) of the account, oldest first. A call the contact
        center grouped into a case is found only under that case."""
        account_id = self._system(actor)
        known = self._case_of(account_id, call_id)
        if known is not None and known.lower() != case_id.strip().lower():
            raise NotFound("CaseNotFound", f"call {call_id} is not part of case {case_id}")
        found = [dict(d, caseId=known) for d in self.rt.state.all("recording")
                 if d["accountId"] == account_id and d["callId"] == call_id]
        return sorted(found, key=lambda d: (d["createdOn"], d["recordingId"]))

    def recording(self, actor: Principal, recording_id: str) -> tuple[dict[str, Any], str, bytes]:
        """A recording of the account, with its audio (content type and bytes)."""
        account_id = self._system(actor)
        doc = self.rt.state.get("recording", recording_id)
        blob = self.rt.state.blobs.get(doc["blobId"]) if doc is not None else None
        if doc is None or doc["accountId"] != account_id or blob is None:
            raise NotFound("RecordingNotFound", f"recording {recording_id} was not found")
        return doc, blob[0], blob[1]
