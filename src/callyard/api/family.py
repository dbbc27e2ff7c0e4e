"""An API family (cloudlink, control; uc and cx later) as one mounted unit with its own edge.

A ``Family`` declares its routers and where they are mounted, the paths it owns, how it renders an error
(its envelope: status per core error kind, validation wording, unknown route and method), its auth
dependency, its paging shape and the middleware that applies to its requests only. ``callyard.app`` lists
the families and ``mount`` installs them; nothing in one family refers to another.

Starlette's exception handlers are app-wide, so one dispatching layer (``install_error_dispatch``) asks which
family owns the failed request and lets it answer in its envelope: the family of the matched route (every
route a family mounts carries ``route.family``), else the family owning the path by prefix (unknown routes,
errors raised before routing).
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Awaitable, Callable, Iterable, Mapping, Protocol, Sequence

from fastapi import APIRouter, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware import Middleware

from callyard.core.errors import CoreError

if TYPE_CHECKING:
    from callyard.api.hot import HotRoute
    from callyard.container import Twin

log = logging.getLogger("callyard.api")

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def header(scope: Scope, name: bytes) -> str | None:
    """The first value of the request header ``name`` (lower-case bytes, as ASGI gives names), or None."""
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


@dataclass(frozen=True)
class Problem:
    """An error as a family puts it on the wire: status, JSON body, extra headers."""
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)

    def response(self) -> JSONResponse:
        return JSONResponse(self.body, status_code=self.status, headers=self.headers or None)

    async def send(self, send: Send) -> None:
        """Answer from a middleware (before any route ran)."""
        payload = json.dumps(self.body).encode()
        raw_headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in self.headers.items()]
        await send({"type": "http.response.start", "status": self.status, "headers": raw_headers})
        await send({"type": "http.response.body", "body": payload})


class Envelope(Protocol):
    """How a family words its errors."""

    def core_error(self, exc: CoreError) -> Problem:
        """A core error: the family's status for ``exc.kind`` and its body."""

    def validation_error(self, errors: Sequence[Mapping[str, Any]]) -> Problem:
        """The request failed the route's schema (pydantic's error list)."""

    def http_error(self, status: int, detail: str, headers: Mapping[str, str] | None) -> Problem:
        """A framework-level refusal: 404 unknown route, 405 wrong method, …"""

    def unexpected(self) -> Problem:
        """A bug: the 500 the family answers (the exception is logged)."""


@dataclass(frozen=True)
class Mount:
    """One router of a family at one prefix. Routes are matched in order across all families, lowest
    ``priority`` first (hot paths first); within a priority, in the order the families and mounts are listed."""
    router: APIRouter
    prefix: str = ""
    include_in_schema: bool = True
    priority: int = 100


MiddlewareFactory = Callable[["Twin"], Sequence[Middleware]]


def _no_middleware(_twin: "Twin") -> Sequence[Middleware]:
    return ()


def _no_projections(_twin: "Twin") -> None:
    return None


@dataclass(frozen=True)
class Family:
    name: str
    prefixes: tuple[str, ...]                 # the paths it owns; "/" owns what no other family claims
    mounts: tuple[Mount, ...]
    errors: Envelope
    auth: Callable[..., Awaitable[Any]]      # the dependency that resolves the caller
    paging: Callable[..., dict[str, Any]]    # a list of items → the family's collection body
    # ASGI middleware run on this family's requests only, inside the family-neutral request context.
    middleware: MiddlewareFactory = _no_middleware
    # ASGI middleware run on every request before the owning family is chosen; it may rewrite the path
    # (CloudLink's service hosts map onto its prefixes).
    routing_middleware: MiddlewareFactory = _no_middleware
    # Registers the family's projections on the twin's event path (events/projections.py): what it publishes,
    # through which transports. Called once by the composition root, after every service is built.
    projections: Callable[["Twin"], None] = _no_projections
    rate_limited: bool = True                # the per-token rate limit applies
    faultable: bool = True                   # injected faults may hit its requests
    exact: tuple[str, ...] = ()              # single paths it owns outright (the landing page owns "/")
    title: str = ""                          # how the landing page and the API docs name it
    description: str = ""                    # one line for the landing page
    document: str | None = None              # the URL of the family's own OpenAPI document, when it serves one
    # Completes the family's part of the OpenAPI document (request bodies, response schemas, security) in
    # place: called with the generated document and the family's operations as {(METHOD, path): operation}.
    openapi: Callable[[dict[str, Any], dict[tuple[str, str], dict[str, Any]]], None] | None = None
    # Operations served without FastAPI's per-request machinery (``callyard.api.hot``); each is also a route of
    # one of ``mounts``, which documents it and serves what the hot endpoint declines.
    hot: tuple["HotRoute", ...] = ()

    def owns_path(self, path: str) -> int:
        """The length of the longest prefix of ``path`` this family owns (0: none); an exact path wins over
        every prefix."""
        if path in self.exact:
            return 1_000_000
        best = 0
        for prefix in self.prefixes:
            if prefix == "/":
                best = max(best, 1)
            elif path == prefix or path.startswith(prefix.rstrip("/") + "/"):
                best = max(best, len(prefix))
        return best


class Families:
    """The registered families, and which one owns a request."""

    def __init__(self, families: Iterable[Family]) -> None:
        self.all: tuple[Family, ...] = tuple(families)
        names = [f.name for f in self.all]
        if len(set(names)) != len(names):
            raise ValueError(f"family names must be unique: {names}")
        self.by_name = {f.name: f for f in self.all}
        self._owner: dict[str, Family] = {}   # path → family: every request asks, most paths come again

    def for_path(self, path: str) -> Family:
        best = self._owner.get(path)
        if best is not None:
            return best
        best = max(self.all, key=lambda f: f.owns_path(path))
        if best.owns_path(path) == 0:
            raise LookupError(f"no family owns {path}")
        if len(self._owner) >= 4096:
            self._owner.clear()
        self._owner[path] = best
        return best

    def for_scope(self, scope: Mapping[str, Any]) -> Family:
        """The family of the matched route, else of the path."""
        route = scope.get("route")
        name = getattr(route, "family", None)
        if name is not None:
            return self.by_name[name]
        return self.for_path(scope.get("path", "/"))

    def mount(self, app: FastAPI) -> None:
        """Include every family's routers, in priority order, and mark their routes with the family."""
        ordered = sorted(((m.priority, fi, mi, family, m) for fi, family in enumerate(self.all)
                          for mi, m in enumerate(family.mounts)), key=lambda t: t[:3])
        for _priority, _fi, _mi, family, mount in ordered:
            _mark(mount.router, family.name)
            app.include_router(mount.router, prefix=mount.prefix, include_in_schema=mount.include_in_schema)


def _mark(router: Any, name: str) -> None:
    """Set ``family`` on every route of ``router`` and of the routers it includes. FastAPI keeps the
    original route objects behind an include (``original_router``) and hands them to ``scope["route"]``."""
    for route in getattr(router, "routes", ()):
        nested = getattr(route, "original_router", None)
        if nested is not None:
            _mark(nested, name)
            continue
        owner = getattr(route, "family", None)
        if owner is not None and owner != name:
            raise ValueError(f"route {getattr(route, 'path', route)} is mounted by {owner} and {name}")
        route.family = name


def install_error_dispatch(app: FastAPI, families: Families) -> None:
    """One set of app-wide exception handlers; the owning family renders each error."""

    @app.exception_handler(CoreError)
    async def _core(request: Request, exc: CoreError) -> JSONResponse:
        return families.for_scope(request.scope).errors.core_error(exc).response()

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return families.for_scope(request.scope).errors.validation_error(list(exc.errors())).response()

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        envelope = families.for_scope(request.scope).errors
        return envelope.http_error(exc.status_code, str(exc.detail), exc.headers).response()

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return families.for_scope(request.scope).errors.unexpected().response()
