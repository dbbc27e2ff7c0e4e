"""CloudLink's part of the twin's OpenAPI document, beyond what FastAPI derives from the handlers: the request
bodies of the routes that read their body raw (the core validates it, so a handler declares no model), and
the schemas of the main resources in place of an open ``object``. Field lists come from the same allow-lists
the wire uses (wire.py, notifications.py), so the document cannot name a field the twin does not send.

Response schemas are descriptive, not strict: every listed property may be absent or null and extra ones are
allowed (the vendor contracts themselves are loose there); the conformance suite validates every answer
against them."""
from __future__ import annotations

import copy
import re
from typing import Any, Collection

from callyard.api.cloudlink.auth import TOKEN_FIELDS
from callyard.api.cloudlink.media.conferences import CONFERENCE_FIELDS, PARTICIPANT_FIELDS as CONFERENCE_PARTICIPANT
from callyard.api.cloudlink.notifications import CONNECTION_FIELDS, SUBSCRIPTION_FIELDS
from callyard.api.cloudlink.wire import (ACCOUNT_FIELDS, APPLICATION_FIELDS, CONTACT_FIELDS, CONVERSATION_FIELDS,
                                         GROUP_FIELDS, MESSAGE_FIELDS, PRESENTITY_FIELDS, USER_FIELDS)
from callyard.core.directory.applications import WRITABLE as APPLICATION_WRITABLE

# Types only where the twin always sends that type (or null); other properties are named, not typed.
_BOOLEAN = re.compile(r"^(active|completed|dnd|messageWaiting|.*E164|isCtiEvent|onetimeAcceptance|muted|hidden)$")
_STRINGY = re.compile(r"^(.*Id|.*On|name|email|role|state|cause|direction|transport|topic|contentType)$")
_NUMBER = {"ringTime", "billingTime", "durationInSeconds", "sequence"}


def _property(name: str) -> dict[str, Any]:
    if name in _NUMBER:
        return {"type": ["number", "null"]}
    if _BOOLEAN.match(name):
        return {"type": ["boolean", "null"]}
    if _STRINGY.match(name):
        return {"type": ["string", "null"]}
    return {}


def resource(title: str, fields: Collection[str], description: str) -> dict[str, Any]:
    return {"title": title, "type": "object", "description": description,
            "properties": {f: _property(f) for f in sorted(fields)} | {"_links": {"type": "object"}}}


def _links_page(item: str) -> dict[str, Any]:
    return {"type": "object", "description": f"A page of {item} items (OData $top/$skip; follow _links.next).",
            "required": ["count", "_embedded"],
            "properties": {"count": {"type": "integer"}, "totalCount": {"type": "integer"},
                           "_links": {"type": "object", "properties": {"self": {"type": "string"},
                                                                       "next": {"type": "string"}}},
                           "_embedded": {"type": "object", "properties": {
                               "items": {"type": "array", "items": {"$ref": f"#/components/schemas/{item}"}}}}}}


SCHEMAS: dict[str, dict[str, Any]] = {
    "Account": resource("Account", ACCOUNT_FIELDS, "A CloudLink account (partner or customer)."),
    "User": resource("User", USER_FIELDS | {"photoUrl", "avatars"}, "A user of an account."),
    "Group": resource("Group", GROUP_FIELDS, "A group of users (public or private; ACD/hunt with an extension)."),
    "Contact": resource("Contact", CONTACT_FIELDS, "An account's contact."),
    "Application": resource("Application", APPLICATION_FIELDS | {"clientSecret"},
                            "An application registration, or its enablement on one account."),
    "Subscription": resource("Subscription", SUBSCRIPTION_FIELDS | {"signingSecret"},
                             "A notification subscription (webhook or websocket)."),
    "Connection": resource("Connection", CONNECTION_FIELDS | {"url"},
                           "A WebSocket (MQTT) connection for websocket subscriptions."),
    "Conversation": resource("Conversation", CONVERSATION_FIELDS, "A chat stream or direct conversation."),
    "Message": resource("Message", MESSAGE_FIELDS, "A chat message."),
    "Presentity": resource("Presentity", PRESENTITY_FIELDS, "A principal's presence."),
    "Endpoint": resource("Endpoint", ("endpointId", "name", "type", "state", "userAvailability", "messageWaiting",
                                      "pstnRouting", "dnd"), "A Media endpoint (an extension or group number)."),
    "Call": resource("Call", ("callId", "from", "fromNumberE164", "fromName", "fromPrincipalId", "to",
                              "toNumberE164", "toName", "toPrincipalId", "state", "cause", "direction",
                              "extraPbxData", "createdOn", "endTime", "completed", "ringTime", "billingTime",
                              "principal"), "A call leg on an endpoint (callId: the leg), or its record."),
    "Recording": resource("Recording", ("recordingId", "callId", "createdOn", "contentType", "durationInSeconds",
                                        "label", "_embedded"), "A call or conference recording."),
    "Conference": resource("Conference", CONFERENCE_FIELDS + ("_embedded",), "A conference (meeting room)."),
    "Participant": resource("Participant", CONFERENCE_PARTICIPANT, "A conference participant."),
    "Token": {"title": "Token", "type": "object", "description": "The OAuth token response.",
              "required": ["access_token"],
              "properties": {"access_token": {"type": "string"}, "refresh_token": {"type": ["string", "null"]},
                             "token_type": {"type": "string"}, "expires_in": {"type": ["number", "string"]},
                             "scope": {"type": ["string", "null"]}}},
}
# (path pattern, resource) for the answers of GET/POST/PUT/PATCH: one resource, or a page of them.
_ANSWERS: list[tuple[re.Pattern[str], str, bool]] = [
    (re.compile(p), name, page) for p, name, page in (
        (r"/accounts$", "Account", True), (r"/accounts/\{accountId\}$", "Account", False),
        (r"/users$", "User", True), (r"/users/\{userId\}$", "User", False),
        (r"/groups$", "Group", True), (r"/groups/\{groupId\}$", "Group", False),
        (r"/contacts$", "Contact", True), (r"/contacts/\{contactId\}$", "Contact", False),
        (r"/apps$", "Application", True), (r"/applications/\{applicationId\}$", "Application", False),
        (r"^/2017-09-01/applications$", "Application", False),
        (r"/subscriptions$", "Subscription", True), (r"/subscriptions/\{subscriptionId\}$", "Subscription", False),
        (r"/connections$", "Connection", True), (r"/connections/\{connectionId\}$", "Connection", False),
        (r"/conversations$", "Conversation", True), (r"/conversations/\{conversationId\}$", "Conversation", False),
        (r"/messages$", "Message", True), (r"/messages/\{messageId\}$", "Message", False),
        (r"/presentities/\{principalId\}$", "Presentity", False),
        (r"/endpoints/\{endpointId\}$", "Endpoint", False), (r"/endpoints/\{endpointId\}/calls$", "Call", True),
        (r"/calls/\{callId\}$", "Call", False), (r"/calls/records$", "Call", True),
        (r"/calls/\{callId\}/records$", "Call", True),
        (r"/recordings$", "Recording", True), (r"/recordings/\{recordingId\}$", "Recording", False),
        (r"/conferences$", "Conference", True), (r"/conferences/\{conferenceId\}$", "Conference", False),
        (r"/participants/\{participantId\}$", "Participant", False),
        (r"/conferences/\{conferenceId\}/participants$", "Participant", True),
        (r"/token$", "Token", False))]

_STRING = {"type": "string"}


def _object(properties: dict[str, Any], required: tuple[str, ...] = (), description: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        out["required"] = list(required)
    if description:
        out["description"] = description
    return out


_TOKEN_REQUEST = _object(
    {**{f: _STRING for f in sorted(TOKEN_FIELDS)},
     "grant_type": {"type": "string", "description": "password, refresh_token, client_credentials or "
                                                     "authorization_code (case-insensitive)"}},
    ("grant_type",), "The grant and its parameters; form-encoded or JSON.")
_AUTHORIZE_REQUEST = _object(
    {f: _STRING for f in ("client_id", "response_type", "username", "password", "account_id", "redirect_uri",
                          "code_challenge", "code_challenge_method", "scope", "nonce", "state")},
    ("client_id", "response_type", "username", "password"))
_APPLICATION = _object({**{f: _property(f) for f in sorted(APPLICATION_WRITABLE)}, "accountId": _STRING,
                        "applicationId": _STRING})
_SUBSCRIPTION = _object(
    {"applicationId": _STRING, "deviceId": {"type": "string", "description": "the webhook URL"},
     "connectionId": {"type": "string", "description": "websocket transport: a connection of the caller"},
     "transport": {"type": "string", "enum": ["webhook", "websocket"]},
     "topic": {"type": "string", "enum": ["platform-api-media", "platform-api-presence",
                                          "platform-api-conversations", "platform-api-admin"]},
     "subjectFilter": {"type": "string", "description": "a regular expression searched in the subject"},
     "methodFilter": _STRING,
     "publicationFilter": {"type": "string", "description": "RFC 9535 JSONPath over {\"publications\": [p]}"},
     "expiryDateTime": {"type": "string", "format": "date-time"}})
_TAG = _object({"id": _STRING, "value": _STRING}, ("id",))
_TAG_VALUE = _object({"value": _STRING}, ("value",))
_IMAGE = {"content": {"image/*": {"schema": {"type": "string", "format": "binary"}}}, "required": True,
          "description": "the image's bytes (PNG, JPEG, GIF, WebP, …)"}
_ANY = _object({}, description="not built: the twin answers 501 whatever the body")

# (method, path after the base path) → request body schema (JSON unless stated).
_BODIES: dict[tuple[str, str], Any] = {
    ("POST", "/token"): "token", ("POST", "/authorize"): "authorize",
    ("POST", "/assume-role/token"): _object({"role": _STRING, "accountId": _STRING}),
    ("POST", "/guest/token"): _object({f: _STRING for f in ("accountId", "accessCode", "principalId", "name",
                                                              "guestEmail", "client_id")}),
    ("POST", "/applications"): _APPLICATION, ("PUT", "/applications/{applicationId}"): _APPLICATION,
    ("POST", "/applications/{applicationId}/tags"): _TAG,
    ("PUT", "/applications/{applicationId}/tags/{tagId}"): _TAG_VALUE,
    ("PUT", "/accounts/{accountId}/tags/{tagId}"): _TAG_VALUE, ("PUT", "/users/{userId}/tags/{tagId}"): _TAG_VALUE,
    ("PUT", "/accounts/{accountId}/users/{userId}/tags/{tagId}"): _TAG_VALUE,
    ("POST", "/subscriptions"): _object(_SUBSCRIPTION["properties"], ("applicationId", "transport", "topic")),
    ("PUT", "/subscriptions/{subscriptionId}"): _SUBSCRIPTION,
    ("POST", "/connections"): _object({"transport": {"type": "string", "enum": ["websocket"]}}, ("transport",)),
    ("PUT", "/users/{userId}/photo"): "image", ("PUT", "/accounts/{accountId}/users/{userId}/photo"): "image",
    ("PUT", "/contacts/{contactId}/photo"): "image",
    ("PUT", "/accounts/{accountId}/contacts/{contactId}/photo"): "image",
}


def _request_body(method: str, path: str, op: dict[str, Any]) -> dict[str, Any] | None:
    spec = _BODIES.get((method, path.removeprefix("/2017-09-01")))
    if spec is None and "501" in op.get("summary", "") or spec is None and "Not implemented" in op.get("summary", ""):
        spec = _ANY
    if spec is None:
        return None
    if spec == "image":
        return copy.deepcopy(_IMAGE)
    if spec in ("token", "authorize"):
        schema = _TOKEN_REQUEST if spec == "token" else _AUTHORIZE_REQUEST
        return {"required": True, "content": {"application/x-www-form-urlencoded": {"schema": copy.deepcopy(schema)},
                                              "application/json": {"schema": copy.deepcopy(schema)}}}
    return {"required": method == "POST" and spec is not _ANY,
            "content": {"application/json": {"schema": copy.deepcopy(spec)}}}


def _answer_schema(method: str, path: str) -> dict[str, Any] | None:
    """A collection path: GET answers a page, POST the created item; an item path: the item (GET, PUT, PATCH
    and POST). The token: only what POST /token answers (GET /token answers the claims)."""
    for pattern, name, page in _ANSWERS:
        if not pattern.search(path):
            continue
        if name == "Token" and method != "POST":
            return None
        if page:
            return _links_page(name) if method == "GET" else {"$ref": f"#/components/schemas/{name}"} \
                if method == "POST" else None
        return {"$ref": f"#/components/schemas/{name}"} if method != "DELETE" else None
    return None


def complete_openapi(doc: dict[str, Any], operations: dict[tuple[str, str], dict[str, Any]]) -> None:
    """Request bodies for the raw-body routes and resource schemas for the answers (see the module doc)."""
    doc.setdefault("components", {}).setdefault("schemas", {}).update(copy.deepcopy(SCHEMAS))
    for (method, path), op in operations.items():
        if method in ("POST", "PUT", "PATCH") and "requestBody" not in op:
            body = _request_body(method, path, op)
            if body is not None:
                op["requestBody"] = body
        schema = _answer_schema(method, path)
        if schema is None:
            continue
        for status in ("200", "201"):
            content = op.get("responses", {}).get(status, {}).get("content", {}).get("application/json")
            if content is not None and _open(content.get("schema")):
                content["schema"] = copy.deepcopy(schema)


def _open(schema: Any) -> bool:
    """FastAPI's schema of a ``dict[str, Any]`` answer: an object with nothing said about it."""
    return isinstance(schema, dict) and (not schema or (schema.get("type") == "object" and "properties" not in schema
                                                        and "$ref" not in schema))
