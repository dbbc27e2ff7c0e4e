"""Typed core errors. Each carries a ``kind`` (what went wrong, in the core's terms), a machine ``name``, a
human ``message`` and ``extra`` fields. The core never picks an HTTP status: each API family maps the kind to
its status code and renders the error in its own envelope (``callyard.api.family.Family.statuses``)."""
from __future__ import annotations

from enum import Enum
from typing import Any


class Kind(Enum):
    INVALID = "invalid"                    # the request is malformed or breaks a rule of its shape
    UNAUTHENTICATED = "unauthenticated"    # no valid credentials
    FORBIDDEN = "forbidden"                # valid credentials, not allowed
    NOT_FOUND = "not_found"                # the thing does not exist (or is not visible to the caller)
    CONFLICT = "conflict"                  # the current state does not allow it
    GONE = "gone"                          # it existed once and never will again
    UNPROCESSABLE = "unprocessable"        # well-formed, but the core cannot act on it
    RATE_LIMITED = "rate_limited"          # too many requests; ``retry_after`` says when to come back
    NOT_IMPLEMENTED = "not_implemented"    # the platform has it, the twin does not


class CoreError(Exception):
    kind = Kind.INVALID

    def __init__(self, name: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        self.extra = extra


class Invalid(CoreError):
    kind = Kind.INVALID


class Unauthorized(CoreError):
    kind = Kind.UNAUTHENTICATED


class Forbidden(CoreError):
    kind = Kind.FORBIDDEN


class NotFound(CoreError):
    kind = Kind.NOT_FOUND


class Conflict(CoreError):
    kind = Kind.CONFLICT


class Gone(CoreError):
    kind = Kind.GONE


class Unprocessable(CoreError):
    kind = Kind.UNPROCESSABLE


class TooManyRequests(CoreError):
    kind = Kind.RATE_LIMITED

    def __init__(self, name: str, message: str, retry_after: int, **extra: Any) -> None:
        super().__init__(name, message, **extra)
        self.retry_after = retry_after


class NotImplementedRoute(CoreError):
    kind = Kind.NOT_IMPLEMENTED
