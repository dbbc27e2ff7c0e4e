"""End-user Configuration (seed 003, 6 operations), Voicemail Settings (2) and Mobile Subscriber (6).

* The configuration is read from the one core: the answer places are the user's devices (one per device
  type the user's extension has: ``deskphone``, ``softphone``, ``mobile`` — the ids the call-back call
  takes), the roles and activities are the organisation's presence vocabulary (core/presence/activities.py),
  ``language`` the user's language. The SSE stream (``text/event-stream``, each event of type
  ``application/app-config-data`` carrying the whole document) pushes when any of it changes: a device, the
  user, the account.
* Voicemail settings: ``allowVoicemail`` is the extension's voicemail setting the engine obeys,
  ``emailNotification`` puts a mail in the outbox per new message (core/devices/user_settings.py).
* Mobile subscriber: the settings of a mobile number of the organisation (a user's ``mobile``)."""
from __future__ import annotations

import asyncio
import json
import re
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from fastapi.responses import StreamingResponse

from callyard.api.common import sse
from callyard.api.deps import CoreDep, twin_of
from callyard.api.uc.edge.auth import UcCaller
from callyard.api.uc.edge.errors import ERROR_RESPONSES, forbidden, invalid
from callyard.api.uc.presence_schemas import (Activities, AnswerPlaces, Roles, UserConfig, VoicemailSettings,
                                              VoicemailSettingsChange, WebClient)
from callyard.api.uc.user_access import caller_any
from callyard.core.devices.calls import ANSWER_PLACES
from callyard.core.presence import activities as vocabulary
from callyard.events.event import Event

router = APIRouter(prefix="/api/userconfig/{domain}/{user}", tags=["End-user Configuration"],
                   responses=ERROR_RESPONSES)
voicemail_router = APIRouter(prefix="/api/voicemail/settings/{domain}/{userId}", tags=["Voicemail Settings"],
                             responses=ERROR_RESPONSES)
mobile_router = APIRouter(prefix="/api/mobilesubscriber/{domain}/{number}", tags=["Mobile Subscriber"],
                          responses=ERROR_RESPONSES)
Caller = Annotated[UcCaller, Depends(caller_any("USER"))]
VoicemailCaller = Annotated[UcCaller, Depends(caller_any("USER", user="userId"))]
OrgCaller = Annotated[UcCaller, Depends(caller_any("USER", user=None))]
APP_CONFIG = "application/app-config-data"
KEEP_ALIVE_SECONDS = 15.0
LANGUAGE = re.compile(r"^[a-z]{2}(_[A-Z]{2})?$")
Language = Annotated[str | None, Query(max_length=5, description="ISO 639-1, optionally _ and ISO 3166 (sv_SE)")]
# The seed's names in the languages the twin knows (others fall back to English).
NAMES: dict[str, dict[str, str]] = {
    "sv": {"available": "Tillgänglig", "busy": "Upptagen", "lunch": "Lunch", "meeting": "Möte",
           "out_of_office": "Ej på kontoret", "working": "Arbetar på annan plats", "business": "Arbete",
           "private": "Privat", "deskphone": "Bordstelefon", "softphone": "Mjuktelefon", "mobile": "Mobil"},
    "de": {"available": "Verfügbar", "busy": "Beschäftigt", "lunch": "Mittagspause", "meeting": "Besprechung",
           "out_of_office": "Abwesend", "working": "Arbeitet auswärts", "business": "Geschäftlich",
           "private": "Privat", "deskphone": "Tischtelefon", "softphone": "Softphone", "mobile": "Mobil"},
}
PLACE_NAMES = {"deskphone": "Desk phone", "softphone": "Softphone", "mobile": "Mobile"}


def _language(who: UcCaller, language: str | None) -> str:
    if language is not None:
        if not LANGUAGE.match(language):
            invalid("language", "language.not.valid", "language is ISO 639-1, optionally _ and a country (sv_SE)",
                    language)
        return language
    return str(who.user.get("languageCode") or "en-US").replace("-", "_")


def _name(language: str, key: str, default: str) -> str:
    return NAMES.get(language[:2], {}).get(key, default)


def answerplaces(who: UcCaller, core: Any, language: str) -> dict[str, Any]:
    devices = core.devices.list(who.principal, who.account_id, who.user["userId"])
    places = []
    for place, device_type in ANSWER_PLACES.items():
        device = next((d for d in devices if d["deviceType"] == device_type), None)
        if device is not None:   # named as the user named the device, else the place's own name
            places.append({"id": place, "name": device.get("deviceName") or _name(language, place,
                                                                                  PLACE_NAMES[place])})
    return {"answerplace": places}


def roles(who: UcCaller, core: Any, language: str) -> dict[str, Any]:
    core.devices.list(who.principal, who.account_id, who.user["userId"])   # acting for the user
    return {"role": [{"id": r["id"], "name": _name(language, r["id"], r["name"]),
                      "stateName": r["id"].upper()} for r in core.uc_presence.roles(who.account_id)]}


def activity_list(who: UcCaller, core: Any, language: str) -> dict[str, Any]:
    core.devices.list(who.principal, who.account_id, who.user["userId"])   # acting for the user
    return {"activity": [{"id": a["id"], "name": _name(language, a["id"], a["name"]), "available": a["available"],
                          "default": a["default"], "stateName": a["status"]}
                         for a in core.uc_presence.activities(who.account_id)]}


def document(who: UcCaller, core: Any, language: str) -> dict[str, Any]:
    user = core.rt.state.get("user", who.user["userId"]) or who.user
    account = core.rt.state.get("account", who.account_id)
    fields = [{"id": key, "label": label, "currentValue": str(user.get(key) or ""), "editable": False}
              for key, label in (("name", "Name"), ("email", "E-mail"), ("extension", "Extension"),
                                 ("mobile", "Mobile"))]
    return {"activities": activity_list(who, core, language), "roles": roles(who, core, language),
            "answerplaces": answerplaces(who, core, language),
            "topics-enabled": bool(vocabulary.setting(account, "topicsEnabled", False)),
            "sms-allowed": bool(vocabulary.setting(account, "smsAllowed", True)) and bool(user.get("mobile")),
            "fallbackToDefaultPresenceState": True, "defaultPresenceState": vocabulary.DEFAULT_ACTIVITY,
            "callrouting-enabled": bool(user.get("extension")), "language": language, "fields": {"field": fields}}


@router.get("/answerplaces", response_model=AnswerPlaces, operation_id="getAnswerPlaces",
            summary="The answer places (devices) the user can set up calls from")
async def get_answerplaces(who: Caller, core: CoreDep, language: Language = None) -> dict[str, Any]:
    return answerplaces(who, core, _language(who, language))


@router.get("/roles", response_model=Roles, operation_id="getPresenceRoles",
            summary="The presence roles available to the user")
async def get_roles(who: Caller, core: CoreDep, language: Language = None) -> dict[str, Any]:
    return roles(who, core, _language(who, language))


@router.get("/activities", response_model=Activities, operation_id="getPresenceActivities",
            summary="The presence activities available to the user")
async def get_activities(who: Caller, core: CoreDep, language: Language = None) -> dict[str, Any]:
    return activity_list(who, core, _language(who, language))


@router.get("", response_model=UserConfig, operation_id="getUserConfig", summary="The aggregated configuration")
async def get_config(who: Caller, core: CoreDep, language: Language = None) -> dict[str, Any]:
    return document(who, core, _language(who, language))


@router.get("/webclient", response_model=WebClient, operation_id="getWebClientUrl",
            summary="The URL of the web client (end-user portal and web softphone)")
async def webclient(request: Request, who: Caller, core: CoreDep) -> dict[str, Any]:
    core.devices.list(who.principal, who.account_id, who.user["userId"])   # acting for the user
    account = core.rt.state.get("account", who.account_id)
    return {"url": str(vocabulary.setting(account, "webClientUrl", None) or str(request.base_url))}


@router.get("/stream", response_class=StreamingResponse, operation_id="streamUserConfig",
            summary="SSE stream of the configuration (events of type application/app-config-data)",
            responses={200: {"content": {"text/event-stream": {}}, "description": "Configuration documents"}})
async def stream(request: Request, who: Caller, core: CoreDep, language: Language = None) -> StreamingResponse:
    chosen = _language(who, language)
    first = document(who, core, chosen)   # the access check, before streaming
    account_id, user_id = who.account_id, who.user["userId"]

    def change(event: Event) -> str | None:
        data = event.data or {}
        if event.account_id != account_id:
            return None
        mine = (event.type.startswith("account.") or data.get("userId") == user_id
                or event.subject.rstrip("/").endswith(user_id))
        return event.type if mine else None

    changes = sse.after_commit(twin_of(request).core.projections, f"user configuration stream {user_id}",
                               ("device.updated", "user.updated", "account.updated"), change,
                               asyncio.Queue(maxsize=64))

    last = json.dumps(first, sort_keys=True)

    def respond(update: Any) -> sse.Reply:
        nonlocal last
        if update is sse.START:
            return sse.message(json.dumps(first), event=APP_CONFIG)
        try:
            now = document(who, core, chosen)
        except Exception:   # the user was deleted or lost access: the stream ends
            return sse.END
        text = json.dumps(now, sort_keys=True)
        if text == last:
            return None
        last = text
        return sse.message(json.dumps(now), event=APP_CONFIG)

    return sse.sse_response(changes, respond, keepalive=KEEP_ALIVE_SECONDS)


# ---------------------------------------------------------------------------- voicemail settings
@voicemail_router.get("", response_model=VoicemailSettings, operation_id="getVoicemailSettings",
                      summary="The user's voicemail settings")
async def voicemail(who: VoicemailCaller, core: CoreDep) -> dict[str, Any]:
    return core.user_settings.voicemail(who.principal, who.account_id, who.user["userId"])


@voicemail_router.put("", response_model=VoicemailSettings, operation_id="setVoicemailSettings",
                      summary="Update the user's voicemail settings (the fields given)")
async def set_voicemail(body: VoicemailSettingsChange, who: VoicemailCaller, core: CoreDep) -> dict[str, Any]:
    return await core.user_settings.set_voicemail(who.principal, who.account_id, who.user["userId"],
                                                  body.model_dump(exclude_none=True))


# ---------------------------------------------------------------------------- mobile subscriber
Number = Annotated[str, Path(description="The mobile number (E.164, + URL-encoded as %2B)", max_length=32)]


def _enable(value: str | None) -> bool:
    if value is None or value.strip().lower() not in ("true", "false"):
        invalid("enable", "enable.not.valid", "enable is true or false", value)
    return value.strip().lower() == "true"


def _subscriber(who: UcCaller, core: Any, request: Request, number: str) -> str:
    """The caller's account, once the caller may reach ``number``'s settings (before the input is read)."""
    account_id = _account(who, core, request)
    core.user_settings.mobile(who.principal, account_id, number)
    return account_id


def _account(who: UcCaller, core: Any, request: Request) -> str:
    """The caller's account, when the path's domain is its domain (else 403, as every other route)."""
    domain = str(request.path_params["domain"])
    account = core.rt.state.get("account", who.account_id) or {}
    if str(account.get("domain", "")).lower() != domain.lower():
        forbidden("domain", "access.denied", "the ticket does not give access to that domain", domain)
    return who.account_id


@mobile_router.get("/fullcallerid", response_model=bool, operation_id="getMobileFullCallerId",
                   summary="Whether calls to the subscriber's mobile show the full caller id")
async def full_caller_id(request: Request, number: Number, who: OrgCaller, core: CoreDep) -> bool:
    return bool(core.user_settings.mobile(who.principal, _account(who, core, request), number)["fullCallerId"])


@mobile_router.put("/fullcallerid", status_code=204, response_class=Response, operation_id="setMobileFullCallerId",
                   summary="Update the full-caller-id setting")
async def set_full_caller_id(request: Request, number: Number, who: OrgCaller, core: CoreDep,
                             enable: Annotated[str | None, Query(description="true or false")] = None) -> Response:
    account_id = _subscriber(who, core, request, number)
    await core.user_settings.set_mobile(who.principal, account_id, number, "fullCallerId", _enable(enable))
    return Response(status_code=204)


@mobile_router.get("/numberpresentation", response_model=str, operation_id="getMobileNumberPresentation",
                   summary="The number presentation setting (0, 1, 2 or 3)")
async def number_presentation(request: Request, number: Number, who: OrgCaller, core: CoreDep) -> str:
    return str(core.user_settings.mobile(who.principal, _account(who, core, request), number)["numberPresentation"])


@mobile_router.put("/numberpresentation", status_code=204, response_class=Response,
                   operation_id="setMobileNumberPresentation", summary="Update the number presentation")
async def set_number_presentation(request: Request, number: Number, who: OrgCaller, core: CoreDep,
                                  value: Annotated[str | None, Query(max_length=8, description="0, 1, 2 or 3")
                                                   ] = None) -> Response:
    account_id = _subscriber(who, core, request, number)
    if value is None:
        invalid("value", "value.required", "value is 0, 1, 2 or 3")
    if not value.strip().isdigit():
        invalid("value", "value.not.valid", "value is 0, 1, 2 or 3", value)
    await core.user_settings.set_mobile(who.principal, account_id, number, "numberPresentation", int(value))
    return Response(status_code=204)


@mobile_router.put("/pbxintegration", status_code=204, response_class=Response,
                   operation_id="setMobilePbxIntegration", summary="Update the PBX integration of the subscriber")
async def set_pbx_integration(request: Request, number: Number, who: OrgCaller, core: CoreDep,
                              enable: Annotated[str | None, Query(description="true or false")] = None) -> Response:
    account_id = _subscriber(who, core, request, number)
    await core.user_settings.set_mobile(who.principal, account_id, number, "pbxIntegration", _enable(enable))
    return Response(status_code=204)


@mobile_router.put("/routetopbx", status_code=204, response_class=Response, operation_id="setMobileRouteToPbx",
                   summary="Update the route-to-PBX setting of the subscriber")
async def set_route_to_pbx(request: Request, number: Number, who: OrgCaller, core: CoreDep,
                           enable: Annotated[str | None, Query(description="true or false")] = None) -> Response:
    account_id = _subscriber(who, core, request, number)
    await core.user_settings.set_mobile(who.principal, account_id, number, "routeToPbx", _enable(enable))
    return Response(status_code=204)
