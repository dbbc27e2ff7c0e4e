"""``/_callyard/sim``: the people at the phones and the outside world.

* ``POST /sim/calls`` — an outside caller dials a number of the account (extension, group, DID).
* ``POST /sim/endpoints/{id}/{answer|hangup|hold|retrieve|busy}`` and ``…/dtmf`` — what a phone's user
  does; the call acted on is the obvious one (the ringing call to answer, the talking one to hang up) or
  the ``callId`` given.
* ``PUT /sim/endpoints/{id}`` — diversions, call waiting, DND, out of service and the behaviour profile.
* ``POST /sim/agents/{userId}`` — contact-center agent login/ready/skills; ``GET /sim/queues`` statistics.

The account is the caller token's; with ``--open-control`` (no token) pass ``?account=<id or number>``.
"""
from __future__ import annotations

import json
from typing import Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from callyard.api.common.errors import ERROR_RESPONSES
from callyard.api.control.edge import items_page, read_json
from callyard.api.control.routes import controller, is_operator
from callyard.api.common.security import token_from_header
from callyard.api.deps import ContactCenterDep, EngineDep
from callyard.api.family import header
from callyard.api.hot import Decline, HotRequest, HotRoute
from callyard.core.errors import Invalid
from callyard.core.principal import SYSTEM, Principal
from callyard.sim.profiles import validate_profile

router = APIRouter(prefix="/_callyard/sim", tags=["simulator"], responses=ERROR_RESPONSES)
# What the phone's user does → the engine verb. Which call it acts on is the engine's rule (target_leg).
PHONE_ACTIONS = ("answer", "hangup", "hold", "retrieve", "busy")


class SimCall(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)
    from_: str = Field(alias="from", min_length=1)
    to: str = Field(min_length=1)
    fromName: str = ""
    priority: int = Field(default=0, ge=0, le=100)
    skill: str | None = None


class PhoneAction(BaseModel):
    model_config = ConfigDict(extra="forbid")
    callId: str | None = None
    device: str | None = None


class Digits(BaseModel):
    model_config = ConfigDict(extra="forbid")
    digits: str
    callId: str | None = None


class AgentChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    loggedIn: bool | None = None
    ready: bool | None = None
    reason: str | None = None
    skills: dict[str, int] | None = None
    presence: dict[str, bool] | None = None


def _account(request: Request) -> str | None:
    return request.query_params.get("account")


@router.post("/calls", status_code=201, summary="An outside caller dials a number of the account")
async def sim_call(body: SimCall, request: Request, engine: EngineDep,
                   actor: Principal = Depends(controller)) -> dict[str, Any]:
    leg = await engine.inbound(actor, body.from_, body.to, from_name=body.fromName,
                                         account_ref=_account(request), priority=body.priority, skill=body.skill)
    return {"callId": leg["callId"], "caller": leg}


@router.get("/calls", summary="Live calls of the account, with their legs")
async def live_calls(request: Request, engine: EngineDep, actor: Principal = Depends(controller)) -> dict[str, Any]:
    account_id = engine.account_of(actor, _account(request)) if actor.account_id != "*" or _account(request) else None
    items = engine.live_calls(account_id)
    return items_page(items)


@router.get("/endpoints/{endpointId}", summary="An endpoint as the simulator sees it")
async def sim_endpoint(endpointId: str, request: Request, engine: EngineDep,
                       actor: Principal = Depends(controller)) -> dict[str, Any]:
    endpoint = engine.sim_endpoint(actor, endpointId, _account(request))
    return {**engine.endpoint_view(endpoint), "calls": [engine.snapshot(leg) for leg in endpoint.legs]}


@router.put("/endpoints/{endpointId}", summary="Endpoint settings and the simulated person's profile")
async def configure(endpointId: str, request: Request, engine: EngineDep,
                    actor: Principal = Depends(controller)) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise Invalid("InvalidBody", "the body is an object of settings and an optional profile")
    settings = {k: v for k, v in body.items() if k != "profile"}
    profile = validate_profile(body["profile"]) if "profile" in body else ...
    return await engine.configure_endpoint(actor, endpointId, settings, profile,
                                                     account_ref=_account(request), sim=True)


@router.post("/endpoints/{endpointId}/dtmf", summary="The phone's user presses keys")
async def press(endpointId: str, body: Digits, request: Request, engine: EngineDep,
                actor: Principal = Depends(controller)) -> dict[str, Any]:
    endpoint = engine.sim_endpoint(actor, endpointId, _account(request))
    leg_id = engine.target_leg(endpoint, "hold", body.callId or None)  # keys go to the call being talked on
    return await engine.send_dtmf(actor, endpointId, leg_id, body.digits, sim=True, account_ref=_account(request))


@router.post("/endpoints/{endpointId}/{action}", summary="The phone's user answers, hangs up, holds, retrieves "
             "or rejects (busy)")
async def phone(endpointId: str, action: str, request: Request, engine: EngineDep,
                actor: Principal = Depends(controller)) -> dict[str, Any]:
    if action not in PHONE_ACTIONS:
        raise Invalid("InvalidAction", f"action is one of {', '.join(PHONE_ACTIONS)} or dtmf")
    raw = await request.body()
    try:
        body = PhoneAction.model_validate_json(raw) if raw.strip() else PhoneAction()
    except ValidationError as exc:   # the family's validation envelope, as for a declared body
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False)],
                                     body=raw) from None
    endpoint = engine.sim_endpoint(actor, endpointId, _account(request))
    leg_id = engine.target_leg(endpoint, action, body.callId)
    account_ref = _account(request)
    if action == "answer":
        return await engine.answer(actor, endpointId, leg_id, terminal=body.device, sim=True, account_ref=account_ref)
    if action == "hold":
        return await engine.hold(actor, endpointId, leg_id, sim=True, account_ref=account_ref)
    if action == "retrieve":
        return await engine.retrieve(actor, endpointId, leg_id, sim=True, account_ref=account_ref)
    return await engine.end(actor, endpointId, leg_id, sim=True, account_ref=account_ref)  # hangup, busy


@router.post("/agents/{userId}", summary="Contact-center agent login/logout, ready/not ready, skills")
async def agent(userId: str, body: AgentChange, request: Request, contact_center: ContactCenterDep,
                actor: Principal = Depends(controller)) -> dict[str, Any]:
    return await contact_center.set_agent(actor, userId, logged_in=body.loggedIn, ready=body.ready,
                                                reason=body.reason, skills=body.skills, presence=body.presence,
                                                account_ref=_account(request))


@router.get("/agents/{userId}", summary="A contact-center agent's state (logged in, ready, reason, skills, queues)")
async def agent_state(userId: str, request: Request, contact_center: ContactCenterDep,
                      actor: Principal = Depends(controller)) -> dict[str, Any]:
    return contact_center.agent_state(actor, userId, account_ref=_account(request))


@router.get("/queues", summary="Queue statistics of the account")
async def queues(request: Request, contact_center: ContactCenterDep,
                 actor: Principal = Depends(controller)) -> dict[str, Any]:
    items = contact_center.queue_stats(actor, _account(request))
    return items_page(items)


# ---------------------------------------------------------------------------- hot (callyard.api.hot)
# A load test's new calls go through these three: an outside call, answer, hang up. Served hot when the request
# is plainly well formed; anything else (other query parameters, bodies pydantic would coerce or refuse)
# declines to the routes above, which answer it as always.
_SIM_CALL_FIELDS = frozenset(("from", "to", "fromName", "priority", "skill"))
_PHONE_FIELDS = frozenset(("callId", "device"))


def _hot_account(request: HotRequest) -> str | None:
    """``?account=`` alone (or no query): anything else declines."""
    query = request.query()
    if not query:
        return None
    pairs = parse_qsl(query, keep_blank_values=True)
    if len(pairs) != 1 or pairs[0][0] != "account":
        raise Decline()
    return pairs[0][1]


def _hot_controller(request: HotRequest) -> Principal:
    """``routes.controller`` for a hot request."""
    twin = request.twin
    if is_operator(twin.settings, token_from_header(header(request.scope, b"authorization"))):
        return SYSTEM
    actor = request.principal()
    twin.core.directory.access.require_role(actor, "ACCOUNT_ADMIN")
    return actor


async def hot_sim_call(request: HotRequest) -> dict[str, Any]:
    body = request.json_object()
    if not _SIM_CALL_FIELDS.issuperset(body):
        raise Decline()
    caller, to, name = body.get("from"), body.get("to"), body.get("fromName", "")
    priority, skill = body.get("priority", 0), body.get("skill")
    if not (type(caller) is str and caller and type(to) is str and to and type(name) is str
            and type(priority) is int and 0 <= priority <= 100 and (skill is None or type(skill) is str)):
        raise Decline()
    account = _hot_account(request)
    actor = _hot_controller(request)
    leg = await request.twin.core.engine.inbound(actor, caller, to, from_name=name, account_ref=account,
                                                 priority=priority, skill=skill)
    return {"callId": leg["callId"], "caller": leg}


async def hot_phone(request: HotRequest) -> dict[str, Any]:
    action = request.params["action"]
    if action not in ("answer", "hangup"):
        raise Decline()
    fields: dict[str, Any] = {}
    if request.body.strip():
        try:
            fields = json.loads(request.body)
        except ValueError:
            raise Decline() from None
        if not isinstance(fields, dict) or not _PHONE_FIELDS.issuperset(fields) or not all(
                value is None or type(value) is str for value in fields.values()):
            raise Decline()
    account = _hot_account(request)
    actor = _hot_controller(request)
    engine, endpoint_id = request.twin.core.engine, request.params["endpointId"]
    endpoint = engine.sim_endpoint(actor, endpoint_id, account)
    leg_id = engine.target_leg(endpoint, action, fields.get("callId"))
    if action == "answer":
        return await engine.answer(actor, endpoint_id, leg_id, terminal=fields.get("device"), sim=True,
                                   account_ref=account)
    return await engine.end(actor, endpoint_id, leg_id, sim=True, account_ref=account)


HOT_ROUTES = (HotRoute("POST", "/_callyard/sim/calls", hot_sim_call, status=201),
              HotRoute("POST", "/_callyard/sim/endpoints/{endpointId}/{action}", hot_phone))
