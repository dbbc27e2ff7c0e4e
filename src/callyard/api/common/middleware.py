"""ASGI middleware that applies to every family:

* ``HostRouting`` maps a CloudLink service host (``authentication.api.mitel.io``, ``media.us-west-2.us.api.mitel.io``,
  ``authentication.us.dev.api.mitel.io`` …) onto the service's prefix, so an unmodified client pointed at the
  twin through /etc/hosts reaches the right service.
* ``RequestContext`` gives every response an ``x-mitel-correlation-id`` (the client's, echoed, or a new one),
  parses ``X-Mitel-App`` (rejecting malformed values only in strict mode), enforces the optional per-token
  rate limit, writes the request journal and hands each CloudLink exchange to its observers (the
  best-practice audit).
* ``FaultInjection`` answers or delays the requests an injected fault matches (``/_callyard/faults``).
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from callyard.api.common import mitel_app
from callyard.api.common.security import token_from_header
from callyard.audit.service import Exchange
from callyard.core import context
from callyard.core.clock import Clock, iso
from callyard.faults.service import Faults

log = logging.getLogger("callyard.api")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

SERVICES = ("authentication", "admin", "media", "chat", "notifications", "presence")
_SERVICE_PREFIX = re.compile(rf"^/({'|'.join(SERVICES)})(?=/)")
_HOST = re.compile(r"^(?P<service>[a-z]+)(\.[a-z0-9-]+)*\.api\.mitel\.(io|com)$")


def service_for_host(host: str) -> str | None:
    found = _HOST.match(host.split(":")[0].lower())
    if found and found.group("service") in SERVICES:
        return found.group("service")
    return None


class HostRouting:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = _header(scope, b"host")
            service = service_for_host(host) if host else None
            path = scope["path"]
            if service and not path.startswith(("/_callyard", f"/{service}/")):
                scope = dict(scope, path=f"/{service}{path}", raw_path=f"/{service}{path}".encode())
        await self.app(scope, receive, send)


def strip_service(path: str) -> str:
    """``/admin/2017-09-01/users`` → ``/2017-09-01/users``: the path as the root mount serves it."""
    return _SERVICE_PREFIX.sub("", path, count=1)


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


@dataclass
class RateLimit:
    """A token bucket per access token: ``rate`` requests per second, bursts of ``burst``."""

    rate: float
    burst: int

    def __post_init__(self) -> None:
        self._buckets: dict[str, tuple[float, float]] = {}

    def take(self, key: str, now: float) -> float:
        """0 if allowed, else the seconds until a request would be."""
        tokens, last = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - last) * self.rate)
        if tokens >= 1:
            self._buckets[key] = (tokens - 1, now)
            return 0.0
        self._buckets[key] = (tokens, now)
        return (1 - tokens) / self.rate


class Journal:
    """The most recent requests, newest last (``GET /_callyard/journal``)."""

    def __init__(self, size: int = 2000) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=size)

    def add(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)


MAX_OBSERVED_BODY = 64 * 1024   # bytes of a request body kept for the observers (retry identity)


class RequestContext:
    def __init__(self, app: ASGIApp, *, clock: Clock, journal: Journal, strict_app_header: bool,
                 rate_limit: RateLimit | None, observers: list[Callable[[Exchange], None]] | None = None) -> None:
        self.app = app
        self.clock = clock
        self.journal = journal
        self.strict = strict_app_header
        self.rate_limit = rate_limit
        self.observers = observers if observers is not None else []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation = _header(scope, b"x-mitel-correlation-id") or str(uuid.uuid4())
        app_header = mitel_app.parse(_header(scope, b"x-mitel-app"))
        token_id = _token_id(scope)
        started = time.perf_counter()
        wall_started = time.time()
        status_holder: dict[str, Any] = {"status": 0, "retry_after": None}
        scope.setdefault("state", {})
        token = context.correlation_id.set(correlation)
        observed = bool(self.observers) and not scope["path"].startswith("/_callyard")
        body = bytearray()

        async def receive_wrapper() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "http.request" and len(body) < MAX_OBSERVED_BODY:
                body.extend(message.get("body", b"")[:MAX_OBSERVED_BODY - len(body)])
            return message

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                for key, value in message.get("headers", []):
                    if key.lower() == b"retry-after":
                        status_holder["retry_after"] = value.decode("latin-1")
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-mitel-correlation-id"]
                headers.append((b"x-mitel-correlation-id", correlation.encode("latin-1")))
                message = dict(message, headers=headers)
            await send(message)

        try:
            rejection = self._reject(scope, app_header, token_id)
            if rejection is not None:
                await _send_json(send_wrapper, *rejection)
            else:
                await self.app(scope, receive_wrapper if observed else receive, send_wrapper)
        finally:
            context.correlation_id.reset(token)
            principal = scope["state"].get("principal")
            if observed:
                self._observe(Exchange(
                    started=wall_started, ended=time.time(), method=scope["method"],
                    path=strip_service(scope["path"]), query=scope.get("query_string", b"").decode("latin-1"),
                    body=bytes(body), status=status_holder["status"], retry_after=status_holder["retry_after"],
                    correlation_id=correlation, app_header=app_header, token_id=token_id,
                    principal_id=principal.principal_id if principal else None,
                    account_id=principal.account_id if principal else None,
                    principal_kind=principal.kind if principal else None,
                    client_id=principal.client_id if principal else None,
                    peer=(scope.get("client") or ("", 0))[0], user_agent=_header(scope, b"user-agent") or ""))
            self.journal.add({
                "at": iso(self.clock.now()), "method": scope["method"], "path": scope["path"],
                "query": scope.get("query_string", b"").decode("latin-1"),
                "host": _header(scope, b"host"), "status": status_holder["status"], "correlationId": correlation,
                "durationMs": round((time.perf_counter() - started) * 1000, 2),
                "appHeader": app_header.as_dict() if app_header else None,
                "principal": None if principal is None else {
                    "principalId": principal.principal_id, "accountId": principal.account_id,
                    "role": principal.role, "clientId": principal.client_id},
                "tokenId": token_id,
            })

    def _observe(self, exchange: Exchange) -> None:
        for observer in self.observers:
            try:
                observer(exchange)
            except Exception:  # an observer's bug must never cost the client its response
                log.exception("request observer failed")

    def _reject(self, scope: Scope, app_header: mitel_app.MitelApp | None,
                token_id: str | None) -> tuple[int, dict[str, Any], dict[str, str]] | None:
        if scope["path"].startswith("/_callyard"):
            return None
        if self.strict and app_header is not None and not app_header.valid:
            return 400, {"name": "InvalidAppHeader",
                         "message": "X-Mitel-App is malformed: " + "; ".join(app_header.problems)}, {}
        if self.strict and app_header is None:
            return 400, {"name": "InvalidAppHeader", "message": "the X-Mitel-App header is required"}, {}
        if self.rate_limit is not None:
            if token_id is not None:
                wait = self.rate_limit.take(token_id, time.monotonic())
                if wait > 0:
                    retry = max(1, int(wait + 0.999))
                    return 429, {"message": "Too many requests; retry after the Retry-After delay"}, {
                        "retry-after": str(retry)}
        return None


class FaultInjection:
    """Inside ``RequestContext``, so an injected answer carries a correlation id and is journaled and audited
    like any other. The control plane is never faulted (it is how faults are removed)."""

    def __init__(self, app: ASGIApp, *, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fault = self.faults.for_request(scope["method"], scope["path"]) if scope["type"] == "http" else None
        if fault is None:
            await self.app(scope, receive, send)
            return
        delay = self.faults.delay_of(fault)
        if delay:
            await asyncio.sleep(delay)
        if fault.status is None:
            await self.app(scope, receive, send)
            return
        await _send_json(send, *self.faults.response_of(fault))


def _token_id(scope: Scope) -> str | None:
    token = token_from_header(_header(scope, b"authorization"))
    return hashlib.sha256(token.encode()).hexdigest()[:16] if token else None


async def _send_json(send: Send, status: int, body: dict[str, Any], headers: dict[str, str]) -> None:
    payload = json.dumps(body).encode()
    raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    raw_headers += [(k.encode(), v.encode()) for k, v in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw_headers})
    await send({"type": "http.response.body", "body": payload})
