"""Contacts as one user sees them: the directory of their organisation, their contact list and the rules of
who may change what of whom.

**Contact ids.** A contact is named ``local@domain`` (the seed's ``cid``): a user by the local part of their
login (``bob@acme.example``), a mobile subscriber or any number by ``number@domain``
(``+16135550101@acme.example``, ``2881@acme.example``), an organisation contact (the Admin API's
``/contacts``) by its contactId, a function number (a hunt or ACD group) by its extension. The domain must
be the caller's organisation's: another organisation's contacts are simply not found. A *Contact Entry ID*
is accepted wherever a cid is: the unpadded base64url of ``<cid>@<source>`` (``directory``, ``external``,
``function``), the seed's ``Y29udGFjdElkQGV4YW1wbGUub3JnQGRpcmVjdG9yeQ`` = ``contactId@example.org@directory``.

**The contact list** (``contact_list``, one document per user, id ``userId``): the entries the user added,
each with a status FAVORITE, CONTACT, VIP or BLOCKED. The list is the user's favourites, the default list a
search without query returns; a BLOCKED entry is left out unless asked for. An entry whose contact was
deleted since is skipped (and dropped the next time the list changes).

**Directory fields** (``contact_fields``, one document per user): the values of the organisation's free
fields (``FIELD_DEFS``: a label, who may edit it, whether others see it) and the postal address of the vCard.

**Presence authorization** (the seed's ``*Access``: NONE or WRITE): the user has WRITE on their own
presence, an ACCOUNT_ADMIN of the organisation on everyone's, a colleague NONE.
"""
from __future__ import annotations

import base64
import binascii
from bisect import bisect_left
from dataclasses import dataclass
from typing import Any, Iterable

from callyard.core.contacts.future import KIND as FUTURE_KIND
from callyard.core.contacts.future import FuturePresence
from callyard.core.directory.service import Directory
from callyard.core.engine.model import Endpoint
from callyard.core.engine.service import Engine
from callyard.core.errors import Conflict, Forbidden, Invalid, NotFound
from callyard.core.principal import Principal
from callyard.core.personal_contacts import PersonalContacts
from callyard.core.presence.uc import UcPresence
from callyard.core.runtime import Runtime
from callyard.core.scheduler import Scheduler
from callyard.core.state import UnitOfWork
from callyard.events.event import Event

LIST_KIND = "contact_list"
FIELDS_KIND = "contact_fields"
STATUSES = ("FAVORITE", "CONTACT", "VIP", "BLOCKED")
ACCESS_FIELDS = ("futurePresenceAccess", "activityAccess", "roleAccess", "noteAccess")
DEFAULT_MAX_RESULTS = 25
MAX_RESULTS = 500
MAX_LIST = 1000
FIELD_MAX = 256
USER, EXTERNAL, FUNCTION, NUMBER, PERSONAL = "user", "contact", "group", "number", "personal"
SOURCES = {USER: "directory", EXTERNAL: "external", FUNCTION: "function", NUMBER: "number", PERSONAL: "personal"}
PERSONAL_DOMAIN = "internal"   # a personal contact's cid is <digits>@internal (core/personal_contacts)
ADDRESS_PARTS = ("Street", "Locality", "Pcode", "Country")


@dataclass(frozen=True)
class FieldDef:
    id: str
    label: str
    self_editable: bool      # the user edits it (else only an administrator)
    public: bool = True      # colleagues see its value


# The organisation's directory fields (the seed's examples: Manager, Work title, Work office, ICE contact,
# Hobbies, Salary class). An administrator edits all of them; the user the ones marked self-editable.
FIELD_DEFS: tuple[FieldDef, ...] = (
    FieldDef("field1", "Manager", False), FieldDef("field2", "Work title", False),
    FieldDef("field3", "Work office", True), FieldDef("field4", "ICE contact", True),
    FieldDef("field5", "Hobbies", True), FieldDef("field6", "Skills", True),
    FieldDef("field7", "Salary class", False, public=False), FieldDef("field8", "Other", True))
FIELDS_BY_ID = {f.id: f for f in FIELD_DEFS}


@dataclass(frozen=True)
class Entry:
    """One contact as a cid names it: ``kind`` user, contact (organisation contact), group (function number)
    or number (a number that is nobody of the directory); ``doc`` the directory document (None for a
    number)."""
    kind: str
    cid: str
    account_id: str
    domain: str
    doc: dict[str, Any] | None
    number: str | None = None

    @property
    def entry_id(self) -> str:
        return entry_id(self.cid, SOURCES[self.kind])

    @property
    def user(self) -> dict[str, Any]:
        if self.kind != USER or self.doc is None:
            raise NotFound("contact.not.directory.user", "this operation is for a user of the directory",
                           field="cid", value=self.cid)
        return self.doc


def entry_id(cid: str, source: str) -> str:
    return base64.urlsafe_b64encode(f"{cid}@{source}".encode()).decode().rstrip("=")


def _decode_entry_id(ref: str) -> str | None:
    """The cid a Contact Entry ID carries, or None when ``ref`` is not one."""
    if "@" in ref or len(ref) < 8:
        return None
    try:
        text = base64.urlsafe_b64decode(ref + "=" * (-len(ref) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    cid, _, source = text.rpartition("@")
    return cid if cid and "@" in cid and source in SOURCES.values() else None


def local_part(user: dict[str, Any]) -> str:
    return str(user.get("email") or user["userId"]).split("@")[0]


def display_names(doc: dict[str, Any]) -> tuple[str, str]:
    """(first, last) of a user or contact: its own fields, else its name split at the last space."""
    first, last = doc.get("firstName") or doc.get("firstname"), doc.get("lastName") or doc.get("lastname")
    if first or last:
        return str(first or ""), str(last or "")
    name = str(doc.get("name") or doc.get("displayName") or doc.get("shortname") or doc.get("company") or "").strip()
    head, _, tail = name.rpartition(" ")
    return (head, tail) if head else (name, "")


class Contacts:
    def __init__(self, runtime: Runtime, directory: Directory, engine: Engine, scheduler: Scheduler,
                 presence: UcPresence, personal: PersonalContacts) -> None:
        self.rt = runtime
        self.directory = directory
        self.engine = engine
        self.personal = personal
        # (kind, cid) → (the document the words were read from, its sorted search words): documents are
        # copy-on-write, so a document that is still the same object has the same words
        self._words: dict[tuple[str, str], tuple[dict[str, Any] | None, list[str]]] = {}
        self.future = FuturePresence(runtime, scheduler, presence)
        runtime.projections.in_transaction("contacts forget deleted users and accounts", self._forget,
                                           events=("user.deleted", "account.deleted"))

    # ================================================================== addressing
    def domain_account(self, actor: Principal, domain: str) -> dict[str, Any]:
        """The caller's organisation, which ``domain`` must name (another organisation's domain is refused)."""
        account = self.rt.state.get("account", actor.account_id)
        if account is None or str(account.get("domain", "")).lower() != domain.strip().lower():
            raise Forbidden("access.denied", "the ticket does not give access to that domain", field="domain",
                            value=domain)
        return account

    def resolve(self, account: dict[str, Any], ref: str, viewer: dict[str, Any] | None = None) -> Entry:
        """The contact ``ref`` (a cid or a Contact Entry ID) names in ``account``; 404 otherwise. A personal
        contact (``<digits>@internal``) is found when ``viewer`` sees it (their own, their groups', the
        organisation's)."""
        raw = ref.strip()
        cid = _decode_entry_id(raw) or raw
        local, at, domain = cid.rpartition("@")
        if not at:
            local, domain = cid, str(account.get("domain", ""))
        if domain.lower() == PERSONAL_DOMAIN and viewer is not None:
            personal = next((p for p in self.personal.visible_to(account["accountId"], viewer["userId"])
                             if p["cid"] == cid), None)
            if personal is not None:
                return Entry(PERSONAL, cid, account["accountId"], str(account.get("domain", "")), personal)
        if domain.lower() != str(account.get("domain", "")).lower() or not local:
            raise NotFound("contact.does.not.exist", f"there is no contact {ref} in this organisation", field="cid",
                           value=ref)
        found = self._find(account, local)
        if found is None:
            raise NotFound("contact.does.not.exist", f"there is no contact {ref} in this organisation", field="cid",
                           value=ref)
        return found

    def _find(self, account: dict[str, Any], local: str) -> Entry | None:
        account_id, domain = account["accountId"], str(account.get("domain", ""))
        user = self.directory.user_by_login(account_id, local)
        if user is not None:
            return self.of_user(user, domain)
        contact = self.rt.state.get("contact", local)
        if contact is not None and contact["accountId"] == account_id:
            return Entry(EXTERNAL, f"{contact['contactId']}@{domain}", account_id, domain, contact)
        if not _is_number(local):
            return None
        number = local.replace(" ", "")
        user = self.directory.user_by_extension(account_id, number) or next(
            (u for u in self.directory.users_of(account_id) if number in (u.get("mobile"), u.get("phone"))), None)
        if user is not None:
            return self.of_user(user, domain)
        group = next((g for g in self.rt.state.all("group")
                      if g["accountId"] == account_id and g.get("extension") == number), None)
        if group is not None:
            return Entry(FUNCTION, f"{number}@{domain}", account_id, domain, group, number)
        return Entry(NUMBER, f"{number}@{domain}", account_id, domain, None, number)

    @staticmethod
    def of_user(user: dict[str, Any], domain: str) -> Entry:
        return Entry(USER, f"{local_part(user)}@{domain}", user["accountId"], domain, user,
                     user.get("extension") or user.get("mobile"))

    # ================================================================== search
    def everyone(self, account: dict[str, Any], include_functions: bool = True,
                 viewer: dict[str, Any] | None = None) -> list[Entry]:
        """Every contact of the organisation's directory: users, organisation contacts, function numbers, and
        the personal contacts ``viewer`` sees."""
        account_id, domain = account["accountId"], str(account.get("domain", ""))
        found = [self.of_user(u, domain) for u in self.directory.users_of(account_id) if u.get("active", True)]
        found += [Entry(EXTERNAL, f"{c['contactId']}@{domain}", account_id, domain, c)
                  for c in self.rt.state.all("contact") if c["accountId"] == account_id]
        if include_functions:
            found += [Entry(FUNCTION, f"{g['extension']}@{domain}", account_id, domain, g, g["extension"])
                      for g in self.rt.state.all("group")
                      if g["accountId"] == account_id and g.get("extension")]
        if viewer is not None:
            found += [Entry(PERSONAL, p["cid"], account_id, domain, p)
                      for p in self.personal.visible_to(account_id, viewer["userId"])]
        return found

    def search(self, viewer: dict[str, Any], account: dict[str, Any], query: str | None, *,
               max_results: int | None = None, include_functions: bool = True,
               include_blocked: bool = False) -> list[Entry]:
        """Contacts where any word of a searchable field starts with ``query`` (case-insensitive), ordered by
        name; without a query the viewer's contact list (favourites). BLOCKED entries only when asked."""
        limit = DEFAULT_MAX_RESULTS if max_results is None else max_results
        if limit < 1 or limit > MAX_RESULTS:
            raise Invalid("maxResults.not.valid", f"maxResults is 1 to {MAX_RESULTS}", field="maxResults",
                          value=str(limit))
        statuses = self.statuses(viewer)
        if query is None or not query.strip():
            candidates = [self.resolve_quietly(account, cid, viewer) for cid in statuses]
            shown = [Entry(PERSONAL, p["cid"], account["accountId"], str(account.get("domain", "")), p)
                     for p in self.personal.default_list(account["accountId"], viewer["userId"])
                     if p["cid"] not in statuses]
            entries = [e for e in [*candidates, *shown] if e is not None
                       and (include_functions or e.kind != FUNCTION)]
        else:
            words = query.strip().lower().split()
            entries = [e for e in self.everyone(account, include_functions, viewer)
                       if all(_has_prefix(self.words(e), q) for q in words)]
            if len(self._words) > 2 * len(entries) + 4 * MAX_LIST + len(self.rt.state.docs.get("user", {})):
                self._words.clear()
        statuses = {**{e.cid: str((e.doc or {}).get("contactStatus") or "CONTACT") for e in entries
                       if e.kind == PERSONAL}, **statuses}
        if not include_blocked:
            entries = [e for e in entries if statuses.get(e.cid) != "BLOCKED"]
        entries.sort(key=lambda e: " ".join(display_names(e.doc or {})).lower() or e.cid)
        return entries[:limit] if query else entries

    def words(self, entry: Entry) -> list[str]:
        """The sorted words a search matches ``entry`` on (cached per document)."""
        key = (entry.kind, entry.cid)
        cached = self._words.get(key)
        if cached is not None and cached[0] is entry.doc:
            return cached[1]
        found = sorted(set(_words(entry)))
        self._words[key] = (entry.doc, found)
        return found

    def resolve_quietly(self, account: dict[str, Any], cid: str,
                        viewer: dict[str, Any] | None = None) -> Entry | None:
        try:
            return self.resolve(account, cid, viewer)
        except NotFound:
            return None

    # ================================================================== the contact list
    def _list(self, user: dict[str, Any]) -> dict[str, Any]:
        return self.rt.state.get(LIST_KIND, user["userId"]) or {
            "userId": user["userId"], "accountId": user["accountId"], "entries": []}

    def statuses(self, user: dict[str, Any]) -> dict[str, str]:
        """cid → contactStatus of each entry of the user's contact list, in the order added."""
        return {e["cid"]: e["status"] for e in self._list(user)["entries"]}

    def status_of(self, user: dict[str, Any], entry: Entry) -> str | None:
        return self.statuses(user).get(entry.cid)

    async def _write_list(self, user: dict[str, Any], entries: list[dict[str, Any]], actor: Principal) -> None:
        account = self.rt.state.get("account", user["accountId"]) or {}
        live = [e for e in entries if self.resolve_quietly(account, e["cid"], user) is not None]
        if len(live) > MAX_LIST:
            raise Conflict("contact.list.full", f"a contact list holds at most {MAX_LIST} contacts", field="cid")
        doc = {"userId": user["userId"], "accountId": user["accountId"], "entries": live,
               "modifiedOn": self.rt.now_iso(), "modifiedBy": actor.principal_id}
        async with self.rt.write() as uow:
            uow.put(LIST_KIND, user["userId"], doc)
            uow.emit("contact_list.updated", user["accountId"], f"/users/{user['userId']}/contactlist",
                     {"userId": user["userId"], "entries": live}, self.rt.now_iso())

    async def add(self, actor: Principal, user: dict[str, Any], entries: Iterable[Entry],
                  status: str | None = None) -> None:
        """Add contacts to the user's list (``status`` given: set it; else a new entry is a CONTACT and an
        existing one keeps its status)."""
        current = [dict(e) for e in self._list(user)["entries"]]
        by_cid = {e["cid"]: e for e in current}
        for entry in entries:
            if entry.kind == USER and entry.doc is not None and entry.doc["userId"] == user["userId"]:
                raise Invalid("contact.is.self", "a user is not a contact of their own list", field="cid",
                              value=entry.cid)
            known = by_cid.get(entry.cid)
            if known is None:
                known = by_cid[entry.cid] = {"cid": entry.cid, "status": status or "CONTACT",
                                             "addedOn": self.rt.now_iso()}
                current.append(known)
            elif status is not None:
                known["status"] = status
        await self._write_list(user, current, actor)

    async def remove(self, actor: Principal, user: dict[str, Any], entry: Entry) -> None:
        current = self._list(user)["entries"]
        if not any(e["cid"] == entry.cid for e in current):
            raise NotFound("contact.not.in.list", f"{entry.cid} is not in the user's contact list", field="cid",
                           value=entry.cid)
        await self._write_list(user, [e for e in current if e["cid"] != entry.cid], actor)

    async def set_status(self, actor: Principal, user: dict[str, Any], entry: Entry, status: str) -> str:
        if status not in STATUSES:
            raise Invalid("contactStatus.not.valid", f"contactStatus is one of {', '.join(STATUSES)}",
                          field="contactStatus", value=status)
        await self.add(actor, user, [entry], status)
        return status

    async def apply_templates(self, actor: Principal, user: dict[str, Any]) -> list[Entry]:
        """Favourites from the templates: the organisation's (``favouritesTemplate`` of the account: cids)
        and the user's groups' (every other member of a group the user belongs to). Existing entries keep
        their status; the new ones are FAVORITE. Returns the entries added."""
        account = self.rt.state.get("account", user["accountId"]) or {}
        wanted: list[Entry] = []
        for cid in account.get("favouritesTemplate") or ():
            found = self.resolve_quietly(account, str(cid))
            if found is not None:
                wanted.append(found)
        domain = str(account.get("domain", ""))
        for group in self.rt.state.all("group"):
            if group["accountId"] != user["accountId"]:
                continue
            members = [m.get("memberId") for m in group.get("members") or ()
                       if isinstance(m, dict) and m.get("status", "ACCEPTED") == "ACCEPTED"]
            if user["userId"] not in members:
                continue
            for member_id in members:
                member = self.rt.state.get("user", str(member_id))
                if member is not None and member["userId"] != user["userId"]:
                    wanted.append(self.of_user(member, domain))
        known = self.statuses(user)
        new = list({e.cid: e for e in wanted if e.cid not in known}.values())
        if new:
            now = self.rt.now_iso()
            current = [dict(e) for e in self._list(user)["entries"]]
            current += [{"cid": e.cid, "status": "FAVORITE", "addedOn": now} for e in new]
            await self._write_list(user, current, actor)
        return new

    # ================================================================== presence authorization
    @staticmethod
    def may_write(actor: Principal, target: dict[str, Any]) -> bool:
        if actor.user_id is not None and actor.user_id == target["userId"]:
            return True
        return actor.account_id == target["accountId"] and actor.at_least("ACCOUNT_ADMIN")

    def access(self, actor: Principal, target: dict[str, Any]) -> dict[str, str]:
        """The seed's ``*Access`` fields of ``target``'s presence for the caller."""
        level = "WRITE" if self.may_write(actor, target) else "NONE"
        return {name: level for name in ACCESS_FIELDS}

    def require_write(self, actor: Principal, target: dict[str, Any], what: str) -> None:
        if not self.may_write(actor, target):
            raise Forbidden("access.denied", f"the caller has no WRITE access to this contact ({what}): only the "
                            "user and an administrator of the organisation have", field=what,
                            value=local_part(target))

    # ================================================================== in call
    def endpoint(self, entry: Entry) -> Endpoint | None:
        """The PBX endpoint whose calls are this contact's (a user's extension, a function number's group)."""
        number = entry.doc.get("extension") if entry.doc is not None else entry.number
        if not isinstance(number, str) or not number:
            return None
        found = self.engine.dialplan.internal(entry.account_id, number)
        if found is None:
            return None
        return self.engine.endpoint(entry.account_id, number)

    def in_call(self, entry: Entry) -> bool:
        """A call connected, held or ringing at the contact's extension, or an outside system's line state;
        for a mobile subscriber (a user's mobile) the user's extension counts as well."""
        endpoint = self.endpoint(entry)
        if endpoint is not None and (endpoint.line_states or any(
                leg.state in ("connected", "held", "ringing") for leg in endpoint.legs)):
            return True
        numbers = {entry.number} if entry.kind == NUMBER and entry.number else set()
        if entry.kind == PERSONAL and entry.doc is not None:
            numbers = {str(p["phoneNumber"]) for p in entry.doc.get("phoneNumbers") or () if p.get("phoneNumber")}
        return bool(numbers) and any(
            leg.endpoint.account_id == entry.account_id and leg.state in ("connected", "held")
            and ({leg.from_number, leg.to_number} & numbers) for leg in self.engine.legs.values())

    # ================================================================== directory fields
    def _fields_doc(self, user: dict[str, Any]) -> dict[str, Any]:
        return self.rt.state.get(FIELDS_KIND, user["userId"]) or {
            "userId": user["userId"], "accountId": user["accountId"], "values": {}, "address": {}}

    def field_values(self, user: dict[str, Any]) -> dict[str, str]:
        return dict(self._fields_doc(user)["values"])

    def address(self, user: dict[str, Any]) -> dict[str, str]:
        return dict(self._fields_doc(user).get("address") or {})

    def editable(self, actor: Principal, target: dict[str, Any], field: FieldDef) -> bool:
        if actor.account_id == target["accountId"] and actor.at_least("ACCOUNT_ADMIN"):
            return True
        return field.self_editable and actor.user_id == target["userId"]

    def visible_fields(self, actor: Principal, target: dict[str, Any]) -> list[dict[str, Any]]:
        """Each field the caller sees: a visible field with a value, or one the caller may edit; ``value``
        absent when unset."""
        values = self.field_values(target)
        own = actor.user_id == target["userId"] or (
            actor.account_id == target["accountId"] and actor.at_least("ACCOUNT_ADMIN"))
        out = []
        for field in FIELD_DEFS:
            editable = self.editable(actor, target, field)
            value = values.get(field.id)
            if not editable and (value is None or not (field.public or own)):
                continue
            out.append({"id": field.id, "label": field.label, "value": value, "editable": editable})
        return out

    async def write_fields(self, actor: Principal, target: dict[str, Any], changes: dict[str, str | None],
                           expected: dict[str, str | None] | None = None) -> dict[str, str]:
        """Set (a string) or delete (None) field values, all or nothing. ``expected``: the values the caller
        last read (the legacy ``currentValue``); a field changed since is a conflict."""
        values = self.field_values(target)
        for field_id, value in changes.items():
            field = FIELDS_BY_ID.get(field_id)
            if field is None:
                raise Invalid("field.does.not.exist", f"there is no directory field {field_id}", field="id",
                              value=field_id)
            if not self.editable(actor, target, field):
                raise Forbidden("field.not.editable", f"the caller may not edit {field.label}", field="id",
                                value=field_id)
            if value is not None and len(value) > FIELD_MAX:
                raise Invalid("field.value.too.long", f"a field value has at most {FIELD_MAX} characters",
                              field=field_id, value=value[:32])
            if expected is not None and field_id in expected and expected[field_id] != values.get(field_id):
                raise Conflict("field.value.changed", f"{field.label} was changed since it was read",
                               field=field_id, value=values.get(field_id) or "")
        for field_id, value in changes.items():
            if value is None or value == "":
                values.pop(field_id, None)
            else:
                values[field_id] = value
        await self._write_fields(actor, target, values=values)
        return values

    async def write_address(self, actor: Principal, target: dict[str, Any], address: dict[str, str]) -> None:
        self.require_write(actor, target, "vcard")
        cleaned = {k: str(v)[:FIELD_MAX] for k, v in address.items() if k in ADDRESS_PARTS and v}
        await self._write_fields(actor, target, address=cleaned)

    async def _write_fields(self, actor: Principal, target: dict[str, Any], **changes: Any) -> None:
        doc = {**self._fields_doc(target), **changes, "modifiedOn": self.rt.now_iso(),
               "modifiedBy": actor.principal_id}
        async with self.rt.write() as uow:
            uow.put(FIELDS_KIND, target["userId"], doc)
            uow.emit("contact_fields.updated", target["accountId"], f"/users/{target['userId']}/fields",
                     {"userId": target["userId"], "values": doc["values"]}, self.rt.now_iso())

    # ================================================================== account hygiene
    def _forget(self, uow: UnitOfWork, events: list[Event]) -> None:
        """A deleted user takes their list, fields and scheduled presence along; a deleted account all of
        its users'."""
        for event in events:
            user_id = event.subject.rstrip("/").rsplit("/", 1)[-1] if event.type == "user.deleted" else None
            for kind, id_field in ((LIST_KIND, "userId"), (FIELDS_KIND, "userId"), (FUTURE_KIND, "key")):
                for doc in list(self.rt.state.all(kind)):
                    if (doc.get("userId") == user_id if user_id else doc.get("accountId") == event.account_id):
                        uow.delete(kind, doc[id_field])


def _has_prefix(words: list[str], prefix: str) -> bool:
    """Some word of the sorted ``words`` starts with ``prefix``."""
    index = bisect_left(words, prefix)
    return index < len(words) and words[index].startswith(prefix)


def _is_number(text: str) -> bool:
    digits = text.replace(" ", "")
    return bool(digits) and (digits[1:] if digits.startswith("+") else digits).isdigit()


def _words(entry: Entry) -> list[str]:
    doc = entry.doc or {}
    first, last = display_names(doc)
    texts = [first, last, str(doc.get("name") or ""), str(doc.get("email") or ""), str(doc.get("company") or ""),
             str(doc.get("department") or ""), str(doc.get("title") or ""), str(doc.get("extension") or ""),
             str(doc.get("mobile") or ""), str(doc.get("phone") or ""), str(doc.get("shortname") or ""), entry.cid,
             *(str(p.get("phoneNumber") or "") for p in doc.get("phoneNumbers") or ())]
    return [w for text in texts for w in text.lower().replace("@", " ").replace(".", " ").split() if w] + [
        t.lower() for t in texts if t]


__all__ = ["ACCESS_FIELDS", "Contacts", "Entry", "FIELD_DEFS", "STATUSES", "display_names", "entry_id",
           "local_part"]
