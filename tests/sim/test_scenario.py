"""Scenario files and the simulator commands of the CLI, against the live test server (manual clock).

The scenario runs use ``--virtual``: the runner moves the server's clock itself, so minutes of traffic take
a few seconds and every duration is exact.
"""
from __future__ import annotations

import json
import random
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from callyard.cli.main import main
from callyard.sim.scenario import (ScenarioError, load_scenario, parse_scenario, plan_calls, render)
from tests.conftest import auth, start_server, token, OPERATOR, OPERATOR_HEADERS

EXAMPLES = Path(__file__).resolve().parents[2] / "examples" / "scenarios"
SUPPORT = "ac3e0000-0000-4000-8000-00000000500a"
ALICE = "ac3e0000-0000-4000-8000-000000002880"
DAVE = "ac3e0000-0000-4000-8000-000000000200"

MINIMAL = """\
name: minimal
duration: 10
traffic:
  - every: 5
    from: "+1613555{rand:4}"
    to: "2881"
"""


def admin(client: httpx.Client) -> dict[str, str]:
    return auth(token(client, "admin@acme.example"))


def records(client: httpx.Client) -> list[dict]:
    body = client.get("/2017-09-01/calls/records", params={"$top": "10000"}, headers=admin(client))
    assert body.status_code == 200, body.text
    return body.json()["_embedded"]["items"]


def tracking(record: dict) -> str:
    return json.loads(record["extraPbxData"])["callTrackingID"]


@pytest.fixture
def run(client: httpx.Client, base_url: str):
    """``run("call", "+1613…", "2881")`` → ``callyard call … --server <test server> --token <admin token>``
    (one sign-in per test: password hashing is the slow part of a command)."""
    access = token(client, "admin@acme.example")
    return lambda *args: main([*args, "--server", base_url, "--token", access, "--operator-token", OPERATOR])


# ============================================================================ the file
def test_minimal_scenario_parses_with_defaults() -> None:
    scenario = parse_scenario(MINIMAL)
    assert scenario.name == "minimal" and scenario.drain == 0 and scenario.maxErrorRate == 0.01
    stream = scenario.traffic[0]
    assert stream.gap == 5 and stream.to == {"2881": 1.0} and stream.arrival == "fixed"


@pytest.mark.parametrize("text, expected", [
    (MINIMAL.replace("duration: 10", "duration: 10\nspeed: 2"), ["3:1: speed: unknown field"]),
    (MINIMAL.replace("every: 5", "every: 5\n    rate: 2"), ["4:5: traffic[0]: give exactly one of every"]),
    (MINIMAL.replace("every: 5", "every: 0"), ["4:12: traffic[0].every: Input should be greater than 0"]),
    (MINIMAL.replace('"+1613555{rand:4}"', '"+1613{x}"'), ["5:11: traffic[0].from: unknown placeholder {x}"]),
    (MINIMAL.replace('"+1613555{rand:4}"', '"2880"'), ["5:11: traffic[0].from: from must give an outside number"]),
    (MINIMAL.replace('to: "2881"', "to: []"), ["6:9: traffic[0].to: name at least one number"]),
    (MINIMAL.replace("duration: 10", "duration: -1"), ["2:11: duration: Input should be greater than 0"]),
    (MINIMAL.replace("name: minimal\n", ""), ["1:1: name: Field required"]),
    (MINIMAL + "setup:\n  endpoints:\n    2880: {profile: {mode: answr}}\n",
     ["9:28: setup.endpoints.2880.profile.mode: Input should be 'manual', 'answer'"]),
    (MINIMAL + "setup:\n  endpoints:\n    '2880': {profile: {answerAfter: [8, 3]}}\n",
     ["9:37: setup.endpoints.2880.profile.answerAfter: a range [min, max] needs 0 <= min <= max"]),
    (MINIMAL + "setup:\n  endpoints:\n    '2880': {profile: {mode: busy, answerAfter: 3}}\n",
     ["9:23: setup.endpoints.2880.profile: answerAfter applies to mode answer, not busy"]),
    (MINIMAL + "setup:\n  agents:\n    - {user: alice@acme.example, skills: {billing: 500}}\n",
     ["9:52: setup.agents[0].skills.billing: Input should be less than or equal to 100"]),
    (MINIMAL + "    abandonAfter: [1, 2, 3]\n", ["7:19: traffic[0].abandonAfter: a range is [min, max]"]),
    (MINIMAL.replace("every: 5", "every: 5\n    start: 10"),
     ["4:3: traffic: traffic[0] starts at 10 s, not before the end"]),
    ("name: x\nduration: [\n", ["3:1: not valid YAML"]),
    ("- just\n- a list\n", ["1:1: a scenario is a mapping"]),
])
def test_invalid_scenarios_name_line_and_field(text: str, expected: list[str]) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text, "s.yaml")
    problems = caught.value.problems
    assert len(problems) == len(expected), problems
    for problem, fragment in zip(problems, expected, strict=True):
        assert problem.startswith("s.yaml:") and fragment in problem, problem


def test_every_problem_is_reported_at_once() -> None:
    text = MINIMAL.replace("every: 5", "every: -1\n    jitter: -2\n    colour: red")
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(text)
    assert [p.split(": ")[1] for p in caught.value.problems] == [
        "traffic[0].every", "traffic[0].jitter", "traffic[0].colour"]


def test_unquoted_numbers_are_numbers_as_text() -> None:
    scenario = parse_scenario(MINIMAL.replace('to: "2881"', "to: {2881: 3, 200: 1}") +
                              "setup:\n  endpoints:\n    2880: {dnd: true}\n")
    assert scenario.traffic[0].to == {"2881": 3.0, "200": 1.0}
    assert scenario.setup.endpoints["2880"].wire() == {"dnd": True}


def test_the_example_scenarios_are_valid(capsys: pytest.CaptureFixture[str]) -> None:
    for path in sorted(EXAMPLES.glob("*.yaml")):
        load_scenario(path)
        assert main(["scenario", "check", str(path)]) == 0
    out = capsys.readouterr().out
    assert "support-queue: 300 s of traffic + 60 s drain" in out
    assert "traffic support: every 2 s from +1613555{rand:4} to 5000 → 150 calls" in out
    assert "office-day" in out


def test_check_reports_problems_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(MINIMAL.replace("every: 5", "evry: 5"))
    assert main(["scenario", "check", str(bad)]) == 2
    err = capsys.readouterr().err
    assert f"{bad}:4:5: traffic[0].evry: unknown field" in err
    assert main(["scenario", "check", str(tmp_path / "missing.yaml")]) == 2


# ============================================================================ the plan
def test_the_plan_is_seeded_and_follows_the_schedule() -> None:
    scenario = parse_scenario(MINIMAL.replace("every: 5", "every: 2\n    count: 4") + """\
  - rate: 0.5
    arrival: poisson
    start: 3
    stop: 9
    from: "+1819{rand:7}"
    fromName: "Caller {n}"
    to: ["2880", "2882"]
    abandonAfter: [10, 20]
""")
    plan = plan_calls(scenario, 10, seed=5)
    assert plan == plan_calls(scenario, 10, seed=5)
    assert plan != plan_calls(scenario, 10, seed=6)
    first = [c for c in plan if c.stream == 0]
    assert [c.at for c in first] == [0, 2, 4, 6]  # count caps the stream
    assert all(c.abandon_after is None and c.from_number.startswith("+1613555") for c in first)
    second = [c for c in plan if c.stream == 1]
    assert all(3 <= c.at < 9 and c.to in ("2880", "2882") and 10 <= c.abandon_after <= 20 for c in second)
    assert [c.from_name for c in second] == [f"Caller {n}" for n in range(1, len(second) + 1)]
    assert [c.at for c in plan] == sorted(c.at for c in plan)
    # --duration cuts the traffic
    assert max(c.at for c in plan_calls(scenario, 5, seed=5)) < 5


def test_reserved_numbers_are_never_callers() -> None:
    scenario = parse_scenario(MINIMAL.replace("+1613555{rand:4}", "+1613555010{rand:1}").replace(
        "every: 5", "every: 0.1"))
    plan = plan_calls(scenario, 10, seed=1, reserved={"+16135550100", "+16135550101"})
    assert len(plan) == 100
    assert not {c.from_number for c in plan} & {"+16135550100", "+16135550101"}
    assert render("+1613{rand:3}-{n}", random.Random(1), 7).endswith("-7")


# ============================================================================ running
def test_support_queue_runs_on_the_virtual_clock(client: httpx.Client, base_url: str, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    report = tmp_path / "report.json"
    # The queue's counters are per day: start the 3 virtual minutes at 01:00, so they never cross midnight
    # (other tests move the shared server's virtual clock by hours).
    now = datetime.fromisoformat(client.get("/_callyard/clock").json()["now"].replace("Z", "+00:00"))
    one_am = (now + timedelta(days=1)).replace(hour=1, minute=0, second=0, microsecond=0)
    assert client.post("/_callyard/clock/advance", headers=OPERATOR_HEADERS,
                       json={"seconds": (one_am - now).total_seconds()}).status_code == 200
    code = main(["scenario", "run", str(EXAMPLES / "support-queue.yaml"), "--virtual", "--seed", "3",
                 "--duration", "120", "--report", str(report), "--quiet", "--server", base_url,
                 "--token", token(client, "admin@acme.example"),   # a token of the new virtual time
                 "--operator-token", OPERATOR])                     # the virtual clock is the operator's
    out = capsys.readouterr().out
    assert code == 0, out
    summary = json.loads(report.read_text())
    assert summary["ok"] and summary["errors"] == 0 and summary["virtual"]
    assert summary["scenario_seconds"] == 180  # 120 s of traffic + the file's 60 s drain
    assert summary["placed"] == 60 and summary["call_errors"] == 0
    assert summary["answered"] >= 2 and set(summary["answered_by"]) <= {"2880", "200"}
    # every call is counted once
    assert summary["placed"] == sum(summary[k] for k in ("answered", "voicemail", "abandoned", "rejected",
                                                          "unanswered", "live_at_end"))
    assert summary["abandoned"] > 0  # two agents cannot keep up with a call every 2 s
    assert summary["latency_p95_ms"] >= summary["latency_p50_ms"] > 0
    assert "support-queue" in out and "API latency p50" in out

    queues = client.get("/_callyard/sim/queues", headers=admin(client)).json()["_embedded"]["items"]
    support = next(q for q in queues if q["groupId"] == SUPPORT)
    assert support["offeredToday"] == 60
    assert support["answeredToday"] >= 2 and support["abandonedToday"] > 0
    assert support["agentsLoggedIn"] == 2

    mine = [r for r in records(client) if r.get("principal") in (ALICE, DAVE)]
    answered = [r for r in mine if r["completed"]]
    assert len(answered) >= 2
    assert all(r["from"].startswith("+1613555") and r["direction"] == "inbound" for r in answered)
    assert all(30 <= r["billingTime"] <= 120 for r in answered if r["endTime"])  # the agents' talkSeconds…
    # …or the caller's, whichever was shorter. Calls still talking at the end have no record yet.
    assert len({tracking(r) for r in answered}) <= summary["answered"] <= support["answeredToday"]


TINY = """\
name: tiny
duration: 20
drain: 15
setup:
  endpoints:
    "2881": {profile: {mode: autoAnswer}}
    "2882": {voicemail: false, profile: {mode: never}}
    "200": {voicemail: true, profile: {mode: busy}}
traffic:
  - name: answered
    every: 10
    from: "+1613555{rand:4}"
    to: "2881"
    callerProfile: {talkSeconds: 5}
  - name: abandoned
    every: 10
    start: 1
    from: "+1819555{rand:4}"
    to: "2882"
    abandonAfter: 4
  - name: voicemail
    every: 10
    start: 2
    from: "+1343555{rand:4}"
    to: "200"
    callerProfile: {talkSeconds: 3}
"""


def test_callers_hang_up_give_up_and_leave_messages(client: httpx.Client, run: Any, tmp_path: Path) -> None:
    path = tmp_path / "tiny.yaml"
    path.write_text(TINY)
    report = tmp_path / "tiny.json"
    assert run("scenario", "run", str(path), "--virtual", "--seed", "1", "--quiet", "--report", str(report)) == 0
    summary = json.loads(report.read_text())
    assert {k: summary[k] for k in ("placed", "answered", "abandoned", "voicemail", "rejected", "unanswered",
                                    "live_at_end", "errors")} == {
        "placed": 6, "answered": 2, "abandoned": 2, "voicemail": 2, "rejected": 0, "unanswered": 0,
        "live_at_end": 0, "errors": 0}
    assert summary["answered_by"] == {"2881": 2}
    assert [s["placed"] for s in summary["streams"]] == [2, 2, 2]

    by_endpoint: dict[str, list[dict]] = {}
    for record in records(client):
        by_endpoint.setdefault(json.loads(record["extraPbxData"])["endpointId"], []).append(record)
    # the caller's profile hung up exactly 5 virtual seconds after the phone picked up
    assert sorted(r["billingTime"] for r in by_endpoint["2881"]) == [5.0, 5.0]
    # the runner hung up the unanswered callers after 4 s of ringing
    assert [(r["completed"], r["ringTime"]) for r in by_endpoint["2882"]] == [(False, 4.0), (False, 4.0)]
    assert [r["cause"] for r in by_endpoint["200"]] == ["busy", "busy"]
    live = client.get("/_callyard/sim/calls", headers=admin(client)).json()
    assert live["count"] == 0


def test_drawn_numbers_that_are_dids_are_drawn_again(client: httpx.Client, run: Any, tmp_path: Path) -> None:
    text = """\
name: dids
duration: 10
setup:
  endpoints:
    "2881": {profile: {mode: autoAnswer}}
traffic:
  - every: 1
    from: "+1613555010{rand:1}"
    to: "2881"
    callerProfile: {talkSeconds: 0.5}
"""
    scenario = parse_scenario(text)
    seed = next(s for s in range(100) if "+16135550100" in {c.from_number for c in plan_calls(scenario, 10, s)})
    path = tmp_path / "dids.yaml"
    path.write_text(text)
    report = tmp_path / "dids.json"
    assert run("scenario", "run", str(path), "--virtual", "--seed", str(seed), "--quiet", "--report", str(report)) == 0
    summary = json.loads(report.read_text())
    assert summary["placed"] == 10 and summary["answered"] == 10 and summary["errors"] == 0
    callers = [r["from"] for r in records(client)]
    assert len(callers) == 10 and "+16135550100" not in callers  # the DID of the Support queue


def test_setup_problems_stop_the_run(client: httpx.Client, run: Any, tmp_path: Path,
                                     capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(MINIMAL + "setup:\n  agents:\n    - user: nobody@acme.example\n")
    assert run("scenario", "run", str(path), "--virtual", "--quiet") == 2
    assert "setup.agents: no user nobody@acme.example" in capsys.readouterr().err
    path.write_text(MINIMAL)
    assert run("scenario", "run", str(path), "--quiet") == 2  # manual clock needs --virtual
    assert "run with --virtual" in capsys.readouterr().err


def test_request_errors_above_the_threshold_fail_the_run(client: httpx.Client, run: Any, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(MINIMAL.replace('to: "2881"', 'to: "999999"'))  # not a number of the PBX
    assert run("scenario", "run", str(path), "--virtual", "--quiet") == 1
    out = capsys.readouterr().out
    assert "FAILED" in out and "DestinationNotObtainable" in out
    assert run("scenario", "run", str(path), "--virtual", "--quiet", "--max-error-rate", "1") == 0


def test_a_short_run_on_the_wall_clock(tmp_path: Path) -> None:
    path = tmp_path / "wall.yaml"
    path.write_text("""\
name: wall
duration: 1
drain: 2
setup:
  endpoints:
    "2881": {profile: {mode: autoAnswer, talkSeconds: 0.2}}
traffic:
  - every: 0.5
    from: "+1613555{rand:4}"
    to: "2881"
""")
    report = tmp_path / "wall.json"
    with start_server() as live:
        assert main(["scenario", "run", str(path), "--quiet", "--report", str(report), "--server", live.url]) == 0
        assert main(["scenario", "run", str(path), "--virtual", "--quiet", "--server", live.url]) == 2
    summary = json.loads(report.read_text())
    # a generous drain: on a loaded machine the second call's answer may come a second late
    assert not summary["virtual"] and 2.5 <= summary["wall_seconds"] < 8
    assert summary["placed"] == 2 and summary["answered"] == 2 and summary["errors"] == 0


# ============================================================================ call, phone, calls
def test_call_phone_and_calls(client: httpx.Client, run: Any, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("call", "+16135550123", "2881", "--name", "Pat Caller") == 0
    call_id = capsys.readouterr().out.strip()
    assert len(call_id) == 36

    assert run("calls") == 0
    table = capsys.readouterr().out
    assert "live calls: 1" in table and call_id in table
    assert "+16135550123 Pat Caller" in table and "ringing" in table and "2881" in table

    assert run("phone", "2881", "answer", "--call", call_id[:8], "--device", "2881-soft") == 0
    assert capsys.readouterr().out.startswith("2881 connected (newCall) call " + call_id)
    assert run("phone", "2881", "dtmf", "--digits", "42#") == 0
    assert "dtmf=42#" in capsys.readouterr().out
    assert run("phone", "2881", "hold") == 0
    assert capsys.readouterr().out.startswith("2881 held")
    assert run("phone", "2881", "retrieve") == 0
    assert run("phone", "+16135550123", "hangup") == 0
    assert capsys.readouterr().out.splitlines()[-1].startswith("+16135550123 completed")
    assert client.get("/_callyard/sim/calls", headers=admin(client)).json()["count"] == 0

    # a rejected call: the caller meets bob's busy handling (his voicemail)
    assert run("call", "+16135550124", "2881") == 0
    call_id = capsys.readouterr().out.strip()
    assert run("phone", "2881", "busy") == 0
    assert capsys.readouterr().out.startswith("2881 completed (busy)")
    live = client.get("/_callyard/sim/calls", headers=admin(client)).json()["_embedded"]["items"]
    assert [leg["endpointKind"] for leg in live[0]["legs"]] == ["external", "voicemail"]
    assert live[0]["callId"] == call_id


def test_cli_errors(client: httpx.Client, run: Any, base_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert run("phone", "2881", "hangup") == 1
    assert "409 NoSuchCall" in capsys.readouterr().err
    assert run("phone", "2881", "dtmf") == 2
    assert "dtmf needs --digits" in capsys.readouterr().err
    assert run("call", "123", "2881") == 1
    assert "InvalidFrom" in capsys.readouterr().err
    assert run("call", "+16135550100", "2881") == 1  # a DID of the account
    assert "InvalidFrom" in capsys.readouterr().err
    assert main(["calls", "--password", "wrong", "--server", base_url]) == 1
    assert "401" in capsys.readouterr().err
    assert main(["calls", "--server", "http://127.0.0.1:9"]) == 1
    assert "is a server running at http://127.0.0.1:9?" in capsys.readouterr().err


def test_a_token_instead_of_a_password(client: httpx.Client, base_url: str,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    access = token(client, "admin@acme.example")
    assert main(["call", "+16135550125", "5100", "--token", access, "--user", "", "--server", base_url]) == 0
    call_id = capsys.readouterr().out.strip()
    assert main(["calls", "--token", access, "--server", base_url]) == 0
    out = capsys.readouterr().out
    assert call_id in out and "Sales 5100" in out  # the hunt group rings bob and carol
    # a USER may not drive the simulator
    assert main(["calls", "--user", "alice@acme.example", "--server", base_url]) == 1
    assert "403" in capsys.readouterr().err


def test_outside_numbers_take_a_profile_before_they_dial(client: httpx.Client) -> None:
    headers = admin(client)
    number = "+16135557001"
    put = client.put(f"/_callyard/sim/endpoints/{number}", json={"profile": {"talkSeconds": 5}}, headers=headers)
    assert put.status_code == 200, put.text
    assert put.json()["kind"] == "external" and put.json()["profile"] == {"talkSeconds": 5}
    client.put("/_callyard/sim/endpoints/2881", json={"profile": {"mode": "autoAnswer"}}, headers=headers)
    assert client.post("/_callyard/sim/calls", json={"from": number, "to": "2881"}, headers=headers).status_code == 201
    client.post("/_callyard/clock/advance", json={"seconds": 6}, headers=OPERATOR_HEADERS)
    assert client.get("/_callyard/sim/calls", headers=headers).json()["count"] == 0
    # a DID is no outside number: it would dial as the queue it reaches
    did = client.post("/_callyard/sim/calls", json={"from": "+16135550100", "to": "2881"}, headers=headers)
    assert did.status_code == 400 and did.json()["name"] == "InvalidFrom"


NEVER_ENDING = """\
name: never-ending
duration: 4
drain: 4
hangUpLiveCalls: {hang_up}
setup:
  endpoints:
    "2882": {{callWaiting: true, profile: {{mode: answer, answerAfter: 1}}}}
traffic:
  - every: 2
    count: 2
    from: "+1613555{{rand:4}}"
    to: "2882"
"""


def test_live_at_end_counts_calls_that_never_finish_and_a_run_can_start_on_idle_phones(
        client: httpx.Client, run: Any, tmp_path: Path) -> None:
    # A call an earlier run (or demo) left behind: bob talking, forever.
    assert client.post("/_callyard/sim/calls", json={"from": "+16135550999", "to": "2881"},
                       headers=admin(client)).status_code == 201
    assert client.post("/_callyard/sim/endpoints/2881/answer", headers=admin(client)).status_code == 200
    path, report = tmp_path / "never.yaml", tmp_path / "report.json"
    path.write_text(NEVER_ENDING.format(hang_up="false"))
    assert run("scenario", "run", str(path), "--virtual", "--seed", "1", "--quiet", "--report", str(report)) == 0
    summary = json.loads(report.read_text())
    # Answered, and still talking when the run ended: live at end, not answered-and-done.
    assert (summary["placed"], summary["live_at_end"], summary["answered"]) == (2, 2, 0)
    live = client.get("/_callyard/sim/calls", headers=admin(client)).json()["_embedded"]["items"]
    assert len(live) == 3   # bob's call was left alone

    path.write_text(NEVER_ENDING.format(hang_up="true").replace("count: 2", "count: 1"))
    assert run("scenario", "run", str(path), "--virtual", "--seed", "1", "--quiet", "--report", str(report)) == 0
    summary = json.loads(report.read_text())
    assert (summary["placed"], summary["live_at_end"]) == (1, 1)
    live = client.get("/_callyard/sim/calls", headers=admin(client)).json()["_embedded"]["items"]
    assert len(live) == 1   # only this run's call: the three earlier ones were hung up first
    assert {leg["endpointId"] for leg in live[0]["legs"]} & {"2881"} == set()


def test_a_reader_that_leaves_early_is_not_an_error() -> None:
    """``callyard … | head -1``: once the reader has gone, the rest of the output is dropped and the command
    still succeeds (the write end of a pipe whose read end is closed fails at the first write)."""
    import os
    import subprocess
    import sys

    read, write = os.pipe()
    os.close(read)
    try:
        done = subprocess.run([sys.executable, "-m", "callyard.cli.main", "scenario", "check",
                               str(EXAMPLES / "call-control-demo.yaml")], stdout=write, stderr=subprocess.PIPE,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"}, timeout=60)
    finally:
        os.close(write)
    assert done.returncode == 0, done.stderr.decode()
    assert b"BrokenPipeError" not in done.stderr
