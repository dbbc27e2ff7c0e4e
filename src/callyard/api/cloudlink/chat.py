"""CloudLink Conversations (chat) façade (reference/cloudlink-apis.md §4; ``https://chat.api.mitel.io/2017-09-01``).

Routes: ``/conversations`` (create, list), ``/users/me/conversations``, ``/conversations/{id}`` (get, update,
delete), ``…/participants`` (list, add/invite, get, accept/decline, leave/remove), ``…/messages`` (post,
list with ``startDate``/``endDate`` and OData paging, get, edit, delete) and ``…/transcripts``. Request bodies
are schema-checked (unknown properties → 400 "data should NOT have additional properties"); the rules live
in ``callyard.core.messaging``.
"""
from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field

from callyard.api.cloudlink.edge import BASE_PATH
from callyard.api.cloudlink.edge.odata import collection
from callyard.api.cloudlink.wire import CONVERSATION_FIELDS, MESSAGE_FIELDS, PARTICIPANT_FIELDS, pick
from callyard.api.common.errors import ERROR_RESPONSES
from callyard.api.common.security import principal
from callyard.api.deps import MessagingDep
from callyard.core.messaging.service import BODY_MAX, NAME_MAX
from callyard.core.principal import Principal
from callyard.api.cloudlink.edge.hosts import arrived_path

router = APIRouter(tags=["chat"], responses=ERROR_RESPONSES)
BASE = BASE_PATH
_LANGUAGE = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$"


class ParticipantRef(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["USER"] = "USER"
    participantId: str = Field(min_length=1)


class ConversationCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=NAME_MAX)
    languageCode: str | None = Field(default=None, pattern=_LANGUAGE)
    stream: bool = False
    thumbnailUrl: str | None = None
    visibility: Literal["PUBLIC", "PRIVATE"] | None = None
    hidden: bool = False
    generateSystemMessages: bool = False
    originalParticipants: list[ParticipantRef] | None = None
    participants: list[ParticipantRef | str] | None = None  # the legacy {"participants": ["user@x"]} form too


class ConversationUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str | None = Field(default=None, max_length=NAME_MAX)
    languageCode: str | None = Field(default=None, pattern=_LANGUAGE)
    thumbnailUrl: str | None = None
    visibility: Literal["PUBLIC", "PRIVATE"] | None = None
    hidden: bool | None = None
    generateSystemMessages: bool | None = None


class ParticipantAdd(BaseModel):
    model_config = ConfigDict(extra="forbid")
    type: Literal["USER"] = "USER"
    participantId: str | None = Field(default=None, min_length=1)
    userId: str | None = Field(default=None, min_length=1)
    status: Literal["ACCEPTED", "INVITED"] | None = None


class ParticipantUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["ACCEPTED", "DECLINED"]


class Attachment(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=NAME_MAX)
    contentType: str | None = None
    url: str | None = None
    size: int | None = Field(default=None, ge=0)
    content: str | None = None  # base64, as the Workflow docs allow


class MessageCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str | dict[str, Any] | list[Any]
    contentType: str | None = None
    fallbackText: str | None = Field(default=None, max_length=BODY_MAX)
    tag: str | None = None
    attachments: list[Attachment] | None = None


class MessageUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    body: str | dict[str, Any] | list[Any] | None = None
    contentType: str | None = None
    fallbackText: str | None = Field(default=None, max_length=BODY_MAX)
    tag: str | None = None
    attachments: list[Attachment] | None = None


class TranscriptRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    contentType: Literal["text/plain", "text/html", "application/json"] | None = None
    startDate: str | None = None
    endDate: str | None = None


def conversation_wire(conversation: dict[str, Any]) -> dict[str, Any]:
    cid = conversation["conversationId"]
    return {**pick(conversation, CONVERSATION_FIELDS),
            "participants": [participant_wire(cid, p) for p in conversation["participants"]],
            "_links": {"self": f"{BASE}/conversations/{cid}",
                       "participants": f"{BASE}/conversations/{cid}/participants",
                       "messages": f"{BASE}/conversations/{cid}/messages"}}


def participant_wire(conversation_id: str, participant: dict[str, Any]) -> dict[str, Any]:
    return {**pick(participant, PARTICIPANT_FIELDS), "conversationId": conversation_id,
            "_links": {"self": f"{BASE}/conversations/{conversation_id}/participants/{participant['participantId']}"}}


def message_wire(message: dict[str, Any]) -> dict[str, Any]:
    return {**pick(message, MESSAGE_FIELDS), "_links": {
        "self": f"{BASE}/conversations/{message['conversationId']}/messages/{message['messageId']}"}}


def _page(request: Request, items: list[dict[str, Any]], drop: tuple[str, ...] = ()) -> dict[str, Any]:
    params = {k: v for k, v in request.query_params.items() if k not in drop}
    return collection(items, params, arrived_path(request.scope))


# ------------------------------------------------------------------ conversations
@router.post("/conversations", status_code=201, summary="Create a stream or a direct conversation")
async def create_conversation(body: ConversationCreate, request: Request, messaging: MessagingDep,
                              actor: Principal = Depends(principal)) -> JSONResponse:
    fields = body.model_dump(exclude_none=True)
    conversation = await messaging.create(actor, fields)
    return JSONResponse(conversation_wire(conversation), status_code=201)


@router.get("/conversations", summary="The caller's conversations (OData $filter, $top, $skip, $orderby)")
async def list_conversations(request: Request, messaging: MessagingDep,
                             actor: Principal = Depends(principal)) -> dict[str, Any]:
    return _page(request, [conversation_wire(c) for c in messaging.list(actor)])


@router.get("/users/me/conversations", summary="The caller's conversations")
async def my_conversations(request: Request, messaging: MessagingDep,
                           actor: Principal = Depends(principal)) -> dict[str, Any]:
    return _page(request, [conversation_wire(c) for c in messaging.list(actor)])


@router.get("/conversations/{conversationId}", summary="A conversation")
async def get_conversation(conversationId: str, request: Request, messaging: MessagingDep,
                           actor: Principal = Depends(principal)) -> dict[str, Any]:
    return conversation_wire(messaging.get(actor, conversationId))


@router.put("/conversations/{conversationId}", summary="Update a conversation")
@router.patch("/conversations/{conversationId}", include_in_schema=False)
async def update_conversation(conversationId: str, body: ConversationUpdate, request: Request, messaging: MessagingDep,
                              actor: Principal = Depends(principal)) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True)
    return conversation_wire(await messaging.update(actor, conversationId, changes))


@router.delete("/conversations/{conversationId}", summary="Delete a conversation with its messages (200 + JSON)")
async def delete_conversation(conversationId: str, request: Request, messaging: MessagingDep,
                              actor: Principal = Depends(principal)) -> dict[str, Any]:
    return conversation_wire(await messaging.delete(actor, conversationId))


# ------------------------------------------------------------------ participants
@router.get("/conversations/{conversationId}/participants", summary="A conversation's participants")
async def list_participants(conversationId: str, request: Request, messaging: MessagingDep,
                            actor: Principal = Depends(principal)) -> dict[str, Any]:
    items = [participant_wire(conversationId, p) for p in messaging.participants(actor, conversationId)]
    return _page(request, items)


@router.post("/conversations/{conversationId}/participants", status_code=201,
             summary="Invite (INVITED) or add (ACCEPTED) a participant; join a public stream")
async def add_participant(conversationId: str, body: ParticipantAdd, request: Request, messaging: MessagingDep,
                          actor: Principal = Depends(principal)) -> JSONResponse:
    entry = await messaging.add_participant(actor, conversationId, body.model_dump(exclude_none=True))
    return JSONResponse(participant_wire(conversationId, entry), status_code=201)


@router.get("/conversations/{conversationId}/participants/{participantId}", summary="A participant")
async def get_participant(conversationId: str, participantId: str, request: Request, messaging: MessagingDep,
                          actor: Principal = Depends(principal)) -> dict[str, Any]:
    return participant_wire(conversationId, messaging.participant(actor, conversationId, participantId))


@router.put("/conversations/{conversationId}/participants/{participantId}",
            summary="Accept (ACCEPTED) or decline (DECLINED) one's invitation")
async def respond_participant(conversationId: str, participantId: str, body: ParticipantUpdate, request: Request,
                              messaging: MessagingDep,
                              actor: Principal = Depends(principal)) -> dict[str, Any]:
    entry = await messaging.respond(actor, conversationId, participantId, body.status)
    if entry is None:
        return {"conversationId": conversationId, "participantId": participantId, "status": "DECLINED"}
    return participant_wire(conversationId, entry)


@router.delete("/conversations/{conversationId}/participants/{participantId}",
               summary="Leave (oneself) or remove a participant")
async def remove_participant(conversationId: str, participantId: str, request: Request, messaging: MessagingDep,
                             actor: Principal = Depends(principal)) -> dict[str, Any]:
    entry = await messaging.remove_participant(actor, conversationId, participantId)
    return participant_wire(conversationId, entry)


# ------------------------------------------------------------------ messages
@router.post("/conversations/{conversationId}/messages", status_code=201, summary="Post a message as the caller")
async def post_message(conversationId: str, body: MessageCreate, request: Request, messaging: MessagingDep,
                       actor: Principal = Depends(principal)) -> JSONResponse:
    message = await messaging.post(actor, conversationId, body.model_dump(exclude_none=True))
    return JSONResponse(message_wire(message), status_code=201)


@router.get("/conversations/{conversationId}/messages",
            summary="Messages, oldest first (startDate, endDate, $top, $skip, $filter, $orderby)")
async def list_messages(conversationId: str, request: Request, messaging: MessagingDep,
                        actor: Principal = Depends(principal)) -> dict[str, Any]:
    params = request.query_params
    items = messaging.messages(actor, conversationId, params.get("startDate"), params.get("endDate"))
    body = _page(request, [message_wire(m) for m in items], drop=("startDate", "endDate"))
    if "next" in body["_links"]:
        extra = "&".join(f"{k}={params[k]}" for k in ("startDate", "endDate") if params.get(k))
        if extra:
            body["_links"]["next"] += "&" + extra
    return body


@router.get("/conversations/{conversationId}/messages/{messageId}", summary="A message")
async def get_message(conversationId: str, messageId: str, request: Request, messaging: MessagingDep,
                      actor: Principal = Depends(principal)) -> dict[str, Any]:
    return message_wire(messaging.message(actor, conversationId, messageId))


@router.put("/conversations/{conversationId}/messages/{messageId}", summary="Edit one's message")
@router.patch("/conversations/{conversationId}/messages/{messageId}", include_in_schema=False)
async def edit_message(conversationId: str, messageId: str, body: MessageUpdate, request: Request,
                       messaging: MessagingDep,
                       actor: Principal = Depends(principal)) -> dict[str, Any]:
    changes = body.model_dump(exclude_unset=True, exclude_none=True)
    return message_wire(await messaging.edit(actor, conversationId, messageId, changes))


@router.delete("/conversations/{conversationId}/messages/{messageId}", summary="Delete a message (200 + JSON)")
async def delete_message(conversationId: str, messageId: str, request: Request, messaging: MessagingDep,
                         actor: Principal = Depends(principal)) -> dict[str, Any]:
    return message_wire(await messaging.delete_message(actor, conversationId, messageId))


# ------------------------------------------------------------------ transcripts
@router.post("/conversations/{conversationId}/transcripts",
             summary="A transcript as text/html (default), text/plain or application/json")
async def create_transcript(conversationId: str, request: Request, messaging: MessagingDep,
                            body: TranscriptRequest | None = None,
                            actor: Principal = Depends(principal)) -> Response:
    wanted = body.contentType if body is not None and body.contentType else None
    if wanted is None:
        accept = request.headers.get("accept", "").lower()
        wanted = next((t for t in ("application/json", "text/plain", "text/html") if t in accept), None)
    kind, content = messaging.transcript(actor, conversationId, wanted,
                                                   body.startDate if body else None, body.endDate if body else None)
    if kind == "application/json":
        return JSONResponse(content)
    return Response(content, media_type=f"{kind}; charset=utf-8")
