"""OpenMedia (5 operations): a third-party system posts an item to be routed to an open-media agent (201 with
the OpenMediaConversation), follows it, and completes it (``{"action": "Complete"}``) or reroutes a failed one
(``{"action": "Reroute"}``); once handled, abandoned or failed, ``GET /openmedia/{id}`` answers 404 as the
seed says."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from callyard.api.cx import schemas, wire
from callyard.api.cx.common import Caller, MediaDeskDep, page
from callyard.api.cx.edge import enum_name, field, json_body, offset_of
from callyard.core.contact_center.media_desk import OPEN_MEDIA_ACTIONS
from callyard.core.errors import Invalid

router = APIRouter(tags=["OpenMedia"], responses=schemas.ERRORS)
REQUEST_FIELDS = ("targetUri", "targetUriEmbedded", "previewUrl", "id", "historyUrl", "tenant", "queue", "from", "to",
                  "subject", "variableData")


@router.get("/openmedia", responses=schemas.ok(schemas.collection(schemas.OpenMediaConversation)),
            summary="OData Get all active open media items currently being executed in the system. For historical "
                    "queries use $search='{search term}' to query previously executed open media items.")
async def items(request: Request, caller: Caller, media: MediaDeskDep) -> Any:
    search = request.query_params.get("$search", "").strip()
    offset = offset_of(request)
    return page(request, [wire.open_media(d, offset) for d in media.open_media(caller, search or None)])


@router.post("/openmedia", status_code=201, responses={201: {"model": schemas.OpenMediaConversation,
                                                           "description": "Created"}},
             summary="Create a new open media item to be routed.",
             openapi_extra=schemas.body(schemas.OPEN_MEDIA_REQUEST))
async def create(request: Request, caller: Caller, media: MediaDeskDep) -> Any:
    body = await json_body(request)
    if not body:
        raise Invalid("InvalidRequest", "the OpenMediaRequest may not be empty")
    created = await media.post_open_media(caller, {name: field(body, name) for name in REQUEST_FIELDS})
    return JSONResponse(wire.open_media(created), status_code=201)


@router.get("/openmedia/queues", responses=schemas.ok(schemas.collection(schemas.OpenMediaQueue)),
            summary="OData Get all active open media queues known to this system with links to active "
                    "conversations in these queues.")
async def queues(request: Request, caller: Caller, media: MediaDeskDep) -> Any:
    out = []
    for queue, items in media.open_media_queues(caller):
        shaped = wire.queue(queue)
        shaped["conversations"] = [{"id": i["conversationId"], "conversationState": i["conversationState"],
                                    "href": f"/miccsdk/api/v1/openmedia/{i['conversationId']}"} for i in items]
        out.append(shaped)
    return page(request, out)


@router.get("/openmedia/{id}", responses=schemas.ok(schemas.OpenMediaConversation),
            summary="Get an open media conversation.")
async def item(id: str, request: Request, caller: Caller, media: MediaDeskDep) -> Any:
    return wire.open_media(media.open_media_item(caller, id), offset_of(request))


@router.put("/openmedia/{id}", responses=schemas.ok(str),
            summary="It is used to reroute a failed interaction by an employee or complete an interaction by a "
                    "third party system.", openapi_extra=schemas.body(schemas.OPEN_MEDIA_UPDATE))
async def update(id: str, request: Request, caller: Caller, media: MediaDeskDep) -> Any:
    body = await json_body(request)
    action = enum_name(field(body, "action"), OPEN_MEDIA_ACTIONS, "action")
    queue = field(body, "queue")
    if queue is not None and not isinstance(queue, str):
        raise Invalid("InvalidRequest", "queue is a queue's id, name or reporting number")
    await media.update_open_media(caller, id, str(action), queue)
    return "OK"
