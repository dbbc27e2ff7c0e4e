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
from callyard.api.uc import (acd, call_recording_control, calls, commlog, devices, distribution_groups, events,
                             line_state, personal_contacts, queue_statistics, sms, tickets, user_line)
from callyard.api.uc import diversion, presence, userconfig
from callyard.api.uc.contacts import info as contact_info
from callyard.api.uc.contacts import lists as contact_lists
from callyard.api.uc.contacts import streams as contact_streams
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
    # The user's presence, diversions and settings (part 2a):
    presence.router, presence.shortcuts_router, diversion.router, diversion.mapping_router, userconfig.router,
    userconfig.voicemail_router, userconfig.mobile_router,
    # Buddy List, Contacts, Contacts Information (legacy and V1) (part 2b):
    contact_lists.buddies, contact_lists.contacts, *contact_info.ROUTERS,
    sms.router, personal_contacts.router, events.router,   # SMS, Personal Contacts, Event (part 2c)
]


def _routers() -> Sequence[APIRouter]:
    return ROUTERS


def items(values: list[Any]) -> dict[str, Any]:
    """The family has no common collection shape (each operation names its list: ``calls``, ``groups``…)."""
    return {"items": values}


def _projections(twin: "Twin") -> None:
    publications.register(twin)             # CTI webhooks and streams
    devices.register_publications(twin)     # device-set webhooks
    contact_streams.register(twin)          # contacts' presence streams


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
