"""Issue 13, finding 3: notification isolation.

(a) MQTT over WebSocket and the JSON stream check the account AND the principal of a subscription against the
connecting token, and a client-chosen principal id (client_credentials extra claims, guest tokens) cannot
collide with a real principal. (b) A publication is delivered only where its subscriber may read the subject
under the REST read rule (one rule in the core for both): alice receives neither bob's calls nor bob→carol's
private conversation, over webhooks, MQTT and the JSON stream alike."""
from __future__ import annotations

import json
import time

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from tests.conftest import ACME, ALICE, APP_ID, APP_SECRET, BOB, GLOBEX, auth
from tests.support.control import Control
from tests.support.mqtt_client import Mqtt
from tests.support.receiver import Receiver

B = "/2017-09-01"
T = f"{B}/token"
CAROL = "ac3e0000-0000-4000-8000-000000002882"


def mint(client: httpx.Client, app_id: str, secret: str, account: str, **claims: str) -> httpx.Response:
    return client.post(T, json={"grant_type": "client_credentials", "client_id": app_id, "client_secret": secret,
                                "account_id": account, **claims})


def globex_app(client: httpx.Client, partner: dict[str, str]) -> tuple[str, str]:
    r = client.post(f"{B}/applications", json={"name": "Globex tool", "description": "t"}, headers=partner)
    assert r.status_code == 201, r.text
    app_id, secret = r.json()["applicationId"], r.json()["clientSecret"]
    r = client.put(f"{B}/applications/{app_id}", json={"accountId": GLOBEX, "name": "Globex tool", "active": True},
                   headers=partner)
    assert r.status_code == 200, r.text
    return app_id, secret


def ws_subscription(client: httpx.Client, headers: dict[str, str], topic: str) -> tuple[dict, dict]:
    conn = client.post(f"{B}/connections", headers=headers, json={"transport": "websocket"})
    assert conn.status_code == 201, conn.text
    sub = client.post(f"{B}/subscriptions", headers=headers, json={
        "transport": "websocket", "connectionId": conn.json()["connectionId"], "topic": topic})
    assert sub.status_code == 201, sub.text
    return conn.json(), sub.json()


def webhook(client: httpx.Client, headers: dict[str, str], url: str, topic: str) -> dict:
    r = client.post(f"{B}/subscriptions", headers=headers, json={
        "applicationId": APP_ID, "transport": "webhook", "deviceId": url, "topic": topic})
    assert r.status_code == 201, r.text
    return r.json()


def wait_for(predicate, timeout: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def bodies(receiver: Receiver) -> list[dict]:
    return [json.loads(r["body"]) for r in receiver.requests]


# ------------------------------------------------------------------------------------------------- (a)
def test_chosen_principal_ids_cannot_collide_with_real_principals(client: httpx.Client, partner, admin) -> None:
    app_id, secret = globex_app(client, partner)
    # Acme's application and an anonymous principal of Acme own subscriptions
    acme_app = auth(mint(client, APP_ID, APP_SECRET, ACME).json()["access_token"])
    ws_subscription(client, acme_app, "platform-api-admin")
    kiosk = mint(client, APP_ID, APP_SECRET, ACME, principalId="kiosk-7", name="Kiosk")
    assert kiosk.status_code == 201, kiosk.text
    ws_subscription(client, auth(kiosk.json()["access_token"]), "platform-api-admin")
    # Globex's application may not mint a token that names any of them, or a real user of any account
    for chosen in (APP_ID, "kiosk-7", ALICE, BOB):
        for claim in ("principalId", "userId", "uniqueUserId"):
            r = mint(client, app_id, secret, GLOBEX, **{claim: chosen})
            assert r.status_code == 400, (claim, chosen, r.text)
            assert r.json()["name"] == "InvalidPrincipals"
    # an unrelated id is still fine
    assert mint(client, app_id, secret, GLOBEX, principalId="globex-kiosk").status_code == 201


def test_transports_check_the_account_as_well_as_the_principal(client: httpx.Client, server, partner, admin) -> None:
    app_id, secret = globex_app(client, partner)
    # Globex mints "kiosk-9" first (nobody owns that id yet), then Acme's own kiosk-9 subscribes
    globex = mint(client, app_id, secret, GLOBEX, principalId="kiosk-9")
    assert globex.status_code == 201, globex.text
    globex_token = globex.json()["access_token"]
    acme = mint(client, APP_ID, APP_SECRET, ACME, principalId="kiosk-9")
    assert acme.status_code == 201, acme.text
    acme_kiosk = auth(acme.json()["access_token"])
    conn, sub = ws_subscription(client, acme_kiosk, "platform-api-admin")
    url = conn["url"]
    # MQTT: the Globex token is refused at CONNECT (5: not authorized), so it can subscribe to nothing
    thief = Mqtt(url, globex_token)
    try:
        rc, _ = thief.wait_connack()
        assert rc.is_failure and str(rc) == "Not authorized"  # CONNACK 5
    finally:
        thief.close()
    # the JSON stream: 4404 for the subscription and for the connection
    base = server.url.replace("http://", "ws://") + "/_callyard/stream"
    for query in (f"subscriptionId={sub['subscriptionId']}", f"connectionId={conn['connectionId']}"):
        with ws_connect(f"{base}?token={globex_token}&{query}") as ws:
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=3)
            assert closed.value.rcvd.code == 4404
    # Globex's kiosk-9 cannot name Acme's connection in a subscription of its own either
    r = client.post(f"{B}/subscriptions", headers=auth(globex_token), json={
        "transport": "websocket", "connectionId": conn["connectionId"], "topic": "platform-api-admin"})
    assert r.status_code == 400 and r.json()["name"] == "InvalidConnectionId"
    # while Acme's kiosk-9 receives Acme's publications (the rule refuses only the other account)
    owner = Mqtt(url, acme_kiosk["Authorization"].split(" ", 1)[1])
    try:
        assert not owner.wait_connack()[0].is_failure
        assert owner.subscribe(sub["subscriptionId"], 1)[0].value == 1
        assert client.put(f"{B}/users/{ALICE}", json={"name": "Alice Renamed"}, headers=admin).status_code == 200
        assert owner.payload()["content"]["name"] == "Alice Renamed"
    finally:
        owner.close()


# ------------------------------------------------------------------------------------------------- (b)
def test_calls_reach_only_who_may_read_them(client: httpx.Client, server, admin, alice) -> None:
    control = Control(client, admin)
    with Receiver() as alice_hook, Receiver() as admin_hook:
        webhook(client, alice, alice_hook.url, "platform-api-media")
        webhook(client, admin, admin_hook.url, "platform-api-media")
        conn, sub = ws_subscription(client, alice, "platform-api-media")
        mqtt = Mqtt(conn["url"], alice["Authorization"].split(" ", 1)[1])
        base = server.url.replace("http://", "ws://") + "/_callyard/stream"
        try:
            assert mqtt.subscribe(sub["subscriptionId"], 1)[0].value == 1
            with ws_connect(f"{base}?token={alice['Authorization'][7:]}&subscriptionId={sub['subscriptionId']}") as ws:
                time.sleep(0.05)
                call = control.ring("2881")  # bob's extension
                assert wait_for(lambda: any("/endpoints/2881/" in b["subject"] for b in bodies(admin_hook)))
                # alice may not GET bob's calls ...
                leg = next(b for b in bodies(admin_hook) if "/endpoints/2881/" in b["subject"])
                path = leg["subject"]
                assert client.get(path, headers=alice).status_code == 403
                # ... and receives nothing about them, by any transport
                time.sleep(0.3)
                assert bodies(alice_hook) == []
                with pytest.raises(TimeoutError):
                    ws.recv(timeout=0.2)
                assert mqtt.messages.empty()
                # her own extension's call reaches her everywhere (the rule is not "nothing")
                control.ring("2880")
                assert wait_for(lambda: bodies(alice_hook))
                assert all("/endpoints/2880/" in b["subject"] for b in bodies(alice_hook))
                assert "/endpoints/2880/" in json.loads(ws.recv(timeout=3))["subject"]
                assert "/endpoints/2880/" in mqtt.payload()["subject"]
                assert call
        finally:
            mqtt.close()


def test_private_conversations_reach_only_their_participants(client: httpx.Client, alice, bob, carol) -> None:
    with Receiver() as alice_hook, Receiver() as carol_hook:
        webhook(client, alice, alice_hook.url, "platform-api-conversations")
        webhook(client, carol, carol_hook.url, "platform-api-conversations")
        created = client.post(f"{B}/conversations", headers=bob, json={"participants": [CAROL]})
        assert created.status_code == 201, created.text
        cid = created.json()["conversationId"]
        posted = client.post(f"{B}/conversations/{cid}/messages", headers=bob, json={"body": "for carol only"})
        assert posted.status_code == 201, posted.text
        assert wait_for(lambda: any(b["content"].get("body") == "for carol only" for b in bodies(carol_hook)))
        # alice can read neither over REST ...
        assert client.get(f"{B}/conversations/{cid}", headers=alice).status_code == 404
        assert client.get(f"{B}/conversations/{cid}/messages", headers=alice).status_code == 404
        # ... nor through her subscription
        time.sleep(0.3)
        assert not any(cid in b["subject"] for b in bodies(alice_hook))
        # deleting the conversation: carol hears of the messages' deletion, alice still nothing
        assert client.delete(f"{B}/conversations/{cid}", headers=bob).status_code in (200, 204)
        assert wait_for(lambda: any(b["method"] == "DELETE" and "/messages/" in b["subject"]
                                    for b in bodies(carol_hook)))
        time.sleep(0.2)
        assert not any(cid in b["subject"] for b in bodies(alice_hook))
        assert "for carol only" not in json.dumps(bodies(alice_hook))
