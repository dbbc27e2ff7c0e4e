"""Line State (seed 003, 4 operations): an outside system marks a user busy until ``expiresOn`` under its own
``externalId``; while marked the user's extension is busy for calls and queue offers."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response

from callyard.api.deps import CoreDep
from callyard.api.uc.edge.auth import UcCaller
from callyard.api.uc.edge.errors import ERROR_RESPONSES
from callyard.api.uc.user_access import caller_any
from callyard.api.uc.user_schemas import LineStateBody

router = APIRouter(prefix="/api/linestate/{domain}/{userId}/{externalId}", tags=["Line State"],
                   responses=ERROR_RESPONSES)
Caller = Annotated[UcCaller, Depends(caller_any("CALLS", "USER", user="userId"))]


def _wire(state: dict[str, Any]) -> dict[str, Any]:
    return {"expiresOn": state["expiresOn"]}


@router.get("", response_model=LineStateBody, operation_id="getLineState", summary="A line state of the user")
async def get_line_state(externalId: str, who: Caller, core: CoreDep) -> dict[str, Any]:
    return _wire(core.devices.line_state(who.principal, who.account_id, who.user["userId"], externalId))


async def _put(externalId: str, body: LineStateBody, who: UcCaller, core: Any, response: Response) -> dict[str, Any]:
    state, created = await core.devices.put_line_state(who.principal, who.account_id, who.user["userId"],
                                                       externalId, body.expiresOn)
    response.status_code = 201 if created else 200
    return _wire(state)


@router.put("", response_model=LineStateBody, operation_id="updateLineState",
            responses={201: {"model": LineStateBody, "description": "Created"}},
            summary="Update a line state (created when absent)")
async def put_line_state(externalId: str, body: LineStateBody, who: Caller, core: CoreDep,
                         response: Response) -> dict[str, Any]:
    return await _put(externalId, body, who, core, response)


@router.post("", response_model=LineStateBody, operation_id="createLineState",
             responses={201: {"model": LineStateBody, "description": "Created"}},
             summary="Create a line state (updated when it exists)")
async def post_line_state(externalId: str, body: LineStateBody, who: Caller, core: CoreDep,
                          response: Response) -> dict[str, Any]:
    return await _put(externalId, body, who, core, response)


@router.delete("", status_code=204, response_class=Response, operation_id="deleteLineState",
               summary="Remove a line state (agent rest time is not applied)")
async def delete_line_state(externalId: str, who: Caller, core: CoreDep) -> Response:
    await core.devices.delete_line_state(who.principal, who.account_id, who.user["userId"], externalId)
    return Response(status_code=204)
