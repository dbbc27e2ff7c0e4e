"""Agents (10) and Queue (13) operations through a live server: agents and their states, agent groups,
licences, queues, "Queue Now", waiting conversations and Pick, queue groups, and access by security role."""
from __future__ import annotations

import httpx
import pytest

from tests.api.cx.conftest import (ALICE_VOICE, API, CALLER, LOGIN, SUPPORT, SUPPORT_AGENTS, WEB_CHAT)
from tests.support.control import Control


def test_agents_and_their_states(client: httpx.Client, supervisor: dict, cx_alice: dict, cx_carol: dict) -> None:
    agents = client.get(f"{API}/agents", headers=supervisor).json()
    assert agents["count"] == 6  # alice, dave (Voice); carol (Chat, Email, Sms, OpenMedia)
    assert client.get(f"{API}/agents?$filter=mediaType eq 'Voice'", headers=supervisor).json()["count"] == 2
    assert client.get(f"{API}/agents", headers=cx_alice).json()["count"] == 1
    for ref in (ALICE_VOICE, "3001", "me"):
        agent = client.get(f"{API}/agents/{ref}", headers=cx_alice).json()
        assert (agent["id"], agent["mediaType"], agent["reporting"]) == (ALICE_VOICE, "Voice", "3001")
    client.put(f"{API}/employees/me/state", headers=cx_alice, json=LOGIN)
    state = client.get(f"{API}/agents/{ALICE_VOICE}/state", headers=cx_alice).json()
    assert (state["availableState"], state["currentState"]) == ("Available", "Idle")
    assert state["presentInAgentGroups"] == [SUPPORT_AGENTS]
    states = client.get(f"{API}/agents/states", headers=supervisor).json()
    assert {s["id"]: s["availableState"] for s in states["_embedded"]["items"]}[ALICE_VOICE] == "Available"
    assert client.get(f"{API}/agents/3002", headers=cx_alice).status_code == 403  # dave's agent
    assert client.get(f"{API}/agents/9999", headers=supervisor).status_code == 404
    carol_me = client.get(f"{API}/agents/me", headers=cx_carol)
    assert carol_me.status_code == 400 and carol_me.json()["errorCode"] == "AmbiguousAgent"
    softphone = client.get(f"{API}/agents/me/softphone", headers=cx_alice).json()
    assert softphone["gatewayMediaServerConsumerId"] == ALICE_VOICE


def test_agent_groups_members_states_and_licenses(client: httpx.Client, supervisor: dict, cx_alice: dict) -> None:
    groups = client.get(f"{API}/agentgroups", headers=supervisor).json()["_embedded"]["items"]
    assert [(g["name"], g["isVoiceEnabled"], g["isChatEnabled"]) for g in groups] == [
        ("Support Agents", True, False), ("Multimedia Agents", False, True)]
    assert client.get(f"{API}/agentgroups", headers=cx_alice).json()["count"] == 1
    group = client.get(f"{API}/agentgroups/G500", headers=cx_alice).json()
    assert group["id"] == SUPPORT_AGENTS
    assert client.get(f"{API}/agentgroups/Multimedia Agents", headers=cx_alice).status_code == 403
    assert client.get(f"{API}/agentgroups/none", headers=supervisor).status_code == 404
    members = client.get(f"{API}/agentgroups/{SUPPORT_AGENTS}/members", headers=supervisor).json()
    assert sorted(m["reporting"] for m in members["_embedded"]["items"]) == ["3001", "3002"]
    client.put(f"{API}/employees/me/state", headers=cx_alice, json=LOGIN)
    states = client.get(f"{API}/agentgroups/{SUPPORT_AGENTS}/states", headers=supervisor).json()
    assert sorted(s["availableState"] for s in states["_embedded"]["items"]) == ["Available", "Offline"]
    licenses = client.get(f"{API}/agents/licenses", headers=supervisor).json()
    assert (licenses["activeVoiceAgents"], licenses["maximumVoiceAgents"], licenses["activeMultimediaAgents"]) == (
        1, 2, 0)


def test_queues_by_role(client: httpx.Client, supervisor: dict, cx_alice: dict, wallboard: dict) -> None:
    everything = client.get(f"{API}/queues", headers=supervisor).json()
    assert [q["name"] for q in everything["_embedded"]["items"]] == ["Support", "Web Chat", "Email", "SMS",
                                                                     "Open Media"]
    open_media = client.get(f"{API}/queues?$filter=mediaType%20eq%20%27OpenMedia%27", headers=supervisor).json()
    assert [q["name"] for q in open_media["_embedded"]["items"]] == ["Open Media"]
    enum_literal = client.get(f"{API}/queues", headers=supervisor,
                              params={"$filter": "MediaType eq Mitel.MiccSdk.Models.MediaType'Chat'"}).json()
    assert [q["name"] for q in enum_literal["_embedded"]["items"]] == ["Web Chat"]
    assert client.get(f"{API}/queues", headers=wallboard).json()["count"] == 5
    assert [q["name"] for q in client.get(f"{API}/queues", headers=cx_alice).json()["_embedded"]["items"]] == [
        "Support"]
    for ref in (SUPPORT, "Support", "5000", "support"):
        assert client.get(f"{API}/queues/{ref}", headers=cx_alice).json()["id"] == SUPPORT
    assert client.get(f"{API}/queues/{WEB_CHAT}", headers=cx_alice).status_code == 403
    assert client.get(f"{API}/queues/Nothing", headers=supervisor).status_code == 404
    assert client.get(f"{API}/queues/Support/members", headers=supervisor).json()["count"] == 0


@pytest.mark.parametrize("path", ["/queues/state", "/queues/states", "/QUEUES/STATE"])
def test_queue_now(client: httpx.Client, cx_alice: dict, supervisor: dict, control: Control, path: str) -> None:
    client.put(f"{API}/employees/me/state", headers=cx_alice, json=LOGIN)
    control.dial_in(CALLER, "5000")
    control.advance(5)
    now = client.get(f"{API}{path}", headers=supervisor).json()
    support = next(q for q in now["_embedded"]["items"] if q["id"] == SUPPORT)
    assert support["waitingConversations"] == 1 and support["offeredConversationsToday"] == 1
    assert support["longestWaitingConversationDuration"] == "00:00:05"
    assert support["agentsLoggedIn"] == 1 and support["agentsAvailable"] == 1
    mine = client.get(f"{API}{path}", headers=cx_alice).json()
    assert [q["id"] for q in mine["_embedded"]["items"]] == [SUPPORT]


def test_service_level_and_abandoned(client: httpx.Client, supervisor: dict, cx_alice: dict,
                                     control: Control) -> None:
    control.dial_in(CALLER, "5000")  # nobody logged in: it waits, then the caller gives up
    control.advance(30)
    control.phone(CALLER, "hangup")
    client.put(f"{API}/employees/me/state", headers=cx_alice, json=LOGIN)
    control.dial_in("+16135550178", "5000")  # answered within the 20 s service level
    [offer] = client.get(f"{API}/employees/me/conversations", headers=cx_alice).json()["_embedded"]["items"]
    client.put(f"{API}/employees/me/conversations/{offer['conversationId']}", headers=cx_alice,
               json={"conversationAction": "Accept"})
    state = client.get(f"{API}/queues/Support/state", headers=supervisor).json()
    assert (state["offeredConversationsToday"], state["answeredConversationsToday"],
            state["abandonedConversationsToday"]) == (2, 1, 1)
    assert state["serviceLevelPercentageToday"] == 50.0
    assert (state["offeredConversationsInTheLast15Minutes"], state["abandonedConversationsInTheLast15Minutes"],
            state["serviceLevelPercentageInTheLastHour"]) == (2, 1, 50.0)
    control.advance(16 * 60)  # the first quarter of an hour has passed
    later = client.get(f"{API}/queues/Support/state", headers=supervisor).json()
    assert (later["offeredConversationsInTheLast15Minutes"], later["offeredConversationsInTheLastHour"],
            later["offeredConversationsToday"]) == (0, 2, 2)
    assert state["agentsOnAcdConversations"] == 1 and state["waitingConversations"] == 0


def test_queue_conversations_and_pick(client: httpx.Client, cx_alice: dict, supervisor: dict,
                                      control: Control) -> None:
    control.dial_in(CALLER, "5000")  # alice is logged out: it waits
    listed = client.get(f"{API}/queues/Support/conversations?offset=300", headers=cx_alice).json()
    [waiting] = listed["_embedded"]["items"]
    assert waiting["conversationState"] == "InQueue" and waiting["positionInQueue"] == 1
    assert waiting["timeOfferedToQueue"].endswith("-05:00")  # offset 300: five hours west of UTC
    cid = waiting["conversationId"]
    assert client.get(f"{API}/queues/Support/conversations/{cid}", headers=cx_alice).json()["conversationId"] == cid
    assert client.get(f"{API}/queues/Support/conversations/nope", headers=cx_alice).status_code == 404
    assert client.put(f"{API}/queues/Support/conversations/{cid}", headers=cx_alice,
                      json={"conversationAction": "Junk"}).status_code == 400
    picked = client.put(f"{API}/queues/Support/conversations/{cid}", headers=cx_alice,
                        json={"conversationAction": "Pick", "id": cid})
    assert picked.status_code == 200, picked.text
    [offer] = client.get(f"{API}/employees/me/conversations", headers=cx_alice).json()["_embedded"]["items"]
    assert offer["conversationId"] == cid and offer["conversationState"] == "Offered"
    again = client.put(f"{API}/queues/Support/conversations", headers=cx_alice,
                       json=[{"conversationAction": "Pick", "id": cid}])
    assert again.status_code == 409
    assert client.get(f"{API}/queues/Support/conversations?offset=-2147483648",
                      headers=cx_alice).status_code == 200
    assert client.get(f"{API}/queues/Support/conversations?offset=99999", headers=cx_alice).status_code == 400


def test_delete_queue(client: httpx.Client, supervisor: dict, cx_alice: dict) -> None:
    assert client.delete(f"{API}/queues/SMS", headers=cx_alice).status_code == 403
    assert client.delete(f"{API}/queues/SMS", headers=supervisor).status_code == 200
    assert client.get(f"{API}/queues/SMS", headers=supervisor).status_code == 404
    assert client.delete(f"{API}/queues/SMS", headers=supervisor).status_code == 404


def test_queue_groups(client: httpx.Client, supervisor: dict) -> None:
    assert client.get(f"{API}/queuegroups/states", headers=supervisor).json()["count"] == 0
    assert client.get(f"{API}/queuegroups/Support/state", headers=supervisor).status_code == 404
    assert client.get(f"{API}/queuegroups/Support/conversations/x", headers=supervisor).status_code == 404


def test_odata_paging_and_count(client: httpx.Client, supervisor: dict) -> None:
    first = client.get(f"{API}/queues?$top=2&$orderby=name desc", headers=supervisor).json()
    assert [q["name"] for q in first["_embedded"]["items"]] == ["Web Chat", "Support"]
    assert first["count"] == 5 and "next" in first["_links"]
    nxt = client.get(first["_links"]["next"]["href"], headers=supervisor).json()
    assert [q["name"] for q in nxt["_embedded"]["items"]] == ["SMS", "Open Media"]
    assert "count" not in client.get(f"{API}/queues?$count=false", headers=supervisor).json()
    assert client.get(f"{API}/queues?$search='chat'", headers=supervisor).json()["count"] == 1
    deep = "(" * 40 + "name eq 'x'" + ")" * 40
    for bad in ("$top=-1", "$skip=x", "$filter=name eq", "$count=maybe", "$orderby=name sideways",
                f"$filter={deep}", "$filter=" + " or ".join(["name eq 'x'"] * 120)):
        response = client.get(f"{API}/queues?{bad}", headers=supervisor)
        assert response.status_code == 400, bad
        assert set(response.json()) >= {"message", "errorCode"}


def test_expand_on_agents(client: httpx.Client, cx_alice: dict, supervisor: dict) -> None:
    [agent] = client.get(f"{API}/agents?$expand=state,employee", headers=cx_alice).json()["_embedded"]["items"]
    assert agent["_embedded"]["state"]["availableState"] == "Offline"
    assert agent["_embedded"]["employee"]["username"] == "alice"
    one = client.get(f"{API}/agents/{ALICE_VOICE}?$expand=state", headers=cx_alice).json()
    assert set(one["_embedded"]) == {"state"}
    assert client.get(f"{API}/agents?$expand=queues", headers=cx_alice).status_code == 400
    assert client.get(f"{API}/queues?$expand=state", headers=supervisor).status_code == 400
