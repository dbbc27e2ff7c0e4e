"""The WebSockets and Server-Sent Events transports at the frame level (the ``websockets`` client and httpx
streams): init, keep-alive, hub results per transport, pushes, reconnect with replay, abort, revocation and a
WebSocket client that stops reading."""
from __future__ import annotations

import json
import secrets
import time
from typing import Any, Iterator
from urllib.parse import urlencode

import httpx
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.delivery.signalr.conftest import BASE, HubServer
from tests.delivery.signalr.test_protocol import ALICE, negotiate, q

BOB = {"sessionid": "Bearer tok-bob"}


def ws_url(hub_server: HubServer, endpoint: str, params: dict[str, str]) -> str:
    return f"ws://127.0.0.1:{hub_server.port}{BASE}/{endpoint}?{urlencode(params)}"


def frame(ws: ClientConnection, timeout: float = 5) -> Any:
    return json.loads(ws.recv(timeout=timeout))


def next_message_frame(ws: ClientConnection, timeout: float = 5) -> Any:
    """The next frame that is not a keep-alive."""
    deadline = time.monotonic() + timeout
    while True:
        body = frame(ws, max(0.1, deadline - time.monotonic()))
        if body != {}:
            return body


def push(http: httpx.Client, group: str, *args: Any, **extra: Any) -> int:
    response = http.post("/_test/push", json={"hub": "testHub", "method": "announced", "args": list(args),
                                              "group": group, **extra})
    return response.json()["reached"]


@pytest.fixture
def ws_session(hub_server: HubServer, http: httpx.Client) -> Iterator[tuple[ClientConnection, str, str]]:
    body = negotiate(http)
    token = body["ConnectionToken"]
    with connect(ws_url(hub_server, "connect", q(token, "webSockets"))) as ws:
        yield ws, token, body["ConnectionId"]


# ------------------------------------------------------------------------------------------ WebSockets
def test_websocket_init_start_invoke_keepalive_and_push(ws_session: Any, http: httpx.Client) -> None:
    ws, token, connection_id = ws_session
    assert frame(ws) == {"C": "0", "S": 1, "M": []}
    assert http.get(f"{BASE}/start", params=q(token, "webSockets")).json() == {"Response": "started"}
    ws.send(json.dumps({"H": "testhub", "M": "Add", "A": [1, 2], "I": 1}))
    assert next_message_frame(ws) == {"I": "1", "R": 3}          # the result comes back on the socket
    ws.send("{}")                                                  # a client keep-alive is ignored
    started = time.monotonic()
    assert frame(ws, 3) == {}                                      # server keep-alive (every 1 s here)
    assert time.monotonic() - started < 2
    ws.send(json.dumps({"H": "testhub", "M": "monitor", "A": ["ws"], "I": 2}))
    result, groups = next_message_frame(ws), next_message_frame(ws)
    if "I" not in result:
        result, groups = groups, result
    assert result == {"I": "2", "R": ["ws"]} and "G" in groups and groups["M"] == []
    assert push(http, "ws", "over", "the socket") == 1
    body = next_message_frame(ws)
    assert body["M"] == [{"H": "testHub", "M": "announced", "A": ["over", "the socket"]}] and int(body["C"]) >= 1
    listed = {c["id"]: c for c in http.get("/_test/connections").json()}
    assert listed[connection_id]["transport"] == "webSockets" and listed[connection_id]["started"] is True


def test_websocket_reconnect_replays_missed_messages(hub_server: HubServer, http: httpx.Client) -> None:
    body = negotiate(http)
    token = body["ConnectionToken"]
    with connect(ws_url(hub_server, "connect", q(token, "webSockets"))) as ws:
        frame(ws)
        ws.send(json.dumps({"H": "testHub", "M": "monitor", "A": ["again"], "I": 1}))
        push(http, "again", "first")
        while True:
            got = next_message_frame(ws)
            if got.get("M"):
                break
        cursor, groups = got["C"], got.get("G")
    for text in ("second", "third"):       # while the socket is down
        assert push(http, "again", text) == 1
    params = q(token, "webSockets", messageId=cursor, **({"groupsToken": groups} if groups else {}))
    with connect(ws_url(hub_server, "reconnect", params)) as ws:
        replay = next_message_frame(ws)
        assert [m["A"][0] for m in replay["M"]] == ["second", "third"] and "S" not in replay
        push(http, "again", "fourth")
        assert next_message_frame(ws)["M"][0]["A"] == ["fourth"]


def test_websocket_handshake_refusals(hub_server: HubServer, http: httpx.Client) -> None:
    token = negotiate(http)["ConnectionToken"]
    cases = [(q("garbage", "webSockets"), 400), (q(token, "webSockets", who=BOB), 403),
             ({**q(token, "webSockets"), "sessionid": ""}, 401), (q(token, "foreverFrame"), 400)]
    for params, status in cases:
        with pytest.raises(InvalidStatus) as refused:
            with connect(ws_url(hub_server, "connect", params)):
                pass
        assert refused.value.response.status_code == status


def test_abort_and_revocation_close_the_socket(hub_server: HubServer, http: httpx.Client) -> None:
    for end in ("abort", "revoke"):
        who = BOB if end == "revoke" else ALICE
        token = negotiate(http, who)["ConnectionToken"]
        with connect(ws_url(hub_server, "connect", q(token, "webSockets", who=who))) as ws:
            frame(ws)
            if end == "abort":
                assert http.post(f"{BASE}/abort", params=q(token, "webSockets")).status_code == 200
            else:
                assert http.post("/_test/revoke", params={"identity": "bob"}).json()["closed"] == 1
            frames = []
            with pytest.raises(ConnectionClosed) as closed:
                while True:
                    frames.append(json.loads(ws.recv(timeout=5)))
            if end == "revoke":     # the server ended it: an E tells the client to stop, not to reconnect
                assert frames[-1]["E"] == "the credential was revoked" and closed.value.rcvd.code == 1008
            else:
                assert all("E" not in f for f in frames) and closed.value.rcvd.code == 1000


def test_a_websocket_is_closed_when_its_credential_expires(hub_server: HubServer, http: httpx.Client) -> None:
    brief = {"sessionid": "Bearer tok-brief"}
    body = negotiate(http, brief)
    with connect(ws_url(hub_server, "connect", q(body["ConnectionToken"], "webSockets", who=brief))) as ws:
        assert frame(ws) == {"C": "0", "S": 1, "M": []}
        started = time.monotonic()
        frames = []
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                frames.append(json.loads(ws.recv(timeout=5)))
        assert 1.0 < time.monotonic() - started < 4
        assert frames[-1]["E"].startswith("TokenExpired")
        assert closed.value.rcvd is not None and closed.value.rcvd.code == 1008
        assert "expired" in closed.value.rcvd.reason
    assert body["ConnectionId"] not in {c["id"] for c in http.get("/_test/connections").json()}


def test_a_websocket_that_stops_reading_is_dropped_without_stalling_others(hub_server: HubServer,
                                                                           http: httpx.Client) -> None:
    slow_token = negotiate(http)["ConnectionToken"]
    with connect(ws_url(hub_server, "connect", q(slow_token, "webSockets")), max_queue=1, close_timeout=0.5,
                 max_size=None) as slow:
        frame(slow)
        slow.send(json.dumps({"H": "testHub", "M": "monitor", "A": ["firehose"], "I": 1}))
        time.sleep(0.3)
        fast_body = negotiate(http)
        with connect(ws_url(hub_server, "connect", q(fast_body["ConnectionToken"], "webSockets"))) as fast:
            frame(fast)
            big = secrets.token_urlsafe(150_000)     # 200 kB that compresses poorly
            started = time.monotonic()
            reached = http.post("/_test/push", json={"hub": "testHub", "method": "announced", "args": [big],
                                                     "group": "firehose", "repeat": 200}).json()["reached"]
            # the slow client never reads: the pushes never waited for it, and it was dropped along the way
            assert time.monotonic() - started < 5
            assert reached[0] == 1 and reached[-1] == 0
            assert push(http, "none", "direct", connection_ids=[fast_body["ConnectionId"]]) == 1
            assert next_message_frame(fast)["M"][0]["A"] == ["direct"]


# ------------------------------------------------------------------------------------------ Server-Sent Events
def events(response: httpx.Response) -> Iterator[str]:
    for line in response.iter_lines():
        if line.startswith("data: "):
            yield line[6:]


def test_server_sent_events_stream(hub_server: HubServer, http: httpx.Client) -> None:
    body = negotiate(http)
    token = body["ConnectionToken"]
    with httpx.Client(base_url=hub_server.url, timeout=10) as stream_client:
        with stream_client.stream("GET", f"{BASE}/connect", params=q(token, "serverSentEvents")) as response:
            assert response.status_code == 200
            assert response.headers["content-type"].startswith("text/event-stream")
            data = events(response)
            assert next(data) == "initialized"
            assert json.loads(next(data)) == {"C": "0", "S": 1, "M": []}
            assert http.get(f"{BASE}/start", params=q(token, "serverSentEvents")).json() == {"Response": "started"}
            result = http.post(f"{BASE}/send", params=q(token, "serverSentEvents"),
                               data={"data": json.dumps({"H": "testHub", "M": "monitor", "A": ["sse"], "I": 4})})
            assert result.json() == {"I": "4", "R": ["sse"]}      # SSE: the result is the /send body
            assert "G" in json.loads(next(data))
            assert next(data) == "{}"                              # keep-alive
            push(http, "sse", "streamed")
            got = json.loads(next(data))
            while got == {}:
                got = json.loads(next(data))
            assert got["M"] == [{"H": "testHub", "M": "announced", "A": ["streamed"]}]
            cursor = got["C"]
    push(http, "sse", "missed")
    with httpx.Client(base_url=hub_server.url, timeout=10) as stream_client:
        params = q(token, "serverSentEvents", messageId=cursor)
        with stream_client.stream("GET", f"{BASE}/reconnect", params=params) as response:
            data = events(response)
            assert next(data) == "initialized"
            got = json.loads(next(data))
            while got == {}:
                got = json.loads(next(data))
            assert got["M"][0]["A"] == ["missed"] and "S" not in got
