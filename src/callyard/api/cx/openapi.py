"""The family's own OpenAPI document, built from its routes (``GET /miccsdk/api/v1/openapi.json``)."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.openapi.utils import get_openapi

from callyard.api.cx.edge import BASE

router = APIRouter()
_cached: dict[str, Any] = {}


def document() -> dict[str, Any]:
    if not _cached:
        from callyard.api.cx.family import REST_ROUTERS
        from callyard.api.cx import auth

        routes = [r for router in REST_ROUTERS for r in router.routes]
        spec = get_openapi(title="Mitel CX SDK (callyard twin)", version="1.0.0.0", routes=routes,
                           description="The MiCCSDK REST API of the twin's contact center. Paths are relative "
                                       f"to {BASE}; tokens come from POST /AuthorizationServer/Token.",
                           servers=[{"url": BASE}])
        spec["paths"].update(get_openapi(title="", version="", routes=auth.router.routes)["paths"])
        _cached.update(spec)
    return _cached


@router.get("/openapi.json")
async def openapi_json() -> Any:
    return document()
