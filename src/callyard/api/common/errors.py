"""The CloudLink error envelope ``{name, message}`` for every failure, including framework-level ones
(validation, unknown route, wrong method, malformed JSON). Never a 500 for bad input."""
from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException as StarletteHTTPException

from callyard.core.errors import CoreError, TooManyRequests

log = logging.getLogger("callyard.api")


class ErrorEnvelope(BaseModel):
    """The error body, as the OpenAPI documents it (some errors add fields, e.g. ``labels``)."""
    model_config = ConfigDict(extra="allow")
    name: str
    message: str


# ``responses=`` of a router: its error answers are 4xx in the envelope (bad input is 400, never FastAPI's 422).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorEnvelope, "description": "Client error, `{name, message}`"}}


def error_response(status: int, name: str, message: str, headers: dict[str, str] | None = None,
                   **extra: Any) -> JSONResponse:
    return JSONResponse({"name": name, "message": message, **extra}, status_code=status, headers=headers)


def describe_validation(errors: list[dict[str, Any]]) -> tuple[str, str]:
    """Ajv-like messages, as the real API words them ("data should NOT have additional properties")."""
    first = errors[0] if errors else {"type": "value_error", "loc": (), "msg": "invalid request"}
    loc = [str(p) for p in first.get("loc", ()) if p not in ("body",)]
    field = ".".join(loc)
    kind = first.get("type", "")
    if kind == "json_invalid":
        return "MalformedJSON", "the request body is not valid JSON"
    if kind == "extra_forbidden":
        parent = ".".join(loc[:-1]) or "data"
        return "ValidationError", f"{parent} should NOT have additional properties ('{loc[-1] if loc else ''}')"
    if kind == "missing":
        if not loc:
            return "MissingBodyInRequest", "a request body is required"
        parent = ".".join(loc[:-1]) or "data"
        return "ValidationError", f"{parent} should have required property '{loc[-1]}'"
    if kind in ("model_type", "model_attributes_type", "dict_type") and not loc:
        return "ValidationError", "the request body must be a JSON object"
    return "ValidationError", f"{field or 'data'}: {first.get('msg', 'is not valid')}"


def install(app: FastAPI) -> None:
    @app.exception_handler(CoreError)
    async def _core(_request: Request, exc: CoreError) -> JSONResponse:
        headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyRequests) else None
        if isinstance(exc, TooManyRequests):
            return JSONResponse({"message": exc.message}, status_code=429, headers=headers)
        return error_response(exc.status, exc.name, exc.message, headers, **exc.extra)

    @app.exception_handler(RequestValidationError)
    async def _validation(_request: Request, exc: RequestValidationError) -> JSONResponse:
        name, message = describe_validation(list(exc.errors()))
        return error_response(400, name, message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        if exc.status_code == 404:
            return error_response(404, "UnregisteredRoute", "no route matches this path")
        if exc.status_code == 405:
            return error_response(405, "MethodNotAllowed", "this route does not accept that method",
                                  headers=dict(exc.headers or {}))
        return error_response(exc.status_code, "HttpError", str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_request: Request, exc: Exception) -> JSONResponse:
        log.exception("unexpected error")
        return error_response(500, "InternalServerError", "an unexpected error occurred; see the server log")
