"""``SignalRServer``: the endpoint a family mounts and the API its projections call.

    server = SignalRServer("/miccsdk/signalr", authenticate, {"employeeHub": EmployeeHub, "queueHub": QueueHub},
                           new_id=runtime.ids.uuid, secret=signing_key)
    routes = [server.route()]                          # or mount server.asgi; serves both HTTP and WebSocket
    server.push("queueHub", "queueStateChanged", [state], group=f"state:{queue_id}")
    server.close_connections_of(identity)              # the credential was revoked

``authenticate(connection)`` reads the caller's credential from the request (``sessionid=Bearer <token>`` in the
query, as the CX SDK's clients send it, or an ``Authorization`` header: ``credential()`` reads either) and
returns the principal, or ``None`` (401). ``identify(principal)`` names the owner the connection token is bound
to (default: its ``principal_id``, ``id`` or ``str()``). Every request is authenticated again, and a token
issued to someone else is refused (403). Hub events reach a connection by its groups (what its hub methods
added, e.g. monitors) or by a predicate over ``ConnectionInfo``, never by ``connectionData``.

``expires(principal)`` (optional) gives the moment its credential expires, in seconds since the epoch on
``now()`` (the family passes its runtime clock): the sweeper ends a connection once that has passed, even a
WebSocket that sends no more requests.
"""
from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any, Awaitable, Callable, Iterable, Mapping
from urllib.parse import unquote

from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Match, Mount
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket

from callyard.delivery.signalr import transports
from callyard.delivery.signalr.connections import Connection, ConnectionInfo, Connections
from callyard.delivery.signalr.hubs import HubFactory, HubRegistry, invoke
from callyard.delivery.signalr.protocol import (
    REFUSED_TRANSPORTS,
    TRANSPORTS,
    Invocation,
    ProtocolError,
    Signer,
    client_invocation,
    connection_token,
    delays_start,
    dumps,
    groups_token,
    parse_invocation,
    persistent_response,
    read_connection_token,
    read_groups_token,
    resolve_protocol,
)

log = logging.getLogger("callyard.delivery.signalr")

ENDPOINTS = ("negotiate", "connect", "reconnect", "start", "send", "poll", "abort", "ping")
Authenticate = Callable[[HTTPConnection], "Any | Awaitable[Any]"]


@dataclass(frozen=True)
class Options:
    """The timings negotiate announces and the transports keep (seconds, real time), and the buffer bound.
    Defaults are ASP.NET SignalR's: keep-alive 10 (announced as KeepAliveTimeout 20), disconnect 30,
    connection (long-poll hold) 110, transport connect 5."""
    keep_alive: float = 10.0
    disconnect_timeout: float = 30.0
    connection_timeout: float = 110.0
    transport_connect_timeout: float = 5.0
    long_poll_delay: float = 0.0
    buffer_size: int = 1000
    sweep_interval: float = 1.0


def credential(connection: HTTPConnection) -> str | None:
    """The bearer token of a request: the ``sessionid`` query parameter (``Bearer <token>`` or the bare token,
    the way the CX SDK's clients send it), else the ``Authorization: Bearer`` header."""
    for value in (connection.query_params.get("sessionid"), connection.headers.get("authorization")):
        if value:
            value = value.strip()
            if value[:7].lower() == "bearer ":
                value = value[7:].strip()
            if value:
                return value
    return None


def default_identify(principal: Any) -> str:
    for attribute in ("principal_id", "id"):
        value = getattr(principal, attribute, None)
        if value:
            return str(value)
    return str(principal)


class SignalRServer:
    def __init__(self, base_path: str, authenticate: Authenticate, hubs: Mapping[str, HubFactory], *,
                 identify: Callable[[Any], str] = default_identify, new_id: Callable[[], str] | None = None,
                 secret: bytes | None = None, options: Options | None = None,
                 expires: Callable[[Any], float | None] | None = None,
                 now: Callable[[], float] = time.time) -> None:
        self.base_path = _normalise(base_path)
        self.authenticate = authenticate
        self.identify = identify
        self.hubs = HubRegistry(hubs)
        self.new_id = new_id or (lambda: str(uuid.uuid4()))
        self.signer = Signer(secret or secrets.token_bytes(32))
        self.options = options or Options()
        self.expires = expires
        self.now = now
        self._connections = Connections()
        self._sweeper: asyncio.Task[None] | None = None
        pattern = re.escape(self.base_path) + "/(" + "|".join(ENDPOINTS) + ")"
        self._path = re.compile(pattern, re.IGNORECASE)

    # ================================================================== the integration API
    def route(self) -> BaseRoute:
        """One Starlette route for every endpoint under the base path, HTTP and WebSocket, in any case."""
        return SignalRRoute(self)

    def routes(self) -> list[BaseRoute]:
        return [self.route()]

    async def asgi(self, scope: Scope, receive: Receive, send: Send) -> None:
        """A bare ASGI app: the endpoints under the base path; 404 for anything else."""
        endpoint = self.endpoint(scope)
        if endpoint is None:
            if scope["type"] == "websocket":
                await WebSocket(scope, receive, send).close(1008)
            elif scope["type"] == "http":
                await PlainTextResponse("Not Found", 404)(scope, receive, send)
            return
        await self.handle(endpoint, scope, receive, send)

    def connected(self) -> bool:
        """Whether any connection is open (a projection with no one to tell stops before shaping anything)."""
        return len(self._connections) > 0

    def push(self, hub: str, method: str, args: list[Any] | Callable[[], list[Any]], *, group: str | None = None,
             connection_ids: Iterable[str] | None = None, where: Callable[[ConnectionInfo], bool] | None = None
             ) -> int:
        """Call ``method(*args)`` on the ``hub`` proxy of the matching connections: members of ``group`` (of that
        hub), and/or those named, and only those ``where`` accepts (alone: every connection it accepts).
        ``args`` may be a function returning them: it is called (and the message encoded) only when a connection
        takes the message. Never waits: the message is appended to each connection's buffer. Returns how many it
        reached. Call it from the event loop's thread (after-commit projections run there)."""
        resolved = self.hubs.resolve(hub)
        hub_name = resolved[0] if resolved else hub
        key = f"{hub_name.lower()}.{group}" if group is not None else None
        ids = set(connection_ids) if connection_ids is not None else None
        if key is None and ids is None and where is None:
            raise ValueError("push needs a group, connection ids or a predicate")
        message: str | None = None
        candidates: dict[str, Connection] = {}
        if key is not None:
            candidates.update((c.id, c) for c in self._connections.members(key))
        if ids is not None:
            candidates.update((c.id, c) for c in (self._connections.get(i) for i in ids) if c is not None)
        if key is None and ids is None:
            candidates.update((c.id, c) for c in self._connections if not c.ended)
        reached = 0
        for connection in candidates.values():
            if where is not None and not where(connection.info()):
                continue
            if message is None:
                message = client_invocation(hub_name, method, args() if callable(args) else args)
            if connection.enqueue(message):
                reached += 1
        return reached

    def connections(self) -> list[ConnectionInfo]:
        return [c.info() for c in self._connections if not c.ended]

    def close_connections_of(self, who: Any, reason: str = "the credential was revoked") -> int:
        """End every connection of ``who``: an identity (``str``), a principal (named by ``identify``) or a
        predicate over ``ConnectionInfo``. Their transports say ``reason`` (as ``E``) and close now."""
        if callable(who):
            accepts: Callable[[ConnectionInfo], bool] = who
        else:
            identity = who if isinstance(who, str) else self.identify(who)
            accepts = lambda info: info.identity == identity  # noqa: E731
        closed = 0
        for connection in self._connections:
            if connection.ended or not accepts(connection.info()):
                continue
            connection.end(reason, code=1008)
            closed += 1
        return closed

    async def stop(self) -> None:
        """End every connection and the sweeper (a family calls it on shutdown)."""
        for connection in self._connections:
            connection.end("the server is shutting down", code=1001)
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper
            self._sweeper = None

    # ================================================================== plumbing shared with transports
    def groups_token(self, connection: Connection) -> str:
        return groups_token(self.signer, connection.id, sorted(connection.groups))

    async def invoke(self, connection: Connection, call: Invocation) -> str:
        return await invoke(self, self.hubs, connection, call)

    def endpoint(self, scope: Scope) -> str | None:
        path = _normalise(scope.get("path", ""))
        root = _normalise(scope.get("root_path", ""))
        if root and path.lower().startswith(root.lower() + "/") and not path.lower().startswith(
                self.base_path.lower()):
            path = path[len(root):]
        match = self._path.fullmatch(path)
        return match.group(1).lower() if match else None

    def _ensure_sweeper(self) -> None:
        if self._sweeper is None or self._sweeper.done():
            self._sweeper = asyncio.get_running_loop().create_task(self._sweep(), name="callyard-signalr-sweeper")

    async def _sweep(self) -> None:
        while True:
            await asyncio.sleep(self.options.sweep_interval)
            try:
                self.sweep()
            except Exception:  # noqa: BLE001 - one bad sweep must not stop the next
                log.exception("signalr sweep failed")

    def sweep(self) -> None:
        """Forget connections no transport has served for the disconnect timeout (a client coming back later
        with its groups token gets a fresh connection in those groups). A connection the server ended (abort,
        revocation, a client that fell behind) is remembered as ended for the disconnect timeout, so that its
        client's reconnects are refused rather than quietly starting over."""
        now = time.monotonic()
        wall = self.now()
        for connection in self._connections:
            if not connection.ended and self._expired(connection, wall):
                connection.end("TokenExpired: the access token has expired", code=1008)
            if connection.attached or now - connection.last_seen <= self.options.disconnect_timeout:
                continue
            if not connection.ended:
                connection.end("disconnect timeout")
            self._connections.remove(connection)

    def _expired(self, connection: Connection, wall: float) -> bool:
        if self.expires is None:
            return False
        try:
            expiry = self.expires(connection.principal)
        except Exception:  # noqa: BLE001 - a principal whose expiry cannot be read is not kept alive by it
            log.warning("signalr expires() failed for connection %s", connection.id, exc_info=True)
            return True
        return expiry is not None and expiry <= wall

    # ================================================================== requests
    async def handle(self, endpoint: str, scope: Scope, receive: Receive, send: Send) -> None:
        self._ensure_sweeper()
        if scope["type"] == "websocket":
            await self._websocket(endpoint, WebSocket(scope, receive, send))
            return
        request = Request(scope, receive)
        try:
            response = await self._http(endpoint, request)
        except ProtocolError as error:
            response = PlainTextResponse(error.message, error.status)
        await response(scope, receive, send)

    async def _principal(self, connection: HTTPConnection) -> tuple[Any, str]:
        try:
            result = self.authenticate(connection)
            principal = await result if inspect.isawaitable(result) else result
        except Exception:  # noqa: BLE001 - a credential the family cannot read is no credential, not a 500
            log.warning("signalr authenticate failed", exc_info=True)
            principal = None
        if principal is None:
            raise ProtocolError(401, "Unauthorized")
        return principal, self.identify(principal)

    def _transport(self, connection: HTTPConnection) -> str:
        transport = connection.query_params.get("transport")
        if transport in TRANSPORTS:
            return transport
        if transport in REFUSED_TRANSPORTS:
            raise ProtocolError(400, f"The {transport} transport is not supported by this server; use webSockets, "
                                     "serverSentEvents or longPolling.")
        raise ProtocolError(400, "Protocol error: Unknown transport.")

    def _hub_names(self, connection: HTTPConnection) -> None:
        """``connectionData`` names hubs the client has proxies for; each must exist (it routes nothing here)."""
        raw = connection.query_params.get("connectionData")
        if not raw:
            return
        try:
            data = json.loads(raw)
        except ValueError:
            raise ProtocolError(400, "connectionData is not valid JSON.") from None
        if not isinstance(data, list):
            raise ProtocolError(400, "connectionData must be a JSON array of hubs.")
        for entry in data:
            name = entry.get("name") if isinstance(entry, dict) else None
            if not isinstance(name, str) or self.hubs.resolve(name) is None:
                raise ProtocolError(400, f"'{name}' Hub could not be resolved.")

    def _connection(self, connection_id: str, identity: str, principal: Any, protocol: str,
                    create: bool = False, groups: list[str] | None = None) -> Connection:
        existing = self._connections.get(connection_id)
        if existing is not None:
            existing.principal = principal
            return existing
        if not create:
            raise ProtocolError(400, "The connection is not known or has ended: negotiate a new one.")
        if self._connections.ended(connection_id):
            raise ProtocolError(400, "The connection has ended: negotiate a new one.")
        connection = Connection(connection_id, identity, principal, protocol, self.options.buffer_size)
        known = {name.lower() for name in self.hubs.names()}
        connection.groups = {g for g in (groups or []) if g.partition(".")[0] in known}
        self._connections.add(connection)
        return connection

    async def _http(self, endpoint: str, request: Request) -> Response:
        principal, identity = await self._principal(request)
        protocol = resolve_protocol(request.query_params.get("clientProtocol"))
        if endpoint == "ping":
            return JSONResponse({"Response": "pong"})
        if endpoint == "negotiate":
            return self._negotiate(request, identity, protocol)
        transport = self._transport(request)
        form: dict[str, str] = {}
        if request.method == "POST":
            with contextlib.suppress(Exception):
                form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
        connection_id = read_connection_token(self.signer, request.query_params.get("connectionToken"), identity)

        def value(name: str) -> str | None:
            return form.get(name) or request.query_params.get(name)

        if endpoint == "connect":
            self._hub_names(request)
            if transport == "webSockets":
                raise ProtocolError(400, "Not a valid web socket request.")
            connection = self._connection(connection_id, identity, principal, protocol, create=True)
            if not delays_start(protocol):
                connection.started = True
            if transport == "serverSentEvents":
                return _event_stream(transports.server_sent_events(self, connection, connection.head,
                                                                   initialized=True))
            return _json(persistent_response(connection.head, [], initialized=True))
        if endpoint in ("reconnect", "poll"):
            if endpoint == "poll" and transport != "longPolling":
                raise ProtocolError(400, "Only the longPolling transport polls.")
            if transport == "webSockets":
                raise ProtocolError(400, "Not a valid web socket request.")
            cursor = _cursor(value("messageId"))
            groups = read_groups_token(self.signer, value("groupsToken"), connection_id)
            connection = self._connection(connection_id, identity, principal, protocol, create=True, groups=groups)
            if transport == "serverSentEvents":
                return _event_stream(transports.server_sent_events(self, connection, cursor, initialized=False))
            if endpoint == "reconnect":
                connection.mark_delivered(cursor)
                frame, _ = transports.pending(self, connection, cursor)
                return _json(frame or persistent_response(min(cursor, connection.head), []))
            return _json(await transports.long_poll(self, connection, cursor, request.is_disconnected))
        connection = self._connection(connection_id, identity, principal, protocol)
        if endpoint == "start":
            connection.started = True
            return JSONResponse({"Response": "started"})
        if endpoint == "send":
            data = value("data")
            call = parse_invocation(data) if data else None
            if call is None:
                raise ProtocolError(400, "The send request carries no hub invocation.")
            return _json(await self.invoke(connection, call))
        # abort
        connection.end("the client aborted the connection")
        connection.last_seen = time.monotonic()
        return PlainTextResponse("")

    def _negotiate(self, request: Request, identity: str, protocol: str) -> Response:
        self._hub_names(request)
        connection_id = self.new_id()
        url = _unsuffix(request.url.path, "/negotiate")
        o = self.options
        body: dict[str, Any] = {
            "Url": url,
            "ConnectionToken": connection_token(self.signer, connection_id, identity),
            "ConnectionId": connection_id,
            "KeepAliveTimeout": o.keep_alive * 2,
            "DisconnectTimeout": o.disconnect_timeout,
            "ConnectionTimeout": o.connection_timeout,
            "TryWebSockets": True,
            "ProtocolVersion": protocol,
            "TransportConnectTimeout": o.transport_connect_timeout,
            "LongPollDelay": o.long_poll_delay,
        }
        if delays_start(protocol):
            body["WebSocketServerUrl"] = None
        return JSONResponse(body)

    async def _websocket(self, endpoint: str, ws: WebSocket) -> None:
        try:
            if endpoint not in ("connect", "reconnect"):
                raise ProtocolError(400, "Only connect and reconnect open a web socket.")
            principal, identity = await self._principal(ws)
            if ws.query_params.get("transport") != "webSockets":
                self._transport(ws)
                raise ProtocolError(400, "Protocol error: a web socket request must name the webSockets transport.")
            protocol = resolve_protocol(ws.query_params.get("clientProtocol"))
            connection_id = read_connection_token(self.signer, ws.query_params.get("connectionToken"), identity)
            if endpoint == "connect":
                self._hub_names(ws)
                connection = self._connection(connection_id, identity, principal, protocol, create=True)
                if not delays_start(protocol):
                    connection.started = True
                cursor = connection.head
            else:
                cursor = _cursor(ws.query_params.get("messageId"))
                groups = read_groups_token(self.signer, ws.query_params.get("groupsToken"), connection_id)
                connection = self._connection(connection_id, identity, principal, protocol, create=True,
                                              groups=groups)
                connection.mark_delivered(cursor)
        except ProtocolError as error:
            with contextlib.suppress(RuntimeError):
                await ws.send_denial_response(PlainTextResponse(error.message, error.status))
                return
            await ws.close(1008, error.message[:120])
            return
        await ws.accept()
        await transports.websocket(self, ws, connection, cursor, initialized=endpoint == "connect")


class SignalRRoute(Mount):
    """Matches the server's endpoints under its (absolute) base path without regard to case or doubled
    slashes, for HTTP and WebSocket. A ``Mount`` so that FastAPI's ``include_router`` keeps it (it copies
    mounts as they are); the path FastAPI compiles for the copy is not used."""

    def __init__(self, server: SignalRServer) -> None:
        super().__init__(server.base_path or "/", app=server.asgi, name="signalr")
        self.server = server

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in ("http", "websocket") and self.server.endpoint(scope) is not None:
            return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        endpoint = self.server.endpoint(scope)
        if endpoint is None:
            await self.server.asgi(scope, receive, send)
            return
        await self.server.handle(endpoint, scope, receive, send)


def _normalise(path: str) -> str:
    return re.sub(r"/{2,}", "/", unquote(path)).rstrip("/")


def _unsuffix(path: str, suffix: str) -> str:
    return path[: -len(suffix)] if path.lower().endswith(suffix) else path


def _cursor(value: str | None) -> int:
    if value is None or value == "":
        return 0
    try:
        cursor = int(value)
    except ValueError:
        raise ProtocolError(400, "The messageId is not a cursor this server issued.") from None
    if cursor < 0:
        raise ProtocolError(400, "The messageId is not a cursor this server issued.")
    return cursor


def _json(text: str) -> Response:
    return Response(text, media_type="application/json; charset=UTF-8")


def _event_stream(body: Any) -> Response:
    return StreamingResponse(body, media_type="text/event-stream",
                             headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})


__all__ = ["SignalRServer", "SignalRRoute", "Options", "credential", "default_identify", "dumps"]
