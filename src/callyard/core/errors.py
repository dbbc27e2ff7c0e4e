"""Typed core errors. Each carries the CloudLink-style ``name`` and a human message; façades map the kind to
an HTTP status and their family's envelope. The core never picks a status code itself, but the kinds are
the HTTP-shaped classes every family needs."""
from __future__ import annotations

from typing import Any


class CoreError(Exception):
    status = 400

    def __init__(self, name: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.name = name
        self.message = message
        self.extra = extra


class Invalid(CoreError):
    status = 400


class Unauthorized(CoreError):
    status = 401


class Forbidden(CoreError):
    status = 403


class NotFound(CoreError):
    status = 404


class Conflict(CoreError):
    status = 409


class Gone(CoreError):
    status = 410


class Unprocessable(CoreError):
    status = 422


class TooManyRequests(CoreError):
    status = 429

    def __init__(self, name: str, message: str, retry_after: int, **extra: Any) -> None:
        super().__init__(name, message, **extra)
        self.retry_after = retry_after


class NotImplementedRoute(CoreError):
    status = 501
