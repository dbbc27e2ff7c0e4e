"""WebSocket delivery of Notifications, end to end against the live server: the connections resource, MQTT
over WebSocket with a real paho-mqtt client (the platform's flow: connection → subscription → connect to the
returned URL → MQTT-subscribe to the subscriptionId), QoS 0 and 1, persistent sessions, keep-alive, token
expiry on the virtual clock, deletion, and the plain JSON stream with a websockets client."""
from __future__ import annotations

import json
import time

import httpx
import pytest
from amqtt.mqtt.connack import ConnackPacket
from amqtt.mqtt.connect import ConnectPacket, ConnectPayload, ConnectVariableHeader
from amqtt.mqtt.pingreq import PingReqPacket
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from tests.support.control import Control
from tests.support.mqtt_client import Mqtt

B = "/2017-09-01"
RINGING = "$.publications[?(@.content.state == 'ringing')]"
CALL = {"from": "+16135550123", "to": "2880"}


def connection(client: httpx.Client, headers: dict[str, str]) -> dict:
    response = client.post(f"{B}/connections", headers=headers, json={"transport": "websocket"})
    assert response.status_code == 201, response.text
    return response.json()


def subscription(client: httpx.Client, headers: dict[str, str], connection_id: str, **extra: str) -> dict:
    response = client.post(f"{B}/subscriptions", headers=headers, json={
        "transport": "websocket", "connectionId": connection_id, "topic": "platform-api-media", **extra})
    assert response.status_code == 201, response.text
    return response.json()


def token_of(headers: dict[str, str]) -> str:
    return headers["Authorization"].split(" ", 1)[1]


def ring(client: httpx.Client, admin: dict[str, str], to: str = "2880") -> None:
    Control(client, admin).ring(to, caller=CALL["from"])


def wait_until(predicate, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return predicate()


def test_connections_resource_and_websocket_subscriptions(client: httpx.Client, server, admin, alice, erin) -> None:
    conn = connection(client, alice)
    assert set(conn) == {"connectionId", "transport", "url", "expiryDateTime", "accountId", "principalId",
                         "createdOn", "_links"}
    assert conn["transport"] == "websocket"
    assert conn["url"] == f"{server.url.replace('http://', 'ws://')}/_callyard/mqtt/{conn['connectionId']}"
    assert conn["_links"]["self"] == f"{B}/connections/{conn['connectionId']}"
    assert client.get(f"{B}/connections/{conn['connectionId']}", headers=alice).json()["url"] == conn["url"]
    assert client.get(f"{B}/connections", headers=alice).json()["count"] == 1
    assert client.get(f"{B}/connections/{conn['connectionId']}", headers=erin).status_code == 404
    bad = client.post(f"{B}/connections", headers=alice, json={"transport": "carrier-pigeon"})
    assert bad.status_code == 400 and bad.json()["name"] == "ValidationError"

    def refused(headers: dict[str, str], **body: str) -> None:
        response = client.post(f"{B}/subscriptions", headers=headers, json={
            "transport": "websocket", "topic": "platform-api-media", **body})
        assert response.status_code == 400 and response.json()["name"] == "InvalidConnectionId", response.text

    refused(alice)                                                    # no connectionId
    refused(alice, connectionId="00000000-0000-4000-8000-000000000000")  # unknown
    refused(admin, connectionId=conn["connectionId"])                 # alice's, not the admin's
    sub = subscription(client, alice, conn["connectionId"])
    assert sub["connectionId"] == conn["connectionId"] and sub["transport"] == "websocket"

    deleted = client.delete(f"{B}/connections/{conn['connectionId']}", headers=alice)
    assert deleted.status_code == 200 and deleted.json()["connectionId"] == conn["connectionId"]
    assert client.get(f"{B}/connections/{conn['connectionId']}", headers=alice).status_code == 404
    moved = client.put(f"{B}/subscriptions/{sub['subscriptionId']}", headers=alice, json={"methodFilter": "PUT"})
    assert moved.status_code == 400 and moved.json()["name"] == "InvalidConnectionId"  # its connection is gone


def test_ringing_publication_over_mqtt(client: httpx.Client, admin) -> None:
    conn = connection(client, admin)
    sub = subscription(client, admin, conn["connectionId"], publicationFilter=RINGING)
    with Mqtt(conn["url"], token_of(admin)) as mq:
        rc, flags = mq.wait_connack()
        assert not rc.is_failure and flags.session_present is False
        assert [code.value for code in mq.subscribe(sub["subscriptionId"], qos=0)] == [0]
        ring(client, admin)
        message = mq.message()
        assert message.topic == sub["subscriptionId"] and message.qos == 0
        publication = json.loads(message.payload)
        assert set(publication) == {"publicationId", "topic", "method", "subject", "content", "publisher",
                                    "subscription", "notification"}
        content = publication["content"]
        assert publication["topic"] == "platform-api-media" and publication["method"] == "PUT"
        assert publication["subscription"] == {"subscriptionId": sub["subscriptionId"]}
        assert (content["state"], content["from"], content["to"], content["endpointId"]) == \
            ("ringing", "+16135550123", "2880", "2880")
        assert publication["subject"] == f"{B}/endpoints/2880/calls/{content['callId'].rsplit('/', 1)[1]}"
        assert client.post("/_callyard/sim/endpoints/2880/answer", headers=admin).status_code == 200
        assert mq.quiet(0.3)  # connected does not pass the filter: exactly the ringing publication arrived


def test_one_publication_reaches_every_session_of_the_subscription(client: httpx.Client, admin) -> None:
    """Three clients of one connection on the same subscription, two at QoS 0 and one at QoS 1: each gets the
    publication once, with its own QoS (the QoS 0 packet is built once for both)."""
    conn = connection(client, admin)
    sub = subscription(client, admin, conn["connectionId"], publicationFilter=RINGING)
    clients = [Mqtt(conn["url"], token_of(admin), client_id=f"fan-{n}") for n in range(3)]
    try:
        for n, mq in enumerate(clients):
            mq.wait_connack()
            assert [c.value for c in mq.subscribe(sub["subscriptionId"], qos=1 if n == 2 else 0)] == \
                [1 if n == 2 else 0]
        ring(client, admin)
        messages = [mq.message() for mq in clients]
        assert [m.qos for m in messages] == [0, 0, 1]
        assert len({m.payload for m in messages}) == 1
        assert json.loads(messages[0].payload)["content"]["state"] == "ringing"
        assert all(mq.quiet(0.2) for mq in clients)   # once each
    finally:
        for mq in clients:
            mq.close()


def test_connect_is_refused_without_a_valid_token(client: httpx.Client, admin, alice) -> None:
    conn = connection(client, admin)
    for password, reason in (("not-a-token", "Bad user name or password"), (None, "Not authorized"),
                             (token_of(alice), "Not authorized")):  # alice's token, the admin's connection
        mq = Mqtt(conn["url"], password)
        rc, _ = mq.wait_connack()
        assert rc.is_failure and str(rc) == reason, (password, str(rc))
        assert mq.disconnected.wait(3)
        mq.close()
    # The token may come as a bearer header on the upgrade instead of the password.
    with Mqtt(conn["url"], None, headers={"Authorization": f"Bearer {token_of(admin)}"}) as mq:
        assert not mq.wait_connack()[0].is_failure


def test_another_principals_subscription_is_refused(client: httpx.Client, admin, alice, erin) -> None:
    admins = subscription(client, admin, connection(client, admin)["connectionId"], publicationFilter=RINGING)
    conn = connection(client, alice)
    mine = subscription(client, alice, conn["connectionId"], publicationFilter=RINGING)
    with Mqtt(conn["url"], token_of(alice)) as mq:
        assert not mq.wait_connack()[0].is_failure
        assert [c.is_failure for c in mq.subscribe(admins["subscriptionId"], qos=1)] == [True]
        assert [c.is_failure for c in mq.subscribe("#", qos=0)] == [True]
        assert [c.value for c in mq.subscribe(mine["subscriptionId"])] == [0]
        ring(client, admin)  # both subscriptions match; alice's session gets hers only
        assert json.loads(mq.message().payload)["subscription"]["subscriptionId"] == mine["subscriptionId"]
        assert mq.quiet(0.3)
    erins = connection(client, erin)
    with Mqtt(erins["url"], token_of(erin)) as mq:
        assert not mq.wait_connack()[0].is_failure
        assert [c.is_failure for c in mq.subscribe(mine["subscriptionId"])] == [True]
        ring(client, admin, "2881")
        assert mq.quiet(0.3)


def test_token_expiry_closes_the_session(client: httpx.Client, admin) -> None:
    conn = connection(client, admin)
    sub = subscription(client, admin, conn["connectionId"])
    mq = Mqtt(conn["url"], token_of(admin))
    assert not mq.wait_connack()[0].is_failure
    mq.subscribe(sub["subscriptionId"])
    Control(client, admin).advance(3700)
    assert mq.disconnected.wait(3)
    mq.close()
    again = Mqtt(conn["url"], token_of(admin))  # the same, expired, token
    assert str(again.wait_connack()[0]) == "Bad user name or password"
    again.close()


def test_qos1_and_a_persistent_session(client: httpx.Client, server, admin) -> None:
    conn = connection(client, admin)
    sub = subscription(client, admin, conn["connectionId"], publicationFilter=RINGING)
    sessions = server.app.state.mqtt.sessions
    mq = Mqtt(conn["url"], token_of(admin), client_id="desk-1", clean_session=False, manual_ack=True)
    assert mq.wait_connack()[1].session_present is False
    assert [c.value for c in mq.subscribe(sub["subscriptionId"], qos=2)] == [1]  # QoS 2 is granted as 1
    ring(client, admin, "2880")
    first = mq.message()
    assert first.qos == 1 and first.dup is False
    session = next(s for key, s in sessions.items() if key[-1] == "desk-1")
    assert list(session.inflight) == [first.mid]     # not acknowledged yet
    mq.close(clean=False)                            # the socket drops, no PUBACK, no DISCONNECT
    assert wait_until(lambda: session.link is None)
    ring(client, admin, "2881")                      # arrives while the client is away
    assert len(session.backlog) == 1

    back = Mqtt(conn["url"], token_of(admin), client_id="desk-1", clean_session=False)
    assert back.wait_connack()[1].session_present is True   # no SUBSCRIBE needed
    again, later = back.message(), back.message()
    assert (again.mid, again.dup, json.loads(again.payload)["content"]["to"]) == (first.mid, True, "2880")
    assert (later.qos, later.dup, json.loads(later.payload)["content"]["to"]) == (1, False, "2881")
    assert wait_until(lambda: not session.inflight and not session.backlog)  # both acknowledged
    back.close()                                     # a clean DISCONNECT: the persistent session stays
    assert wait_until(lambda: session.link is None) and sessions[session.key] is session
    clean = Mqtt(conn["url"], token_of(admin), client_id="desk-1", clean_session=True)
    assert clean.wait_connack()[1].session_present is False
    clean.close()
    assert wait_until(lambda: not any(key[1] == "desk-1" for key in sessions))


def test_deleting_the_subscription_or_the_connection_stops_delivery(client: httpx.Client, admin) -> None:
    conn = connection(client, admin)
    sub = subscription(client, admin, conn["connectionId"], publicationFilter=RINGING)
    with Mqtt(conn["url"], token_of(admin)) as mq:
        mq.wait_connack()
        mq.subscribe(sub["subscriptionId"], qos=1)
        assert client.delete(f"{B}/subscriptions/{sub['subscriptionId']}", headers=admin).status_code == 200
        ring(client, admin)
        assert mq.quiet(0.3)
        assert client.delete(f"{B}/connections/{conn['connectionId']}", headers=admin).status_code == 200
        assert mq.disconnected.wait(2)


def test_keep_alive_and_ping_with_a_raw_websocket(client: httpx.Client, admin) -> None:
    conn = connection(client, admin)
    header = ConnectVariableHeader(proto_name="MQTT", proto_level=4, keep_alive=1)
    header.clean_session_flag = True
    header.password_flag = True
    header.username_flag = True
    connect = ConnectPacket(variable_header=header,
                            payload=ConnectPayload(client_id="raw", username="x", password=token_of(admin)))
    with ws_connect(conn["url"], subprotocols=["mqtt"]) as ws:
        assert ws.subprotocol == "mqtt"
        raw = connect.to_bytes()
        ws.send(raw[:5])   # packets need not line up with WebSocket messages
        ws.send(raw[5:])
        assert ws.recv(timeout=3) == ConnackPacket.build(0, 0).to_bytes()
        ws.send(PingReqPacket().to_bytes())
        assert ws.recv(timeout=3) == b"\xd0\x00"  # PINGRESP
        began = time.monotonic()
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)                    # silent for 1.5 × keep-alive: closed
        assert 1.2 < time.monotonic() - began < 5


def test_json_stream(client: httpx.Client, server, admin, alice) -> None:
    conn = connection(client, admin)
    sub = subscription(client, admin, conn["connectionId"], publicationFilter=RINGING)
    base = server.url.replace("http://", "ws://") + "/_callyard/stream"
    with ws_connect(f"{base}?token={token_of(admin)}&subscriptionId={sub['subscriptionId']}") as by_sub, \
            ws_connect(f"{base}?connectionId={conn['connectionId']}",
                       additional_headers={"Authorization": admin["Authorization"]}) as by_conn:
        time.sleep(0.05)
        ring(client, admin)
        for ws in (by_sub, by_conn):
            publication = json.loads(ws.recv(timeout=3))
            assert publication["content"]["state"] == "ringing"
            assert publication["subscription"] == {"subscriptionId": sub["subscriptionId"]}
        client.post("/_callyard/sim/endpoints/2880/answer", headers=admin)
        with pytest.raises(TimeoutError):
            by_sub.recv(timeout=0.3)
        client.delete(f"{B}/connections/{conn['connectionId']}", headers=admin)
        with pytest.raises(ConnectionClosed) as closed:
            by_conn.recv(timeout=3)
        assert closed.value.rcvd.code == 4404

    for query, code in ((f"token=nope&subscriptionId={sub['subscriptionId']}", 4401),
                        (f"subscriptionId={sub['subscriptionId']}", 4401),
                        (f"token={token_of(alice)}&subscriptionId={sub['subscriptionId']}", 4404),
                        (f"token={token_of(admin)}", 4400)):
        with ws_connect(f"{base}?{query}") as ws:
            with pytest.raises(ConnectionClosed) as closed:
                ws.recv(timeout=3)
            assert closed.value.rcvd.code == code, query


def test_the_fan_out_encoder_writes_what_json_dumps_writes() -> None:
    from callyard.delivery.live import EnvelopeEncoder

    encoder = EnvelopeEncoder()
    publication = {"publicationId": "p1", "topic": "platform-api-media", "method": "PUT", "subject": "/x",
                   "content": {"a": [1, {"b": "é\u2028\"q"}], "n": None}, "publisher": {"accountId": "a"}}
    for sub_id, correlation in (("s1", "c1"), ("s\"2", "c1"), ("s3", "c2")):
        envelope = {**publication, "subscription": {"subscriptionId": sub_id},
                    "notification": {"createdOn": "2026-01-01T00:00:00.000Z", "correlationId": correlation}}
        assert encoder.encode(envelope) == json.dumps(envelope, separators=(",", ":"))
    for odd in ({"subscription": {"subscriptionId": "z"}}, {"subscription": {"subscriptionId": "z"}, "a": 1},
                {"a": 1, "subscription": {"subscriptionId": "z"}}, {"a": 1}):
        assert EnvelopeEncoder().encode(odd) == json.dumps(odd, separators=(",", ":"))
