"""The OpenAPI documents: the whole twin's (``/openapi.json``) and one per family (``/openapi/{family}.json``).

FastAPI generates the operations; this adds what it cannot know: the security schemes (a bearer token, or
the OAuth2 password flow against ``POST /2017-09-01/token``, so Swagger UI's Authorize button signs in), the
security requirement of every operation whose route depends on its family's auth, and then each family's own
completion (``Family.openapi``: request bodies its handlers read raw, response schemas of its resources)."""
from __future__ import annotations

import copy
from typing import Any, Iterable

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from callyard import __version__
from callyard.api.family import Families, Family

SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT",
               "description": "An access token from POST /2017-09-01/token (any grant)."},
    "password": {"type": "oauth2", "description": "Sign in as a user of the tenant (demo: admin@acme.example / "
                                                  "callyard); Swagger UI then sends the token it gets.",
                 "flows": {"password": {"tokenUrl": "/2017-09-01/token", "scopes": {}}}},
}
SIGNED_IN: list[dict[str, list[str]]] = [{"bearer": []}, {"password": []}]
METHODS = ("get", "put", "post", "delete", "patch")


def _depends_on(dependant: Dependant, call: Any) -> bool:
    return any(d.call is call or _depends_on(d, call) for d in dependant.dependencies)


def _family_of(route: RouteContext) -> str | None:
    return getattr(route.original_route, "family", None)


def _routes(app: FastAPI, family: Family | None) -> list[RouteContext]:
    """The documented routes (of one family): FastAPI keeps included routers as contexts."""
    return [r for r in iter_route_contexts(app.routes) if isinstance(r.original_route, APIRoute)
            and getattr(r, "include_in_schema", False) and (family is None or _family_of(r) == family.name)]


def operations(doc: dict[str, Any], routes: Iterable[RouteContext]) -> dict[tuple[str, str], dict[str, Any]]:
    """{(METHOD, path): operation} of ``routes`` in ``doc``."""
    out = {}
    for route in routes:
        path = str(route.path_format)
        item = doc.get("paths", {}).get(path, {})
        for method in route.methods or ():
            op = item.get(method.lower())
            if op is not None:
                out[(method.upper(), path)] = op
    return out


def document(app: FastAPI, families: Families, only: Family | None = None) -> dict[str, Any]:
    """The OpenAPI document of ``only`` (one family) or of every family."""
    routes = _routes(app, only)
    title = f"callyard — {only.title or only.name}" if only else app.title
    doc = get_openapi(title=title, version=__version__, routes=routes,
                      description=(only.description if only else app.description) or None)
    doc.setdefault("components", {})["securitySchemes"] = copy.deepcopy(SECURITY_SCHEMES)
    for family in families.all:
        if only is not None and family is not only:
            continue
        mine = [r for r in routes if _family_of(r) == family.name]
        ops = operations(doc, mine)
        for route in mine:
            if _depends_on(route.dependant, family.auth):
                for method in route.methods or ():
                    op = ops.get((method.upper(), str(route.path_format)))
                    if op is not None:
                        op.setdefault("security", copy.deepcopy(SIGNED_IN))
        if family.openapi is not None:
            family.openapi(doc, ops)
    return doc


def install(app: FastAPI, families: Families) -> None:
    """``app.openapi()`` (what ``/openapi.json`` serves) builds the whole twin's document once."""
    cache: dict[str, dict[str, Any]] = {}

    def whole() -> dict[str, Any]:
        if "*" not in cache:
            cache["*"] = document(app, families)
        return cache["*"]

    def of(family: Family) -> dict[str, Any]:
        if family.name not in cache:
            cache[family.name] = document(app, families, family)
        return cache[family.name]

    app.openapi = whole  # type: ignore[method-assign]
    app.state.openapi_of = of
