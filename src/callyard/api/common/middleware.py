"""``Edge``: the ASGI middleware every family's requests go through, in one layer (see its docstring):
request context and journal, body limit, the owning family's own middleware, rate limit, fault injection and
the hot routes. Also the pieces it is made of: the journal, the rate limit's token buckets, the sign-in body
peek (attribution) and the JSON depth check.
"""
from __future__ import annotations

import asyncio
import hashlib
import json
import random
import time
from collections import deque
from urllib.parse import parse_qsl
from dataclasses import dataclass
from functools import lru_cache
from datetime import datetime
from typing import TYPE_CHECKING, Any, NamedTuple

from callyard.api.common import redaction
from callyard.api.common.retry_after import retry_after
from starlette.exceptions import HTTPException as StarletteHTTPException

from callyard.api.common.security import token_from_header
from callyard.api.family import ASGIApp, Families, Family, Problem, Receive, Scope, Send, header
from callyard.api.hot import HotRoutes
from callyard.core import context
from callyard.core.clock import Clock, iso
from callyard.core.ids import uuid4_text
from callyard.core.errors import Invalid, TooManyRequests
from callyard.faults.service import Faults

if TYPE_CHECKING:
    from callyard.container import Twin


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
class JournalEntry(NamedTuple):
    """One request as the edge saw it, kept raw: formatted into the journal's wire shape only when read."""
    at: datetime
    method: str
    path: str
    query: bytes
    host: str | None
    status: int
    correlation_id: str
    seconds: float
    app_header: Any          # the family's parsed X-Mitel-App (``as_dict()``), or None
    principal: Any           # the caller (``callyard.core.principal.Principal``), or None
    account_id: str | None   # the account the request is attributed to (None: no account)
    token_id: str | None
    request_headers: list[tuple[bytes, bytes]]
    response_headers: list[tuple[bytes, bytes]]
    request_body: "redaction.Kept"    # the first BODY_KEPT bytes, redacted only when shown (``Journal.readable``)
    response_body: "redaction.Kept"

    def wire(self) -> dict[str, Any]:
        principal = self.principal
        return {
            "at": iso(self.at), "method": self.method, "path": self.path,
            "query": redaction.query(self.query.decode("latin-1")), "host": self.host, "status": self.status,
            "correlationId": self.correlation_id, "durationMs": round(self.seconds * 1000, 2),
            "appHeader": self.app_header.as_dict() if self.app_header else None,
            "principal": None if principal is None else {
                "principalId": principal.principal_id, "accountId": principal.account_id,
                "role": principal.role, "clientId": principal.client_id},
            "accountId": self.account_id, "tokenId": self.token_id,
            "requestHeaders": redaction.headers(self.request_headers),
            "responseHeaders": redaction.headers(self.response_headers),
            "requestBody": self.request_body, "responseBody": self.response_body}


class Journal:
    """The most recent requests, newest last (``GET /_callyard/journal``). Each entry names the account it is
    attributed to (``accountId``: the caller's, or the one an unauthenticated sign-in names; None: no
    account), which decides who sees it. Entries are kept raw and formatted when read."""

    def __init__(self, size: int = 2000) -> None:
        self.entries: deque[JournalEntry] = deque(maxlen=size)

    def add(self, entry: JournalEntry) -> None:
        self.entries.append(entry)

    def visible(self, accounts: set[str] | None) -> list[dict[str, Any]]:
        """Every entry (``accounts`` None: the operator), else those attributed to one of ``accounts``, in the
        journal's wire shape; pass those shown through ``readable`` (bodies are redacted only then)."""
        return [e.wire() for e in self.entries if accounts is None or e.account_id in accounts]

    @staticmethod
    def readable(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """The entries as shown: their bodies redacted when first shown (``redaction.readable`` remembers each
        kept body's redaction), never on the request's path."""
        for entry in entries:
            for key in BODY_KEYS:
                if isinstance(entry.get(key), redaction.Kept):
                    entry[key] = redaction.readable(entry[key])
        return entries

    def clear(self, accounts: set[str] | None = None) -> None:
        if accounts is None:
            self.entries.clear()
            return
        kept = [e for e in self.entries if e.account_id not in accounts]
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


async def _too_large(family: Family, limit: int, send: Send) -> None:
    refusal = BodyTooLarge(limit)
    problem = family.errors.http_error(413, refusal.detail, refusal.headers)
    await Problem(problem.status, problem.body, {**(problem.headers or {}), "connection": "close"}).send(send)


@lru_cache(maxsize=4096)
def _token_id(bearer: str) -> str:
    """The journal's and the rate limit's name for a token: a prefix of its SHA-256 (a client sends the same
    few tokens again and again, so the digests of the last few thousand are kept)."""
    return hashlib.sha256(bearer.encode()).hexdigest()[:16]


class Edge:
    """The one middleware every request goes through (inside the families' routing middleware), doing in one
    pass what used to be six nested layers, outermost first:

    1. the request context: the correlation id (the client's, echoed, or a new one) on the response and in
       ``callyard.core.context``; the owning family (``scope["state"]["family"]``), the token id and the
       account the request is attributed to; a journal entry (kept raw, formatted when read);
    2. the body limit (413 in the family's envelope, before anything reads the body and before
       authentication; 400 ``InvalidJson`` for a JSON body nested deeper than ``MAX_JSON_DEPTH``);
    3. the owning family's own middleware (``Family.middleware``: CloudLink's app header and audit, UC's edge),
       around
    4. the per-token rate limit on the families that are rate limited,
    5. injected faults (``/_callyard/faults``) on the families that may be faulted, and
    6. the families' hot routes (``callyard.api.hot``), else FastAPI's router.
    """

    def __init__(self, app: ASGIApp, *, twin: "Twin") -> None:
        self.app = app
        self.twin = twin
        self.clock: Clock = twin.clock
        self.journal: Journal = twin.journal
        self.families: Families = twin.families
        self.faults: Faults = twin.faults
        self.rate_limit: RateLimit | None = twin.rate_limit
        self.retry_after_format = twin.settings.retry_after_format
        self.limit = twin.settings.max_body_bytes
        self.json_limit = twin.settings.max_json_bytes
        self.larger = {("POST", "/_callyard/state"): twin.settings.max_snapshot_bytes}
        self.routes = HotRoutes(app, twin=twin)
        self.stacks: dict[str, ASGIApp] = {}
        self._rng = random.Random()   # its own: seeding the module's (tests do) must not repeat correlation ids
        for family in self.families.all:
            stack: ASGIApp = self._inner
            for layer in reversed(family.middleware(twin)):
                stack = layer.cls(stack, *layer.args, **layer.kwargs)
            self.stacks[family.name] = stack

    def attributed_account(self, scope: Scope, token: str | None, body: bytes | None) -> str | None:
        """The account a request is attributed to before anyone checks it: a valid token's, else the account
        an unauthenticated sign-in names (``account_id``, or the username's domain); else none."""
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

    # ------------------------------------------------------------------ 1. the request context
    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation = authorization = host = None
        for key, value in scope["headers"]:
            if key == b"x-mitel-correlation-id":
                if correlation is None:
                    correlation = value.decode("latin-1")
            elif key == b"authorization":
                if authorization is None:
                    authorization = value.decode("latin-1")
            elif key == b"host" and host is None:
                host = value.decode("latin-1")
        # A correlation id names a request, it guards nothing: the fast generator's bits are enough
        correlation = correlation or uuid4_text(self._rng.getrandbits(128))
        bearer = token_from_header(authorization)
        token_id = _token_id(bearer) if bearer else None
        started = time.perf_counter()
        method, path = scope["method"], scope["path"]
        state = scope.setdefault("state", {})
        family = state["family"] = self.families.for_path(path)
        state["correlation_id"] = correlation
        state["token_id"] = token_id
        body: bytes | None = None
        if bearer is None and method == "POST" and path.endswith(SIGN_IN_SUFFIXES) \
                and _declared_length(scope) <= PEEK_LIMIT:   # a larger (or undeclared) body: the body limit's
            body, receive = await peek_body(receive)
        state["account_id"] = self.attributed_account(scope, bearer, body)
        token = context.correlation_id.set(correlation)
        correlation_header = (b"x-mitel-correlation-id", correlation.encode("latin-1"))
        status = 0
        response_headers: list[tuple[bytes, bytes]] = []
        request_body = bytearray()
        response_body = bytearray()
        sizes = [0, 0]   # request, response bytes seen
        inner_receive = receive

        async def receive_capture() -> Any:
            message = await inner_receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                sizes[0] += len(chunk)
                if len(request_body) < redaction.BODY_KEPT:
                    request_body.extend(chunk[:redaction.BODY_KEPT - len(request_body)])
            return message

        async def send_wrapper(message: dict[str, Any]) -> None:
            nonlocal status, response_headers
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = [h for h in message.get("headers", []) if h[0].lower() != b"x-mitel-correlation-id"]
                headers.append(correlation_header)
                response_headers = headers
                message = dict(message, headers=headers)
            elif message["type"] == "http.response.body":
                chunk = message.get("body", b"")
                sizes[1] += len(chunk)
                if len(response_body) < redaction.BODY_KEPT:
                    response_body.extend(chunk[:redaction.BODY_KEPT - len(response_body)])
            await send(message)

        try:
            await self._limited(scope, receive_capture, send_wrapper, family)
        finally:
            context.correlation_id.reset(token)
            principal = state.get("principal")
            self.journal.add(JournalEntry(
                self.clock.now(), method, path, scope.get("query_string", b""), host, status, correlation,
                time.perf_counter() - started, state.get("app_header"), principal,
                principal.account_id if principal is not None else state.get("account_id"), token_id,
                list(scope.get("headers") or []), response_headers,
                redaction.Kept(bytes(request_body), header(scope, b"content-type"), sizes[0]),
                redaction.Kept(bytes(response_body), _content_type(response_headers), sizes[1])))

    # ------------------------------------------------------------------ 2. the body limit
    async def _limited(self, scope: Scope, receive: Receive, send: Send, family: Family) -> None:
        content_type = (header(scope, b"content-type") or "").lower().encode("latin-1")
        whole = scope["method"] in ("POST", "PUT", "PATCH") and not content_type.startswith(_NOT_JSON)
        limit = self.larger.get((scope["method"], scope["path"]), self.json_limit if whole else self.limit)
        app = self.stacks[family.name]      # 3. the family's own middleware, around 4-6
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
            await app(scope, replaying_receive, send)
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
            await app(scope, counting_receive, tracking_send)
        except BodyTooLarge:
            if started:
                raise
            await _too_large(family, limit, send)

    # ------------------------------------------------------------------ 4-6. inside the family's middleware
    async def _inner(self, scope: Scope, receive: Receive, send: Send) -> None:
        state = scope["state"]
        family: Family = state["family"]
        if self.rate_limit is not None and family.rate_limited and state["token_id"] is not None:
            wait = self.rate_limit.take(state["token_id"], time.monotonic())
            if wait > 0:
                await self._too_many(family, wait, send)
                return
        if family.faultable:
            fault = self.faults.for_request(scope["method"], scope["path"], state.get("account_id"))
            if fault is not None:
                # an injected answer carries a correlation id and is journaled and audited like any other; the
                # control plane is never faulted (it is how faults are removed)
                delay = self.faults.delay_of(fault)
                if delay:
                    await asyncio.sleep(delay)
                if fault.status is not None:
                    status, body, headers = self.faults.response_of(fault)
                    await Problem(status, body, headers).send(send)
                    return
        await self.routes(scope, receive, send)

    async def _too_many(self, family: Family, wait: float, send: Send) -> None:
        retry = max(1, int(wait + 0.999))
        exc = TooManyRequests("TooManyRequests", "Too many requests; retry after the Retry-After delay",
                              retry_after=retry)
        problem = family.errors.core_error(exc)
        for key in [k for k in problem.headers if k.lower() == "retry-after"]:
            problem.headers[key] = retry_after(retry, self.retry_after_format)
        await problem.send(send)


