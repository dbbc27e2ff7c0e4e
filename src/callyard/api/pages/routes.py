"""The pages: the API docs and the OpenAPI documents (``/`` is the console's home, api/console). The docs'
JavaScript and CSS come from the fastapi-offline package (Swagger UI 5 and ReDoc 2, as files), never from a CDN."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import fastapi_offline
from fastapi import APIRouter, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html, get_swagger_ui_oauth2_redirect_html
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response

from callyard.core.errors import NotFound

router = APIRouter()
ASSETS = Path(fastapi_offline.__file__).parent / "static"
ASSET_TYPES = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css",
               "redoc.standalone.js": "text/javascript", "favicon.png": "image/png"}
OAUTH2_REDIRECT = "/docs/oauth2-redirect"


def _families(request: Request) -> Any:
    return request.app.state.twin.families


def _family(request: Request, name: str) -> Any:
    family = _families(request).by_name.get(name)
    if family is None or family.name == "pages":
        raise NotFound("FamilyNotFound", f"no API family {name}; see / for the list")
    return family


def _swagger(title: str, openapi_url: str) -> HTMLResponse:
    return get_swagger_ui_html(openapi_url=openapi_url, title=title, oauth2_redirect_url=OAUTH2_REDIRECT,
                               swagger_js_url="/docs/assets/swagger-ui-bundle.js",
                               swagger_css_url="/docs/assets/swagger-ui.css",
                               swagger_favicon_url="/docs/assets/favicon.png",
                               swagger_ui_parameters={"persistAuthorization": True, "displayRequestDuration": True})


@router.get("/favicon.ico", include_in_schema=False)
async def favicon() -> FileResponse:
    return FileResponse(ASSETS / "favicon.png", media_type="image/png")


@router.get("/docs", include_in_schema=False)
async def docs_all(request: Request) -> HTMLResponse:
    return _swagger(f"{request.app.title} — every API", "/openapi.json")


@router.get(OAUTH2_REDIRECT, include_in_schema=False)
async def docs_oauth2_redirect() -> HTMLResponse:
    return get_swagger_ui_oauth2_redirect_html()


@router.get("/docs/assets/{asset}", include_in_schema=False)
async def docs_asset(asset: str) -> FileResponse:
    if asset not in ASSET_TYPES:
        raise NotFound("AssetNotFound", f"no docs asset {asset}")
    return FileResponse(ASSETS / asset, media_type=ASSET_TYPES[asset],
                        headers={"cache-control": "public, max-age=86400"})


@router.get("/docs/{family}", include_in_schema=False)
async def docs_family(family: str, request: Request) -> HTMLResponse:
    chosen = _family(request, family)
    return _swagger(f"callyard — {chosen.title or chosen.name}", chosen.document or f"/openapi/{chosen.name}.json")


@router.get("/redoc", include_in_schema=False)
async def redoc(request: Request) -> HTMLResponse:
    return get_redoc_html(openapi_url="/openapi.json", title=f"{request.app.title} — ReDoc",
                          redoc_js_url="/docs/assets/redoc.standalone.js", redoc_favicon_url="/docs/assets/favicon.png",
                          with_google_fonts=False)


@router.get("/openapi/{family}.json", include_in_schema=False)
async def openapi_family(family: str, request: Request) -> Response:
    chosen = _family(request, family)
    if chosen.document:   # a family that serves its own document (UC, CX): that one
        return RedirectResponse(chosen.document, status_code=307)
    return JSONResponse(request.app.state.openapi_of(chosen))
