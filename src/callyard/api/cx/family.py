"""The CX SDK family: the authorization server at ``/AuthorizationServer`` and the REST API under
``/miccsdk/api/v1`` (paths matched without regard to case), its ASP.NET-style errors, its own tokens and
OData collections, and its OpenAPI document at ``/miccsdk/api/v1/openapi.json``."""
from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from starlette.middleware import Middleware

from callyard.api.cx import (admin_common, agents, auth, conversations, diagnostics, email, employees, hubs,
                             multimedia, openapi, openmedia, oscms, platform, queues, reference, templates)
from callyard.api.cx.edge import BASE, ERRORS, PREFIXES, CaseInsensitivePaths, paging, principal
from callyard.api.family import Family, Mount

if TYPE_CHECKING:
    from callyard.container import Twin

REST_ROUTERS = (employees.router, agents.router, queues.router, conversations.router, reference.router,
                openmedia.router, *multimedia.ROUTERS, email.router,
                # configuration and diagnostics: reply templates, OSCMS webhooks, diagnostics, platform
                templates.router, oscms.router, diagnostics.router, platform.router)


def _projections(twin: "Twin") -> None:
    hubs.register(twin)
    admin_common.register(twin)   # after the hubs: diagnostics read their live connections


def _routing_middleware(_twin: "Twin") -> Sequence[Middleware]:
    return [Middleware(CaseInsensitivePaths)]


FAMILY = Family(
    name="cx",
    title="CX SDK",
    description="The contact center's MiCCSDK of seed 004: employees, agents, queues, conversations, and the "
                "SignalR 2 hubs.",
    document="/miccsdk/api/v1/openapi.json",
    prefixes=PREFIXES,
    # Not in the app-wide /openapi.json (CloudLink's and the control plane's): the family serves its own.
    mounts=(Mount(auth.router, include_in_schema=False, priority=60),
            Mount(openapi.router, BASE, include_in_schema=False, priority=60),
            *(Mount(router, BASE, include_in_schema=False, priority=60) for router in REST_ROUTERS),
            Mount(hubs.router, include_in_schema=False, priority=60)),   # SignalR 2 at /miccsdk/signalr
    errors=ERRORS,
    auth=principal,
    paging=paging,
    routing_middleware=_routing_middleware,
    projections=_projections,
    hot=employees.HOT_ROUTES,   # PUT /employees/{id}/state
)
