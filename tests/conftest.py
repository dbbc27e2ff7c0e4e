"""A live callyard server on a free port (uvicorn in a thread) and real httpx clients against it.

The main server uses the in-memory store and a manual clock (expiry tests move it); every test starts from
the tenant baseline through ``POST /_callyard/reset`` with the operator token (``OPERATOR``): every server
``start_server`` starts has that operator token, so twin-wide control operations (reset, the clock, state)
take ``OPERATOR_HEADERS`` (the ``operator`` fixture).
"""
from __future__ import annotations

import socket
import threading
import time
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import uvicorn

from callyard.app import build_app
from callyard.config import Settings
from callyard.server import uvicorn_config

PASSWORD = "callyard"
ACME = "ac3e0000-0000-4000-8000-00000000ac3e"
GLOBEX = "610be000-0000-4000-8000-0000000610be"
PARTNER = "5a3c1e8e-0f7a-4c61-9b57-1d0c2a6f0001"
ALICE = "ac3e0000-0000-4000-8000-000000002880"
BOB = "ac3e0000-0000-4000-8000-000000002881"
ERIN = "610be000-0000-4000-8000-000000002880"
APP_ID = "c1a0d0e0-5a5a-4e5e-9d9d-00000000a001"
APP_SECRET = "callyard-demo-secret"
OPERATOR = "callyard-test-operator-token"
OPERATOR_HEADERS = {"Authorization": f"Bearer {OPERATOR}"}


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LiveServer:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = build_app(settings)
        self.server = uvicorn.Server(uvicorn_config(self.app, settings, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://{settings.host}:{settings.port}"

    def __enter__(self) -> "LiveServer":
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("callyard did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: Any) -> None:
        self.server.should_exit = True
        self.thread.join(10)


def start_server(**overrides: Any) -> LiveServer:
    settings = Settings(port=free_port(), **{"ephemeral": True, "operator_token": OPERATOR, **overrides})
    return LiveServer(settings)


@pytest.fixture(scope="session")
def server() -> Iterator[LiveServer]:
    with start_server(clock="manual") as live:
        yield live


@pytest.fixture(scope="session")
def base_url(server: LiveServer) -> str:
    return server.url


@pytest.fixture
def client(base_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=base_url, timeout=10) as c:
        reset = c.post("/_callyard/reset", headers=OPERATOR_HEADERS)
        assert reset.status_code == 200, reset.text
        yield c


def token(client: httpx.Client, username: str, password: str = PASSWORD, **extra: str) -> str:
    response = client.post("/2017-09-01/token", data={"grant_type": "password", "username": username,
                                                      "password": password, **extra})
    assert response.status_code == 201, response.text
    return response.json()["access_token"]


def auth(access_token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {access_token}"}


@pytest.fixture
def operator() -> dict[str, str]:
    """Headers with the test servers' operator token: twin-wide control operations (reset, clock, state)."""
    return dict(OPERATOR_HEADERS)


@pytest.fixture
def as_user(client: httpx.Client):
    """``as_user("alice@acme.example")`` → headers with a fresh token of that demo user."""
    return lambda username: auth(token(client, username))


@pytest.fixture
def admin(as_user):
    return as_user("admin@acme.example")


@pytest.fixture
def alice(as_user):
    return as_user("alice@acme.example")


@pytest.fixture
def bob(as_user):
    return as_user("bob@acme.example")


@pytest.fixture
def carol(as_user):
    return as_user("carol@acme.example")


@pytest.fixture
def erin(as_user):
    return as_user("erin@globex.example")


@pytest.fixture
def partner(as_user):
    return as_user("partner@callyard.example")


def png_bytes(size: tuple[int, int] = (400, 300), color: str = "red") -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.fixture
def tmp_data(tmp_path: Path) -> Path:
    return tmp_path / "data"
