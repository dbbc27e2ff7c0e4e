"""Contacts Information (legacy, 16 operations, deprecated since 5.7.0) and Contacts Information V1 (20): one
contact of the organisation — its ContactDTO, presence (JSON and PIDF) with the caller's ``*Access``, in-call
state, directory fields, vCard, image, scheduled presence and the presence and line-state streams — and the
time zones the scheduled presence takes.

Both groups translate onto the same core: the legacy one is the V1 one with its older field names
(``field[{id, label, currentValue, editable}]``) and its silent presence update."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional
from zoneinfo import ZoneInfo, available_timezones

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from callyard.api.common import sse
from callyard.api.deps import CoreDep, twin_of
from callyard.api.uc import pidf
from callyard.api.uc.presence import PRESENCE_BODY, json_body, validated
from callyard.api.uc.contacts.pidf import render_future
from callyard.api.uc.contacts import presence as uc_presence
from callyard.api.uc.contacts.common import (Contact, ContactCaller, WritableContact, any_ticket, contact_dto, flag,
                                             not_a_user, vcard, write_vcard)
from callyard.api.uc.contacts.schemas import (ActivityBody, Contact as ContactModel, Desc, DirectoryFields,
                                              DirectoryFieldsIn, ExpiresBody, FuturePresence, FuturePresenceIn,
                                              FuturePresences, LegacyFields, LegacyFieldsIn, NoteBody, Presence,
                                              PresenceIn, PresenceResult, PresenceResultIn, RoleBody, TimeZones)
from callyard.api.uc.contacts.streams import PRESENCE_STREAMS, PresenceStreams
from callyard.api.uc.cti import streams as cti_streams
from callyard.api.uc.cti.publications import STREAMS as CTI_STREAMS
from callyard.api.uc.cti.streams import RETRY, CallStreams, dialog_info, dialog_stream
from callyard.api.uc.edge.errors import ERROR_RESPONSES, invalid, not_found
from callyard.core.auth.tickets import Grant
from callyard.core.contacts.future import parse_utc, public, zone
from callyard.core.contacts.service import FIELDS_BY_ID, USER

legacy = APIRouter(prefix="/api/contact/{domain}/{cid}", tags=["Contacts Information (deprecated)"],
                   responses=ERROR_RESPONSES, deprecated=True)
v1 = APIRouter(prefix="/api/v1/contact/{domain}/{cid}", tags=["Contacts Information V1"], responses=ERROR_RESPONSES)
timezones = APIRouter(prefix="/api/v1/timezones", tags=["Contacts Information V1"], responses=ERROR_RESPONSES)

NO_CONTENT: dict[str, Any] = {"status_code": 204, "response_class": Response}
Responses = dict[int | str, dict[str, Any]]
IMAGE: Responses = {200: {"content": {"image/jpeg": {}, "image/png": {}, "image/gif": {}, "image/webp": {}},
                          "description": "The contact's image"}}
SSE: Responses = {200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
                        "description": "A text/event-stream"}}
PIDF_BODY = {"requestBody": {"required": True, "content": {
    "application/pidf+xml": {"schema": {"type": "string"}}}}}
FUTURE_PIDF: Responses = {200: {"content": {"application/pidf+xml": {"schema": {"type": "string"}}},
                                "description": "Scheduled presence (JSON, or PIDF when Accept asks for it)"}}
_ACCESS_OF = {"role": "roleAccess", "activity": "activityAccess", "note": "noteAccess"}


def _entity(who: ContactCaller) -> str:
    return f"sip:{who.entry.cid}"


# ====================================================================== the contact
def _contact(who: ContactCaller, include_fields: bool = False) -> dict[str, Any]:
    return contact_dto(who.core, who.principal, who.account, who.entry, None, include_fields=include_fields)


@legacy.get("", response_model=ContactModel, response_model_exclude_none=True, operation_id="getContactLegacy",
            summary="A contact's information")
async def get_contact_legacy(who: Contact) -> dict[str, Any]:
    return _contact(who)


@v1.get("", response_model=ContactModel, response_model_exclude_none=True, operation_id="getContact",
        summary="A contact's information (with its directory fields when asked)")
async def get_contact(who: Contact, includeFields: Optional[str] = Query(
        None, description="'true' adds the directory fields")) -> dict[str, Any]:
    return _contact(who, flag(includeFields))


@legacy.get("/available", response_model=bool, operation_id="getContactAvailable",
            summary="'true' when the contact is available")
async def get_available(who: Contact) -> bool:
    not_a_user(who.entry)
    return bool(uc_presence.view(who.core, who.principal, who.user)["available"])


def _in_call(who: ContactCaller) -> bool:
    return who.core.contacts.in_call(who.entry)


@legacy.get("/incall", response_model=bool, operation_id="getContactInCall",
            summary="'true' when the contact is in a call")
async def get_in_call(who: Contact) -> bool:
    return _in_call(who)


@v1.get("/linestate", response_model=bool, operation_id="getContactLineState",
        summary="'true' when the contact (a user, or a mobile subscriber by number@domain) is in a call")
async def get_line_state(who: Contact) -> bool:
    return _in_call(who)


# ====================================================================== image
def _image(who: ContactCaller, width: int | None, height: int | None) -> Response:
    photo = (who.entry.doc or {}).get("photo")
    if not isinstance(photo, dict) or not photo.get("photoId"):
        not_found("cid", "image.does.not.exist", "the contact has no image", who.entry.cid)
    for name, value in (("prefWidth", width), ("prefHeight", height)):
        if value is not None and value < 1:
            invalid(name, f"{name}.not.valid", f"{name} is a positive number of pixels", value)
    wanted = max(width or 0, height or 0)
    sizes = [s for s in ("50", "150", "300") if s in photo["sizes"] and int(s) >= wanted] if wanted else []
    size = sizes[0] if sizes else "scaled"
    content_type, data = who.core.directory.photo_blob(photo["photoId"], size)
    return Response(data, media_type=content_type, headers={"Cache-Control": "private, max-age=60"})


@legacy.get("/image/{ver}", response_class=Response, responses=IMAGE,  # type: ignore[arg-type]
            operation_id="getContactImageLegacy", summary="The contact's image (the closest size to the one asked)")
async def get_image_legacy(ver: str, who: Contact,
                           prefWidth: Optional[int] = Query(None, description="Preferred width (pixels)"),
                           prefHeight: Optional[int] = Query(None, description="Preferred height (pixels)")
                           ) -> Response:
    return _image(who, prefWidth, prefHeight)


@v1.get("/image", response_class=Response, responses=IMAGE,  # type: ignore[arg-type]
        operation_id="getContactImage", summary="The contact's image (the closest size to the one asked)")
async def get_image(who: Contact, ver: Optional[str] = Query(None, description="Not used: one version is kept"),
                    prefWidth: Optional[int] = Query(None, description="Preferred width (pixels)"),
                    prefHeight: Optional[int] = Query(None, description="Preferred height (pixels)")) -> Response:
    return _image(who, prefWidth, prefHeight)


# ====================================================================== presence
def _presence(who: ContactCaller) -> dict[str, Any]:
    not_a_user(who.entry)
    return uc_presence.view(who.core, who.principal, who.user)


def _forbidden(view: dict[str, Any]) -> list[str]:
    return [name for name, access in _ACCESS_OF.items() if view[access] != "WRITE"]


@legacy.get("/presence", response_model=PresenceResult, operation_id="getContactPresenceLegacy",
            summary="The contact's presence and the fields the caller may not change")
async def get_presence_legacy(who: Contact) -> dict[str, Any]:
    view = _presence(who)
    return {"presence": view, "forbidden": _forbidden(view)}


async def _apply(who: ContactCaller, changes: dict[str, Any], force: bool, *, silent: bool) -> dict[str, Any]:
    """Write the changes the caller may make; ``silent``: the others are left out (the legacy update), else a
    change the caller may not make refuses the whole update."""
    view = _presence(who)
    allowed = {k: v for k, v in changes.items()
               if view[_ACCESS_OF.get("activity" if k in ("expiration", "available") else k, "activityAccess")]
               == "WRITE"}
    if len(allowed) < len(changes) and not silent:
        who.core.contacts.require_write(who.principal, who.user, "presence")
    if not allowed:
        return view
    return await uc_presence.update(who.core, who.principal, who.user, force_diversion=force, **allowed)


def _changes(body: PresenceIn | dict[str, Any]) -> dict[str, Any]:
    data = body if isinstance(body, dict) else body.model_dump(exclude_unset=True)
    changes: dict[str, Any] = {}
    for key in ("role", "note"):
        if key in data:
            changes[key] = data[key]
    activity = data.get("activity")
    if isinstance(activity, dict):
        if activity.get("id") is not None:
            changes["activity"] = activity["id"]
        if activity.get("expiration") is not None:
            changes["expiration"] = activity["expiration"]
        if activity.get("available") is not None and "activity" in changes:
            changes["available"] = activity["available"]
    elif isinstance(activity, str):
        changes["activity"] = activity
    if data.get("expiration") is not None:
        changes["expiration"] = data["expiration"]
    if not changes:
        invalid("activity", "presence.empty", "give a role, a note or an activity")
    return changes


async def _body(request: Request) -> tuple[str, bytes]:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    return media, await request.body()


def _from_pidf(data: bytes) -> dict[str, Any]:
    parsed = pidf.parse(data)
    if "available" in parsed and "activity" not in parsed:
        parsed.pop("available")   # availability follows the activity; alone it changes nothing
    if not parsed:
        invalid("body", "presence.empty", "the PIDF document carries no activity, role or note")
    return parsed


@legacy.put("/presence", response_model=Presence, responses={204: {"description": "A PIDF update (no body)"}},
            operation_id="updateContactPresenceLegacy", openapi_extra=PRESENCE_BODY,
            summary="Update the contact's presence (JSON or PIDF); fields the caller may not change keep their value")
async def update_presence_legacy(request: Request, who: Contact, forcePremappedDiversion: Optional[str] = Query(
        None, description="'true': the activity's diversion overrides the premapped one")) -> Any:
    media, data = await _body(request)
    if media == pidf.MEDIA_TYPE:
        await _apply(who, _from_pidf(data), flag(forcePremappedDiversion), silent=True)
        return Response(status_code=204)
    body = await json_body(request)
    if not isinstance(body, dict):
        invalid("body", "body.required", "the body is a presence object")
    return await _apply(who, _changes(validated(PresenceIn, body)), flag(forcePremappedDiversion), silent=True)


async def _result(who: ContactCaller, body: PresenceResultIn | PresenceIn, force: str | None) -> dict[str, Any]:
    presence = body.presence if isinstance(body, PresenceResultIn) else body
    changes = _changes(presence)
    updated = await _apply(who, changes, flag(force), silent=True)
    return {"presence": updated, "forbidden": [k for k in _forbidden(updated)
                                              if k in changes or (k == "activity" and "expiration" in changes)]}


PresenceResultBody = PresenceResultIn | PresenceIn


@legacy.post("/presence/result", response_model=PresenceResult, operation_id="updateContactPresenceResult",
             summary="Update the contact's presence; the answer lists the fields that could not be changed")
async def post_presence_result(who: Contact, body: PresenceResultBody, forcePremappedDiversion: Optional[str] = Query(
        None, description="'true': the activity's diversion overrides the premapped one")) -> dict[str, Any]:
    return await _result(who, body, forcePremappedDiversion)


@legacy.put("/presence/result", response_model=PresenceResult, operation_id="updateContactPresenceResultPut",
            summary="Update the contact's presence (PUT); the answer lists the fields that could not be changed")
async def put_presence_result(who: Contact, body: PresenceResultBody, forcePremappedDiversion: Optional[str] = Query(
        None, description="'true': the activity's diversion overrides the premapped one")) -> dict[str, Any]:
    return await _result(who, body, forcePremappedDiversion)


@v1.put("/presence", **NO_CONTENT, operation_id="updateContactPresence", openapi_extra=PIDF_BODY,
        summary="Update the contact's presence with a PIDF document (RFC 3863/4480)")
async def update_presence(request: Request, who: WritableContact) -> Response:
    media, data = await _body(request)
    if media != pidf.MEDIA_TYPE:
        invalid("Content-Type", "content.type.not.supported", "the body is application/pidf+xml", media)
    await _apply(who, _from_pidf(data), False, silent=False)
    return Response(status_code=204)


async def _one(who: ContactCaller, changes: dict[str, Any]) -> None:
    await _apply(who, changes, False, silent=False)


def _value(name: str, query: str | None, body: Any) -> str:
    value = query if query is not None else (getattr(body, name, None) if body is not None else None)
    if value is None:
        invalid(name, f"{name}.required", f"{name} is required (query or JSON body)")
    return str(value)


def _available(query: str | None, body: ActivityBody | None) -> bool | None:
    if query is not None:
        if query.strip().lower() not in ("true", "false"):
            invalid("available", "available.not.valid", "available is true or false", query)
        return query.strip().lower() == "true"
    return body.available if body is not None else None


async def _set_note(who: ContactCaller, note: str | None, body: NoteBody | None) -> Response:
    await _one(who, {"note": _value("note", note, body)})
    return Response(status_code=204)


async def _set_activity(who: ContactCaller, activity: str | None, available: str | None,
                        body: ActivityBody | None) -> Response:
    changes: dict[str, Any] = {"activity": _value("activity", activity, body)}
    availability = _available(available, body)
    if availability is not None:
        changes["available"] = availability
    await _one(who, changes)
    return Response(status_code=204)


async def _set_expires(who: ContactCaller, expires: str | None, body: ExpiresBody | None) -> Response:
    not_a_user(who.entry)
    who.core.contacts.require_write(who.principal, who.user, "activity")
    await uc_presence.set_expiration(who.core, who.principal, who.user, _value("expires", expires, body))
    return Response(status_code=204)


async def _set_role(who: ContactCaller, role: str | None, body: RoleBody | None) -> Response:
    await _one(who, {"role": _value("role", role, body)})
    return Response(status_code=204)


NOTE_Q = Query(None, description="The note (or a JSON body {note})")
ACTIVITY_Q = Query(None, description="The activity id (or a JSON body {activity, available})")
AVAILABLE_Q = Query(None, description="true or false; absent: the activity's own availability")
EXPIRES_Q = Query(None, description="ISO 8601 UTC time, or 'never' (or a JSON body {expires})")
ROLE_Q = Query(None, description="The role (or a JSON body {role})")


@legacy.put("/note", **NO_CONTENT, operation_id="setContactNoteLegacy", summary="Set the contact's presence note")
async def set_note_legacy(who: WritableContact, note: Optional[str] = NOTE_Q,
                          body: Optional[NoteBody] = Body(None)) -> Response:
    return await _set_note(who, note, body)


@v1.put("/note", **NO_CONTENT, operation_id="setContactNote", summary="Set the contact's presence note")
async def set_note(who: WritableContact, note: Optional[str] = NOTE_Q,
                   ver: Optional[str] = Query(None, description="Not used"),
                   body: Optional[NoteBody] = Body(None)) -> Response:
    return await _set_note(who, note, body)


@legacy.put("/activity", **NO_CONTENT, operation_id="setContactActivityLegacy", summary="Set the contact's activity")
async def set_activity_legacy(who: WritableContact, activity: Optional[str] = ACTIVITY_Q,
                              available: Optional[str] = AVAILABLE_Q,
                              body: Optional[ActivityBody] = Body(None)) -> Response:
    return await _set_activity(who, activity, available, body)


@v1.put("/activity", **NO_CONTENT, operation_id="setContactActivity", summary="Set the contact's activity")
async def set_activity(who: WritableContact, activity: Optional[str] = ACTIVITY_Q,
                       available: Optional[str] = AVAILABLE_Q,
                       body: Optional[ActivityBody] = Body(None)) -> Response:
    return await _set_activity(who, activity, available, body)


@legacy.get("/activity/expires", response_model=str, operation_id="getContactActivityExpires",
            summary="When the contact's activity ends (UTC yyyy-MM-ddTHH:mm:ssZ, or never)")
async def get_activity_expires(who: Contact) -> str:
    return str(_presence(who)["activity"]["expiration"])


@legacy.put("/activity/expires", **NO_CONTENT, operation_id="setContactActivityExpiresLegacy",
            summary="End the contact's activity at a time ('never' keeps it)")
async def set_expires_legacy(who: WritableContact, expires: Optional[str] = EXPIRES_Q,
                             body: Optional[ExpiresBody] = Body(None)) -> Response:
    return await _set_expires(who, expires, body)


@v1.put("/activity/expires", **NO_CONTENT, operation_id="setContactActivityExpires",
        summary="End the contact's activity at a time ('never' keeps it)")
async def set_expires(who: WritableContact, expires: Optional[str] = EXPIRES_Q,
                      body: Optional[ExpiresBody] = Body(None)) -> Response:
    return await _set_expires(who, expires, body)


@legacy.put("/role", **NO_CONTENT, operation_id="setContactRoleLegacy", summary="Set the contact's presence role")
async def set_role_legacy(who: WritableContact, role: Optional[str] = ROLE_Q,
                          body: Optional[RoleBody] = Body(None)) -> Response:
    return await _set_role(who, role, body)


@v1.put("/role", **NO_CONTENT, operation_id="setContactRole", summary="Set the contact's presence role")
async def set_role(who: WritableContact, role: Optional[str] = ROLE_Q,
                   body: Optional[RoleBody] = Body(None)) -> Response:
    return await _set_role(who, role, body)


# ====================================================================== vCard
@legacy.get("/vcard", response_model=Desc, response_model_exclude_none=True, operation_id="getContactVcardLegacy",
            summary="The contact's vCard")
async def get_vcard_legacy(who: Contact, ver: Optional[str] = Query(None, description="The vCard version")
                           ) -> dict[str, Any]:
    return _vcard(who)


@v1.get("/vcard", response_model=Desc, response_model_exclude_none=True, operation_id="getContactVcard",
        summary="The contact's vCard (cid may be a phone number)")
async def get_vcard(who: Contact, ver: Optional[str] = Query(None, description="The vCard version")
                    ) -> dict[str, Any]:
    return _vcard(who)


def _vcard(who: ContactCaller) -> dict[str, Any]:
    if who.entry.doc is None:
        not_found("cid", "contact.does.not.exist", "no contact of the organisation has this number", who.entry.cid)
    return vcard(who.core, who.principal, who.account, who.entry)


@legacy.put("/vcard", **NO_CONTENT, operation_id="updateContactVcardLegacy",
            summary="Update the contact's vCard (name, title, department, mobile, address)")
async def put_vcard_legacy(who: WritableContact, body: Desc) -> Response:
    await write_vcard(who.core, who.principal, who.entry, body.model_dump(exclude_none=True))
    return Response(status_code=204)


@v1.put("/vcard", **NO_CONTENT, operation_id="updateContactVcard",
        summary="Update a contact's vCard (name, title, department, mobile, address)")
async def put_vcard(who: WritableContact, body: Desc) -> Response:
    await write_vcard(who.core, who.principal, who.entry, body.model_dump(exclude_none=True))
    return Response(status_code=204)


# ====================================================================== directory fields
@legacy.get("/fields", response_model=LegacyFields, response_model_exclude_none=True,
            operation_id="getContactFieldsLegacy", summary="The contact's directory fields")
async def get_fields_legacy(who: Contact) -> dict[str, Any]:
    not_a_user(who.entry)
    return {"field": [{"id": f["id"], "label": f["label"], "currentValue": f["value"], "editable": f["editable"]}
                      for f in who.core.contacts.visible_fields(who.principal, who.user)]}


@legacy.put("/fields", response_model=LegacyFields, response_model_exclude_none=True,
            operation_id="updateContactFieldsLegacy",
            summary="Set directory fields to their requestedValue (currentValue: the value read; a changed one is 409)")
async def put_fields_legacy(who: WritableContact, body: LegacyFieldsIn) -> dict[str, Any]:
    not_a_user(who.entry)
    changes = {f.id: f.requestedValue for f in body.field}
    expected = {f.id: f.currentValue for f in body.field if "currentValue" in f.model_fields_set}
    values = await who.core.contacts.write_fields(who.principal, who.user, changes, expected)
    return {"field": [{"id": f.id, "label": FIELDS_BY_ID[f.id].label, "currentValue": values.get(f.id),
                       "requestedValue": f.requestedValue} for f in body.field]}


@v1.get("/fields", response_model=DirectoryFields, response_model_exclude_none=True, operation_id="getContactFields",
        summary="The directory fields the caller sees (visible with a value, or editable by the caller)")
async def get_fields(who: Contact) -> dict[str, Any]:
    not_a_user(who.entry)
    return {"fields": who.core.contacts.visible_fields(who.principal, who.user)}


@v1.put("/fields", **NO_CONTENT, operation_id="updateContactFields",
        summary="Write every field given to its requestedValue (omitted: the value is deleted)")
async def put_fields(who: WritableContact, body: DirectoryFieldsIn) -> Response:
    not_a_user(who.entry)
    await who.core.contacts.write_fields(who.principal, who.user, {f.id: f.requestedValue for f in body.fields})
    return Response(status_code=204)


# ====================================================================== scheduled presence
def _future(who: ContactCaller, doc: dict[str, Any], instances: list[dict[str, Any]] | None = None
            ) -> dict[str, Any]:
    access = who.core.contacts.access(who.principal, who.user)
    out = {**public(doc), **access}
    if instances is not None:
        out["instances"] = instances
    return out


@v1.get("/futurepresence", response_model=FuturePresences, responses=FUTURE_PIDF, response_model_exclude_none=True,
        operation_id="getContactFuturePresence",
        summary="The contact's scheduled presence in a window (JSON, or PIDF when Accept asks for it)")
async def get_future_presence(
        request: Request, who: Contact,
        startDate: Optional[str] = Query(None, description="UTC start of the window (default now)"),
        endDate: Optional[str] = Query(None, description="UTC end of the window (default 30 days on)"),
        expandRecurrence: Optional[str] = Query(None, description="'true' lists the occurrences"),
        eventType: Optional[str] = Query(None, description="INTERNAL or CALENDAR: only that source"),
        cachedCalendar: Optional[str] = Query(None, description="'true': only synchronized calendar events")) -> Any:
    not_a_user(who.entry)
    future = who.core.contacts.future
    start, end = future.window(startDate, endDate)
    if eventType is not None and eventType not in ("INTERNAL", "CALENDAR"):
        invalid("eventType", "eventType.not.valid", "eventType is INTERNAL or CALENDAR", eventType)
    docs = [d for d in future.listing(who.user, start, end)
            if (eventType is None or d.get("source") == eventType)
            and (not flag(cachedCalendar) or d.get("source") == "CALENDAR")]
    if pidf.MEDIA_TYPE in request.headers.get("accept", "") and "application/json" not in request.headers.get(
            "accept", ""):
        occurrences = [(d, i) for d in docs for i in future.instances(d, start, end) if not i["deleted"]]
        return Response(render_future(_entity(who), occurrences), media_type=pidf.MEDIA_TYPE)
    expand = flag(expandRecurrence)
    return {"presence": [_future(who, d, future.instances(d, start, end) if expand else None) for d in docs],
            "calendar-sync-status": "calendar-sync-not-enabled"}


def _future_body(body: FuturePresenceIn) -> dict[str, Any]:
    data = body.model_dump(by_alias=True, exclude_unset=True)
    data.pop("presenceId", None)
    return data


@v1.post("/futurepresence", response_model=FuturePresence, response_model_exclude_none=True,
         operation_id="createContactFuturePresence", summary="Schedule a presence for the contact")
async def create_future_presence(who: WritableContact, body: FuturePresenceIn) -> dict[str, Any]:
    not_a_user(who.entry)
    return _future(who, await who.core.contacts.future.create(who.principal, who.user, _future_body(body)))


@v1.get("/futurepresence/{presenceId}", response_model=FuturePresence, response_model_exclude_none=True,
        operation_id="getContactFuturePresenceById", summary="One scheduled presence of the contact")
async def get_future_presence_by_id(presenceId: str, who: Contact) -> dict[str, Any]:
    not_a_user(who.entry)
    return _future(who, who.core.contacts.future.get(who.user, presenceId))


@v1.put("/futurepresence/{presenceId}", response_model=FuturePresence, response_model_exclude_none=True,
        operation_id="updateContactFuturePresence", summary="Change a scheduled presence of the contact")
async def update_future_presence(presenceId: str, who: WritableContact, body: FuturePresenceIn) -> dict[str, Any]:
    not_a_user(who.entry)
    return _future(who, await who.core.contacts.future.update(who.principal, who.user, presenceId,
                                                              _future_body(body)))


@v1.delete("/futurepresence/{presenceId}", **NO_CONTENT, operation_id="deleteContactFuturePresence",
           summary="Delete a scheduled presence, or its occurrences from startDate to untilDate")
async def delete_future_presence(presenceId: str, who: WritableContact,
                                 startDate: Optional[str] = Query(None, description="UTC start of the range"),
                                 untilDate: Optional[str] = Query(None, description="UTC end of the range")
                                 ) -> Response:
    not_a_user(who.entry)
    await who.core.contacts.future.delete(who.principal, who.user, presenceId, startDate, untilDate)
    return Response(status_code=204)


# ====================================================================== streams
@v1.get("/presence/stream", response_class=StreamingResponse, responses=SSE,  # type: ignore[arg-type]
        operation_id="streamContactPresence", summary="SSE stream of the contact's presence as PIDF documents")
async def stream_presence(request: Request, who: Contact) -> StreamingResponse:
    not_a_user(who.entry)
    hub: PresenceStreams = twin_of(request).family_state[PRESENCE_STREAMS]
    key = (who.entry.account_id, who.user["userId"])

    def document() -> str:
        user = who.core.rt.state.get("user", who.user["userId"]) or who.user
        return pidf.render(uc_presence.view(who.core, who.principal, user), _entity(who))

    version, last = 0, ""

    def respond(item: Any) -> sse.Reply:
        nonlocal version, last
        if item is sse.START:
            last = document()
            return sse.message(last, event="presence", event_id=version)
        if who.core.rt.state.get("user", who.user["userId"]) is None:
            return sse.END
        current = document()
        if current == last:
            return None
        version, last = version + 1, current
        return sse.message(current, event="presence", event_id=version)

    return sse.sse_response(hub.subscribe(key), respond, opening=[RETRY], keepalive=cti_streams.KEEP_ALIVE_SECONDS,
                            closed=hub.closed)


@v1.get("/linestate/stream", response_class=StreamingResponse, responses=SSE,  # type: ignore[arg-type]
        operation_id="streamContactLineState",
        summary="SSE stream of the contact's line state as RFC 4235 dialog-info documents")
async def stream_line_state(request: Request, who: Contact) -> StreamingResponse:
    endpoint = who.core.contacts.endpoint(who.entry)
    hub: CallStreams = twin_of(request).family_state[CTI_STREAMS]
    engine = who.core.engine
    entity = _entity(who)
    domain = who.entry.domain
    number = endpoint.number if endpoint is not None else (who.entry.number or "")

    def document(version: int, ended: list[dict[str, Any]] | None = None) -> str:
        views = [engine.snapshot(leg) for leg in list(endpoint.legs)] if endpoint is not None else []
        return dialog_info(views, entity, domain, version, ended)

    return sse.sse_response(hub.subscribe(("endpoint", who.entry.account_id, number)), dialog_stream(document),
                            opening=[RETRY], keepalive=cti_streams.KEEP_ALIVE_SECONDS, closed=hub.closed)


# ====================================================================== time zones
@timezones.get("", response_model=TimeZones, operation_id="listTimeZones",
               summary="The time-zone ids and their UTC offsets (ms) at a moment")
async def list_time_zones(core: CoreDep, _ticket: Grant = Depends(any_ticket),
                          when: Optional[str] = Query(None, description="UTC time the offsets are for (default now)"),
                          tzid: Optional[str] = Query(None, description="Only this time zone")) -> dict[str, Any]:
    moment = parse_utc(when, "when") if when else core.rt.clock.now().astimezone(timezone.utc)
    if tzid is not None:
        zone(tzid)
        names = [tzid]
    else:
        names = sorted(n for n in available_timezones() if "/" in n and not n.startswith(("SystemV/", "posix/",
                                                                                          "right/")))
    return {"timezone": [_zone(name, moment) for name in names]}


def _zone(name: str, moment: datetime) -> dict[str, str]:
    offset = moment.astimezone(ZoneInfo(name)).utcoffset()
    region, _, city = name.partition("/")
    millis = int(offset.total_seconds() * 1000) if offset is not None else 0
    return {"region": region, "city": city.replace("_", " "), "offset": str(millis), "tzid": name}


ROUTERS = [legacy, v1, timezones]
__all__ = ["ROUTERS", "USER", "legacy", "timezones", "v1"]
