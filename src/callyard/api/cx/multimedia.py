"""The other media's interactions beyond open media: Chat's CloudLink transcript operations (3), the SMS queues
usable as the From of a text (1), Cases (2) and History (2). The personal reply-template operations of the
Chat and Sms tags are elsewhere (templates)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from callyard.api.cx import schemas, wire
from callyard.api.cx.common import Caller, MediaDeskDep, page
from callyard.api.cx.edge import collection, offset_of
from callyard.core.errors import Invalid

chat = APIRouter(tags=["Chat"], responses=schemas.ERRORS)
sms = APIRouter(tags=["Sms"], responses=schemas.ERRORS)
cases = APIRouter(tags=["Cases"], responses=schemas.ERRORS)
history = APIRouter(tags=["History"], responses=schemas.ERRORS)


def _flag(request: Request, name: str) -> bool:
    raw = request.query_params.get(name, "false").lower()
    if raw not in ("true", "false"):
        raise Invalid("InvalidRequest", f"{name} is true or false")
    return raw == "true"


def _site(request: Request) -> None:
    """``siteId`` (site-based security) is accepted; the twin's account has one site."""
    raw = request.query_params.get("siteId")
    if raw is not None and not raw.strip():
        raise Invalid("InvalidRequest", "siteId is a site's id")


# ---------------------------------------------------------------------- Chat (CloudLink chats)
@chat.get("/chat/cloudlink/{interactionId}/transcript/ready", responses=schemas.ok(bool),
          summary="Peek if Cloudlink chat transcript is ready interaction Id")
async def transcript_ready(interactionId: str, caller: Caller, media: MediaDeskDep) -> Any:
    return media.chat_transcript_ready(caller, interactionId)


@chat.get("/chat/cloudlink/{interactionId}/tags/{tagId}", responses=schemas.ok(bool),
          summary="Get Cloudlink chat tag interaction Id interaction Id")
async def chat_tag(interactionId: str, tagId: str, caller: Caller, media: MediaDeskDep) -> Any:
    return media.chat_tagged(caller, interactionId, tagId)


@chat.get("/chat/cloudlink/{interactionId}/transcript/{employeeId}", responses=schemas.ok(schemas.TranscriptModel),
          summary="Get Cloudlink chat transcript interaction Id employee Id")
async def transcript(interactionId: str, employeeId: str, caller: Caller, media: MediaDeskDep) -> Any:
    return {"body": media.chat_transcript(caller, interactionId, employeeId)}


# ---------------------------------------------------------------------- Sms
@sms.get("/sms/queues", responses=schemas.ok(schemas.collection(schemas.QueueModel)),
         summary="Get sms queues that can be used for setting the from field")
async def sms_queues(request: Request, caller: Caller, media: MediaDeskDep) -> Any:
    return page(request, [wire.queue(q) for q in media.sms_queues(caller)])


# ---------------------------------------------------------------------- Cases
@cases.get("/cases", responses=schemas.ok(schemas.collection(schemas.CaseModel)), summary="OData Get all cases.")
async def all_cases(request: Request, caller: Caller, media: MediaDeskDep) -> Any:
    _site(request)
    offset = offset_of(request)
    return page(request, [wire.case(c, offset) for c in media.cases(caller, _flag(request, "global"))])


@cases.get("/cases/{id}/{monthYearCreated}", responses=schemas.ok(schemas.CaseModel), summary="Get a single case.")
async def one_case(id: str, monthYearCreated: str, request: Request, caller: Caller, media: MediaDeskDep) -> Any:
    return wire.case(media.case(caller, id, monthYearCreated), offset_of(request))


# ---------------------------------------------------------------------- History
@history.get("/history", responses=schemas.ok(schemas.collection(schemas.ConversationModel)),
             summary="OData Get indexed interactions (historical or active). The \"$search\" option is mandatory "
                     "in the request string.")
async def indexed(request: Request, caller: Caller, media: MediaDeskDep) -> Any:
    _site(request)
    search = request.query_params.get("$search")
    if search is None or not search.strip().strip("'\""):
        raise Invalid("SearchRequired", "$search is mandatory, e.g. $search='_exists_:lastagentid;media:Voice'")
    offset = offset_of(request)
    found = media.history(caller, search.strip().strip("'\""), _flag(request, "global"))
    params = {k: v for k, v in request.query_params.items() if k != "$search"}
    return collection([wire.conversation(d, offset) for d in found], params, request.url.path)


@history.get("/history/count", responses=schemas.ok(int), summary="History_GetHistoryCount")
async def count(request: Request, caller: Caller, media: MediaDeskDep) -> Any:
    _site(request)
    return len(media.history(caller, None, _flag(request, "global")))


ROUTERS = (chat, sms, cases, history)
