"""ACD/Attendant Group (seed 003, 8 operations, 5 deprecated): the groups a user belongs to with their agents
and statistics, and agent login/logout — the contact center's agent state (``core/contact_center``), which the
CloudLink simulator and the CX family read too.

Groups are addressed by their function number (``5000``); ``group-domain`` must be the user's own domain
(federated organisations are not simulated)."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from callyard.api.deps import CoreDep
from callyard.api.uc.edge.auth import UcCaller
from callyard.api.uc.edge.errors import ERROR_RESPONSES, forbidden, invalid, not_found
from callyard.api.uc.user_access import caller_any, flag
from callyard.api.uc.user_schemas import GroupDetail, GroupDetails, GroupLegacy

router = APIRouter(tags=["ACD/Attendant Group"], responses=ERROR_RESPONSES)
Caller = Annotated[UcCaller, Depends(caller_any("USER"))]
ACTIONS = ("login", "logout")


def own_domain(core: Any, who: UcCaller) -> str:
    return str((core.rt.state.get("account", who.account_id) or {}).get("domain", ""))


def same_domain(core: Any, who: UcCaller, group_domain: str) -> None:
    if own_domain(core, who).lower() != group_domain.lower():
        not_found("group-domain", "group.does.not.exist", "the group's organisation is not the user's (federation "
                  "is not simulated)", group_domain)


def detail(core: Any, group: dict[str, Any], user_id: str, *, statistics: bool = True, agents: bool = True,
           v2: bool = True) -> dict[str, Any]:
    out = core.user_groups.detail(group, user_id, statistics=statistics, agents=agents)
    out["agents"] = [{k: a[k] for k in ("firstName", "lastName", "activity", "skillLevel", "isLoggedIn",
                                        "isAvailable")} for a in out["agents"]]
    out.pop("phoneNumber", None)
    if not v2:
        out.pop("distributionType", None)
    return out


def legacy(core: Any, group: dict[str, Any], user_id: str) -> dict[str, Any]:
    full = core.user_groups.detail(group, user_id)
    return {"id": full["id"], "domain": full["domain"], "name": full["name"], "type": full["type"],
            "isLoggedIn": full["loggedIn"], "isNightMode": full["nightMode"],
            "agents": [{"name": a["name"], "number": a["number"], "userId": a["login"].split("@")[0]}
                       for a in full["agents"]],
            "roles": full["roles"], "statistic": full["statistic"], "isAllowUsingFunctionNumber": True,
            "distributionType": full["distributionType"], "phoneNumber": full["phoneNumber"]}


def _action(action: str | None) -> bool:
    if action not in ACTIONS:
        invalid("action", "action.not.valid", "action is login or logout", action)
    return action == "login"


# ---------------------------------------------------------------------- current (v2)
@router.get("/api/v2/acd/{domain}/{user}", response_model=GroupDetails, response_model_exclude_none=True,
            operation_id="getGroupsV2", summary="All ACD/ACD Light/Attendant groups of the user")
async def groups_v2(who: Caller, core: CoreDep, ignoreStatistics: str | None = None,
                    ignoreAgents: str | None = None) -> dict[str, Any]:
    user_id = who.user["userId"]
    return {"groups": [detail(core, g, user_id, statistics=not flag(ignoreStatistics), agents=not flag(ignoreAgents))
                       for g in core.user_groups.list(who.principal, who.account_id, user_id)]}


@router.get("/api/v2/acd/{domain}/{user}/{group_domain}/{group}", response_model=GroupDetail,
            response_model_exclude_none=True, operation_id="getGroupV2",
            summary="One ACD/ACD Light/Attendant group of the user")
async def group_v2(group_domain: str, group: int, who: Caller, core: CoreDep,
                   ignoreStatistics: str | None = None) -> dict[str, Any]:
    same_domain(core, who, group_domain)
    found = core.user_groups.get(who.principal, who.account_id, who.user["userId"], group)
    return detail(core, found, who.user["userId"], statistics=not flag(ignoreStatistics))


@router.post("/api/acd/{domain}/{group}/agent/{agent}", response_model=str, operation_id="setAgentLogin",
             summary="Log an agent in or out of a group (organisation-scoped)")
async def agent_login(domain: str, group: int, agent: str,
                      who: Annotated[UcCaller, Depends(caller_any("USER", user=None))],
                      core: CoreDep, action: Annotated[str | None, Query(description="login | logout")] = None) -> str:
    if domain.lower() != own_domain(core, who).lower():
        forbidden("domain", "access.denied", "the ticket does not give access to that domain", domain)
    target = core.tickets.user_at(domain, agent)
    core.user_groups.get(who.principal, target["accountId"], target["userId"], group)   # may act for them
    await core.user_groups.set_login(who.principal, target["accountId"], target["userId"], group, _action(action))
    return "OK"


# ---------------------------------------------------------------------- deprecated
@router.get("/api/acd/{domain}/{user}", response_model=GroupDetails, response_model_exclude_none=True,
            operation_id="getGroups", deprecated=True,
            summary="All ACD/Attendant groups of the user (deprecated since 5.2)")
async def groups(who: Caller, core: CoreDep, ignoreStatistics: str | None = None,
                 ignoreAgents: str | None = None) -> dict[str, Any]:
    user_id = who.user["userId"]
    return {"groups": [detail(core, g, user_id, statistics=not flag(ignoreStatistics),
                              agents=not flag(ignoreAgents), v2=False)
                       for g in core.user_groups.list(who.principal, who.account_id, user_id)]}


@router.get("/api/acd/{domain}/{user}/{group}", response_model=GroupLegacy, operation_id="getGroupLegacy",
            deprecated=True, summary="One ACD/Attendant group of the user (deprecated)")
async def group_legacy(group: int, who: Caller, core: CoreDep) -> dict[str, Any]:
    found = core.user_groups.get(who.principal, who.account_id, who.user["userId"], group)
    return legacy(core, found, who.user["userId"])


@router.get("/api/acd/{domain}/{user}/{group_domain}/{group}", response_model=GroupDetail,
            response_model_exclude_none=True, operation_id="getGroup", deprecated=True,
            summary="One ACD/Attendant group (deprecated since 5.2)")
async def group_detail(group_domain: str, group: int, who: Caller, core: CoreDep,
                       ignoreStatistics: str | None = None) -> dict[str, Any]:
    same_domain(core, who, group_domain)
    found = core.user_groups.get(who.principal, who.account_id, who.user["userId"], group)
    return detail(core, found, who.user["userId"], statistics=not flag(ignoreStatistics), v2=False)


@router.post("/api/acd/{domain}/{user}/{group}/agent/{agent}", response_model=GroupLegacy,
             operation_id="setAgentLoginLegacy", deprecated=True,
             summary="Log an agent in or out of a group (user-scoped, deprecated)")
async def agent_login_legacy(group: int, agent: str, who: Caller, core: CoreDep,
                             action: Annotated[str | None, Query()] = None,
                             logout: Annotated[str | None, Query()] = None) -> dict[str, Any]:
    login = _action(action if action is not None else ("logout" if flag(logout) else None))
    target = core.tickets.user_at(own_domain(core, who), agent)
    found = await core.user_groups.set_login(who.principal, who.account_id, target["userId"], group, login)
    return legacy(core, found, target["userId"])


@router.post("/api/acd/{domain}/{user}/{group_domain}/{group}/agent/{agent}", response_model=str,
             operation_id="setAgentLoginGroupDomain", deprecated=True,
             summary="Log an agent in or out of a group (user and group-domain, deprecated)")
async def agent_login_group_domain(group_domain: str, group: int, agent: str, who: Caller, core: CoreDep,
                                   action: Annotated[str | None, Query()] = None) -> str:
    login = _action(action)
    same_domain(core, who, group_domain)
    target = core.tickets.user_at(group_domain, agent)
    await core.user_groups.set_login(who.principal, who.account_id, target["userId"], group, login)
    return "OK"
