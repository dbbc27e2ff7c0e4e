"""Call Control (CTI), Call Recording (CTI) and Call State through a live server: every operation, its
documented refusals, optimistic locking with stateToken, and the CallState of §3.2 (responses validated
against /api/openapi.json)."""
from __future__ import annotations

from tests.api.uc.cti_support import Cti


def test_make_answer_hold_resume_hang_up(cti, devices) -> None:
    alice, bob = cti("alice"), cti("bob")
    assert alice.state() == {"fullState": True, "calls": []}
    soft = devices("2880")
    made = alice.make(soft, "sip:bob@acme.example")
    assert made["status"] == "INITIATED" and made["inbound"] is False
    assert made["remoteParty"] == {"type": "USER_ID", "telUri": "sip:2881@acme.example", "displayName": "Bob Brown",
                                   "displayNumber": "2881", "intrusionType": None}
    assert made["deviceIds"] == [soft] and made["actions"] == []
    ringing = bob.only_call()
    assert ringing["status"] == "RINGING" and ringing["inbound"] is True
    assert ringing["correlationId"] == made["correlationId"]
    assert {a["action"] for a in ringing["actions"]} == {"ANSWER", "TRANSFER"}
    assert len(ringing["deviceIds"]) == 2   # desk phone and softphone (bob has no mobile)

    answered = bob.post(f"/calls/{ringing['callId']}/answer/{devices('2881', 'DESKPHONE')}")
    assert answered["status"] == "ACTIVE" and answered["deviceIds"] == [devices("2881", "DESKPHONE")]
    mine = alice.call(made["callId"])
    assert mine["status"] == "ACTIVE" and mine["stateToken"] != made["stateToken"]
    assert {a["action"] for a in mine["actions"]} >= {"HOLD", "TRANSFER", "PARK", "MUTE", "START_REC", "MOVE"}

    held = alice.post(f"/calls/{made['callId']}/hold", {"stateToken": mine["stateToken"]})
    assert held["status"] == "HELD" and any(a["action"] == "RESUME" for a in held["actions"])
    resumed = alice.post(f"/calls/{made['callId']}/resume", {"stateToken": held["stateToken"]})
    assert resumed["status"] == "ACTIVE"
    alice.request("DELETE", f"/calls/{made['callId']}", 204)
    assert alice.state()["calls"] == [] and bob.state()["calls"] == []
    alice.refused("GET", f"/calls/{made['callId']}", 404, "call.not.found")


def test_stale_state_token_changes_nothing(cti, devices) -> None:
    alice, bob = cti("alice"), cti("bob")
    made = alice.make(devices("2880"), "2881")
    bob.post(f"/calls/{bob.only_call()['callId']}/answer/{devices('2881')}")
    current = alice.call(made["callId"])
    body = alice.refused("POST", f"/calls/{made['callId']}/hold", 409, "state.token.mismatch",
                         json={"stateToken": made["stateToken"]})
    assert body["field"][0]["name"] == str(made["stateToken"])
    assert alice.call(made["callId"]) == current   # nothing changed
    assert alice.post(f"/calls/{made['callId']}/hold", {"stateToken": current["stateToken"]})["status"] == "HELD"


def test_reject_and_cancel(cti, devices) -> None:
    alice, bob = cti("alice"), cti("bob")
    made = alice.make(devices("2880"), "2881")
    bob.request("DELETE", f"/calls/{bob.only_call()['callId']}", 204)         # reject: bob's voicemail answers
    assert bob.state()["calls"] == [] and alice.call(made["callId"])["status"] == "ACTIVE"
    alice.request("DELETE", f"/calls/{made['callId']}", 204)
    second = alice.make(devices("2880"), "2881")
    alice.request("DELETE", f"/calls/{second['callId']}", 204)                # cancel while it rings
    assert bob.state()["calls"] == []


def test_make_call_refusals(cti, devices) -> None:
    alice = cti("alice")
    alice.refused("POST", "/devices/2.nope/calls", 404, "device.does.not.exist", json={"destination": "2881"})
    alice.refused("POST", f"/devices/{devices('2880')}/calls", 400, "destination.required", json={})
    alice.refused("POST", f"/devices/{devices('2880')}/calls", 400, "destination.not.valid",
                  json={"destination": "sip:erin@globex.example"})
    alice.refused("POST", f"/devices/{devices('2880')}/calls", 400, "type.not.valid",
                  json={"destination": "2881", "type": "SHOUT"})
    alice.refused("POST", f"/devices/{devices('2880')}/calls", 400, "invalid.destination",
                  json={"destination": "2880"})
    alice.refused("POST", f"/devices/{devices('2880')}/calls", 400, "targetId.required",
                  json={"destination": "2881", "targetUrl": "http://127.0.0.1:9/hook"})
    assert alice.state()["calls"] == []


def test_make_call_types(cti, devices, control) -> None:
    alice, bob = cti("alice"), cti("bob")
    control.configure("2881", forwardAlways="2882")
    bypass = alice.make(devices("2880"), "2881", type="DIVERSION_BYPASS")
    assert bob.only_call()["status"] == "RINGING"         # forwarding ignored
    alice.request("DELETE", f"/calls/{bypass['callId']}", 204)
    control.configure("2881", forwardAlways=None)
    voicemail = alice.make(devices("2880"), "2881", type="VOICEMAIL")
    assert bob.state()["calls"] == [] and alice.call(voicemail["callId"])["status"] == "ACTIVE"
    alice.request("DELETE", f"/calls/{voicemail['callId']}", 204)
    intercom = alice.make(devices("2880"), "2881", type="INTERCOM")
    assert bob.only_call()["status"] == "ACTIVE" and alice.call(intercom["callId"])["status"] == "ACTIVE"
    alice.request("DELETE", f"/calls/{intercom['callId']}", 204)


def test_barge_whisper_monitor(cti, devices, control) -> None:
    alice, bob, dave = cti("alice"), cti("bob"), cti("dave")
    call = control.ring("2881")
    control.phone("2881", "answer")
    assert bob.only_call()["status"] == "ACTIVE"
    monitor = dave.make(devices("200"), "2881", type="MONITOR")
    assert monitor["status"] == "ACTIVE" and monitor["muted"] is True and monitor["intruded"] is True
    seen = bob.only_call()
    assert seen["conference"] is True and seen["intruded"] is True
    assert {p["remoteParty"].get("intrusionType") for p in seen["participants"]} == {None, "MONITOR"}
    dave.request("DELETE", f"/calls/{monitor['callId']}", 204)
    barge = alice.make(devices("2880"), "2881", type="BARGE")
    assert barge["muted"] is False and barge["remoteParty"]["displayNumber"] == "2881"
    alice.request("DELETE", f"/calls/{barge['callId']}", 204)
    whisper = alice.make(devices("2880"), "2881", type="WHISPER")
    assert any(p["remoteParty"].get("intrusionType") == "WHISPER" for p in bob.only_call()["participants"])
    alice.request("DELETE", f"/calls/{whisper['callId']}", 204)
    assert control.legs(call)["2881"] == "connected"
    alice.refused("POST", f"/devices/{devices('2880')}/calls", 409, "not.in.call",
                  json={"destination": "2882", "type": "BARGE"})


def test_consultation_connect_and_conference(cti, devices, control) -> None:
    alice, bob, carol_admin = cti("alice"), cti("bob"), cti("dave")
    control.ring("2880")
    first = alice.only_call()
    alice.post(f"/calls/{first['callId']}/answer/{devices('2880')}")
    alice.refused("POST", f"/calls/{first['callId']}/consultation", 400, "type.not.supported",
                  json={"destination": "2881", "type": "BARGE"})
    consult = alice.post(f"/calls/{first['callId']}/consultation", {"destination": "2881"})
    assert consult["status"] == "INITIATED" and alice.call(first["callId"])["status"] == "HELD"
    bob.post(f"/calls/{bob.only_call()['callId']}/answer/{devices('2881')}")
    alt = alice.post(f"/calls/{consult['callId']}/alternate", {"targetCallId": first["callId"]})
    assert alt["status"] == "HELD" and alice.call(first["callId"])["status"] == "ACTIVE"
    conf = alice.post(f"/calls/{first['callId']}/conference", {"targetCallId": consult["callId"]})
    assert conf["conference"] is True and conf["event"] == "PARTICIPANT_ADDED" and len(conf["participants"]) == 2
    bob_leg = next(p["id"] for p in conf["participants"] if p["remoteParty"]["displayNumber"] == "2881")
    dropped = alice.request("DELETE", f"/calls/{first['callId']}/participants/{bob_leg}").json()
    assert dropped["event"] == "PARTICIPANT_LEFT" and dropped["conference"] is False
    assert bob.state()["calls"] == []
    alice.refused("POST", f"/calls/{first['callId']}/leave", 409, "not.a.conference")
    # connect: two calls of alice joined, alice drops
    consult = alice.post(f"/calls/{first['callId']}/consultation", {"destination": "200"})
    carol_admin.post(f"/calls/{carol_admin.only_call()['callId']}/answer/{devices('200')}")
    joined = alice.post(f"/calls/{first['callId']}/connect", {"targetCallId": consult["callId"]})
    assert joined["status"] == "TERMINATED" and alice.state()["calls"] == []
    assert carol_admin.only_call()["remoteParty"]["displayNumber"] == "+16135550123"


def test_connect_waiting_for_the_answer(cti, devices, control) -> None:
    alice, bob = cti("alice"), cti("bob")
    control.ring("2880")
    first = alice.only_call()
    alice.post(f"/calls/{first['callId']}/answer/{devices('2880')}")
    consult = alice.post(f"/calls/{first['callId']}/consultation", {"destination": "2881"})
    pending = alice.post(f"/calls/{consult['callId']}/connect", {"targetCallId": first["callId"],
                                                                 "waitForAnswer": True})
    assert pending["status"] == "INITIATED" and len(alice.state()["calls"]) == 2
    bob.post(f"/calls/{bob.only_call()['callId']}/answer/{devices('2881')}")
    assert alice.state()["calls"] == []
    assert bob.only_call()["remoteParty"]["displayNumber"] == "+16135550123"


def test_transfer_types(cti, devices, control) -> None:
    alice, bob = cti("alice"), cti("bob")
    control.configure("2881", forwardAlways="2882")
    control.ring("2880")
    call = alice.only_call()
    alice.post(f"/calls/{call['callId']}/answer/{devices('2880')}")
    alice.post(f"/calls/{call['callId']}/transfer", {"destination": "2881", "blind": True,
                                                     "type": "DIVERSION_BYPASS"})
    assert bob.only_call()["status"] == "RINGING"       # bob's forwarding is bypassed
    bob.post(f"/calls/{bob.only_call()['callId']}/answer/{devices('2881')}")
    control.configure("2881", forwardAlways=None)
    control.ring("2880")
    call = alice.only_call()
    alice.post(f"/calls/{call['callId']}/answer/{devices('2880')}")
    alice.post(f"/calls/{call['callId']}/transfer", {"destination": "2881", "blind": True, "type": "CAMP_ON"})
    assert [c["status"] for c in bob.state()["calls"]] == ["ACTIVE", "RINGING"]   # camps on busy bob


def test_leave_conference(cti, devices, control) -> None:
    alice, bob, dave = cti("alice"), cti("bob"), cti("dave")
    control.ring("2880")
    first = alice.only_call()
    alice.post(f"/calls/{first['callId']}/answer/{devices('2880')}")
    consult = alice.post(f"/calls/{first['callId']}/consultation", {"destination": "2881"})
    bob.post(f"/calls/{bob.only_call()['callId']}/answer/{devices('2881')}")
    alice.post(f"/calls/{first['callId']}/conference", {"targetCallId": consult["callId"]})
    left = alice.post(f"/calls/{first['callId']}/leave")
    assert left["status"] == "TERMINATED" and left["event"] == "LEFT_CONFERENCE"
    assert bob.only_call()["status"] == "ACTIVE" and dave.state()["calls"] == []


def test_transfers(cti, devices, control) -> None:
    alice, bob = cti("alice"), cti("bob")
    control.ring("2880")
    call = alice.only_call()
    alice.post(f"/calls/{call['callId']}/answer/{devices('2880')}")
    blind = alice.post(f"/calls/{call['callId']}/transfer", {"destination": "2881", "blind": True})
    assert blind["status"] == "TERMINATED" and bob.only_call()["status"] == "RINGING"
    bob.request("DELETE", f"/calls/{bob.only_call()['callId']}", 204)
    # not blind: the call waits on hold until the destination answers, then alice drops
    control.ring("2880")
    call = alice.only_call()
    alice.post(f"/calls/{call['callId']}/answer/{devices('2880')}")
    pending = alice.post(f"/calls/{call['callId']}/transfer", {"destination": "2881"})
    assert pending["status"] == "HELD"
    bob.post(f"/calls/{bob.only_call()['callId']}/answer/{devices('2881')}")
    assert alice.state()["calls"] == []
    assert bob.only_call()["remoteParty"]["displayNumber"] == "+16135550123"
    alice.refused("POST", "/calls/99999999/transfer", 404, "call.not.found", json={"destination": "2881"})


def test_transfer_to_voicemail(cti, devices, control) -> None:
    alice, bob = cti("alice"), cti("bob")
    control.ring("2880")
    call = alice.only_call()
    alice.post(f"/calls/{call['callId']}/answer/{devices('2880')}")
    alice.post(f"/calls/{call['callId']}/transfer", {"destination": "2881", "blind": True, "type": "VOICEMAIL"})
    assert bob.state()["calls"] == [] and alice.state()["calls"] == []
    control.ring("2880")
    call = alice.only_call()
    alice.post(f"/calls/{call['callId']}/answer/{devices('2880')}")
    done = alice.post(f"/calls/{call['callId']}/transfer", {"destination": "2881", "type": "VOICEMAIL"})
    assert done["status"] == "TERMINATED" and bob.state()["calls"] == [] and alice.state()["calls"] == []


def test_move_mute_dtmf_park_and_pickup(cti, devices, control) -> None:
    alice, bob = cti("alice"), cti("bob")
    control.ring("2880")
    call = alice.only_call()
    alice.post(f"/calls/{call['callId']}/answer/{devices('2880')}")
    moved = alice.post(f"/calls/{call['callId']}/move/{devices('2880', 'MOBILE')}")
    assert moved["deviceIds"] == ["0.+16135550101"]
    alice.refused("POST", f"/calls/{call['callId']}/move/0.+16135550101", 409, "invalid.call.state")
    muted = alice.post(f"/calls/{call['callId']}/mute")
    assert muted["muted"] is True and muted["event"] == "MUTED" and any(a["action"] == "UNMUTE"
                                                                        for a in muted["actions"])
    alice.refused("POST", f"/calls/{call['callId']}/mute", 409, "invalid.call.state")
    assert alice.post(f"/calls/{call['callId']}/unmute")["event"] == "UNMUTED"
    assert alice.post(f"/calls/{call['callId']}/dtmf", {"digits": "12#"})["status"] == "ACTIVE"
    alice.refused("POST", f"/calls/{call['callId']}/dtmf", 400, "invalid.args", json={"digits": "x"})
    parked = alice.post(f"/calls/{call['callId']}/park")
    assert parked["status"] == "TERMINATED" and alice.state()["calls"] == []
    waiting = next(leg for c in control.live() for leg in c["legs"] if leg["endpointId"] == "+16135550123")
    picked = bob.post(f"/devices/{devices('2881')}/pickup/{waiting['legId']}")
    assert picked["status"] == "ACTIVE" and picked["remoteParty"]["displayNumber"] == "+16135550123"
    # pickup of a call ringing for someone else
    control.ring("2882")
    carol_leg = next(leg for c in control.live() for leg in c["legs"] if leg["endpointId"] == "2882")
    taken = alice.post(f"/devices/{devices('2880')}/pickup/{carol_leg['legId']}")
    assert taken["status"] == "ACTIVE" and taken["remoteParty"]["displayNumber"] == "+16135550123"
    alice.refused("POST", f"/devices/{devices('2880')}/pickup/12345678", 404, "call.not.found")


def test_pickup_by_dialog(cti, devices, control) -> None:
    alice = cti("alice")
    control.ring("2882")
    call = next(c for c in control.live())
    ringing = next(leg for leg in call["legs"] if leg["endpointId"] == "2882")
    caller = next(leg for leg in call["legs"] if leg["endpointId"] != "2882")
    alice.refused("POST", f"/devices/{devices('2880')}/pickup", 404, "dialog.does.not.exist",
                  json={"callId": call["callId"], "toTag": ringing["legId"], "fromTag": "nope", "earlyOnly": True})
    # the caller's side of the dialog is not ringing: it cannot be picked up
    alice.refused("POST", f"/devices/{devices('2880')}/pickup", 409, "invalid.call.state",
                  json={"callId": call["callId"], "toTag": caller["legId"], "fromTag": ringing["legId"],
                        "earlyOnly": True})
    picked = alice.post(f"/devices/{devices('2880')}/pickup", {"callId": call["callId"], "toTag": ringing["legId"],
                                                               "fromTag": caller["legId"], "earlyOnly": True})
    assert picked["status"] == "ACTIVE"


def test_recording(cti, devices, control, client, as_user) -> None:
    alice = cti("alice")
    control.ring("2880")
    call = alice.only_call()["callId"]
    alice.post(f"/calls/{call}/answer/{devices('2880')}")
    alice.refused("POST", f"/calls/{call}/recording/stop", 409, "not.recording")
    started = alice.post(f"/calls/{call}/recording/start")
    assert started["recording"] is True and {"STOP_REC", "PAUSE_REC", "DISCARD_REC"} <= {
        a["action"] for a in started["actions"]}
    control.advance(3)
    paused = alice.post(f"/calls/{call}/recording/pause")
    assert paused["recording"] is False and paused["externalRecordingPaused"] is True
    assert any(a["action"] == "RESUME_REC" for a in paused["actions"])
    assert alice.post(f"/calls/{call}/recording/resume")["recording"] is True
    discarded = alice.post(f"/calls/{call}/recording/discard")
    assert any(a["action"] == "SAVE_REC" for a in discarded["actions"])
    saved = alice.post(f"/calls/{call}/recording/save")
    assert any(a["action"] == "DISCARD_REC" for a in saved["actions"])
    stopped = alice.post(f"/calls/{call}/recording/stop")
    assert stopped["recording"] is False and any(a["action"] == "START_REC" for a in stopped["actions"])
    recordings = client.get("/2017-09-01/recordings", headers=as_user("admin@acme.example")).json()["_embedded"]
    assert len(recordings["items"]) == 1
    # a discarded recording is dropped when it stops
    alice.post(f"/calls/{call}/recording/start")
    alice.post(f"/calls/{call}/recording/discard")
    alice.post(f"/calls/{call}/recording/stop")
    after = client.get("/2017-09-01/recordings", headers=as_user("admin@acme.example")).json()["_embedded"]
    assert len(after["items"]) == 1


def test_cti_refusals(cti, client, ticket, devices) -> None:
    alice = cti("alice")
    alice.refused("POST", "/calls/12345678/hold", 404, "call.not.found")
    admin_cti = Cti(client, alice.openapi, ticket("admin@acme.example", ("CALL_CONTROL",)), "admin")
    admin_cti.refused("GET", "/calls", 404, "user.has.no.devices")
    # an admin acts for a user of the organisation
    for_bob = Cti(client, alice.openapi, ticket("admin@acme.example", ("CALL_CONTROL",)), "bob")
    assert for_bob.state() == {"fullState": True, "calls": []}
