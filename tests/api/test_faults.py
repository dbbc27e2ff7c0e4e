"""Fault injection through ``/_callyard/faults``: injected statuses (with Retry-After, ratio, count, both
mounts of a route), latency, forced token expiry, dropped and duplicated webhooks; validation; reset."""
from __future__ import annotations

import time

import httpx
import pytest

from tests.conftest import auth, token
from tests.support.receiver import Receiver

B = "/2017-09-01"
F = "/_callyard/faults"


def inject(client: httpx.Client, headers: dict[str, str], **spec) -> dict:
    response = client.post(F, json=spec, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


def test_status_with_retry_after_on_both_mounts_then_retires(client: httpx.Client, admin) -> None:
    fault = inject(client, admin, route=f"{B}/users/{{userId}}", method="GET", status=503, retryAfter=2, count=2)
    first = client.get(f"{B}/users/ac3e0000-0000-4000-8000-000000002880", headers=admin)
    second = client.get(f"/admin{B}/users/ac3e0000-0000-4000-8000-000000002881", headers=admin)
    for response in (first, second):
        assert response.status_code == 503
        assert response.headers["retry-after"] == "2" and response.headers["x-callyard-fault"] == fault["faultId"]
        assert response.json()["name"] == "ServiceUnavailable" and response.headers["x-mitel-correlation-id"]
    assert client.get(f"{B}/users/ac3e0000-0000-4000-8000-000000002880", headers=admin).status_code == 200
    assert client.get(F, headers=admin).json()["count"] == 0          # retired after its count
    # other routes and methods never matched
    inject(client, admin, route=f"{B}/users", method="POST", status=500)
    assert client.get(f"{B}/users", headers=admin).status_code == 200
    assert client.get(f"{B}/groups", headers=admin).status_code == 200


def test_ratio_hits_about_that_share_and_counts_hits(client: httpx.Client, admin) -> None:
    fault = inject(client, admin, route=f"{B}/groups", status=429, ratio=0.5)
    statuses = [client.get(f"{B}/groups", headers=admin).status_code for _ in range(60)]
    hits = statuses.count(429)
    assert 10 <= hits <= 50 and set(statuses) == {200, 429}
    assert client.get(f"{F}/{fault['faultId']}", headers=admin).json()["hits"] == hits
    assert client.delete(f"{F}/{fault['faultId']}", headers=admin).status_code == 200
    assert all(client.get(f"{B}/groups", headers=admin).status_code == 200 for _ in range(5))


def test_latency_alone_delays_and_passes_through(client: httpx.Client, admin) -> None:
    inject(client, admin, route=f"{B}/contacts", latency={"distribution": "fixed", "ms": 300})
    started = time.monotonic()
    response = client.get(f"{B}/contacts", headers=admin)
    assert response.status_code == 200 and time.monotonic() - started >= 0.3


def test_forced_token_expiry_until_a_new_token(client: httpx.Client, admin) -> None:
    old = token(client, "alice@acme.example")
    pair = client.post(f"{B}/token", data={"grant_type": "password", "username": "bob@acme.example",
                                           "password": "callyard"}).json()
    inject(client, admin, kind="token.expire", principalId="ac3e0000-0000-4000-8000-000000002881")
    refused = client.get(f"{B}/token", headers=auth(pair["access_token"]))
    assert refused.status_code == 401 and refused.json()["name"] == "TokenExpired"
    assert client.get(f"{B}/token", headers=auth(old)).status_code == 200   # another principal: untouched
    refreshed = client.post(f"{B}/token", data={"grant_type": "refresh_token",
                                                "refresh_token": pair["refresh_token"]})
    assert refreshed.status_code == 201
    assert client.get(f"{B}/token", headers=auth(refreshed.json()["access_token"])).status_code == 200

    everyone = inject(client, admin, kind="token.expire")
    assert client.get(f"{B}/token", headers=auth(old)).status_code == 401
    assert client.get(f"{B}/token", headers=auth(refreshed.json()["access_token"])).status_code == 401
    client.delete(f"{F}/{everyone['faultId']}", headers=auth(token(client, "admin@acme.example")))
    assert client.get(f"{B}/token", headers=auth(old)).status_code == 200   # removing the fault ends it


def test_webhooks_dropped_and_duplicated(client: httpx.Client, admin) -> None:
    with Receiver() as receiver:
        sub = client.post(f"{B}/subscriptions", headers=admin, json={
            "applicationId": "3f1c0d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f", "deviceId": receiver.url,
            "transport": "webhook", "topic": "platform-api-presence"}).json()
        inject(client, admin, kind="webhook.drop", subscriptionId=sub["subscriptionId"], count=1)
        inject(client, admin, kind="webhook.duplicate", subscriptionId=sub["subscriptionId"], count=1)
        for status in ("away", "dnd"):
            assert client.put(f"{B}/presentities/ac3e0000-0000-4000-8000-000000002880", headers=admin,
                              json={"status": status}).status_code == 200
        receiver.wait_for(2)
        received = receiver.accepted()
        assert len({r["headers"]["webhook-id"] for r in received}) == 1    # the second, twice, same id
        log = client.get("/_callyard/deliveries", params={"subscriptionId": sub["subscriptionId"]},
                         headers=admin).json()["_embedded"]["items"]
        dropped = [d for d in log if d["status"] == "dropped"]
        assert len(dropped) == 1 and dropped[0]["deliveryId"] != received[0]["headers"]["webhook-id"]
        assert client.post(f"/_callyard/deliveries/{dropped[0]['deliveryId']}/replay", headers=admin).status_code == 200
        receiver.wait_for(3)
        assert dropped[0]["deliveryId"] in {r["headers"]["webhook-id"] for r in receiver.requests}


@pytest.mark.parametrize("spec, name", [
    ({"status": 503}, None),                                         # valid: every CloudLink route
    ({}, "InvalidFault"),                                            # neither status nor latency
    ({"route": "users", "status": 503}, "InvalidFault"),
    ({"route": "/x", "status": 200}, "ValidationError"),
    ({"route": "/x", "status": 503, "ratio": 0}, "ValidationError"),
    ({"route": "/x", "status": 503, "count": 0}, "ValidationError"),
    ({"route": "/x", "status": 503, "colour": "red"}, "ValidationError"),
    ({"kind": "token.expire", "route": "/x"}, "InvalidFault"),
    ({"kind": "meteor"}, "ValidationError"),
    ({"latency": {"distribution": "uniform", "minMs": 5}}, "ValidationError"),
    ({"status": 503, "retryAfter": "soon"}, "ValidationError"),
    ({"status": 503, "retryAfter": True}, "ValidationError"),
    ({"status": 503, "retryAfter": -1}, "ValidationError"),
    ({"status": 503, "count": 10 ** 20}, "ValidationError"),
])
def test_validation(client: httpx.Client, admin, spec, name) -> None:
    response = client.post(F, json=spec, headers=admin)
    if name is None:
        assert response.status_code == 201
        # the control plane itself is never faulted, so the fault can always be removed
        assert client.get(F, headers=admin).status_code == 200
        assert client.get(f"{B}/users", headers=admin).status_code == 503
        assert client.delete(F, headers=admin).json() == {"removed": 1}
    else:
        assert response.status_code == 400 and response.json()["name"] == name, response.text
        assert client.get(F, headers=admin).json()["count"] == 0


def test_retry_after_as_an_http_date(client: httpx.Client, admin) -> None:
    when = "Wed, 21 Oct 2026 07:28:00 GMT"
    inject(client, admin, route=f"{B}/groups", status=429, retryAfter=when)
    assert client.get(f"{B}/groups", headers=admin).headers["retry-after"] == when


def test_control_needs_an_admin_and_reset_clears(client: httpx.Client, admin, alice) -> None:
    assert client.post(F, json={"status": 503}, headers=alice).status_code == 403
    assert client.post(F, json={"status": 503}).status_code == 401
    inject(client, admin, route=f"{B}/users", status=503)
    assert client.delete(F, headers=admin).json() == {"removed": 1}
    inject(client, admin, route=f"{B}/users", status=503)
    assert client.post("/_callyard/reset", headers=admin).status_code == 200
    assert client.get(f"{B}/users", headers=admin).status_code == 200
    assert client.get(f"{F}/nope", headers=admin).status_code == 404
