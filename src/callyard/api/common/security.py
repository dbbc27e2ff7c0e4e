"""Token extraction: ``Authorization: Bearer <jwt>`` and, as Mitel's own samples send it, the bare
``Authorization: <jwt>``. Resolves to a core ``Principal`` or answers 401."""
from __future__ import annotations

from typing import TYPE_CHECKING

from fastapi import Request

from callyard.core.errors import Unauthorized
from callyard.core.principal import Principal

if TYPE_CHECKING:
    from callyard.container import Twin


def bearer_token(request: Request) -> str | None:
    return token_from_header(request.headers.get("authorization"))


def token_from_header(header: str | None) -> str | None:
    if not header:
        return None
    header = header.strip()
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    if header[:6].lower() == "basic ":
        return None
    return header


async def principal(request: Request) -> Principal:
    """FastAPI dependency: the caller, from a valid access token. Async on purpose: a plain ``def``
    dependency would run in the thread pool on every request."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("MissingAuthToken", "an access token is required in the Authorization header")
    twin: Twin = request.app.state.twin
    found = twin.core.auth.principal(token)
    request.state.principal = found
    return found
