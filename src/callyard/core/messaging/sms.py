"""The SMS outbox: every text message the twin "sends" (the UC User API's ``POST /api/user/sms/{to}``, the
contact center's SMS media, …) is captured here as a core document and read at ``GET /_callyard/sms``, as
mail is at ``/_callyard/mail``. Nothing leaves the machine: the twin has no SMS gateway.

Document ``sms`` (id field ``smsId``): ``{smsId, accountId, userId?, from, to, dialled, text, source,
segments, encoding, createdOn, sequence (the twin's sending order), delivery: "outbox", ...extra}``.
``to`` is the number after the account's number-plan expansion, ``dialled`` as the sender gave it.

Number plan: the account's ``pbx.numberPlan`` setting ``{countryCode, nationalPrefix, internationalPrefix,
rules: [{prefix, replace}]}`` (all optional). A number is expanded to E.164 by the first rule whose prefix is
the longest match, else the international prefix becomes ``+``, else the national prefix becomes
``+<countryCode>`` (``08 123 456`` → ``+468123456`` with countryCode 46 and nationalPrefix 0); a number
already in ``+`` form, or that nothing matches (a short code), is kept.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from callyard.core.directory.access import Access
from callyard.core.errors import Invalid
from callyard.core.principal import Principal
from callyard.core.runtime import Runtime
from callyard.core.state import UnitOfWork

SOURCES = ("uc", "cx", "cloudlink", "sim")
TEXT_MAX = 1600                 # ten concatenated segments, as most gateways allow
_SEPARATORS = re.compile(r"[\s\-().]")
_NUMBER = re.compile(r"^\+?[0-9]{1,20}$")
# The GSM 03.38 default alphabet (and its extension table, counted twice): a text of these fits 160 per
# segment (153 when concatenated); anything else is sent as UCS-2, 70 per segment (67 when concatenated).
_GSM = set("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
           "¿abcdefghijklmnopqrstuvwxyzäöñüà")
_GSM_EXTENDED = set("^{}\\[~]|€\f")


def normalise(number: str) -> str:
    return _SEPARATORS.sub("", number.strip())


def expand(plan: dict[str, Any], number: str) -> str:
    """``number`` in the international form the account's number plan gives it (see the module's doc)."""
    dialled = normalise(number)
    if dialled.startswith("+"):
        return dialled
    rules = [r for r in plan.get("rules") or () if isinstance(r, dict) and isinstance(r.get("prefix"), str)
             and isinstance(r.get("replace"), str) and r["prefix"]]
    for rule in sorted(rules, key=lambda r: -len(r["prefix"])):
        if dialled.startswith(rule["prefix"]):
            return str(rule["replace"]) + dialled[len(rule["prefix"]):]
    international = str(plan.get("internationalPrefix") or "")
    if international and dialled.startswith(international) and len(dialled) > len(international):
        return "+" + dialled[len(international):]
    national, country = str(plan.get("nationalPrefix") or ""), str(plan.get("countryCode") or "")
    if national and country and dialled.startswith(national) and len(dialled) > len(national):
        return f"+{country}{dialled[len(national):]}"
    return dialled


def segments(text: str) -> tuple[str, int]:
    """The encoding (``GSM-7`` or ``UCS-2``) and the number of segments the text is sent in."""
    if all(c in _GSM or c in _GSM_EXTENDED for c in text):
        units = sum(2 if c in _GSM_EXTENDED else 1 for c in text)
        return "GSM-7", 1 if units <= 160 else -(-units // 153)
    units = sum(2 if ord(c) > 0xFFFF else 1 for c in text)
    return "UCS-2", 1 if units <= 70 else -(-units // 67)


class SmsOutbox:
    def __init__(self, runtime: Runtime, access: Access) -> None:
        self.rt = runtime
        self.access = access

    def number_plan(self, account_id: str) -> dict[str, Any]:
        account = self.rt.state.get("account", account_id) or {}
        plan = (account.get("pbx") or {}).get("numberPlan")
        return plan if isinstance(plan, dict) else {}

    def expand(self, account_id: str, number: str) -> str:
        return expand(self.number_plan(account_id), number)

    def sender_number(self, user: dict[str, Any]) -> str:
        """The number a user's messages come from: their mobile number, else the DID that reaches their
        extension, else the extension — in the account's international form."""
        account_id = str(user["accountId"])
        if isinstance(user.get("mobile"), str) and user["mobile"].strip():
            return self.expand(account_id, user["mobile"])
        account = self.rt.state.get("account", account_id) or {}
        dids = (account.get("pbx") or {}).get("dids") or {}
        extension = str(user.get("extension") or "")
        for did, target in sorted(dids.items()):
            if extension and target == extension:
                return self.expand(account_id, did)
        return extension

    async def send(self, account_id: str, *, sender: str, to: str, text: Any, source: str,
                   user_id: str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """Capture one message of ``account_id`` from ``sender`` to ``to`` (expanded by the account's number
        plan). ``Invalid`` for an empty or too long text or a number that is not one; nothing is stored then."""
        async with self.rt.write() as uow:
            return self.capture(uow, account_id, sender=sender, to=to, text=text, source=source, user_id=user_id,
                                extra=extra)

    def capture(self, uow: UnitOfWork, account_id: str, *, sender: str, to: str, text: Any, source: str,
                user_id: str | None = None, extra: dict[str, Any] | None = None) -> dict[str, Any]:
        """``send`` inside the caller's transaction (a contact-center agent's reply)."""
        if source not in SOURCES:
            raise ValueError(f"unknown SMS source {source!r}")
        if not isinstance(text, str) or not text.strip():
            raise Invalid("sms.text.required", "smsText is required", field="smsText", value="")
        if len(text) > TEXT_MAX:
            raise Invalid("sms.text.too.long", f"smsText is at most {TEXT_MAX} characters", field="smsText",
                          value=f"{len(text)} characters")
        dialled = normalise(to) if isinstance(to, str) else ""
        if not _NUMBER.match(dialled):
            raise Invalid("sms.number.not.valid", "the recipient is not a phone number (digits, optionally "
                                                  "after +)", field="to", value=to)
        encoding, parts = segments(text)
        sms = {"smsId": self.rt.ids.uuid(), "accountId": account_id, "from": sender,
               "to": self.expand(account_id, dialled), "dialled": dialled, "text": text, "source": source,
               "encoding": encoding, "segments": parts, "createdOn": self.rt.now_iso(), "delivery": "outbox",
               **(extra or {})}
        if user_id is not None:
            sms["userId"] = user_id
        sms["sequence"] = 1 + max((m.get("sequence", 0) for m in self.rt.state.all("sms")), default=0)
        uow.put("sms", sms["smsId"], sms)
        uow.emit("sms.queued", account_id, f"/sms/{sms['smsId']}", dict(sms), self.rt.now_iso())
        return sms

    def list(self, actor: Principal, accounts: Iterable[str] | None = None) -> list[dict[str, Any]]:
        """The captured messages of the accounts ``actor`` administers (the operator: all), oldest first."""
        visible = {a["accountId"] for a in self.access.visible_accounts(actor)}
        if accounts is not None:
            visible &= set(accounts)
        found = [m for m in self.rt.state.all("sms") if m["accountId"] in visible]
        return sorted(found, key=lambda m: (m["createdOn"], m.get("sequence", 0)))
