"""Queue (13 operations): queues, "Queue Now" states, the conversations waiting in a queue and what a
supervisor or agent does with them (Pick), queue groups."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from callyard.api.cx import schemas, wire
from callyard.api.cx.common import Caller, DeskDep, page
from callyard.api.cx.edge import field, json_body, offset_of
from callyard.api.cx.employees import conversation_update, conversation_updates
from callyard.core.errors import Invalid, NotFound

router = APIRouter(tags=["Queue"], responses=schemas.ERRORS)


@router.get("/queues", responses=schemas.ok(schemas.collection(schemas.QueueModel)), summary="OData Get queues")
async def queues(request: Request, caller: Caller, desk: DeskDep) -> Any:
    return page(request, [wire.queue(q) for q in desk.queues(caller)])


@router.get("/queues/state", responses=schemas.ok(schemas.collection(schemas.QueueStateModel)),
            summary='OData Get my queues states. Commonly referred to as "Queue Now".')
async def queue_states(request: Request, caller: Caller, desk: DeskDep) -> Any:
    offset = offset_of(request)
    return page(request, [wire.queue_state(s, offset) for s in desk.queue_states(caller)])


@router.get("/queues/states", responses=schemas.ok(schemas.collection(schemas.QueueStateModel)),
            summary="OData Get my queues states (alias of /queues/state)")
async def queue_states_alias(request: Request, caller: Caller, desk: DeskDep) -> Any:
    return await queue_states(request, caller, desk)


@router.get("/queues/{id}", responses=schemas.ok(schemas.QueueModel), summary="OData Get a queue")
async def queue(id: str, caller: Caller, desk: DeskDep) -> Any:
    return wire.queue(desk.queue(caller, id))


@router.delete("/queues/{id}", responses=schemas.ok(str), summary="Delete a queue")
async def delete_queue(id: str, caller: Caller, desk: DeskDep) -> Any:
    await desk.delete_queue(caller, id)
    return "OK"


@router.get("/queues/{id}/members", responses=schemas.ok(schemas.collection(schemas.QueueModel)),
            summary="OData Get all members of a queue group.")
async def queue_members(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    return page(request, [wire.queue(q) for q in desk.queue_members(caller, id)])


@router.get("/queues/{id}/state", responses=schemas.ok(schemas.QueueStateModel),
            summary="Get a queue's state. Commonly referred to as \"Queue Now\".")
async def queue_state(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    return wire.queue_state(desk.queue_state(caller, id), offset_of(request))


@router.get("/queues/{id}/conversations", responses=schemas.ok(schemas.collection(schemas.ConversationModel)),
            summary="Get conversations currently waiting in queue")
async def queue_conversations(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    offset = offset_of(request)
    return page(request, [wire.conversation(c, offset) for c in desk.queue_conversations(caller, id)])


@router.put("/queues/{id}/conversations", responses=schemas.ok(str),
            summary="Update a list of conversations currently waiting in queue",
            openapi_extra=schemas.body(schemas.CONVERSATION_UPDATES))
async def queue_update_many(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    for update in await conversation_updates(request):
        await desk.queue_action(caller, id, update["id"], update)
    return "OK"


@router.get("/queues/{id}/conversations/{conversationId}", responses=schemas.ok(schemas.ConversationModel),
            summary="Get a conversation details waiting in a queue")
async def queue_conversation(id: str, conversationId: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    return wire.conversation(desk.queue_conversation(caller, id, conversationId), offset_of(request))


@router.put("/queues/{id}/conversations/{conversationId}", responses=schemas.ok(str),
            summary="Update a conversation waiting in a queue",
            openapi_extra=schemas.body(schemas.CONVERSATION_UPDATE))
async def queue_update(id: str, conversationId: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    body = await json_body(request)
    update = conversation_update(body)
    if field(body, "id") not in (None, conversationId):
        raise Invalid("InvalidRequest", "the body's id is not the conversation of the path")
    await desk.queue_action(caller, id, conversationId, update)
    return "OK"


@router.get("/queuegroups/states", responses=schemas.ok(schemas.collection(schemas.QueueStateModel)),
            summary="Queue_GetGroupStates")
async def queue_group_states(request: Request, caller: Caller, desk: DeskDep) -> Any:
    offset = offset_of(request)
    return page(request, [wire.queue_state(s, offset) for s in desk.queue_group_states(caller)])


@router.get("/queuegroups/{id}/state", responses=schemas.ok(schemas.QueueStateModel),
            summary="Experimental Get a queue group state.")
async def queue_group_state(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    return wire.queue_state(desk.queue_group_state(caller, id), offset_of(request))


@router.get("/queuegroups/{qid}/conversations/{cid}", responses=schemas.ok(schemas.ConversationModel),
            summary="Get a conversation details waiting in a queue group")
async def queue_group_conversation(qid: str, cid: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    group = desk.queue_group_state(caller, qid)
    for member in desk.queue_members(caller, group["queueId"]):
        for item in desk.queue_conversations(caller, member["id"]):
            if item["conversationId"] == cid:
                return wire.conversation(item, offset_of(request))
    raise NotFound("ConversationNotFound", f"conversation {cid} is not waiting in queue group {qid}")
