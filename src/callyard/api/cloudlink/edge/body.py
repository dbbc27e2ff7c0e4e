"""CloudLink's request body readers, for the routes that read the body themselves (free-form JSON, or a
form or JSON as the authentication service takes). Bad input is a 400 in CloudLink's envelope."""
from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from callyard.core.errors import Invalid


async def read_json(request: Request, *, missing: str | None = None) -> Any:
    """The body as any JSON value; an empty body is None, or ``MissingBodyInRequest`` when ``missing`` says
    why one is needed."""
    raw = await request.body()
    if missing is not None and not raw.strip():
        raise Invalid("MissingBodyInRequest", missing)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        raise Invalid("MalformedJSON", "the request body is not valid JSON") from None


async def read_json_object(request: Request) -> dict[str, Any]:
    body = await read_json(request)
    if not isinstance(body, dict):
        raise Invalid("ValidationError", "data should be object")
    return body


async def read_form_or_json(request: Request) -> dict[str, Any]:
    """A request body as a flat dict, from JSON or from a form, whichever the client sent."""
    raw = await request.body()
    if not raw.strip():
        return {}
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        form = await request.form()
        return {k: v for k, v in form.items() if isinstance(v, str)}
    try:
        body = json.loads(raw)
    except ValueError:
        if content_type.endswith("json"):
            raise Invalid("MalformedJSON", "the request body is not valid JSON") from None
        raise Invalid("MissingBodyInRequest", "send the body as application/x-www-form-urlencoded or JSON") from None
    if not isinstance(body, dict):
        raise Invalid("MalformedJSON", "the request body must be a JSON object")
    return body
