"""CloudLink Notifications façade (contract: reference/cloudlink-apis.md §5 and the real webhook payload).

Three jobs: the subscription routes, the connection routes (a connection's ``url`` is the WebSocket URL of
the MQTT endpoint, on the host the request came to). How core events become CloudLink publications is
``publications.py``.
"""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from callyard.api.cloudlink.edge import BASE_PATH
from callyard.api.cloudlink.edge.body import read_json_object
from callyard.api.cloudlink.edge.odata import collection
from callyard.api.cloudlink.wire import pick
from callyard.api.common.errors import ERROR_RESPONSES
from callyard.api.common.security import principal
from callyard.api.deps import ConnectionsDep, NotificationsDep
from callyard.core.principal import Principal
from callyard.api.cloudlink.edge.hosts import arrived_path

router = APIRouter(tags=["notifications"], responses=ERROR_RESPONSES)
BASE = BASE_PATH
# Where the twin serves WebSocket delivery (app.py mounts the transports there): MQTT over WebSocket at
# MQTT_PATH/{connectionId} (the url of a connection), a plain JSON stream at STREAM_PATH.
MQTT_PATH = "/_callyard/mqtt"
STREAM_PATH = "/_callyard/stream"
SUBSCRIPTION_FIELDS = frozenset((
    "subscriptionId", "accountId", "principalId", "applicationId", "deviceId", "connectionId", "transport", "topic",
    "subjectFilter", "methodFilter", "publicationFilter", "expiryDateTime", "createdOn", "modifiedOn"))
CONNECTION_FIELDS = frozenset(("connectionId", "accountId", "principalId", "transport", "expiryDateTime",
                               "createdOn"))
# ---------------------------------------------------------------------------- subscriptions
def subscription_wire(sub: dict[str, Any], with_secret: bool = False) -> dict[str, Any]:
    out = pick(sub, SUBSCRIPTION_FIELDS)
    if with_secret:
        out["signingSecret"] = sub["signingSecret"]
    out["_links"] = {"self": f"{BASE}/subscriptions/{sub['subscriptionId']}"}
    return out


@router.post("/subscriptions", status_code=201, summary="Subscribe to publications")
async def create_subscription(request: Request, notifications: NotificationsDep,
                              actor: Principal = Depends(principal)) -> JSONResponse:
    sub = await notifications.create(actor, await read_json_object(request))
    return JSONResponse(subscription_wire(sub, with_secret=True), status_code=201)


@router.get("/subscriptions", summary="The caller's subscriptions")
async def list_subscriptions(request: Request, notifications: NotificationsDep,
                             actor: Principal = Depends(principal)) -> dict[str, Any]:
    items = [subscription_wire(s) for s in notifications.list(actor)]
    return collection(items, dict(request.query_params), arrived_path(request.scope))


@router.get("/subscriptions/{subscriptionId}")
async def get_subscription(subscriptionId: str, request: Request, notifications: NotificationsDep,
                           actor: Principal = Depends(principal)) -> dict[str, Any]:
    return subscription_wire(notifications.get(actor, subscriptionId))


@router.put("/subscriptions/{subscriptionId}", summary="Change or renew (expiryDateTime) a subscription")
async def update_subscription(subscriptionId: str, request: Request, notifications: NotificationsDep,
                              actor: Principal = Depends(principal)) -> dict[str, Any]:
    return subscription_wire(await notifications.update(actor, subscriptionId, await read_json_object(request)))


@router.delete("/subscriptions/{subscriptionId}")
async def delete_subscription(subscriptionId: str, request: Request, notifications: NotificationsDep,
                              actor: Principal = Depends(principal)) -> dict[str, Any]:
    return subscription_wire(await notifications.delete(actor, subscriptionId))


# ---------------------------------------------------------------------------- connections
def connection_wire(doc: dict[str, Any], request: Request) -> dict[str, Any]:
    """A connection with the WebSocket URL of the MQTT endpoint, on the host and scheme the request used (so
    it stays right behind a proxy that keeps Host, and for the service hosts of ``HostRouting``)."""
    scheme = "wss" if request.url.scheme in ("https", "wss") else "ws"
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    out = pick(doc, CONNECTION_FIELDS)
    out["url"] = f"{scheme}://{host}{MQTT_PATH}/{doc['connectionId']}"
    out["_links"] = {"self": f"{BASE}/connections/{doc['connectionId']}"}
    return out


@router.post("/connections", status_code=201, summary="Open a connection: returns the WebSocket (MQTT) URL")
async def create_connection(request: Request, connections: ConnectionsDep,
                            actor: Principal = Depends(principal)) -> JSONResponse:
    doc = await connections.create(actor, await read_json_object(request))
    return JSONResponse(connection_wire(doc, request), status_code=201)


@router.get("/connections", summary="The caller's connections")
async def list_connections(request: Request, connections: ConnectionsDep,
                           actor: Principal = Depends(principal)) -> dict[str, Any]:
    items = [connection_wire(c, request) for c in connections.list(actor)]
    return collection(items, dict(request.query_params), arrived_path(request.scope))


@router.get("/connections/{connectionId}")
async def get_connection(connectionId: str, request: Request, connections: ConnectionsDep,
                         actor: Principal = Depends(principal)) -> dict[str, Any]:
    return connection_wire(connections.get(actor, connectionId), request)


@router.delete("/connections/{connectionId}", summary="Close a connection: its sessions end, delivery stops")
async def delete_connection(connectionId: str, request: Request, connections: ConnectionsDep,
                            actor: Principal = Depends(principal)) -> dict[str, Any]:
    return connection_wire(await connections.delete(actor, connectionId), request)
