"""CloudLink Notifications façade (contract: reference/cloudlink-apis.md §5 and the real webhook payload).

Three jobs: the subscription routes, the connection routes (a connection's ``url`` is the WebSocket URL of
the MQTT endpoint, on the host the request came to), and ``publication_of`` — how a core event looks as a
CloudLink publication (topic, method, subject, content, publisher). The core's notification service matches
and delivers; the wire shape of each topic's content is decided here.
"""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from callyard.api.cloudlink.media.wire import call_wire
from callyard.api.cloudlink.wire import (ACCOUNT_FIELDS, CONTACT_FIELDS, MESSAGE_FIELDS, USER_FIELDS, account_fields,
                                         conversation_fields, group_fields, pick, presentity_fields)
from callyard.api.common.errors import ERROR_RESPONSES
from callyard.api.common.odata import collection
from callyard.api.common.security import principal
from callyard.core.errors import Invalid
from callyard.core.principal import Principal
from callyard.core.state import Event

router = APIRouter(tags=["notifications"], responses=ERROR_RESPONSES)
BASE = "/2017-09-01"
# Where the twin serves WebSocket delivery (app.py mounts the transports there): MQTT over WebSocket at
# MQTT_PATH/{connectionId} (the url of a connection), a plain JSON stream at STREAM_PATH.
MQTT_PATH = "/_callyard/mqtt"
STREAM_PATH = "/_callyard/stream"
# The content of an admin publication: the resource's CloudLink fields (an account's publication also names
# its parent account).
_ADMIN_CONTENT = {
    "user": lambda doc: pick(doc, USER_FIELDS),
    "contact": lambda doc: pick(doc, CONTACT_FIELDS),
    "group": group_fields,
    "account": lambda doc: account_fields(doc, ACCOUNT_FIELDS | {"parentAccountId"}),
}
SUBSCRIPTION_FIELDS = frozenset((
    "subscriptionId", "accountId", "principalId", "applicationId", "deviceId", "connectionId", "transport", "topic",
    "subjectFilter", "methodFilter", "publicationFilter", "expiryDateTime", "createdOn", "modifiedOn"))
CONNECTION_FIELDS = frozenset(("connectionId", "accountId", "principalId", "transport", "expiryDateTime",
                               "createdOn"))
# What the real platform reports as the CSTA event behind a call state (extraPbxData.eventType).
_CSTA = {"ringing": "deliveredEvent", "connected": "establishedEvent", "held": "heldEvent",
         "completed": "connectionClearedEvent", "idle": "connectionClearedEvent"}


def _millis(iso_time: str) -> int:
    return int(datetime.fromisoformat(iso_time.replace("Z", "+00:00")).timestamp() * 1000)


def _media(event: Event) -> dict[str, Any] | None:
    leg = event.data
    if not leg or leg.get("endpointKind") not in ("extension", "group"):
        return None  # outside numbers and the voicemail system are not CloudLink endpoints
    endpoint, leg_id = leg["endpointId"], leg["legId"]
    content = call_wire(leg)
    pbx = {"alertingDevice": endpoint if leg["state"] == "ringing" else None, "calledDevice": leg["to"],
           "eventType": _CSTA.get(leg["state"], "unknownEvent"), "callTrackingID": leg["callId"],
           "sequence": leg["sequence"]}
    content.update({
        "extraPbxData": {k: v for k, v in pbx.items() if v is not None},
        "callId": f"endpoints/{endpoint}/calls/{leg_id}", "endpointId": endpoint, "accountId": leg["accountId"],
        "timestamp": _millis(event.occurred_at), "eventId": f"{leg['callId']}:{leg['sequence']}",
        "isCtiEvent": True, "eventType": "CallStateNotification"})
    if leg.get("principalId"):
        content.update(principalId=leg["principalId"], callLegOwner=leg["principalId"], userId=leg["principalId"])
    return {"topic": "platform-api-media", "method": "PUT", "subject": f"{BASE}/endpoints/{endpoint}/calls/{leg_id}",
            "content": content, "publisher": {"accountId": leg["accountId"], "principalId": leg.get("principalId")},
            "orderKey": leg["callId"]}


def _admin(event: Event) -> dict[str, Any]:
    verb = event.type.rsplit(".", 1)[1]
    method = {"created": "POST", "deleted": "DELETE"}.get(verb, "PUT")
    kind = event.type.split(".", 1)[0]
    content = _ADMIN_CONTENT[kind](event.data) if event.data else {}
    return {"topic": "platform-api-admin", "method": method, "subject": f"{BASE}{event.subject}",
            "content": content, "publisher": {"accountId": event.account_id}}


def _conversation_publisher(data: dict[str, Any]) -> str | None:
    who = data.get("deletedBy") or data.get("modifiedBy")
    return None if who == "system" else who


def publication_of(event: Event) -> dict[str, Any] | None:
    """A core event as a CloudLink publication, or None when no topic carries it."""
    kind = event.type.split(".", 1)[0]
    if event.type == "call.state":
        return _media(event)
    if event.type == "presence.updated":
        data = event.data or {}
        return {"topic": "platform-api-presence", "method": "PUT", "subject": event.subject,
                "content": presentity_fields(data),
                "publisher": {"accountId": event.account_id, "principalId": data.get("principalId")}}
    if kind in ("conversation", "message"):
        # Conversation subjects carry no version prefix: /conversations/{id}[/messages/{messageId}] (§4, §5)
        verb = event.type.rsplit(".", 1)[1]
        data = event.data or {}
        return {"topic": "platform-api-conversations", "method": {"created": "POST", "deleted": "DELETE"}.get(verb, "PUT"),
                "subject": event.subject,
                "content": conversation_fields(data) if kind == "conversation" else pick(data, MESSAGE_FIELDS),
                "publisher": {"accountId": event.account_id, "principalId": _conversation_publisher(data)}}
    if kind in ("user", "group", "account", "contact"):
        return _admin(event)
    return None


# ---------------------------------------------------------------------------- subscriptions
def subscription_wire(sub: dict[str, Any], with_secret: bool = False) -> dict[str, Any]:
    out = pick(sub, SUBSCRIPTION_FIELDS)
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
    out = pick(doc, CONNECTION_FIELDS)
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
