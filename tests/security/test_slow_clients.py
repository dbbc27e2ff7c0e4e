"""Issue 13, finding 5: slow and abundant clients, against a server started with a 1.5 s header timeout and a
cap of 20 connections: a client trickling its headers (or sending nothing) gets 408 and is closed; beyond the
cap a connection is answered 503 TooManyConnections at once; once they are gone the server serves again; a
WebSocket held open longer than the header timeout keeps working."""
from __future__ import annotations

import json
import socket
import time
from typing import Iterator

import httpx
import pytest
from websockets.sync.client import connect as ws_connect

from tests.conftest import LiveServer, auth, start_server, token
from tests.support.control import Control

B = "/2017-09-01"
TIMEOUT = 1.5
CAP = 20


@pytest.fixture(scope="module")
def guarded() -> Iterator[LiveServer]:
    with start_server(clock="manual", header_timeout=TIMEOUT, max_connections=CAP) as live:
        yield live


def dial(live: LiveServer) -> socket.socket:
    sock = socket.create_connection((live.settings.host, live.settings.port), timeout=5)
    return sock


def answer(sock: socket.socket) -> tuple[int, dict, bytes]:
    data = b""
    while True:
        chunk = sock.recv(65536)
        if not chunk:
            break
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body), head


def test_trickled_headers_are_cut_off(guarded: LiveServer) -> None:
    sock = dial(guarded)
    began = time.monotonic()
    sock.sendall(b"GET /_callyard/health HTTP/1.1\r\nHost: x\r\n")
    try:
        for i in range(20):           # one header line every 0.3 s: never complete
            time.sleep(0.3)
            sock.sendall(f"X-Slow-{i}: y\r\n".encode())
    except OSError:
        pass                           # the server closed the connection: what this test wants
    status, body, head = answer(sock)
    took = time.monotonic() - began
    assert status == 408 and body["name"] == "RequestTimeout" and b"connection: close" in head
    assert TIMEOUT - 0.1 < took < TIMEOUT + 1.5
    sock.close()


def test_a_connection_that_sends_nothing_is_closed(guarded: LiveServer) -> None:
    sock = dial(guarded)
    began = time.monotonic()
    status, body, _ = answer(sock)
    assert status == 408 and TIMEOUT - 0.1 < time.monotonic() - began < TIMEOUT + 1.5
    sock.close()


def test_connection_cap(guarded: LiveServer) -> None:
    time.sleep(TIMEOUT + 0.5)         # earlier tests' connections are gone
    held = [dial(guarded) for _ in range(CAP)]
    try:
        time.sleep(0.2)
        extra = dial(guarded)
        began = time.monotonic()
        status, body, head = answer(extra)
        assert status == 503 and body["name"] == "TooManyConnections" and b"retry-after: 1" in head
        assert time.monotonic() - began < 0.5
        extra.close()
    finally:
        for sock in held:
            sock.close()
    time.sleep(0.3)
    with httpx.Client(base_url=guarded.url, timeout=5) as c:
        assert c.get("/_callyard/health").status_code == 200


def test_normal_clients_and_long_lived_websockets_are_unaffected(guarded: LiveServer) -> None:
    time.sleep(0.2)
    with httpx.Client(base_url=guarded.url, timeout=5) as c:
        admin = auth(token(c, "admin@acme.example"))
        conn = c.post(f"{B}/connections", headers=admin, json={"transport": "websocket"}).json()
        sub = c.post(f"{B}/subscriptions", headers=admin, json={
            "transport": "websocket", "connectionId": conn["connectionId"], "topic": "platform-api-media"}).json()
        base = guarded.url.replace("http://", "ws://") + "/_callyard/stream"
        with ws_connect(f"{base}?token={admin['Authorization'][7:]}&subscriptionId={sub['subscriptionId']}") as ws:
            time.sleep(TIMEOUT + 0.7)  # longer than the header timeout
            Control(c, admin).ring("2880")
            assert json.loads(ws.recv(timeout=3))["content"]["state"] == "ringing"
        # keep-alive requests spread over more than the header timeout on one connection
        for _ in range(3):
            assert c.get("/_callyard/health").status_code == 200
            time.sleep(TIMEOUT / 2)
