"""User Information (seed 003, 8 operations) and Presence Shortcuts (5): the user's presence — the same
presentity CloudLink's ``/presentities`` shows (core/presence/uc.py) — as JSON or PIDF
(``application/pidf+xml``, pidf.py), its activity, expiration and availability, the user's photo (the one
the Admin API's ``/users/{userId}/photo`` stores) and the presence shortcuts.

Parameters the seed marks "Q/B" (``activity``, ``available``, ``expires``) are read from the query or from a
JSON body. ``shortcutId`` on the activity update applies a presence shortcut (a twin addition: the seed
stores shortcuts for clients to apply; docs/compatibility.md)."""
from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from callyard.api.deps import CoreDep
from callyard.api.uc import pidf
from callyard.api.uc.edge.auth import UcCaller
from callyard.api.uc.edge.errors import ERROR_RESPONSES, invalid, not_found
from callyard.api.uc.presence_schemas import (ActivityBody, ExpiresBody, Presence, PresenceChange, PresenceShortcut,
                                              PresenceShortcuts)
from callyard.api.uc.user_access import caller_any, flag

router = APIRouter(tags=["User Information"], responses=ERROR_RESPONSES)
shortcuts_router = APIRouter(prefix="/api/presenceshortcuts/{domain}/{user}", tags=["Presence Shortcuts"],
                             responses=ERROR_RESPONSES)
Caller = Annotated[UcCaller, Depends(caller_any("USER"))]
BASE = "/api/userinfo/{domain}/{user}"
PHOTO_SIZES = (50, 150, 300)


def inline(schema: dict[str, Any]) -> dict[str, Any]:
    """A pydantic JSON schema with its ``$defs`` written in place (for ``openapi_extra`` request bodies)."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                return walk(defs[ref.rsplit("/", 1)[-1]])
            return {key: walk(value) for key, value in node.items()}
        if isinstance(node, list):
            return [walk(item) for item in node]
        return node

    return walk(schema)  # type: ignore[no-any-return]


def validated(model: type[Any], data: Any) -> Any:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise RequestValidationError(exc.errors()) from None


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if not raw.strip():
        return None
    try:
        return json.loads(raw)
    except ValueError:
        invalid("body", "body.not.valid.json", "the body is not JSON")


def wants_pidf(request: Request) -> bool:
    accept = request.headers.get("accept", "").lower()
    return pidf.MEDIA_TYPE in accept and "application/json" not in accept.split(pidf.MEDIA_TYPE)[0]


PRESENCE_BODY = {"requestBody": {"required": True, "content": {
    "application/json": {"schema": inline(PresenceChange.model_json_schema())},
    pidf.MEDIA_TYPE: {"schema": {"type": "string", "description": "A PIDF document (RFC 3863/4480)"}}}}}
PRESENCE_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"application/json": {}, pidf.MEDIA_TYPE: {"schema": {"type": "string"}}},
          "description": "The presence (PIDF when the client accepts application/pidf+xml first)"}}


# ---------------------------------------------------------------------------- presence
@router.get(f"{BASE}/presence", response_model=Presence, operation_id="getUserPresence",
            summary="The presence state of the user (JSON, or PIDF with Accept: application/pidf+xml)",
            responses=PRESENCE_RESPONSES)
async def get_presence(request: Request, who: Caller, core: CoreDep) -> Any:
    view = core.uc_presence.view(who.principal, who.account_id, who.user["userId"])
    if wants_pidf(request):
        return Response(pidf.render(view, f"sip:{who.user.get('email', '')}"), media_type=pidf.MEDIA_TYPE)
    return view


@router.put(f"{BASE}/presence", response_model=Presence, operation_id="setUserPresence",
            summary="Update the presence of the user (role, note, activity; JSON or PIDF; PIDF answers 204)",
            openapi_extra=PRESENCE_BODY,
            responses={204: {"description": "Updated from a PIDF document (no body)"}})
async def put_presence(request: Request, who: Caller, core: CoreDep,
                       forcePremappedDiversion: Annotated[str | None, Query(
                           description="'true': the activity's premapped diversion replaces a diversion number "
                                       "set by hand")] = None) -> Any:
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    force = flag(forcePremappedDiversion)
    fields: dict[str, Any] = {}
    if content_type == pidf.MEDIA_TYPE:
        parsed = pidf.parse(await request.body())
        for key in ("role", "note", "activity", "expiration"):
            if key in parsed:
                fields[key] = parsed[key]
    else:
        data = await json_body(request)
        if not isinstance(data, dict):
            invalid("body", "body.required", "the body is a presence object")
        change = validated(PresenceChange, data)
        given = change.model_fields_set
        if "role" in given:
            fields["role"] = change.role
        if "note" in given:
            fields["note"] = change.note
        if change.activity is not None:
            fields["activity"] = change.activity.id
            if "expiration" in change.activity.model_fields_set:
                fields["expiration"] = change.activity.expiration
            if change.activity.available is not None:
                fields["available"] = change.activity.available
        elif "available" in given and change.available is not None:
            fields["activity"] = core.uc_presence.view(who.principal, who.account_id,
                                                       who.user["userId"])["activity"]["id"]
            fields["available"] = change.available
    view = await core.uc_presence.update(who.principal, who.account_id, who.user["userId"], force_diversion=force,
                                         **fields)
    if content_type == pidf.MEDIA_TYPE:
        return Response(status_code=204)
    return view


@router.get(f"{BASE}/activity/expires", response_model=str, operation_id="getActivityExpiration",
            summary="When the user's current activity ends ('never' if it does not)")
async def get_expires(who: Caller, core: CoreDep) -> str:
    view = core.uc_presence.view(who.principal, who.account_id, who.user["userId"])
    return str(view["activity"]["expiration"])


@router.put(f"{BASE}/activity/expires", response_model=str, operation_id="setActivityExpiration",
            summary="Set when the user's current activity ends (ISO 8601 or 'never')",
            openapi_extra={"requestBody": {"required": False, "content": {
                "application/json": {"schema": inline(ExpiresBody.model_json_schema())}}}})
async def set_expires(request: Request, who: Caller, core: CoreDep,
                      expires: Annotated[str | None, Query(description="ISO 8601 with an offset, or 'never' "
                                                                       "(or a JSON body {expires})")] = None) -> str:
    if expires is None:
        data = await json_body(request)
        if data is not None:
            expires = validated(ExpiresBody, data).expires
    return await core.uc_presence.set_expiration(who.principal, who.account_id, who.user["userId"], expires)


@router.get(f"{BASE}/available", response_model=bool, operation_id="getUserAvailable",
            summary="Whether the user is available (activity available, no DND, not in a call)")
async def get_available(who: Caller, core: CoreDep) -> bool:
    return bool(core.uc_presence.view(who.principal, who.account_id, who.user["userId"])["available"])


@router.put(f"{BASE}/activity", response_model=str, operation_id="setUserActivity",
            summary="Set the activity of the user (or apply a presence shortcut)",
            openapi_extra={"requestBody": {"required": False, "content": {
                "application/json": {"schema": inline(ActivityBody.model_json_schema())}}}})
async def set_activity(request: Request, who: Caller, core: CoreDep,
                       activity: Annotated[str | None, Query(description="The activity id (or a JSON body "
                                                                         "{activity, available})")] = None,
                       available: Annotated[str | None, Query(description="Override the activity's "
                                                                          "availability")] = None,
                       shortcutId: Annotated[str | None, Query(description="Apply this presence shortcut "
                                                                           "instead")] = None,
                       forcePremappedDiversion: Annotated[str | None, Query()] = None) -> str:
    override: object = ... if available is None else flag(available)
    if activity is None and shortcutId is None:
        data = await json_body(request)
        if data is not None:
            body = validated(ActivityBody, data)
            activity = body.activity
            if body.available is not None:
                override = body.available
    if shortcutId is not None:
        view = await core.uc_presence.update(who.principal, who.account_id, who.user["userId"],
                                             shortcut_id=shortcutId, force_diversion=flag(forcePremappedDiversion))
        return str(view["activity"]["id"])
    if activity is None:
        invalid("activity", "activity.required", "activity names an activity")
    view = await core.uc_presence.update(who.principal, who.account_id, who.user["userId"], activity=activity,
                                         available=override, force_diversion=flag(forcePremappedDiversion))
    return str(view["activity"]["id"])


# ---------------------------------------------------------------------------- photo
PHOTO_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {"content": {"image/jpeg": {"schema": {"type": "string", "format": "binary"}},
                      "image/png": {"schema": {"type": "string", "format": "binary"}}},
          "description": "The photo (the original, or the smallest avatar at least the preferred size)"}}


@router.get(f"{BASE}/photo", operation_id="getUserPhoto", summary="The user's photo",
            response_class=Response, responses=PHOTO_RESPONSES)
async def get_photo(who: Caller, core: CoreDep,
                    prefWidth: Annotated[int | None, Query(ge=1, le=10_000, description="Preferred width")] = None,
                    prefHeight: Annotated[int | None, Query(ge=1, le=10_000, description="Preferred height")] = None
                    ) -> Response:
    core.devices.list(who.principal, who.account_id, who.user["userId"])  # acting for the user
    photo = who.user.get("photo")
    if not photo:
        not_found("photo", "photo.does.not.exist", "the user has no photo")
    size = "original"
    wanted = max(prefWidth or 0, prefHeight or 0)
    if wanted:
        size = next((str(s) for s in PHOTO_SIZES if s >= wanted), "scaled")
    if size not in photo.get("sizes", ()):
        size = "original"
    content_type, data = core.directory.photo_blob(photo["photoId"], size)
    return Response(data, media_type=content_type)


@router.put(f"{BASE}/photo", status_code=204, response_class=Response, operation_id="setUserPhoto",
            summary="Upload the user's photo (the body is the image: JPEG, PNG, GIF, WebP or BMP)",
            openapi_extra={"requestBody": {"required": True, "content": {
                "image/*": {"schema": {"type": "string", "format": "binary"}},
                "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
@router.post(f"{BASE}/photo", status_code=204, response_class=Response, operation_id="setUserPhotoByPost",
             summary="Upload the user's photo (as PUT)", openapi_extra={"requestBody": {"required": True, "content": {
                 "image/*": {"schema": {"type": "string", "format": "binary"}},
                 "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}}}})
async def put_photo(request: Request, who: Caller, core: CoreDep) -> Response:
    core.devices.list(who.principal, who.account_id, who.user["userId"])  # acting for the user
    await core.directory.put_photo(who.principal, "user", who.user, await request.body())
    return Response(status_code=204)


# ---------------------------------------------------------------------------- presence shortcuts
@shortcuts_router.get("", response_model=PresenceShortcuts, operation_id="getPresenceShortcuts",
                      summary="All presence shortcuts of the user")
async def list_shortcuts(who: Caller, core: CoreDep) -> dict[str, Any]:
    return {"presenceShortcut": core.uc_presence.shortcuts(who.principal, who.account_id, who.user["userId"])}


@shortcuts_router.put("", response_model=PresenceShortcuts, operation_id="setPresenceShortcuts",
                      summary="Replace all presence shortcuts")
@shortcuts_router.post("", response_model=PresenceShortcuts, operation_id="setPresenceShortcutsByPost",
                       summary="Replace all presence shortcuts (as PUT)")
async def replace_shortcuts(body: PresenceShortcuts, who: Caller, core: CoreDep) -> dict[str, Any]:
    items = [s.model_dump() for s in body.presenceShortcut]
    return {"presenceShortcut": await core.uc_presence.replace_shortcuts(who.principal, who.account_id,
                                                                         who.user["userId"], items)}


@shortcuts_router.get("/{id}", response_model=PresenceShortcut, operation_id="getPresenceShortcut",
                      summary="One presence shortcut")
async def get_shortcut(id: str, who: Caller, core: CoreDep) -> dict[str, Any]:
    return core.uc_presence.shortcut(who.principal, who.account_id, who.user["userId"], id)


@shortcuts_router.put("/{id}", response_model=PresenceShortcut, operation_id="setPresenceShortcut",
                      summary="Update (or create) one presence shortcut")
@shortcuts_router.post("/{id}", response_model=PresenceShortcut, operation_id="setPresenceShortcutByPost",
                       summary="Update (or create) one presence shortcut (as PUT)")
async def put_shortcut(id: str, body: PresenceShortcut, who: Caller, core: CoreDep) -> dict[str, Any]:
    return await core.uc_presence.put_shortcut(who.principal, who.account_id, who.user["userId"], id,
                                               body.model_dump())


@shortcuts_router.delete("/{id}", status_code=204, response_class=Response, operation_id="deletePresenceShortcut",
                         summary="Delete one presence shortcut")
async def delete_shortcut(id: str, who: Caller, core: CoreDep) -> Response:
    await core.uc_presence.delete_shortcut(who.principal, who.account_id, who.user["userId"], id)
    return Response(status_code=204)
