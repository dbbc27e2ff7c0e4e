"""Employee (23 operations) through a live server: each operation and its errors."""
from __future__ import annotations

import base64

import httpx
import pytest

from tests.api.cx.conftest import (ALICE, ALICE_VOICE, API, CALLER, CAROL, FOCUS, LOGIN, LUNCH, SUPPORT,
                                   SUPPORT_AGENTS)
from tests.conftest import png_bytes
from tests.support.control import Control


def state_of(client: httpx.Client, headers: dict[str, str], who: str = "me") -> dict:
    response = client.get(f"{API}/employees/{who}/state", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_list_and_get_employees(client: httpx.Client, supervisor: dict, cx_alice: dict) -> None:
    everyone = client.get(f"{API}/employees", headers=supervisor).json()
    assert everyone["count"] == 4
    assert {e["username"] for e in everyone["_embedded"]["items"]} == {"admin", "alice", "dave", "carol"}
    mine = client.get(f"{API}/employees", headers=cx_alice).json()
    assert [e["username"] for e in mine["_embedded"]["items"]] == ["alice"]
    for ref in ("me", ALICE, "alice", "1001", "ALICE"):
        body = client.get(f"{API}/employees/{ref}", headers=cx_alice).json()
        assert body["id"] == ALICE and body["isEnabledForVoice"] is True and body["isEnabledForChat"] is False
    assert client.get(f"{API}/employees/carol", headers=cx_alice).status_code == 403
    assert client.get(f"{API}/employees/nobody", headers=supervisor).status_code == 404


def test_expand_state_embeds_it_and_is_limited(client: httpx.Client, cx_alice: dict, supervisor: dict) -> None:
    body = client.get(f"{API}/employees/me?$expand=state", headers=cx_alice).json()
    assert body["_embedded"]["state"]["presence"]["aggregate"]["state"] == "Offline"
    listed = client.get(f"{API}/employees?$expand=state&$filter=username eq 'carol'", headers=supervisor).json()
    assert listed["count"] == 1 and listed["_embedded"]["items"][0]["_embedded"]["state"]["id"] == CAROL
    assert client.get(f"{API}/employees/me?$expand=photo", headers=cx_alice).status_code == 400
    assert client.get(f"{API}/employees/me?$expand=state,state,state", headers=cx_alice).status_code == 400


def test_login_busy_dnd_logout(client: httpx.Client, cx_alice: dict) -> None:
    assert state_of(client, cx_alice)["presence"]["aggregate"]["state"] == "Offline"
    put = client.put(f"{API}/employees/me/state", headers=cx_alice, json=LOGIN)
    assert put.status_code == 200 and put.json() == "OK"
    state = state_of(client, cx_alice)
    assert state["presence"]["aggregate"] == {"state": "Available", "acdState": "Idle", "reason": None,
                                              "reasonId": None}
    assert state["presence"]["voice"][0]["id"] == ALICE_VOICE
    client.put(f"{API}/employees/me/state", headers=cx_alice, json={"State": 2, "Reason": LUNCH})  # numbers
    assert state_of(client, cx_alice)["presence"]["aggregate"]["reason"] == "Lunch"
    client.put(f"{API}/employees/me/state", headers=cx_alice, json={"state": "DoNotDisturb", "reason": "Focus"})
    assert state_of(client, cx_alice)["presence"]["aggregate"]["state"] == "DoNotDisturb"
    client.put(f"{API}/employees/me/state", headers=cx_alice, json={"state": 5})
    assert state_of(client, cx_alice)["presence"]["aggregate"]["state"] == "Offline"


@pytest.mark.parametrize(("body", "status", "code"), [
    ({"state": "Sleepy"}, 400, "InvalidRequest"),
    ({"state": 9}, 400, "InvalidRequest"),
    ({"state": 0}, 400, "InvalidState"),
    ({}, 400, "InvalidRequest"),
    ({"state": "Available", "availableReason": "Because"}, 400, "InvalidRequest"),
    ({"state": "Busy", "reason": FOCUS}, 400, "InvalidReason"),
    ({"state": "Busy", "reason": "Nap"}, 404, "ReasonCodeNotFound"),
    ({"state": "Available", "hotDeskBaseExtension": "5000"}, 400, "InvalidHotDesk"),
    ({"state": "Busy", "reason": True}, 400, "InvalidRequest"),
])
def test_bad_state_changes_change_nothing(client: httpx.Client, cx_alice: dict, body: dict, status: int,
                                          code: str) -> None:
    client.put(f"{API}/employees/me/state", headers=cx_alice, json=LOGIN)
    before = state_of(client, cx_alice)
    response = client.put(f"{API}/employees/me/state", headers=cx_alice, json=body)
    assert response.status_code == status, response.text
    assert response.json()["errorCode"] == code
    assert state_of(client, cx_alice)["presence"] == before["presence"]


def test_not_json_is_400(client: httpx.Client, cx_alice: dict) -> None:
    for content in (b"", b"{nope", b"[1]"):
        response = client.put(f"{API}/employees/me/state", headers={**cx_alice, "content-type": "application/json"},
                              content=content)
        assert response.status_code == 400, content


def test_busy_while_logged_out_is_a_conflict(client: httpx.Client, cx_alice: dict) -> None:
    response = client.put(f"{API}/employees/me/state", headers=cx_alice, json={"state": "Busy"})
    assert response.status_code == 409 and response.json()["errorCode"] == "EmployeeLoggedOut"


def test_only_a_supervisor_changes_another(client: httpx.Client, cx_alice: dict, supervisor: dict) -> None:
    denied = client.put(f"{API}/employees/dave/state", headers=cx_alice, json=LOGIN)
    assert denied.status_code == 403
    assert client.put(f"{API}/employees/dave/state", headers=supervisor, json=LOGIN).status_code == 200
    assert state_of(client, supervisor, "dave")["presence"]["aggregate"]["state"] == "Available"


def test_bulk_states_all_or_nothing(client: httpx.Client, supervisor: dict) -> None:
    bad = client.put(f"{API}/employees/states", headers=supervisor,
                     json=[{"id": "alice", **LOGIN}, {"id": "dave", "state": "Busy"}])  # dave is logged out
    assert bad.status_code == 409
    assert state_of(client, supervisor, "alice")["presence"]["aggregate"]["state"] == "Offline"
    good = client.put(f"{API}/employees/states", headers=supervisor,
                      json=[{"id": "alice", **LOGIN}, {"id": "dave", **LOGIN}])
    assert good.status_code == 200
    assert state_of(client, supervisor, "dave")["presence"]["aggregate"]["state"] == "Available"
    assert client.put(f"{API}/employees/states", headers=supervisor, json=[{"state": 1}]).status_code == 400
    assert client.put(f"{API}/employees/states", headers=supervisor, json={"id": "x"}).status_code == 400


def test_agent_group_presence(client: httpx.Client, cx_alice: dict) -> None:
    client.put(f"{API}/employees/me/state", headers=cx_alice, json=LOGIN)
    listed = client.get(f"{API}/employees/me/agentgrouppresence", headers=cx_alice).json()
    [group] = listed["_embedded"]["items"]
    assert group["id"] == SUPPORT_AGENTS and group["statuses"] == [
        {"id": ALICE_VOICE, "type": "Voice", "status": "Present"}]
    group["statuses"][0]["status"] = "NotPresent"
    assert client.put(f"{API}/employees/me/agentgrouppresence", headers=cx_alice, json=listed).status_code == 200
    one = client.get(f"{API}/employees/me/agentgrouppresence/{SUPPORT_AGENTS}", headers=cx_alice).json()
    assert one["_embedded"]["items"][0]["statuses"][0]["status"] == "NotPresent"
    back = client.put(f"{API}/employees/me/agentgrouppresence/Support Agents", headers=cx_alice,
                      json={"statuses": [{"type": "Voice", "status": "Present"}]})
    assert back.status_code == 200
    agent = client.get(f"{API}/agents/{ALICE_VOICE}/state", headers=cx_alice).json()
    assert agent["presentInAgentGroups"] == [SUPPORT_AGENTS]
    bad = client.put(f"{API}/employees/me/agentgrouppresence/{SUPPORT_AGENTS}", headers=cx_alice,
                     json={"statuses": [{"type": "Chat", "status": "Present"}]})
    assert bad.status_code == 400
    other = client.put(f"{API}/employees/me/agentgrouppresence/Multimedia Agents", headers=cx_alice,
                       json={"statuses": [{"type": "Voice", "status": "Present"}]})
    assert other.status_code == 400 and other.json()["errorCode"] == "NotAMember"
    assert client.get(f"{API}/employees/me/agentgrouppresence/Nope", headers=cx_alice).status_code == 404


def test_reason_codes_queues_groups_extensions(client: httpx.Client, cx_alice: dict) -> None:
    codes = client.get(f"{API}/employees/me/busyreasoncodes", headers=cx_alice).json()["_embedded"]["items"]
    assert [(c["name"], c["type"]) for c in codes] == [("Lunch", "Busy"), ("Meeting", "Busy"),
                                                       ("Training", "Busy"), ("Focus", "Dnd")]
    dnd = client.get(f"{API}/employees/me/busyreasoncodes?$filter=type eq 'Dnd'", headers=cx_alice).json()
    assert dnd["count"] == 1
    queues = client.get(f"{API}/employees/me/queues", headers=cx_alice).json()["_embedded"]["items"]
    assert [q["id"] for q in queues] == [SUPPORT]
    groups = client.get(f"{API}/employees/me/agentgroups", headers=cx_alice).json()["_embedded"]["items"]
    assert [g["name"] for g in groups] == ["Support Agents"]
    extensions = client.get(f"{API}/employees/me/extensions", headers=cx_alice).json()["_embedded"]["items"]
    assert [e["reporting"] for e in extensions] == ["2880"] and extensions[0]["acdEnabled"] is True
    assert client.get(f"{API}/employees/me/accountcodes", headers=cx_alice).json()["count"] == 0


def test_photo_upload_sets_the_users_photo(client: httpx.Client, cx_alice: dict, admin: dict) -> None:
    encoded = base64.b64encode(png_bytes()).decode()
    response = client.post(f"{API}/employees/me/photo", headers=cx_alice, json={"base64String": encoded})
    assert response.status_code == 200, response.text
    users = client.get("/2017-09-01/users/ac3e0000-0000-4000-8000-000000002880", headers=admin).json()
    assert users.get("photoUrl") or users.get("photo")
    assert client.post(f"{API}/employees/me/photo", headers=cx_alice, json={"base64String": "%%%"}).status_code == 400
    assert client.post(f"{API}/employees/dave/photo", headers=cx_alice,
                       json={"base64String": encoded}).status_code == 403


def test_greetings(client: httpx.Client, cx_alice: dict) -> None:
    assert client.get(f"{API}/employees/me/greetings", headers=cx_alice).json() == {
        "isDefault": True, "defaultGreeting": "", "greetings": [], "queueGreetings": []}
    updated = client.put(f"{API}/employees/me/greetings/update/none", headers=cx_alice,
                         json={"isDefault": False, "defaultGreeting": "hello", "greetings": ["hello", "bye"]})
    assert updated.status_code == 200 and updated.json()["defaultGreeting"] == "hello"
    deleted = client.put(f"{API}/employees/me/greetings/delete/bye", headers=cx_alice, json={"isDefault": False})
    assert deleted.json()["greetings"] == ["hello"]
    assert client.put(f"{API}/employees/me/greetings/delete/bye", headers=cx_alice,
                      json={"isDefault": False}).status_code == 404
    assert client.put(f"{API}/employees/me/greetings/explode/x", headers=cx_alice,
                      json={"isDefault": False}).status_code == 400
    record = client.post(f"{API}/employees/me/greetings", headers=cx_alice, json={"isDefault": True})
    assert record.status_code == 501 and record.json()["errorCode"] == "GreetingRecordingNotAvailable"


def test_inbox_accept_hold_end(client: httpx.Client, cx_alice: dict, control: Control) -> None:
    client.put(f"{API}/employees/me/state", headers=cx_alice, json=LOGIN)
    control.dial_in(CALLER, "5000")
    inbox = client.get(f"{API}/employees/me/conversations?type=active&refreshMonitors=true", headers=cx_alice).json()
    [offer] = inbox["_embedded"]["items"]
    cid = offer["conversationId"]
    assert (offer["conversationState"], offer["queueId"], offer["ani"]) == ("Offered", SUPPORT, CALLER)
    one = client.get(f"{API}/employees/me/conversations/{cid}?waitTimeMs=0", headers=cx_alice).json()
    assert one["conversationId"] == cid
    assert client.put(f"{API}/employees/me/conversations/{cid}", headers=cx_alice,
                      json={"conversationAction": "Hold"}).status_code == 409  # ringing: not connected
    assert client.put(f"{API}/employees/me/conversations/{cid}", headers=cx_alice,
                      json={"conversationAction": 1}).status_code == 200  # 1 = Accept
    assert client.put(f"{API}/employees/me/conversations/{cid}", headers=cx_alice,
                      json={"conversationAction": "Hold"}).status_code == 200
    held = client.get(f"{API}/employees/me/conversations/{cid}", headers=cx_alice).json()
    assert held["conversationState"] == "Held"
    client.put(f"{API}/employees/me/conversations/{cid}", headers=cx_alice, json={"conversationAction": "RemoveHold"})
    dtmf = client.put(f"{API}/employees/me/conversations/{cid}", headers=cx_alice,
                      json={"conversationAction": "Dtmf", "dtmfDigit": "12#"})
    assert dtmf.status_code == 200
    client.put(f"{API}/employees/me/conversations", headers=cx_alice, json=[{"id": cid, "conversationAction": "End"}])
    assert client.get(f"{API}/employees/me/conversations", headers=cx_alice).json()["count"] == 0
    assert client.get(f"{API}/employees/me/conversations/{cid}", headers=cx_alice).status_code == 404


@pytest.mark.parametrize(("body", "status"), [
    ({}, 400), ({"conversationAction": "Fly"}, 400), ({"conversationAction": 99}, 400),
    ({"conversationAction": "Junk"}, 400), ({"conversationAction": "Transfer"}, 400),
    ({"conversationAction": "Transfer", "transferDestination": "2881", "transferDestinationType": "Moon"}, 400),
])
def test_bad_conversation_updates(client: httpx.Client, cx_alice: dict, control: Control, body: dict,
                                  status: int) -> None:
    client.put(f"{API}/employees/me/state", headers=cx_alice, json=LOGIN)
    control.dial_in(CALLER, "5000")
    [offer] = client.get(f"{API}/employees/me/conversations", headers=cx_alice).json()["_embedded"]["items"]
    response = client.put(f"{API}/employees/me/conversations/{offer['conversationId']}", headers=cx_alice, json=body)
    assert response.status_code == status, response.text
    again = client.get(f"{API}/employees/me/conversations", headers=cx_alice).json()["_embedded"]["items"]
    assert again[0]["conversationState"] == "Offered"


def test_transfer_to_another_employee(client: httpx.Client, cx_alice: dict, control: Control) -> None:
    client.put(f"{API}/employees/me/state", headers=cx_alice, json=LOGIN)
    control.dial_in(CALLER, "5000")
    [offer] = client.get(f"{API}/employees/me/conversations", headers=cx_alice).json()["_embedded"]["items"]
    cid = offer["conversationId"]
    client.put(f"{API}/employees/me/conversations/{cid}", headers=cx_alice, json={"conversationAction": "Accept"})
    moved = client.put(f"{API}/employees/me/conversations/{cid}", headers=cx_alice,
                       json={"conversationAction": "Transfer", "transferDestinationType": 1,
                             "transferDestination": "dave"})
    assert moved.status_code == 200, moved.text
    assert client.get(f"{API}/employees/me/conversations", headers=cx_alice).json()["count"] == 0
    ringing = [c for c in control.http.get("/2017-09-01/endpoints/200/calls",
                                           headers=control.headers()).json()["_embedded"]["items"]]
    assert ringing and ringing[0]["state"] == "ringing"


def test_dial(client: httpx.Client, cx_alice: dict, supervisor: dict, wallboard: dict) -> None:
    response = client.post(f"{API}/employees/me/conversations", headers=cx_alice,
                           json={"type": "Voice", "from": "2880", "to": "2881"})
    assert response.status_code == 200, response.text
    cid = response.json()
    [call] = client.get(f"{API}/employees/me/conversations", headers=cx_alice).json()["_embedded"]["items"]
    assert call["conversationId"] == cid and call["direction"] == "Outbound"
    assert client.post(f"{API}/employees/me/conversations", headers=cx_alice,
                       json={"type": "Voice", "from": "2881", "to": "200"}).status_code == 400
    assert client.post(f"{API}/employees/me/conversations", headers=cx_alice,
                       json={"type": "Voice"}).status_code == 400
    assert client.post(f"{API}/employees/me/conversations", headers=cx_alice,
                       json={"type": "Sms", "to": "+16135550111"}).status_code == 400   # she answers no Sms queue
    assert client.post(f"{API}/employees/me/conversations", headers=cx_alice,
                       json={"type": "VoiceBarge", "to": "200"}).status_code == 501
    assert client.post(f"{API}/employees/alice/conversations", headers=supervisor,
                       json={"type": "Voice", "to": "200"}).status_code == 403
    assert client.post(f"{API}/employees/me/conversations", headers=wallboard,
                       json={"type": "Voice", "to": "200"}).status_code == 403


def test_inbox_of_another_needs_a_supervisor(client: httpx.Client, cx_alice: dict, supervisor: dict) -> None:
    assert client.get(f"{API}/employees/dave/conversations", headers=cx_alice).status_code == 403
    assert client.get(f"{API}/employees/dave/conversations", headers=supervisor).status_code == 200
    assert client.get(f"{API}/employees/me/conversations?type=weird", headers=cx_alice).status_code == 400
    assert client.get(f"{API}/employees/me/conversations?offset=abc", headers=cx_alice).status_code == 400
