"""The example applications (examples/call_router, examples/call_control) run as real processes with the
project's interpreter against a live twin on the wall clock (their notifications, the simulator's profiles
and the SDK's retry spacing are real time), with ``--strict-app-header`` so a request without a valid
X-Mitel-App would fail."""
from __future__ import annotations

from pathlib import Path
from typing import Callable, Iterator

import httpx
import pytest

from tests.conftest import LiveServer, auth, start_server, token
from tests.examples.support import TEST_APP, App
from tests.support.control import Control


@pytest.fixture(scope="module")
def twin() -> Iterator[LiveServer]:
    with start_server(strict_app_header=True) as live:
        yield live


@pytest.fixture
def control(twin: LiveServer) -> Iterator[Control]:
    """The control plane of the twin as Acme's ACCOUNT_ADMIN, after a reset (which also clears the audit);
    ``control.http`` is an httpx client with the admin's token and a valid X-Mitel-App."""
    with httpx.Client(base_url=twin.url, timeout=10, headers={"X-Mitel-App": TEST_APP}) as client:
        Control(client, auth(token(client, "admin@acme.example"))).reset()
        client.headers.update(auth(token(client, "admin@acme.example")))
        yield Control(client)


@pytest.fixture
def launch() -> Iterator[Callable[..., App]]:
    started: list[App] = []

    def start(script: Path, *args: str, stdin: bool = False) -> App:
        app = App(script, list(args), stdin=stdin)
        started.append(app)
        return app

    yield start
    for app in started:
        app.stop()
