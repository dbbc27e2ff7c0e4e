"""The one implementation of what a request does — the sans-IO core shared by ``CloudLink`` (sync) and
``AsyncCloudLink`` (async).

A call is a *flow*: a generator that builds ``httpx.Request`` objects and decides, and that yields what
it needs done to the client driving it:

* ``Send(request)`` — send it; the driver sends back the ``httpx.Response`` or the ``httpx.TransportError``;
* ``Sleep(seconds)`` — wait before the next attempt;
* ``Exclusive(flow)`` — run another flow (a token renewal) under the client's token lock, so concurrent
  calls that find the token stale or rejected renew it once.

Token renewal, the 401 refresh-and-retry-once rule, the seed 002 retries, the correlation id, the
``X-Mitel-App`` header, error building and error logging all live here, written once; the drivers in
``_sync.py`` and ``_async.py`` only do I/O.
"""
from __future__ import annotations

import json as jsonlib
import re
import time
import uuid
from dataclasses import dataclass, field, replace
from typing import Any, Callable, Generator, Iterable, Mapping
from urllib.parse import urljoin, urlsplit

import httpx

from cloudlink_client import app_header
from cloudlink_client.auth import ClientCredentials, Grant, Password, RefreshToken, TokenState
from cloudlink_client.errors import (AuthenticationRequired, BadRequest, CloudLinkError, Forbidden, Unauthorized,
                                     class_for, decode_body, envelope, exhausted_class, log, utc_now_iso)
from cloudlink_client.retry import RetryPolicy, parse_retry_after

__all__ = ["Core", "Op", "Send", "Sleep", "Exclusive", "SERVICES", "BASE_PATH", "service_urls", "page_items"]

SERVICES = ("authentication", "admin", "media", "chat", "notifications", "presence")
BASE_PATH = "/2017-09-01"
DEFAULT_DOMAIN = "api.mitel.io"
USER_AGENT = "cloudlink-client-python/0.1.0"

_CALL_PATH = re.compile(r"/endpoints/([^/?#]+)/calls/([^/?#]+)")
_CALL_RECORDS = re.compile(r"/calls/([^/?#]+)/records")
_ENDPOINT_PATH = re.compile(r"/endpoints/([^/?#]+)")
_USER_PATH = re.compile(r"/(?:users|presentities)/([^/?#]+)")


def service_urls(*, twin_url: str | None = None, region: str | None = None, environment: str | None = None,
                 base_urls: Mapping[str, str] | None = None, domain: str = DEFAULT_DOMAIN) -> dict[str, str]:
    """The base URL of each service.

    * default: ``https://{service}.api.mitel.io/2017-09-01``;
    * ``region``/``environment``: ``https://{service}.{region}.{environment}.api.mitel.io/2017-09-01``
      (e.g. region ``us`` and environment ``dev`` → ``authentication.us.dev.api.mitel.io``);
    * ``twin_url``: every service at ``{twin_url}/{service}/2017-09-01``;
    * ``base_urls``: per-service overrides, applied last.
    """
    urls: dict[str, str] = {}
    for service in SERVICES:
        if twin_url is not None:
            urls[service] = f"{twin_url.rstrip('/')}/{service}{BASE_PATH}"
        else:
            labels = [service] + [part for part in (region, environment) if part]
            urls[service] = f"https://{'.'.join(labels)}.{domain}{BASE_PATH}"
    for service, url in (base_urls or {}).items():
        if service not in SERVICES:
            raise ValueError(f"unknown service {service!r} in base_urls; services: {', '.join(SERVICES)}")
        urls[service] = url.rstrip("/")
    return urls


@dataclass(frozen=True)
class Op:
    """One API operation: method, service and path below the service's base URL (or an absolute ``url``,
    for ``_links.next``), with its query, body and context."""

    method: str
    service: str
    path: str = ""
    url: str | None = None
    params: Mapping[str, Any] | None = None
    json: Any = None
    form: Mapping[str, str] | None = None
    content: bytes | None = None
    content_type: str | None = None
    auth: bool = True
    call_id: str | None = None
    headers: Mapping[str, str] | None = None


@dataclass
class Send:
    request: httpx.Request


@dataclass
class Sleep:
    seconds: float


@dataclass
class Exclusive:
    flow: Generator[Any, Any, Any]


Action = Send | Sleep | Exclusive
Flow = Generator[Action, Any, Any]


@dataclass
class _Call:
    """One logical call: its correlation id and counters across attempts."""

    op: Op
    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    attempts: int = 0
    retries: int = 0
    sent_at: float = 0.0


def page_items(body: Any) -> list[Any]:
    """The items of a CloudLink collection page (``_embedded.items``), or the list itself."""
    if isinstance(body, list):
        return body
    if isinstance(body, dict):
        embedded = body.get("_embedded")
        items = embedded.get("items") if isinstance(embedded, dict) else None
        if isinstance(items, list):
            return items
    return []


class Core:
    def __init__(self, *, app: str, flavor: str, app_version: str, grant: Grant | None = None,
                 twin_url: str | None = None, region: str | None = None, environment: str | None = None,
                 base_urls: Mapping[str, str] | None = None, os_name: str | None = None,
                 os_version: str | None = None, retry: RetryPolicy | None = None,
                 clock: Callable[[], float] | None = None, refresh_margin: float = 60.0) -> None:
        if grant is not None and not isinstance(grant, (Password, ClientCredentials, RefreshToken)):
            raise TypeError("grant must be Password, ClientCredentials or RefreshToken")
        self.app = app_header.build(app, flavor, app_version, os_name, os_version)
        self.urls = service_urls(twin_url=twin_url, region=region, environment=environment, base_urls=base_urls)
        self.policy = retry or RetryPolicy()
        self.clock = clock or time.monotonic
        self.tokens = TokenState(clock=self.clock, refresh_margin=refresh_margin, grant=grant)

    # ------------------------------------------------------------------ requests
    def url_for(self, op: Op) -> str:
        if op.url is not None:
            return op.url
        if op.service not in self.urls:
            raise ValueError(f"unknown service {op.service!r}")
        return self.urls[op.service] + op.path

    def build_request(self, op: Op, token: str | None, correlation_id: str) -> httpx.Request:
        headers = {"X-Mitel-App": self.app.value, "x-mitel-correlation-id": correlation_id,
                   "Accept": "application/json", "User-Agent": USER_AGENT}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        content: bytes | None = None
        data: Mapping[str, str] | None = None
        if op.json is not None:
            content = jsonlib.dumps(op.json, separators=(",", ":")).encode()
            headers["Content-Type"] = "application/json"
        elif op.form is not None:
            data = op.form
        elif op.content is not None:
            content = op.content
            headers["Content-Type"] = op.content_type or "application/octet-stream"
        if op.headers:
            headers.update(op.headers)
        params = {k: _param(v) for k, v in (op.params or {}).items() if v is not None}
        return httpx.Request(op.method, self.url_for(op), params=params or None, headers=headers,
                             content=content, data=data)

    # ------------------------------------------------------------------ flows
    def call(self, op: Op) -> Flow:
        """The decoded body of a successful call (a dict for JSON, str for text, None when empty)."""
        response = yield from self.call_response(op)
        return decode_body(response.content, response.headers.get("content-type", ""))

    def call_page(self, op: Op) -> Flow:
        """``(body, the URL that answered)``, for paging."""
        response = yield from self.call_response(op)
        return decode_body(response.content, response.headers.get("content-type", "")), str(response.request.url)

    def call_response(self, op: Op) -> Flow:
        call = _Call(op)
        token = (yield from self.valid_token()) if op.auth else None
        response = yield from self._attempts(call, token, reauthenticate=op.auth)
        if response.status_code == 401:
            # seed 001: on a 401, refresh the token, retry the call once; a second 401 is raised. A refused
            # token is never sent again (concurrent calls wait for the renewal instead).
            self.tokens.refuse(token)
            yield Exclusive(self._renew(stale=token))
            token = self.tokens.access_token
            try:
                response = yield from self._attempts(call, token, reauthenticate=False)
            except Unauthorized:
                self.tokens.refuse(token)
                raise
        return response

    def valid_token(self) -> Flow:
        """A token that is not due for renewal, renewing it first when it is."""
        if self.tokens.stale():
            yield Exclusive(self._renew(stale=self.tokens.access_token))
        token = self.tokens.access_token
        if token is None:
            raise self._final(AuthenticationRequired(
                "no access token: configure a grant or complete the authorization code flow"))
        return token

    def renew(self, force: bool = True) -> Flow:
        """Renew the token now (``force``) or only when it is due."""
        if force or self.tokens.stale():
            yield Exclusive(self._renew(stale=self.tokens.access_token))
        return self.tokens.access_token

    def token_request(self, form: Mapping[str, str]) -> Flow:
        """``POST /token`` with ``form``; the token response is installed in the token state."""
        call = _Call(Op("POST", "authentication", "/token", form=form, auth=False))
        response = yield from self._attempts(call, None, reauthenticate=False)
        body = decode_body(response.content, response.headers.get("content-type", ""))
        if not isinstance(body, dict) or not body.get("access_token"):
            raise self._error(call, response, "the token response carries no access_token")
        self.tokens.install(body, call.sent_at)
        log.debug("cloudlink token obtained", extra={"grant_type": form.get("grant_type"),
                                                     "correlation_id": call.correlation_id})
        return body

    def _renew(self, stale: str | None) -> Flow:
        tokens = self.tokens
        current = tokens.access_token
        if current is not None and current != stale and not tokens.stale():
            return current  # renewed meanwhile by another call
        grant = tokens.grant
        if tokens.refresh_token:
            try:
                yield from self.token_request({"grant_type": "refresh_token", "refresh_token": tokens.refresh_token})
                return tokens.access_token
            except (BadRequest, Unauthorized, Forbidden) as exc:
                tokens.forget_refresh_token()
                if grant is None or isinstance(grant, RefreshToken):
                    raise
                log.info("cloudlink token refresh refused (%s %s); running the original grant again",
                         exc.status, exc.name, extra={"correlation_id": exc.correlation_id})
        if grant is None or (isinstance(grant, RefreshToken) and tokens.generation > 0):
            tokens.clear()
            raise self._final(AuthenticationRequired(
                "the token cannot be renewed: no refresh token and no re-runnable grant; authenticate again",
                method="POST", url=self.urls["authentication"] + "/token"))
        yield from self.token_request(grant.form())
        return tokens.access_token

    def _attempts(self, call: _Call, token: str | None, reauthenticate: bool) -> Flow:
        """Send until success, a non-retryable answer or the last allowed retry (seed 002). A 401 is
        returned (not raised) when ``reauthenticate``: the caller refreshes and retries once."""
        policy = self.policy
        while True:
            request = self.build_request(call.op, token, call.correlation_id)
            call.attempts += 1
            call.sent_at = self.clock()
            outcome = yield Send(request)
            if isinstance(outcome, httpx.TransportError):
                error = self._transport_error(call, request, outcome)
                if policy.retry_transport_errors and call.retries < policy.max_retries:
                    delay = policy.delay(None)
                    self._log(error, delay)
                    yield Sleep(delay)
                    call.retries += 1
                    continue
                raise self._final(error, exhausted=policy.retry_transport_errors)
            response: httpx.Response = outcome
            status = response.status_code
            if status < 400:
                return response
            if status == 401 and reauthenticate:
                self._log(self._error(call, response), None, refreshing=True)
                return response
            if policy.retryable(status, response.headers):
                retry_after = parse_retry_after(response.headers.get("retry-after"))
                error = self._error(call, response, retry_after=retry_after)
                if retry_after is not None and retry_after > policy.max_retry_after:
                    raise self._final(error, exhausted=False,
                                      note=f"Retry-After {retry_after:.0f} s is beyond max_retry_after")
                if call.retries < policy.max_retries:
                    delay = policy.delay(retry_after)
                    self._log(error, delay)
                    yield Sleep(delay)
                    call.retries += 1
                    continue
                raise self._final(error, exhausted=True)
            raise self._final(self._error(call, response))

    # ------------------------------------------------------------------ errors
    def _context(self, call: _Call, url: str) -> dict[str, str | None]:
        path = urlsplit(url).path
        call_id = call.op.call_id
        endpoint = user = None
        found = _CALL_PATH.search(path)
        if found:
            endpoint, call_id = found.group(1), call_id or found.group(2)
        else:
            records = _CALL_RECORDS.search(path)
            if records:
                call_id = call_id or records.group(1)
            endpoint_only = _ENDPOINT_PATH.search(path)
            if endpoint_only:
                endpoint = endpoint_only.group(1)
        user_found = _USER_PATH.search(path)
        if user_found and user_found.group(1) != "me":
            user = user_found.group(1)
        return {"call_id": call_id, "endpoint_id": endpoint, "user_id": user}

    def _error(self, call: _Call, response: httpx.Response, message: str | None = None,
               retry_after: float | None = None) -> CloudLinkError:
        body = decode_body(response.content, response.headers.get("content-type", ""))
        fallback = response.reason_phrase.replace(" ", "") or f"HTTP{response.status_code}"
        name, text = envelope(body, fallback)
        url = str(response.request.url)
        cls = class_for(response.status_code)
        context = self._context(call, url)
        return cls(message or text, status=response.status_code, name=name,
                   correlation_id=response.headers.get("x-mitel-correlation-id") or call.correlation_id,
                   request_id=response.headers.get("x-amzn-requestid"), timestamp=utc_now_iso(),
                   method=call.op.method, url=url, attempts=call.attempts, retry_after=retry_after, body=body,
                   call_id=context["call_id"], endpoint_id=context["endpoint_id"], user_id=context["user_id"])

    def _transport_error(self, call: _Call, request: httpx.Request, exc: httpx.TransportError) -> CloudLinkError:
        url = str(request.url)
        context = self._context(call, url)
        return class_for(None)(f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__,
                               name=type(exc).__name__, correlation_id=call.correlation_id,
                               timestamp=utc_now_iso(), method=call.op.method, url=url, attempts=call.attempts,
                               call_id=context["call_id"], endpoint_id=context["endpoint_id"],
                               user_id=context["user_id"])

    def _final(self, error: CloudLinkError, exhausted: bool = False, note: str | None = None) -> CloudLinkError:
        if exhausted:
            fields = vars(error).copy()
            message = fields.pop("message")
            error = exhausted_class(type(error))(message, **fields)
        self._log(error, None, note=note)
        return error

    def _log(self, error: CloudLinkError, delay: float | None, refreshing: bool = False,
             note: str | None = None) -> None:
        """Every failed attempt is logged: WARNING when it will be retried (or refreshed), ERROR for the
        final one. The record carries each field in ``extra`` (and all of them in ``cloudlink``)."""
        fields = error.fields()
        if refreshing:
            outcome = "refreshing the token and retrying once"
        elif delay is not None:
            outcome = f"retrying in {delay:.1f} s"
        elif error.retries_exhausted:
            outcome = "retries exhausted"
        else:
            outcome = "not retried"
        if note:
            outcome += f" ({note})"
        will_retry = refreshing or delay is not None
        extra = {**fields, "will_retry": will_retry, "retry_in": delay, "cloudlink": fields}
        log.log(30 if will_retry else 40, "CloudLink %s; %s", error.describe(), outcome, extra=extra)


def _param(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(str(v) for v in value)
    return str(value)


def next_url(body: Any, service_base: str, current: str) -> str | None:
    """The absolute URL of ``_links.next`` (an absolute URL on the same origin, a path from the host — put
    under the service's prefix when the base URL has one, as on the twin — or a path relative to the
    current page), or None on the last page."""
    if not isinstance(body, dict):
        return None
    links = body.get("_links")
    href = links.get("next") if isinstance(links, dict) else None
    if isinstance(href, dict):
        href = href.get("href")
    if not isinstance(href, str) or not href.strip():
        return None
    href = href.strip()
    base = urlsplit(service_base)
    if href.startswith(("http://", "https://")):
        target = urlsplit(href)
        if (target.scheme, target.netloc) != (base.scheme, base.netloc):
            raise ValueError(f"_links.next {href!r} points to another origin than {service_base!r}; "
                             "the token is not sent there")
        url = href
    elif href.startswith("/"):
        prefix = base.path[: -len(BASE_PATH)] if base.path.endswith(BASE_PATH) else ""
        if prefix and not href.startswith(prefix + "/") and href.startswith(BASE_PATH):
            href = prefix + href
        url = f"{base.scheme}://{base.netloc}{href}"
    else:
        url = urljoin(current, href)
    return None if url == current else url


def next_op(op: Op, body: Any, core: Core, current: str) -> Op | None:
    url = next_url(body, core.urls[op.service], current)
    return None if url is None else replace(op, url=url, params=None)


def odata(filter: str | None = None, top: int | None = None, skip: int | None = None,
          orderby: str | None = None, search: str | None = None, expand: str | Iterable[str] | None = None,
          count: bool | None = None, select: str | None = None, **extra: Any) -> dict[str, Any]:
    """OData query options as CloudLink spells them (``$filter``, ``$top`` …) plus any other parameters."""
    params: dict[str, Any] = {"$filter": filter, "$top": top, "$skip": skip, "$orderby": orderby,
                              "$search": search, "$count": count, "$select": select,
                              "$expand": expand if expand is None or isinstance(expand, str) else ",".join(expand)}
    params.update(extra)
    return {k: v for k, v in params.items() if v is not None}
