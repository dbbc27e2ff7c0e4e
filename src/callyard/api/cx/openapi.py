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

        mounted = APIRouter()
        for rest in REST_ROUTERS:
            mounted.include_router(rest, prefix=BASE)
        mounted.include_router(auth.router)
        spec = get_openapi(title="Mitel CX SDK (callyard twin)", version="1.0.0.0", routes=mounted.routes,
                           description=f"The MiCCSDK REST API of the twin's contact center under {BASE} (paths "
                                       "match regardless of case), and its authorization server. Send "
                                       "`Authorization: Bearer <access_token>` from POST /AuthorizationServer/Token.")
        _cached.update(spec)
    return _cached


@router.get("/openapi.json")
async def openapi_json() -> Any:
    return document()
