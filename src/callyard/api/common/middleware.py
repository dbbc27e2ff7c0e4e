"""ASGI middleware that applies to every family (outermost first):

* ``RequestContext`` gives every response an ``x-mitel-correlation-id`` (the client's, echoed, or a new one),
  picks the family that owns the request (``scope["state"]["family"]``), and writes the request journal.
* ``BodyLimit`` refuses a request body larger than the limit with 413 in the owning family's envelope, before
  anything reads it and before authentication: at once when ``Content-Length`` says so, else as soon as the
  bytes received pass the limit (a chunked body, or one that outgrows its header). A JSON body (or one that
  may be parsed as JSON) is read first and refused with 400 ``InvalidJson`` when it nests deeper than
  ``MAX_JSON_DEPTH``, instead of a parser's ``RecursionError`` (a 500 that dropped the connection).
* ``FamilyEdges`` runs the owning family's own middleware (``Family.middleware``) on its requests only.
* ``RateLimiting`` enforces the optional per-token rate limit on the families that are rate limited,
  answering in the family's envelope.
* ``FaultInjection`` answers or delays the requests an injected fault matches (``/_callyard/faults``).
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import time
import uuid
from collections import deque
from urllib.parse import parse_qsl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from callyard.api.common import redaction
from callyard.api.common.retry_after import retry_after
from starlette.exceptions import HTTPException as StarletteHTTPException

from callyard.api.common.security import token_from_header
from callyard.api.family import ASGIApp, Families, Family, Problem, Receive, Scope, Send
from callyard.core import context
from callyard.core.clock import Clock, iso
from callyard.core.errors import Invalid, TooManyRequests
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


BODY_KEYS = ("requestBody", "responseBody")


class Journal:
    """The most recent requests, newest last (``GET /_callyard/journal``). Each entry names the account it is
    attributed to (``accountId``: the caller's, or the one an unauthenticated sign-in names; None: no
    account), which decides who sees it."""

    def __init__(self, size: int = 2000) -> None:
        self.entries: deque[dict[str, Any]] = deque(maxlen=size)

    def add(self, entry: dict[str, Any]) -> None:
        self.entries.append(entry)

    def visible(self, accounts: set[str] | None) -> list[dict[str, Any]]:
        """Every entry (``accounts`` None: the operator), else those attributed to one of ``accounts``; pass
        those shown through ``readable``."""
        return [e for e in self.entries if accounts is None or e.get("accountId") in accounts]

    @staticmethod
    def readable(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The entries as shown: their bodies redacted, the first time an entry is shown (``redaction.Kept``),
        never on the request's path."""
        for entry in entries:
            for key in BODY_KEYS:
                if isinstance(entry.get(key), redaction.Kept):
                    entry[key] = redaction.readable(entry[key])
        return entries

    def clear(self, accounts: set[str] | None = None) -> None:
        if accounts is None:
            self.entries.clear()
            return
        kept = [e for e in self.entries if e.get("accountId") not in accounts]
        self.entries.clear()
        self.entries.extend(kept)


# Unauthenticated requests that name an account in their body: the sign-in routes (any service prefix).
SIGN_IN_SUFFIXES = ("/token", "/authorize")
PEEK_LIMIT = 64 * 1024   # a sign-in body larger than this is not read ahead (nor attributed)


async def peek_body(receive: Receive, limit: int = PEEK_LIMIT) -> tuple[bytes | None, Receive]:
    """Read the request body ahead (up to ``limit`` bytes) and a ``receive`` that replays it. The body is None
    when it is larger than ``limit`` (what was read is still replayed)."""
    messages: list[dict[str, Any]] = []
    size = 0
    complete = False
    while size <= limit:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            break
        size += len(message.get("body", b""))
        if not message.get("more_body", False):
            complete = True
            break
    pending = list(messages)

    async def replay() -> dict[str, Any]:
        if pending:
            return pending.pop(0)
        return await receive()

    data = b"".join(m.get("body", b"") for m in messages if m["type"] == "http.request")
    return (data if complete and size <= limit else None), replay


def _content_type(headers: list[tuple[bytes, bytes]] | None) -> str | None:
    for name, value in headers or ():
        if name.lower() == b"content-type":
            return value.decode("latin-1")
    return None


def _declared_length(scope: Scope) -> int:
    """The request's Content-Length, or more than any limit when it declares none (or nonsense)."""
    value = header(scope, b"content-length")
    return int(value) if value is not None and value.strip().isdigit() else 1 << 62


def sign_in_fields(raw: bytes, content_type: str | None, query: str) -> dict[str, Any]:
    """The fields of a sign-in request (form, JSON or query), for attribution only."""
    fields: dict[str, Any] = dict(parse_qsl(query, keep_blank_values=True))
    kind = (content_type or "").split(";")[0].strip().lower()
    try:
        if kind == "application/x-www-form-urlencoded":
            fields.update(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        elif raw.strip():
            parsed = json.loads(raw)
            if isinstance(parsed, dict):
                fields.update(parsed)
    except (ValueError, RecursionError):   # not ours to judge: the body limit and the route answer it
        pass
    return fields


class RequestContext:
    def __init__(self, app: ASGIApp, *, clock: Clock, journal: Journal, families: Families,
                 twin: "Twin | None" = None) -> None:
        self.app = app
        self.clock = clock
        self.journal = journal
        self.families = families
        self.twin = twin

    def attributed_account(self, scope: Scope, token: str | None, body: bytes | None) -> str | None:
        """The account a request is attributed to before anyone checks it: a valid token's, else the account
        an unauthenticated sign-in names (``account_id``, or the username's domain); else none."""
        if self.twin is None:
            return None
        if token is not None:
            return self.twin.core.tokens.account_of(token)
        if body is None:
            return None
        fields = sign_in_fields(body, header(scope, b"content-type"), scope.get("query_string", b"").decode("latin-1"))
        refresh = fields.get("refresh_token") or fields.get("token")
        if isinstance(refresh, str) and refresh:
            return self.twin.core.tokens.account_of(refresh)
        return self.twin.core.directory.account_named(fields.get("username"),
                                                      fields.get("account_id") or fields.get("accountId"))

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
        bearer = token_from_header(header(scope, b"authorization"))
        body: bytes | None = None
        if bearer is None and scope["method"] == "POST" and scope["path"].endswith(SIGN_IN_SUFFIXES) \
                and _declared_length(scope) <= PEEK_LIMIT:   # a larger (or undeclared) body: the body limit's
            body, receive = await peek_body(receive)
        state["account_id"] = self.attributed_account(scope, bearer, body)
        token = context.correlation_id.set(correlation)
        request_body = bytearray()
        response_body = bytearray()
        sizes = [0, 0]   # request, response bytes seen
        inner_receive = receive

        async def receive_capture() -> dict[str, Any]:
            message = await inner_receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                sizes[0] += len(chunk)
                if len(request_body) < redaction.BODY_KEPT:
                    request_body.extend(chunk[:redaction.BODY_KEPT - len(request_body)])
            return message
        receive = receive_capture

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                status_holder["status"] = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-mitel-correlation-id"]
                headers.append((b"x-mitel-correlation-id", correlation.encode("latin-1")))
                status_holder["headers"] = headers
                message = dict(message, headers=headers)
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                sizes[1] += len(chunk)
                if len(response_body) < redaction.BODY_KEPT:
                    response_body.extend(chunk[:redaction.BODY_KEPT - len(response_body)])
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            context.correlation_id.reset(token)
            principal = state.get("principal")
            app_header = state.get("app_header")   # set by the families that read X-Mitel-App
            self.journal.add({
                "at": iso(self.clock.now()), "method": scope["method"], "path": scope["path"],
                "query": redaction.query(scope.get("query_string", b"").decode("latin-1")),
                "host": header(scope, b"host"), "status": status_holder["status"], "correlationId": correlation,
                "durationMs": round((time.perf_counter() - started) * 1000, 2),
                "appHeader": app_header.as_dict() if app_header else None,
                "principal": None if principal is None else {
                    "principalId": principal.principal_id, "accountId": principal.account_id,
                    "role": principal.role, "clientId": principal.client_id},
                "accountId": principal.account_id if principal is not None else state.get("account_id"),
                "tokenId": token_id,
                "requestHeaders": redaction.headers(scope.get("headers") or []),
                "responseHeaders": redaction.headers(status_holder.get("headers") or []),
                "requestBody": redaction.Kept(bytes(request_body), header(scope, b"content-type"), sizes[0]),
                "responseBody": redaction.Kept(bytes(response_body), _content_type(status_holder.get("headers")),
                                               sizes[1]),
            })


MAX_JSON_DEPTH = 64
_NOT_JSON = (b"multipart/", b"image/", b"audio/", b"video/", b"application/octet-stream",
             b"application/x-www-form-urlencoded")


def json_too_deep(body: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text nests arrays and objects deeper than ``limit`` (brackets in strings don't count)."""
    if body.count(b"[") + body.count(b"{") <= limit:
        return False
    depth, in_string, escaped = 0, False, False
    for byte in body:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:      # backslash
                escaped = True
            elif byte == 0x22:      # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return False


class BodyTooLarge(StarletteHTTPException):
    """Raised from ``receive`` when a body outgrows its limit: an HTTP error, so whichever layer is reading
    (a handler, a family's middleware) ends with the owning family's 413."""

    def __init__(self, limit: int) -> None:
        # connection: close — the rest of the body is not read, so the connection cannot carry another request
        super().__init__(413, f"the request body is larger than {limit} bytes", headers={"connection": "close"})


class BodyLimit:
    """``limit`` bytes for any request body, ``json_limit`` for one that is read whole as JSON (every body but
    uploads: images, audio, forms); ``larger`` gives bigger limits to a few (method, path) pairs (the control
    plane's state import)."""

    def __init__(self, app: ASGIApp, *, limit: int, json_limit: int | None = None,
                 larger: dict[tuple[str, str], int] | None = None) -> None:
        self.app = app
        self.limit = limit
        self.json_limit = json_limit if json_limit is not None else limit
        self.larger = larger or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        content_type = (header(scope, b"content-type") or "").lower().encode("latin-1")
        whole = scope["method"] in ("POST", "PUT", "PATCH") and not content_type.startswith(_NOT_JSON)
        limit = self.larger.get((scope["method"], scope["path"]), self.json_limit if whole else self.limit)
        family: Family = scope["state"]["family"]
        declared = header(scope, b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > limit
            except ValueError:
                too_large = False  # the server's HTTP parser refuses a malformed Content-Length itself
            if too_large:
                await _too_large(family, limit, send)
                return
        received = 0
        started = False
        if whole:
            body, more = bytearray(), True
            while more:
                message = await receive()
                if message["type"] != "http.request":
                    return   # the client left
                body += message.get("body", b"")
                more = message.get("more_body", False)
                if len(body) > limit:
                    await _too_large(family, limit, send)
                    return
            if json_too_deep(bytes(body)):
                exc = Invalid("InvalidJson", f"the JSON body nests arrays and objects deeper than {MAX_JSON_DEPTH} "
                                             "levels")
                await family.errors.core_error(exc).send(send)
                return
            replay: list[dict[str, Any]] = [{"type": "http.request", "body": bytes(body), "more_body": False}]

            async def replaying_receive() -> Any:
                return replay.pop() if replay else await receive()
            await self.app(scope, replaying_receive, send)
            return

        async def counting_receive() -> Any:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, counting_receive, tracking_send)
        except BodyTooLarge as exc:
            if started:
                raise
            await _too_large(family, limit, send)


async def _too_large(family: Family, limit: int, send: Send) -> None:
    refusal = BodyTooLarge(limit)
    problem = family.errors.http_error(413, refusal.detail, refusal.headers)
    await Problem(problem.status, problem.body, {**(problem.headers or {}), "connection": "close"}).send(send)


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
            fault = self.faults.for_request(scope["method"], scope["path"], scope["state"].get("account_id"))
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
