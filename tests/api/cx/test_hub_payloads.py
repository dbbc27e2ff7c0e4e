"""What the SignalR hubs will push, shaped by ``api/cx/wire.hub_messages`` from the contact center's events as
the event log (``GET /_callyard/events``) holds them after a real flow: alice logs in through the CX API, a
simulated caller dials 5000, she accepts and ends the call."""
from __future__ import annotations

from typing import Any

import httpx

from callyard.api.cx.wire import hub_audience, hub_messages
from callyard.events.event import Event
from tests.api.cx.conftest import ALICE, ALICE_VOICE, API, CALLER, LOGIN, SUPPORT
from tests.support.control import Control


def _events(control: Control, after: int) -> list[Event]:
    items = control.events(after=after, limit=2000, type="cc.*")["_embedded"]["items"]
    return [Event(i["type"], i["accountId"], i["subject"], i["data"], i["occurredAt"], i["correlationId"])
            for i in items]


def _last(control: Control) -> int:
    after = 0
    while (page := control.events(after=after, limit=2000))["count"]:
        after = page["next"]
    return after


def test_a_call_pushes_each_hub_message_with_its_audience(client: httpx.Client, cx_alice: dict,
                                                          control: Control) -> None:
    start = _last(control)
    client.put(f"{API}/employees/me/state", headers=cx_alice, json=LOGIN)
    control.dial_in(CALLER, "5000")
    [offer] = client.get(f"{API}/employees/me/conversations", headers=cx_alice).json()["_embedded"]["items"]
    cid = offer["conversationId"]
    for action in ("Accept", "End"):
        client.put(f"{API}/employees/me/conversations/{cid}", headers=cx_alice, json={"conversationAction": action})

    pushed: list[tuple[str, str, Any, dict[str, Any]]] = []
    for event in _events(control, start):
        for hub, method, argument in hub_messages(event):
            pushed.append((hub, method, argument, hub_audience(event)))
    methods = [(hub, method) for hub, method, _, _ in pushed]
    for expected in [("employeeHub", "employeeStateChanged"), ("agentHub", "onAgentStateChanged"),
                     ("employeeHub", "employeeConversationChanged"), ("employeeHub", "employeeConversationRemoved"),
                     ("queueHub", "queueStateChanged"), ("queueHub", "queueConversationChanged"),
                     ("queueHub", "queueConversationRemoved")]:
        assert expected in methods, expected

    states = [arg for hub, method, arg, _ in pushed if method == "employeeStateChanged"]
    assert all(s["id"] == ALICE for s in states)
    assert [s["presence"]["aggregate"]["acdState"] for s in states] == ["Idle", "Offered", "Acd", "Idle"]
    agent_states = [arg for _, method, arg, _ in pushed if method == "onAgentStateChanged"]
    assert {a["id"] for a in agent_states} == {ALICE_VOICE}
    changed = [(arg, who) for _, method, arg, who in pushed if method == "employeeConversationChanged"]
    assert all(isinstance(arg, list) and arg[0]["conversationId"] == cid for arg, _ in changed)
    assert {who["employeeId"] for _, who in changed} == {ALICE}
    removed = [arg for _, method, arg, _ in pushed if method in ("employeeConversationRemoved",
                                                                 "queueConversationRemoved")]
    assert all(arg == [cid] for arg in removed)
    queue_states = [(arg, who) for _, method, arg, who in pushed if method == "queueStateChanged"]
    assert all(arg["id"] == SUPPORT and who["queueId"] == SUPPORT for arg, who in queue_states)
    assert queue_states[-1][0]["answeredConversationsToday"] == 1
    waiting = [arg for _, method, arg, _ in pushed if method == "queueConversationChanged"]
    assert waiting[0][0]["conversationState"] in ("InQueue", "Offered")
