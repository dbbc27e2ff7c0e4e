"""Buddy List (4 operations) and Contacts (5): the user's contact list — their favourites, the default list a
search without query returns — and the directory search over the organisation's users, organisation contacts
and function numbers, with presence, in-call state and contact status."""
from __future__ import annotations

from typing import Any, Optional

from fastapi import APIRouter, Body, Path, Query, Response

from callyard.api.deps import CoreDep
from callyard.api.uc.contacts.common import CID_TEXT, ListCaller, contact_dto, flag
from callyard.api.uc.contacts.schemas import ContactList, ContactListIn, ContactStatusBody
from callyard.api.uc.edge.errors import ERROR_RESPONSES, invalid, not_found
from callyard.api.uc.user_access import whole_number
from callyard.core.service import Core

buddies = APIRouter(prefix="/api/buddylist/{domain}/{user}", tags=["Buddy List"], responses=ERROR_RESPONSES)
contacts = APIRouter(prefix="/api/contacts/{domain}/{user}", tags=["Contacts"], responses=ERROR_RESPONSES)
CID = Path(description=CID_TEXT)
NO_CONTENT: dict[str, Any] = {"status_code": 204, "response_class": Response}


def _account(core: Core, who: Any) -> dict[str, Any]:
    account: dict[str, Any] = core.rt.state.get("account", who.account_id) or {}
    return account


def _listing(core: Core, who: Any, entries: list[Any], query: str | None,
             include_fields: bool = False) -> dict[str, Any]:
    account = _account(core, who)
    statuses = core.contacts.statuses(who.user)
    return {"query": query, "contact": [contact_dto(core, who.principal, account, e, statuses,
                                                    include_fields=include_fields) for e in entries]}


# ====================================================================== Buddy List
@buddies.get("/{cid}", **NO_CONTENT, operation_id="verifyFavourite",
             summary="Verify that a contact is in the user's favourites (204; 404 when not)")
async def verify_favourite(who: ListCaller, core: CoreDep, cid: str = CID) -> Response:
    entry = core.contacts.resolve(_account(core, who), cid, who.user)
    status = core.contacts.status_of(who.user, entry)
    if status is None or status == "BLOCKED":
        raise_not_in_list(entry.cid)
    return Response(status_code=204)


def raise_not_in_list(cid: str) -> None:
    not_found("cid", "contact.not.in.favourites", f"{cid} is not in the user's favourites", cid)


async def _favourite(who: Any, core: Core, cid: str) -> Response:
    entry = core.contacts.resolve(_account(core, who), cid, who.user)
    keep = core.contacts.status_of(who.user, entry) == "VIP"   # a VIP is a favourite already
    await core.contacts.add(who.principal, who.user, [entry], None if keep else "FAVORITE")
    return Response(status_code=204)


@buddies.put("/{cid}", **NO_CONTENT, operation_id="addFavourite", summary="Add a contact to the user's favourites")
async def add_favourite(who: ListCaller, core: CoreDep, cid: str = CID) -> Response:
    return await _favourite(who, core, cid)


@buddies.post("/{cid}", **NO_CONTENT, operation_id="addFavouritePost",
              summary="Add a contact to the user's favourites (POST)")
async def add_favourite_post(who: ListCaller, core: CoreDep, cid: str = CID) -> Response:
    return await _favourite(who, core, cid)


@buddies.delete("/{cid}", **NO_CONTENT, operation_id="deleteFavourite",
                summary="Delete a contact from the user's favourites")
async def delete_favourite(who: ListCaller, core: CoreDep, cid: str = CID) -> Response:
    entry = core.contacts.resolve(_account(core, who), cid, who.user)
    await core.contacts.remove(who.principal, who.user, entry)
    return Response(status_code=204)


async def _templates(who: Any, core: Core, apply: str | None) -> dict[str, Any]:
    if apply is None:
        invalid("applyContactTemplates", "applyContactTemplates.required", "applyContactTemplates=true is required")
    if not flag(apply):
        invalid("applyContactTemplates", "applyContactTemplates.not.valid",
                "set applyContactTemplates to true to generate the favourites", apply)
    await core.contacts.apply_templates(who.principal, who.user)
    return _listing(core, who, core.contacts.search(who.user, _account(core, who), None), None)


TEMPLATE_TEXT = "Set to 'true' to generate favourites from the organisation's and groups' templates"


@buddies.put("", response_model=ContactList, response_model_exclude_none=True, operation_id="applyFavouriteTemplates",
             summary="Regenerate the favourites from the organisation's and groups' templates")
async def apply_templates(who: ListCaller, core: CoreDep,
                          applyContactTemplates: Optional[str] = Query(None, description=TEMPLATE_TEXT)
                          ) -> dict[str, Any]:
    return await _templates(who, core, applyContactTemplates)


@buddies.post("", response_model=ContactList, response_model_exclude_none=True,
              operation_id="applyFavouriteTemplatesPost",
              summary="Regenerate the favourites from the templates (POST)")
async def apply_templates_post(who: ListCaller, core: CoreDep,
                               applyContactTemplates: Optional[str] = Query(None, description=TEMPLATE_TEXT)
                               ) -> dict[str, Any]:
    return await _templates(who, core, applyContactTemplates)


# ====================================================================== Contacts
async def _add_one(who: Any, core: Core, cid: str) -> dict[str, Any]:
    entry = core.contacts.resolve(_account(core, who), cid, who.user)
    await core.contacts.add(who.principal, who.user, [entry])
    return _listing(core, who, [entry], None)


@contacts.put("/{cid}", response_model=ContactList, response_model_exclude_none=True, operation_id="addContact",
              summary="Add a contact to the user's contact list (a new one is a CONTACT)")
async def add_contact(who: ListCaller, core: CoreDep, cid: str = CID) -> dict[str, Any]:
    return await _add_one(who, core, cid)


@contacts.post("/{cid}", response_model=ContactList, response_model_exclude_none=True, operation_id="addContactPost",
               summary="Add a contact to the user's contact list (POST)")
async def add_contact_post(who: ListCaller, core: CoreDep, cid: str = CID) -> dict[str, Any]:
    return await _add_one(who, core, cid)


@contacts.delete("/{cid}", **NO_CONTENT, operation_id="removeContact",
                 summary="Remove a contact from the user's contact list")
async def remove_contact(who: ListCaller, core: CoreDep, cid: str = CID) -> Response:
    entry = core.contacts.resolve(_account(core, who), cid, who.user)
    await core.contacts.remove(who.principal, who.user, entry)
    return Response(status_code=204)


@contacts.get("", response_model=ContactList, response_model_exclude_none=True, operation_id="searchContacts",
              summary="Contacts where a word of a searchable field starts with the query; the user's list without")
async def search_contacts(
        who: ListCaller, core: CoreDep,
        query: Optional[str] = Query(None, description="Words each field word may start with; absent: favourites"),
        maxResults: Optional[str] = Query(None, description="At most this many (default 25)"),
        dontIncludeFnrs: Optional[str] = Query(None, description="'true' leaves function numbers out"),
        includeBlocked: Optional[str] = Query(None, description="'true' includes BLOCKED contacts"),
        includeFields: Optional[str] = Query(None, description="'true' adds the directory fields")) -> dict[str, Any]:
    entries = core.contacts.search(who.user, _account(core, who), query,
                                   max_results=whole_number("maxResults", maxResults),
                                   include_functions=not flag(dontIncludeFnrs), include_blocked=flag(includeBlocked))
    return _listing(core, who, entries, query, flag(includeFields))


@contacts.post("", response_model=ContactList, response_model_exclude_none=True, operation_id="addContacts",
               summary="Add several contacts (by cid or contactEntryId) to the user's contact list")
async def add_contacts(who: ListCaller, core: CoreDep, body: ContactListIn) -> dict[str, Any]:
    account = _account(core, who)
    entries = []
    for index, ref in enumerate(body.contact):
        cid = ref.cid or ref.contactEntryId
        if not cid:
            invalid(f"contact[{index}].cid", "cid.required", "each contact names its cid or contactEntryId")
        entries.append(core.contacts.resolve(account, cid, who.user))
    if not entries:
        invalid("contact", "contact.required", "name at least one contact")
    await core.contacts.add(who.principal, who.user, entries)
    return _listing(core, who, entries, body.query)


@contacts.put("/{cid}/status", response_model=ContactStatusBody, operation_id="setContactStatus",
              summary="Set the status of a contact of the list (FAVORITE, CONTACT, VIP, BLOCKED); adds it if absent")
async def set_contact_status(who: ListCaller, core: CoreDep, cid: str = CID,
                             contactStatus: Optional[str] = Query(None, description="FAVORITE, CONTACT, VIP or "
                                                                                    "BLOCKED"),
                             body: Optional[ContactStatusBody] = Body(None)) -> dict[str, Any]:
    status = body.contactStatus if body is not None else contactStatus
    if not status:
        invalid("contactStatus", "contactStatus.required", "contactStatus is FAVORITE, CONTACT, VIP or BLOCKED")
    entry = core.contacts.resolve(_account(core, who), cid, who.user)
    return {"contactStatus": await core.contacts.set_status(who.principal, who.user, entry, status)}
