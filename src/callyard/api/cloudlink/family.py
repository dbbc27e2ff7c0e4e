"""The CloudLink family: one router per service (authentication, admin, media, chat, notifications,
presence), each served at the root path (``/2017-09-01/…``), under its service prefix
(``/authentication/2017-09-01/…``) and by Host header (``HostRouting``). At the root, when two services
declare the same path, the first mounted wins (authentication, then admin); see docs/compatibility.md.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterator, Sequence

from fastapi import APIRouter
from starlette.middleware import Middleware

from callyard.api.cloudlink import admin, auth, chat, media, notifications, presence, transports
from callyard.api.cloudlink.edge import BASE_PATH
from callyard.api.cloudlink.publications import Publisher
from callyard.api.cloudlink.edge.errors import ERRORS
from callyard.api.cloudlink.edge.hosts import HostRouting
from callyard.api.cloudlink.edge.middleware import CloudLinkEdge
from callyard.api.cloudlink.edge.odata import collection
from callyard.api.cloudlink.openapi import complete_openapi
from callyard.api.common.security import principal
from callyard.api.family import Family, Mount
from callyard.delivery.live import LiveTransports

if TYPE_CHECKING:
    from callyard.container import Twin

# (service prefix, router) in root-path priority order. The call-control hot path (media) goes first; its
# paths overlap no other service's. Authentication precedes admin: where those two declare the same path,
# authentication's wins at the root (docs/compatibility.md).
SERVICE_ROUTERS: list[tuple[str, APIRouter]] = [("media", media.router), ("notifications", notifications.router),
                                                ("presence", presence.router), ("chat", chat.router),
                                                ("authentication", auth.router), ("admin", admin.router)]


def _mounts() -> Iterator[Mount]:
    # Routes are matched in order, one by one: the Media API at the root before everything (priority 0), the
    # control plane next (10, the simulator drives load too), then the rest. No two share a path.
    yield Mount(media.router, BASE_PATH, priority=0)
    yield Mount(transports.router, priority=20)
    for _service, router in SERVICE_ROUTERS:
        if router is not media.router:
            yield Mount(router, BASE_PATH, priority=30)
    for service, router in SERVICE_ROUTERS:
        yield Mount(router, f"/{service}{BASE_PATH}", include_in_schema=False, priority=40)
    yield Mount(media.recordings.media_router, priority=50)


def _middleware(twin: "Twin") -> Sequence[Middleware]:
    return [Middleware(CloudLinkEdge, strict_app_header=twin.settings.strict_app_header,
                       observers=[twin.audit.observe])]


def _projections(twin: "Twin") -> None:
    """CloudLink's publications: matched and written to the outbox inside each committing transaction, after
    the core's own projections (presence), so a presence change caused by a call is published with it; the
    websocket subscriptions' envelopes go to MQTT over WebSocket and the JSON stream after the commit."""
    core = twin.core
    live = LiveTransports(twin.mqtt.transport, twin.stream.transport)
    Publisher(core.notifications, core.outbox, core.rt.ids, core.rt.now_iso, live.dispatch).register(core.projections)


def _routing_middleware(_twin: "Twin") -> Sequence[Middleware]:
    return [Middleware(HostRouting)]


FAMILY = Family(
    name="cloudlink",
    prefixes=("/",),   # the root: every path no other family claims
    mounts=tuple(_mounts()),
    errors=ERRORS,
    auth=principal,
    paging=collection,
    middleware=_middleware,
    routing_middleware=_routing_middleware,
    projections=_projections,
    title="CloudLink",
    description="Authentication, Admin, Media (call control), Conversations, Notifications and Presence, at the "
                "root, under each service prefix and by Host header.",
    openapi=complete_openapi,
    hot=media.endpoints.HOT_ROUTES + admin.HOT_ROUTES,
)
