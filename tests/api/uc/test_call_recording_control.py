"""Call Recording Control (deprecated) through a live server: the user's recorded calls and SAVE/DISCARD/
PAUSE/RESUME, each only when listed in allowedActions; a discarded recording is not stored."""
from __future__ import annotations

from tests.api.uc.helpers import control, refused

URL = "/api/callrecording/acme.example/alice"


def test_recorded_calls_and_actions(client, ticket, openapi, alice) -> None:
    headers = ticket("alice@acme.example", ("CALL_CONTROL",))
    assert openapi.check(client.get(URL, headers=headers)).json() == []
    placed = client.post("/2017-09-01/endpoints/2880/calls", json={"to": "2881", "record": True}, headers=alice)
    assert placed.status_code == 200, placed.text
    sim = control(client)
    sim.phone("2881", "answer")
    sim.advance(10)
    [state] = openapi.check(client.get(URL, headers=headers)).json()
    assert state["id"] == placed.json()["callId"] and state["number"] == "2881" and state["displayName"] == "Bob Brown"
    assert state["isSaved"] is True and state["isPaused"] is False and state["recordDuration"] == 10
    assert state["allowedActions"] == ["DISCARD", "PAUSE"]
    ok = openapi.check(client.put(f"{URL}/{state['id']}", params={"action": "PAUSE"}, headers=headers))
    assert ok.status_code == 200 and ok.json()["field"] == []
    sim.advance(5)
    [state] = client.get(URL, headers=headers).json()
    assert state["isPaused"] and state["recordDuration"] == 10 and state["allowedActions"] == ["DISCARD", "RESUME"]
    refused(openapi.check(client.put(f"{URL}/{state['id']}", params={"action": "PAUSE"}, headers=headers)), 409,
            "action.not.allowed")
    client.put(f"{URL}/{state['id']}", params={"action": "RESUME"}, headers=headers)
    client.put(f"{URL}/{state['id']}", params={"action": "DISCARD"}, headers=headers)
    [state] = client.get(URL, headers=headers).json()
    assert state["isSaved"] is False and state["allowedActions"] == ["SAVE", "PAUSE"]
    refused(client.put(f"{URL}/{state['id']}", params={"action": "SHRED"}, headers=headers), 400, "action.not.valid")
    refused(client.put(f"{URL}/12345678", params={"action": "SAVE"}, headers=headers), 404,
            "recording.does.not.exist")
    sim.phone("2880", "hangup")
    recordings = client.get("/2017-09-01/recordings", headers=alice)
    assert recordings.status_code == 200, recordings.text
    assert recordings.json()["_embedded"]["items"] == []   # discarded: nothing stored
    log = client.get("/api/commlog/acme.example/alice", headers=ticket("alice@acme.example", ("CALLS",))).json()
    assert [i[".CallDTO"]["itemType"] for i in log["historyItems"]] == ["OUTGOING_CALL"]


def test_a_saved_recording_is_stored(client, ticket, alice) -> None:
    headers = ticket("alice@acme.example", ("CALL_CONTROL",))
    client.post("/2017-09-01/endpoints/2880/calls", json={"to": "2881", "record": True}, headers=alice)
    sim = control(client)
    sim.phone("2881", "answer")
    [state] = client.get(URL, headers=headers).json()
    client.put(f"{URL}/{state['id']}", params={"action": "DISCARD"}, headers=headers)
    client.put(f"{URL}/{state['id']}", params={"action": "SAVE"}, headers=headers)
    sim.advance(7)
    sim.phone("2880", "hangup")
    [stored] = client.get("/2017-09-01/recordings", headers=alice).json()["_embedded"]["items"]
    assert stored["durationInSeconds"] == 7


def test_another_user_is_refused(client, ticket, openapi) -> None:
    refused(openapi.check(client.get(URL, headers=ticket("bob@acme.example", ("CALL_CONTROL",)))), 403,
            "access.denied")
