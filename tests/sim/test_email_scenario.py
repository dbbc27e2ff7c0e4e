"""E-mail in a scenario on the virtual clock (examples/scenarios/email-desk.yaml, against a twin with an SMTP
listener): every e-mail goes over SMTP, is offered to carol, accepted with a reply mode and answered; the Email
queue's numbers, the outbox and the history add up, beside the calls."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
import yaml

from callyard.cli.main import main
from callyard.sim.scenario import ScenarioError, parse_scenario
from tests.api.cx.conftest import API, cx_token
from tests.conftest import OPERATOR, OPERATOR_HEADERS, auth, free_port, start_server, token

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "scenarios" / "email-desk.yaml"


@pytest.fixture(scope="module")
def twin() -> Iterator[Any]:
    with start_server(clock="manual", smtp_listen=f"127.0.0.1:{free_port()}") as live:
        yield live


def test_an_email_stream_is_checked() -> None:
    base = "name: x\nduration: 10\ntraffic: [{every: 5, from: '+16135550000', to: '2881'}]\n"
    for bad in ("media: {streams: [{media: email, every: 5, from: a@b.example}]}",
                "media: {streams: [{media: email, every: 5, from: nobody, to: support@acme.example}]}",
                "media: {smtp: nowhere, streams: [{media: email, every: 5, from: a@b.example, to: s@a.example}]}"):
        with pytest.raises(ScenarioError):
            parse_scenario(base + bad)


def test_email_beside_calls_on_the_virtual_clock(twin: Any, tmp_path: Path) -> None:
    scenario = yaml.safe_load(EXAMPLE.read_text())
    scenario["media"]["smtp"] = twin.settings.smtp_listen
    path, report = tmp_path / "email-desk.yaml", tmp_path / "report.json"
    path.write_text(yaml.safe_dump(scenario))
    with httpx.Client(base_url=twin.url, timeout=10) as http:
        assert http.post("/_callyard/reset", headers=OPERATOR_HEADERS).status_code == 200
        code = main(["scenario", "run", str(path), "--virtual", "--seed", "3", "--report", str(report), "--quiet",
                     "--server", twin.url, "--token", token(http, "admin@acme.example"), "--operator-token",
                     OPERATOR])
        summary = json.loads(report.read_text())
        assert code == 0 and summary["errors"] == 0, summary.get("error_samples")
        counts = summary["media"]["byMedia"]["email"]
        assert counts["placed"] == 6 and counts["accepted"] == counts["handled"] == 6, counts
        supervisor = auth(cx_token(http, "admin@acme.example"))
        queues = http.get(f"{API}/queues/state", headers=supervisor).json()["_embedded"]["items"]
        states = {q["name"]: q for q in queues}
        email = states["Email"]
        assert (email["offeredConversationsToday"], email["answeredConversationsToday"],
                email["waitingConversations"]) == (6, 6, 0)
        assert states["Support"]["offeredConversationsToday"] == summary["placed"] == 4
        mails = http.get("/_callyard/mail", headers=auth(token(http, "admin@acme.example"))).json()
        replies = [m for m in mails["_embedded"]["items"] if m.get("template") == "cx-email"]
        assert len(replies) == 6 and all(m["inReplyTo"] and m["body"].startswith("Dear") for m in replies)
        assert sorted(m["to"] for m in replies) == sorted(f"customer{n}@customer.example" for n in range(1, 7))
        history = http.get(f"{API}/history", headers=supervisor, params={"$search": "'media:Email'",
                                                                          "$top": "100"}).json()
        assert sum(1 for item in history["_embedded"]["items"] if item["mediaType"] == "Email") == 6
