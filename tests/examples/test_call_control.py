"""examples/call_control: the seed 000 tutorial's client call control tool for one extension, run as a
process against the live twin — scripted (answer, consult, supervised transfer, each waiting for the state
it needs from the notifications) and driven line by line on standard input (hold, retrieve, blind transfer,
errors) — with its call record file and a clean best-practice audit (WebSocket only, no polling)."""
from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from tests.examples.support import B, CALL_CONTROL
from tests.support.control import Control

CUSTOMER = "+16135550123"


def session_of(ready: str) -> str:
    found = re.search(r"session-id=([0-9a-f-]{36})", ready)
    assert found, ready
    return found.group(1)


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_scripted_supervised_transfer(control: Control, twin, launch, tmp_path: Path) -> None:
    # Carol picks up 1 s after her phone rings (the simulator's profile, on the twin's clock).
    control.configure("2882", profile={"mode": "answer", "answerAfter": 1})
    record = tmp_path / "calls.jsonl"
    app = launch(CALL_CONTROL, "--twin-url", twin.url, "--user", "bob@acme.example", "--record", str(record),
                 "--commands", "answer; consult 2882; transfer; wait idle; history")
    ready = app.wait_line(lambda line: " ready: " in line)
    assert "extension 2881" in ready

    call = control.ring("2881", caller=CUSTOMER)
    assert app.finish() == 0, "\n".join(app.lines + app.errors)
    output = "\n".join(app.lines)
    assert "ok answer" in output and "ok consult 2882" in output and "ok transfer" in output
    # The transfer waited for carol to answer the consultation call (the notifications said so).
    answered = next(i for i, line in enumerate(app.lines) if "consultation for" in line and "(answered)" in line)
    assert answered < next(i for i, line in enumerate(app.lines) if " ok transfer " in line)

    # The tutorial's end state: the outside caller talks to 2882, and 2881 is disconnected.
    assert control.legs(call) == {CUSTOMER: "connected", "2882": "connected"}
    assert control.http.get(f"{B}/endpoints/2881").json()["state"] == "idle"
    assert control.http.get(f"{B}/endpoints/2881/calls").json()["count"] == 0
    carol = control.http.get(f"{B}/endpoints/2882/calls").json()["_embedded"]["items"]
    assert [(c["from"], c["state"], c["cause"]) for c in carol] == [(CUSTOMER, "connected", "transfer")]

    # Both of bob's calls are in the record, once each.
    kept = records(record)
    assert sorted((r["direction"], r["from"], r["to"], r["cause"], r["answered"]) for r in kept) == [
        ("inbound", CUSTOMER, "2881", "transfer", True), ("outbound", "2881", "2882", "transfer", True)]
    assert len({r["callId"] for r in kept}) == 2 and all(r["endpointId"] == "2881" for r in kept)
    assert "2 finished call(s)" in output   # `history` read them back

    report = control.audit_of(session_of(ready))
    assert report["app"]["kind"] == "client" and report["app"]["flavor"] == "desktop"
    assert report["clean"] is True and report["findings"] == []
    subscriptions = control.http.get(f"{B}/subscriptions", headers={
        "Authorization": f"Bearer {bob_token(control.http)}"}).json()
    assert subscriptions["count"] == 0   # it removed its subscription (and connection) on the way out


def bob_token(http: httpx.Client) -> str:
    response = http.post(f"{B}/token", data={"grant_type": "password", "username": "bob@acme.example",
                                               "password": "callyard"})
    assert response.status_code == 201, response.text
    return response.json()["access_token"]


def test_line_by_line_on_standard_input(control: Control, twin, launch, tmp_path: Path) -> None:
    # A call bob took before the tool ran: at exit the tool adds it from the Media API's call records.
    earlier = control.ring("2881", caller="+14165550111")
    control.phone("2881", "answer")
    control.phone("2881", "hangup")
    assert control.live_call(earlier) is None

    record = tmp_path / "calls.jsonl"
    app = launch(CALL_CONTROL, "--twin-url", twin.url, "--user", "bob@acme.example", "--record", str(record),
                 "--auth", "code", "--wait", "1", stdin=True)   # the authorization code flow with PKCE
    ready = app.wait_line(lambda line: " ready: " in line)
    app.send("calls")
    app.wait_line(lambda line: line.startswith("0 call(s) on 2881"))
    app.send("transfer")                                 # nothing to transfer
    app.wait_line(lambda line: line.startswith("error: transfer:"))
    app.send("frobnicate")
    app.wait_line(lambda line: "unknown command 'frobnicate'" in line)

    call = control.ring("2881", caller=CUSTOMER)
    app.wait_line(lambda line: " ringing " in line and CUSTOMER in line)
    for command, done in (("answer", " ok answer "), ("hold", " ok hold "), ("retrieve", " ok retrieve "),
                          ("calls #1", "  #1 "), ("blind 2882", " ok blind transfer to 2882 ")):
        app.send(command)
        app.wait_line(lambda line, done=done: done in line)
    app.wait_line(lambda line: "recorded" in line)
    app.send("history")
    app.wait_line(lambda line: "finished call(s)" in line)
    app.send("quit")
    assert app.finish() == 0

    # The blind transfer: the caller now rings at 2882, bob is free.
    assert control.legs(call) == {CUSTOMER: "connected", "2882": "ringing"}
    assert control.http.get(f"{B}/endpoints/2881").json()["state"] == "idle"
    kept = {r["from"]: r for r in records(record)}
    assert kept[CUSTOMER]["source"] == "notification" and kept[CUSTOMER]["cause"] == "transfer"
    assert kept["+14165550111"]["source"] == "records" and kept["+14165550111"]["answered"] is True
    assert len(kept) == 2

    report = control.audit_of(session_of(ready))
    assert report["clean"] is True, report["findings"]
    assert report["app"]["principals"] == ["ac3e0000-0000-4000-8000-000000002881"]   # signed in as bob


def test_unknown_user_and_missing_script(twin, launch, tmp_path: Path) -> None:
    app = launch(CALL_CONTROL, "--twin-url", twin.url, "--user", "nobody@acme.example", "--record",
                 str(tmp_path / "calls.jsonl"), "--commands", "calls")
    assert app.finish() == 1
    assert any("cannot sign in as nobody@acme.example" in line and "correlation id" in line for line in app.errors)
    missing = launch(CALL_CONTROL, "--twin-url", twin.url, "--script", str(tmp_path / "none.txt"))
    assert missing.finish() == 2
    assert not (tmp_path / "calls.jsonl").exists()
