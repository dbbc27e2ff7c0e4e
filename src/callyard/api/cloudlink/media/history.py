"""Media API: call history (swagger tag Call History)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from callyard.api.cloudlink.media.wire import record_wire
from callyard.api.cloudlink.edge.odata import collection, matches, parse_filter
from callyard.api.common.errors import ERROR_RESPONSES
from callyard.api.common.security import principal
from callyard.api.deps import HistoryDep
from callyard.core.principal import Principal
from callyard.api.cloudlink.edge.hosts import arrived_path

router = APIRouter(tags=["media"], responses=ERROR_RESPONSES)


class CallRecordPutRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    hide: bool = True


@router.get("/calls/records", summary="Get call records")
async def list_records(request: Request, history: HistoryDep, actor: Principal = Depends(principal)) -> dict[str, Any]:
    items = [record_wire(r) for r in history.list(actor)]
    return collection(items, dict(request.query_params), arrived_path(request.scope))


@router.put("/calls/records", summary="Update call history records")
async def hide_records(body: CallRecordPutRequest, request: Request, history: HistoryDep,
                       actor: Principal = Depends(principal)) -> dict[str, Any]:
    records = history.list(actor, include_hidden=True)
    expression = request.query_params.get("$filter", "").strip()
    if expression:
        tree = parse_filter(expression)
        records = [r for r in records if matches(tree, record_wire(r))]
    changed = await history.hide(actor, [r["recordId"] for r in records], body.hide)
    return {"hide": body.hide, "matched": len(records), "updated": changed}


@router.get("/calls/{callId}/records", summary="Get a call record")
async def get_record(callId: str, request: Request, history: HistoryDep,
                     actor: Principal = Depends(principal)) -> dict[str, Any]:
    items = [record_wire(r) for r in history.of_call(actor, callId)]
    return collection(items, dict(request.query_params), arrived_path(request.scope))


@router.put("/calls/{callId}/records", summary="Update a call record")
async def hide_record(callId: str, body: CallRecordPutRequest, request: Request, history: HistoryDep,
                      actor: Principal = Depends(principal)) -> dict[str, Any]:
    records = history.of_call(actor, callId)
    changed = await history.hide(actor, [r["recordId"] for r in records], body.hide)
    return {"callId": callId, "hide": body.hide, "matched": len(records), "updated": changed}
