"""The PBX rules of the engine, driven through the Media API and the ``/_callyard/sim`` routes on the manual
clock: busy and call waiting, diversions, DND, ring-no-answer to voicemail and message waiting, Make Call
timeouts and bridging, recording, ACD queues and agents, hunt groups and behaviour profiles."""
from __future__ import annotations

import json

from tests.support.pbx import (ACME_USERS, B, CALLS, SUPPORT, Events, Pbx, expect_error, leg_states, ok)

X = "+16135550123"
Y = "+16135550777"
Z = "+16135550888"


def caller_leg(pbx: Pbx, number: str) -> dict:
    [leg] = pbx.sim(number)["calls"]
    return leg


def record_of(pbx: Pbx, leg_id: str) -> dict:
    found = [r for r in pbx.records() if r["callId"] == leg_id]
    assert len(found) == 1, found
    return found[0]


# ---------------------------------------------------------------------------- busy and call waiting
def test_busy_when_in_a_call_and_call_waiting_off(pbx: Pbx, as_user) -> None:
    pbx.configure("2881", voicemail=False)
    pbx.dial_in(X, "2881")
    pbx.phone("2881", "answer")
    second = pbx.c.post("/_callyard/sim/calls", json={"from": Y, "to": "2881"}, headers=pbx.admin).json()["caller"]
    assert (second["state"], second["cause"]) == ("completed", "busy")
    assert len(pbx.calls("2881")) == 1
    # An internal caller meets the same busy; the Make Call answer shows it.
    alice = as_user("alice@acme.example")
    made = pbx.make_call("2880", "2881", alice)
    assert (made["state"], made["cause"]) == ("completed", "busy")
    assert pbx.calls("2880", alice) == []
    assert record_of(pbx, made["callId"])["cause"] == "busy"


def test_busy_goes_to_voicemail_by_default_and_call_waiting_rings(pbx: Pbx) -> None:
    pbx.dial_in(X, "2881")
    pbx.phone("2881", "answer")
    pbx.dial_in(Y, "2881")
    to_voicemail = next(c for c in pbx.live() if Y in leg_states(c))
    assert leg_states(to_voicemail) == {Y: "connected", "6000": "connected"}
    assert next(leg for leg in to_voicemail["legs"] if leg["endpointId"] == "6000")["cause"] == "busy"
    pbx.phone(Y, "hangup")

    pbx.configure("2881", callWaiting=True)
    pbx.dial_in(Z, "2881")
    states = sorted(c["state"] for c in pbx.calls("2881"))
    assert states == ["connected", "ringing"]
    waiting = next(c for c in pbx.calls("2881") if c["state"] == "ringing")
    pbx.act("2881", waiting["callId"], "answer")
    assert {c["callId"]: c["state"] for c in pbx.calls("2881")}[waiting["callId"]] == "connected"
    assert sorted(c["state"] for c in pbx.calls("2881")) == ["connected", "held"]
    held = ok(pbx.c.get(f"{B}/endpoints/2881/calls", params={"$filter": "state eq 'held'"}, headers=pbx.admin),
              "GET", CALLS)
    assert [c["from"] for c in held["_embedded"]["items"]] == [X]


# ---------------------------------------------------------------------------- diversions
def test_forward_always(pbx: Pbx) -> None:
    pbx.configure("2881", forwardAlways="2882")
    pbx.dial_in(X, "2881")
    assert pbx.calls("2881") == []
    carol = pbx.only_call("2882")
    assert (carol["state"], carol["cause"], carol["from"]) == ("ringing", "callForwardAlways", X)
    pbx.configure("2881", forwardAlways=None)
    pbx.dial_in(Y, "2881")
    assert pbx.only_call("2881")["from"] == Y


def test_forward_busy(pbx: Pbx) -> None:
    pbx.configure("2881", forwardBusy="2882")
    pbx.dial_in(X, "2881")
    pbx.phone("2881", "answer")
    pbx.dial_in(Y, "2881")
    carol = pbx.only_call("2882")
    assert (carol["cause"], carol["from"]) == ("callForwardBusy", Y)


def test_forward_no_answer_then_voicemail(pbx: Pbx) -> None:
    pbx.configure("2881", forwardNoAnswer="2882")
    pbx.dial_in(X, "2881")
    bob = pbx.only_call("2881")
    pbx.advance(14.9)
    assert pbx.call("2881", bob["callId"])["state"] == "ringing" and pbx.calls("2882") == []
    pbx.advance(0.1)
    pbx.gone("2881", bob["callId"])
    carol = pbx.only_call("2882")
    assert (carol["state"], carol["cause"]) == ("ringing", "callForwardNoAnswer")
    assert record_of(pbx, bob["callId"])["cause"] == "callForwardNoAnswer"
    pbx.advance(15)  # Carol does not answer either: her voicemail takes it
    [live] = pbx.live()
    assert leg_states(live) == {X: "connected", "6000": "connected"}


def test_forward_loops_and_bad_targets(pbx: Pbx) -> None:
    pbx.configure("2881", forwardAlways="2882")
    pbx.configure("2882", forwardAlways="2881")
    caller = pbx.c.post("/_callyard/sim/calls", json={"from": X, "to": "2881"}, headers=pbx.admin).json()["caller"]
    assert (caller["state"], caller["cause"]) == ("completed", "destNotObtainable")
    assert pbx.live() == []
    for body in ({"forwardBusy": "2999"}, {"forwardNoAnswer": "2881"}, {"forwardAlways": 2882}, {"shout": True}):
        response = pbx.c.put("/_callyard/sim/endpoints/2881", json=body, headers=pbx.admin)
        assert response.status_code == 400, response.text
        assert set(response.json()) >= {"name", "message"}
    assert pbx.sim("2881")["settings"]["forwardAlways"] == "2882"


def test_forward_to_voicemail(pbx: Pbx) -> None:
    pbx.configure("2881", forwardAlways="voicemail")
    pbx.dial_in(X, "2881")
    [live] = pbx.live()
    assert leg_states(live) == {X: "connected", "6000": "connected"}


def test_out_of_service(pbx: Pbx) -> None:
    pbx.configure("2881", outOfService=True)
    assert pbx.endpoint("2881")["state"] == "outOfService"
    caller = pbx.c.post("/_callyard/sim/calls", json={"from": X, "to": "2881"}, headers=pbx.admin).json()["caller"]
    assert (caller["state"], caller["cause"]) == ("completed", "destNotObtainable")
    pbx.configure("2881", outOfService=False)
    assert pbx.endpoint("2881")["state"] == "idle"


# ---------------------------------------------------------------------------- DND, voicemail, message waiting
def test_dnd_sends_callers_to_voicemail(pbx: Pbx, as_user) -> None:
    bob = as_user("bob@acme.example")
    pbx.set_endpoint("2881", bob, action="dnd", userAvailability="available", enabled=True)
    pbx.dial_in(X, "2881")
    assert pbx.calls("2881", bob) == []
    [live] = pbx.live()
    vm = next(leg for leg in live["legs"] if leg["endpointId"] == "6000")
    assert (vm["state"], vm["cause"], vm["to"]) == ("connected", "doNotDisturb", "2881")
    caller = caller_leg(pbx, X)
    assert caller["state"] == "connected" and caller["answeredOn"]
    pbx.advance(8)
    pbx.phone(X, "hangup")
    assert pbx.endpoint("2881", bob)["messageWaiting"] is True
    # DND with forwardDnd diverts instead; DND off rings again.
    pbx.configure("2881", forwardDnd="2882")
    pbx.dial_in(Y, "2881")
    assert pbx.only_call("2882")["cause"] == "doNotDisturb"
    pbx.set_endpoint("2881", bob, action="dnd", userAvailability="available", enabled=False)
    pbx.dial_in(Z, "2881")
    assert pbx.only_call("2881", bob)["from"] == Z


def test_ring_no_answer_goes_to_voicemail_and_sets_message_waiting(pbx: Pbx, as_user) -> None:
    bob = as_user("bob@acme.example")
    pbx.dial_in(X, "2881")
    ringing = pbx.only_call("2881", bob)
    pbx.advance(14)
    assert pbx.call("2881", ringing["callId"], bob)["state"] == "ringing"
    assert pbx.endpoint("2881", bob)["messageWaiting"] is False
    pbx.advance(1)
    pbx.gone("2881", ringing["callId"])
    [live] = pbx.live()
    assert leg_states(live) == {X: "connected", "6000": "connected"}
    pbx.advance(20)
    pbx.phone(X, "hangup")
    assert pbx.live() == []
    endpoint = pbx.endpoint("2881", bob)
    assert endpoint["messageWaiting"] is True
    record = record_of(pbx, ringing["callId"])
    assert (record["cause"], record["completed"], record["ringTime"]) == ("callNotAnswer", False, 15.0)
    # The voicemail system hangs up on a caller who talks too long (120 s).
    pbx.dial_in(Y, "2882")
    pbx.advance(15 + 120)
    assert pbx.live() == []


# ---------------------------------------------------------------------------- Make Call options
def test_originate_timeout_expires(pbx: Pbx, as_user) -> None:
    alice = as_user("alice@acme.example")
    made = pbx.make_call("2880", "2881", alice, originateTimeout=5)
    bob = pbx.only_call("2881")
    pbx.advance(4.9)
    assert pbx.call("2880", made["callId"], alice)["state"] == "connected"
    pbx.advance(0.1)
    pbx.gone("2880", made["callId"])
    pbx.gone("2881", bob["callId"])
    mine = record_of(pbx, made["callId"])
    assert (mine["cause"], mine["completed"]) == ("callNotAnswer", False)
    assert record_of(pbx, bob["callId"])["cause"] == "callCancelled"
    # Answered in time, the timeout does nothing.
    made = pbx.make_call("2880", "2881", alice, originateTimeout=5)
    pbx.phone("2881", "answer")
    pbx.advance(10)
    assert pbx.call("2880", made["callId"], alice)["state"] == "connected"


def test_execute_on_answer_bridge(pbx: Pbx, as_user, events: Events) -> None:
    alice = as_user("alice@acme.example")
    pbx.dial_in(X, "2880")
    pbx.phone("2880", "answer")
    first = pbx.only_call("2880", alice)
    consult = pbx.make_call("2880", "2882", alice, associatedCallId=first["callId"], executeOnAnswer="bridge")
    assert pbx.call("2880", first["callId"], alice)["state"] == "held"
    assert json.loads(consult["extraPbxData"])["consultFor"] == first["callId"]
    pbx.advance(3)
    pbx.phone("2882", "answer")
    # Alice drops out; the caller and Carol talk.
    assert pbx.calls("2880", alice) == []
    [live] = pbx.live()
    assert leg_states(live) == {X: "connected", "2882": "connected"}
    carol = pbx.only_call("2882")
    assert carol["from"] == X and carol["cause"] == "transfer"
    caller = caller_leg(pbx, X)
    assert caller["to"] == "2882" and caller["cause"] == "transfer"
    # The associated call must be active; a held associated call with a plain Make Call is a consultation.
    expect_error(pbx.c.post(f"{B}/endpoints/2882/calls", json={"to": "2880", "associatedCallId": "1"},
                            headers=pbx.admin), 404, "POST", CALLS, "CallNotFound")


def test_blind_transfer_to_a_busy_extension_meets_its_busy_handling(pbx: Pbx) -> None:
    pbx.dial_in(X, "2881")
    pbx.phone("2881", "answer")
    pbx.dial_in(Y, "2882")
    pbx.phone("2882", "answer")
    bob = pbx.only_call("2881")
    pbx.act("2881", bob["callId"], "blindTransfer", args="2882")
    calls = {frozenset(leg_states(c)): leg_states(c) for c in pbx.live()}
    assert {X: "connected", "6000": "connected"} in calls.values()
    assert {Y: "connected", "2882": "connected"} in calls.values()


# ---------------------------------------------------------------------------- recording
def test_recording_from_make_call_excludes_paused_time(pbx: Pbx, as_user) -> None:
    alice, bob = as_user("alice@acme.example"), as_user("bob@acme.example")
    made = pbx.make_call("2880", "2881", alice, record=True)
    pbx.advance(4)  # ringing is not recorded
    pbx.phone("2881", "answer")
    pbx.advance(10)
    pbx.act("2880", made["callId"], "pauseRecording", alice)
    pbx.advance(5)
    pbx.act("2880", made["callId"], "resumeRecording", alice)
    pbx.advance(7)
    bob_leg = pbx.only_call("2881", bob)
    pbx.act("2881", bob_leg["callId"], "tagRecording", bob, args='{"CustomP100": "Support"}')
    assert ok(pbx.c.get(f"{B}/recordings", headers=pbx.admin), "GET", "/recordings")["count"] == 0
    pbx.act("2881", bob_leg["callId"], "end", bob)

    listing = ok(pbx.c.get(f"{B}/recordings", headers=pbx.admin), "GET", "/recordings")
    [recording] = listing["_embedded"]["items"]
    assert recording["durationInSeconds"] == 17.0
    assert recording["callId"] == json.loads(made["extraPbxData"])["callTrackingID"]
    assert json.loads(recording["label"]) == {"CustomP100": "Support"}
    # The recorded parties see it too, a bystander does not.
    for headers in (alice, bob):
        mine = ok(pbx.c.get(f"{B}/recordings", headers=headers), "GET", "/recordings")
        assert [r["recordingId"] for r in mine["_embedded"]["items"]] == [recording["recordingId"]]
    carol = as_user("carol@acme.example")
    assert ok(pbx.c.get(f"{B}/recordings", headers=carol), "GET", "/recordings")["count"] == 0


def test_a_call_without_record_is_not_recorded(pbx: Pbx, as_user) -> None:
    alice = as_user("alice@acme.example")
    made = pbx.make_call("2880", "2881", alice)
    pbx.phone("2881", "answer")
    expect_error(pbx.put_call("2880", made["callId"], {"action": "pauseRecording"}, alice), 409, "PUT",
                 "/endpoints/{endpointId}/calls/{callId}", "NotRecording")
    pbx.phone("2881", "hangup")
    assert ok(pbx.c.get(f"{B}/recordings", headers=pbx.admin), "GET", "/recordings")["count"] == 0


# ---------------------------------------------------------------------------- ACD
def test_acd_longest_idle_rona_and_one_call_per_agent(pbx: Pbx, events: Events) -> None:
    stats = pbx.queues()["Support"]
    assert (stats["agentsLoggedIn"], stats["agentsFree"], stats["waiting"]) == (0, 0, 0)
    pbx.dial_in(X, "+16135550100")  # the Support DID
    assert pbx.queues()["Support"]["waiting"] == 1
    assert pbx.calls("2880") == [] and pbx.calls("200") == []  # nobody logged in: the call waits

    pbx.agent("200", loggedIn=True)  # Dave first: he has been idle longest
    dave = pbx.only_call("200")
    assert (dave["state"], dave["from"], dave["to"]) == ("ringing", X, "5000")
    assert json.loads(dave["extraPbxData"])["queueId"] == SUPPORT
    pbx.advance(1)
    pbx.agent("2880", loggedIn=True)
    assert pbx.calls("2880") == []  # one offer at a time
    stats = pbx.queues()["Support"]
    assert (stats["agentsLoggedIn"], stats["agentsFree"]) == (2, 1)

    pbx.advance(15)  # RONA: Dave is made not ready, the call goes to Alice
    pbx.gone("200", dave["callId"])
    assert record_of(pbx, dave["callId"])["cause"] == "callNotAnswer"
    agent = pbx.agent("200")
    assert (agent["loggedIn"], agent["ready"], agent["reason"]) == (True, False, "RONA")
    alice = pbx.only_call("2880")
    assert alice["state"] == "ringing" and alice["from"] == X
    stats = pbx.queues()["Support"]
    assert stats["agentsFree"] == 0 and stats["waiting"] == 1
    pbx.phone("2880", "answer")
    assert leg_states(pbx.live()[0]) == {X: "connected", "2880": "connected"}
    assert pbx.queues()["Support"]["waiting"] == 0

    # A second caller waits: Alice is busy and Dave is not ready.
    pbx.dial_in(Y, "5000")
    assert len(pbx.calls("2880")) == 1 and pbx.calls("200") == []
    assert pbx.queues()["Support"]["waiting"] == 1
    pbx.agent("200", ready=True)
    assert pbx.only_call("200")["from"] == Y
    pbx.phone("200", "answer")

    # The agent hangs up: the caller's call is over, and the agent is free for the next one.
    pbx.advance(30)
    pbx.phone("2880", "hangup")
    assert pbx.sim(X)["calls"] == []
    assert [leg_states(c) for c in pbx.live()] == [{Y: "connected", "200": "connected"}]
    pbx.phone(Y, "hangup")
    assert pbx.live() == [] and pbx.calls("200") == []
    stats = pbx.queues()["Support"]
    assert (stats["waiting"], stats["answeredToday"], stats["offeredToday"], stats["agentsFree"]) == (0, 2, 2, 2)

    # A caller who gives up while waiting is abandoned.
    pbx.agent("200", loggedIn=False)
    pbx.agent("2880", loggedIn=False)
    pbx.dial_in(Z, "5000")
    pbx.advance(20)
    pbx.phone(Z, "hangup")
    stats = pbx.queues()["Support"]
    assert (stats["waiting"], stats["abandonedToday"], stats["offeredToday"]) == (0, 1, 3)
    assert all(e.data["state"] != "ringing" or e.data["endpointId"] in ("200", "2880") for e in events.items)


def test_acd_agent_never_gets_two_calls(pbx: Pbx) -> None:
    pbx.agent("2880", loggedIn=True)
    pbx.dial_in(X, "5000")
    pbx.dial_in(Y, "5000")
    assert len(pbx.calls("2880")) == 1
    pbx.advance(10)
    pbx.phone("2880", "answer")
    assert len(pbx.calls("2880")) == 1
    # Even a direct call finds the agent busy (voicemail), not ringing a second time.
    pbx.dial_in(Z, "2880")
    assert len(pbx.calls("2880")) == 1
    pbx.phone("2880", "hangup")
    nxt = pbx.only_call("2880")
    assert nxt["state"] == "ringing" and nxt["from"] == Y


def test_acd_caller_gives_up_while_an_agent_rings(pbx: Pbx) -> None:
    pbx.agent("200", loggedIn=True)
    pbx.dial_in(X, "5000")
    dave = pbx.only_call("200")
    pbx.advance(5)
    pbx.phone(X, "hangup")
    pbx.gone("200", dave["callId"])
    assert pbx.live() == []
    assert record_of(pbx, dave["callId"])["cause"] == "callCancelled"
    pbx.advance(30)  # no RONA for a call that is gone: Dave stays ready and takes the next one
    stats = pbx.queues()["Support"]
    assert (stats["waiting"], stats["abandonedToday"], stats["agentsFree"]) == (0, 1, 1)
    pbx.dial_in(Y, "5000")
    assert pbx.only_call("200")["from"] == Y


def test_acd_offer_redirected(pbx: Pbx) -> None:
    pbx.agent("200", loggedIn=True)
    pbx.dial_in(X, "5000")
    dave = pbx.only_call("200")
    moved = pbx.act("200", dave["callId"], "redirect", args="2882")
    assert (moved["state"], moved["cause"]) == ("completed", "redirected")
    assert record_of(pbx, dave["callId"])["cause"] == "redirected"
    carol = pbx.only_call("2882")
    assert (carol["state"], carol["cause"], carol["from"]) == ("ringing", "redirected", X)
    assert pbx.calls("200") == [] and pbx.queues()["Support"]["waiting"] == 0
    pbx.phone("2882", "answer")
    pbx.phone("2882", "hangup")
    assert pbx.live() == []


def test_acd_caller_hangs_up_after_answer(pbx: Pbx) -> None:
    pbx.agent("200", loggedIn=True)
    pbx.dial_in(X, "5000")
    pbx.phone("200", "answer")
    pbx.phone(X, "hangup")
    assert pbx.live() == [] and pbx.calls("200") == []


# ---------------------------------------------------------------------------- hunt group
def test_hunt_group_rings_all_and_the_first_answer_wins(pbx: Pbx, events: Events) -> None:
    pbx.dial_in(X, "+16135550199")  # the Sales DID
    bob, carol = pbx.only_call("2881"), pbx.only_call("2882")
    assert bob["state"] == carol["state"] == "ringing"
    assert bob["to"] == carol["to"] == "5100"
    pbx.advance(2)
    pbx.phone("2882", "answer")
    pbx.gone("2881", bob["callId"])
    assert events.states(bob["callId"]) == ["ringing", "completed"]
    assert events.of(bob["callId"])[-1]["cause"] == "callCancelled"
    assert leg_states(pbx.live()[0]) == {X: "connected", "2882": "connected"}
    # Carol hangs up: the call is over.
    pbx.phone("2882", "hangup")
    assert pbx.live() == []
    assert record_of(pbx, bob["callId"])["cause"] == "callCancelled"


def test_hunt_group_skips_busy_members(pbx: Pbx) -> None:
    pbx.dial_in(Y, "2881")
    pbx.phone("2881", "answer")
    pbx.dial_in(X, "5100")
    assert len(pbx.calls("2881")) == 1
    assert pbx.only_call("2882")["from"] == X


# ---------------------------------------------------------------------------- behaviour profiles
def test_profile_answers_after_3_seconds_and_hangs_up_after_10(pbx: Pbx) -> None:
    pbx.configure("2882", profile={"mode": "answer", "answerAfter": 3, "talkSeconds": 10})
    pbx.dial_in(X, "2882")
    leg = pbx.only_call("2882")
    pbx.advance(2.9)
    assert pbx.call("2882", leg["callId"])["state"] == "ringing"
    pbx.advance(0.1)
    assert pbx.call("2882", leg["callId"])["state"] == "connected"
    pbx.advance(9.9)
    assert pbx.call("2882", leg["callId"])["state"] == "connected"
    pbx.advance(0.1)
    pbx.gone("2882", leg["callId"])
    assert pbx.live() == []
    record = record_of(pbx, leg["callId"])
    assert (record["ringTime"], record["billingTime"], record["completed"]) == (3.0, 10.0, True)
    # In one long advance the timers fire in order too.
    pbx.dial_in(Y, "2882")
    pbx.advance(60)
    assert pbx.live() == []


def test_profile_busy_and_auto_answer(pbx: Pbx) -> None:
    pbx.configure("2882", profile={"mode": "autoAnswer"}, voicemail=False)
    pbx.dial_in(X, "2882")
    pbx.advance(0)
    assert pbx.only_call("2882")["state"] == "connected"
    pbx.phone(X, "hangup")
    pbx.configure("2882", profile={"mode": "busy"})
    caller = pbx.c.post("/_callyard/sim/calls", json={"from": Y, "to": "2882"}, headers=pbx.admin).json()
    pbx.advance(0)
    assert pbx.live() == [] and pbx.calls("2882") == []
    bad = pbx.c.put("/_callyard/sim/endpoints/2882", json={"profile": {"mode": "sing"}}, headers=pbx.admin)
    assert bad.status_code == 400 and bad.json()["name"] == "InvalidProfile"
    assert caller["callId"]
    assert ACME_USERS["2882"] == pbx.sim("2882")["userId"]


def _voicemails(pbx: Pbx) -> list[dict]:
    response = pbx.c.get("/_callyard/state", headers=pbx.admin)
    assert response.status_code == 200, response.text
    return response.json()["documents"].get("voicemail", [])


def test_any_call_that_reaches_voicemail_and_stays_leaves_a_message(pbx: Pbx, as_user) -> None:
    """Not only busy or unanswered calls: a caller transferred or redirected to the voicemail pilot leaves a
    message in the mailbox of whoever sent them there; an outside caller who dials the pilot leaves one in
    its general mailbox; an extension that dials its own voicemail is listening and leaves none."""
    bob, carol = as_user("bob@acme.example"), as_user("carol@acme.example")
    pbx.dial_in(X, "2881")
    pbx.phone("2881", "answer")
    leg = pbx.only_call("2881", bob)
    pbx.act("2881", leg["callId"], "blindTransfer", bob, destination="6000")
    [live] = pbx.live()
    assert leg_states(live) == {X: "connected", "6000": "connected"}
    pbx.advance(12)
    pbx.phone(X, "hangup")
    [message] = _voicemails(pbx)
    assert (message["endpointId"], message["from"], message["durationInSeconds"]) == ("2881", X, 12.0)
    assert pbx.endpoint("2881", bob)["messageWaiting"] is True

    pbx.dial_in(Y, "2882")
    ringing = pbx.only_call("2882", carol)
    pbx.act("2882", ringing["callId"], "redirect", carol, args="6000")
    pbx.advance(7)
    pbx.phone(Y, "hangup")
    assert [(m["endpointId"], m["from"], m["durationInSeconds"]) for m in _voicemails(pbx)
            if m["from"] == Y] == [("2882", Y, 7.0)]
    assert pbx.endpoint("2882", carol)["messageWaiting"] is True

    pbx.dial_in(Z, "6000")
    pbx.advance(5)
    pbx.phone(Z, "hangup")
    assert [(m["endpointId"], m.get("userId")) for m in _voicemails(pbx) if m["from"] == Z] == [("6000", None)]

    alice = as_user("alice@acme.example")
    made = pbx.make_call("2880", "6000", alice)
    pbx.advance(9)
    pbx.act("2880", made["callId"], "end", alice)
    assert len(_voicemails(pbx)) == 3
    assert pbx.endpoint("2880", alice)["messageWaiting"] is False
