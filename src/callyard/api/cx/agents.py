"""Agents (10 operations): agents (one per employee and media), their states, agent groups, members and
states per group, licence counters and the integrated softphone."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from callyard.api.cx import schemas, wire
from callyard.api.cx.common import Caller, DeskDep, expanded, page
from callyard.api.cx.edge import offset_of

router = APIRouter(tags=["Agents"], responses=schemas.ERRORS)


@router.get("/agents", responses=schemas.ok(schemas.collection(schemas.AgentModel)), summary="OData Get all agents")
async def agents(request: Request, caller: Caller, desk: DeskDep) -> Any:
    wanted = expanded(request, EXPANDABLE)
    return page(request, [_agent(desk, caller, a, wanted) for a in desk.agents(caller)], EXPANDABLE)


EXPANDABLE = ("state", "employee")


def _agent(desk: Any, caller: Any, item: dict[str, Any], wanted: list[str]) -> dict[str, Any]:
    """An agent with its state and/or employee embedded (``$expand``)."""
    embedded: dict[str, Any] = {}
    if "state" in wanted:
        embedded["state"] = wire.agent_state(desk.states.agent_view(item["employee"], item["mediaType"]))
    if "employee" in wanted:
        employee = item["employee"]
        embedded["employee"] = wire.employee(employee, desk.rt.state.get("user", employee["userId"]))
    return {**wire.agent(item), "_embedded": embedded}


@router.get("/agents/states", responses=schemas.ok(schemas.collection(schemas.AgentStateModel)),
            summary="OData Get agent states")
async def agent_states(request: Request, caller: Caller, desk: DeskDep) -> Any:
    offset = offset_of(request)
    return page(request, [wire.agent_state(s, offset) for s in desk.agent_states(caller)])


@router.get("/agents/licenses", responses=schemas.ok(schemas.LicenseInfo),
            summary="Get concurrent agent logins and license information")
async def licenses(caller: Caller, desk: DeskDep) -> Any:
    return wire.licenses(desk.licenses(caller))


@router.get("/agents/{id}", responses=schemas.ok(schemas.AgentModel), summary="Get an agent")
async def agent(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    return _agent(desk, caller, desk.agent(caller, id), expanded(request, EXPANDABLE))


@router.get("/agents/{id}/state", responses=schemas.ok(schemas.AgentStateModel),
            summary="OData Get the state of an agent")
async def agent_state(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    return wire.agent_state(desk.agent_state(caller, id), offset_of(request))


@router.get("/agents/{id}/softphone", responses=schemas.ok(schemas.IntegratedSoftphoneInfo),
            summary="Get the Integrated Softphone information of an agent")
async def softphone(id: str, caller: Caller, desk: DeskDep) -> Any:
    return wire.softphone(desk.agent(caller, id))


@router.get("/agentgroups", responses=schemas.ok(schemas.collection(schemas.AgentGroupModel)),
            summary="Agent_GetAgentGroups")
async def agent_groups(request: Request, caller: Caller, desk: DeskDep) -> Any:
    return page(request, [wire.agent_group(g) for g in desk.agent_groups(caller)])


@router.get("/agentgroups/{id}", responses=schemas.ok(schemas.AgentGroupModel), summary="OData Get an agent group")
async def agent_group(id: str, caller: Caller, desk: DeskDep) -> Any:
    return wire.agent_group(desk.agent_group(caller, id))


@router.get("/agentgroups/{id}/states", responses=schemas.ok(schemas.collection(schemas.AgentStateModel)),
            summary="Get all agent states for an agent group")
async def agent_group_states(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    offset = offset_of(request)
    return page(request, [wire.agent_state(s, offset) for s in desk.agent_group_states(caller, id)])


@router.get("/agentgroups/{id}/members", responses=schemas.ok(schemas.collection(schemas.AgentModel)),
            summary="Get all agents members of an agent group")
async def agent_group_members(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    return page(request, [wire.agent(a) for a in desk.agent_group_members(caller, id)])
