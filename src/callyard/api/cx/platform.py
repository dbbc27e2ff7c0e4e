"""MediaServer (3), MailServer (2), ApplicationProfile (2), Prompt (2, plus the prompt's WAV audio: the twin's
addition) and Variables (2): the contact center's platform configuration (``core/contact_center/platform.py``)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from callyard.api.cx import admin_schemas as models, admin_wire, schemas
from callyard.api.cx.admin_common import AUDIO, AdminDep, audio
from callyard.api.cx.common import Caller, page

router = APIRouter(responses=schemas.ERRORS)


@router.get("/mediaservers", tags=["MediaServer"], summary="OData Get all media servers",
            responses=schemas.ok(schemas.collection(models.MediaServerModel)))
async def media_servers(request: Request, caller: Caller, admin: AdminDep) -> Any:
    return page(request, [admin_wire.media_server(s) for s in admin.platform.media_servers(caller)])


@router.get("/mediaservers/times", tags=["MediaServer"], summary="Get all media server times",
            responses=schemas.ok(dict[str, str]))
async def media_server_times(caller: Caller, admin: AdminDep) -> Any:
    return admin.platform.media_server_times(caller)


@router.get("/mediaservers/{id}", tags=["MediaServer"], summary="Get a media server",
            responses=schemas.ok(models.MediaServerModel))
async def media_server(id: str, caller: Caller, admin: AdminDep) -> Any:
    return admin_wire.media_server(admin.platform.media_server(caller, id))


@router.get("/mailservers", tags=["MailServer"], summary="OData Get all mail servers",
            responses=schemas.ok(schemas.collection(models.MailServerModel)))
async def mail_servers(request: Request, caller: Caller, admin: AdminDep) -> Any:
    return page(request, [admin_wire.mail_server(s) for s in admin.platform.mail_servers(caller)])


@router.get("/mailservers/{id}", tags=["MailServer"], summary="Get a mail server.",
            responses=schemas.ok(models.MailServerModel))
async def mail_server(id: str, caller: Caller, admin: AdminDep) -> Any:
    return admin_wire.mail_server(admin.platform.mail_server(caller, id))


@router.get("/applicationprofiles/{appname}", tags=["ApplicationProfile"],
            summary="Get all application profiles for a given application.",
            responses=schemas.ok(schemas.collection(models.ApplicationProfileModel)))
async def application_profiles(appname: str, request: Request, caller: Caller, admin: AdminDep) -> Any:
    return page(request, [admin_wire.application_profile(p)
                          for p in admin.platform.application_profiles(caller, appname)])


@router.get("/applicationprofiles/{appname}/{profilenameorid}", tags=["ApplicationProfile"],
            summary="Get an application profile for a given application and profile name or id.",
            responses=schemas.ok(models.ApplicationProfileModel))
async def application_profile(appname: str, profilenameorid: str, caller: Caller, admin: AdminDep) -> Any:
    return admin_wire.application_profile(admin.platform.application_profile(caller, appname, profilenameorid))


@router.get("/prompts", tags=["Prompt"], summary="OData Get voice routing prompts",
            responses=schemas.ok(schemas.collection(models.PromptModel)))
async def prompts(request: Request, caller: Caller, admin: AdminDep) -> Any:
    return page(request, [admin_wire.prompt(p) for p in admin.platform.prompts(caller)])


@router.get("/prompts/{id}", tags=["Prompt"], summary="Get a voice routing prompt",
            responses=schemas.ok(models.PromptModel))
async def prompt(id: str, caller: Caller, admin: AdminDep) -> Any:
    return admin_wire.prompt(admin.platform.prompt(caller, id))


@router.get("/prompts/{id}/audio", tags=["Prompt"], response_class=Response, responses=AUDIO,
            summary="A voice routing prompt's audio (the twin's addition)")
async def prompt_audio(id: str, request: Request, caller: Caller, admin: AdminDep) -> Response:
    doc, content_type, data = admin.platform.prompt_audio(caller, id)
    return audio(request, content_type, data, doc["id"], inline=True)


@router.get("/variables", tags=["Variables"], summary="OData Get IVR Variables",
            responses=schemas.ok(schemas.collection(models.VariableModel)))
async def variables(request: Request, caller: Caller, admin: AdminDep) -> Any:
    return page(request, [admin_wire.variable(v) for v in admin.platform.variables(caller)])


@router.get("/variables/{id}", tags=["Variables"], summary="Get an IVR Variable",
            responses=schemas.ok(models.VariableModel))
async def variable(id: str, caller: Caller, admin: AdminDep) -> Any:
    return admin_wire.variable(admin.platform.variable(caller, id))
