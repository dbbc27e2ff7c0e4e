"""User Line (seed 003, 3 operations): the caller-id lines a user may use (their own, anonymous, the ACD and
hunt groups they belong to) and the active one, which the engine presents on the user's outgoing calls."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends

from callyard.api.deps import CoreDep
from callyard.api.uc.edge.auth import UcCaller
from callyard.api.uc.edge.errors import ERROR_RESPONSES
from callyard.api.uc.user_access import caller_any
from callyard.api.uc.user_schemas import ActiveLine, ActiveLineChange, UserLines, ValidationResultOk

router = APIRouter(prefix="/api/userline/{domain}/{user}", tags=["User Line"], responses=ERROR_RESPONSES)
Caller = Annotated[UcCaller, Depends(caller_any("USER", "CALL_CONTROL"))]
OK: dict[str, Any] = {"field": [], "warning": [], "generated-id": ""}


@router.get("", response_model=UserLines, operation_id="getUserLines", summary="All lines the user can use")
async def lines(who: Caller, core: CoreDep) -> dict[str, Any]:
    return {"line": core.devices.user_lines(who.principal, who.account_id, who.user["userId"])}


@router.get("/active", response_model=ActiveLine, operation_id="getActiveLine",
            summary="The user's current active caller id")
async def active(who: Caller, core: CoreDep) -> dict[str, Any]:
    line = core.devices.active_line(who.principal, who.account_id, who.user["userId"])
    return {"number": line["number"], "type": line["type"], "name": line["name"], "groupId": line["groupId"]}


@router.put("/active", response_model=ValidationResultOk, operation_id="setActiveLine",
            summary="Change the user's active caller id")
async def set_active(change: ActiveLineChange, who: Caller, core: CoreDep) -> dict[str, Any]:
    await core.devices.set_active_line(who.principal, who.account_id, who.user["userId"], change.type,
                                       change.groupId)
    return OK
