"""The UC family's error envelope: the seed's ``ValidationResult``
``{"field": [{fieldName, code, description, name}], "warning": [], "generated-id": ""}`` for every refusal.

The seed shows it on 400; the twin answers 401, 403, 404, 405, 406, 409, 415 and 429 in the same body so a
client has one error shape to read (docs/compatibility.md). ``code`` is an i18n-style key
(``user.does.not.exist``); ``name`` is the offending value; ``fieldName`` the parameter it came from.
A core error names its code directly (``NotFound("user.does.not.exist", …, field=…, value=…)``) or with a
CamelCase name that is turned into one (``InvalidCallState`` → ``invalid.call.state``).
"""
from __future__ import annotations

import re
from typing import Any, Mapping, NoReturn, Sequence

from pydantic import BaseModel, ConfigDict, Field

from callyard.api.family import Problem
from callyard.core.errors import Conflict, CoreError, Forbidden, Invalid, Kind, NotFound

STATUSES: Mapping[Kind, int] = {
    Kind.INVALID: 400, Kind.UNAUTHENTICATED: 401, Kind.FORBIDDEN: 403, Kind.NOT_FOUND: 404, Kind.CONFLICT: 409,
    Kind.GONE: 404, Kind.UNPROCESSABLE: 400, Kind.RATE_LIMITED: 429, Kind.NOT_IMPLEMENTED: 501}


class FieldMessage(BaseModel):
    fieldName: str
    code: str
    description: str
    name: str


class ValidationResult(BaseModel):
    """The error body (seed 003 §ValidationResult)."""
    model_config = ConfigDict(populate_by_name=True)
    field: list[FieldMessage]
    warning: list[FieldMessage]
    generated_id: str = Field(alias="generated-id")


# ``responses=`` for every UC route: its refusals are ValidationResult bodies.
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": ValidationResult, "description": "Refused: a ValidationResult naming the field and an "
                                                      "i18n code"}}


def _dotted(name: str) -> str:
    if "." in name or name.islower():
        return name
    return ".".join(part.lower() for part in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z0-9]+", name)) or name


def body(code: str, description: str, field: str = "", value: str = "") -> dict[str, Any]:
    return {"field": [{"fieldName": field, "code": code, "description": description, "name": value}],
            "warning": [], "generated-id": ""}


_PYDANTIC_CODES = {"missing": "required", "json_invalid": "not.valid.json", "extra_forbidden": "not.allowed",
                   "string_too_long": "too.long", "string_too_short": "too.short"}


# The field a core error is about when it names none (the engine's errors speak of calls, not parameters).
_FIELDS = {"CallNotFound": "callId", "InvalidDestination": "destination", "DestinationNotObtainable": "destination",
           "InvalidDevice": "deviceId", "StateTokenMismatch": "stateToken", "ParticipantNotFound": "participantId",
           "InvalidCallState": "callId", "NotInCall": "destination", "EndpointNotFound": "userId"}


class ValidationResultEnvelope:
    def core_error(self, exc: CoreError) -> Problem:
        extra = exc.extra
        retry_after = getattr(exc, "retry_after", None)
        headers = {"Retry-After": str(retry_after)} if retry_after is not None else {}
        field = str(extra.get("field") or _FIELDS.get(exc.name, ""))
        return Problem(STATUSES[exc.kind], body(_dotted(exc.name), exc.message, field, str(extra.get("value", ""))),
                       headers)

    def validation_error(self, errors: Sequence[Mapping[str, Any]]) -> Problem:
        fields = []
        for error in errors or [{"type": "value_error", "loc": (), "msg": "invalid request"}]:
            loc = [str(p) for p in error.get("loc", ()) if p not in ("body", "query", "path", "header")]
            field = ".".join(loc)
            kind = str(error.get("type", "value_error"))
            code = f"{field or 'body'}.{_PYDANTIC_CODES.get(kind, 'not.valid')}"
            value = error.get("input")
            fields.append({"fieldName": field, "code": code, "description": str(error.get("msg", "is not valid")),
                           "name": "" if value is None or isinstance(value, (dict, list)) else str(value)})
        return Problem(400, {"field": fields, "warning": [], "generated-id": ""})

    def http_error(self, status: int, detail: str, headers: Mapping[str, str] | None) -> Problem:
        if status == 404:
            return Problem(404, body("resource.does.not.exist", "no operation of the User API has this path"))
        if status == 405:
            return Problem(405, body("method.not.allowed", "this path does not accept that method"),
                           dict(headers or {}))
        return Problem(status, body("http.error", detail))

    def unexpected(self) -> Problem:
        return Problem(500, body("internal.error", "an unexpected error occurred; see the server log"))


ERRORS = ValidationResultEnvelope()


# ---------------------------------------------------------------------- raise helpers for the family's routes
def invalid(field: str, code: str, description: str, value: object = "") -> NoReturn:
    """400: a request value the edge refuses before the core sees it (shape, not rules)."""
    raise Invalid(code, description, field=field, value="" if value is None else str(value))


def not_found(field: str, code: str, description: str, value: object = "") -> NoReturn:
    raise NotFound(code, description, field=field, value="" if value is None else str(value))


def forbidden(field: str, code: str, description: str, value: object = "") -> NoReturn:
    raise Forbidden(code, description, field=field, value="" if value is None else str(value))


def conflict(field: str, code: str, description: str, value: object = "") -> NoReturn:
    raise Conflict(code, description, field=field, value="" if value is None else str(value))
