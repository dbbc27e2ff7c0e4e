"""Conversations (3 operations): the active interactions (in queues and at agents), one of them, and call
details (variables) added to one."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from callyard.api.cx import schemas, wire
from callyard.api.cx.common import Caller, DeskDep, page
from callyard.api.cx.edge import field, json_body, offset_of

router = APIRouter(tags=["Conversations"], responses=schemas.ERRORS)


@router.get("/conversations", responses=schemas.ok(schemas.collection(schemas.ConversationModel)),
            summary="OData Get active interactions")
async def conversations(request: Request, caller: Caller, desk: DeskDep) -> Any:
    offset = offset_of(request)
    return page(request, [wire.conversation(c, offset) for c in desk.conversations(caller)])


@router.get("/conversations/{id}", responses=schemas.ok(schemas.ConversationModel),
            summary="OData Get a single interaction.")
async def conversation(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    return wire.conversation(desk.conversation(caller, id), offset_of(request))


@router.post("/conversations/{id}/calldetails", responses=schemas.ok(schemas.CallDetailsDataModel),
             summary="Allows variables to be inserted into the realtime stream that will get shown in WebIgnite",
             openapi_extra=schemas.body(schemas.CALL_DETAILS))
async def call_details(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    body = await json_body(request)
    return await desk.add_call_details(caller, id, field(body, "variables"))
