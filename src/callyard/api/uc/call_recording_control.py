"""Call Recording Control (seed 003, 2 operations, deprecated since 5.1): the user's recorded calls and
SAVE/DISCARD/PAUSE/RESUME on one (``core/devices/recording_control.py``)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from callyard.api.deps import CoreDep
from callyard.api.uc.edge.auth import UcCaller
from callyard.api.uc.edge.errors import ERROR_RESPONSES
from callyard.api.uc.user_access import caller_any
from callyard.api.uc.user_schemas import RecordingState, ValidationResultOk

router = APIRouter(prefix="/api/callrecording/{domain}/{user}", tags=["Call Recording Control"],
                   responses=ERROR_RESPONSES)
Caller = Annotated[UcCaller, Depends(caller_any("CALL_CONTROL", "CALLS"))]


@router.get("", response_model=list[RecordingState], operation_id="getRecordedCalls", deprecated=True,
            summary="The user's calls being recorded (deprecated since 5.1)")
async def recorded_calls(who: Caller, core: CoreDep) -> list[dict[str, Any]]:
    return core.recording_control.list(who.principal, who.account_id, who.user["userId"])


@router.put("/{id}", response_model=ValidationResultOk, operation_id="controlRecording", deprecated=True,
            summary="SAVE, DISCARD, PAUSE or RESUME a recording listed with that action (deprecated since 5.1)")
async def control(id: str, who: Caller, core: CoreDep,
                  action: Annotated[str | None, Query(description="SAVE | DISCARD | PAUSE | RESUME")] = None
                  ) -> dict[str, Any]:
    await core.recording_control.act(who.principal, who.account_id, who.user["userId"], id, action)
    return {"field": [], "warning": [], "generated-id": ""}
