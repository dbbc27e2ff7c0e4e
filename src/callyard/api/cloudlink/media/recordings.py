"""Media API: recordings (swagger tag Recording). The media file is served from a time-limited, signed
URL under ``/_callyard/media/recordings/{recordingId}`` (the real platform hands out a signed storage
URL the same way)."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict

from callyard.api.cloudlink.media.wire import recording_wire
from callyard.api.cloudlink.wire import base_url
from callyard.api.cloudlink.edge.odata import collection
from callyard.api.common.errors import ERROR_RESPONSES
from callyard.api.common.security import principal
from callyard.api.deps import CoreDep, RecordingsDep
from callyard.core.clock import Clock, iso
from callyard.core.errors import Forbidden, Invalid, NotFound
from callyard.core.principal import Principal
from callyard.api.cloudlink.edge.hosts import arrived_path

router = APIRouter(tags=["media"], responses=ERROR_RESPONSES)
media_router = APIRouter(tags=["control"], responses=ERROR_RESPONSES)
URL_LIFETIME = timedelta(hours=1)
_URL_KEY = secrets.token_bytes(32)  # per process: a media URL is short-lived and dies with a restart


class UpdateRecordingRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    label: str | None = None


def _signature(recording_id: str, expires: int) -> str:
    return hmac.new(_URL_KEY, f"{recording_id}:{expires}".encode(), hashlib.sha256).hexdigest()


def _media_link(request: Request, clock: Clock, recording_id: str) -> dict[str, str]:
    expiry = clock.now() + URL_LIFETIME
    expires = int(expiry.timestamp())
    url = (f"{base_url(request)}/_callyard/media/recordings/{recording_id}"
           f"?expires={expires}&signature={_signature(recording_id, expires)}")
    return {"url": url, "expiry": iso(expiry)}


@router.get("/recordings", summary="Get all the recordings in the account")
async def list_recordings(request: Request, recordings: RecordingsDep,
                          actor: Principal = Depends(principal)) -> dict[str, Any]:
    items = [recording_wire(d) for d in recordings.list(actor)]
    return collection(items, dict(request.query_params), arrived_path(request.scope))


@router.get("/recordings/{recordingId}", summary="Get the recording meta data and optionally the media file")
async def get_recording(recordingId: str, request: Request, recordings: RecordingsDep,
                        actor: Principal = Depends(principal)) -> dict[str, Any]:
    doc = recordings.get(actor, recordingId)
    expand = [e.strip() for e in request.query_params.get("$expand", "").split(",") if e.strip()]
    if any(e != "media" for e in expand):
        raise Invalid("InvalidQueryParameter", "$expand supports only media")
    media_format = request.query_params.get("media-format")
    if media_format not in (None, "", "wav", "audio/wav"):
        raise Invalid("InvalidQueryParameter", "media-format: recordings are available as wav (audio/wav)")
    wants_media = bool(expand) or bool(media_format)
    return recording_wire(doc, _media_link(request, recordings.rt.clock, recordingId) if wants_media else None)


@router.put("/recordings/{recordingId}", summary="Update a recording's metadata")
async def update_recording(recordingId: str, body: UpdateRecordingRequest, request: Request, recordings: RecordingsDep,
                           actor: Principal = Depends(principal)) -> dict[str, Any]:
    return recording_wire(await recordings.update(actor, recordingId, body.label))


@router.delete("/recordings/{recordingId}", summary="Delete recording from the system")
async def delete_recording(recordingId: str, request: Request, recordings: RecordingsDep,
                           actor: Principal = Depends(principal)) -> dict[str, Any]:
    return recording_wire(await recordings.delete(actor, recordingId))


@media_router.get("/_callyard/media/recordings/{recordingId}", summary="A recording's audio (signed URL)",
                  response_class=Response,
                  responses={200: {"description": "The recording", "content": {"audio/wav": {}}}})
async def recording_media(recordingId: str, request: Request, recordings: RecordingsDep, core: CoreDep,
                          expires: int = 0, signature: str = "") -> Response:
    now = core.rt.clock.now().timestamp()
    if expires < now or not hmac.compare_digest(signature.encode(), _signature(recordingId, expires).encode()):
        raise Forbidden("InvalidSignature", "the media URL is invalid or has expired")
    doc = core.rt.state.get("recording", recordingId)
    if doc is None:
        raise NotFound("RecordingNotFound", f"recording {recordingId} was not found")
    content_type, data = recordings.media(doc)
    return Response(content=data, media_type=content_type,
                    headers={"content-disposition": f'attachment; filename="{recordingId}.wav"'})
