"""CloudLink Authentication API façade (contract: cloudlink-auth.openapi.json).

Translates form-encoded or JSON bodies and HTTP Basic credentials into core grant calls and renders the
``token``, ``claims``, ``application`` and discovery shapes of the real spec.
"""
from __future__ import annotations

import base64
import binascii
import re
from typing import Any
from urllib.parse import unquote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from callyard.api.cloudlink.edge import BASE_PATH
from callyard.api.cloudlink.edge.body import read_form_or_json
from callyard.api.cloudlink.edge.odata import collection
from callyard.api.common.errors import ERROR_RESPONSES, ErrorEnvelope
from callyard.api.cloudlink.wire import application_wire, base_url, pick, service_url
from callyard.api.common.security import bearer_token, principal
from callyard.api.deps import CoreDep, twin_of
from callyard.core.auth.service import ANONYMOUS_FIELDS, GRANTS, IssuedToken
from callyard.core.errors import Forbidden, Gone, Invalid, NotFound, NotImplementedRoute, Unauthorized
from callyard.core.principal import Principal
from callyard.api.cloudlink.edge.hosts import arrived_path

router = APIRouter(tags=["authentication"], responses=ERROR_RESPONSES)

TOKEN_FIELDS = {"grant_type", "account_id", "username", "password", "client_id", "client_secret", "refresh_token",
                "token", "code", "redirect_uri", "scope", "code_verifier", "subject_token_type", "subject_token",
                "requested_subject", "audience", *ANONYMOUS_FIELDS}


def token_wire(issued: IssuedToken) -> dict[str, Any]:
    """The OAuth token response of the spec's ``token`` definition."""
    return {"token_type": "bearer", "expires_in": issued.expires_in, "access_token": issued.access_token,
            "refresh_token": issued.refresh_token, "scope": issued.scope}


def claims_wire(principal: Principal) -> dict[str, Any]:
    """``GET /token``: the claims, with exp/iat and the *Verified flags as strings (what real clients
    decode) and every key the Swift SDK requires present."""
    claims = dict(principal.claims)
    out: dict[str, Any] = {key: "" for key in (
        "extension", "loginId", "profileHeaderUrl", "photoUrl", "sipAddress", "email", "mobile", "phone",
        "languageCode", "userId", "uniqueUserId", "domain", "name", "siteId", "partnerId")}
    for key, value in claims.items():
        if key in ("token_use", "jti", "fam", "tv"):   # the twin's own bookkeeping
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        elif key in ("exp", "iat"):
            value = str(value)
        out[key] = value
    for key in ("emailVerified", "extensionVerified", "mobileVerified", "phoneVerified"):
        out.setdefault(key, "false")
    out.setdefault("aud", "https://mitel.io/auth/cloudlink")
    out["integrationLatency"] = 0
    return out


def _text(body: dict[str, Any], key: str) -> str | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise Invalid("MissingParameters", f"{key} must be a string")
    return str(value)


def _basic(request: Request) -> tuple[str, str] | None:
    header = request.headers.get("authorization", "")
    if header[:6].lower() != "basic ":
        return None
    try:
        client_id, _, secret = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        raise Unauthorized("ClientSecretMismatch", "the Basic credentials are not valid base64") from None
    return unquote(client_id), unquote(secret)


@router.post("/token", status_code=201, summary="Create a token (all grants)",
             responses={501: {"model": ErrorEnvelope, "description": "The token-exchange grant is not implemented"}})
async def create_token(request: Request, core: CoreDep) -> JSONResponse:
    body = await read_form_or_json(request)
    grant = (_text(body, "grant_type") or "").strip()
    if not grant:
        raise Invalid("MissingParameters", "grant_type is required")
    grant = grant if grant.startswith("urn:") else grant.lower()
    if grant not in GRANTS:
        raise Invalid("InvalidGrantType", f"grant_type must be one of {', '.join(GRANTS)}")
    scope = _text(body, "scope")
    basic = _basic(request)
    if grant == "password":
        username, password = _text(body, "username"), _text(body, "password")
        if not username or password is None:
            raise Invalid("MissingParameters", "username and password are required for the password grant")
        token = await core.auth.password_grant_off_loop(username, password, _text(body, "account_id"),
                                                        _text(body, "client_id"), scope)
    elif grant == "refresh_token":
        refresh = _text(body, "refresh_token") or _text(body, "token")
        if not refresh:
            raise Invalid("MissingParameters", "refresh_token is required for the refresh_token grant")
        try:
            token = await core.auth.refresh_grant(refresh)
        except Unauthorized as exc:  # a bad or expired refresh token: the spec's 401 name for bad credentials
            raise Unauthorized("InvalidLoginCredentials", exc.message) from None
    elif grant == "client_credentials":
        client_id, secret = basic or (_text(body, "client_id"), _text(body, "client_secret"))
        if not client_id or not secret:
            raise Invalid("MissingParameters", "client_id and client_secret (or HTTP Basic) are required")
        anonymous = {k: body[k] for k in ANONYMOUS_FIELDS if k in body}
        token = core.auth.client_credentials_grant(client_id, secret, _text(body, "account_id"), anonymous, scope)
    elif grant == "authorization_code":
        client_id = (basic[0] if basic else None) or _text(body, "client_id")
        code = _text(body, "code")
        if not client_id or not code:
            raise Invalid("MissingParameters", "client_id and code are required for the authorization_code grant")
        token = await core.auth.code_grant(client_id=client_id, code=code, redirect_uri=_text(body, "redirect_uri"),
                                           code_verifier=_text(body, "code_verifier"),
                                           client_secret=(basic[1] if basic else _text(body, "client_secret")))
    else:
        raise NotImplementedRoute("NotImplemented", "POST /token with the token-exchange grant (for Zoom clients) "
                                                    "is not implemented by callyard")
    return JSONResponse(token_wire(token), status_code=201)


@router.get("/token", summary="The claims of the presented token")
async def get_claims(request: Request) -> dict[str, Any]:
    if bearer_token(request) is None:
        raise Invalid("MissingAuthToken", "send the token to inspect in the Authorization header")
    return claims_wire(await principal(request))


@router.post("/authorize", status_code=201, summary="Create an authorization code (authorization code flow)")
async def authorize(request: Request, core: CoreDep) -> JSONResponse:
    body = await read_form_or_json(request)
    if not body:
        return JSONResponse({"name": "MissingBodyInRequest", "message": "a form body is required",
                             "error": "invalid_request", "error_description": "a form body is required"},
                            status_code=400)
    client_id, response_type = _text(body, "client_id"), _text(body, "response_type")
    username, password = _text(body, "username"), _text(body, "password")
    if not client_id or not response_type or not username or not password:
        required = {"client_id": client_id, "response_type": response_type, "username": username, "password": password}
        missing = [k for k, v in required.items() if not v]
        message = f"{', '.join(missing)} required"
        return JSONResponse({"name": "MissingBodyInRequest", "message": message, "error": "invalid_request",
                             "error_description": message}, status_code=400)
    code = await core.auth.authorize(
        client_id=client_id, response_type=response_type,
        username=username, password=password, account_ref=_text(body, "account_id"),
        redirect_uri=_text(body, "redirect_uri"), code_challenge=_text(body, "code_challenge"),
        code_challenge_method=_text(body, "code_challenge_method"), scope=_text(body, "scope"),
        nonce=_text(body, "nonce"))
    return JSONResponse({"code": code}, status_code=201)


@router.post("/assume-role/token", status_code=201, summary="A token with a lower role or in a customer account")
async def assume_role(request: Request, core: CoreDep, actor: Principal = Depends(principal)) -> JSONResponse:
    body = await read_form_or_json(request)
    if not body:
        raise Invalid("MissingBodyInRequest", "a JSON body with role is required")
    token = core.auth.assume_role(actor, body.get("role"), _text(body, "accountId"))
    return JSONResponse(token_wire(token), status_code=201)


@router.post("/guest/token", status_code=201, summary="A guest token (account guest policy must allow it)")
async def guest_token(request: Request, core: CoreDep) -> JSONResponse:
    body = await read_form_or_json(request)
    token = core.auth.guest_token(
        account_ref=_text(body, "accountId"), access_code=_text(body, "accessCode"),
        principal_id=_text(body, "principalId"), name=_text(body, "name"), guest_email=_text(body, "guestEmail"),
        client_id=_text(body, "client_id"))
    return JSONResponse(token_wire(token), status_code=201)


# ---------------------------------------------------------------------------- applications
@router.get("/applications", summary="Public information on an application, by client_id")
async def application_by_client_id(request: Request, core: CoreDep, client_id: str | None = None) -> dict[str, Any]:
    if not client_id:
        raise Invalid("MissingMandatoryParams", "client_id is required")
    registration = core.applications.registration(client_id)
    if registration is None:
        raise Forbidden("InvalidClient", f"client {client_id} was not found")
    return {"name": registration["name"], "active": registration["active"], "logoUrl": registration.get("logoUrl", ""),
            "providers": registration.get("providers", []), "theme": registration.get("theme", {}),
            "links": registration.get("appLinks", []), "passwordRules": registration.get("passwordRules", []),
            "requiredAttributes": registration.get("requiredAttributes", []),
            "optionalAttributes": registration.get("optionalAttributes", []),
            "supportedCountries": registration.get("supportedCountries", []), "requestCountry": False}


@router.post("/applications", status_code=201, summary="Register an application (PARTNER_ADMIN)")
async def create_application(request: Request, core: CoreDep, actor: Principal = Depends(principal)) -> JSONResponse:
    body = await read_form_or_json(request)
    record, secret = await core.applications.register(actor, body)
    return JSONResponse({**application_wire(record), "clientSecret": secret}, status_code=201)


@router.get("/apps", summary="Applications of the caller's account")
async def list_applications(request: Request, core: CoreDep, actor: Principal = Depends(principal)) -> dict[str, Any]:
    core.directory.access.account(actor, actor.account_id)
    items = [application_wire(r) for r in core.applications.in_account(actor.account_id)]
    try:
        return collection(items, dict(request.query_params), arrived_path(request.scope), expandable=("tags",))
    except Invalid as exc:  # the spec's one name for a query this route cannot serve
        raise Invalid("UnsupportedQueryParameters", exc.message) from None


@router.get("/applications/{applicationId}", summary="The application's record on the caller's account")
async def get_application(applicationId: str, request: Request, core: CoreDep,
                          actor: Principal = Depends(principal)) -> dict[str, Any]:
    return application_wire(core.applications.get(actor, applicationId))


@router.put("/applications/{applicationId}", summary="Enable or update an application on an account")
async def enable_application(applicationId: str, request: Request, core: CoreDep,
                             actor: Principal = Depends(principal)) -> dict[str, Any]:
    body = await read_form_or_json(request)
    return application_wire(await core.applications.enable(actor, applicationId, body))


@router.delete("/applications/{applicationId}", summary="Remove an application from an account")
async def delete_application(applicationId: str, request: Request, core: CoreDep,
                             actor: Principal = Depends(principal)) -> dict[str, Any]:
    body = await read_form_or_json(request)
    record = await core.applications.delete(actor, applicationId, _text(body, "accountId"))
    return application_wire(record)


@router.get("/applications/{applicationId}/tags")
async def list_application_tags(applicationId: str, request: Request, core: CoreDep,
                                actor: Principal = Depends(principal)) -> dict[str, Any]:
    record = core.applications.get(actor, applicationId)
    items = [_tag_wire(record, t) for t in record.get("tags", {}).values()]
    return collection(items, dict(request.query_params), arrived_path(request.scope))


@router.post("/applications/{applicationId}/tags", status_code=201)
async def create_application_tag(applicationId: str, request: Request, core: CoreDep,
                                 actor: Principal = Depends(principal)) -> JSONResponse:
    body = await read_form_or_json(request)
    apps = core.applications
    tag = await apps.put_tag(actor, applicationId, body.get("id"), body.get("value"), create=True)
    return JSONResponse(_tag_wire(apps.get(actor, applicationId), tag), status_code=201)


@router.get("/applications/{applicationId}/tags/{tagId}")
async def get_application_tag(applicationId: str, tagId: str, request: Request, core: CoreDep,
                              actor: Principal = Depends(principal)) -> dict[str, Any]:
    record = core.applications.get(actor, applicationId)
    tag = record.get("tags", {}).get(tagId)
    if tag is None:
        raise NotFound("TagNotFound", f"tag {tagId} was not found")
    return _tag_wire(record, tag)


@router.put("/applications/{applicationId}/tags/{tagId}")
async def update_application_tag(applicationId: str, tagId: str, request: Request, core: CoreDep,
                                 actor: Principal = Depends(principal)) -> dict[str, Any]:
    body = await read_form_or_json(request)
    apps = core.applications
    tag = await apps.put_tag(actor, applicationId, tagId, body.get("value"), create=False)
    return _tag_wire(apps.get(actor, applicationId), tag)


@router.delete("/applications/{applicationId}/tags/{tagId}")
async def delete_application_tag(applicationId: str, tagId: str, request: Request, core: CoreDep,
                                 actor: Principal = Depends(principal)) -> dict[str, Any]:
    apps = core.applications
    record = apps.get(actor, applicationId)
    return _tag_wire(record, await apps.delete_tag(actor, applicationId, tagId))


_TAG_FIELDS = ("id", "value", "createdOn", "createdBy", "modifiedOn", "modifiedBy")


def _tag_wire(record: dict[str, Any], tag: dict[str, Any]) -> dict[str, Any]:
    return {"applicationId": record["applicationId"], "accountId": record["accountId"], **pick(tag, _TAG_FIELDS),
            "_links": {"self": f"{BASE_PATH}/applications/{record['applicationId']}/tags/{tag['id']}"}}


# ---------------------------------------------------------------------------- discovery
def _metadata(request: Request, issuer: str, account_id: str | None) -> dict[str, Any]:
    auth = service_url(request, "authentication")
    account = account_id or "{accountId}"
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{auth}/authorize",
        "token_endpoint": f"{auth}/token",
        "jwks_uri": f"{auth}/accounts/{account}/.well-known/jwks.json",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code", "password", "client_credentials", "refresh_token"],
        "token_endpoint_auth_methods_supported": ["none", "client_secret_post", "client_secret_basic"],
        "service_documentation": f"{base_url(request)}/docs",
        "ui_locales_supported": ["en-US", "en-GB", "en-CA", "fr-FR", "fr-CA"],
        "code_challenge_methods_supported": ["plain", "S256"],
    }


@router.get("/.well-known/openid-configuration", summary="OpenID Connect discovery")
async def openid_configuration(request: Request, core: CoreDep, accountId: str | None = None) -> dict[str, Any]:
    return _metadata(request, core.tokens.issuer, accountId)


@router.get("/.well-known/oauth-authorization-server", summary="OAuth 2.0 authorization server metadata")
async def oauth_metadata(request: Request, core: CoreDep, accountId: str | None = None) -> dict[str, Any]:
    return _metadata(request, core.tokens.issuer, accountId)


@router.get("/.well-known/mitel/hydra")
async def hydra_metadata(request: Request) -> dict[str, Any]:
    auth = service_url(request, "authentication")
    return {"apiUrl": base_url(request), "auth": {
        "discoveryUrl": f"{auth}/.well-known/openid-configuration", "tokenUrl": f"{auth}/token",
        "authorizationUrl": f"{auth}/authorize", "authenticationUrl": f"{auth}/authorize", "oauthClientConfigs": []}}


@router.get("/accounts/{accountId}/.well-known/jwks.json", summary="The keys that sign this account's tokens")
async def jwks(accountId: str, request: Request, core: CoreDep) -> dict[str, Any]:
    return core.tokens.jwks()


@router.get("/_status")
async def status(request: Request) -> dict[str, Any]:
    return {"status": "Green", "errorRate": {"last15Minutes": 0}, "responseTime": {"last15Minutes": 0},
            "messages": []}


@router.get("/_failover")
async def failover() -> dict[str, Any]:
    return {"status": "noFailover", "message": "callyard runs in one region", "region": "local", "dnsResponses": []}


@router.get("/_spec")
async def spec(request: Request) -> dict[str, Any]:
    return request.app.openapi()


@router.get("/sso", summary="Deprecated: always answers an empty provider list, as the real service does")
async def sso_providers(client_id: str | None = None) -> dict[str, Any]:
    return {"providers": []}


@router.get("/sso/{providerId}")
@router.get("/sso/{providerId}/callback")
async def sso_gone(providerId: str) -> None:
    raise Gone("Gone", "social sign-on providers are no longer supported")


# ---------------------------------------------------------------------------- routes not built
NOT_BUILT = [
    ("POST", "/saml2/start"), ("POST", "/saml2/{accountId}/cs"), ("POST", "/saml2/logout"),
    ("GET", "/saml2/status"), ("POST", "/policy-test"),
    ("GET", "/identityProviders"), ("POST", "/identityProviders"), ("GET", "/identityProviders/{identityProviderId}"),
    ("PUT", "/identityProviders/{identityProviderId}"), ("DELETE", "/identityProviders/{identityProviderId}"),
    ("GET", "/credentials"), ("POST", "/credentials"), ("GET", "/accounts/{accountId}/credentials"),
    ("GET", "/credentials/{credentialId}"), ("PUT", "/credentials/{credentialId}"),
    ("DELETE", "/credentials/{credentialId}"), ("POST", "/credentials/{credentialId}"),
    ("GET", "/trusted-issuers"), ("POST", "/trusted-issuers"), ("GET", "/accounts/{accountId}/trusted-issuers"),
    ("GET", "/trusted-issuers/{issuerId}"), ("PUT", "/trusted-issuers/{issuerId}"),
    ("DELETE", "/trusted-issuers/{issuerId}"),
]


# The SAML routes are called by a browser or an identity provider, without a bearer token. The others check the
# caller first, as the real ones do: a token (401), then the account and the role (403); then the 501.
NOT_BUILT_PUBLIC = {"/saml2/start", "/saml2/{accountId}/cs", "/saml2/logout", "/saml2/status"}


def _not_built(method: str, path: str) -> Any:
    async def handler(request: Request) -> None:
        if path not in NOT_BUILT_PUBLIC:
            actor = await principal(request)
            access = twin_of(request).core.directory.access
            role = "USER" if path == "/policy-test" else "ACCOUNT_ADMIN"
            if "accountId" in request.path_params:  # the spec declares 403 here, for unknown accounts too
                account = access.find_account(request.path_params["accountId"])
                if account is None or not access.can_see(actor, account):
                    raise Forbidden("InsufficientPermissions", "the caller has no access to that account")
            access.require_role(actor, role)
        raise NotImplementedRoute("NotImplemented", f"{method} {path} is not implemented by callyard")

    handler.__name__ = "not_built_" + "".join(c if c.isalnum() else "_" for c in method + path)
    return handler


for _method, _path in NOT_BUILT:
    # The handler declares no path parameters, so they are declared for the OpenAPI by hand.
    _parameters = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                   for name in re.findall(r"{(\w+)}", _path)]
    router.add_api_route(_path, _not_built(_method, _path), methods=[_method], status_code=501,
                         summary="Not implemented by callyard (answers 501)",
                         responses={501: {"model": ErrorEnvelope, "description": "Not implemented"}},
                         openapi_extra={"parameters": _parameters} if _parameters else None)
