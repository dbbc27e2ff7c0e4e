"""The SDK's rules against a scripted service (httpx.MockTransport), with the sleep and the clock injected:
the X-Mitel-App header, service URLs, the seed 002 retry rule and its limits, typed errors with every
captured field and their log records, the 401 refresh-and-retry-once rule, refresh before expiry, paging,
PKCE and webhook signatures. The same rules run against a live twin in the test_live_* modules."""
from __future__ import annotations

import asyncio
import base64
import json
import logging
import re
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

import cloudlink_client
from cloudlink_client import (AsyncCloudLink, AuthenticationRequired, BadRequest, ClientCredentials, CloudLink,
                              CloudLinkError, Conflict, NotFound, Password, RateLimited, RefreshToken,
                              RetriesExhausted, RetryPolicy, ServerError, ServiceUnavailable, TransportFailure,
                              SeenIds, Unauthorized, WebhookDelivery, WebhookVerificationError, handle_webhook,
                              make_pkce, parse_retry_after, service_urls, verify_webhook, webhook_handler)
from cloudlink_client import app_header
from cloudlink_client.core import next_url

from tests.sdk.support import AsyncSleeps, FixedTarget, Scripted, Sleeps, async_client, sync_client, token_body

HEADER = re.compile(r"^([a-z0-9.]+(?:-[a-z0-9.]+)*)-([a-z0-9.]+)/([^;/]+);platform=(windows|linux|mac|ios|android)/"
                    r"([^;/]+);session-id=([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$")
ISO_Z = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


# ---------------------------------------------------------------------------- X-Mitel-App
def test_app_header_format_and_session_id_once_per_process() -> None:
    service = Scripted()
    client = sync_client(service)
    other = CloudLink("Other-App", "Desktop", "2.0.0-RC1", twin_url="http://twin.test", os_name="windows",
                      os_version="10.0.19041")
    client.admin.list_users()
    sent = {r.headers["x-mitel-app"] for r in service.requests}
    assert sent == {client.app_header}, "the same header on every request, token requests included"
    found = HEADER.match(client.app_header)
    assert found, client.app_header
    assert found.groups() == ("callyard", "sdktest", "0.1.0", "linux", "6.1", cloudlink_client.SESSION_ID)
    assert other.app_header == ("other-app-desktop/2.0.0-rc1;platform=windows/10.0.19041;"
                                f"session-id={cloudlink_client.SESSION_ID}")
    assert other.app_header == other.app_header.lower() and client.session_id == other.session_id
    with pytest.raises(AttributeError):
        client.core.app.session_id = "changed"  # type: ignore[misc]


@pytest.mark.parametrize("system, expected", [("Linux", "linux"), ("Darwin", "mac"), ("Windows", "windows")])
def test_app_header_maps_the_platform(monkeypatch: pytest.MonkeyPatch, system: str, expected: str) -> None:
    monkeypatch.setattr(app_header.platform, "system", lambda: system)
    monkeypatch.setattr(app_header.platform, "release", lambda: "5.4.0")
    monkeypatch.setattr(app_header.platform, "version", lambda: "10.0.19041")
    monkeypatch.setattr(app_header.platform, "mac_ver", lambda: ("14.4.1", ("", "", ""), ""))
    header = app_header.build("crm", "server", "1.0.0")
    assert header.os_name == expected
    assert header.os_version == {"linux": "5.4.0", "mac": "14.4.1", "windows": "10.0.19041"}[expected]
    assert HEADER.match(header.value)


def test_app_header_refuses_what_the_seed_does_not_allow(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(app_header.platform, "system", lambda: "FreeBSD")
    with pytest.raises(ValueError, match="FreeBSD.*os_name"):
        app_header.build("crm", "server", "1.0.0")
    assert app_header.build("crm", "server", "1.0.0", os_name="linux", os_version="14.0").os_name == "linux"
    with pytest.raises(ValueError, match="one of windows, linux, mac, ios, android"):
        app_header.build("crm", "server", "1.0.0", os_name="osx", os_version="14")
    with pytest.raises(ValueError, match="flavor"):
        app_header.build("crm", "web-server", "1.0.0", os_name="linux", os_version="6")
    with pytest.raises(ValueError, match="app is required"):
        app_header.build("", "server", "1.0.0", os_name="linux", os_version="6")
    with pytest.raises(ValueError, match="may not contain"):
        app_header.build("crm", "server", "1.0;beta", os_name="linux", os_version="6")
    with pytest.raises(TypeError):
        CloudLink("crm", "server")  # type: ignore[call-arg]  # app, flavor and version are required


# ---------------------------------------------------------------------------- service URLs
def test_service_urls() -> None:
    real = service_urls()
    assert real["authentication"] == "https://authentication.api.mitel.io/2017-09-01"
    assert real["chat"] == "https://chat.api.mitel.io/2017-09-01"
    assert set(real) == {"authentication", "admin", "media", "chat", "notifications", "presence"}
    assert service_urls(region="us", environment="dev")["authentication"] == \
        "https://authentication.us.dev.api.mitel.io/2017-09-01"
    assert service_urls(region="us-west-2.us")["media"] == "https://media.us-west-2.us.api.mitel.io/2017-09-01"
    twin = service_urls(twin_url="http://127.0.0.1:8080/")
    assert twin == {s: f"http://127.0.0.1:8080/{s}/2017-09-01" for s in real}
    mixed = service_urls(twin_url="http://127.0.0.1:8080", base_urls={"media": "http://pbx.local:9000/2017-09-01/"})
    assert mixed["media"] == "http://pbx.local:9000/2017-09-01" and mixed["admin"].startswith("http://127.0.0.1:8080/")
    with pytest.raises(ValueError, match="unknown service"):
        service_urls(base_urls={"billing": "http://x"})


# ---------------------------------------------------------------------------- retries (seed 002)
def test_retry_after_seconds_and_http_date() -> None:
    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=timezone.utc)
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after(" 2.5 ") == 2.5
    assert parse_retry_after(format_datetime(now + timedelta(seconds=9), usegmt=True), now=lambda: now) == 9.0
    assert parse_retry_after(format_datetime(now - timedelta(seconds=9), usegmt=True), now=lambda: now) == 0.0
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None and parse_retry_after("") is None


def test_retry_policy_refuses_to_exceed_the_seed() -> None:
    with pytest.raises(ValueError, match="max_retries"):
        RetryPolicy(max_retries=6)
    with pytest.raises(ValueError, match="min_delay"):
        RetryPolicy(min_delay=1.0)
    assert RetryPolicy().delay(None) == 2.0 and RetryPolicy().delay(1) == 2.0 and RetryPolicy().delay(7) == 7.0


@pytest.mark.parametrize("status", [408, 429, 503, 504, 598, 599])
def test_retryable_statuses_are_retried_after_two_seconds(status: int) -> None:
    service, sleeps = Scripted([status, 200]), Sleeps()
    assert sync_client(service, sleeps).admin.list_users() == {}
    calls = service.api_requests()
    assert len(calls) == 2 and sleeps == [2.0]
    assert calls[0].headers["x-mitel-correlation-id"] == calls[1].headers["x-mitel-correlation-id"]


def test_any_status_with_retry_after_is_retried_and_the_wait_honours_it() -> None:
    date = format_datetime(datetime.now(timezone.utc) + timedelta(seconds=30), usegmt=True)
    service, sleeps = Scripted([(418, {"Retry-After": "5"}, {"name": "Teapot", "message": "brewing"}),
                                (503, {"Retry-After": date}, {"name": "Busy", "message": "busy"}),
                                (429, {"Retry-After": "1"}, {"message": "Too many requests"}), 200]), Sleeps()
    sync_client(service, sleeps).media.get_endpoint("2880")
    assert len(service.api_requests()) == 4
    assert sleeps[0] == 5.0 and 27 <= sleeps[1] <= 30 and sleeps[2] == 2.0  # max(2 s, Retry-After)


@pytest.mark.parametrize("status, cls", [(400, BadRequest), (404, NotFound), (409, Conflict), (500, ServerError),
                                         (403, cloudlink_client.Forbidden), (502, ServerError)])
def test_other_statuses_are_never_retried(status: int, cls: type) -> None:
    service, sleeps = Scripted([status, 200]), Sleeps()
    with pytest.raises(cls) as raised:
        sync_client(service, sleeps).admin.get_user("u1")
    assert len(service.api_requests()) == 1 and sleeps == []
    assert raised.value.attempts == 1 and not raised.value.retries_exhausted
    assert not isinstance(raised.value, RetriesExhausted)


def test_exhaustion_after_five_retries_raises_the_typed_error_with_every_field(
        caplog: pytest.LogCaptureFixture) -> None:
    answer = (503, {"Retry-After": "3", "x-amzn-requestid": "req-42"},
              {"name": "ServiceUnavailable", "message": "the PBX link is down"})
    service, sleeps = Scripted([answer] * 10), Sleeps()
    caplog.set_level(logging.WARNING, logger="cloudlink_client")
    with pytest.raises(ServiceUnavailable) as raised:
        sync_client(service, sleeps).media.hold("2880", "call-77")
    error = raised.value
    assert isinstance(error, RetriesExhausted) and isinstance(error, CloudLinkError) and error.retries_exhausted
    assert len(service.api_requests()) == 6 and sleeps == [3.0] * 5
    sent_correlation = service.api_requests()[0].headers["x-mitel-correlation-id"]
    assert (error.status, error.name, error.message) == (503, "ServiceUnavailable", "the PBX link is down")
    assert error.correlation_id == sent_correlation and error.request_id == "req-42"
    assert ISO_Z.match(error.timestamp), error.timestamp
    assert (error.method, error.attempts, error.retry_after) == ("PUT", 6, 3.0)
    assert error.url == "http://twin.test/media/2017-09-01/endpoints/2880/calls/call-77"
    assert (error.call_id, error.endpoint_id) == ("call-77", "2880")
    assert error.body == {"name": "ServiceUnavailable", "message": "the PBX link is down"}
    assert all(s in str(error) for s in (sent_correlation, "req-42", "call-77", "503", error.timestamp))

    records = [r for r in caplog.records if r.name == "cloudlink_client"]
    assert [r.levelno for r in records] == [logging.WARNING] * 5 + [logging.ERROR]
    for number, record in enumerate(records, start=1):
        assert (record.status, record.error_name, record.error_message) == \
            (503, "ServiceUnavailable", "the PBX link is down")
        assert (record.correlation_id, record.request_id, record.call_id) == (sent_correlation, "req-42", "call-77")
        assert (record.method, record.url, record.attempts) == ("PUT", error.url, number)
        assert ISO_Z.match(record.timestamp) and record.will_retry is (number < 6)
        message = record.getMessage()
        assert sent_correlation in message and "req-42" in message and "call-77" in message
    assert records[-1].retries_exhausted is True and "retries exhausted" in records[-1].getMessage()
    assert records[0].cloudlink["correlation_id"] == sent_correlation


def test_code_and_message_envelope_and_retry_after_beyond_the_limit() -> None:
    service, sleeps = Scripted([(429, {"Retry-After": "600"}, {"code": "Throttled", "message": "slow down"})]), Sleeps()
    with pytest.raises(RateLimited) as raised:
        sync_client(service, sleeps).admin.list_groups()
    assert (raised.value.name, raised.value.message, raised.value.retry_after) == ("Throttled", "slow down", 600.0)
    assert sleeps == [] and not raised.value.retries_exhausted  # not waited for: the application decides


def test_connection_errors_are_retried_with_the_same_spacing() -> None:
    refused = httpx.ConnectError("connection refused")
    service, sleeps = Scripted([refused, httpx.ReadTimeout("slow"), 200]), Sleeps()
    assert sync_client(service, sleeps).presence.get() == {}
    assert sleeps == [2.0, 2.0] and len(service.api_requests()) == 3
    service, sleeps = Scripted([refused] * 6), Sleeps()
    with pytest.raises(TransportFailure) as raised:
        sync_client(service, sleeps).presence.get()
    assert raised.value.status is None and raised.value.attempts == 6 and raised.value.retries_exhausted
    assert raised.value.name == "ConnectError" and raised.value.correlation_id


# ---------------------------------------------------------------------------- auth
def test_401_refreshes_once_and_retries_once() -> None:
    service = Scripted([401, 200])
    client = sync_client(service)
    client.admin.list_users()
    api = service.api_requests()
    assert [r.headers["authorization"] for r in api] == ["Bearer opaque-access-1", "Bearer opaque-access-2"]
    assert api[0].headers["x-mitel-correlation-id"] == api[1].headers["x-mitel-correlation-id"]
    forms = service.token_forms()
    assert "grant_type=password" in forms[0] and forms[1] == "grant_type=refresh_token&refresh_token=opaque-refresh-1"


def test_a_second_401_raises(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="cloudlink_client")
    service = Scripted([401, 401, 200])
    with pytest.raises(Unauthorized) as raised:
        sync_client(service).admin.list_users()
    assert raised.value.attempts == 2 and len(service.api_requests()) == 2 and len(service.token_forms()) == 2
    assert [r.levelno for r in caplog.records if r.name == "cloudlink_client"] == [logging.WARNING, logging.ERROR]


def test_refused_refresh_runs_the_original_grant_again() -> None:
    service = Scripted([401, 200], token_answers=[(201, {}, token_body(1)), (401, {}, {"name": "InvalidToken",
                                                                                       "message": "expired"}),
                                                  (201, {}, token_body(9))])
    client = sync_client(service, grant=ClientCredentials("c1", "s1"))
    client.admin.list_users()
    forms = service.token_forms()
    assert ["client_credentials" in forms[0], "refresh_token" in forms[1],
            "client_credentials" in forms[2]] == [True] * 3
    assert service.api_requests()[-1].headers["authorization"] == "Bearer opaque-access-9"


def test_without_a_grant_the_client_asks_for_authentication() -> None:
    service = Scripted([401])
    with pytest.raises(AuthenticationRequired):
        sync_client(service, grant=None).admin.list_users()
    assert service.requests == []
    once = Scripted([401, 200], token_answers=[(201, {}, token_body(1, refresh=False))])
    client = sync_client(once, grant=RefreshToken("stored-refresh"))
    with pytest.raises(AuthenticationRequired):  # the stored refresh token is spent: nothing to renew with
        client.admin.list_users()


def test_token_is_renewed_before_expiry_on_the_local_clock() -> None:
    now = [1000.0]
    service = Scripted()
    client = sync_client(service, clock=lambda: now[0])
    client.admin.list_users()
    now[0] += 3600 - 61
    client.admin.list_users()
    assert len(service.token_forms()) == 1  # not yet due: 61 s left, the margin is 60 s
    now[0] += 2
    client.admin.list_users()
    assert len(service.token_forms()) == 2 and "refresh_token=opaque-refresh-1" in service.token_forms()[1]
    assert service.api_requests()[-1].headers["authorization"] == "Bearer opaque-access-2"
    # Tokens are opaque here (not JWTs): nothing in the SDK reads inside them.
    short = Scripted(token_answers=[(201, {}, token_body(1, expires_in=10)), (201, {}, token_body(2, expires_in=10))])
    client = sync_client(short, clock=lambda: now[0])
    client.admin.list_users()
    now[0] += 9.5  # within a tenth of a short token's life
    client.admin.list_users()
    assert len(short.token_forms()) == 2
    # At least 1 s before: expiry times are whole seconds, so a 3-second token may end after 2 s.
    tiny = Scripted(token_answers=[(201, {}, token_body(1, expires_in=3)), (201, {}, token_body(2, expires_in=3))])
    client = sync_client(tiny, clock=lambda: now[0])
    client.admin.list_users()
    now[0] += 1.9
    client.admin.list_users()
    assert len(tiny.token_forms()) == 1
    now[0] += 0.1
    client.admin.list_users()
    assert len(tiny.token_forms()) == 2


async def test_concurrent_401s_refresh_once() -> None:
    service = Scripted()
    in_flight: list[str] = []

    async def slow(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/token"):
            return service(request)
        in_flight.append(request.headers["authorization"])
        await asyncio.sleep(0.05)  # all five are on the wire together
        service.requests.append(request)
        status = 401 if request.headers["authorization"] == "Bearer opaque-access-1" else 200
        return httpx.Response(status, json={})

    client = AsyncCloudLink("callyard", "sdktest", "0.1.0", grant=Password("admin@acme.example", "callyard"),
                            twin_url="http://twin.test", os_name="linux", os_version="6.1",
                            transport=httpx.MockTransport(slow), sleep=AsyncSleeps())
    await client.auth.login()
    await asyncio.gather(*(client.admin.get_user(f"u{i}") for i in range(5)))
    assert in_flight[:5] == ["Bearer opaque-access-1"] * 5
    assert len(service.token_forms()) == 2  # the login and ONE refresh for five rejected calls
    assert in_flight[5:] == ["Bearer opaque-access-2"] * 5
    await client.aclose()


def test_pkce_s256_matches_rfc_7636() -> None:
    pkce = make_pkce("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk")  # RFC 7636 appendix B
    assert pkce.challenge == "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM" and pkce.method == "S256"
    fresh = make_pkce()
    assert 43 <= len(fresh.verifier) <= 128 and fresh.verifier not in repr(fresh)
    with pytest.raises(ValueError):
        make_pkce("too-short")


def test_authorization_code_flow_sends_the_challenge_and_the_verifier() -> None:
    service = Scripted([(201, {}, {"code": "the-code"})])
    client = sync_client(service, grant=None)
    pkce = make_pkce()
    code = client.auth.authorize(client_id="app", username="alice", password="pw",
                                 redirect_uri="http://localhost:3000/callback", pkce=pkce)["code"]
    client.auth.exchange_code(client_id="app", code=code, redirect_uri="http://localhost:3000/callback",
                              code_verifier=pkce.verifier)
    authorize, exchange = service.requests
    assert "authorization" not in authorize.headers and authorize.url.path == "/authentication/2017-09-01/authorize"
    assert f"code_challenge={pkce.challenge}" in authorize.content.decode()
    assert "code_challenge_method=S256" in authorize.content.decode()
    assert f"code_verifier={pkce.verifier}" in exchange.content.decode()
    assert (client.core.tokens.access_token == "opaque-access-1"
            and client.core.tokens.refresh_token == "opaque-refresh-1")


# ---------------------------------------------------------------------------- paging
def test_next_link_resolution() -> None:
    twin = "http://127.0.0.1:8080/admin/2017-09-01"
    here = f"{twin}/users?%24top=2"
    page = lambda href: {"_links": {"next": href}}  # noqa: E731
    assert next_url(page("/2017-09-01/users?$skip=2"), twin, here) == f"{twin}/users?$skip=2"
    assert next_url(page("/admin/2017-09-01/users?$skip=2"), twin, here) == f"{twin}/users?$skip=2"
    assert next_url(page("users?$skip=2"), twin, here) == f"{twin}/users?$skip=2"
    assert next_url(page(f"{twin}/users?$skip=4"), twin, here) == f"{twin}/users?$skip=4"
    assert next_url(page({"href": "/2017-09-01/users?$skip=6"}), twin, here) == f"{twin}/users?$skip=6"
    real = "https://admin.api.mitel.io/2017-09-01"
    assert next_url(page("/2017-09-01/users?$skip=2"), real, f"{real}/users") == f"{real}/users?$skip=2"
    assert next_url({"_links": {"self": "x"}}, twin, here) is None and next_url(page(here), twin, here) is None
    with pytest.raises(ValueError, match="another origin"):
        next_url(page("https://elsewhere.example/users?$skip=2"), twin, here)


def _pages(request: httpx.Request) -> tuple[int, dict, dict]:
    skip = int(request.url.params.get("$skip", "0"))
    items = [{"userId": f"u{i}"} for i in range(skip, min(skip + 2, 5))]
    links = {"self": str(request.url)}
    if skip + 2 < 5:
        links["next"] = f"/2017-09-01/users?$top=2&$skip={skip + 2}"
    return 200, {}, {"count": len(items), "_links": links, "_embedded": {"items": items}}


def test_paging_sync_and_async() -> None:
    service = Scripted([_pages] * 3)
    users = [u["userId"] for u in sync_client(service).admin.iter_users(top=2)]
    assert users == ["u0", "u1", "u2", "u3", "u4"] and len(service.api_requests()) == 3

    async def collect() -> list[str]:
        async_service = Scripted([_pages] * 3)
        client = async_client(async_service)
        found = [u["userId"] async for u in client.admin.iter_users(top=2)]
        await client.aclose()
        return found

    assert asyncio.run(collect()) == users


# ---------------------------------------------------------------------------- async parity
async def test_async_client_applies_the_same_rules() -> None:
    service, sleeps = Scripted([503, 401, (404, {}, {"name": "EndpointNotFound", "message": "no 2999"})]), AsyncSleeps()
    client = async_client(service, sleeps)
    with pytest.raises(NotFound) as raised:
        await client.media.get_endpoint("2999")
    assert sleeps == [2.0] and raised.value.attempts == 3 and raised.value.endpoint_id == "2999"
    assert len(service.token_forms()) == 2  # the 401 in between refreshed the token
    assert isinstance(client, AsyncCloudLink) and client.app_header.startswith("callyard-sdktest/0.1.0;")
    await client.aclose()


# ---------------------------------------------------------------------------- webhooks
SECRET = "whsec_" + base64.b64encode(b"0123456789abcdef0123456789abcdef").decode()


def _delivery(body: bytes, at: datetime | None = None, secret: str = SECRET) -> dict[str, str]:
    at = at or datetime.now(timezone.utc)
    return {"Webhook-Id": "msg_1", "Webhook-Timestamp": str(int(at.timestamp())),
            "Webhook-Signature": Webhook(secret).sign("msg_1", at, body.decode())}


def test_verify_webhook_against_the_standard_webhooks_library() -> None:
    body = json.dumps({"publicationId": "p1", "topic": "platform-api-media"}).encode()
    assert verify_webhook(SECRET, _delivery(body), body)["publicationId"] == "p1"
    headers = _delivery(body)
    headers["Webhook-Signature"] = "v1,bm90LXRoaXM= " + headers["Webhook-Signature"]  # one of several matches
    assert verify_webhook(SECRET, headers, body.decode())["topic"] == "platform-api-media"
    with pytest.raises(WebhookVerificationError, match="no webhook-signature matches"):
        verify_webhook(SECRET, _delivery(body), body.replace(b"p1", b"p2"))
    other = "whsec_" + base64.b64encode(b"another-key-another-key-another!!").decode()
    with pytest.raises(WebhookVerificationError, match="no webhook-signature matches"):
        verify_webhook(other, _delivery(body), body)
    with pytest.raises(WebhookVerificationError, match="5|300"):
        verify_webhook(SECRET, _delivery(body, datetime.now(timezone.utc) - timedelta(minutes=6)), body)
    with pytest.raises(WebhookVerificationError, match="required"):
        verify_webhook(SECRET, {"webhook-id": "x"}, body)
    received: list[WebhookDelivery] = []
    headers = _delivery(body)
    assert handle_webhook(SECRET, headers, body, received.append) == 204 and len(received) == 1
    assert received[0].id == "msg_1" and received[0].timestamp == int(headers["Webhook-Timestamp"])
    assert received[0].publication["publicationId"] == "p1"
    assert handle_webhook(SECRET, _delivery(body), b"{}", received.append) == 400 and len(received) == 1

    def broken(_publication: dict) -> None:
        raise RuntimeError("database down")

    assert handle_webhook(SECRET, _delivery(body), body, broken) == 500


def _signed(publication: dict, webhook_id: str, secret: str = SECRET) -> tuple[dict[str, str], bytes]:
    body = json.dumps(publication).encode()
    at = datetime.now(timezone.utc)
    return ({"webhook-id": webhook_id, "webhook-timestamp": str(int(at.timestamp())),
             "webhook-signature": Webhook(secret).sign(webhook_id, at, body.decode())}, body)


def test_webhook_secrets_known_later_by_subscription() -> None:
    other = "whsec_" + base64.b64encode(b"another-key-another-key-another!!").decode()
    secrets: dict[str, str] = {}
    received: list[WebhookDelivery] = []
    headers, body = _signed({"publicationId": "p1", "subscription": {"subscriptionId": "s1"}}, "msg_1")
    assert handle_webhook(secrets, headers, body, received.append) == 503   # subscribed, secret not stored yet
    secrets["s1"] = SECRET
    secrets["s2"] = other
    assert handle_webhook(secrets, headers, body, received.append) == 204
    assert received[0].subscription_id == "s1" and received[0].id == "msg_1"
    # Signed with s1's secret but naming s2: checked against s2's secret, so refused.
    forged_headers, forged = _signed({"publicationId": "p2", "subscription": {"subscriptionId": "s2"}}, "msg_2")
    assert handle_webhook(secrets, forged_headers, forged, received.append) == 400
    unnamed_headers, unnamed = _signed({"publicationId": "p3"}, "msg_3")
    assert handle_webhook(secrets, unnamed_headers, unnamed, received.append) == 400   # names no subscription
    # A provider function: None until it knows the secret; it is asked with the subscriptionId.
    asked: list[str | None] = []
    known: dict[str, str] = {}

    def provider(subscription_id: str | None) -> str | None:
        asked.append(subscription_id)
        return known.get(subscription_id or "")

    assert handle_webhook(provider, headers, body, received.append) == 503
    known["s1"] = SECRET
    assert handle_webhook(provider, headers, body, received.append) == 204
    assert asked == ["s1", "s1"] and len(received) == 2
    assert handle_webhook(None, headers, body, received.append) == 503     # no secret at all yet


def test_webhook_deduplication_by_webhook_id() -> None:
    seen = SeenIds(maxsize=2)
    received: list[WebhookDelivery] = []
    first, body = _signed({"publicationId": "p1"}, "msg_1")
    assert handle_webhook(SECRET, first, body, received.append, seen=seen) == 204
    assert handle_webhook(SECRET, first, body, received.append, seen=seen) == 204   # redelivered: acknowledged
    assert len(received) == 1 and "msg_1" in seen
    # The same publication under another webhook-id (another delivery) is handed over.
    again, _ = _signed({"publicationId": "p1"}, "msg_2")
    assert handle_webhook(SECRET, again, body, received.append, seen=seen) == 204 and len(received) == 2

    def broken(_delivery: WebhookDelivery) -> None:
        raise RuntimeError("database down")

    failing, failing_body = _signed({"publicationId": "p3"}, "msg_3")
    assert handle_webhook(SECRET, failing, failing_body, broken, seen=seen) == 500
    assert "msg_3" not in seen   # not handled: the retry is handed over
    assert handle_webhook(SECRET, failing, failing_body, received.append, seen=seen) == 204 and len(received) == 3
    # Bounded: the least recently seen id is forgotten first.
    assert len(seen) == 2 and "msg_1" not in seen and "msg_3" in seen
    # A delivery being handled right now by another request: the platform is asked to retry.
    busy, busy_body = _signed({"publicationId": "p4"}, "msg_4")
    assert seen.claim("msg_4") == "new"
    assert handle_webhook(SECRET, busy, busy_body, received.append, seen=seen) == 503
    seen.release("msg_4")
    assert handle_webhook(SECRET, busy, busy_body, received.append, seen=seen) == 204 and len(received) == 4
    assert seen.add("p9") is True and seen.add("p9") is False
    with pytest.raises(ValueError):
        SeenIds(maxsize=0)


def test_webhook_handler_receives_before_and_after_subscribing() -> None:
    import threading
    from http.server import ThreadingHTTPServer

    secrets: dict[str, str] = {}
    received: list[WebhookDelivery] = []
    handler = webhook_handler(secrets, received.append)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    try:
        headers, body = _signed({"publicationId": "p1", "subscription": {"subscriptionId": "s1"}}, "msg_1")
        assert httpx.post(url, content=body, headers=headers).status_code == 503   # before the secret is known
        secrets["s1"] = SECRET                                                    # the subscription answered
        assert httpx.post(url, content=body, headers=headers).status_code == 204
        assert httpx.post(url, content=body, headers=headers).status_code == 204   # a redelivery
        assert [d.id for d in received] == ["msg_1"] and "msg_1" in handler.seen  # type: ignore[attr-defined]
        forged = dict(headers, **{"webhook-signature": "v1,AAAA"})
        assert httpx.post(url, content=body, headers={**forged, "webhook-id": "msg_x"}).status_code == 400
    finally:
        server.shutdown()
        server.server_close()
    assert webhook_handler(SECRET, received.append, dedupe=False).seen is None  # type: ignore[attr-defined]


def test_errors_are_cloudlink_errors_with_stable_names() -> None:
    assert issubclass(Unauthorized, CloudLinkError) and issubclass(ServiceUnavailable, ServerError)
    error = CloudLinkError("boom", status=500, correlation_id="c", method="GET", url="http://x")
    assert error.fields()["correlation_id"] == "c" and ISO_Z.match(error.timestamp)


# ---------------------------------------------------------------------------- MQTT reconnects
class _QuickPolicy:
    """Seed 002's counts with a short wait, to run the give-up path in a unit test (RetryPolicy itself
    refuses waits under 2 s)."""

    max_retries = 5

    def delay(self, retry_after: float | None) -> float:
        return 0.01


def test_stream_gives_up_after_five_failed_reconnects(caplog: pytest.LogCaptureFixture) -> None:
    import socket

    from cloudlink_client.mqtt import StreamError, _Engine

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    caplog.set_level(logging.WARNING, logger="cloudlink_client")
    renewals: list[bool] = []
    engine = _Engine(FixedTarget(f"ws://127.0.0.1:{port}/_callyard/mqtt/c1", "sub1"), client_id="t",
                     token=lambda force: renewals.append(force) or "opaque", deliver=lambda p: None,
                     policy=_QuickPolicy())  # type: ignore[arg-type]
    engine.start()
    assert engine.finished.wait(10)
    assert isinstance(engine.error, StreamError) and engine.error.attempts == 6 and not engine.connected
    assert renewals == [False] + [True] * 5  # every new attempt renews the token first
    levels = [r.levelno for r in caplog.records if r.name == "cloudlink_client"]
    assert levels == [logging.WARNING] * 5 + [logging.ERROR] * 2  # the last attempt, then the give-up


# ---------------------------------------------------------------------------- notification lease renewal
class _FakeNotifications:
    """``client.notifications`` as the stream's lease calls it, on a service whose clock is ``skew`` seconds
    ahead of the local one; a connection lives ``default`` seconds unless an expiry is given."""

    def __init__(self, skew: float = 0.0, default: float = 100.0) -> None:
        self.skew, self.default = skew, default
        self.calls: list[tuple[str, tuple]] = []
        self.fail: dict[str, Exception] = {}
        self.made = 0

    def __call__(self, name: str, *args):
        self.calls.append((name, args))
        if name in self.fail:
            raise self.fail.pop(name)
        now = datetime.now(timezone.utc) + timedelta(seconds=self.skew)
        stamp = lambda moment: moment.strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"  # noqa: E731
        if name == "create_connection":
            self.made += 1
            expiry = args[1] or now + timedelta(seconds=self.default)
            return {"connectionId": f"c{self.made}", "url": f"ws://twin.test/_callyard/mqtt/c{self.made}",
                    "createdOn": stamp(now), "expiryDateTime": stamp(expiry)}
        if name == "create_subscription":
            self.made += 1
            return {"subscriptionId": f"s{self.made}", "createdOn": stamp(now), **args[0]}
        if name == "update_subscription":
            return {"subscriptionId": args[0], "modifiedOn": stamp(now), **args[1]}
        return {}

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]


class _Ticks:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_lease_schedule_follows_the_service_clock_not_the_local_one() -> None:
    from cloudlink_client.mqtt import _Lease

    api, ticks = _FakeNotifications(skew=10 * 3600), _Ticks()   # the service's wall clock is 10 h ahead
    lease = _Lease(api, {"topic": "platform-api-media"}, lifetime=None, auto=True, clock=ticks)
    lease.open()
    assert api.names() == ["create_connection", "create_subscription"]
    created = api.calls[1][1][0]
    # The subscription names the connection and expires with it.
    assert created["connectionId"] == "c1" and created["transport"] == "websocket"
    assert created["expiryDateTime"] == lease.connection["expiryDateTime"]
    # 100 s of life on the service's clock: due after 80 s, expired after 100 s, both on the local clock.
    assert lease.due == pytest.approx(1080.0, abs=0.1) and lease.expires == pytest.approx(1100.0, abs=0.1)
    ticks.now = 1079.5
    assert not lease.wanted()
    ticks.now = 1080.5
    assert lease.wanted()
    # With an explicit lifetime the expiry asked for is on the service's clock (learnt from createdOn).
    timed = _Lease(api, {"topic": "platform-api-media"}, lifetime=50, auto=True, clock=ticks)
    timed.open()
    timed.renew()
    asked = api.calls[-2][1][1]       # create_connection(transport, expiry) of the renewal
    ahead = asked.timestamp() - datetime.now(timezone.utc).timestamp()
    assert 10 * 3600 + 45 < ahead < 10 * 3600 + 55
    assert timed.due == pytest.approx(ticks.now + 40, abs=1)
    # A failed renewal is tried again within a quarter of what is left, never sooner than 2 s.
    ticks.now = timed.expires - 4
    timed.postpone()
    assert timed.due == pytest.approx(ticks.now + 2.0)
    ticks.now = timed.expires - 40
    timed.postpone()
    assert timed.due == pytest.approx(ticks.now + 10.0)
    manual = _Lease(api, {"topic": "platform-api-media"}, lifetime=None, auto=False, clock=ticks)
    manual.open()
    ticks.now += 10_000
    assert not manual.wanted()      # no automatic renewal; renew() still works
    with pytest.raises(ValueError):
        _Lease(api, {}, lifetime=0, auto=True)


def test_lease_renewal_moves_the_subscription_or_re_creates_it() -> None:
    from cloudlink_client.mqtt import _Lease

    api = _FakeNotifications()
    lease = _Lease(api, {"topic": "platform-api-media", "subjectFilter": "/2880"}, lifetime=None, auto=True)
    lease.open()
    first_expiry = lease.subscription["expiryDateTime"]
    api.calls.clear()
    lease.renew()    # the subscription moves to a new connection, with the new connection's expiry
    assert api.names() == ["create_connection", "update_subscription"]
    assert api.calls[1][1] == ("s2", {"connectionId": "c3", "expiryDateTime": lease.connection["expiryDateTime"]})
    assert lease.topic == "s2" and lease.url.endswith("/c3") and lease.renewals == 1
    assert lease.subscription["expiryDateTime"] >= first_expiry
    lease.retire()   # once the session moved: the old connection goes
    assert api.calls[-1] == ("delete_connection", ("c1",))

    api.calls.clear()
    api.fail["update_subscription"] = NotFound("expired", status=404)
    lease.renew()    # the subscription had expired: a new one on the new connection, same filters
    assert api.names() == ["create_connection", "update_subscription", "create_subscription"]
    assert api.calls[2][1][0]["subjectFilter"] == "/2880" and api.calls[2][1][0]["connectionId"] == "c4"
    assert lease.topic == "s5"
    lease.retire()
    assert api.calls[-1] == ("delete_connection", ("c3",))   # nothing to delete for the expired subscription

    api.calls.clear()
    api.fail["update_subscription"] = BadRequest("cannot move", status=400)
    lease.renew()    # the service will not move it: a new subscription, and the old one is deleted too
    lease.retire()
    assert api.names()[-2:] == ["delete_subscription", "delete_connection"]
    assert api.calls[-2][1] == ("s5",) and lease.topic == "s7"

    api.calls.clear()
    api.fail["create_subscription"] = ServiceUnavailable("down", status=503)
    api.fail["update_subscription"] = NotFound("expired", status=404)
    with pytest.raises(ServiceUnavailable):
        lease.renew()
    assert api.calls[-1] == ("delete_connection", ("c8",))    # the new connection is not left behind
    assert lease.topic == "s7" and lease.url.endswith("/c6")  # the lease is unchanged
    lease.close()
    assert api.names()[-2:] == ["delete_subscription", "delete_connection"]

    failing = _FakeNotifications()
    failing.fail["create_subscription"] = BadRequest("bad filter", status=400)
    with pytest.raises(BadRequest):
        _Lease(failing, {"topic": "x"}, lifetime=None, auto=True).open()
    assert failing.names() == ["create_connection", "create_subscription", "delete_connection"]
