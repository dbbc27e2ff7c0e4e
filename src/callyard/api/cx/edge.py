"""What only the CX SDK family has at its edge: its error envelope (ASP.NET Web API's ``HttpError`` in camelCase:
``{message, errorCode}``, plus ``modelState`` for invalid bodies), paths matched without regard to case, the
bearer token of its own authorization server, request bodies read without regard to property case, enum values
accepted as names or numbers, and OData collections in the ``{_links, count, _embedded: {items}}`` envelope."""
from __future__ import annotations

import json
import re
from typing import Any, Mapping, Sequence
from urllib.parse import urlencode

from fastapi import Request

from callyard.api.common.odata import Evaluator, matches, parse_filter, parse_orderby
from callyard.api.common.security import bearer_token
from callyard.api.family import ASGIApp, Problem, Receive, Scope, Send
from callyard.core.errors import CoreError, Invalid, Kind, Unauthorized
from callyard.core.principal import Principal

BASE = "/miccsdk/api/v1"
TOKEN_PATHS = ("/authorizationserver",)
PREFIXES = ("/miccsdk", "/authorizationserver")
INT_MIN = -2147483648
INT_MAX = 2147483647

STATUSES: Mapping[Kind, int] = {
    Kind.INVALID: 400, Kind.UNAUTHENTICATED: 401, Kind.FORBIDDEN: 403, Kind.NOT_FOUND: 404, Kind.CONFLICT: 409,
    Kind.GONE: 410, Kind.UNPROCESSABLE: 400, Kind.RATE_LIMITED: 429, Kind.NOT_IMPLEMENTED: 501}
DENIED = "Authorization has been denied for this request."


class CxEnvelope:
    """ASP.NET Web API errors, camelCase like the rest of the family's JSON."""

    def core_error(self, exc: CoreError) -> Problem:
        status = STATUSES[exc.kind]
        if exc.kind == Kind.UNAUTHENTICATED:
            return Problem(status, {"message": DENIED, "errorCode": exc.name, "messageDetail": exc.message},
                           {"WWW-Authenticate": "Bearer"})
        headers = {"Retry-After": str(getattr(exc, "retry_after", 1))} if exc.kind == Kind.RATE_LIMITED else {}
        return Problem(status, {"message": exc.message, "errorCode": exc.name}, headers)

    def validation_error(self, errors: Sequence[Mapping[str, Any]]) -> Problem:
        state: dict[str, list[str]] = {}
        for error in errors:
            where = ".".join(str(p) for p in error.get("loc", ()) if p != "body") or "request"
            state.setdefault(where, []).append(str(error.get("msg", "is not valid")))
        return Problem(400, {"message": "The request is invalid.", "errorCode": "InvalidRequest",
                             "modelState": state})

    def http_error(self, status: int, detail: str, headers: Mapping[str, str] | None) -> Problem:
        if status == 404:
            return Problem(404, {"message": "No HTTP resource was found that matches the request URI.",
                                 "errorCode": "NotFound"})
        if status == 405:
            return Problem(405, {"message": "The requested resource does not support this HTTP method.",
                                 "errorCode": "MethodNotAllowed"}, dict(headers or {}))
        return Problem(status, {"message": detail, "errorCode": "HttpError"})

    def unexpected(self) -> Problem:
        return Problem(500, {"message": "An error has occurred.", "errorCode": "InternalServerError"})


ERRORS = CxEnvelope()


class CaseInsensitivePaths:
    """Routing middleware: the family's paths are matched without regard to case (clients write
    ``/MiccSdk/api/v1/...`` and ``/AuthorizationServer/Token``): they are lower-cased before routing. Every
    look-up by id, name or reporting number is case-insensitive too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            path: str = scope["path"]
            lowered = path.lower()
            if lowered.startswith(PREFIXES) and lowered != path:
                scope = dict(scope, path=lowered, raw_path=lowered.encode())
        await self.app(scope, receive, send)


async def principal(request: Request) -> Principal:
    """The caller, from a token of the family's own authorization server (``Authorization: Bearer``)."""
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    token = bearer_token(request)
    if token is None:
        raise Unauthorized("MissingToken", "an access token is required in the Authorization header")
    found = request.app.state.twin.core.cc_authorization.principal(token)
    request.state.principal = found
    return found  # type: ignore[no-any-return]


# ---------------------------------------------------------------------- request bodies
async def json_body(request: Request, *, kind: type | tuple[type, ...] = dict) -> Any:
    """The JSON body (an object, or a list where ``kind`` is list), or a 400 in the family's envelope."""
    raw = await request.body()
    if not raw.strip():
        raise Invalid("MissingBody", "a JSON request body is required")
    try:
        body = json.loads(raw)
    except ValueError:
        raise Invalid("MalformedJson", "the request body is not valid JSON") from None
    if not isinstance(body, kind):
        raise Invalid("InvalidBody", f"the request body must be a JSON {'array' if kind is list else 'object'}")
    return body


def field(body: Mapping[str, Any], name: str, default: Any = None) -> Any:
    """A property of a request body regardless of its case (``State``, ``state``)."""
    wanted = name.lower()
    for key, value in body.items():
        if isinstance(key, str) and key.lower() == wanted:
            return value
    return default


def enum_name(value: Any, names: Sequence[str], what: str, *, values: Mapping[int, str] | None = None,
              required: bool = True) -> str | None:
    """An enum given as its name (any case) or number (the seed's values) → its name."""
    if value is None or value == "":
        if required:
            raise Invalid("InvalidRequest", f"{what} is required")
        return None
    table = values or dict(enumerate(names))
    if isinstance(value, bool):
        raise Invalid("InvalidRequest", f"{what} must be one of {', '.join(names)}")
    if isinstance(value, int) or (isinstance(value, str) and value.strip().lstrip("-").isdigit()):
        found = table.get(int(value))
        if found is None:
            listed = ", ".join(f"{k} {v}" for k, v in table.items())
            raise Invalid("InvalidRequest", f"{what} {value} is not one of {listed}")
        return found
    if isinstance(value, str):
        match = next((n for n in names if n.lower() == value.strip().lower()), None)
        if match is not None:
            return match
    raise Invalid("InvalidRequest", f"{what} must be one of {', '.join(names)}")


def offset_of(request: Request) -> int | None:
    """The ``offset`` query parameter: the client's minutes from UTC (west positive, as JavaScript's
    ``getTimezoneOffset``); int.MinValue or absent means not supplied."""
    raw = request.query_params.get("offset")
    if raw is None or raw == "":
        return None
    try:
        value = int(raw)
    except ValueError:
        raise Invalid("InvalidOffset", "offset is a whole number of minutes") from None
    if not INT_MIN <= value <= INT_MAX:
        raise Invalid("InvalidOffset", "offset is a 32-bit integer")
    if value == INT_MIN:
        return None
    if not -14 * 60 <= value <= 14 * 60:
        raise Invalid("InvalidOffset", "offset is minutes from UTC, between -840 and 840")
    return value


# ---------------------------------------------------------------------- OData collections
_ENUM_LITERAL = re.compile(r"\b[A-Za-z_][\w.]*\.[A-Za-z_]\w*'([^']*)'")
MAX_TOP = 10000


class _CaseInsensitive(Evaluator):
    """Property names in ``$filter`` match regardless of case (``MediaType``, ``mediaType``)."""

    def _Identifier(self, node: Any) -> Any:
        value: Any = self.doc
        for part in [*node.namespace, node.name]:
            if not isinstance(value, dict):
                return None
            key = next((k for k in value if isinstance(k, str) and k.lower() == part.lower()), None)
            value = value.get(key) if key is not None else None
        return value


def _key(doc: dict[str, Any], path: list[str]) -> Any:
    value: Any = doc
    for part in path:
        if not isinstance(value, dict):
            return None
        key = next((k for k in value if isinstance(k, str) and k.lower() == part.lower()), None)
        value = value.get(key) if key is not None else None
    return value


def _int(params: Mapping[str, str], name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if not (raw.isascii() and raw.isdigit()):
        raise Invalid("InvalidQuery", f"{name} must be a non-negative integer")
    return int(raw)


def expansions(params: Mapping[str, str], allowed: Sequence[str]) -> list[str]:
    """``$expand``: at most two, each a singular navigation property the route offers."""
    names = [e.strip() for e in params.get("$expand", "").split(",") if e.strip()]
    if len(names) > 2:
        raise Invalid("InvalidQuery", "$expand is limited to two expansions")
    out = []
    for name in names:
        match = next((a for a in allowed if a.lower() == name.lower()), None)
        if match is None:
            raise Invalid("InvalidQuery", f"$expand={name} is not supported here"
                          + (f"; supported: {', '.join(allowed)}" if allowed else ""))
        out.append(match)
    return out


def collection(items: list[dict[str, Any]], params: Mapping[str, str], self_path: str) -> dict[str, Any]:
    """OData ``$filter``, ``$search``, ``$orderby``, ``$skip``, ``$top`` and ``$count`` over wire documents,
    in the family's envelope. ``count`` is the number of matching items before paging (``$count=false``
    leaves it out); ``_links.next`` pages on."""
    if params.get("$filter", "").strip():
        tree = parse_filter(_ENUM_LITERAL.sub(lambda m: "'" + m.group(1) + "'", params["$filter"]))
        items = [doc for doc in items if matches(tree, doc, _CaseInsensitive)]
    search = params.get("$search", "").strip().strip("'\"").lower()
    if search:
        items = [doc for doc in items if search in json.dumps(
            {k: v for k, v in doc.items() if not k.startswith("_")}, default=str).lower()]
    if params.get("$orderby", "").strip():
        for path, descending in reversed(parse_orderby(params["$orderby"])):
            items = sorted(items, key=lambda d: (_key(d, path) is None, str(_key(d, path) or "")),
                           reverse=descending)
    flag = params.get("$count", "").lower()
    if flag not in ("", "true", "false"):
        raise Invalid("InvalidQuery", "$count must be true or false")
    skip = _int(params, "$skip") or 0
    top = _int(params, "$top")
    total = len(items)
    page = items[skip:] if top is None else items[skip:skip + min(top, MAX_TOP)]
    query = {k: v for k, v in params.items()}
    links: dict[str, Any] = {"self": {"href": self_path + (("?" + urlencode(query)) if query else "")}}
    if top is not None and top > 0 and skip + top < total:
        links["next"] = {"href": self_path + "?" + urlencode({**query, "$skip": str(skip + top)})}
    body: dict[str, Any] = {"_links": links}
    if flag != "false":
        body["count"] = total
    body["_embedded"] = {"items": page}
    return body


def paging(items: list[dict[str, Any]], params: dict[str, str], self_path: str) -> dict[str, Any]:
    """The family's paging shape (``Family.paging``)."""
    return collection(items, params, self_path)
