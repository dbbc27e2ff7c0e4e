"""Notifications over webhooks, end to end with a real local receiver: subscription validation, the
JSONPath publication filter, the real publication envelope, Standard Webhooks signatures, retries on the
virtual clock, 410, the delivery log and replay."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta

import httpx
from standardwebhooks.webhooks import Webhook

from tests.conftest import auth, token, OPERATOR_HEADERS
from tests.support.control import Control
from tests.support.receiver import Receiver

B = "/2017-09-01"
RINGING = "$.publications[?(@.content.state == 'ringing')]"
APP = "3f1c0d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f"


def subscribe(client: httpx.Client, headers: dict[str, str], url: str, **extra: str) -> dict:
    response = client.post(f"{B}/subscriptions", headers=headers, json={
        "applicationId": APP, "deviceId": url, "transport": "webhook", "topic": "platform-api-media",
        "subjectFilter": f"{B}/endpoints/", **extra})
    assert response.status_code == 201, response.text
    return response.json()


def test_ringing_filter_delivers_exactly_the_ringing_publication(client: httpx.Client, admin) -> None:
    with Receiver() as receiver:
        sub = subscribe(client, admin, receiver.url, publicationFilter=RINGING)
        assert sub["subscriptionId"] and len(sub["subscriptionId"]) == 32 and sub["signingSecret"].startswith("whsec_")
        placed = client.post("/_callyard/sim/calls", json={"from": "+16135550123", "to": "2880"}, headers=admin)
        assert placed.status_code == 201
        [publication] = receiver.wait_for(1)
        assert client.post("/_callyard/sim/endpoints/2880/answer", headers=admin).status_code == 200
        time.sleep(0.3)
        assert len(receiver.accepted()) == 1  # the answer (connected) does not pass the filter

        assert set(publication) == {"publicationId", "topic", "method", "subject", "content", "publisher",
                                    "subscription", "notification"}
        content = publication["content"]
        leg = content["callId"].rsplit("/", 1)[1]
        assert publication["topic"] == "platform-api-media" and publication["method"] == "PUT"
        assert publication["subject"] == f"{B}/endpoints/2880/calls/{leg}"
        assert publication["subscription"] == {"subscriptionId": sub["subscriptionId"]}
        assert set(publication["notification"]) == {"createdOn", "correlationId"}
        assert (content["state"], content["cause"], content["direction"], content["from"], content["to"]) == \
            ("ringing", "newCall", "inbound", "+16135550123", "2880")
        assert content["eventType"] == "CallStateNotification" and content["endpointId"] == "2880"
        assert content["callId"] == f"endpoints/2880/calls/{leg}" and content["isCtiEvent"] is True
        assert content["extraPbxData"]["eventType"] == "deliveredEvent"
        assert content["accountId"] == publication["publisher"]["accountId"]

        request = receiver.accepted()[0]
        headers = request["headers"]
        assert headers["x-mitel-application-id"] == APP
        Webhook(sub["signingSecret"]).verify(request["body"], {
            "webhook-id": headers["webhook-id"], "webhook-timestamp": headers["webhook-timestamp"],
            "webhook-signature": headers["webhook-signature"]})  # raises when the signature is wrong


def test_subscriptions_are_validated_and_scoped(client: httpx.Client, admin, alice, erin) -> None:
    def fails(body: dict, name: str, headers=admin) -> None:
        response = client.post(f"{B}/subscriptions", headers=headers, json=body)
        assert response.status_code == 400, response.text
        assert response.json()["name"] == name, response.json()

    base = {"applicationId": APP, "deviceId": "https://example.test/hook", "transport": "webhook",
            "topic": "platform-api-media"}
    fails({**base, "publicationFilter": "$.publications[?(@.x =="}, "InvalidPublicationFilter")
    fails({**base, "subjectFilter": "/endpoints/(["}, "InvalidSubjectFilter")
    fails({**base, "topic": "platform-api-nothing"}, "InvalidTopic")
    fails({**base, "deviceId": "ftp://example.test/hook"}, "InvalidDeviceId")
    fails({**base, "expiryDateTime": "2001-01-01T00:00:00Z"}, "InvalidExpiryDateTime")
    fails({**base, "colour": "blue"}, "ValidationError")
    assert client.get(f"{B}/subscriptions", headers=admin).json()["count"] == 0  # nothing was created

    mine = client.post(f"{B}/subscriptions", headers=alice, json=base).json()
    assert client.get(f"{B}/subscriptions/{mine['subscriptionId']}", headers=alice).status_code == 200
    assert "signingSecret" not in client.get(f"{B}/subscriptions/{mine['subscriptionId']}", headers=alice).json()
    assert client.get(f"{B}/subscriptions/{mine['subscriptionId']}", headers=erin).status_code == 404
    renewed = client.put(f"{B}/subscriptions/{mine['subscriptionId']}", headers=alice,
                         json={"expiryDateTime": "2099-01-01T00:00:00Z"})
    assert renewed.status_code == 400  # more than a year ahead
    later = client.get("/_callyard/clock").json()["now"][:4]
    renewed = client.put(f"{B}/subscriptions/{mine['subscriptionId']}", headers=alice,
                         json={"expiryDateTime": f"{int(later) + 1}-01-01T00:00:00Z"})
    assert renewed.status_code == 200 and renewed.json()["expiryDateTime"].startswith(str(int(later) + 1))
    deleted = client.delete(f"{B}/subscriptions/{mine['subscriptionId']}", headers=alice)
    assert deleted.status_code == 200 and deleted.json()["subscriptionId"] == mine["subscriptionId"]
    assert client.get(f"{B}/subscriptions/{mine['subscriptionId']}", headers=alice).status_code == 404


def test_other_accounts_never_see_a_publication(client: httpx.Client, admin, erin) -> None:
    with Receiver() as receiver:
        subscribe(client, erin, receiver.url)
        client.post("/_callyard/sim/calls", json={"from": "+16135550123", "to": "2880"}, headers=admin)
        time.sleep(0.3)
        assert receiver.requests == []


def test_retries_on_5xx_with_the_same_id_then_delivers(client: httpx.Client, admin) -> None:
    with Receiver() as receiver:
        receiver.status = 500
        sub = subscribe(client, admin, receiver.url, publicationFilter=RINGING)
        client.post("/_callyard/sim/calls", json={"from": "+16135550123", "to": "2881"}, headers=admin)
        deadline = time.monotonic() + 5
        while len(receiver.requests) < 1 and time.monotonic() < deadline:
            time.sleep(0.02)
        assert receiver.requests and receiver.requests[0]["status"] == 500
        for _ in range(3):  # the backoff runs on the virtual clock
            seen = len(receiver.requests)
            client.post("/_callyard/clock/advance", json={"seconds": 5}, headers=OPERATOR_HEADERS)
            deadline = time.monotonic() + 3
            while len(receiver.requests) == seen and time.monotonic() < deadline:
                time.sleep(0.02)
        assert len(receiver.requests) >= 2 and not receiver.accepted()
        receiver.status = 200
        client.post("/_callyard/clock/advance", json={"seconds": 60}, headers=OPERATOR_HEADERS)
        receiver.wait_for(1)
        ids = {r["headers"]["webhook-id"] for r in receiver.requests}
        assert len(ids) == 1  # one delivery, one id, however many attempts

        def log() -> list[dict]:
            return client.get("/_callyard/deliveries", params={"subscriptionId": sub["subscriptionId"]},
                              headers=admin).json()["_embedded"]["items"]
        deadline = time.monotonic() + 5
        while log()[0]["status"] != "delivered" and time.monotonic() < deadline:
            time.sleep(0.02)  # the outcome is recorded just after the receiver answered
        log = log()
        assert len(log) == 1 and log[0]["status"] == "delivered" and log[0]["attempts"] == len(receiver.requests)
        assert [a["status"] for a in log[0]["history"]][-1] == 200

        replayed = client.post(f"/_callyard/deliveries/{log[0]['deliveryId']}/replay", headers=admin)
        assert replayed.status_code == 200
        receiver.wait_for(2)
        assert {r["headers"]["webhook-id"] for r in receiver.accepted()} == ids


def test_410_disables_the_subscription(client: httpx.Client, admin) -> None:
    with Receiver() as receiver:
        receiver.status = 410
        sub = subscribe(client, admin, receiver.url)
        client.post("/_callyard/sim/calls", json={"from": "+16135550123", "to": "2882"}, headers=admin)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            if client.get(f"{B}/subscriptions/{sub['subscriptionId']}", headers=admin).status_code == 404:
                break
            time.sleep(0.05)
        assert client.get(f"{B}/subscriptions/{sub['subscriptionId']}", headers=admin).status_code == 404
        count = len(receiver.requests)
        client.post("/_callyard/sim/endpoints/2882/answer", headers=admin)
        time.sleep(0.3)
        assert len(receiver.requests) == count


def test_admin_changes_are_published(client: httpx.Client, admin) -> None:
    with Receiver() as receiver:
        client.post(f"{B}/subscriptions", headers=admin, json={
            "applicationId": APP, "deviceId": receiver.url, "topic": "platform-api-admin", "methodFilter": "PUT"})
        changed = client.put(f"{B}/users/ac3e0000-0000-4000-8000-000000002881", headers=admin,
                             json={"name": "Bob Renamed"})
        assert changed.status_code == 200, changed.text
        [publication] = receiver.wait_for(1)
        assert publication["topic"] == "platform-api-admin" and publication["method"] == "PUT"
        assert publication["subject"].endswith("/users/ac3e0000-0000-4000-8000-000000002881")
        assert publication["content"]["name"] == "Bob Renamed" and "passwordHash" not in publication["content"]


def test_finished_deliveries_and_long_expired_subscriptions_are_purged_after_a_day(client: httpx.Client,
                                                                                  admin) -> None:
    now = datetime.fromisoformat(client.get("/_callyard/clock").json()["now"].replace("Z", "+00:00"))
    soon = (now + timedelta(hours=2)).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    with Receiver() as receiver:
        brief = subscribe(client, admin, receiver.url, publicationFilter=RINGING, expiryDateTime=soon)
        lasting = subscribe(client, admin, receiver.url, publicationFilter=RINGING)   # the default 24 h
        client.post("/_callyard/sim/calls", json={"from": "+16135550123", "to": "2880"}, headers=admin)
        receiver.wait_for(2)

        def kept(headers: dict[str, str]) -> tuple[set[str], set[str]]:
            state = client.get("/_callyard/state", headers=headers).json()
            text = json.dumps(state)
            deliveries = {d["deliveryId"] for d in client.get("/_callyard/deliveries", headers=headers)
                          .json()["_embedded"]["items"]}
            return {s for s in (brief["subscriptionId"], lasting["subscriptionId"]) if s in text}, deliveries

        def advance(hours: float) -> dict[str, str]:
            fresh = auth(token(client, "admin@acme.example"))   # tokens live an hour of twin time
            Control(client, fresh).advance(hours * 3600)
            return auth(token(client, "admin@acme.example"))

        deadline = time.monotonic() + 5
        while any(d["status"] != "delivered" for d in client.get("/_callyard/deliveries", headers=admin)
                  .json()["_embedded"]["items"]) and time.monotonic() < deadline:
            time.sleep(0.02)
        subscriptions, deliveries = kept(advance(23))
        assert len(deliveries) == 2                                   # delivered 23 h ago: kept
        assert subscriptions == {brief["subscriptionId"], lasting["subscriptionId"]}   # brief expired 21 h ago
        subscriptions, deliveries = kept(advance(4))
        assert deliveries == set()                                    # delivered 27 h ago: purged
        assert subscriptions == {lasting["subscriptionId"]}           # brief expired 25 h ago: purged
