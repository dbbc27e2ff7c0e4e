"""Every route of the server, enumerated, against the same authorisation properties.

The routes come from two places that must agree: the live ``GET /openapi.json`` (CloudLink at
``/2017-09-01``, the control plane at ``/_callyard``) and the application's route table, which also holds
what the schema hides (the service-prefixed copies ``/{service}/2017-09-01/…``, the ``PATCH`` aliases, the
API docs). Each route is classified in ``ROUTES`` below — ``public``, ``user`` (any authenticated principal
of the account), ``admin`` (ACCOUNT_ADMIN or above) or ``operator`` (the control plane's operator token only:
the whole twin) — and a route missing from the table, or a table entry whose route is gone, fails the suite.

For every non-public route, with its path filled with real ids of objects Acme owns:

* no ``Authorization`` header → 401; an expired token (the twin's virtual clock moved past its ``exp``)
  → 401; a garbage token → 401; HTTP Basic credentials instead of a bearer token → 401;
* a token of another customer account (Globex's ACCOUNT_ADMIN) → 403 or 404, and the Acme object is
  unchanged afterwards (read again as Acme);
* ``admin`` routes: a USER token of Acme (alice) → 403, the object unchanged;
* ``operator`` routes: every platform token (Acme's and Globex's admins, alice) → 403 ``OperatorRequired``;
  the operator token → accepted.

Every error answer is the CloudLink ``{name, message}`` envelope. ``scope`` says what another account's
token can reach: ``account`` routes name an Acme object (in the path, the query or the body) and must refuse
it; ``own`` routes act in the caller's own account (Globex gets an answer about Globex, never Acme's data);
``twin`` routes act on the whole twin (docs/compatibility.md, Control plane): only the operator reaches them.
"""
from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from typing import Any, Iterator
from urllib.parse import parse_qs, urlsplit

import httpx
import jwt
import pytest
from fastapi.routing import iter_route_contexts
from starlette.routing import WebSocketRoute

from callyard.app import build_app
from callyard.config import Settings
from tests.conftest import (ACME, ALICE, APP_ID, BOB, OPERATOR_HEADERS, LiveServer, auth, png_bytes, start_server,
                            token)
from tests.support.mqtt_client import Mqtt
from tests.support.receiver import Receiver

B = "/2017-09-01"
C = "/_callyard"
SERVICES = ("authentication", "admin", "media", "chat", "notifications", "presence")
PUBLIC, USER, ADMIN, OPERATOR_ONLY = "public", "user", "admin", "operator"
ENDPOINT = "2881"  # bob's extension: a number only Acme has (2880 is alice's here and erin's at Globex)
CALLER = "+16135550123"


@dataclass(frozen=True)
class Rule:
    kind: str                 # public | user | admin
    why: str
    scope: str = "account"    # account | own | twin (see the module docstring)
    expect: int | None = None  # public routes: the status they answer without a token
    no_token: int = 401       # what a request without a token gets (GET /token: the spec's 400)
    built: bool = True        # False: answers 501 once the caller passed the checks (no object to read)


def public(why: str, expect: int = 200) -> Rule:
    return Rule(PUBLIC, why, scope="own", expect=expect)


def user(why: str, scope: str = "account", **extra: Any) -> Rule:
    return Rule(USER, why, scope, **extra)


def admin(why: str, scope: str = "account", **extra: Any) -> Rule:
    return Rule(ADMIN, why, scope, **extra)


def operator(why: str) -> Rule:
    return Rule(OPERATOR_ONLY, why, "twin")


def unbuilt(kind: str, why: str, scope: str = "own") -> Rule:
    """A route the twin does not build: it checks the caller as the real one would, then answers 501."""
    return Rule(kind, why + "; not built: 501 once the caller is authenticated and allowed", scope, built=False)

# ------------------------------------------------------------------------------------------- THE TABLE
# (method, path at the root) → Rule. Service-prefixed copies are checked against the root entry.
ROUTES: dict[tuple[str, str], Rule] = {
    # ---------------------------------------------------------------- API docs (FastAPI)
    ("GET", "/openapi.json"): public("the API description; no tenant data"),
    ("GET", "/docs"): public("Swagger UI page over /openapi.json"),
    ("GET", "/docs/oauth2-redirect"): public("Swagger UI's OAuth redirect page"),
    ("GET", "/redoc"): public("ReDoc page over /openapi.json"),
    ("GET", "/"): public("the console's home: the families' docs, the control plane, the built-in demo tenant "
                         "as its fixture documents it (not a tenant of your own)"),
    # ---------------------------------------------------------------- the web console (api/console)
    # Signed in with its own session cookie, never a bearer token: without one a page leads to the sign-in,
    # a stream answers 401. Its session, CSRF and account rules are tested in tests/api/console.
    ("GET", f"{C}/console"): public("the console: to its switchboard", expect=303),
    ("GET", f"{C}/console/"): public("the console: to its switchboard", expect=303),
    ("GET", f"{C}/console/login"): public("the console's sign-in form"),
    ("POST", f"{C}/console/login"): public("the console's sign-in: no credentials → 400", expect=400),
    ("POST", f"{C}/console/logout"): public("ends the console session (none here): back home", expect=303),
    ("GET", f"{C}/console/static/{{asset}}"): public("the console's htmx and CSS; the table's asset is a docs file",
                                                    expect=404),
    ("GET", f"{C}/console/state/export"): public("a console snapshot download: to the sign-in", expect=303),
    ("GET", f"{C}/console/stream/{{screen}}"): public("a console screen's live stream: 401 without a session",
                                                     expect=401),
    ("GET", f"{C}/console/{{screen}}"): public("a console screen: to the sign-in", expect=303),
    ("POST", f"{C}/console/act/{{action}}"): public("a console action: to the sign-in, nothing done", expect=303),
    ("GET", "/favicon.ico"): public("the docs' icon"),
    ("GET", "/docs/assets/{asset}"): public("Swagger UI and ReDoc files from the fastapi-offline package"),
    ("GET", "/docs/{family}"): public("Swagger UI over one family's OpenAPI"),
    ("GET", "/openapi/{family}.json"): public("one family's API description; no tenant data"),
    # ---------------------------------------------------------------- control plane
    ("GET", f"{C}/health"): public("readiness probe (routes.py: health needs no token); no tenant data"),
    ("GET", f"{C}/clock"): public("the clock's mode and time only (routes.py declares no controller on it); "
                                  "no tenant data"),
    ("GET", f"{C}/photos/{{photoId}}/{{size}}"): public("photo URLs go in <img> tags (routes.py, "
                                                        "docs/compatibility.md Admin); the id is unguessable"),
    ("GET", f"{C}/media/recordings/{{recordingId}}"): public(
        "authorised by its HMAC signature and expiry, as a signed storage URL (recordings.py); without a valid "
        "signature 403 InvalidSignature (test_recording_media_needs_its_signature)"),
    ("POST", f"{C}/reset"): admin("back to the tenant baseline: the operator's whole twin, an admin's own "
                                  "accounts (Globex resets Globex)", "own"),
    ("GET", f"{C}/state"): admin("export: the operator's whole twin, an admin's own accounts, secrets sealed", "own"),
    ("POST", f"{C}/state"): admin("import: the operator's whole twin, an admin's own accounts, validated", "own"),
    ("GET", f"{C}/journal"): admin("the request journal: an admin sees requests attributed to its accounts", "own"),
    ("POST", f"{C}/clock/advance"): operator("the one virtual clock of the twin"),
    ("GET", f"{C}/mail"): admin("captured mail of the accounts the caller sees", "own"),
    ("GET", f"{C}/sms"): admin("captured SMS of the accounts the caller sees", "own"),
    ("GET", f"{C}/events"): admin("the event log of the accounts the caller sees", "own"),
    ("GET", f"{C}/sim/calls"): admin("live calls of ?account="),
    ("POST", f"{C}/sim/calls"): admin("an outside caller dials a number of ?account="),
    ("GET", f"{C}/sim/endpoints/{{endpointId}}"): admin("an endpoint of ?account= as the simulator sees it"),
    ("PUT", f"{C}/sim/endpoints/{{endpointId}}"): admin("endpoint settings and behaviour profile"),
    ("POST", f"{C}/sim/endpoints/{{endpointId}}/dtmf"): admin("the phone's user presses keys"),
    ("POST", f"{C}/sim/endpoints/{{endpointId}}/{{action}}"): admin("the phone's user answers, holds, …"),
    ("POST", f"{C}/sim/agents/{{userId}}"): admin("agent login, ready, skills"),
    ("GET", f"{C}/sim/agents/{{userId}}"): admin("an agent's state (logged in, ready, skills, queues)"),
    ("GET", f"{C}/sim/queues"): admin("queue statistics of ?account="),
    ("POST", f"{C}/sim/chats"): admin("a customer of ?account= starts a web chat"),
    ("GET", f"{C}/sim/chats/{{conversationId}}"): admin("a web chat of ?account= as its customer sees it"),
    ("POST", f"{C}/sim/chats/{{conversationId}}/messages"): admin("the web chat's customer types"),
    ("POST", f"{C}/sim/chats/{{conversationId}}/end"): admin("the web chat's customer leaves"),
    ("POST", f"{C}/sim/sms"): admin("a customer texts an Sms queue of ?account="),
    ("GET", f"{C}/sim/sms/{{conversationId}}"): admin("an SMS conversation of ?account="),
    ("GET", f"{C}/deliveries"): admin("the caller's account's webhook delivery log", "own"),
    ("GET", f"{C}/deliveries/{{deliveryId}}"): admin("one delivery of the account"),
    ("POST", f"{C}/deliveries/{{deliveryId}}/replay"): admin("send a delivery again"),
    ("GET", f"{C}/faults"): admin("injected faults: an admin's own (hitting only its accounts' traffic)", "own"),
    ("POST", f"{C}/faults"): admin("inject a fault: an admin's hits only its accounts' traffic", "own"),
    ("DELETE", f"{C}/faults"): admin("remove faults: an admin removes its own", "own"),
    ("GET", f"{C}/faults/{{faultId}}"): admin("one injected fault (Acme's admin injected it)"),
    ("DELETE", f"{C}/faults/{{faultId}}"): admin("remove one fault (Acme's admin injected it)"),
    ("GET", f"{C}/audit"): admin("the best-practice report over the clients seen in the caller's accounts", "own"),
    ("GET", f"{C}/audit/rules"): admin("the rules the audit checks; no tenant data", "own"),
    ("DELETE", f"{C}/audit"): admin("forget the observations of applications seen only in the caller's accounts",
                                    "own"),
    # ---------------------------------------------------------------- WebSocket delivery (checked by
    # test_websocket_routes: MQTT refuses the CONNECT, the JSON stream closes with 4401/4404)
    ("WS", f"{C}/mqtt/{{connectionId}}"): user("MQTT over WebSocket: the token is the CONNECT password"),
    ("WS", f"{C}/stream"): user("JSON stream: ?token= names the caller, subscriptionId/connectionId theirs"),
    # ---------------------------------------------------------------- Authentication
    ("POST", f"{B}/token"): public("obtains tokens: credentials are in the body", 201),
    ("GET", f"{B}/token"): user("the claims of the presented token", "own", no_token=400),  # spec: 400
    ("POST", f"{B}/authorize"): public("the login form posts the user's credentials (authorization code)", 201),
    ("POST", f"{B}/assume-role/token"): user("a token with a lower role or in a customer account"),
    ("POST", f"{B}/guest/token"): public("unauthenticated guests, allowed by the account's guest policy "
                                         "(Acme's does not: 403)", 403),
    ("GET", f"{B}/applications"): public("public information on an application by client_id (login pages)"),
    ("POST", f"{B}/applications"): admin("register an application (PARTNER_ADMIN)"),
    ("GET", f"{B}/apps"): user("applications of the caller's account", "own"),
    ("GET", f"{B}/applications/{{applicationId}}"): user("the application's record on the caller's account"),
    ("PUT", f"{B}/applications/{{applicationId}}"): admin("enable or update an application on an account"),
    ("DELETE", f"{B}/applications/{{applicationId}}"): admin("remove an application from an account"),
    ("GET", f"{B}/applications/{{applicationId}}/tags"): user("tags of the application's record"),
    ("POST", f"{B}/applications/{{applicationId}}/tags"): admin("tag the application's record"),
    ("GET", f"{B}/applications/{{applicationId}}/tags/{{tagId}}"): user("one tag"),
    ("PUT", f"{B}/applications/{{applicationId}}/tags/{{tagId}}"): admin("change a tag"),
    ("DELETE", f"{B}/applications/{{applicationId}}/tags/{{tagId}}"): admin("remove a tag"),
    ("GET", f"{B}/.well-known/openid-configuration"): public("OpenID Connect discovery"),
    ("GET", f"{B}/.well-known/oauth-authorization-server"): public("OAuth 2.0 server metadata"),
    ("GET", f"{B}/.well-known/mitel/hydra"): public("Mitel client discovery"),
    ("GET", f"{B}/accounts/{{accountId}}/.well-known/jwks.json"): public("public keys that verify tokens"),
    ("GET", f"{B}/_status"): public("service status"),
    ("GET", f"{B}/_failover"): public("failover status"),
    ("GET", f"{B}/_spec"): public("the service's OpenAPI document"),
    ("GET", f"{B}/sso"): public("deprecated social sign-on providers: an empty list (the real spec)"),
    ("GET", f"{B}/sso/{{providerId}}"): public("deprecated social sign-on: 410 (the real spec)", 410),
    ("GET", f"{B}/sso/{{providerId}}/callback"): public("deprecated social sign-on: 410 (the real spec)", 410),
    ("POST", f"{B}/saml2/start"): public("SAML sign-on starts from a browser without a token; not built", 501),
    ("POST", f"{B}/saml2/{{accountId}}/cs"): public("SAML assertion consumer: the IdP posts a signed assertion, "
                                                   "no bearer token; not built", 501),
    ("POST", f"{B}/saml2/logout"): public("SAML logout from a browser; not built", 501),
    ("GET", f"{B}/saml2/status"): public("SAML status from a browser; not built", 501),
    ("POST", f"{B}/policy-test"): unbuilt(USER, "test resources against the caller's policy"),
    ("GET", f"{B}/identityProviders"): unbuilt(ADMIN, "identity providers"),
    ("POST", f"{B}/identityProviders"): unbuilt(ADMIN, "identity providers"),
    ("GET", f"{B}/identityProviders/{{identityProviderId}}"): unbuilt(ADMIN, "identity providers"),
    ("PUT", f"{B}/identityProviders/{{identityProviderId}}"): unbuilt(ADMIN, "identity providers"),
    ("DELETE", f"{B}/identityProviders/{{identityProviderId}}"): unbuilt(ADMIN, "identity providers"),
    ("GET", f"{B}/credentials"): unbuilt(ADMIN, "stored credentials"),
    ("POST", f"{B}/credentials"): unbuilt(ADMIN, "stored credentials"),
    ("GET", f"{B}/accounts/{{accountId}}/credentials"): unbuilt(ADMIN, "an account's stored credentials", "account"),
    ("GET", f"{B}/credentials/{{credentialId}}"): unbuilt(ADMIN, "stored credentials"),
    ("PUT", f"{B}/credentials/{{credentialId}}"): unbuilt(ADMIN, "stored credentials"),
    ("POST", f"{B}/credentials/{{credentialId}}"): unbuilt(ADMIN, "stored credentials"),
    ("DELETE", f"{B}/credentials/{{credentialId}}"): unbuilt(ADMIN, "stored credentials"),
    ("GET", f"{B}/trusted-issuers"): unbuilt(ADMIN, "trusted token issuers"),
    ("POST", f"{B}/trusted-issuers"): unbuilt(ADMIN, "trusted token issuers"),
    ("GET", f"{B}/accounts/{{accountId}}/trusted-issuers"): unbuilt(ADMIN, "an account's trusted issuers", "account"),
    ("GET", f"{B}/trusted-issuers/{{issuerId}}"): unbuilt(ADMIN, "trusted token issuers"),
    ("PUT", f"{B}/trusted-issuers/{{issuerId}}"): unbuilt(ADMIN, "trusted token issuers"),
    ("DELETE", f"{B}/trusted-issuers/{{issuerId}}"): unbuilt(ADMIN, "trusted token issuers"),
    # ---------------------------------------------------------------- Admin: accounts
    ("GET", f"{B}/accounts"): user("accounts visible to the caller", "own"),
    ("POST", f"{B}/accounts"): admin("create a customer account (PARTNER_ADMIN)", "own"),
    ("GET", f"{B}/accounts/{{accountId}}"): user("one account"),
    ("PUT", f"{B}/accounts/{{accountId}}"): admin("change an account"),
    ("DELETE", f"{B}/accounts/{{accountId}}"): admin("delete an account (PARTNER_ADMIN)"),
    ("PUT", f"{B}/accounts/{{accountId}}/tags/{{tagId}}"): admin("tag an account"),
    ("DELETE", f"{B}/accounts/{{accountId}}/tags/{{tagId}}"): admin("untag an account"),
}

# Admin: users, groups, contacts and photos exist in the token's account and in an explicit account.
for _scope in ("", "/accounts/{accountId}"):
    _own = "account" if _scope else "own"
    ROUTES.update({
        ("GET", f"{B}{_scope}/users"): user("users of the account", _own),
        ("GET", f"{B}{_scope}/users/{{userId}}"): user("one user"),
        ("PUT", f"{B}{_scope}/users/{{userId}}"): user("a user changes their own profile, an admin anyone's"),
        ("DELETE", f"{B}{_scope}/users/{{userId}}"): admin("delete a user"),
        ("GET", f"{B}{_scope}/users/{{userId}}/tags/{{tagId}}"): user("one tag of a user"),
        ("PUT", f"{B}{_scope}/users/{{userId}}/tags/{{tagId}}"): admin("tag a user"),
        ("DELETE", f"{B}{_scope}/users/{{userId}}/tags/{{tagId}}"): admin("untag a user"),
        ("PUT", f"{B}{_scope}/users/{{userId}}/photo"): user("a user sets their own photo, an admin anyone's"),
        ("DELETE", f"{B}{_scope}/users/{{userId}}/photo"): user("a user removes their own photo, an admin anyone's"),
        ("PUT", f"{B}{_scope}/contacts/{{contactId}}/photo"): admin("a contact's photo"),
        ("DELETE", f"{B}{_scope}/contacts/{{contactId}}/photo"): admin("a contact's photo"),
        ("GET", f"{B}{_scope}/groups"): user("groups of the account", _own),
        ("POST", f"{B}{_scope}/groups"): admin("create a group", _own),
        ("GET", f"{B}{_scope}/groups/{{groupId}}"): user("one group"),
        ("PUT", f"{B}{_scope}/groups/{{groupId}}"): admin("change a group"),
        ("DELETE", f"{B}{_scope}/groups/{{groupId}}"): admin("delete a group"),
        ("GET", f"{B}{_scope}/groups/{{groupId}}/members"): user("members of a group"),
        ("POST", f"{B}{_scope}/groups/{{groupId}}/members"): user("an admin adds members; a user joins a PUBLIC "
                                                                  "group"),
        ("DELETE", f"{B}{_scope}/groups/{{groupId}}/members/{{memberId}}"): user("an admin removes a member; a "
                                                                              "user leaves"),
        ("GET", f"{B}{_scope}/contacts"): user("contacts of the account", _own),
        ("POST", f"{B}{_scope}/contacts"): admin("create a contact", _own),
        ("GET", f"{B}{_scope}/contacts/{{contactId}}"): user("one contact"),
        ("PUT", f"{B}{_scope}/contacts/{{contactId}}"): admin("change a contact"),
        ("DELETE", f"{B}{_scope}/contacts/{{contactId}}"): admin("delete a contact"),
    })
ROUTES.update({
    ("POST", f"{B}/users"): admin("create a USER in the account named in the body (legacy)"),
    ("POST", f"{B}/accounts/{{accountId}}/users"): admin("create a user"),
    ("PATCH", f"{B}/accounts/{{accountId}}/users"): admin("bulk create, update, delete users"),
    ("POST", f"{B}/accounts/{{accountId}}/users/{{userId}}/welcome"): admin("send the welcome mail"),
    ("GET", f"{B}/accounts/{{accountId}}/clients"): admin("clients of the account"),
    ("POST", f"{B}/accounts/{{accountId}}/clients"): admin("create a client"),
    ("GET", f"{B}/accounts/{{accountId}}/clients/{{clientId}}"): admin("one client"),
    ("DELETE", f"{B}/accounts/{{accountId}}/clients/{{clientId}}"): admin("delete a client"),
    # ---------------------------------------------------------------- Media
    ("GET", f"{B}/endpoints/{{endpointId}}"): user("a user's own endpoint, an admin's any"),
    ("PUT", f"{B}/endpoints/{{endpointId}}"): user("a user's own endpoint, an admin's any"),
    ("GET", f"{B}/endpoints/{{endpointId}}/calls"): user("calls of a controllable endpoint"),
    ("POST", f"{B}/endpoints/{{endpointId}}/calls"): user("Make Call from a controllable endpoint"),
    ("GET", f"{B}/endpoints/{{endpointId}}/calls/{{callId}}"): user("one active call"),
    ("PUT", f"{B}/endpoints/{{endpointId}}/calls/{{callId}}"): user("call control"),
    ("GET", f"{B}/calls/records"): user("call records the caller may see", "own"),
    ("PUT", f"{B}/calls/records"): user("hide the caller's visible call records", "own"),
    ("GET", f"{B}/calls/{{callId}}/records"): user("records of one call"),
    ("PUT", f"{B}/calls/{{callId}}/records"): user("hide the records of one call"),
    ("GET", f"{B}/recordings"): user("recordings the caller may see", "own"),
    ("GET", f"{B}/recordings/{{recordingId}}"): user("one recording"),
    ("PUT", f"{B}/recordings/{{recordingId}}"): user("label a recording"),
    ("DELETE", f"{B}/recordings/{{recordingId}}"): admin("deleting a recording needs ACCOUNT_ADMIN"),
    ("GET", f"{B}/conferences"): user("conferences visible to the caller", "own"),
    ("POST", f"{B}/conferences"): user("create a conference", "own"),
    ("GET", f"{B}/conferences/content"): user("search the caller's conferences", "own"),
    ("GET", f"{B}/conferences/{{conferenceId}}"): user("one conference"),
    ("POST", f"{B}/conferences/{{conferenceId}}"): user("conference actions: creator or admin"),
    ("PUT", f"{B}/conferences/{{conferenceId}}"): user("update: creator or admin"),
    ("DELETE", f"{B}/conferences/{{conferenceId}}"): user("delete: creator or admin"),
    ("GET", f"{B}/conferences/{{conferenceId}}/participants"): user("participants"),
    ("POST", f"{B}/conferences/{{conferenceId}}/participants"): user("add a participant"),
    ("GET", f"{B}/conferences/{{conferenceId}}/participants/{{participantId}}"): user("one participant"),
    ("PUT", f"{B}/conferences/{{conferenceId}}/participants/{{participantId}}"): user("leave, mute"),
    ("DELETE", f"{B}/conferences/{{conferenceId}}/participants/{{participantId}}"): user("remove a participant"),
    ("POST", f"{B}/conferences/{{conferenceId}}/participants/{{participantId}}/connections"):
        user("connect a participant"),
    ("GET", f"{B}/users/{{userId}}/conferences"): user("a user's conferences"),
    ("GET", f"{B}/users/{{userId}}/attendances"): user("a user's attendances"),
    # ---------------------------------------------------------------- Notifications
    ("GET", f"{B}/subscriptions"): user("the caller's subscriptions", "own"),
    ("POST", f"{B}/subscriptions"): user("subscribe", "own"),
    ("GET", f"{B}/subscriptions/{{subscriptionId}}"): user("one of the caller's subscriptions"),
    ("PUT", f"{B}/subscriptions/{{subscriptionId}}"): user("change or renew a subscription"),
    ("DELETE", f"{B}/subscriptions/{{subscriptionId}}"): user("unsubscribe"),
    ("GET", f"{B}/connections"): user("the caller's connections", "own"),
    ("POST", f"{B}/connections"): user("open a WebSocket connection", "own"),
    ("GET", f"{B}/connections/{{connectionId}}"): user("one of the caller's connections"),
    ("DELETE", f"{B}/connections/{{connectionId}}"): user("close a connection"),
    # ---------------------------------------------------------------- Presence
    ("GET", f"{B}/presentities"): user("presence of users of the caller's account", "own"),
    ("GET", f"{B}/presentities/{{principalId}}"): user("anyone in the account reads presence"),
    ("PUT", f"{B}/presentities/{{principalId}}"): user("a user sets their own presence, an admin anyone's"),
    # ---------------------------------------------------------------- Conversations
    ("GET", f"{B}/conversations"): user("the caller's conversations", "own"),
    ("POST", f"{B}/conversations"): user("any principal may chat", "own"),
    ("GET", f"{B}/users/me/conversations"): user("the caller's conversations", "own"),
    ("GET", f"{B}/conversations/{{conversationId}}"): user("one conversation"),
    ("PUT", f"{B}/conversations/{{conversationId}}"): user("participants or admins update"),
    ("PATCH", f"{B}/conversations/{{conversationId}}"): user("alias of PUT"),
    ("DELETE", f"{B}/conversations/{{conversationId}}"): user("creator or admin deletes"),
    ("GET", f"{B}/conversations/{{conversationId}}/participants"): user("participants"),
    ("POST", f"{B}/conversations/{{conversationId}}/participants"): user("invite, add, join"),
    ("GET", f"{B}/conversations/{{conversationId}}/participants/{{participantId}}"): user("one participant"),
    ("PUT", f"{B}/conversations/{{conversationId}}/participants/{{participantId}}"): user("accept, decline"),
    ("DELETE", f"{B}/conversations/{{conversationId}}/participants/{{participantId}}"): user("leave, remove"),
    ("POST", f"{B}/conversations/{{conversationId}}/messages"): user("post as the caller"),
    ("GET", f"{B}/conversations/{{conversationId}}/messages"): user("read messages"),
    ("GET", f"{B}/conversations/{{conversationId}}/messages/{{messageId}}"): user("one message"),
    ("PUT", f"{B}/conversations/{{conversationId}}/messages/{{messageId}}"): user("the sender edits"),
    ("PATCH", f"{B}/conversations/{{conversationId}}/messages/{{messageId}}"): user("alias of PUT"),
    ("DELETE", f"{B}/conversations/{{conversationId}}/messages/{{messageId}}"): user("sender or admin deletes"),
    ("POST", f"{B}/conversations/{{conversationId}}/transcripts"): user("a transcript for participants"),
})

# Routes the schema leaves out on purpose (besides the service-prefixed copies of the CloudLink routes).
HIDDEN_FROM_SCHEMA = {
    ("GET", "/openapi.json"), ("GET", "/docs"), ("GET", "/docs/oauth2-redirect"), ("GET", "/redoc"),
    ("GET", "/"), ("GET", "/favicon.ico"), ("GET", "/docs/assets/{asset}"), ("GET", "/docs/{family}"),
    ("GET", "/openapi/{family}.json"),
    ("GET", f"{C}/console"), ("GET", f"{C}/console/"), ("GET", f"{C}/console/login"), ("POST", f"{C}/console/login"),
    ("POST", f"{C}/console/logout"), ("GET", f"{C}/console/static/{{asset}}"), ("GET", f"{C}/console/state/export"),
    ("GET", f"{C}/console/stream/{{screen}}"), ("GET", f"{C}/console/{{screen}}"),
    ("POST", f"{C}/console/act/{{action}}"),
    ("PATCH", f"{B}/conversations/{{conversationId}}"),
    ("PATCH", f"{B}/conversations/{{conversationId}}/messages/{{messageId}}"),
}


# ------------------------------------------------------------------------------------------- the routes
def mounted(app: Any) -> list[tuple[str, str]]:
    """Every (method, path) the application serves; WebSocket routes as method ``WS``."""
    found: list[tuple[str, str]] = []
    for route in iter_route_contexts(app.routes):
        if getattr(route.original_route, "family", None) == "uc":
            continue   # the UC family's own credential and envelope: tests/api/uc/test_route_security.py
        if isinstance(route.original_route, WebSocketRoute) or route.methods is None:
            found.append(("WS", route.path))
            continue
        found.extend((m, route.path) for m in sorted(route.methods) if m != "HEAD")
    return found


def root_of(path: str) -> str:
    """``/admin/2017-09-01/users`` → ``/2017-09-01/users``; other paths unchanged."""
    for service in SERVICES:
        if path.startswith(f"/{service}{B}/") or path == f"/{service}{B}":
            return path[len(service) + 1:]
    return path


def schema_operations(schema: dict[str, Any]) -> set[tuple[str, str]]:
    methods = {"get", "put", "post", "delete", "patch"}
    return {(m.upper(), p) for p, item in schema["paths"].items() for m in item if m in methods}


# Families with their own tokens and envelope enumerate their routes in their own security test
# (tests/security/test_cx_enumeration.py); this one covers CloudLink and the control plane.
OWN_ENUMERATION = ("/miccsdk", "/authorizationserver")


def ours(routes: list[tuple[str, str]]) -> list[tuple[str, str]]:
    return [r for r in routes if not r[1].lower().startswith(OWN_ENUMERATION)]


ALL_ROUTES = ours(mounted(build_app(Settings(ephemeral=True))))
HTTP_ROUTES = [r for r in ALL_ROUTES if r[0] != "WS"]


# ------------------------------------------------------------------------------------------- the world
@dataclass
class World:
    live: LiveServer
    client: httpx.Client
    admin: dict[str, str]      # Acme ACCOUNT_ADMIN
    alice: dict[str, str]      # Acme USER
    globex: dict[str, str]     # Globex ACCOUNT_ADMIN
    expired: dict[str, str]    # an Acme ACCOUNT_ADMIN token past its exp on the twin's clock
    ids: dict[str, str]
    media_query: dict[str, str]  # expires and signature of the recording's signed media URL


def ok(response: httpx.Response, *statuses: int) -> Any:
    assert response.status_code in (statuses or (200, 201, 202)), f"{response.request.method} " \
        f"{response.request.url}: {response.status_code} {response.text}"
    return response.json()


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    with start_server(clock="manual") as live, Receiver() as receiver, \
            httpx.Client(base_url=live.url, timeout=10) as c:
        stale = token(c, "admin@acme.example")
        exp = float(jwt.decode(stale, options={"verify_signature": False})["exp"])
        now = live.app.state.core.rt.clock.timestamp()
        ok(c.post(f"{C}/clock/advance", json={"seconds": exp - now + 60}, headers=OPERATOR_HEADERS))
        admin, alice = auth(token(c, "admin@acme.example")), auth(token(c, "alice@acme.example"))
        globex = auth(token(c, "admin@globex.example"))
        assert c.get(f"{B}/users", headers=auth(stale)).json()["name"] == "TokenExpired"
        ids: dict[str, str] = {}

        # Admin objects: a user with a tag and a photo, a group, a contact, a client, tags.
        target = ok(c.post(f"{B}/accounts/{ACME}/users", headers=admin, json={
            "email": "target@acme.example", "name": "Target User", "password": "callyard"}))
        ids["userId"] = target["userId"]
        ok(c.put(f"{B}/users/{ids['userId']}/tags/color", headers=admin, json="blue"))
        photo = ok(c.put(f"{B}/users/{ids['userId']}/photo", content=png_bytes(),
                         headers={**admin, "content-type": "image/png"}))
        ids["photoId"] = photo["photoUrl"].rsplit("/", 2)[-2]
        ids["groupId"] = ok(c.post(f"{B}/accounts/{ACME}/groups", headers=admin, json={
            "name": "Security", "members": [{"memberId": ids["userId"]}]}))["groupId"]
        ids["contactId"] = ok(c.post(f"{B}/accounts/{ACME}/contacts", headers=admin,
                                     json={"name": "Vendor"}))["contactId"]
        ids["clientId"] = ok(c.post(f"{B}/accounts/{ACME}/clients", headers=admin,
                                    json={"name": "CRM"}))["clientId"]
        ok(c.put(f"{B}/accounts/{ACME}/tags/region", headers=admin, json="east"))
        ok(c.post(f"{B}/applications/{APP_ID}/tags", headers=admin, json={"id": "env", "value": "prod"}))
        ok(c.post(f"{B}/accounts/{ACME}/users/{ids['userId']}/welcome", headers=admin, json={}))

        # Notifications: a webhook subscription (delivering to a local receiver) and a websocket one.
        ids["subscriptionId"] = ok(c.post(f"{B}/subscriptions", headers=admin, json={
            "applicationId": "security-test", "deviceId": receiver.url,
            "topic": "platform-api-conversations"}))["subscriptionId"]
        ids["connectionId"] = ok(c.post(f"{B}/connections", headers=admin,
                                        json={"transport": "websocket"}))["connectionId"]
        ids["wsSubscriptionId"] = ok(c.post(f"{B}/subscriptions", headers=admin, json={
            "transport": "websocket", "connectionId": ids["connectionId"],
            "topic": "platform-api-presence"}))["subscriptionId"]

        # Conversations: a stream with alice and a message (which the webhook delivers).
        ids["conversationId"] = ok(c.post(f"{B}/conversations", headers=admin, json={
            "stream": True, "name": "Security", "originalParticipants": [{"participantId": ALICE}]}))[
            "conversationId"]
        ids["messageId"] = ok(c.post(f"{B}/conversations/{ids['conversationId']}/messages", headers=admin,
                                     json={"body": "hello"}))["messageId"]
        receiver.wait_for(1)
        ids["deliveryId"] = receiver.accepted()[0]["headers"]["webhook-id"]

        # Media: a conference with alice, a recorded call alice → bob that ended, a live call at bob's phone.
        ids["conferenceId"] = ok(c.post(f"{B}/conferences", headers=admin, json={
            "name": "Security review", "participants": [{"participantId": ALICE}]}))["id"]
        made = ok(c.post(f"{B}/endpoints/2880/calls", headers=alice, json={"to": ENDPOINT, "record": True}))
        ok(c.post(f"{C}/sim/endpoints/{ENDPOINT}/answer", headers=admin))
        ok(c.post(f"{C}/clock/advance", json={"seconds": 5}, headers=OPERATOR_HEADERS))
        ok(c.put(f"{B}/endpoints/2880/calls/{made['callId']}", headers=alice, json={"action": "end"}))
        ids["recordCallId"] = json.loads(made["extraPbxData"])["callTrackingID"]
        [recording] = ok(c.get(f"{B}/recordings", headers=admin))["_embedded"]["items"]
        ids["recordingId"] = recording["recordingId"]
        url = ok(c.get(f"{B}/recordings/{ids['recordingId']}", params={"$expand": "media"}, headers=admin))[
            "_embedded"]["media"]["url"]
        media_query = {k: v[0] for k, v in parse_qs(urlsplit(url).query).items()}
        ok(c.post(f"{C}/sim/calls", headers=admin, json={"from": CALLER, "to": ENDPOINT}), 201)
        ok(c.post(f"{C}/sim/endpoints/{ENDPOINT}/answer", headers=admin))
        [live_call] = ok(c.get(f"{B}/endpoints/{ENDPOINT}/calls", headers=admin))["_embedded"]["items"]
        ids["liveCallId"] = live_call["callId"]

        # The contact center's customers: a web chat and an SMS conversation waiting in Acme's queues.
        ids["chatId"] = ok(c.post(f"{C}/sim/chats", headers=admin, json={"name": "Zed", "text": "hi"}),
                           201)["conversationId"]
        ids["smsId"] = ok(c.post(f"{C}/sim/sms", headers=admin, json={"from": CALLER, "text": "hi"}),
                          201)["conversationId"]

        # A fault that matches no route, so that one exists to be read and (not) removed.
        ids["faultId"] = ok(c.post(f"{C}/faults", headers=admin, json={
            "route": "/nothing/matches/this", "status": 503}))["faultId"]

        # Everything delivered and settled: nothing changes by itself from here on (manual clock).
        deadline = time.monotonic() + 10
        while any(d["status"] == "pending" for d in ok(c.get(f"{C}/deliveries", headers=admin))["_embedded"]["items"]):
            assert time.monotonic() < deadline, "the webhook deliveries did not settle"
            time.sleep(0.05)
        yield World(live, c, admin, alice, globex, auth(stale), ids, media_query)


# ------------------------------------------------------------------------------------------- requests
def fill(path: str, ids: dict[str, str]) -> str:
    """The route's path with real ids of Acme's objects."""
    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name == "tagId":
            return "env" if "/applications/" in path \
                else "region" if path.startswith(f"{B}/accounts/{{accountId}}/tags") \
                else "color"
        if name == "callId":
            return ids["liveCallId"] if "/endpoints/" in path else ids["recordCallId"]
        if name == "userId":
            return ALICE if "/sim/agents/" in path else ids["userId"]
        if name == "conversationId" and path.startswith(f"{C}/sim/"):
            return ids["chatId"] if "/sim/chats/" in path else ids["smsId"]
        fixed = {"accountId": ACME, "endpointId": ENDPOINT, "action": "hold", "memberId": ids["userId"],
                 "principalId": ALICE, "participantId": ALICE, "applicationId": APP_ID, "size": "50",
                 "providerId": "google", "identityProviderId": "idp-1", "credentialId": "cred-1",
                 "issuerId": "issuer-1", "family": "cloudlink", "asset": "swagger-ui.css",
                 "screen": "switchboard"}
        if name in fixed:
            return fixed[name]
        return ids[name]
    return re.sub(r"\{(\w+)\}", value, path)


def request_for(method: str, path: str, w: World) -> dict[str, Any]:
    """A plausible request for the route (httpx keyword arguments): the point is that authorisation is decided
    before anything changes. Bodies and queries that can name an account or a principal name Acme's."""
    ids = w.ids
    sim = {"params": {"account": ACME}}
    bodies: dict[tuple[str, str], dict[str, Any]] = {
        ("POST", f"{C}/state"): {"json": {"format": "callyard-state", "version": 1}},
        ("POST", f"{C}/clock/advance"): {"json": {"seconds": 0}},
        ("POST", f"{C}/sim/calls"): {"json": {"from": "+16135550999", "to": "2882"}, **sim},
        ("PUT", f"{C}/sim/endpoints/{{endpointId}}"): {"json": {"callWaiting": True}, **sim},
        ("POST", f"{C}/sim/endpoints/{{endpointId}}/dtmf"): {"json": {"digits": "1"}, **sim},
        ("POST", f"{C}/sim/agents/{{userId}}"): {"json": {"loggedIn": True}, **sim},
        ("POST", f"{C}/sim/chats"): {"json": {"name": "Intruder", "text": "hi"}, **sim},
        ("POST", f"{C}/sim/chats/{{conversationId}}/messages"): {"json": {"text": "injected"}, **sim},
        ("POST", f"{C}/sim/sms"): {"json": {"from": "+16135550999", "text": "injected"}, **sim},
        ("GET", f"{C}/deliveries"): {"params": {"subscriptionId": ids["subscriptionId"]}},
        ("GET", f"{C}/media/recordings/{{recordingId}}"): {"params": w.media_query},
        ("POST", f"{C}/faults"): {"json": {"route": "/nothing/matches/this", "status": 503}},
        ("POST", f"{B}/token"): {"data": {"grant_type": "password", "username": "alice@acme.example",
                                          "password": "callyard"}},
        ("POST", f"{B}/authorize"): {"data": {"client_id": APP_ID, "response_type": "code",
                                              "username": "alice@acme.example", "password": "callyard",
                                              "redirect_uri": "http://localhost:3000/callback"}},
        ("POST", f"{B}/assume-role/token"): {"json": {"accountId": ACME, "role": "USER"}},
        ("POST", f"{B}/guest/token"): {"json": {"accountId": ACME, "name": "A Guest"}},
        ("GET", f"{B}/applications"): {"params": {"client_id": APP_ID}},
        ("POST", f"{B}/applications"): {"json": {"accountId": ACME, "name": "Sneaky", "description": "x"}},
        ("PUT", f"{B}/applications/{{applicationId}}"): {"json": {"accountId": ACME, "name": "Renamed"}},
        ("DELETE", f"{B}/applications/{{applicationId}}"): {"json": {"accountId": ACME}},
        ("POST", f"{B}/applications/{{applicationId}}/tags"): {"json": {"id": "other", "value": "x"}},
        ("PUT", f"{B}/applications/{{applicationId}}/tags/{{tagId}}"): {"json": {"value": "changed"}},
        ("POST", f"{B}/accounts"): {"json": {"name": "Initech"}},
        ("PUT", f"{B}/accounts/{{accountId}}"): {"json": {"description": "changed"}},
        ("PUT", f"{B}/accounts/{{accountId}}/tags/{{tagId}}"): {"json": "west"},
        ("POST", f"{B}/users"): {"json": {"email": "sneaky@acme.example", "accountId": ACME}},
        ("POST", f"{B}/accounts/{{accountId}}/users"): {"json": {"email": "sneaky@acme.example"}},
        ("PATCH", f"{B}/accounts/{{accountId}}/users"): {"json": {"operations": [
            {"op": "update", "id": ids["userId"], "body": {"name": "Changed"}}]}},
        ("POST", f"{B}/accounts/{{accountId}}/users/{{userId}}/welcome"): {"json": {}},
        ("POST", f"{B}/accounts/{{accountId}}/clients"): {"json": {"name": "Sneaky"}},
        ("POST", f"{B}/endpoints/{{endpointId}}/calls"): {"json": {"to": "2882"}},
        ("PUT", f"{B}/endpoints/{{endpointId}}"): {"json": {"action": "dnd", "userAvailability": "dnd",
                                                            "enabled": True}},
        ("PUT", f"{B}/endpoints/{{endpointId}}/calls/{{callId}}"): {"json": {"action": "hold"}},
        ("PUT", f"{B}/calls/records"): {"json": {"hide": True}},
        ("PUT", f"{B}/calls/{{callId}}/records"): {"json": {"hide": True}},
        ("PUT", f"{B}/recordings/{{recordingId}}"): {"json": {"label": "changed"}},
        ("POST", f"{B}/conferences"): {"json": {"name": "Other meeting"}},
        ("GET", f"{B}/conferences"): {"params": {"containsAllParticipants": ALICE}},
        ("GET", f"{B}/conferences/content"): {"params": {"$search": "Security"}},
        ("POST", f"{B}/conferences/{{conferenceId}}"): {"json": {"action": "end"}},
        ("PUT", f"{B}/conferences/{{conferenceId}}"): {"json": {"name": "Renamed"}},
        ("POST", f"{B}/conferences/{{conferenceId}}/participants"): {"json": {"participantId": BOB}},
        ("PUT", f"{B}/conferences/{{conferenceId}}/participants/{{participantId}}"): {"json": {"muted": True}},
        ("POST", f"{B}/subscriptions"): {"json": {"applicationId": "other", "deviceId": "http://127.0.0.1:9/hook",
                                                  "topic": "platform-api-admin"}},
        ("PUT", f"{B}/subscriptions/{{subscriptionId}}"): {"json": {"subjectFilter": "^/changed"}},
        ("POST", f"{B}/connections"): {"json": {"transport": "websocket"}},
        ("GET", f"{B}/presentities"): {"params": {"principalIds": ALICE}},
        ("PUT", f"{B}/presentities/{{principalId}}"): {"json": {"status": "away", "note": "changed"}},
        ("POST", f"{B}/conversations"): {"json": {"stream": True, "name": "Other"}},
        ("PUT", f"{B}/conversations/{{conversationId}}"): {"json": {"name": "Renamed"}},
        ("PATCH", f"{B}/conversations/{{conversationId}}"): {"json": {"name": "Renamed"}},
        ("POST", f"{B}/conversations/{{conversationId}}/participants"): {"json": {"participantId": BOB}},
        ("PUT", f"{B}/conversations/{{conversationId}}/participants/{{participantId}}"):
            {"json": {"status": "DECLINED"}},
        ("POST", f"{B}/conversations/{{conversationId}}/messages"): {"json": {"body": "injected"}},
        ("PUT", f"{B}/conversations/{{conversationId}}/messages/{{messageId}}"): {"json": {"body": "changed"}},
        ("PATCH", f"{B}/conversations/{{conversationId}}/messages/{{messageId}}"): {"json": {"body": "changed"}},
        ("POST", f"{B}/conversations/{{conversationId}}/transcripts"): {"json": {"contentType": "application/json"}},
    }
    for scope in ("", "/accounts/{accountId}"):
        bodies.update({
            ("PUT", f"{B}{scope}/users/{{userId}}"): {"json": {"name": "Changed"}},
            ("PUT", f"{B}{scope}/users/{{userId}}/tags/{{tagId}}"): {"json": "red"},
            ("PUT", f"{B}{scope}/users/{{userId}}/photo"): {"content": png_bytes((60, 60), "blue"),
                                                             "headers": {"content-type": "image/png"}},
            ("PUT", f"{B}{scope}/contacts/{{contactId}}/photo"): {"content": png_bytes((60, 60), "blue"),
                                                                   "headers": {"content-type": "image/png"}},
            ("POST", f"{B}{scope}/groups"): {"json": {"name": "Other group"}},
            ("PUT", f"{B}{scope}/groups/{{groupId}}"): {"json": {"name": "Renamed"}},
            ("POST", f"{B}{scope}/groups/{{groupId}}/members"): {"json": {"memberId": BOB}},
            ("POST", f"{B}{scope}/contacts"): {"json": {"name": "Other contact"}},
            ("PUT", f"{B}{scope}/contacts/{{contactId}}"): {"json": {"name": "Renamed"}},
        })
    if path.startswith(f"{C}/sim/"):
        return {**sim, **bodies.get((method, path), {})}
    return bodies.get((method, path), {})


def send(w: World, method: str, path: str, root: str, headers: dict[str, str] | None) -> httpx.Response:
    spec = dict(request_for(method, root, w))
    merged = {**(headers or {}), **spec.pop("headers", {})}
    return w.client.request(method, fill(path, w.ids), headers=merged, **spec)


def witness(method: str, root: str) -> str | None:
    """The read that shows whether a write changed the Acme object: the GET of the same path, else of the
    nearest parent path that has one."""
    if method == "GET":
        return None
    parts = root.split("/")
    while len(parts) > 2:
        candidate = "/".join(parts)
        rule = ROUTES.get(("GET", candidate))
        if rule is not None and rule.kind != PUBLIC and rule.built and ("GET", candidate) in ALL_ROUTES:
            return candidate
        parts.pop()
    return None


VOLATILE = {"generatedAt"}  # stamped on every read (the audit report)


def steady(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: steady(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [steady(v) for v in value]
    return value


def read(w: World, path: str) -> Any:
    response = w.client.get(fill(path, w.ids), headers=w.admin, params=request_for("GET", path, w).get("params"))
    assert response.status_code == 200, f"witness GET {path}: {response.status_code} {response.text}"
    return steady(response.json())


def refused(response: httpx.Response, statuses: tuple[int, ...], what: str) -> dict[str, Any]:
    assert response.status_code in statuses, (f"{what}: {response.request.method} {response.request.url.path} "
                                              f"answered {response.status_code}, wanted {statuses}: {response.text}")
    body = response.json()
    assert isinstance(body.get("name"), str) and body["name"], f"{what}: no envelope name: {body}"
    assert isinstance(body.get("message"), str) and body["message"], f"{what}: no envelope message: {body}"
    return body


def acme_ids(w: World) -> set[str]:
    return {ACME, *(v for k, v in w.ids.items() if k not in ("photoId",))}


# ------------------------------------------------------------------------------------------- the tests
def test_schema_and_route_table_agree(world: World) -> None:
    """Every operation of the live OpenAPI is served; every served route not in the schema is a prefixed copy
    of a root route or deliberately hidden; every route is in the table and every table entry is served."""
    live_routes = ours(mounted(world.live.app))
    assert sorted(live_routes) == sorted(ALL_ROUTES), "the route list changed between collection and the server"
    schema = ok(world.client.get("/openapi.json"))
    operations = schema_operations(schema)
    served = set(live_routes)
    assert operations - served == set(), "operations in the schema that no route serves"
    root_routes = {r for r in served if root_of(r[1]) == r[1]}
    hidden = {r for r in root_routes if r[0] != "WS"} - operations
    assert hidden == HIDDEN_FROM_SCHEMA, f"routes missing from the schema: {sorted(hidden - HIDDEN_FROM_SCHEMA)}; " \
                                         f"no longer hidden or gone: {sorted(HIDDEN_FROM_SCHEMA - hidden)}"
    for method, path in served - root_routes:
        assert (method, root_of(path)) in root_routes, f"{method} {path} has no root route"
        assert (method, path) not in operations, f"the prefixed copy {method} {path} is in the schema"
    normalised = {(m, root_of(p)) for m, p in served}
    unclassified = sorted(normalised - set(ROUTES))
    assert unclassified == [], f"routes missing from ROUTES (classify them): {unclassified}"
    gone = sorted(k for k in ROUTES if k not in normalised)
    assert gone == [], f"ROUTES entries that no longer exist: {gone}"


@pytest.mark.parametrize("method,path", HTTP_ROUTES, ids=[f"{m} {p}" for m, p in HTTP_ROUTES])
def test_route_authorisation(world: World, method: str, path: str) -> None:
    root = root_of(path)
    rule = ROUTES.get((method, root))
    assert rule is not None, f"{method} {root} is not classified in ROUTES"
    w = world
    if rule.kind == PUBLIC:
        response = send(w, method, path, root, None)
        assert response.status_code == rule.expect, \
            f"public {method} {path}: {response.status_code}, wanted {rule.expect}: {response.text[:300]}"
        return

    # (a) and (b): no token, an expired one, a garbage one, Basic credentials → 401 (GET /token: the spec's 400).
    for headers, name, status in (
            (None, "MissingAuthToken", rule.no_token),
            (w.expired, "TokenExpired", 401),
            ({"Authorization": "Bearer not-a-token"}, "InvalidToken", 401),
            ({"Authorization": "Bearer " + w.admin["Authorization"].split()[1][:-4] + "AAAA"}, "InvalidToken", 401),
            ({"Authorization": "Basic YWRtaW5AYWNtZS5leGFtcGxlOmNhbGx5YXJk"}, "MissingAuthToken", rule.no_token)):
        body = refused(send(w, method, path, root, headers), (status,), f"token {name}")
        assert body["name"] == name, body

    watched = witness(method, root) if rule.built else None
    if method == "GET" and rule.scope == "account" and rule.built:
        read(w, root)  # the ids are real: Acme's admin reads the object
    before = read(w, watched) if watched else None

    # (c) another customer account's admin.
    if rule.scope == "account":
        refused(send(w, method, path, root, w.globex), (403, 404), "Globex's admin on Acme's object")
    elif rule.scope == "own":
        response = send(w, method, path, root, w.globex)
        assert response.status_code < 500 or response.status_code == 501, response.text
        if response.status_code < 300:
            leaked = [i for i in acme_ids(w) if i in response.text]
            assert leaked == [], f"Globex's answer names Acme's objects {leaked}: {response.text[:300]}"
        else:
            refused(response, (response.status_code,), "Globex's admin")

    # (d) admin routes: a USER of the account is refused.
    if rule.kind == ADMIN:
        body = refused(send(w, method, path, root, w.alice), (403,), "alice (USER) on an admin route")
        assert body["name"] == "InsufficientPermissions", body

    # (e) operator routes: no platform token is the operator, however high its role; the operator token is.
    if rule.kind == OPERATOR_ONLY:
        for who, headers in (("Acme's admin", w.admin), ("Globex's admin", w.globex), ("alice", w.alice)):
            body = refused(send(w, method, path, root, headers), (403,), f"{who} on an operator route")
            assert body["name"] in ("OperatorRequired", "InsufficientPermissions"), body
        assert send(w, method, path, root, OPERATOR_HEADERS).status_code < 300

    if watched:
        assert read(w, watched) == before, f"{method} {path} changed {watched} although it was refused"


def test_recording_media_needs_its_signature(world: World) -> None:
    """The one public route over tenant data: only a valid, unexpired signature opens it."""
    w = world
    path = f"{C}/media/recordings/{w.ids['recordingId']}"
    assert w.client.get(path, params=w.media_query).status_code == 200
    for params in ({}, {**w.media_query, "signature": "0" * 64}, {**w.media_query, "expires": "1"},
                   {**w.media_query, "expires": str(int(w.media_query["expires"]) + 1)}):
        refused(w.client.get(path, params=params), (403,), "a bad media signature")
    other = f"{C}/media/recordings/another-recording"
    refused(w.client.get(other, params=w.media_query), (403,), "a signature of another recording")


def test_websocket_routes(world: World) -> None:
    """The WebSocket routes refuse the same callers: the JSON stream closes with 4401 (no, expired or garbage
    token) or 4404 (another account's subscription); MQTT over WebSocket refuses the CONNECT."""
    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect as ws_connect

    w = world
    ws_base = w.live.url.replace("http://", "ws://")

    def close_code(query: str) -> int:
        with ws_connect(f"{ws_base}{C}/stream?{query}", open_timeout=5) as ws:
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=5)
        assert closed.value.rcvd is not None
        return closed.value.rcvd.code

    def bearer(headers: dict[str, str]) -> str:
        return headers["Authorization"].split(" ", 1)[1]

    sub = f"subscriptionId={w.ids['wsSubscriptionId']}"
    assert close_code(sub) == 4401
    assert close_code(f"token={bearer(w.expired)}&{sub}") == 4401
    assert close_code(f"token=not-a-token&{sub}") == 4401
    assert close_code(f"token={bearer(w.globex)}&{sub}") == 4404
    assert close_code(f"token={bearer(w.globex)}&connectionId={w.ids['connectionId']}") == 4404
    assert close_code(f"token={bearer(w.alice)}&{sub}") == 4404  # another principal's subscription

    url = f"{ws_base}{C}/mqtt/{w.ids['connectionId']}"
    for password, refusal in ((None, "Not authorized"), (bearer(w.expired), "Bad user name or password"),
                              ("not-a-token", "Bad user name or password"), (bearer(w.globex), "Not authorized")):
        client = Mqtt(url, password)
        try:
            rc, _flags = client.wait_connack()
            assert rc.is_failure and str(rc) == refusal, (password and password[:12], str(rc))
        finally:
            client.close()
    accepted = Mqtt(url, bearer(w.admin))  # and the owner is let in: the refusals above are about the token
    try:
        rc, _flags = accepted.wait_connack()
        assert not rc.is_failure, rc
    finally:
        accepted.close()
