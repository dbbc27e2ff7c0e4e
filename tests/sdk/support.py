"""Helpers of the SDK tests: a scripted HTTP service for the unit tests (an ``httpx.MockTransport`` that
answers from a list and records every request), transports that record what the SDK really sends to a
live twin, and journal look-ups."""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any, Callable

import httpx

from cloudlink_client import AsyncCloudLink, CloudLink, Password

APP = ("callyard", "sdktest", "0.1.0")
TOKEN_PATH = "/authentication/2017-09-01/token"


def token_body(n: int, expires_in: int = 3600, refresh: bool = True) -> dict[str, Any]:
    body: dict[str, Any] = {"token_type": "bearer", "expires_in": expires_in, "access_token": f"opaque-access-{n}",
                            "scope": "read write"}
    if refresh:
        body["refresh_token"] = f"opaque-refresh-{n}"
    return body


@dataclass
class Scripted:
    """A fake CloudLink: ``POST /token`` answers the next token (``opaque-access-N``) unless ``token_answers``
    says otherwise; other requests take the next entry of ``answers`` (a status, ``(status, headers, body)``
    or an exception to raise), then 200 ``{}``."""

    answers: list[Any] = field(default_factory=list)
    token_answers: list[Any] = field(default_factory=list)
    requests: list[httpx.Request] = field(default_factory=list)
    tokens_issued: int = 0

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.method == "POST" and request.url.path == TOKEN_PATH:
            if self.token_answers:
                return self._answer(self.token_answers.pop(0), request)
            self.tokens_issued += 1
            return httpx.Response(201, json=token_body(self.tokens_issued))
        return self._answer(self.answers.pop(0) if self.answers else 200, request)

    def _answer(self, answer: Any, request: httpx.Request) -> httpx.Response:
        if callable(answer) and not isinstance(answer, type):
            answer = answer(request)
        if isinstance(answer, BaseException):
            raise answer
        if isinstance(answer, int):
            answer = (answer, {}, {} if answer < 400 else {"name": f"Status{answer}", "message": f"status {answer}"})
        status, headers, body = answer
        headers = {"x-mitel-correlation-id": request.headers.get("x-mitel-correlation-id", ""), **headers}
        return httpx.Response(status, headers=headers, json=body)

    def api_requests(self) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path != TOKEN_PATH]

    def token_forms(self) -> list[str]:
        return [r.content.decode() for r in self.requests if r.url.path == TOKEN_PATH]


class Sleeps(list):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


class AsyncSleeps(list):
    async def __call__(self, seconds: float) -> None:
        self.append(seconds)


def sync_client(service: Scripted, sleeps: Callable[[float], None] | None = None, **kwargs: Any) -> CloudLink:
    kwargs.setdefault("grant", Password("admin@acme.example", "callyard"))
    return CloudLink(*APP, twin_url="http://twin.test", os_name="linux", os_version="6.1",
                     transport=httpx.MockTransport(service), sleep=sleeps if sleeps is not None else Sleeps(), **kwargs)


def async_client(service: Scripted, sleeps: Any = None, **kwargs: Any) -> AsyncCloudLink:
    kwargs.setdefault("grant", Password("admin@acme.example", "callyard"))
    return AsyncCloudLink(*APP, twin_url="http://twin.test", os_name="linux", os_version="6.1",
                          transport=httpx.MockTransport(service),
                          sleep=sleeps if sleeps is not None else AsyncSleeps(), **kwargs)


# ---------------------------------------------------------------------------- live
@dataclass
class Sent:
    method: str
    url: str
    correlation_id: str
    app_header: str
    at: float


class RecordingTransport(httpx.HTTPTransport):
    """The real HTTP transport, noting each request the SDK sends (monotonic time of sending)."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Sent] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(Sent(request.method, str(request.url), request.headers.get("x-mitel-correlation-id", ""),
                              request.headers.get("x-mitel-app", ""), time.monotonic()))
        return super().handle_request(request)


class AsyncRecordingTransport(httpx.AsyncHTTPTransport):
    def __init__(self) -> None:
        super().__init__()
        self.sent: list[Sent] = []

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        self.sent.append(Sent(request.method, str(request.url), request.headers.get("x-mitel-correlation-id", ""),
                              request.headers.get("x-mitel-app", ""), time.monotonic()))
        return await super().handle_async_request(request)


class FixedTarget:
    """A connection URL and topic for the MQTT engine that are never renewed (the engine's tests)."""

    auto = False

    def __init__(self, url: str, topic: str) -> None:
        self.url, self.topic = url, topic
        self.retired = 0

    def wanted(self) -> bool:
        return False

    def lapsed(self) -> bool:
        return False

    def renew(self) -> None:
        raise AssertionError("a fixed target is not renewed")

    def postpone(self) -> None:
        return None

    def retire(self) -> None:
        self.retired += 1
