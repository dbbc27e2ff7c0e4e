"""The family's own OpenAPI document (``GET /api/openapi.json``), generated from the family's routers, and a
Swagger UI for it (``GET /api/docs``). The UC routes are left out of the twin's CloudLink document
(``/openapi.json``), whose conformance run checks the ``{name, message}`` envelope."""
from __future__ import annotations

from typing import Any, Callable, Sequence

from fastapi import APIRouter
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse

from callyard import __version__

TITLE = "callyard UC User API"
DESCRIPTION = ("The end-user UC API of seed 003 (Dstny Core, formerly Mitel Telepo) as the callyard twin serves "
               "it. Authenticate with an API ticket (POST /api/tickets/{domain}/{user} with HTTP Basic) as "
               "`Authorization: Bearer <token>` or `?t=<token>`. Every refusal is a ValidationResult.")


def build_document(routers: Sequence[APIRouter]) -> dict[str, Any]:
    """The family's OpenAPI document from its routers."""
    routes = [route for r in routers for route in r.routes]
    doc = get_openapi(title=TITLE, version=__version__, description=DESCRIPTION, routes=routes,
                      servers=[{"url": "/"}])
    # The family refuses bad input with 400 (a ValidationResult, under "4XX"), never FastAPI's 422.
    for methods in doc.get("paths", {}).values():
        for operation in methods.values():
            operation.get("responses", {}).pop("422", None)
    schemas = doc.get("components", {}).get("schemas", {})
    for unused in ("HTTPValidationError", "ValidationError"):
        schemas.pop(unused, None)
    return doc


def openapi_router(routers: Callable[[], Sequence[APIRouter]]) -> APIRouter:
    router = APIRouter(prefix="/api", include_in_schema=False)
    cache: dict[str, Any] = {}

    def document() -> dict[str, Any]:
        if "doc" not in cache:
            cache["doc"] = build_document(routers())
        return cache["doc"]  # type: ignore[no-any-return]

    @router.get("/openapi.json")
    async def openapi_document() -> JSONResponse:
        return JSONResponse(document())

    @router.get("/docs")
    async def openapi_docs() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url="/api/openapi.json", title=f"{TITLE} — docs")

    return router
