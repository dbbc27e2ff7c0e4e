"""WebHook (6 operations): OSCMS registration, the extensions it records, and the engine's call recordings by
case and call, downloadable and playable (WAV)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from callyard.api.cx import admin_schemas as models, admin_wire, schemas
from callyard.api.cx.admin_common import AUDIO, AdminDep, audio
from callyard.api.cx.common import Caller
from callyard.api.cx.edge import field, json_body

router = APIRouter(tags=["WebHook"], responses=schemas.ERRORS)


@router.post("/webhooks", responses=schemas.ok(str),
             summary="Registers a webhook with MiccSDK to allow OSCMS to receive requests.",
             openapi_extra=schemas.body(models.WEBHOOK))
async def register(request: Request, caller: Caller, admin: AdminDep) -> Any:
    body = await json_body(request)
    doc = await admin.oscms.register(caller, {k: field(body, k) for k in ("id", "name", "url", "token")})
    return doc["oscmsId"]


@router.get("/webhooks", responses=schemas.ok(models.WebhookList),
            summary="Retrieves a list of all registered Webhooks.")
async def webhooks(caller: Caller, admin: AdminDep) -> Any:
    return {"webhookList": [admin_wire.webhook(w) for w in admin.oscms.webhooks(caller)]}


@router.get("/webhooks/extensions", responses=schemas.ok(list[models.OscmsExtension]),
            summary="Retrieves all registered extensions for all OSCMS.")
async def extensions(caller: Caller, admin: AdminDep) -> Any:
    return admin.oscms.extensions(caller)


@router.get("/webhooks/recordings/{recordingId}/download", response_class=Response, responses=AUDIO,
            summary="Downloads a specific recording file by its ID.")
async def download(recordingId: str, request: Request, caller: Caller, admin: AdminDep) -> Response:
    doc, content_type, data = admin.oscms.recording(caller, recordingId)
    return audio(request, content_type, data, doc["recordingId"], inline=False)


@router.get("/webhooks/recordings/{recordingId}/play", response_class=Response,
            responses={**AUDIO, 206: {"description": "The byte range asked for", "content": {"audio/wav": {}}}},
            summary="Play a specific recording file by its ID.")
async def play(recordingId: str, request: Request, caller: Caller, admin: AdminDep) -> Response:
    doc, content_type, data = admin.oscms.recording(caller, recordingId)
    return audio(request, content_type, data, doc["recordingId"], inline=True)


# after download and play: ``/webhooks/recordings/{recordingId}/download`` is not a case's call named "download"
@router.get("/webhooks/recordings/{caseId}/{callId}", responses=schemas.ok(schemas.collection(models.Recording)),
            summary="Retrieves call recordings associated with a specific caseId and callId.")
async def recordings(caseId: str, callId: str, request: Request, caller: Caller, admin: AdminDep) -> Any:
    items = [admin_wire.recording(r) for r in admin.oscms.recordings(caller, caseId, callId)]
    return {"_links": {"self": {"href": request.url.path}}, "count": len(items), "_embedded": {"items": items}}
