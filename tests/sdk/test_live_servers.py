"""The SDK against twins started for these tests: the twin's own rate limiter (a real 429 with Retry-After),
short-lived tokens on the wall clock (renewed before they expire, so no 401 is ever seen), refresh tokens that
expired on the virtual clock (the original grant runs again), an MQTT session dropped by the twin (reconnect
with a renewed token), and the best-practice audit of a whole workload with injected 429, 503 and 401: no
findings for the SDK's session."""
from __future__ import annotations

import time
from typing import Any, Iterator

import httpx
import pytest

import cloudlink_client
from cloudlink_client import CloudLink, NotFound, Password

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
        return [(a, b) for a, b in zip(gets, gets[1:]) if a.correlation_id == b.correlation_id]

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
