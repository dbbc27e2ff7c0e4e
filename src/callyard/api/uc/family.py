"""The UC family (seed 003, the end-user User API): every route under ``/api``, a ticket credential, the
ValidationResult error envelope, ``X-HTTP-Method-Override`` and the Content-Type/Accept rules
(``edge/middleware.py``), its own OpenAPI document at ``/api/openapi.json``.

``ROUTERS`` is the one list of the family's routers (each declares its full ``/api/…`` paths); a new API group
adds its router here. They are mounted outside the twin's CloudLink document and documented in the family's.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Sequence

from fastapi import APIRouter
from starlette.middleware import Middleware

from callyard.api.family import Family, Mount
from callyard.api.uc import (acd, call_recording_control, calls, commlog, devices, distribution_groups, line_state,
                             queue_statistics, tickets, user_line)
from callyard.api.uc.cti import control, publications, recording, state
from callyard.api.uc.edge.auth import grant
from callyard.api.uc.edge.errors import ERRORS
from callyard.api.uc.edge.middleware import UcEdge
from callyard.api.uc.edge.openapi import openapi_router

if TYPE_CHECKING:
    from callyard.container import Twin

ROUTERS: list[APIRouter] = [
    tickets.router,
    control.router, recording.router, state.router,   # Call Control (CTI), Call Recording (CTI), Call State
    # The user's devices, lines, calls, communication log and distribution groups (part 1b):
    devices.router, user_line.router, calls.router, line_state.router, commlog.router, acd.router,
    distribution_groups.router, queue_statistics.router, call_recording_control.router,
]


def _routers() -> Sequence[APIRouter]:
    return ROUTERS


def items(values: list[Any]) -> dict[str, Any]:
    """The family has no common collection shape (each operation names its list: ``calls``, ``groups``…)."""
    return {"items": values}


def _projections(twin: "Twin") -> None:
    publications.register(twin)             # CTI webhooks and streams
    devices.register_publications(twin)     # device-set webhooks


def _middleware(_twin: "Twin") -> Sequence[Middleware]:
    return [Middleware(UcEdge)]


FAMILY = Family(
    name="uc",
    title="UC User API",
    description="The end-user UC API of seed 003 (Dstny Core): API tickets, CTI call control, call state, devices, "
                "communication log, groups.",
    document="/api/openapi.json",
    prefixes=("/api",),
    mounts=(Mount(openapi_router(_routers), priority=25),
            *(Mount(router, include_in_schema=False, priority=25) for router in ROUTERS)),
    errors=ERRORS,
    auth=grant,
    paging=items,
    middleware=_middleware,
    projections=_projections,
    hot=control.HOT_ROUTES,
)
