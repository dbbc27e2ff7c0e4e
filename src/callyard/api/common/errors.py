"""Building blocks for a family's error envelope. The ``{name, message}`` shape (some errors add fields) is
the one CloudLink and the control plane answer in; each family still picks its own statuses and wording by
instantiating ``NameMessageEnvelope`` (see ``callyard.api.family.Envelope``). Never a 500 for bad input."""
from __future__ import annotations

from typing import Any, Callable, Mapping, Sequence

from pydantic import BaseModel, ConfigDict

from callyard.api.family import Problem
from callyard.core.errors import CoreError, Kind


class ErrorEnvelope(BaseModel):
    """The error body, as the OpenAPI documents it (some errors add fields, e.g. ``labels``)."""
    model_config = ConfigDict(extra="allow")
    name: str
    message: str


# ``responses=`` of a router: its error answers are 4xx in the envelope (bad input is 400, never FastAPI's 422).
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ErrorEnvelope, "description": "Client error, `{name, message}`"}}


# The usual HTTP status of each core error kind (CloudLink and the control plane answer with these; a family
# with other statuses passes its own table).
HTTP_STATUSES: Mapping[Kind, int] = {
    Kind.INVALID: 400, Kind.UNAUTHENTICATED: 401, Kind.FORBIDDEN: 403, Kind.NOT_FOUND: 404, Kind.CONFLICT: 409,
    Kind.GONE: 410, Kind.UNPROCESSABLE: 422, Kind.RATE_LIMITED: 429, Kind.NOT_IMPLEMENTED: 501}


def ajv_wording(errors: Sequence[Mapping[str, Any]]) -> tuple[str, str]:
    """Ajv-like messages, as the real CloudLink API words them ("data should NOT have additional properties")."""
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


class NameMessageEnvelope:
    """``{name, message, **extra}`` with the family's status per kind and validation wording."""

    def __init__(self, statuses: Mapping[Kind, int],
                 wording: Callable[[Sequence[Mapping[str, Any]]], tuple[str, str]] = ajv_wording) -> None:
        missing = set(Kind) - set(statuses)
        if missing:
            raise ValueError(f"no status for {sorted(k.name for k in missing)}")
        self.statuses = dict(statuses)
        self.wording = wording

    def status_of(self, exc: CoreError) -> int:
        return self.statuses[exc.kind]

    def core_error(self, exc: CoreError) -> Problem:
        return Problem(self.status_of(exc), {"name": exc.name, "message": exc.message, **exc.extra})

    def validation_error(self, errors: Sequence[Mapping[str, Any]]) -> Problem:
        name, message = self.wording(errors)
        return Problem(self.statuses[Kind.INVALID], {"name": name, "message": message})

    def http_error(self, status: int, detail: str, headers: Mapping[str, str] | None) -> Problem:
        if status == 404:
            return Problem(404, {"name": "UnregisteredRoute", "message": "no route matches this path"})
        if status == 405:
            return Problem(405, {"name": "MethodNotAllowed", "message": "this route does not accept that method"},
                           dict(headers or {}))
        if status == 413:
            return Problem(413, {"name": "PayloadTooLarge", "message": detail}, dict(headers or {}))
        return Problem(status, {"name": "HttpError", "message": detail})

    def unexpected(self) -> Problem:
        return Problem(500, {"name": "InternalServerError",
                             "message": "an unexpected error occurred; see the server log"})
