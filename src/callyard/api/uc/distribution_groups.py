"""Distribution Group (seed 003, 9 operations): the user's ACD/Attendant groups and login state, logging in
and out of one (the contact center's agent state), the group call log (projected by the core from the queue
records) with its assignment, and the SSE stream of queue statistics for the user's groups
(``application/telepo-queue-statistics+xml`` documents, one per change, after a first full one).

``grpid-domain``/``groupDomain`` must be the user's own domain (federation is not simulated)."""
from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from callyard.api.common import sse
from callyard.api.deps import CoreDep, twin_of
from callyard.api.uc.acd import own_domain
from callyard.api.uc.edge.auth import UcCaller
from callyard.api.uc.edge.errors import ERROR_RESPONSES, not_found
from callyard.api.uc.queue_statistics import MEDIA_TYPE, queue_xml
from callyard.api.uc.user_access import caller_any, whole_number
from callyard.api.uc.user_schemas import Assignment, GroupCallLog, GroupCallLogItem, GroupSummaries
from callyard.events.event import Event

router = APIRouter(prefix="/api/distributiongroup/{domain}/{user}", tags=["Distribution Group"],
                   responses=ERROR_RESPONSES)
Caller = Annotated[UcCaller, Depends(caller_any("USER"))]
KEEP_ALIVE_SECONDS = 15.0


def _domain(core: Any, who: UcCaller, name: str, value: str | None) -> None:
    if value is not None and value.lower() != own_domain(core, who).lower():
        not_found(name, "group.does.not.exist", "the group's organisation is not the user's (federation is not "
                  "simulated)", value)


def _summaries(core: Any, who: UcCaller) -> dict[str, Any]:
    user_id = who.user["userId"]
    return {"group": [core.user_groups.summary(g, user_id)
                      for g in core.user_groups.list(who.principal, who.account_id, user_id)]}


def _log(core: Any, who: UcCaller, *, grpid: object = None, callerNumber: str | None = None,
         itemType: list[str] | None = None, since: str | None = None, olderThan: str | None = None,
         limit: str | None = None, assigned: bool = False) -> dict[str, Any]:
    return core.user_groups.call_log(who.principal, who.account_id, who.user["userId"], group_number=grpid,
                                     caller_number=callerNumber, item_types=itemType or (),
                                     since=whole_number("since", since),
                                     older_than=whole_number("olderThan", olderThan),
                                     limit=whole_number("limit", limit), assigned=assigned)


@router.get("", response_model=GroupSummaries, operation_id="getDistributionGroups",
            summary="The user's ACD/Attendant groups and login state")
async def groups(who: Caller, core: CoreDep) -> dict[str, Any]:
    return _summaries(core, who)


@router.get("/calllog", response_model=GroupCallLog, operation_id="getGroupsCallLog",
            summary="Call log items of every ACD/Attendant group of the user")
async def all_call_logs(who: Caller, core: CoreDep, callerNumber: str | None = None,
                        itemType: Annotated[list[str] | None, Query()] = None, since: str | None = None,
                        olderThan: str | None = None, limit: str | None = None) -> dict[str, Any]:
    return _log(core, who, callerNumber=callerNumber, itemType=itemType, since=since, olderThan=olderThan,
                limit=limit)


@router.get("/calllog/assigned", response_model=GroupCallLog, operation_id="getAssignedCallLog",
            summary="Group call log items assigned to the user")
async def assigned(who: Caller, core: CoreDep) -> dict[str, Any]:
    return _log(core, who, assigned=True)


@router.get("/queuestatistics/stream", response_class=StreamingResponse, operation_id="streamQueueStatistics",
            summary="SSE stream of queue statistics of the user's groups (telepo-queue-statistics+xml)",
            responses={200: {"content": {"text/event-stream": {}}, "description": "Queue statistics updates"}})
async def stream(request: Request, who: Caller, core: CoreDep) -> StreamingResponse:
    account_id, user_id = who.account_id, who.user["userId"]
    mine = core.user_groups.stream_groups(who.principal, account_id, user_id)
    changed: asyncio.Queue[str] = asyncio.Queue(maxsize=256)

    def change(event: Event) -> str | None:
        group_id = (event.data or {}).get("groupId")
        return group_id if event.account_id == account_id and group_id in mine else None

    changes = sse.after_commit(twin_of(request).core.projections, f"queue statistics stream {user_id}",
                               ("queue.updated",), change, changed)

    def document(group_ids: set[str]) -> str:
        stats = [core.user_groups.queue_stat(g) for g in core.user_groups.groups(account_id)
                 if g["groupId"] in group_ids]
        return sse.message(queue_xml(stats, core.rt.now_iso()), event=MEDIA_TYPE, split=sse.one_line)

    def respond(first: Any) -> str:
        if first is sse.START:
            return document(mine)
        batch = {first}   # and every change queued meanwhile: one document
        while not changed.empty():
            batch.add(changed.get_nowait())
        return document(batch)

    return sse.sse_response(changes, respond, keepalive=KEEP_ALIVE_SECONDS)


@router.put("/calllog/{itemid}", response_model=GroupCallLogItem, operation_id="assignGroupCallLogItem",
            summary="Assign a group call log item to the user")
async def assign(itemid: int, change: Assignment, who: Caller, core: CoreDep) -> dict[str, Any]:
    item: dict[str, Any] = await core.user_groups.assign(who.principal, who.account_id, who.user["userId"], itemid,
                                                         change.state, change.note)
    return item


@router.get("/{grpid}/calllog", response_model=GroupCallLog, operation_id="getGroupCallLog",
            summary="Call log items of one distribution group")
async def group_call_log(grpid: int, who: Caller, core: CoreDep, groupDomain: str | None = None,
                         callerNumber: str | None = None, itemType: Annotated[list[str] | None, Query()] = None,
                         since: str | None = None, olderThan: str | None = None,
                         limit: str | None = None) -> dict[str, Any]:
    _domain(core, who, "groupDomain", groupDomain)
    return _log(core, who, grpid=grpid, callerNumber=callerNumber, itemType=itemType, since=since,
                olderThan=olderThan, limit=limit)


@router.get("/{grpid}/calllog/assigned", response_model=GroupCallLog, operation_id="getGroupAssignedCallLog",
            summary="Call log items of one group assigned to the user")
async def group_assigned(grpid: int, who: Caller, core: CoreDep, groupDomain: str | None = None) -> dict[str, Any]:
    _domain(core, who, "groupDomain", groupDomain)
    return _log(core, who, grpid=grpid, assigned=True)


@router.put("/{grpid_domain}/{grpid}/login", response_model=GroupSummaries, operation_id="loginDistributionGroup",
            summary="Log the user in to a distribution group")
async def login(grpid_domain: str, grpid: int, who: Caller, core: CoreDep,
                ignoreStatistics: str | None = None) -> dict[str, Any]:
    _domain(core, who, "grpid-domain", grpid_domain)
    await core.user_groups.set_login(who.principal, who.account_id, who.user["userId"], grpid, True)
    return _summaries(core, who)


@router.put("/{grpid_domain}/{grpid}/logout", response_model=GroupSummaries, operation_id="logoutDistributionGroup",
            summary="Log the user out of a distribution group")
async def logout(grpid_domain: str, grpid: int, who: Caller, core: CoreDep,
                 ignoreStatistics: str | None = None) -> dict[str, Any]:
    _domain(core, who, "grpid-domain", grpid_domain)
    await core.user_groups.set_login(who.principal, who.account_id, who.user["userId"], grpid, False)
    return _summaries(core, who)
