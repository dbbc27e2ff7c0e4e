"""Personal contacts: address-book entries owned by a user, a user group or the organisation, with typed phone
numbers, a preferred number, abbreviated numbers and speed dials 1–10 — no HTTP in sight (façade:
``callyard.api.uc.personal_contacts``).

Document ``personal_contact`` (id field ``cid``, ``<digits>@internal`` as the seed shows): ``{cid, accountId,
ownerType (USER|GROUP|ORG), ownerId (userId | groupId | accountId), company, department, firstname, lastname,
shortname, email, street, city, postalcode, country, speeddial?, showInDefaultContactList, contactStatus
(FAVORITE|CONTACT|VIP|BLOCKED), phoneNumbers: [{type, phoneNumber, preferredNumber, abbreviatednumber?}],
createdOn, createdBy, modifiedOn, modifiedBy}``.

Rules: a speed dial (1–10) and an abbreviated number are unique per owner (409 otherwise). A user's contacts
are theirs and their organisation administrator's; a group's are its accepted members' and the
administrator's; the organisation's are the administrator's to change (every user of the organisation dials
them). Another organisation's owner is never reachable.

Dialling: ``dial(account, user, dialled)`` is what the engine's dial plan asks before it routes a number a user
dialled: a speed dial (``5`` or ``*5``) or an abbreviated number of the user's own contacts, then of the groups
the user belongs to, then of the organisation, becomes that entry's number (a speed dial: the contact's
preferred number, else its first). Numbers of the PBX itself (extensions, groups, the voicemail pilot) are
never shadowed: the dial plan asks only for numbers it does not know.
"""
from __future__ import annotations

import builtins
import re
from typing import Any, Iterator

from callyard.core.errors import Conflict, Forbidden, Invalid, NotFound
from callyard.core.principal import Principal
from callyard.core.runtime import Runtime
from callyard.core.state import UnitOfWork
from callyard.events.event import Event

KIND = "personal_contact"
OWNER_TYPES = ("USER", "GROUP", "ORG")
STATUSES = ("FAVORITE", "CONTACT", "VIP", "BLOCKED")
PHONE_TYPES = ("HOME", "WORK", "MOBILE", "MAIN", "WORK_FAX", "HOME_FAX", "PAGER", "OTHER")
TEXT_FIELDS = ("company", "department", "firstname", "lastname", "shortname", "email", "street", "city",
               "postalcode", "country")
FIELDS = {"cid", *TEXT_FIELDS, "speeddial", "showInDefaultContactList", "contactStatus", "phoneNumbers"}
TEXT_MAX = 64
SPEED_DIALS = range(1, 11)
PHONES_MAX = 20
CONTACTS_MAX = 1000        # per owner
_NUMBER = re.compile(r"^\+?[0-9*#]{1,32}$")
_ABBREVIATED = re.compile(r"^[0-9]{1,10}$")
_SEPARATORS = re.compile(r"[\s\-().]")
LABELS = {
    "en": {"HOME": "Home", "WORK": "Work", "MOBILE": "Mobile", "MAIN": "Main", "WORK_FAX": "Work fax",
           "HOME_FAX": "Home fax", "PAGER": "Pager", "OTHER": "Other"},
    "sv": {"HOME": "Hem", "WORK": "Arbete", "MOBILE": "Mobil", "MAIN": "Huvudnummer", "WORK_FAX": "Fax arbete",
           "HOME_FAX": "Fax hem", "PAGER": "Personsökare", "OTHER": "Annat"},
    "fi": {"HOME": "Koti", "WORK": "Työ", "MOBILE": "Matkapuhelin", "MAIN": "Päänumero", "WORK_FAX": "Työfaksi",
           "HOME_FAX": "Kotifaksi", "PAGER": "Hakulaite", "OTHER": "Muu"},
    "de": {"HOME": "Privat", "WORK": "Geschäftlich", "MOBILE": "Mobil", "MAIN": "Hauptnummer",
           "WORK_FAX": "Fax geschäftlich", "HOME_FAX": "Fax privat", "PAGER": "Pager", "OTHER": "Andere"},
    "fr": {"HOME": "Domicile", "WORK": "Travail", "MOBILE": "Mobile", "MAIN": "Principal",
           "WORK_FAX": "Fax travail", "HOME_FAX": "Fax domicile", "PAGER": "Bipeur", "OTHER": "Autre"},
}


def _number(value: str) -> str:
    return _SEPARATORS.sub("", value.strip())


class PersonalContacts:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        # A user's or a group's contacts go with them, in the same transaction.
        runtime.projections.in_transaction("personal contacts of a deleted user or group", self._forget_owner,
                                           events=("user.deleted", "group.deleted"))

    def _forget_owner(self, uow: UnitOfWork, events: builtins.list[Event]) -> None:
        for event in events:
            owner_type = "USER" if event.type == "user.deleted" else "GROUP"
            owner_id = event.subject.rsplit("/", 1)[-1]
            for contact in self.rt.state.all(KIND):
                if contact["ownerType"] == owner_type and contact["ownerId"] == owner_id \
                        and contact["accountId"] == event.account_id:
                    uow.delete(KIND, contact["cid"])
                    uow.emit("personalContact.deleted", contact["accountId"], f"/personal-contacts/{contact['cid']}",
                             None, self.rt.now_iso())

    # ------------------------------------------------------------------ owners and access
    def group_named(self, account_id: str, ref: str) -> dict[str, Any]:
        """The account's user group that ``ref`` names (its name, in any case, or its id)."""
        for group in self.rt.state.all("group"):
            if group["accountId"] == account_id and (group["groupId"] == ref
                                                     or str(group.get("name", "")).lower() == ref.lower()):
                return group
        raise NotFound("group.does.not.exist", f"the organisation has no user group {ref}", field="groupId",
                       value=ref)

    @staticmethod
    def _member(group: dict[str, Any], user_id: str | None) -> bool:
        return user_id is not None and any(m.get("memberId") == user_id and m.get("status", "ACCEPTED") == "ACCEPTED"
                                           for m in group.get("members", []))

    def owner(self, actor: Principal, account_id: str, owner_type: str, owner_ref: str) -> str:
        """The id of the owner whose contacts the caller may read and change; Forbidden otherwise."""
        admin = actor.at_least("ACCOUNT_ADMIN") and actor.account_id in (account_id, "*")
        if actor.account_id not in (account_id, "*"):
            raise Forbidden("access.denied", "another organisation's contacts are not reachable", field="domain")
        if owner_type == "USER":
            if owner_ref != actor.user_id and not admin:
                raise Forbidden("access.denied", "a user's personal contacts are their own", field="user",
                                value=owner_ref)
            return owner_ref
        if owner_type == "GROUP":
            group = self.group_named(account_id, owner_ref)
            if not admin and not self._member(group, actor.user_id):
                raise Forbidden("access.denied", "only the group's members and administrators reach its contacts",
                                field="groupId", value=owner_ref)
            return str(group["groupId"])
        if not admin:
            raise Forbidden("access.denied", "the organisation's contacts are managed by an administrator",
                            field="domain")
        return account_id

    def _owned(self, account_id: str, owner_type: str, owner_id: str) -> list[dict[str, Any]]:
        found = [c for c in self.rt.state.all(KIND) if c["accountId"] == account_id
                 and c["ownerType"] == owner_type and c["ownerId"] == owner_id]
        return sorted(found, key=lambda c: (c.get("lastname", "").lower(), c.get("firstname", "").lower(), c["cid"]))

    # ------------------------------------------------------------------ reads
    def list(self, actor: Principal, account_id: str, owner_type: str, owner_ref: str) -> list[dict[str, Any]]:
        return self._owned(account_id, owner_type, self.owner(actor, account_id, owner_type, owner_ref))

    def get(self, actor: Principal, account_id: str, owner_type: str, owner_ref: str, cid: str) -> dict[str, Any]:
        owner_id = self.owner(actor, account_id, owner_type, owner_ref)
        contact = self.rt.state.get(KIND, cid)
        if contact is None or contact["accountId"] != account_id or contact["ownerType"] != owner_type \
                or contact["ownerId"] != owner_id:
            raise NotFound("contact.does.not.exist", f"the owner has no personal contact {cid}", field="cid",
                           value=cid)
        return contact

    def visible_to(self, account_id: str, user_id: str) -> Iterator[dict[str, Any]]:
        """The contacts a user's phone sees, nearest owner first: their own, their groups', the organisation's."""
        groups = {g["groupId"] for g in self.rt.state.all("group")
                  if g["accountId"] == account_id and self._member(g, user_id)}
        contacts = [c for c in self.rt.state.all(KIND) if c["accountId"] == account_id]
        for owner_type, owners in (("USER", {user_id}), ("GROUP", groups), ("ORG", {account_id})):
            yield from sorted((c for c in contacts if c["ownerType"] == owner_type and c["ownerId"] in owners),
                              key=lambda c: c["cid"])

    def default_list(self, account_id: str, user_id: str) -> builtins.list[dict[str, Any]]:
        """The personal contacts shown in the user's default contact list (``showInDefaultContactList``)."""
        return [c for c in self.visible_to(account_id, user_id) if c.get("showInDefaultContactList")]

    def dial(self, account_id: str, user_id: str, dialled: str) -> str | None:
        """The number a speed dial or abbreviated number the user dialled stands for, or None."""
        code = _number(dialled)
        speed = code[1:] if code.startswith("*") else code
        for contact in self.visible_to(account_id, user_id):
            phones = contact.get("phoneNumbers") or []
            if phones and speed.isdigit() and contact.get("speeddial") == int(speed):
                preferred = next((p for p in phones if p.get("preferredNumber")), phones[0])
                return str(preferred["phoneNumber"])
            for phone in phones:
                if phone.get("abbreviatednumber") and phone["abbreviatednumber"] == code:
                    return str(phone["phoneNumber"])
        return None

    @staticmethod
    def labels(locale: str) -> builtins.list[dict[str, str]]:
        """The phone number types with their names in ``locale`` (``sv``, ``sv-SE``, ``sv_SE``; English else)."""
        names = LABELS.get(locale.replace("_", "-").split("-")[0].lower(), LABELS["en"])
        return [{"labelValue": value, "labelName": names[value]} for value in PHONE_TYPES]

    # ------------------------------------------------------------------ writes
    async def create(self, actor: Principal, account_id: str, owner_type: str, owner_ref: str,
                     fields: dict[str, Any]) -> dict[str, Any]:
        owner_id = self.owner(actor, account_id, owner_type, owner_ref)
        values = _validated(fields, {})
        async with self.rt.write() as uow:
            siblings = self._owned(account_id, owner_type, owner_id)
            if len(siblings) >= CONTACTS_MAX:
                raise Conflict("contact.limit.reached", f"an owner has at most {CONTACTS_MAX} personal contacts",
                               field="cid")
            _unique(values, siblings)
            cid = self._new_cid()
            now = self.rt.now_iso()
            contact = {"cid": cid, "accountId": account_id, "ownerType": owner_type, "ownerId": owner_id,
                       **values, "createdOn": now, "createdBy": actor.principal_id, "modifiedOn": now,
                       "modifiedBy": actor.principal_id}
            uow.put(KIND, cid, contact)
            uow.emit("personalContact.created", account_id, f"/personal-contacts/{cid}", dict(contact), now)
        return contact

    async def update(self, actor: Principal, account_id: str, owner_type: str, owner_ref: str, cid: str,
                     fields: dict[str, Any]) -> dict[str, Any]:
        """Replace the contact's fields with ``fields`` (a PUT: what is left out is cleared)."""
        if fields.get("cid") not in (None, cid):
            raise Invalid("cid.not.valid", "the cid of the body must be the path's", field="cid",
                          value=str(fields["cid"]))
        current = self.get(actor, account_id, owner_type, owner_ref, cid)
        self.owner(actor, account_id, owner_type, owner_ref)
        values = _validated(fields, {})
        async with self.rt.write() as uow:
            _unique(values, [c for c in self._owned(account_id, owner_type, current["ownerId"]) if c["cid"] != cid])
            now = self.rt.now_iso()
            contact = {k: current[k] for k in ("cid", "accountId", "ownerType", "ownerId", "createdOn", "createdBy")}
            contact.update(values, modifiedOn=now, modifiedBy=actor.principal_id)
            uow.put(KIND, cid, contact)
            uow.emit("personalContact.updated", account_id, f"/personal-contacts/{cid}", dict(contact), now)
        return contact

    async def delete(self, actor: Principal, account_id: str, owner_type: str, owner_ref: str,
                     cid: str) -> dict[str, Any]:
        contact = self.get(actor, account_id, owner_type, owner_ref, cid)
        self.owner(actor, account_id, owner_type, owner_ref)
        async with self.rt.write() as uow:
            uow.delete(KIND, cid)
            uow.emit("personalContact.deleted", account_id, f"/personal-contacts/{cid}", None, self.rt.now_iso())
        return contact

    def _new_cid(self) -> str:
        while True:
            cid = f"{self.rt.ids.digits(6)}@internal"
            if self.rt.state.get(KIND, cid) is None:
                return cid


def _validated(fields: dict[str, Any], _current: dict[str, Any]) -> dict[str, Any]:
    """The stored fields of a contact from a request body; Invalid naming the first bad field."""
    unknown = sorted(set(fields) - FIELDS)
    if unknown:
        raise Invalid("field.not.allowed", f"unknown field {unknown[0]}", field=unknown[0])
    out: dict[str, Any] = {}
    for name in TEXT_FIELDS:
        value = fields.get(name)
        if value is None:
            continue
        if not isinstance(value, str):
            raise Invalid(f"{name}.not.valid", f"{name} is a string", field=name, value=str(value))
        if len(value) > TEXT_MAX:
            raise Invalid(f"{name}.too.long", f"{name} is at most {TEXT_MAX} characters", field=name,
                          value=value[:TEXT_MAX])
        out[name] = value
    if not any(out.get(n, "").strip() for n in ("firstname", "lastname", "shortname", "company")):
        raise Invalid("contact.name.required", "a contact needs a firstname, lastname, shortname or company",
                      field="firstname")
    speed = fields.get("speeddial")
    if speed is not None:
        if isinstance(speed, bool) or not isinstance(speed, int) or speed not in SPEED_DIALS:
            raise Invalid("speeddial.not.valid", "speeddial is a whole number from 1 to 10", field="speeddial",
                          value=str(speed))
        out["speeddial"] = speed
    show = fields.get("showInDefaultContactList", False)
    if not isinstance(show, bool):
        raise Invalid("showInDefaultContactList.not.valid", "showInDefaultContactList is a boolean",
                      field="showInDefaultContactList", value=str(show))
    out["showInDefaultContactList"] = show
    status = fields.get("contactStatus") or "CONTACT"
    if status not in STATUSES:
        raise Invalid("contactStatus.not.valid", f"contactStatus is one of {', '.join(STATUSES)}",
                      field="contactStatus", value=str(status))
    out["contactStatus"] = status
    out["phoneNumbers"] = _phones(fields.get("phoneNumbers"))
    if "speeddial" in out and not out["phoneNumbers"]:
        raise Invalid("speeddial.needs.number", "a speed dial needs a phone number to dial", field="speeddial",
                      value=str(speed))
    return out


def _phones(value: Any) -> list[dict[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or len(value) > PHONES_MAX:
        raise Invalid("phoneNumbers.not.valid", f"phoneNumbers is a list of at most {PHONES_MAX} numbers",
                      field="phoneNumbers")
    phones: list[dict[str, Any]] = []
    for index, item in enumerate(value):
        where = f"phoneNumbers[{index}]"
        if not isinstance(item, dict) or set(item) - {"type", "phoneNumber", "preferredNumber", "abbreviatednumber"}:
            raise Invalid("phoneNumbers.not.valid", f"{where} is {{type, phoneNumber, preferredNumber, "
                                                    "abbreviatednumber}", field=where)
        kind = item.get("type") or "OTHER"
        if kind not in PHONE_TYPES:
            raise Invalid("phoneNumbers.type.not.valid", f"{where}.type is one of {', '.join(PHONE_TYPES)}",
                          field=f"{where}.type", value=str(kind))
        number = item.get("phoneNumber")
        if not isinstance(number, str) or not _NUMBER.match(_number(number)):
            raise Invalid("phoneNumbers.phoneNumber.not.valid", f"{where}.phoneNumber is a phone number",
                          field=f"{where}.phoneNumber", value=str(number))
        preferred = item.get("preferredNumber", False)
        if not isinstance(preferred, bool):
            raise Invalid("phoneNumbers.preferredNumber.not.valid", f"{where}.preferredNumber is a boolean",
                          field=f"{where}.preferredNumber", value=str(preferred))
        phone: dict[str, Any] = {"type": kind, "phoneNumber": _number(number), "preferredNumber": preferred}
        abbreviated = item.get("abbreviatednumber")
        if abbreviated not in (None, ""):
            if not isinstance(abbreviated, str) or not _ABBREVIATED.match(abbreviated):
                raise Invalid("phoneNumbers.abbreviatednumber.not.valid",
                              f"{where}.abbreviatednumber is 1 to 10 digits", field=f"{where}.abbreviatednumber",
                              value=str(abbreviated))
            phone["abbreviatednumber"] = abbreviated
        phones.append(phone)
    if sum(p["preferredNumber"] for p in phones) > 1:
        raise Invalid("phoneNumbers.preferredNumber.not.valid", "at most one number is the preferred one",
                      field="phoneNumbers")
    return phones


def _unique(values: dict[str, Any], siblings: list[dict[str, Any]]) -> None:
    """A speed dial and an abbreviated number are unique per owner."""
    speed = values.get("speeddial")
    if speed is not None and any(c.get("speeddial") == speed for c in siblings):
        raise Conflict("speeddial.already.used", f"speed dial {speed} is already another contact's",
                       field="speeddial", value=str(speed))
    taken = {p["abbreviatednumber"] for c in siblings for p in c.get("phoneNumbers", []) if p.get("abbreviatednumber")}
    mine = [p["abbreviatednumber"] for p in values["phoneNumbers"] if p.get("abbreviatednumber")]
    for code in mine:
        if code in taken or mine.count(code) > 1:
            raise Conflict("abbreviatednumber.already.used", f"abbreviated number {code} is already in use",
                           field="abbreviatednumber", value=code)
