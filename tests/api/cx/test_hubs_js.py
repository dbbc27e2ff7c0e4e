"""The CX SDK's hubs with Microsoft's own JavaScript client (npm ``signalr`` 2.4.3, jQuery 3 on jsdom, driven by
Node) over each transport, written as Mitel's samples are (``$.hubConnection('<server>/miccsdk', {qs:
'sessionid=Bearer …'})``, proxies and handlers after ``start()``): monitors, a refused monitor (403 in the hub
error's data), the events an employee's login and logout push, and the connection ended when its token expires
or stops being valid (its user removed). ``make test`` installs the npm project of tests/delivery/signalr/js
(``npm ci``)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from tests.api.cx.conftest import ALICE, ALICE_VOICE, SUPPORT, WEB_CHAT, cx_token
from tests.conftest import ALICE as ALICE_USER
from tests.conftest import auth, start_server, token
from tests.support.control import Control

SCRIPT = Path(__file__).parent / "hubs_client.js"
MODULES = Path(__file__).parents[2] / "delivery" / "signalr" / "js" / "node_modules"


@pytest.fixture(scope="module")
def twin() -> Iterator[Any]:
    with start_server(clock="manual") as live:
        yield live


def node(url: str, bearer: str, transport: str, *mode: str) -> subprocess.Popen[str]:
    executable = shutil.which("node")
    if executable is None or not (MODULES / "signalr").is_dir():
        pytest.fail("the JavaScript client is not installed: run `make test` "
                    "(or `npm ci` in tests/delivery/signalr/js)")
    return subprocess.Popen([executable, str(SCRIPT), url, bearer, transport, SUPPORT, WEB_CHAT, *mode],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "NODE_PATH": str(MODULES)})


def steps_of(process: subprocess.Popen[str], until: str | None = None) -> dict[str, dict[str, Any]]:
    """The JSON steps the script prints, up to ``until`` (the script keeps running) or to its end."""
    assert process.stdout is not None
    steps: dict[str, dict[str, Any]] = {}
    for line in process.stdout:
        if line.startswith("{"):
            step = json.loads(line)
            steps[step.pop("step")] = step
            assert "error" not in steps, steps
            if step_name_is(steps, until):
                return steps
    assert process.wait(60) == 0, (steps, process.stderr.read() if process.stderr else "")
    return steps


def step_name_is(steps: dict[str, dict[str, Any]], name: str | None) -> bool:
    return name is not None and name in steps


@pytest.mark.parametrize("transport", ["webSockets", "serverSentEvents", "longPolling", "auto"])
def test_mitels_sample_pattern_over_each_transport(twin: Any, transport: str) -> None:
    with httpx.Client(base_url=twin.url, timeout=10) as http:
        Control(http, auth(token(http, "admin@acme.example"))).reset()
        process = node(twin.url, cx_token(http, "alice"), transport)
        steps = steps_of(process)
    assert steps["started"] == {"transport": "webSockets" if transport == "auto" else transport, "state": 1}
    assert steps["monitoring"]["refused"]["data"] == {"statusCode": 403, "errorCode": "InsufficientPermissions"}
    received = steps["received"]
    assert (received["login"], received["logout"]) == (200, 200)
    mine = [e for e in received["events"] if e[0] == "employeeStateChanged"]
    assert mine == [["employeeStateChanged", ALICE, "Available"], ["employeeStateChanged", ALICE, "Offline"]]
    queue = [e for e in received["events"] if e[0] == "queueStateChanged"]
    assert queue == [["queueStateChanged", SUPPORT, 1], ["queueStateChanged", SUPPORT, 0]]
    agent = [e for e in received["events"] if e[0] == "onAgentStateChanged"]
    assert agent == [["onAgentStateChanged", ALICE_VOICE, "Idle"], ["onAgentStateChanged", ALICE_VOICE, "Offline"]]
    assert steps["stopped"]["state"] == 4


@pytest.mark.parametrize("how", ["expired", "revoked"])
@pytest.mark.parametrize("transport", ["webSockets", "serverSentEvents", "longPolling"])
def test_the_connection_ends_with_its_token(twin: Any, transport: str, how: str) -> None:
    with httpx.Client(base_url=twin.url, timeout=10) as http:
        control = Control(http, lambda: auth(token(http, "admin@acme.example")))
        control.reset()
        process = node(twin.url, cx_token(http, "alice"), transport, "expire")
        try:
            steps_of(process, until="waiting")
            if how == "expired":
                control.advance(3601)                      # past the token's hour, on the twin's clock
            else:                                          # the token's user is removed: it no longer verifies
                admin = auth(token(http, "admin@acme.example"))
                deleted = http.delete(f"/2017-09-01/users/{ALICE_USER}", headers=admin)
                assert deleted.status_code in (200, 204), deleted.text
            steps = steps_of(process)
        finally:
            process.kill()
            control.reset()
    ended = steps["ended"]
    assert ended["state"] == 4 and ended["seconds"] < 5, ended
    assert any("TokenExpired" in error for error in ended["errors"]), ended
