"""Issue 13, finding 4: input limits, through the real interfaces of a server started with small limits.

A request body over the limit is refused with 413 in the owning family's envelope before it is read and
before authentication (a declared Content-Length, and a chunked body that outgrows it); per-field limits on
chat messages; images whose declared size is too large are refused before decoding (400 InvalidImage); MQTT
refuses a packet larger than allowed (smaller before CONNECT); per-account quotas answer 409 QuotaExceeded.
Every refusal changes nothing."""
from __future__ import annotations

import base64
import json
import socket
import struct
import time
import zlib
from typing import Iterator

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from tests.conftest import ACME, ALICE, LiveServer, auth, png_bytes, start_server, token

B = "/2017-09-01"
LIMIT = 64 * 1024
CAROL = "ac3e0000-0000-4000-8000-000000002882"


@pytest.fixture(scope="module")
def limited() -> Iterator[LiveServer]:
    with start_server(clock="manual", max_body_bytes=LIMIT, max_json_bytes=LIMIT, quota_subscriptions=3,
                      quota_connections=2, quota_conversations=2) as live:
        yield live


@pytest.fixture
def c(limited: LiveServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=limited.url, timeout=10) as client:
        assert client.post("/_callyard/reset", headers=auth(token(client, "admin@acme.example"))).status_code == 200
        yield client


def raw_request(live: LiveServer, head: str, body: bytes = b"") -> tuple[int, bytes, float]:
    """Send ``head`` (and ``body``) on a plain socket; the status, the response and how long it took."""
    host, port = live.settings.host, live.settings.port
    began = time.monotonic()
    with socket.create_connection((host, port), timeout=5) as sock:
        sock.sendall(head.encode() + body)
        data = b""
        while b"\r\n\r\n" not in data or not data.rstrip().endswith(b"}"):
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    return int(data.split(b" ", 2)[1]), data, time.monotonic() - began


# ------------------------------------------------------------------------------------------- body limit
def test_declared_body_over_the_limit_is_refused_before_it_is_read_and_before_auth(c, limited) -> None:
    # 100 MB declared, nothing sent, no token: answered at once with 413 (not 401, not a timeout)
    status, data, took = raw_request(limited, f"POST {B}/accounts/{ACME}/users HTTP/1.1\r\nHost: x\r\n"
                                              "Content-Type: application/json\r\nContent-Length: 100000000\r\n\r\n")
    assert status == 413 and took < 2
    assert json.loads(data.split(b"\r\n\r\n", 1)[1]) == {
        "name": "PayloadTooLarge", "message": "the request body is larger than 65536 bytes"}
    # the control plane's envelope too
    status, data, _ = raw_request(limited, "POST /_callyard/sim/calls HTTP/1.1\r\nHost: x\r\n"
                                           "Content-Length: 99999999\r\n\r\n")
    assert status == 413 and b"PayloadTooLarge" in data


def test_chunked_body_that_outgrows_the_limit_is_refused_and_changes_nothing(c) -> None:
    admin = auth(token(c, "admin@acme.example"))
    users = len(c.get(f"{B}/accounts/{ACME}/users", headers=admin).json()["_embedded"]["items"])

    def chunks() -> Iterator[bytes]:
        yield b'{"email": "big@acme.example", "description": "'
        for _ in range(40):
            yield b"x" * 4096
        yield b'"}'

    r = c.post(f"{B}/accounts/{ACME}/users", headers={**admin, "content-type": "application/json"}, content=chunks())
    assert r.status_code == 413, r.text
    assert r.json() == {"name": "PayloadTooLarge", "message": f"the request body is larger than {LIMIT} bytes"}
    assert len(c.get(f"{B}/accounts/{ACME}/users", headers=admin).json()["_embedded"]["items"]) == users
    # just under the limit still works
    ok = c.post(f"{B}/accounts/{ACME}/users", headers=admin, json={"email": "ok@acme.example", "description": "y"})
    assert ok.status_code == 201, ok.text


# ------------------------------------------------------------------------------------------- per-field limits
def test_chat_attachments_are_limited(c) -> None:
    bob = auth(token(c, "bob@acme.example"))
    cid = c.post(f"{B}/conversations", headers=bob, json={"participants": [CAROL]}).json()["conversationId"]
    before = c.get(f"{B}/conversations/{cid}/messages", headers=bob).json()
    many = [{"name": f"f{i}.txt", "content": "aGk="} for i in range(11)]
    r = c.post(f"{B}/conversations/{cid}/messages", headers=bob, json={"body": "x", "attachments": many})
    assert r.status_code == 400 and "more than 10 items" in r.json()["message"], r.text
    big = base64.b64encode(b"\0" * (LIMIT // 2)).decode()  # fits the body limit; the per-field one is 1 MiB
    assert c.post(f"{B}/conversations/{cid}/messages", headers=bob,
                  json={"body": "x", "attachments": [{"name": "a.bin", "content": big}]}).status_code == 201
    r = c.post(f"{B}/conversations/{cid}/messages", headers=bob, json={"body": "x", "tag": "t" * 300})
    assert r.status_code == 400 and "tag" in r.json()["message"]
    after = c.get(f"{B}/conversations/{cid}/messages", headers=bob).json()
    assert len(after["_embedded"]["items"]) == len(before["_embedded"]["items"]) + 1  # only the valid one


def test_attachment_over_one_mebibyte_is_refused(server) -> None:
    # the default server's body limit (11 MiB) lets a 2 MiB attachment reach the per-field check
    with httpx.Client(base_url=server.url, timeout=20) as c:
        bob = auth(token(c, "bob@acme.example"))
        cid = c.post(f"{B}/conversations", headers=bob, json={"participants": [CAROL]}).json()["conversationId"]
        big = base64.b64encode(b"\0" * (2 * 1024 * 1024)).decode()
        r = c.post(f"{B}/conversations/{cid}/messages", headers=bob,
                   json={"body": "x", "attachments": [{"name": "a.bin", "content": big}]})
        assert r.status_code == 400 and r.json()["name"] == "AttachmentTooLarge"
        assert c.get(f"{B}/conversations/{cid}/messages", headers=bob).json()["_embedded"]["items"][1:] == []


def _png_declaring(width: int, height: int) -> bytes:
    """A small valid PNG whose header declares ``width``×``height`` (a decompression bomb's shape)."""
    data = bytearray(png_bytes((8, 8)))
    ihdr = data.index(b"IHDR")
    data[ihdr + 4:ihdr + 12] = struct.pack(">II", width, height)
    crc = zlib.crc32(bytes(data[ihdr:ihdr + 17])) & 0xFFFFFFFF
    data[ihdr + 17:ihdr + 21] = struct.pack(">I", crc)
    return bytes(data)


@pytest.mark.parametrize("size", [(13000, 13000), (50000, 50000), (6000, 6000)])
def test_images_declaring_too_many_pixels_are_refused_before_decoding(c, size) -> None:
    admin = auth(token(c, "admin@acme.example"))
    before = c.get(f"{B}/users/{ALICE}", headers=admin).json().get("photoUrl")
    began = time.monotonic()
    r = c.put(f"{B}/users/{ALICE}/photo", headers={**admin, "content-type": "image/png"},
              content=_png_declaring(*size))
    assert r.status_code == 400 and r.json()["name"] == "InvalidImage", r.text
    assert ("declares" in r.json()["message"] or "too large" in r.json()["message"])
    assert time.monotonic() - began < 1
    assert c.get(f"{B}/users/{ALICE}", headers=admin).json().get("photoUrl") == before


# ------------------------------------------------------------------------------------------- MQTT packets
def _connection_url(c: httpx.Client, headers: dict[str, str]) -> str:
    r = c.post(f"{B}/connections", headers=headers, json={"transport": "websocket"})
    assert r.status_code == 201, r.text
    return r.json()["url"]


def test_mqtt_refuses_oversized_packets_before_connect(c) -> None:
    alice = auth(token(c, "alice@acme.example"))
    url = _connection_url(c, alice)
    # a CONNECT declaring 256 MB: the connection ends at once, nothing is buffered
    with ws_connect(url, subprotocols=["mqtt"]) as ws:
        ws.send(bytes([0x10, 0xFF, 0xFF, 0xFF, 0x7F]))
        began = time.monotonic()
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
        assert time.monotonic() - began < 2
    # 100 KiB before CONNECT (over the 64 KiB pre-CONNECT limit)
    with ws_connect(url, subprotocols=["mqtt"]) as ws:
        ws.send(bytes([0x10, 0x80, 0x80, 0x06]))   # remaining length 98,304
        with pytest.raises(ConnectionClosed):
            ws.recv(timeout=5)
    assert c.get("/_callyard/health").status_code == 200


# ------------------------------------------------------------------------------------------- quotas
def test_quotas_per_account(c) -> None:
    alice, bob = auth(token(c, "alice@acme.example")), auth(token(c, "bob@acme.example"))
    erin = auth(token(c, "erin@globex.example"))
    # connections: 2 per account
    _connection_url(c, alice)
    _connection_url(c, bob)
    r = c.post(f"{B}/connections", headers=alice, json={"transport": "websocket"})
    assert r.status_code == 409 and r.json()["name"] == "QuotaExceeded"
    assert len(c.get(f"{B}/connections", headers=alice).json()["_embedded"]["items"]) == 1
    _connection_url(c, erin)  # another account's quota is its own
    # subscriptions: 3 per account
    hook = {"applicationId": "c1a0d0e0-5a5a-4e5e-9d9d-00000000a001", "transport": "webhook",
            "deviceId": "http://127.0.0.1:9/hook", "topic": "platform-api-admin"}
    for headers in (alice, alice, bob):
        assert c.post(f"{B}/subscriptions", headers=headers, json=hook).status_code == 201
    r = c.post(f"{B}/subscriptions", headers=bob, json=hook)
    assert r.status_code == 409 and r.json()["name"] == "QuotaExceeded"
    assert len(c.get(f"{B}/subscriptions", headers=bob).json()["_embedded"]["items"]) == 1
    # deleting one makes room again
    first = c.get(f"{B}/subscriptions", headers=bob).json()["_embedded"]["items"][0]["subscriptionId"]
    assert c.delete(f"{B}/subscriptions/{first}", headers=bob).status_code in (200, 204)
    assert c.post(f"{B}/subscriptions", headers=bob, json=hook).status_code == 201
    # conversations: 2 per account
    for _ in range(2):
        assert c.post(f"{B}/conversations", headers=bob, json={"participants": [CAROL]}).status_code == 201
    r = c.post(f"{B}/conversations", headers=alice, json={"participants": [CAROL]})
    assert r.status_code == 409 and r.json()["name"] == "QuotaExceeded"
    assert c.get(f"{B}/conversations", headers=alice).json()["_embedded"]["items"] == []
