"""examples/wallboard: the CX SDK wallboard run as a process (``--plain``: JSON lines) against a live twin. It
reads Queue Now and the agents' states over REST, then follows the hubs: an employee's login through the CX
API and an outside call to Support reach it live, as queue and agent changes."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Callable, Iterator

import httpx
import pytest

from tests.api.cx.conftest import API, CALLER, LOGIN, SUPPORT, cx_token
from tests.conftest import LiveServer, auth, start_server, token
from tests.examples.support import ROOT, App
from tests.support.control import Control

WALLBOARD = ROOT / "examples" / "wallboard" / "wallboard.py"
DAVE_VOICE = "ac3e0000-0000-4000-8000-0000cc00a002"


@pytest.fixture(scope="module")
def twin() -> Iterator[LiveServer]:
    with start_server() as live:
        yield live


def lines(app: App, event: str) -> list[dict[str, Any]]:
    return [json.loads(line) for line in app.lines if line.startswith("{") and f'"event":"{event}"' in line]


def test_the_wallboard_sees_live_changes(twin: LiveServer, launch: Callable[..., App]) -> None:
    with httpx.Client(base_url=twin.url, timeout=10) as http:
        control = Control(http, lambda: auth(token(http, "admin@acme.example")))
        control.reset()
        app = launch(Path(WALLBOARD), "--twin-url", twin.url, "--plain", "--duration", "12")
        ready = json.loads(app.wait_line(lambda line: '"event":"ready"' in line))
        assert ready == {"event": "ready", "queues": 5, "agents": 6, "agentMonitors": True}
        [snapshot] = lines(app, "snapshot")
        support = next(q for q in snapshot["queues"] if q["id"] == SUPPORT)
        assert (support["name"], support["loggedIn"], support["waiting"]) == ("Support", 0, 0)
        assert {a["state"] for a in snapshot["agents"]} == {"Offline"}

        dave = auth(cx_token(http, "dave"))
        assert http.put(f"{API}/employees/me/state", headers=dave, json=LOGIN).status_code == 200
        app.wait_line(lambda line: '"event":"agent"' in line and DAVE_VOICE in line and '"Available"' in line)
        app.wait_line(lambda line: '"event":"queue"' in line and '"loggedIn":1' in line)
        control.dial_in(CALLER, "5000")   # rings dave: Support's numbers and his state change live
        app.wait_line(lambda line: '"event":"agent"' in line and DAVE_VOICE in line and '"Offered"' in line)
        # every media: a web chat waits in Web Chat (carol is logged out), an open-media item in Open Media
        chat = http.post("/_callyard/sim/chats", headers=auth(token(http, "admin@acme.example")),
                         json={"name": "Zed Zero", "text": "Hello"}).json()
        conversation = json.loads(app.wait_line(lambda line: '"event":"conversation"' in line and '"Chat"' in line))
        assert (conversation["id"], conversation["queue"], conversation["from"]) == (
            chat["conversationId"], "Web Chat", "Zed Zero")
        app.wait_line(lambda line: '"event":"queue"' in line and '"Chat"' in line and '"waiting":1' in line)
        assert app.finish(30) == 0
        assert http.put(f"{API}/employees/me/state", headers=dave, json={"state": "Offline"}).status_code == 200
    [done] = lines(app, "done")
    assert done["changes"] == len(lines(app, "queue")) + len(lines(app, "agent")) + len(
        lines(app, "conversation")) + len(lines(app, "removed")) >= 4
    assert {q["name"] for q in lines(app, "queue")} == {"Support", "Web Chat"}   # only what changed
    assert lines(app, "queue")[-1]["byMedia"]["waiting"] == 1
    [snapshot] = lines(app, "snapshot")
    assert set(snapshot["byMedia"]) == {"Voice", "Chat", "Email", "Sms", "OpenMedia"}
