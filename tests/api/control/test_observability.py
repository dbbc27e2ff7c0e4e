"""Seeing what happens (issue 14 item 12): the server logs calls, agent state and webhook deliveries in one
line each (text or JSON; the access log only with --access-log, never with --quiet), agent state is readable
over HTTP, and a scenario run without a terminal prints progress lines."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from callyard.cli.main import main
from tests.conftest import OPERATOR, OPERATOR_HEADERS, ALICE, auth, free_port, token
from tests.support.receiver import Receiver

B = "/2017-09-01"
SRC = Path(__file__).resolve().parents[3] / "src"


def test_calls_agents_and_deliveries_are_logged_one_line_each(client: httpx.Client, admin,
                                                              caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with Receiver() as receiver:
        sub = client.post(f"{B}/subscriptions", headers=admin, json={
            "applicationId": "3f1c0d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f", "deviceId": receiver.url,
            "transport": "webhook", "topic": "platform-api-media", "subjectFilter": f"{B}/endpoints/2881",
            "publicationFilter": "$.publications[?(@.content.state == 'ringing')]"})
        assert sub.status_code == 201, sub.text
        placed = client.post("/_callyard/sim/calls", json={"from": "+16135550123", "to": "2881"}, headers=admin)
        assert placed.status_code == 201
        call_id = placed.json()["callId"]
        assert client.post("/_callyard/sim/endpoints/2881/answer", headers=admin).status_code == 200
        assert client.post("/_callyard/clock/advance", json={"seconds": 7}, headers=OPERATOR_HEADERS).status_code == 200
        assert client.post("/_callyard/sim/endpoints/2881/hangup", headers=admin).status_code == 200
        assert client.post(f"/_callyard/sim/agents/{ALICE}", json={"loggedIn": True}, headers=admin).status_code == 200
        receiver.wait_for(1)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not any("delivered" in r.getMessage() for r in caplog.records):
            time.sleep(0.05)
    lines = [r.getMessage() for r in caplog.records if r.name == "callyard.activity"]
    bobs = [line for line in lines if f"call {call_id}" in line and " on 2881 " in line]
    assert [line.split(" on 2881 ")[1].split(":")[0] for line in bobs] == ["rang", "answered", "ended"], lines
    assert "+16135550123 → 2881" in bobs[0] and "talked 7 s" in bobs[-1]
    assert f"agent {ALICE} ready" in lines
    [record] = [r for r in caplog.records if r.name == "callyard.activity" and "rang" in r.getMessage()
                and " on 2881 " in r.getMessage()]
    assert (record.callId, record.endpoint, record.state) == (call_id, "2881", "ringing")   # type: ignore[attr-defined]
    delivered = [r.getMessage() for r in caplog.records if r.name == "callyard.delivery.webhooks"]
    assert any("delivered to " + receiver.url in line and sub.json()["subscriptionId"] in line for line in delivered)


def test_json_logs_and_quiet_access_log(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "server.log"
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    with open(log, "wb") as out:
        process = subprocess.Popen([sys.executable, "-m", "callyard.cli.main", "serve", "--port", str(port),
                                    "--ephemeral", "--log-format", "json", "--quiet"], stdout=out,
                                   stderr=subprocess.STDOUT, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        with httpx.Client(base_url=url, timeout=10) as c:
            deadline = time.monotonic() + 30
            while True:
                try:
                    if c.get("/_callyard/health").status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            admin = auth(token(c, "admin@acme.example"))
            assert c.post("/_callyard/sim/calls", json={"from": "+16135550123", "to": "2881"},
                          headers=admin).status_code == 201
            time.sleep(0.5)
    finally:
        process.terminate()
        process.wait(10)
    records = []
    for line in log.read_text().splitlines():
        if line.startswith("{"):
            records.append(json.loads(line))
    rang = [r for r in records if r.get("logger") == "callyard.activity" and r.get("state") == "ringing"
            and r.get("endpoint") == "2881"]
    assert len(rang) == 1 and rang[0]["level"] == "INFO" and rang[0]["from"] == "+16135550123"
    assert rang[0]["message"].startswith("call ") and rang[0]["callId"]
    assert not [r for r in records if r.get("logger") == "uvicorn.access"]   # --quiet: no access log
    assert all(line.startswith("{") or not line.strip() or line.startswith(("callyard ", "  "))
               for line in log.read_text().splitlines())                  # JSON, besides the start banner


def test_the_access_log_is_off_unless_asked_for() -> None:
    from callyard.cli.main import access_log, parse_args

    assert access_log(parse_args(["serve"])) is False
    assert access_log(parse_args(["serve", "--access-log"])) is True
    assert access_log(parse_args(["serve", "--access-log", "--quiet"])) is False


def test_agent_state_is_readable(client: httpx.Client, admin, alice, bob) -> None:
    url = f"/_callyard/sim/agents/{ALICE}"
    before = client.get(url, headers=admin)
    assert before.status_code == 200, before.text
    assert (before.json()["loggedIn"], before.json()["ready"]) == (False, False)
    assert [q["number"] for q in before.json()["queues"]] == ["5000"]
    changed = client.post(url, json={"loggedIn": True, "ready": False, "reason": "Lunch", "skills": {"billing": 5}},
                          headers=admin)
    assert changed.status_code == 200
    after = client.get(url, headers=admin).json()
    assert (after["loggedIn"], after["ready"], after["reason"], after["skills"]) == (True, False, "Lunch",
                                                                                    {"billing": 5})
    assert client.get("/_callyard/sim/agents/not-a-user", headers=admin).status_code == 404
    assert client.get(url, headers=alice).status_code == 403


def test_a_scenario_without_a_terminal_prints_progress_lines(client: httpx.Client, base_url: str, tmp_path: Path,
                                                              capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("name: progress\nduration: 20\ntraffic:\n  - every: 5\n    from: \"+1613555{rand:4}\"\n"
                    "    to: \"2882\"\n")
    code = main(["scenario", "run", str(path), "--virtual", "--seed", "2", "--server", base_url,
                 "--token", token(client, "admin@acme.example"), "--operator-token", OPERATOR])
    out = capsys.readouterr().out
    assert code == 0, out
    progress = [line for line in out.splitlines() if line.startswith("progress: ") and " s  placed " in line]
    assert 5 <= len(progress) <= 11, out
    assert progress[-1].startswith("progress: 20/20 s")
