"""The SDK against twins started for these tests: the twin's own rate limiter (a real 429 with Retry-After),
short-lived tokens on the wall clock (renewed before they expire, so no 401 is ever seen), refresh tokens that
expired on the virtual clock (the original grant runs again), an MQTT session dropped by the twin (reconnect
with a renewed token), notification streams that outlive their connection's and subscription's expiry
(renewed on the stream's own timer on the wall clock, renewed on request and re-created after expiring on the
virtual clock, with the sync and the async client), and the best-practice audit of a whole workload with
injected 429, 503 and 401: no findings for the SDK's session."""
from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta
from typing import Any, Callable, Iterator

import httpx
import pytest

import cloudlink_client
from cloudlink_client import AsyncCloudLink, CloudLink, NotFound, Password, StreamError

from tests.conftest import ACME, ALICE, APP_ID, PASSWORD, LiveServer, start_server
from tests.sdk.support import RecordingTransport

RINGING = "$.publications[?(@.content.state == 'ringing')]"


def sdk(server: LiveServer, username: str = "admin@acme.example", flavor: str = "sdktest") -> CloudLink:
    transport = RecordingTransport()
    client = CloudLink("callyard", flavor, "0.1.0", grant=Password(username, PASSWORD), twin_url=server.url,
                       transport=transport)
    client.transport = transport  # type: ignore[attr-defined]
    return client


def control(server: LiveServer, method: str, path: str, **kwargs: Any) -> Any:
    """A control-plane request (the servers here run with open control)."""
    response = httpx.request(method, server.url + path, timeout=10, **kwargs)
    assert response.status_code < 300, response.text
    return response.json()


def statuses(server: LiveServer, correlation_id: str) -> list[int]:
    entries = control(server, "GET", "/_callyard/journal", params={"limit": 2000})["_embedded"]["items"]
    return [e["status"] for e in entries if e["correlationId"] == correlation_id]


@pytest.fixture(scope="module")
def rate_limited() -> Iterator[LiveServer]:
    with start_server(rate_limit=0.5, rate_burst=2, open_control=True) as live:
        yield live


@pytest.fixture(scope="module")
def wall_clock() -> Iterator[LiveServer]:
    with start_server(open_control=True) as live:
        yield live


@pytest.fixture(scope="module")
def virtual_clock() -> Iterator[LiveServer]:
    with start_server(clock="manual", open_control=True) as live:
        yield live


def test_a_real_429_is_retried_after_retry_after(rate_limited: LiveServer) -> None:
    client = sdk(rate_limited)

    def retried() -> list[Any]:
        gets = [s for s in client.transport.sent if s.method == "GET"]
        return [(a, b) for a, b in zip(gets, gets[1:], strict=False) if a.correlation_id == b.correlation_id]

    for _ in range(6):  # a burst of 2 calls, then one is refused for about 2 s (0.5 request/s)
        assert client.auth.claims()["role"] == "ACCOUNT_ADMIN"
        if retried():
            break
    [(first, second)] = retried()
    assert statuses(rate_limited, first.correlation_id) == [429, 200]
    entries = control(rate_limited, "GET", "/_callyard/journal")["_embedded"]["items"]
    refused = [e for e in entries if e["status"] == 429]
    assert len(refused) == 1 and refused[0]["correlationId"] == first.correlation_id
    assert second.at - first.at >= 2.0  # max(2 s, Retry-After) between the two attempts
    client.close()


def test_short_tokens_are_renewed_before_they_expire(wall_clock: LiveServer) -> None:
    admin = sdk(wall_clock)
    admin.admin.update_account(ACME, {"accessTokenExpiryHours": 0.001})  # 3-second access tokens
    try:
        alice = sdk(wall_clock, "alice@acme.example")
        assert alice.auth.claims()["userId"] == ALICE
        assert alice.core.tokens.response["expires_in"] == 3
        time.sleep(2.9)  # within a tenth of the token's life of its expiry, on the SDK's own clock
        assert alice.auth.claims()["userId"] == ALICE
        sent = [(s.method, s.url.rsplit("/", 1)[1]) for s in alice.transport.sent]
        assert sent == [("POST", "token"), ("GET", "token"), ("POST", "token"), ("GET", "token")]
        assert all(statuses(wall_clock, s.correlation_id) in ([200], [201]) for s in alice.transport.sent)
        alice.close()
    finally:
        admin.admin.update_account(ACME, {"accessTokenExpiryHours": 1})
        admin.close()


def test_expired_refresh_token_runs_the_original_grant_again(virtual_clock: LiveServer) -> None:
    client = sdk(virtual_clock, "alice@acme.example")
    client.presence.get()
    control(virtual_clock, "POST", "/_callyard/clock/advance", json={"seconds": 15 * 86400})
    assert client.presence.get()["principalId"] == ALICE
    call = client.transport.sent[-1]
    assert statuses(virtual_clock, call.correlation_id) == [401, 200]
    logins = [s for s in client.transport.sent if s.method == "POST"]
    assert len(logins) == 3  # the login, the refused refresh, the password grant again
    assert [statuses(virtual_clock, s.correlation_id)[0] // 100 for s in logins] == [2, 4, 2]
    client.close()


def test_mqtt_session_dropped_by_the_twin_reconnects_with_a_renewed_token(virtual_clock: LiveServer) -> None:
    client = sdk(virtual_clock, "alice@acme.example")
    with client.notifications.stream("platform-api-media", publication_filter=RINGING) as stream:
        assert stream.connects == 1
        logins_before = len([s for s in client.transport.sent if s.method == "POST"])
        # The access token expires on the twin's clock: the twin closes the MQTT session.
        control(virtual_clock, "POST", "/_callyard/clock/advance", json={"seconds": 3700})
        deadline = time.monotonic() + 15
        while stream.connects < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert stream.connects == 2 and stream.error is None
        assert len([s for s in client.transport.sent if s.method == "POST"]) == logins_before + 1  # renewed
        control(virtual_clock, "POST", "/_callyard/sim/calls", params={"account": ACME},
                json={"from": "+16135550123", "to": "2880"})
        publication = stream.get(timeout=5)
        assert publication["content"]["state"] == "ringing" and publication["content"]["endpointId"] == "2880"
    client.close()


def advance(server: LiveServer, seconds: float) -> None:
    control(server, "POST", "/_callyard/clock/advance", json={"seconds": seconds})


def ring(server: LiveServer, to: str = "2880") -> None:
    control(server, "POST", "/_callyard/sim/calls", params={"account": ACME}, json={"from": "+16135550123", "to": to})


def when(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def wait_until(condition: Callable[[], bool], timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)
    return condition()


def test_stream_renews_on_its_own_timer_before_expiry(wall_clock: LiveServer) -> None:
    """A 4-second lifetime on the wall clock, where the SDK's clock and the twin's agree: the stream renews
    by itself (at 80 % of the lifetime) and still receives once the original expiry has passed."""
    client = sdk(wall_clock, "alice@acme.example")
    with client.notifications.stream("platform-api-media", publication_filter=RINGING, lifetime=4) as stream:
        first, subscription_id = stream.connection["connectionId"], stream.subscription_id
        original = when(stream.subscription["expiryDateTime"])
        assert original == when(stream.connection["expiryDateTime"])
        assert original - when(stream.connection["createdOn"]) <= timedelta(seconds=4.5)
        assert wait_until(lambda: stream.renewals >= 1 and stream.connected, 20)
        assert stream.subscription_id == subscription_id            # moved to the new connection
        assert stream.connection["connectionId"] != first
        assert when(stream.subscription["expiryDateTime"]) > original
        time.sleep(max(0.0, (original - datetime.now(original.tzinfo)).total_seconds()) + 0.5)
        ring(wall_clock)                                            # the original lease has expired by now
        publication = stream.get(timeout=10)
        assert publication["content"]["state"] == "ringing"
        assert publication["subscription"]["subscriptionId"] == subscription_id
        assert stream.error is None
        with pytest.raises(NotFound):                               # retired once the session moved
            client.notifications.get_connection(first)
    assert client.notifications.list_connections()["count"] == 0    # close() removed the current ones
    client.close()


def test_stream_renewed_on_request_receives_past_the_original_expiry(virtual_clock: LiveServer) -> None:
    client = sdk(virtual_clock, "alice@acme.example")
    with client.notifications.stream("platform-api-media", publication_filter=RINGING) as stream:
        first, subscription_id = stream.connection["connectionId"], stream.subscription_id
        original = when(stream.subscription["expiryDateTime"])
        assert original - when(stream.connection["createdOn"]) == timedelta(hours=24)   # the twin's default
        advance(virtual_clock, 20 * 3600)   # due on the twin's clock; the SDK's timer counts local time
        stream.renew()
        assert stream.renewals == 1 and stream.subscription_id == subscription_id
        assert stream.connection["connectionId"] != first
        assert when(stream.subscription["expiryDateTime"]) - original == timedelta(hours=20)
        with pytest.raises(NotFound):
            client.notifications.get_connection(first)
        advance(virtual_clock, 5 * 3600)    # past the original expiry (and the access token's)
        ring(virtual_clock)
        publication = stream.get(timeout=15)
        assert publication["content"]["state"] == "ringing" and publication["content"]["endpointId"] == "2880"
        assert publication["subscription"]["subscriptionId"] == subscription_id and stream.error is None
    client.close()


def test_stream_re_creates_what_expired(virtual_clock: LiveServer) -> None:
    """Both streams' connection and subscription expire at once on the twin's clock: the renewing stream
    comes back on a new connection and a new subscription; the one without renewal hears nothing more."""
    client = sdk(virtual_clock, "alice@acme.example")
    kept = client.notifications.stream("platform-api-media", publication_filter=RINGING)
    plain = client.notifications.stream("platform-api-media", publication_filter=RINGING, auto_renew=False)
    try:
        expired = kept.subscription_id
        advance(virtual_clock, 25 * 3600)
        assert wait_until(lambda: kept.renewals >= 1 and kept.connected, 40), (kept.renewals, kept.error)
        assert kept.subscription_id != expired          # the expired subscription was created again
        ring(virtual_clock)
        publication = kept.get(timeout=15)
        assert publication["subscription"]["subscriptionId"] == kept.subscription_id
        assert publication["content"]["state"] == "ringing"
        with pytest.raises((TimeoutError, StreamError)):
            plain.get(timeout=2)
        assert plain.renewals == 0 and not plain.connected
    finally:
        kept.close()
        plain.close()
    client.close()


async def test_async_stream_renewed_on_request(virtual_clock: LiveServer) -> None:
    async with AsyncCloudLink("callyard", "sdktest", "0.1.0", grant=Password("alice@acme.example", PASSWORD),
                              twin_url=virtual_clock.url) as client:
        stream = await client.notifications.stream("platform-api-media", publication_filter=RINGING)
        async with stream:
            first, original = stream.connection["connectionId"], when(stream.subscription["expiryDateTime"])
            await asyncio.to_thread(advance, virtual_clock, 20 * 3600)
            await stream.renew()
            assert stream.renewals == 1 and stream.connection["connectionId"] != first
            assert when(stream.subscription["expiryDateTime"]) - original == timedelta(hours=20)
            await asyncio.to_thread(advance, virtual_clock, 5 * 3600)
            await asyncio.to_thread(ring, virtual_clock)
            publication = await stream.get(timeout=15)
            assert publication["subscription"]["subscriptionId"] == stream.subscription_id
        assert (await client.notifications.list_connections())["count"] == 0


def test_the_audit_finds_nothing_wrong_with_the_sdk(wall_clock: LiveServer) -> None:
    """A normal workload with injected 429, 503 and 401 answers; the twin's best-practice audit of the SDK's
    X-Mitel-App session must be clean."""
    control(wall_clock, "DELETE", "/_callyard/audit")
    admin, alice = sdk(wall_clock, flavor="server"), sdk(wall_clock, "alice@acme.example", flavor="server")
    admin.auth.claims()
    assert len(list(admin.admin.iter_users(top=2))) >= 5
    control(wall_clock, "POST", "/_callyard/faults",
            json={"route": "/2017-09-01/groups", "method": "GET", "status": 429, "retryAfter": 2, "count": 1})
    admin.admin.list_groups()
    control(wall_clock, "POST", "/_callyard/faults",
            json={"route": "/2017-09-01/presentities/{principalId}", "method": "GET", "status": 503, "count": 1})
    alice.presence.get()
    control(wall_clock, "POST", "/_callyard/faults", json={"kind": "token.expire"})
    assert alice.media.get_endpoint("2880")["endpointId"] == "2880"   # 401, refresh, retried once
    made = alice.media.make_call("2880", "2881")
    alice.media.end("2880", made["callId"])
    conversation = alice.conversations.create_conversation(participants=[ALICE, "bob@acme.example"])
    alice.conversations.post_message(conversation["conversationId"], "hello")
    alice.conversations.delete_conversation(conversation["conversationId"])
    subscription = admin.notifications.create_subscription(
        applicationId=APP_ID, deviceId="http://127.0.0.1:9/hook", transport="webhook", topic="platform-api-media")
    admin.notifications.delete_subscription(subscription["subscriptionId"])
    with pytest.raises(NotFound):
        admin.admin.get_user("00000000-0000-4000-8000-000000000404")

    statuses_seen = {e["status"] for e in control(wall_clock, "GET", "/_callyard/journal")["_embedded"]["items"]}
    assert {429, 503, 401} <= statuses_seen  # the faults did hit the workload
    report = control(wall_clock, "GET", "/_callyard/audit", params={"session": cloudlink_client.SESSION_ID})
    mine = [a for a in report["applications"] if a["app"]["sessionId"] == cloudlink_client.SESSION_ID]
    assert len(mine) == 1 and mine[0]["app"]["requests"] >= 20
    assert mine[0]["findings"] == [], mine[0]["findings"]
    admin.close()
    alice.close()
