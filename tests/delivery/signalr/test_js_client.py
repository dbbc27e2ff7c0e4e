"""Microsoft's own classic SignalR client (npm ``signalr`` 2.4.3 = jquery.signalR, with jQuery 3 on jsdom),
driven by Node over each transport the way Mitel's samples use it: ``$.hubConnection(base, {qs: 'sessionid=
Bearer …'})``, ``start()``, and only then the hub proxy and its handlers (so ``connectionData`` is ``[]``).
``make test`` installs the npm project in tests/delivery/signalr/js with ``npm ci``."""
from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.delivery.signalr.conftest import HubServer

JS = Path(__file__).parent / "js"


def run_client(hub_server: HubServer, base: str, transport: str, *mode: str,
               token: str = "tok-alice") -> dict[str, dict[str, Any]]:
    node = shutil.which("node")
    if node is None or not (JS / "node_modules" / "signalr").is_dir():
        pytest.fail("the JavaScript client is not installed: run `make test` "
                    "(or `npm ci` in tests/delivery/signalr/js)")
    done = subprocess.run([node, str(JS / "client.js"), hub_server.url, base, token, transport, *mode],
                          capture_output=True, text=True, timeout=60, cwd=JS)
    steps = {}
    for line in done.stdout.splitlines():
        if line.startswith("{"):
            step = json.loads(line)
            steps[step.pop("step")] = step
    assert done.returncode == 0 and "error" not in steps, (done.stdout, done.stderr)
    return steps


@pytest.mark.parametrize("transport", ["webSockets", "serverSentEvents", "longPolling"])
def test_the_official_client_over_each_transport(hub_server: HubServer, http: httpx.Client, transport: str) -> None:
    steps = run_client(hub_server, "/miccsdk", transport)
    assert steps["started"]["transport"] == transport and steps["started"]["state"] == 1   # connected
    assert steps["started"]["clientProtocol"] == "2.1"
    invoked = steps["invoked"]
    assert invoked["sum"] == 5 and invoked["monitors"] == [f"js-{transport}"]
    assert invoked["refused"] == {"message": "You may not do that.", "data": {"code": 42}}
    assert invoked["crashed"] == "There was an error invoking Hub method 'testhub.crash'."
    assert invoked["counted"] == 11 and invoked["state"] == 11              # hub state round-tripped
    received = steps["received"]
    assert received["pushed"] == {"reached": 1}
    assert received["announced"] == [["from the server", transport], ["pinged", "back"]]
    assert steps["stopped"]["state"] == 4                                     # disconnected
    # stop() sent /abort: the server has ended the connection
    assert steps["started"]["id"] not in {c["id"] for c in http.get("/_test/connections").json()}


@pytest.mark.parametrize("transport", ["webSockets", "serverSentEvents"])
def test_the_official_client_reconnects_and_gets_what_it_missed(hub_server: HubServer, transport: str) -> None:
    steps = run_client(hub_server, "/miccsdk", transport, "reconnect")
    reconnected = steps["reconnected"]
    assert reconnected["reconnecting"] is True and reconnected["state"] == 1
    assert reconnected["announced"][-1] == ["while away", transport]
    assert [a for a in reconnected["announced"] if a[0] == "while away"] == [["while away", transport]]


@pytest.mark.parametrize("transport", ["webSockets", "serverSentEvents", "longPolling"])
def test_a_revoked_client_stops_at_once(hub_server: HubServer, transport: str) -> None:
    steps = run_client(hub_server, "/miccsdk", transport, "revoke", token="tok-bob")
    revoked = steps["revoked"]
    assert revoked["revoked"] == {"closed": 1} and revoked["state"] == 4 and revoked["seconds"] < 5
    assert any("the credential was revoked" in error for error in revoked["errors"])


@pytest.mark.parametrize("transport", ["webSockets", "serverSentEvents", "longPolling"])
def test_the_2_2_client_which_demands_its_own_protocol_version(hub_server: HubServer, http: httpx.Client,
                                                                transport: str) -> None:
    steps = run_client(hub_server, "/miccsdk", transport, "-", "signalr-2.2")
    assert steps["started"]["clientProtocol"] == "1.5" and steps["started"]["transport"] == transport
    assert steps["invoked"]["sum"] == 5 and steps["invoked"]["counted"] == 11
    assert steps["received"]["announced"] == [["from the server", transport], ["pinged", "back"]]
    assert steps["stopped"]["state"] == 4


def test_the_official_client_with_the_default_transport_choice(hub_server: HubServer) -> None:
    """Mitel's samples call start() without a transport: the client tries WebSockets first (TryWebSockets)."""
    steps = run_client(hub_server, "/miccsdk", "auto")
    assert steps["started"]["transport"] == "webSockets"
    assert steps["received"]["announced"] == [["from the server", "auto"], ["pinged", "back"]]


def test_the_official_client_with_a_trailing_slash_and_other_case(hub_server: HubServer) -> None:
    steps = run_client(hub_server, "/MiccSdk/", "longPolling")
    assert steps["invoked"]["sum"] == 5 and steps["received"]["pushed"] == {"reached": 1}
