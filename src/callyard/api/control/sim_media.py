"""``/_callyard/sim``: the contact center's customers on its other media.

* ``POST /sim/chats`` — a customer starts a web chat on a Chat queue (``queue``: id, name or reporting
  number; default the account's only Chat queue) with their ``name``, optional ``email``, ``subject`` and first
  ``text``; ``POST /sim/chats/{id}/messages`` — they type; ``POST /sim/chats/{id}/end`` — they leave;
  ``GET /sim/chats/{id}`` — what they see (state, queue position, agent, every message both ways).
* ``POST /sim/sms`` — a customer texts ``text`` from ``from`` to an Sms queue's number ``to`` (default: the
  account's only Sms queue); ``GET /sim/sms/{id}`` — the SMS conversation both ways (the agent's replies are
  also in ``GET /_callyard/sms``).

The account is the caller token's; with ``--open-control`` pass ``?account=<id or number>``.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from callyard.api.common.errors import ERROR_RESPONSES
from callyard.api.control.routes import controller
from callyard.api.deps import CoreDep
from callyard.core.errors import Invalid
from callyard.core.principal import Principal

router = APIRouter(prefix="/_callyard/sim", tags=["simulator"], responses=ERROR_RESPONSES)


class ChatStart(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(min_length=1, max_length=200)
    email: str | None = None
    queue: str | None = None
    subject: str | None = None
    text: str | None = None


class ChatText(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str = Field(min_length=1)


class SmsIn(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: str = Field(alias="from", min_length=1)
    to: str | None = None
    text: str = Field(min_length=1)


def _account(core: Any, actor: Principal, request: Request) -> str:
    return str(core.engine.account_of(actor, request.query_params.get("account")))


def _queue(core: Any, account_id: str, media: str, ref: str | None) -> str:
    if ref:
        return ref
    queues = [q for q in core.contact_center.config.queues(account_id) if q["mediaType"] == media]
    if len(queues) != 1:
        raise Invalid("QueueRequired", f"name the {media} queue: the account has {len(queues)}")
    return str(queues[0]["id"])


@router.post("/chats", status_code=201, summary="A customer starts a web chat")
async def start_chat(body: ChatStart, request: Request, core: CoreDep,
                     actor: Principal = Depends(controller)) -> dict[str, Any]:
    account_id = _account(core, actor, request)
    chat = await core.cc_chat.start(account_id, _queue(core, account_id, "Chat", body.queue), body.name, body.email,
                                    body.text, body.subject)
    return core.cc_chat.transcript(account_id, chat["conversationId"])  # type: ignore[no-any-return]


@router.get("/chats/{conversationId}", summary="A web chat as its customer sees it")
async def chat(conversationId: str, request: Request, core: CoreDep,
               actor: Principal = Depends(controller)) -> dict[str, Any]:
    return core.cc_chat.transcript(_account(core, actor, request), conversationId)  # type: ignore[no-any-return]


@router.post("/chats/{conversationId}/messages", summary="The customer types a message")
async def say(conversationId: str, body: ChatText, request: Request, core: CoreDep,
              actor: Principal = Depends(controller)) -> dict[str, Any]:
    return await core.cc_chat.say(_account(core, actor, request), conversationId,  # type: ignore[no-any-return]
                                  body.text)


@router.post("/chats/{conversationId}/end", summary="The customer leaves the chat")
async def leave(conversationId: str, request: Request, core: CoreDep,
                actor: Principal = Depends(controller)) -> dict[str, Any]:
    return await core.cc_chat.leave(_account(core, actor, request), conversationId)  # type: ignore[no-any-return]


@router.post("/sms", status_code=201, summary="A customer texts the contact center")
async def sms_in(body: SmsIn, request: Request, core: CoreDep,
                 actor: Principal = Depends(controller)) -> dict[str, Any]:
    account_id = _account(core, actor, request)
    doc = await core.cc_sms.receive(account_id, body.from_, body.text, body.to)
    return core.cc_sms.transcript(account_id, doc["conversationId"])  # type: ignore[no-any-return]


@router.get("/sms/{conversationId}", summary="An SMS conversation with the contact center, both ways")
async def sms_conversation(conversationId: str, request: Request, core: CoreDep,
                           actor: Principal = Depends(controller)) -> dict[str, Any]:
    return core.cc_sms.transcript(_account(core, actor, request), conversationId)  # type: ignore[no-any-return]
