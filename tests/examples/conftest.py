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


@pytest.fixture(scope="module")
def twin() -> Iterator[LiveServer]:
    with start_server(strict_app_header=True) as live:
        yield live


@pytest.fixture
def control(twin: LiveServer) -> Iterator[httpx.Client]:
    """An ACCOUNT_ADMIN client of the twin, after a reset (which also clears the audit)."""
    with httpx.Client(base_url=twin.url, timeout=10, headers={"X-Mitel-App": TEST_APP}) as client:
        reset = client.post("/_callyard/reset", headers=auth(token(client, "admin@acme.example")))
        assert reset.status_code == 200, reset.text
        client.headers.update(auth(token(client, "admin@acme.example")))
        yield client


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
