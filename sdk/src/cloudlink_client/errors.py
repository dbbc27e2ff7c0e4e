"""Typed errors carrying what seed 002 says every API error must capture: the ``x-mitel-correlation-id``
and ``x-amzn-requestid`` values, the full error name and message, a UTC ISO 8601 timestamp, the devices and
users involved and, for media errors, the callId."""
from __future__ import annotations

import json
import logging
import sys
import time
from typing import Any

from cloudlink_client.times import utc_now_iso

log = logging.getLogger("cloudlink_client")


class CloudLinkError(Exception):
    """Base of every error the SDK raises for a failed API call.

    Attributes: ``status`` (None when no response came), ``name`` and ``message`` (from the body's
    ``{name, message}`` or ``{code, message}`` envelope), ``correlation_id`` (the response's
    ``x-mitel-correlation-id``, else the one the SDK sent), ``request_id`` (``x-amzn-requestid``, may be
    None), ``timestamp`` (UTC ISO 8601, Z), ``method``, ``url``, ``attempts`` (HTTP attempts made for the
    call), ``retries_exhausted``, ``retry_after`` (seconds, when the response said), ``call_id``,
    ``endpoint_id`` and ``user_id`` (taken from the request path or arguments), ``body`` (the decoded
    response body).
    """

    retries_exhausted: bool = False

    def __init__(self, message: str, *, status: int | None = None, name: str | None = None,
                 correlation_id: str | None = None, request_id: str | None = None, timestamp: str | None = None,
                 method: str | None = None, url: str | None = None, attempts: int = 0,
                 retry_after: float | None = None, call_id: str | None = None, endpoint_id: str | None = None,
                 user_id: str | None = None, body: Any = None) -> None:
        super().__init__(message)
        self.status = status
        self.name = name or type(self).__name__
        self.message = message
        self.correlation_id = correlation_id
        self.request_id = request_id
        self.timestamp = timestamp or utc_now_iso()
        self.method = method
        self.url = url
        self.attempts = attempts
        self.retry_after = retry_after
        self.call_id = call_id
        self.endpoint_id = endpoint_id
        self.user_id = user_id
        self.body = body

    def fields(self) -> dict[str, Any]:
        """Every captured field, as a flat dict (what the log record carries)."""
        return {"status": self.status, "error_name": self.name, "error_message": self.message,
                "correlation_id": self.correlation_id, "request_id": self.request_id,
                "timestamp": self.timestamp, "method": self.method, "url": self.url, "attempts": self.attempts,
                "retries_exhausted": self.retries_exhausted, "retry_after": self.retry_after,
                "call_id": self.call_id, "endpoint_id": self.endpoint_id, "user_id": self.user_id}

    def describe(self) -> str:
        status = self.status if self.status is not None else "no response"
        parts = [f"{self.method} {self.url} failed: {status} {self.name}: {self.message}",
                 f"correlation-id={self.correlation_id}", f"request-id={self.request_id}",
                 f"timestamp={self.timestamp}", f"attempts={self.attempts}"]
        for label, value in (("call-id", self.call_id), ("endpoint-id", self.endpoint_id),
                             ("user-id", self.user_id)):
            if value is not None:
                parts.append(f"{label}={value}")
        return " ".join(parts)

    def __str__(self) -> str:
        return self.describe()


class RetriesExhausted(CloudLinkError):
    """Mixed into the status class of an error raised after the last allowed retry (``except
    RetriesExhausted`` catches those; ``retries_exhausted`` is True on them)."""

    retries_exhausted = True


class TransportFailure(CloudLinkError):
    """No HTTP response: the connection failed or timed out."""


class AuthenticationRequired(CloudLinkError):
    """The client has no token and no way to obtain one (no grant configured, or a code flow not done)."""


class ClientError(CloudLinkError):
    """A 4xx without a more specific class."""


class BadRequest(ClientError):
    """400"""


class Unauthorized(ClientError):
    """401"""


class Forbidden(ClientError):
    """403"""


class NotFound(ClientError):
    """404"""


class MethodNotAllowed(ClientError):
    """405"""


class RequestTimeout(ClientError):
    """408"""


class Conflict(ClientError):
    """409"""


class Gone(ClientError):
    """410"""


class RateLimited(ClientError):
    """429"""


class ServerError(CloudLinkError):
    """5xx (and the 598/599 network timeouts some proxies answer)."""


class NotImplementedByService(ServerError):
    """501"""


class ServiceUnavailable(ServerError):
    """503"""


class GatewayTimeout(ServerError):
    """504"""


_BY_STATUS: dict[int, type[CloudLinkError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 405: MethodNotAllowed,
    408: RequestTimeout, 409: Conflict, 410: Gone, 429: RateLimited, 501: NotImplementedByService,
    503: ServiceUnavailable, 504: GatewayTimeout,
}


def class_for(status: int | None) -> type[CloudLinkError]:
    if status is None:
        return TransportFailure
    if status in _BY_STATUS:
        return _BY_STATUS[status]
    if 400 <= status < 500:
        return ClientError
    if status >= 500:
        return ServerError
    return CloudLinkError


_EXHAUSTED: dict[type[CloudLinkError], type[CloudLinkError]] = {}


def exhausted_class(cls: type[CloudLinkError]) -> type[CloudLinkError]:
    """``cls`` that is also a ``RetriesExhausted`` (one class per status class)."""
    if issubclass(cls, RetriesExhausted):
        return cls
    if cls not in _EXHAUSTED:
        _EXHAUSTED[cls] = type(cls.__name__, (cls, RetriesExhausted), {"__module__": __name__, "__doc__": cls.__doc__})
    return _EXHAUSTED[cls]


def envelope(body: Any, fallback: str) -> tuple[str, str]:
    """``(name, message)`` from the CloudLink envelopes ``{name, message}``, ``{code, message}``, the 429
    ``{message}`` and the OAuth ``{error, error_description}``."""
    if isinstance(body, dict):
        name = body.get("name") or body.get("code") or body.get("error")
        message = body.get("message") or body.get("error_description") or body.get("error")
        return (str(name) if name else fallback), (str(message) if message else fallback)
    if isinstance(body, str) and body.strip():
        return fallback, body.strip()[:500]
    return fallback, fallback


def decode_body(content: bytes, content_type: str) -> Any:
    if not content:
        return None
    if "json" in content_type.lower():
        try:
            return json.loads(content)
        except ValueError:
            pass
    try:
        return content.decode("utf-8")
    except UnicodeDecodeError:
        return content


def log_to_stderr(verbose: bool = False) -> None:
    """Send every log record (the SDK's error records included) to stderr, stamped in UTC ISO 8601 as seed 002
    asks of all timestamps: ``2026-11-22T21:28:44.109Z LEVEL logger: message``. DEBUG with ``verbose``,
    else INFO; httpx's own request lines only at WARNING. For applications that have no logging set up."""
    handler = logging.StreamHandler(sys.stderr)
    formatter = logging.Formatter("%(asctime)s.%(msecs)03dZ %(levelname)s %(name)s: %(message)s",
                                  datefmt="%Y-%m-%dT%H:%M:%S")
    formatter.converter = time.gmtime
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    logging.getLogger("httpx").setLevel(logging.WARNING)
