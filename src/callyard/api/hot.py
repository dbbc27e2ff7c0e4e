"""Hot routes: a family's busiest operations served without FastAPI's per-request routing, dependency
injection and validation, while FastAPI keeps the same operations in its router and its OpenAPI document.

A family lists its hot routes (``Family.hot``): a method, a path template at the root and a plain endpoint
``async (HotRequest) -> body``. ``HotRoutes`` (the innermost step of ``callyard.api.common.middleware.Edge``,
inside the request context, the body limit, the family's edge, the rate limit and the fault injection) looks
a request up in an index by method, number of segments and first segment; a match runs the endpoint, anything
else goes on to FastAPI.

An endpoint serves only requests it can prove well formed (hand-checked bodies): for anything else it raises
``Decline`` and the request goes to the FastAPI route of the same operation, body replayed, so every refusal
(validation errors, unsupported content types) is FastAPI's own, byte for byte. The answer is encoded the way
FastAPI encodes an endpoint's ``dict`` (pydantic-core's JSON), and a core error is rendered by the owning
family's envelope exactly as the app-wide exception handlers render it (``callyard.api.family``).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterable

from pydantic_core import to_json
from starlette.requests import Request
from starlette.responses import Response

from callyard.api.common.security import token_from_header
from callyard.api.family import ASGIApp, Family, Problem, Receive, Scope, Send, header
from callyard.core.errors import CoreError, Unauthorized
from callyard.core.principal import Principal

if TYPE_CHECKING:
    from callyard.container import Twin

log = logging.getLogger("callyard.api")


_ASCII_SPACE = " \t\n\r\x0b\x0c"   # what bytes.strip() strips: a header decoded as latin-1 is compared as sent


class Decline(Exception):
    """The hot endpoint does not serve this request: FastAPI's route of the same operation does."""


class HotRequest:
    """What a hot endpoint sees: the scope, the path parameters, the body (read once) and the caller."""

    __slots__ = ("scope", "params", "body", "twin", "_request")

    def __init__(self, scope: Scope, params: dict[str, str], body: bytes, twin: "Twin") -> None:
        self.scope, self.params, self.body, self.twin = scope, params, body, twin
        self._request: Request | None = None

    def principal(self) -> Principal:
        """The caller, as ``callyard.api.common.security.principal`` resolves it (and caches it in the request
        state, where the journal and the audit read it)."""
        return self.caller(self.twin.core.auth.principal, "MissingAuthToken")

    def caller(self, resolve: Callable[[str], Principal], missing: str) -> Principal:
        """The caller a family's token resolver (``resolve``) finds for the bearer token, cached in the request
        state as the family's dependency caches it; no token: ``Unauthorized`` with the family's code
        ``missing``."""
        state = self.scope["state"]
        cached: Principal | None = state.get("principal")
        if cached is not None:
            return cached
        token = token_from_header(header(self.scope, b"authorization"))
        if token is None:
            raise Unauthorized(missing, "an access token is required in the Authorization header")
        found = resolve(token)
        state["principal"] = found
        return found

    def json_object(self) -> dict[str, Any]:
        """The body as a JSON object sent as ``application/json``; anything else declines (FastAPI's body
        validation answers it)."""
        content_type = header(self.scope, b"content-type") or ""
        if content_type.split(";", 1)[0].strip(_ASCII_SPACE).lower() != "application/json":
            raise Decline()
        try:
            body = json.loads(self.body)
        except ValueError:
            raise Decline() from None
        if not isinstance(body, dict):
            raise Decline()
        return body

    def query(self) -> str:
        return str(self.scope.get("query_string", b"").decode("latin-1"))

    @property
    def request(self) -> Request:
        """A Starlette request over the same scope, for the wire helpers that build absolute URLs."""
        if self._request is None:
            self._request = Request(self.scope)
        return self._request


HotEndpoint = Callable[[HotRequest], Awaitable[Any]]


@dataclass(frozen=True)
class HotRoute:
    """One operation served hot: ``path`` is the FastAPI route's full path at the root (``{name}`` segments
    are parameters); the endpoint's answer is the JSON body (a value, or bytes it encoded itself, as a
    response model does), sent with ``status``, or a Starlette ``Response`` sent as it is (what a route that
    returns one sends, such as an empty 204)."""
    method: str
    path: str
    endpoint: HotEndpoint
    status: int = 200

    def segments(self) -> tuple[str, ...]:
        return tuple(self.path.strip("/").split("/"))


@dataclass(frozen=True)
class _Compiled:
    route: HotRoute
    family: Family
    literals: tuple[tuple[int, str], ...]   # (index, segment) to compare
    params: tuple[tuple[int, str], ...]     # (index, name) to capture


class HotIndex:
    """The hot routes of every family, by (method, number of segments, first segment)."""

    def __init__(self, families: Iterable[Family]) -> None:
        self.table: dict[tuple[str, int, str], list[_Compiled]] = {}
        for family in families:
            for route in family.hot:
                parts = route.segments()
                if parts[0].startswith("{"):
                    raise ValueError(f"a hot route starts with a literal segment: {route.path}")
                literals = tuple((i, p) for i, p in enumerate(parts) if i and not p.startswith("{"))
                params = tuple((i, p[1:-1]) for i, p in enumerate(parts) if p.startswith("{"))
                self.table.setdefault((route.method, len(parts), parts[0]), []).append(
                    _Compiled(route, family, literals, params))

    def __bool__(self) -> bool:
        return bool(self.table)

    def match(self, method: str, path: str) -> tuple[_Compiled, dict[str, str]] | None:
        parts = path[1:].split("/")
        candidates = self.table.get((method, len(parts), parts[0]))
        if not candidates:
            return None
        for compiled in candidates:
            if all(parts[i] == literal for i, literal in compiled.literals):
                params = {name: parts[i] for i, name in compiled.params}
                if all(params.values()):
                    return compiled, params
        return None


class HotRoutes:
    """The innermost middleware: a matched hot route is served here, every other request goes to ``app``."""

    def __init__(self, app: ASGIApp, *, twin: "Twin") -> None:
        self.app = app
        self.twin = twin
        self.index = HotIndex(twin.families.all)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("root_path"):
            await self.app(scope, receive, send)
            return
        found = self.index.match(scope["method"], scope["path"])
        if found is None:
            await self.app(scope, receive, send)
            return
        compiled, params = found
        chunks: list[bytes] = []
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return   # the client left
            chunks.append(message.get("body", b""))
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            answer = await compiled.route.endpoint(HotRequest(scope, params, body, self.twin))
        except Decline:
            replay = [{"type": "http.request", "body": body, "more_body": False}]

            async def replaying() -> Any:
                return replay.pop() if replay else await receive()
            await self.app(scope, replaying, send)
            return
        except CoreError as exc:
            await _answer(compiled.family.errors.core_error(exc), scope, receive, send)
            return
        except Exception:
            log.exception("unexpected error")
            await _answer(compiled.family.errors.unexpected(), scope, receive, send)
            return
        if isinstance(answer, Response):   # an answer the FastAPI route sends as it is (a 204, say)
            await answer(scope, receive, send)  # type: ignore[arg-type]  # Starlette types send as a MutableMapping
            return
        payload = answer if isinstance(answer, bytes) else to_json(answer)
        await send({"type": "http.response.start", "status": compiled.route.status, "headers": [
            (b"content-length", str(len(payload)).encode()), (b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": payload})


async def _answer(problem: Problem, scope: Scope, receive: Receive, send: Send) -> None:
    """A problem as the app-wide exception handlers send it (a Starlette ``JSONResponse``)."""
    await problem.response()(scope, receive, send)  # type: ignore[arg-type]
