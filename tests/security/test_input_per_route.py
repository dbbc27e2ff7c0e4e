"""The input checks of issue 13 (findings 4 and 9) route by route: every route the app serves that takes a
body (the same enumeration as test_enumeration.py, so a new route is covered as soon as it exists) refuses,
without a token, a body declared larger than the limit with 413 PayloadTooLarge before reading it, and a JSON
body nested 1,000 deep with 400 InvalidJson — never a 401 first, never a 500, and the keep-alive connection
survives."""
from __future__ import annotations

import json
import re
import socket
import time
from typing import Iterator

import pytest

from callyard.config import Settings
from tests.conftest import LiveServer, start_server
from tests.security.test_enumeration import HTTP_ROUTES

WITH_BODY = [(m, p) for m, p in HTTP_ROUTES if m in ("POST", "PUT", "PATCH")]
DEEP = ("[" * 1000 + "]" * 1000).encode()


@pytest.fixture(scope="module")
def live() -> Iterator[LiveServer]:
    with start_server(clock="manual") as server:
        yield server


def concrete(path: str) -> str:
    return re.sub(r"\{\w+\}", "x", path)


def exchange(live: LiveServer, requests: list[bytes]) -> list[tuple[int, dict]]:
    """Send each request on ONE connection, reading each answer (by its content-length) before the next."""
    answers = []
    with socket.create_connection((live.settings.host, live.settings.port), timeout=5) as sock:
        buffer = b""
        for request in requests:
            sock.sendall(request)
            while b"\r\n\r\n" not in buffer:
                chunk = sock.recv(65536)
                assert chunk, "the server closed the connection"
                buffer += chunk
            head, _, buffer = buffer.partition(b"\r\n\r\n")
            length = int(re.search(rb"content-length: (\d+)", head, re.IGNORECASE).group(1))
            while len(buffer) < length:
                buffer += sock.recv(65536)
            body, buffer = buffer[:length], buffer[length:]
            answers.append((int(head.split(b" ", 2)[1]), json.loads(body)))
    return answers


@pytest.mark.parametrize("method,path", WITH_BODY, ids=[f"{m} {p}" for m, p in WITH_BODY])
def test_body_limits_before_auth(live: LiveServer, method: str, path: str) -> None:
    target = concrete(path)
    declared = (Settings.max_snapshot_bytes if target == "/_callyard/state" else Settings.max_body_bytes) + 1
    began = time.monotonic()
    deep = (f"{method} {target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(DEEP)}\r\n\r\n").encode() + DEEP
    large = (f"{method} {target} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
             f"Content-Length: {declared}\r\n\r\n").encode()
    (deep_status, deep_body), (large_status, large_body) = exchange(live, [deep, large])
    assert deep_status == 400 and deep_body["name"] == "InvalidJson", deep_body
    assert large_status == 413 and large_body["name"] == "PayloadTooLarge", large_body
    assert time.monotonic() - began < 2
