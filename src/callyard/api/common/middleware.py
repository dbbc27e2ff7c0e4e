"""ASGI middleware that applies to every family (outermost first):

* ``RequestContext`` gives every response an ``x-mitel-correlation-id`` (the client's, echoed, or a new one),
  picks the family that owns the request (``scope["state"]["family"]``), and writes the request journal.
* ``FamilyEdges`` runs the owning family's own middleware (``Family.middleware``) on its requests only.
* ``RateLimiting`` enforces the optional per-token rate limit on the families that are rate limited,
  answering in the family's envelope.
* ``FaultInjection`` answers or delays the requests an injected fault matches (``/_callyard/faults``).
"""
from __future__ import annotations

import asyncio
import hashlib
import time
import uuid
from collections import deque
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from callyard.api.common.retry_after import retry_after
from callyard.api.common.security import token_from_header
from callyard.api.family import ASGIApp, Families, Family, Problem, Receive, Scope, Send
from callyard.core import context
from callyard.core.clock import Clock, iso
from callyard.core.errors import TooManyRequests
from callyard.faults.service import Faults

if TYPE_CHECKING:
    from callyard.container import Twin


def header(scope: Scope, name: bytes) -> str | None:
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


class RequestContext:
    def __init__(self, app: ASGIApp, *, clock: Clock, journal: Journal, families: Families) -> None:
        self.app = app
        self.clock = clock
        self.journal = journal
        self.families = families

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation = header(scope, b"x-mitel-correlation-id") or str(uuid.uuid4())
        token_id = _token_id(scope)
        started = time.perf_counter()
        status_holder: dict[str, Any] = {"status": 0}
        state = scope.setdefault("state", {})
        state["family"] = self.families.for_path(scope["path"])
        state["correlation_id"] = correlation
        state["token_id"] = token_id
        token = context.correlation_id.set(correlation)

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-mitel-correlation-id"]
                headers.append((b"x-mitel-correlation-id", correlation.encode("latin-1")))
                message = dict(message, headers=headers)
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            context.correlation_id.reset(token)
            principal = state.get("principal")
            app_header = state.get("app_header")   # set by the families that read X-Mitel-App
            self.journal.add({
                "at": iso(self.clock.now()), "method": scope["method"], "path": scope["path"],
                "query": scope.get("query_string", b"").decode("latin-1"),
                "host": header(scope, b"host"), "status": status_holder["status"], "correlationId": correlation,
                "durationMs": round((time.perf_counter() - started) * 1000, 2),
                "appHeader": app_header.as_dict() if app_header else None,
                "principal": None if principal is None else {
                    "principalId": principal.principal_id, "accountId": principal.account_id,
                    "role": principal.role, "clientId": principal.client_id},
                "tokenId": token_id,
            })


class FamilyEdges:
    """Runs ``Family.middleware`` around the rest of the stack, for the owning family's requests only."""

    def __init__(self, app: ASGIApp, *, families: Families, twin: "Twin") -> None:
        self.app = app
        self.stacks: dict[str, ASGIApp] = {}
        for family in families.all:
            stack = app
            for layer in reversed(family.middleware(twin)):
                stack = layer.cls(stack, *layer.args, **layer.kwargs)
            self.stacks[family.name] = stack

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        family: Family = scope["state"]["family"]
        await self.stacks[family.name](scope, receive, send)


class RateLimiting:
    def __init__(self, app: ASGIApp, *, limit: RateLimit, retry_after_format: str = "seconds") -> None:
        self.app = app
        self.limit = limit
        self.retry_after_format = retry_after_format

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            state = scope["state"]
            family: Family = state["family"]
            if family.rate_limited and state["token_id"] is not None:
                wait = self.limit.take(state["token_id"], time.monotonic())
                if wait > 0:
                    retry = max(1, int(wait + 0.999))
                    exc = TooManyRequests("TooManyRequests", "Too many requests; retry after the Retry-After delay",
                                          retry_after=retry)
                    problem = family.errors.core_error(exc)
                    for key in [k for k in problem.headers if k.lower() == "retry-after"]:
                        problem.headers[key] = retry_after(retry, self.retry_after_format)
                    await problem.send(send)
                    return
        await self.app(scope, receive, send)


class FaultInjection:
    """Inside ``RequestContext`` and the family edges, so an injected answer carries a correlation id and is
    journaled and audited like any other. The control plane is never faulted (it is how faults are removed)."""

    def __init__(self, app: ASGIApp, *, faults: Faults) -> None:
        self.app = app
        self.faults = faults

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        fault = None
        if scope["type"] == "http" and scope["state"]["family"].faultable:
            fault = self.faults.for_request(scope["method"], scope["path"])
        if fault is None:
            await self.app(scope, receive, send)
            return
        delay = self.faults.delay_of(fault)
        if delay:
            await asyncio.sleep(delay)
        if fault.status is None:
            await self.app(scope, receive, send)
            return
        status, body, headers = self.faults.response_of(fault)
        await Problem(status, body, headers).send(send)


def _token_id(scope: Scope) -> str | None:
    token = token_from_header(header(scope, b"authorization"))
    return hashlib.sha256(token.encode()).hexdigest()[:16] if token else None
