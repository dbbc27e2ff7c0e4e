"""Route matching by first path segment instead of a scan of every route.

FastAPI's router tries its routes one by one (each included router in turn, each of their routes in turn):
with four families mounted, a CX request was matched against some 500 routes before its own. ``RouteIndex``
groups the router's top-level routes by the first path segment they can serve (``2017-09-01``, ``api``,
``miccsdk``, ``_callyard``…; a route whose path starts with a parameter belongs to every group) and hands a
request to a copy of the router that holds only its group, in the original order. FastAPI's own matching,
partial matches (405), slash redirects, 404s and handlers run unchanged on that smaller list; the app's
routes themselves (what the OpenAPI documents are generated from) are untouched.
"""
from __future__ import annotations

import copy
from typing import Any

from callyard.api.family import Receive, Scope, Send

WILDCARD = "*"


def _first_segment(path: str) -> str:
    """The first segment, lower-cased: some routes match without regard to case (the SignalR endpoints), and a
    group holding routes that differ only in case changes nothing — each route still matches on its own."""
    segment = path.lstrip("/").split("/", 1)[0]
    return WILDCARD if not segment or "{" in segment else segment.lower()


def _segments(route: Any, prefix: str = "") -> set[str]:
    """The first path segments ``route`` (under ``prefix``) can match."""
    context = getattr(route, "include_context", None)
    nested = getattr(route, "original_router", None)
    if nested is not None:
        prefix = prefix + (getattr(context, "prefix", "") or "")
        if prefix.strip("/"):
            return {_first_segment(prefix)}
        found: set[str] = set()
        for child in nested.routes:
            found |= _segments(child, prefix)
        return found or {WILDCARD}
    path = getattr(route, "path", None)
    if not isinstance(path, str):
        return {WILDCARD}
    return {_first_segment(prefix + path)}


class RouteIndex:
    """The router's ``middleware_stack``: dispatches each request to the routes of its first segment."""

    def __init__(self, router: Any) -> None:
        self.router = router
        self.inner = router.middleware_stack
        self.routes = list(router.routes)
        groups: dict[str, list[Any]] = {}
        owners = [(route, _segments(route)) for route in self.routes]
        keys = {key for _, segments in owners for key in segments if key != WILDCARD}
        for key in keys | {WILDCARD}:
            groups[key] = [route for route, segments in owners if key in segments or WILDCARD in segments]
        self.routers: dict[str, Any] = {}
        for key, routes in groups.items():
            subset = copy.copy(router)
            subset.routes = routes
            self.routers[key] = subset

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan" or len(self.router.routes) != len(self.routes):
            await self.inner(scope, receive, send)   # routes added after the index was built: scan them all
            return
        scope.setdefault("router", self.router)
        key = _first_segment(scope["path"])
        subset = self.routers.get(key) or self.routers[WILDCARD]
        await subset.app(scope, receive, send)


def install(app: Any) -> None:
    """Index ``app``'s router (after every family is mounted). A router with middleware of its own is left to
    scan: the index calls the router's matching directly."""
    if app.router.middleware_stack == app.router.app:
        app.router.middleware_stack = RouteIndex(app.router)
