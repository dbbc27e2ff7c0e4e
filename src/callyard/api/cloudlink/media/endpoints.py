"""Media API: endpoints and their active calls (swagger tag Endpoint).

``PUT /endpoints/{endpointId}/calls/{callId}`` takes every action of ``updateEndpointCallRequest`` plus the
tutorial's ``redirect``; the argument may come as ``args`` or, as the swagger's own examples and the
tutorial write it, as ``destination`` (transfers, consult, redirect) or ``callId`` (supervisedTransfer).
"""
from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from callyard.api.cloudlink.media.wire import call_wire, endpoint_wire
from callyard.api.cloudlink.edge.odata import collection
from callyard.api.common.errors import ERROR_RESPONSES
from callyard.api.common.security import principal
from callyard.api.deps import EngineDep
from callyard.core.engine.service import Engine
from callyard.core.errors import Invalid
from callyard.core.principal import Principal
from callyard.api.cloudlink.edge import BASE_PATH
from callyard.api.cloudlink.edge.hosts import arrived_path
from callyard.api.hot import Decline, HotRequest, HotRoute

router = APIRouter(tags=["media"], responses=ERROR_RESPONSES)

CALL_ACTIONS = ("answer", "end", "hold", "blindTransfer", "supervisedTransfer", "retrieve", "consult", "dtmf",
                "conference", "pauseRecording", "resumeRecording", "tagRecording", "redirect")


class UpdateEndpointRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal["dnd", "messageWaiting", "pstnRouting"]
    userAvailability: Literal["available", "busy", "dnd", "away"]
    enabled: bool = False
    timeoutMs: float = Field(default=6000, ge=3000, le=30000)


class CreateCallRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: str = Field(min_length=1)
    from_: str | None = Field(default=None, alias="from")
    fromName: str | None = None
    record: bool = False
    timeoutMs: float = Field(default=6000, ge=3000, le=30000)
    originateTimeout: float | None = Field(default=None, ge=0, le=120)
    successUrl: str | None = None
    failureUrl: str | None = None
    associatedCallId: str | None = None
    executeOnAnswer: Literal["bridge"] | None = None


class UpdateCallRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    action: Literal[CALL_ACTIONS]  # type: ignore[valid-type]
    args: str | None = None
    destination: str | None = None
    callId: str | None = None


def _tags(args: str | None) -> dict[str, Any] | None:
    """``tagRecording`` args: a JSON object (anything else is None, which the engine rejects)."""
    try:
        tags = json.loads(args) if args is not None else None
    except ValueError:
        return None
    return tags if isinstance(tags, dict) else None


# The swagger's call actions → the engine's verbs: (engine, actor, endpointId, callId, args) → the leg.
CallVerb = Callable[[Engine, Principal, str, str, str | None], Awaitable[dict[str, Any]]]
CALL_VERBS: dict[str, CallVerb] = {
    "answer": lambda e, actor, ep, leg, args: e.answer(actor, ep, leg),
    "end": lambda e, actor, ep, leg, args: e.end(actor, ep, leg),
    "hold": lambda e, actor, ep, leg, args: e.hold(actor, ep, leg),
    "retrieve": lambda e, actor, ep, leg, args: e.retrieve(actor, ep, leg),
    "redirect": lambda e, actor, ep, leg, args: e.redirect(actor, ep, leg, args or ""),
    "blindTransfer": lambda e, actor, ep, leg, args: e.blind_transfer(actor, ep, leg, args or ""),
    "consult": lambda e, actor, ep, leg, args: e.consult(actor, ep, leg, args or ""),
    "supervisedTransfer": lambda e, actor, ep, leg, args: e.supervised_transfer(actor, ep, leg, args),
    "conference": lambda e, actor, ep, leg, args: e.conference(actor, ep, leg, args),
    "dtmf": lambda e, actor, ep, leg, args: e.send_dtmf(actor, ep, leg, args or ""),
    "pauseRecording": lambda e, actor, ep, leg, args: e.pause_recording(actor, ep, leg),
    "resumeRecording": lambda e, actor, ep, leg, args: e.resume_recording(actor, ep, leg),
    "tagRecording": lambda e, actor, ep, leg, args: e.tag_recording(actor, ep, leg, _tags(args)),
}


def _argument(action: str, field: str, named: str | None, args: str | None, call_id: str) -> str | None:
    """The action's argument, from the swagger's ``args`` or from the named field its examples use
    (``destination``, ``callId``). Named wins: Mitel's media sample sends ``{"action": "blindTransfer", "args":
    "<the call's own id>", "destination": "2882"}``, so ``args`` equal to the call in the path is not read as a
    destination. Two different values are a 400, never a call to whichever one was guessed."""
    if named is None:
        return args
    if args is not None and args not in (named, call_id):
        raise Invalid("InvalidArgs", f"action {action}: args {args!r} and {field} {named!r} disagree; "
                                     f"send one of them")
    return named


@router.get("/endpoints/{endpointId}", summary="Get an Endpoint State")
async def get_endpoint(endpointId: str, request: Request, engine: EngineDep,
                       actor: Principal = Depends(principal)) -> dict[str, Any]:
    return endpoint_wire(engine.get_endpoint(actor, endpointId))


@router.put("/endpoints/{endpointId}", summary="Change an Endpoint State")
async def update_endpoint(endpointId: str, body: UpdateEndpointRequest, request: Request, engine: EngineDep,
                          actor: Principal = Depends(principal)) -> dict[str, Any]:
    view = await engine.update_endpoint(actor, endpointId, body.action, body.userAvailability, body.enabled)
    return endpoint_wire(view)


@router.get("/endpoints/{endpointId}/calls", summary="List Active Calls")
async def list_calls(endpointId: str, request: Request, engine: EngineDep,
                     actor: Principal = Depends(principal)) -> dict[str, Any]:
    items = [call_wire(leg) for leg in engine.list_calls(actor, endpointId)]
    return collection(items, dict(request.query_params), arrived_path(request.scope))


@router.post("/endpoints/{endpointId}/calls", summary="Make a Call")
async def make_call(endpointId: str, body: CreateCallRequest, request: Request, engine: EngineDep,
                    actor: Principal = Depends(principal)) -> dict[str, Any]:
    leg = await engine.originate(
        actor, endpointId, body.to, from_number=body.from_, from_name=body.fromName,
        timeout=body.originateTimeout, record=body.record, associated_leg=body.associatedCallId,
        bridge_on_answer=body.executeOnAnswer == "bridge", success_url=body.successUrl,
        failure_url=body.failureUrl or body.successUrl)
    return call_wire(leg)


@router.get("/endpoints/{endpointId}/calls/{callId}", summary="Get an Active Call State")
async def get_call(endpointId: str, callId: str, request: Request, engine: EngineDep,
                   actor: Principal = Depends(principal)) -> dict[str, Any]:
    return call_wire(engine.get_call(actor, endpointId, callId))


@router.put("/endpoints/{endpointId}/calls/{callId}", summary="Change an Active Call State")
async def update_call(endpointId: str, callId: str, body: UpdateCallRequest, request: Request, engine: EngineDep,
                      actor: Principal = Depends(principal)) -> dict[str, Any]:
    return await _update_call(engine, actor, endpointId, callId, body.action, body.args, body.destination,
                              body.callId)


async def _update_call(engine: Engine, actor: Principal, endpointId: str, callId: str, action: str,
                       args: str | None, destination: str | None, named_call: str | None) -> dict[str, Any]:
    if action in ("supervisedTransfer", "conference"):
        args = _argument(action, "callId", named_call, args, callId)
    elif action in ("blindTransfer", "consult", "redirect"):
        args = _argument(action, "destination", destination, args, callId)
    if action in ("blindTransfer", "consult", "redirect", "dtmf", "tagRecording") and args is None:
        raise Invalid("InvalidArgs", f"action {action} needs args"
                      + (" (or destination)" if action in ("blindTransfer", "consult", "redirect") else ""))
    verb = CALL_VERBS.get(action)
    if verb is None:
        raise Invalid("InvalidAction", f"unknown action {action!r}")
    return call_wire(await verb(engine, actor, endpointId, callId, args))


# ---------------------------------------------------------------------------- hot (callyard.api.hot)
_UPDATE_FIELDS = frozenset(UpdateCallRequest.model_fields)


async def hot_get_call(request: HotRequest) -> dict[str, Any]:
    engine = request.twin.core.engine
    return call_wire(engine.get_call(request.principal(), request.params["endpointId"], request.params["callId"]))


async def hot_update_call(request: HotRequest) -> dict[str, Any]:
    """``update_call`` with the body checked by hand: what ``UpdateCallRequest`` would refuse is declined."""
    body = request.json_object()
    action = body.get("action")
    if action not in CALL_ACTIONS or not _UPDATE_FIELDS.issuperset(body):
        raise Decline()
    fields = [body.get("args"), body.get("destination"), body.get("callId")]
    if not all(value is None or type(value) is str for value in fields):
        raise Decline()
    actor = request.principal()
    return await _update_call(request.twin.core.engine, actor, request.params["endpointId"],
                              request.params["callId"], action, *fields)


HOT_ROUTES = (HotRoute("GET", f"{BASE_PATH}/endpoints/{{endpointId}}/calls/{{callId}}", hot_get_call),
              HotRoute("PUT", f"{BASE_PATH}/endpoints/{{endpointId}}/calls/{{callId}}", hot_update_call))
