"""Diagnostics (12 operations, experimental in the seed): monitors per employee (``statemonitor``,
``agentstatemonitors``, ``agentinboxmonitors``: count, add, remove), router commands, SignalR connections by
id and problem reports, all answered from the live state (``core/contact_center/diagnostics.py``). The
subscription counts are JSON strings, as the seed's operations answer strings."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request

from callyard.api.cx import admin_schemas as models, schemas
from callyard.api.cx.admin_common import AdminDep
from callyard.api.cx.common import Caller
from callyard.api.cx.edge import field, json_body
from callyard.core.errors import Invalid

router = APIRouter(tags=["Diagnostics"], responses=schemas.ERRORS)
MONITORS = {"statemonitor": ("state", "an employee state monitor"),
            "agentstatemonitors": ("agentState", "an employee's agent state monitors"),
            "agentinboxmonitors": ("agentInbox", "an employee's agent inbox monitors")}


def _flag(value: str) -> bool:
    if value.lower() not in ("true", "false"):
        raise Invalid("InvalidRequest", "skipIfContained is true or false")
    return value.lower() == "true"


def _monitor_routes(segment: str, monitor: str, what: str) -> None:
    path = f"/diagnostics/employees/{{id}}/{segment}"

    async def count(id: str, caller: Caller, admin: AdminDep) -> Any:
        return str(admin.diagnostics.monitor(caller, id, monitor)["subscriptions"])

    async def add(id: str, skipIfContained: str, caller: Caller, admin: AdminDep) -> Any:
        return str((await admin.diagnostics.add_monitor(caller, id, monitor, _flag(skipIfContained)))["subscriptions"])

    async def remove(id: str, caller: Caller, admin: AdminDep) -> Any:
        return str((await admin.diagnostics.remove_monitor(caller, id, monitor))["subscriptions"])

    router.add_api_route(path, count, methods=["GET"], responses=schemas.ok(str),
                         summary=f"Get the subscription count of {what}. Id, username or me",
                         operation_id=f"Diagnostics_Get_{segment}")
    router.add_api_route(path + "/{skipIfContained}", add, methods=["POST"], responses=schemas.ok(str),
                         summary=f"Add {what}. Id, username or me. If set to true (default), don't add a monitor "
                                 "if monitor manager already contains it",
                         operation_id=f"Diagnostics_Add_{segment}")
    router.add_api_route(path, remove, methods=["DELETE"], responses=schemas.ok(str), summary=f"Remove {what}.",
                         operation_id=f"Diagnostics_Remove_{segment}")


for _segment, (_monitor, _what) in MONITORS.items():
    _monitor_routes(_segment, _monitor, _what)


@router.post("/diagnostics/router", responses=schemas.ok(str),
             summary="Router Diagnostic Commands - allows the ability to query the Router. To get a list of support "
                     "commands type Help as the CommandName",
             openapi_extra=schemas.body(models.ROUTER_COMMAND))
async def router_command(request: Request, caller: Caller, admin: AdminDep) -> Any:
    body = await json_body(request)
    command, value = field(body, "commandName"), field(body, "value")
    if not isinstance(command, str) or (value is not None and not isinstance(value, str)):
        raise Invalid("InvalidRequest", "commandName is required (a string) and value is a string")
    return admin.diagnostics.router(caller, command, value)


@router.get("/diagnostics/signalr/connections/{id}", responses=schemas.ok(list[str]),
            summary="Diagnostics_GetSignalRConnectionsById")
async def signalr_connections(id: str, caller: Caller, admin: AdminDep) -> Any:
    return admin.diagnostics.connections(caller, id)


@router.post("/diagnostics/problemreports", responses=schemas.ok(str), summary="Post a problem report",
             openapi_extra=schemas.body(models.PROBLEM_REPORT))
async def problem_report(request: Request, caller: Caller, admin: AdminDep) -> Any:
    body = await json_body(request)
    doc = await admin.diagnostics.problem_report(
        caller, {k: field(body, k) for k in ("application", "description", "logs")})
    return doc["id"]
