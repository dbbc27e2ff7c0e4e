"""Calls (seed 003, 4 operations): transfer of the user's (mobile) call in progress, blind or attended, with
its status and cancel; and the call-back call through an answer place (the seed's sourced example
``POST /api/calls/current/foo.com/alice/mobile/<cid>?role=PRIVATE``)."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Response

from callyard.api.deps import CoreDep
from callyard.api.uc.edge.auth import UcCaller
from callyard.api.uc.edge.errors import ERROR_RESPONSES
from callyard.api.uc.user_access import caller_any, flag
from callyard.api.uc.user_schemas import TransferStarted, TransferStatus, ValidationResultOk

router = APIRouter(prefix="/api/calls", tags=["Calls"], responses=ERROR_RESPONSES)
Caller = Annotated[UcCaller, Depends(caller_any("CALLS"))]


@router.get("/transfer/{domain}/{user}", response_model=TransferStatus, operation_id="getTransferStatus",
            summary="The status of an ongoing call transfer")
async def transfer_status(who: Caller, core: CoreDep) -> dict[str, Any]:
    return {"transferId": core.user_calls.status(who.principal, who.account_id, who.user["userId"])}


@router.post("/transfer/{domain}/{user}", response_model=TransferStarted, operation_id="transferMobileCall",
             summary="Transfer the user's call in progress to a number")
async def transfer(who: Caller, core: CoreDep,
                   transferType: Annotated[Literal["BLIND_TRANSFER", "ATTENDED_TRANSFER"], Query()],
                   destination: Annotated[str, Query(min_length=1)]) -> dict[str, Any]:
    started = await core.user_calls.transfer(who.principal, who.account_id, who.user["userId"], transferType,
                                             destination)
    return {"transferId": started}


@router.delete("/transfer/{domain}/{user}/{transferId}", status_code=204, response_class=Response,
               operation_id="cancelTransfer", summary="Cancel an ongoing attended transfer")
async def cancel_transfer(transferId: str, who: Caller, core: CoreDep) -> Response:
    await core.user_calls.cancel(who.principal, who.account_id, who.user["userId"], transferId)
    return Response(status_code=204)


@router.post("/current/{domain}/{user}/{aptype}/{cid}", response_model=ValidationResultOk,
             operation_id="callBack", summary="Set up a call-back call to a contact via an answer place")
async def call_back(aptype: str, cid: str, who: Caller, core: CoreDep,
                    role: Annotated[str | None, Query(description="PRIVATE, BUSINESS or a custom role")] = None,
                    bypass: Annotated[str | None, Query(description="'true' to bypass diversions")] = None,
                    intrude: Annotated[str | None, Query(description="'true' to intrude")] = None,
                    callback_via_gsm: Annotated[bool | None, Query(alias="callback-via-gsm")] = None
                    ) -> dict[str, Any]:
    placed = await core.user_calls.call_back(who.principal, who.account_id, who.user["userId"], aptype, cid,
                                             role=role, bypass=flag(bypass), intrude=flag(intrude))
    return {"field": [], "warning": [], "generated-id": str(placed["legId"])}
