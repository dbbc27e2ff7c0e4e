"""A mixed scenario (voice + web chat + SMS + open media) on the virtual clock, against the live test server:
every item is placed and counted once, and the contact center's queue statistics and history add up."""
from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from callyard.cli.main import main
from callyard.sim.scenario import ScenarioError, load_scenario, parse_scenario
from tests.api.cx.conftest import API, cx_token
from tests.conftest import OPERATOR, OPERATOR_HEADERS, auth, token

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "scenarios" / "contact-center-mix.yaml"


def test_the_media_section_is_checked() -> None:
    scenario = load_scenario(EXAMPLE)
    assert scenario.media is not None and [s.media for s in scenario.media.streams] == ["chat", "sms", "openMedia"]
    base = "name: x\nduration: 10\ntraffic: [{every: 5, from: '+16135550000', to: '2881'}]\n"
    for bad, where in (("media: {streams: [{media: fax, every: 5, from: a}]}", "media"),
                       ("media: {streams: [{media: chat, from: a}]}", "every"),
                       ("media: {agents: [{user: carol, acceptAfter: [5, 1]}]}", "acceptAfter"),
                       ("media: {streams: [{media: chat, every: 5, from: '{nope}'}]}", "from")):
        with pytest.raises(ScenarioError) as problem:
            parse_scenario(base + bad)
        assert where in str(problem.value), str(problem.value)


def test_voice_chat_sms_and_open_media_on_the_virtual_clock(client: httpx.Client, base_url: str,
                                                            tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    now = datetime.fromisoformat(client.get("/_callyard/clock").json()["now"].replace("Z", "+00:00"))
    one_am = (now + timedelta(days=1)).replace(hour=1, minute=0, second=0, microsecond=0)   # counters are per day
    assert client.post("/_callyard/clock/advance", headers=OPERATOR_HEADERS,
                       json={"seconds": (one_am - now).total_seconds()}).status_code == 200
    code = main(["scenario", "run", str(EXAMPLE), "--virtual", "--seed", "2", "--report", str(report), "--quiet",
                 "--server", base_url, "--token", token(client, "admin@acme.example"), "--operator-token", OPERATOR])
    summary = json.loads(report.read_text())
    assert code == 0 and summary["ok"] and summary["errors"] == 0, summary["error_samples"]
    media = summary["media"]["byMedia"]
    assert media["chat"]["placed"] == 8 and media["sms"]["placed"] == 5 and media["openMedia"]["placed"] == 4
    assert summary["placed"] == 10
    for counts in media.values():   # carol keeps up: every item accepted and handled
        assert counts["accepted"] == counts["handled"] == counts["placed"] and not counts.get("abandoned")

    supervisor = auth(cx_token(client, "admin@acme.example"))
    states = {q["name"]: q for q in client.get(f"{API}/queues/state", headers=supervisor).json()["_embedded"]["items"]}
    for name, key in (("Web Chat", "chat"), ("SMS", "sms"), ("Open Media", "openMedia")):
        queue = states[name]
        assert queue["offeredConversationsToday"] == media[key]["placed"]
        assert queue["answeredConversationsToday"] == media[key]["accepted"]
        assert queue["waitingConversations"] == 0
    support = states["Support"]
    assert support["offeredConversationsToday"] == 10
    assert support["answeredConversationsToday"] + support["abandonedConversationsToday"] <= 10
    # history: every interaction of every media, once
    history = client.get(f"{API}/history", headers=supervisor, params={"$search": "'_exists_:conversationid'",
                                                                       "$top": "1000"}).json()
    by_media: dict[str, int] = {}
    for item in history["_embedded"]["items"]:
        by_media[item["mediaType"]] = by_media.get(item["mediaType"], 0) + 1
    assert by_media == {"Chat": 8, "Sms": 5, "OpenMedia": 4, "Voice": support["offeredConversationsToday"]
                        - support["waitingConversations"]}
    assert client.get(f"{API}/history/count", headers=supervisor).json() == history["count"]
    carol = auth(cx_token(client, "carol"))
    state = client.get(f"{API}/employees/me/state", headers=carol).json()
    assert (state["acdChatConversationsToday"], state["acdSmsConversationsToday"],
            state["acdOpenMediaConversationsToday"]) == (8, 5, 4)
    sms = client.get("/_callyard/sms", headers=auth(token(client, "admin@acme.example"))).json()
    assert sum(1 for m in sms["_embedded"]["items"] if m["source"] == "cx") == 5   # carol's replies


def test_chat_and_sms_from_the_cli(client: httpx.Client, base_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    access = token(client, "admin@acme.example")

    def run(*args: str) -> int:
        return main([*args, "--server", base_url, "--token", access])

    assert run("chat", "start", "Zed Zero", "Hello there", "--email", "zed@example.com") == 0
    chat_id = capsys.readouterr().out.split()[0]
    assert run("chat", "say", chat_id, "Anyone?") == 0
    shown = capsys.readouterr().out
    assert "InQueue (position 1 in Web Chat)" in shown and "Zed Zero: Anyone?" in shown
    carol = auth(cx_token(client, "carol"))
    client.put(f"{API}/employees/me/state", headers=carol, json={"state": "Available", "availableReason": "Login"})
    client.put(f"{API}/employees/me/conversations/{chat_id}", headers=carol, json={"conversationAction": "Accept"})
    client.put(f"{API}/employees/me/conversations/{chat_id}", headers=carol,
               json={"conversationAction": "Send", "tags": [{"key": "body", "value": "Hi Zed"}]})
    assert run("chat", "show", chat_id) == 0
    assert "Acd with Carol Chen" in capsys.readouterr().out
    assert run("chat", "end", chat_id) == 0
    assert f"{chat_id} Handled" in capsys.readouterr().out
    assert run("sms", "+16135550142", "Where is my parcel?") == 0
    sms_id = capsys.readouterr().out.split()[0]
    assert run("sms", "--show", sms_id) == 0
    assert "→ Where is my parcel?" in capsys.readouterr().out
    assert run("sms", "+16135550142") == 2
    assert run("chat", "show", "nope") == 1
    assert "404" in capsys.readouterr().err
