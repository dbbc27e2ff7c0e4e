"""What the contact groups share: the callers (a user's list ``{domain}/{user}``; a contact ``{domain}/{cid}``),
the ContactDTO and vCard renderings, and the values the seed types as strings."""
from __future__ import annotations

import json
import zlib
from dataclasses import dataclass
from typing import Annotated, Any, Awaitable, Callable

from fastapi import Depends, Path, Request

from callyard.api.deps import twin_of
from callyard.api.uc.contacts import presence as uc_presence
from callyard.api.uc.edge.auth import BEARER, QUERY_TICKET, UcCaller, grant
from callyard.api.uc.user_access import DOMAIN_TEXT, caller_any
from callyard.core.auth.tickets import Grant
from callyard.core.contacts.service import (EXTERNAL, FUNCTION, NUMBER, PERSONAL, USER, Entry, display_names,
                                           local_part)
from callyard.core.errors import Forbidden, NotFound
from callyard.core.principal import Principal
from callyard.core.service import Core

# The contact groups are read with a Contact search ticket (the seed: "authenticated using API tickets for
# Contact search"); a User ticket is accepted as well, as for the user's other groups.
APIS = ("CONTACT_SEARCH", "USER")
CID_TEXT = "The contact: userid@domain, number@domain, or a Contact Entry ID"
TYPES = {USER: "DIRECTORY", EXTERNAL: "EXTERNAL", FUNCTION: "FUNCTION_NUMBER", NUMBER: "NUMBER", PERSONAL: "SHORTCUT"}

ListCaller = Annotated[UcCaller, Depends(caller_any(*APIS))]


@dataclass(frozen=True)
class ContactCaller:
    """The ticket's user (``grant``), their organisation (``account``) and the contact the path names."""
    grant: Grant
    account: dict[str, Any]
    entry: Entry
    core: Core

    @property
    def principal(self) -> Principal:
        return self.grant.principal

    @property
    def user(self) -> dict[str, Any]:
        """The contact as a directory user (404 for other contacts)."""
        return self.entry.user


def _allowed(core: Core, ticket: Grant) -> None:
    if not any(api in ticket.ticket["allowedApis"] for api in APIS):
        core.tickets.require_api(ticket, APIS[0])


def contact_caller(write: bool = False) -> Callable[..., Awaitable[ContactCaller]]:
    """The contact of ``{domain}/{cid}``. ``write``: the caller must have WRITE access to it (a directory
    user: the user or an administrator, before the request's values are looked at; a personal contact: the
    Personal Contacts rules decide when it is written)."""
    async def resolve(request: Request, domain: str = Path(description=DOMAIN_TEXT),
                      cid: str = Path(description=CID_TEXT), _bearer: Any = Depends(BEARER),
                      _query: Any = Depends(QUERY_TICKET), ticket: Grant = Depends(grant)) -> ContactCaller:
        core = twin_of(request).core
        _allowed(core, ticket)
        account = core.contacts.domain_account(ticket.principal, domain)
        entry = core.contacts.resolve(account, cid, ticket.user)
        if write and entry.kind != PERSONAL:
            core.contacts.require_write(ticket.principal, entry.user, "cid")
        return ContactCaller(ticket, account, entry, core)

    resolve.__name__ = "contact_writer" if write else "contact_caller"
    return resolve


Contact = Annotated[ContactCaller, Depends(contact_caller())]
WritableContact = Annotated[ContactCaller, Depends(contact_caller(write=True))]


async def any_ticket(request: Request, _bearer: Any = Depends(BEARER), _query: Any = Depends(QUERY_TICKET),
                     ticket: Grant = Depends(grant)) -> Grant:
    _allowed(twin_of(request).core, ticket)
    return ticket


def flag(value: str | bool | None) -> bool:
    if isinstance(value, bool):
        return value
    return value is not None and value.strip().lower() in ("true", "1", "yes")


def version(value: Any) -> int:
    """A stable positive version number of a rendering (it changes when the content does)."""
    return zlib.crc32(json.dumps(value, sort_keys=True, default=str).encode()) & 0x7FFFFFFF


# ---------------------------------------------------------------------- numbers
def _did(account: dict[str, Any], extension: str | None) -> str | None:
    dids = (account.get("pbx") or {}).get("dids") or {}
    return next((did for did, target in sorted(dids.items()) if target == extension), None) if extension else None


def phone_numbers(account: dict[str, Any], entry: Entry) -> list[dict[str, str]]:
    doc = entry.doc or {}
    out: list[dict[str, str]] = []
    if entry.kind in (USER, FUNCTION):
        did = _did(account, doc.get("extension"))
        for number, kind in ((did, "work"), (doc.get("extension"), "extension"), (doc.get("phone"), "work"),
                             (doc.get("mobile"), "mobile")):
            if number and all(n["number"] != number for n in out):
                out.append({"number": str(number), "type": kind})
    elif entry.kind == EXTERNAL:
        out += [{"number": str(doc[key]), "type": kind} for key, kind in (("phone", "work"), ("mobile", "mobile"))
                if doc.get(key)]
    elif entry.kind == PERSONAL:
        phones = sorted(doc.get("phoneNumbers") or (), key=lambda p: not p.get("preferredNumber"))
        out += [{"number": str(p["phoneNumber"]), "type": str(p.get("type") or "OTHER").lower()} for p in phones]
    elif entry.number:
        out.append({"number": entry.number, "type": "other"})
    return out


def preferred_number(account: dict[str, Any], entry: Entry) -> str | None:
    numbers = phone_numbers(account, entry)
    return numbers[0]["number"] if numbers else None


# ---------------------------------------------------------------------- vCard (the seed's Desc)
def vcard(core: Core, actor: Principal, account: dict[str, Any], entry: Entry) -> dict[str, Any]:
    doc = entry.doc or {}
    first, last = display_names(doc)
    full = " ".join(p for p in (first, last) if p) or str(doc.get("name") or entry.number or entry.cid)
    desc: dict[str, Any] = {"FN": full}
    tel = [{"value": n["number"], "parseType": "Resource", "type": [n["type"]]}
           for n in phone_numbers(account, entry)]
    if tel:
        desc["TEL"] = tel
    if entry.kind in (USER, EXTERNAL):
        desc["N"] = {"parseType": "Resource", "Family": last, "Given": first}
    if doc.get("email"):
        desc["EMAIL"] = {"parseType": "Resource", "value": str(doc["email"])}
    if doc.get("title"):
        desc["TITLE"] = str(doc["title"])
    if entry.kind == USER:
        desc["ORG"] = {"parseType": "Resource", "Orgname": str(account.get("name") or ""),
                       **({"Orgunit": str(doc["department"])} if doc.get("department") else {})}
        groups = [g for g in core.rt.state.all("group") if g["accountId"] == entry.account_id and any(
            m.get("memberId") == doc["userId"] for m in g.get("members") or ())]
        if groups:
            desc["group"] = [{"value": str(g["name"]), "parseType": "Resource"} for g in groups]
        fields = [{"id": f["id"], "value": f["value"]} for f in core.contacts.visible_fields(actor, doc)
                  if f["value"] is not None]
        if fields:
            desc["field"] = fields
        address = core.contacts.address(doc)
        if address:
            desc["ADR"] = {"parseType": "Resource", **address}
    elif entry.kind == EXTERNAL and doc.get("company"):
        desc["ORG"] = {"parseType": "Resource", "Orgname": str(doc["company"])}
    elif entry.kind == PERSONAL:
        if doc.get("company") or doc.get("department"):
            desc["ORG"] = {"parseType": "Resource", **({"Orgname": doc["company"]} if doc.get("company") else {}),
                           **({"Orgunit": doc["department"]} if doc.get("department") else {})}
        address = {part: doc[key] for part, key in PERSONAL_ADDRESS.items() if doc.get(key)}
        if address:
            desc["ADR"] = {"parseType": "Resource", **address}
    return {"Description": desc}


PERSONAL_ADDRESS = {"Street": "street", "Locality": "city", "Pcode": "postalcode", "Country": "country"}
PERSONAL_KEPT = ("firstname", "lastname", "company", "department", "shortname", "email", "street", "city",
                 "postalcode", "country", "speeddial", "showInDefaultContactList", "contactStatus", "phoneNumbers")


async def write_personal_vcard(core: Core, actor: Principal, entry: Entry, desc: dict[str, Any]) -> None:
    """A personal contact's new vCard: N, ORG, EMAIL, ADR and TEL (each TEL a number of the type it names)
    replace those fields; the rest of the contact (speed dial, status…) stays. The Personal Contacts rules
    decide who may (the owner, a group member, an administrator)."""
    doc = entry.doc or {}
    fields = {k: doc[k] for k in PERSONAL_KEPT if k in doc}
    name = desc.get("N") or {}
    fields.update({k: v for k, v in (("firstname", name.get("Given")), ("lastname", name.get("Family")))
                   if v is not None})
    org = desc.get("ORG") or {}
    fields.update({k: v for k, v in (("company", org.get("Orgname")), ("department", org.get("Orgunit")))
                   if v is not None})
    if (desc.get("EMAIL") or {}).get("value") is not None:
        fields["email"] = desc["EMAIL"]["value"]
    address = desc.get("ADR") or {}
    fields.update({key: address[part] for part, key in PERSONAL_ADDRESS.items() if address.get(part) is not None})
    if desc.get("TEL") is not None:
        fields["phoneNumbers"] = [{"type": _phone_type(t.get("type")), "phoneNumber": t["value"],
                                   "preferredNumber": index == 0} for index, t in enumerate(desc["TEL"])]
    await core.personal_contacts.update(actor, entry.account_id, str(doc["ownerType"]), str(doc["ownerId"]),
                                        entry.cid, fields)


def _phone_type(types: Any) -> str:
    names = {str(t).upper() for t in types or ()}
    for wanted, found in (("MOBILE", {"CELL", "MOBILE"}), ("HOME", {"HOME"}), ("WORK_FAX", {"FAX"}),
                          ("PAGER", {"PAGER"}), ("WORK", {"WORK"})):
        if names & found:
            return wanted
    return "OTHER"


async def write_vcard(core: Core, actor: Principal, entry: Entry, body: dict[str, Any]) -> None:
    """A new vCard of a personal contact (see ``write_personal_vcard``) or of a directory user: the name (N),
    title, department (ORG's unit) and mobile (a TEL of type cell or mobile) go to the directory (the same
    user CloudLink's Admin API shows); the address to the user's directory fields. The organisation's name,
    the e-mail (the login) and other numbers are the organisation's to change: left as they are."""
    desc = body.get("Description") or {}
    if entry.kind == PERSONAL:
        await write_personal_vcard(core, actor, entry, desc)
        return
    user = entry.user
    core.contacts.require_write(actor, user, "vcard")
    changes: dict[str, Any] = {}
    name = desc.get("N") or {}
    if name.get("Given") is not None:
        changes["firstName"] = name["Given"]
    if name.get("Family") is not None:
        changes["lastName"] = name["Family"]
    if changes:
        changes["name"] = " ".join(p for p in (changes.get("firstName", user.get("firstName")),
                                               changes.get("lastName", user.get("lastName"))) if p)
    if desc.get("TITLE") is not None:
        changes["title"] = desc["TITLE"]
    if (desc.get("ORG") or {}).get("Orgunit") is not None:
        changes["department"] = desc["ORG"]["Orgunit"]
    mobile = next((t["value"] for t in desc.get("TEL") or () if {"cell", "mobile"} & {
        str(k).lower() for k in t.get("type") or ()}), None)
    if mobile is not None:
        changes["mobile"] = mobile
    if changes:
        # the directory's own rules (an administrator, or the user for their own name and numbers)
        await core.directory.update_user(_as_admin_of(actor, user), user["userId"], changes)
    if desc.get("ADR") is not None:
        await core.contacts.write_address(actor, user, {k: v for k, v in desc["ADR"].items() if k != "parseType"})


def _as_admin_of(actor: Principal, user: dict[str, Any]) -> Principal:
    """The directory lets a user change only some of their own fields; the vCard's are among them."""
    if actor.user_id == user["userId"] or actor.at_least("ACCOUNT_ADMIN"):
        return actor
    raise Forbidden("access.denied", "the caller may not change this contact's vCard", field="cid")


# ---------------------------------------------------------------------- ContactDTO
def image_version(entry: Entry) -> int | None:
    photo = (entry.doc or {}).get("photo") if entry.kind in (USER, EXTERNAL) else None
    return version(photo["photoId"]) if isinstance(photo, dict) and photo.get("photoId") else None


def contact_dto(core: Core, actor: Principal, account: dict[str, Any], entry: Entry,
                statuses: dict[str, str] | None, *, include_fields: bool = False) -> dict[str, Any]:
    """The ContactDTO of ``entry`` for the caller (``statuses``: the caller's list, None when the route is not
    about a list: ``inlist`` is then read from the caller's own)."""
    doc = entry.doc or {}
    if statuses is None:
        caller = core.rt.state.get("user", actor.user_id or "")
        statuses = core.contacts.statuses(caller) if caller is not None else {}
    first, last = display_names(doc)
    own_status = str(doc.get("contactStatus") or "CONTACT") if entry.kind == PERSONAL else "CONTACT"
    out: dict[str, Any] = {
        "firstname": first or None, "lastname": last or None, "type": TYPES[entry.kind],
        "inlist": entry.cid in statuses or bool(entry.kind == PERSONAL and doc.get("showInDefaultContactList")),
        "contactStatus": statuses.get(entry.cid, own_status),
        "contactEntryId": entry.entry_id, "cid": entry.cid, "incall": core.contacts.in_call(entry),
        "preferredNumber": preferred_number(account, entry), "vcard": version(vcard(core, actor, account, entry))}
    numbers = [n for n in phone_numbers(account, entry)]
    if numbers:
        out["phonenumbers"] = numbers
    image = image_version(entry)
    if image is not None:
        out["image"] = image
    if entry.kind == USER:
        out.update(company=account.get("name"), email=doc.get("email"), collaboration=True,
                   presence=uc_presence.view(core, actor, doc),
                   diversionAccess="WRITE" if core.contacts.may_write(actor, doc) else "NONE")
        if include_fields:
            out["fields"] = {"fields": [{"id": f["id"], "label": f["label"], "value": f["value"]}
                                        for f in core.contacts.visible_fields(actor, doc)
                                        if f["value"] is not None]}
    elif entry.kind in (EXTERNAL, PERSONAL):
        out.update(company=doc.get("company"), email=doc.get("email"), collaboration=False)
    elif entry.kind == FUNCTION:
        out.update(firstname=str(doc.get("name") or entry.number), lastname=None, collaboration=False)
    return {k: v for k, v in out.items() if v is not None}


def not_a_user(entry: Entry) -> None:
    if entry.kind != USER:
        raise NotFound("contact.not.directory.user", "this operation is for a user of the directory", field="cid",
                       value=entry.cid)


__all__ = ["APIS", "Contact", "ContactCaller", "WritableContact", "ListCaller", "any_ticket", "contact_dto", "flag",
           "image_version",
           "local_part", "not_a_user", "vcard", "version", "write_vcard"]
