"""The family's authorization server: ``POST /AuthorizationServer/Token`` (form-encoded, OAuth2 as an OWIN
server answers it) and ``GET /AuthorizationServer/api/account`` (the caller's claims).

Grants: ``password`` for employees (username = their login or its local part), ``client_credentials`` for the
clients registered with the contact center (``client_id``/``client_secret`` in the form or HTTP Basic), and
``client_credentials`` with an ``Impersonate: <username>`` header (the token of that employee). Errors in
OAuth form: ``{error, error_description}`` with 400."""
from __future__ import annotations

import base64
import binascii
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from callyard.api.cx import schemas
from callyard.api.cx.edge import principal
from callyard.api.deps import CoreDep
from callyard.core.errors import CoreError
from callyard.core.principal import Principal

router = APIRouter(tags=["AuthorizationServer"])


def _oauth_error(error: str, description: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status,
                        headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if header[:6].lower() != "basic ":
        return None
    try:
        user, _, secret = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return user, secret


@router.post("/authorizationserver/token", summary="Issue an access token (OAuth2: password, client_credentials)",
             responses={200: {"model": schemas.TokenResponse, "description": "The token"},
                        400: {"model": schemas.OAuthError, "description": "OAuth error"}},
             openapi_extra=schemas.body(schemas.TOKEN_FORM, "application/x-www-form-urlencoded"))
async def token(request: Request, core: CoreDep) -> Any:
    content_type = request.headers.get("content-type", "")
    if "application/x-www-form-urlencoded" not in content_type and "multipart/form-data" not in content_type:
        return _oauth_error("invalid_request", "The request must be form-encoded (application/x-www-form-urlencoded).")
    form = await request.form()
    fields = {k.lower(): str(v) for k, v in form.items()}
    grant = fields.get("grant_type", "")
    server = core.cc_authorization
    try:
        if grant == "password":
            issued = await server.password_grant(fields.get("username", ""), fields.get("password", ""))
            extra = {"userName": fields.get("username", "")}
        elif grant == "client_credentials":
            basic = _basic(request)
            client_id, secret = basic or (fields.get("client_id", ""), fields.get("client_secret", ""))
            if not client_id:
                return _oauth_error("invalid_client", "client_id is required.")
            issued = server.client_grant(client_id, secret, request.headers.get("impersonate"))
            extra = {}
        elif not grant:
            return _oauth_error("unsupported_grant_type", "grant_type is required.")
        else:
            return _oauth_error("unsupported_grant_type", f"The grant type {grant} is not supported.")
    except CoreError as exc:
        error = exc.name if exc.name in ("invalid_grant", "invalid_client") else "invalid_grant"
        return _oauth_error(error, exc.message)
    return JSONResponse({"access_token": issued.access_token, "token_type": "bearer",
                         "expires_in": issued.expires_in, **extra},
                        headers={"Cache-Control": "no-store", "Pragma": "no-cache"})


@router.get("/authorizationserver/api/account", summary="The caller's claims",
            responses={**schemas.ok(schemas.Account), **schemas.ERRORS})
async def account(caller: Annotated[Principal, Depends(principal)], core: CoreDep) -> Any:
    claims = core.cc_authorization.claims(caller)
    hidden = ("iat", "exp", "jti", "iss", "aud", "passwordHash")
    return {"claims": [{"type": k, "value": v} for k, v in sorted(claims.items()) if k not in hidden],
            "userName": claims.get("username") or claims.get("clientId"), "employeeId": claims.get("employeeId"),
            "securityRole": claims.get("securityRole"), "isImpersonated": bool(claims.get("impersonatedBy"))}
