"""TypedDicts of the main wire shapes, for editors and type checkers. Only documented fields are listed
(all optional: ``total=False``); the SDK returns the service's dicts unchanged, so fields not listed here are
still there."""
from __future__ import annotations

from typing import Any, TypedDict


class TokenResponse(TypedDict, total=False):
    token_type: str
    expires_in: int
    access_token: str
    refresh_token: str
    scope: str


class Links(TypedDict, total=False):
    self: str
    next: str


class Collection(TypedDict, total=False):
    count: int
    totalCount: int
    _links: Links
    _embedded: dict[str, list[dict[str, Any]]]


# The Media swagger's ``call`` (functional form: ``from`` is a Python keyword).
Call = TypedDict("Call", {
    "callId": str, "state": str, "cause": str, "direction": str, "from": str, "fromName": str,
    "fromPrincipalId": str, "fromNumberE164": bool, "to": str, "toName": str, "toPrincipalId": str,
    "toNumberE164": bool, "extraPbxData": str, "createdOn": str, "endTime": str, "completed": bool,
    "ringTime": float, "billingTime": float, "_links": Links,
}, total=False)


class Endpoint(TypedDict, total=False):
    """The Media swagger's ``endpoint``."""

    endpointId: str
    name: str
    type: str
    state: str
    userAvailability: str
    messageWaiting: bool
    pstnRouting: str
    dnd: bool
    _links: Links


class Subscription(TypedDict, total=False):
    subscriptionId: str
    applicationId: str
    deviceId: str
    transport: str
    topic: str
    subjectFilter: str
    publicationFilter: str
    methodFilter: str
    connectionId: str
    expiryDateTime: str
    signingSecret: str
    _links: Links


class Connection(TypedDict, total=False):
    connectionId: str
    transport: str
    url: str
    expiryDateTime: str
    _links: Links


class Publication(TypedDict, total=False):
    """A Notifications publication (webhook body, MQTT payload)."""

    publicationId: str
    topic: str
    method: str
    subject: str
    content: dict[str, Any]
    publisher: dict[str, Any]
    subscription: dict[str, str]
    notification: dict[str, str]
