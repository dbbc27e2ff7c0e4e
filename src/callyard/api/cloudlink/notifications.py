"""CloudLink Notifications façade (contract: reference/cloudlink-apis.md §5 and the real webhook payload).

Three jobs: the subscription routes, the connection routes (a connection's ``url`` is the WebSocket URL of
the MQTT endpoint, on the host the request came to). How core events become CloudLink publications is
``publications.py``.
"""
from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from callyard.api.common.errors import ERROR_RESPONSES
from callyard.api.common.odata import collection
from callyard.api.common.security import principal
from callyard.core.errors import Invalid
from callyard.core.principal import Principal

router = APIRouter(tags=["notifications"], responses=ERROR_RESPONSES)
BASE = "/2017-09-01"
# Where the twin serves WebSocket delivery (app.py mounts the transports there): MQTT over WebSocket at
# MQTT_PATH/{connectionId} (the url of a connection), a plain JSON stream at STREAM_PATH.
MQTT_PATH = "/_callyard/mqtt"
STREAM_PATH = "/_callyard/stream"
# ---------------------------------------------------------------------------- subscriptions
def subscription_wire(sub: dict[str, Any], with_secret: bool = False) -> dict[str, Any]:
    out = {k: v for k, v in sub.items() if k not in ("signingSecret", "active", "disabledReason")}
    if with_secret:
        out["signingSecret"] = sub["signingSecret"]
    out["_links"] = {"self": f"{BASE}/subscriptions/{sub['subscriptionId']}"}
    return out


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise Invalid("MalformedJSON", "the request body is not valid JSON") from None
    if not isinstance(body, dict):
        raise Invalid("ValidationError", "data should be object")
    return body


def _notifications(request: Request) -> Any:
    return request.app.state.core.notifications


@router.post("/subscriptions", status_code=201, summary="Subscribe to publications")
async def create_subscription(request: Request, actor: Principal = Depends(principal)) -> JSONResponse:
    sub = await _notifications(request).create(actor, await _body(request))
    return JSONResponse(subscription_wire(sub, with_secret=True), status_code=201)


@router.get("/subscriptions", summary="The caller's subscriptions")
async def list_subscriptions(request: Request, actor: Principal = Depends(principal)) -> dict[str, Any]:
    items = [subscription_wire(s) for s in _notifications(request).list(actor)]
    return collection(items, dict(request.query_params), request.url.path)


@router.get("/subscriptions/{subscriptionId}")
async def get_subscription(subscriptionId: str, request: Request, actor: Principal = Depends(principal)) -> dict[str, Any]:
    return subscription_wire(_notifications(request).get(actor, subscriptionId))


@router.put("/subscriptions/{subscriptionId}", summary="Change or renew (expiryDateTime) a subscription")
async def update_subscription(subscriptionId: str, request: Request,
                              actor: Principal = Depends(principal)) -> dict[str, Any]:
    return subscription_wire(await _notifications(request).update(actor, subscriptionId, await _body(request)))


@router.delete("/subscriptions/{subscriptionId}")
async def delete_subscription(subscriptionId: str, request: Request,
                              actor: Principal = Depends(principal)) -> dict[str, Any]:
    return subscription_wire(await _notifications(request).delete(actor, subscriptionId))


# ---------------------------------------------------------------------------- connections
def connection_wire(doc: dict[str, Any], request: Request) -> dict[str, Any]:
    """A connection with the WebSocket URL of the MQTT endpoint, on the host and scheme the request used (so
    it stays right behind a proxy that keeps Host, and for the service hosts of ``HostRouting``)."""
    scheme = "wss" if request.url.scheme in ("https", "wss") else "ws"
    host = request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"
    out = {k: v for k, v in doc.items()}
    out["url"] = f"{scheme}://{host}{MQTT_PATH}/{doc['connectionId']}"
    out["_links"] = {"self": f"{BASE}/connections/{doc['connectionId']}"}
    return out


def _connections(request: Request) -> Any:
    return request.app.state.core.connections


@router.post("/connections", status_code=201, summary="Open a connection: returns the WebSocket (MQTT) URL")
async def create_connection(request: Request, actor: Principal = Depends(principal)) -> JSONResponse:
    doc = await _connections(request).create(actor, await _body(request))
    return JSONResponse(connection_wire(doc, request), status_code=201)


@router.get("/connections", summary="The caller's connections")
async def list_connections(request: Request, actor: Principal = Depends(principal)) -> dict[str, Any]:
    items = [connection_wire(c, request) for c in _connections(request).list(actor)]
    return collection(items, dict(request.query_params), request.url.path)


@router.get("/connections/{connectionId}")
async def get_connection(connectionId: str, request: Request, actor: Principal = Depends(principal)) -> dict[str, Any]:
    return connection_wire(_connections(request).get(actor, connectionId), request)


@router.delete("/connections/{connectionId}", summary="Close a connection: its sessions end, delivery stops")
async def delete_connection(connectionId: str, request: Request,
                            actor: Principal = Depends(principal)) -> dict[str, Any]:
    return connection_wire(await _connections(request).delete(actor, connectionId), request)
