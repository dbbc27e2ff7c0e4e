"""Media call control over HTTP: endpoint state, Make Call and every ``PUT /endpoints/{id}/calls/{callId}``
action, with the errors each one answers. Every Media response is checked against the vendor swagger;
a rejected action must leave the call exactly as it was."""
from __future__ import annotations

import json

from tests.support.pbx import (ACME_USERS, B, CALL, CALLS, ENDPOINT, Events, Pbx, expect_error, leg_states, ok)

X = "+16135550123"   # an outside caller
Y = "+16135550777"


def pbx_data(call: dict) -> dict:
    return json.loads(call["extraPbxData"])


# ---------------------------------------------------------------------------- endpoints
def test_endpoint_state_and_settings(pbx: Pbx, as_user) -> None:
    alice = as_user("alice@acme.example")
    idle = pbx.endpoint("2880", alice)
    assert idle["endpointId"] == "2880" and idle["state"] == "idle" and idle["userAvailability"] == "available"
    assert idle["dnd"] is False and idle["messageWaiting"] is False and idle["pstnRouting"] == "disabled"
    assert idle["name"] == "Alice Anders" and idle["_links"]["self"] == f"{B}/endpoints/2880"

    dnd = pbx.set_endpoint("2880", alice, action="dnd", userAvailability="away", enabled=True)
    assert dnd["dnd"] is True and dnd["userAvailability"] == "dnd"
    assert pbx.endpoint("2880", alice)["dnd"] is True
    # "If dnd, do nothing" to the app's availability: it stays what the last request said.
    cleared = pbx.set_endpoint("2880", alice, action="dnd", userAvailability="dnd", enabled=False)
    assert cleared["dnd"] is False and cleared["userAvailability"] == "away"
    assert pbx.set_endpoint("2880", alice, action="messageWaiting", userAvailability="available",
                            enabled=True)["messageWaiting"] is True
    assert pbx.set_endpoint("2880", alice, action="pstnRouting", userAvailability="available",
                            enabled=True)["pstnRouting"] == "enabled"

    put = lambda body: pbx.c.put(f"{B}/endpoints/2880", json=body, headers=alice)  # noqa: E731
    expect_error(put({"action": "dnd"}), 400, "PUT", ENDPOINT)                                  # missing
    expect_error(put({"action": "shout", "userAvailability": "available"}), 400, "PUT", ENDPOINT)
    expect_error(put({"action": "dnd", "userAvailability": "asleep"}), 400, "PUT", ENDPOINT)
    expect_error(put({"action": "dnd", "userAvailability": "available", "timeoutMs": 5}), 400, "PUT", ENDPOINT)
    expect_error(put({"action": "dnd", "userAvailability": "available", "colour": "red"}), 400, "PUT", ENDPOINT)
    after = pbx.endpoint("2880", alice)
    assert (after["dnd"], after["messageWaiting"], after["pstnRouting"]) == (False, True, "enabled")

    expect_error(pbx.c.get(f"{B}/endpoints/2999", headers=alice), 404, "GET", ENDPOINT, "EndpointNotFound")
    expect_error(pbx.c.get(f"{B}/endpoints/2999/calls", headers=alice), 404, "GET", CALLS, "EndpointNotFound")
    expect_error(pbx.c.get(f"{B}/endpoints/2880"), 401, "GET", ENDPOINT)


def test_endpoint_state_follows_its_calls(pbx: Pbx) -> None:
    pbx.dial_in(X, "2881")
    assert pbx.endpoint("2881")["state"] == "ringing"
    assert pbx.endpoint("2881")["userAvailability"] == "busy"
    pbx.phone("2881", "answer")
    assert pbx.endpoint("2881")["state"] == "connected"
    leg = pbx.only_call("2881")
    pbx.act("2881", leg["callId"], "hold")
    assert pbx.endpoint("2881")["state"] == "held"
    pbx.act("2881", leg["callId"], "end")
    idle = pbx.endpoint("2881")
    assert idle["state"] == "idle" and idle["userAvailability"] == "available"
    assert pbx.calls("2881") == []


# ---------------------------------------------------------------------------- make call
def test_make_call_answer_hold_retrieve_end(pbx: Pbx, as_user, events: Events) -> None:
    alice, bob = as_user("alice@acme.example"), as_user("bob@acme.example")
    made = pbx.make_call("2880", "2881", alice)
    assert (made["state"], made["cause"], made["direction"]) == ("connected", "newCall", "outbound")
    assert made["from"] == "2880" and made["to"] == "2881" and made["toName"] == "Bob Brown"
    assert made["fromPrincipalId"] == ACME_USERS["2880"] and made["toPrincipalId"] == ACME_USERS["2881"]
    assert made["_links"]["self"] == f"{B}/endpoints/2880/calls/{made['callId']}"
    assert pbx.call("2880", made["callId"], alice) == made

    ringing = pbx.only_call("2881", bob)
    assert (ringing["state"], ringing["cause"], ringing["direction"], ringing["from"]) == \
        ("ringing", "newCall", "inbound", "2880")
    assert pbx_data(ringing)["callTrackingID"] == pbx_data(made)["callTrackingID"]

    pbx.advance(2)
    answered = pbx.act("2881", ringing["callId"], "answer", bob)
    assert answered["state"] == "connected" and answered["ringTime"] == 2.0
    assert pbx.call("2880", made["callId"], alice)["ringTime"] == 2.0

    held = pbx.act("2880", made["callId"], "hold", alice)
    assert held["state"] == "held"
    assert pbx.call("2881", ringing["callId"], bob)["state"] == "connected"
    assert pbx.act("2880", made["callId"], "retrieve", alice)["state"] == "connected"

    pbx.advance(10)
    ended = pbx.act("2881", ringing["callId"], "end", bob)
    assert ended["state"] == "completed" and ended["completed"] is True and ended["billingTime"] == 10.0
    pbx.gone("2880", made["callId"])
    pbx.gone("2881", ringing["callId"])
    assert pbx.live() == []

    # One call.state event per state change, in order, each with the next sequence number of the call.
    assert events.states(made["callId"]) == ["connected", "connected", "held", "connected", "completed"]
    assert events.states(ringing["callId"]) == ["ringing", "connected", "completed"]
    sequences = [e.data["sequence"] for e in events.items]
    assert sequences == list(range(1, len(sequences) + 1))


def test_make_call_to_an_outside_number_and_from_the_mobile(pbx: Pbx, as_user) -> None:
    alice = as_user("alice@acme.example")
    made = pbx.make_call("2880", "+1 (613) 555-0777", alice, **{"from": "+16135550101"}, fromName="Alice mobile")
    assert made["to"] == "+16135550777" and made["toNumberE164"] is True and made["fromName"] == "Alice mobile"
    outside = pbx.sim("+16135550777")["calls"][0]
    assert outside["state"] == "ringing" and outside["from"] == "2880"
    pbx.phone("+16135550777", "answer")
    assert pbx.call("2880", made["callId"], alice)["state"] == "connected"
    pbx.phone("+16135550777", "hangup")
    pbx.gone("2880", made["callId"])


def test_make_call_rejections(pbx: Pbx, as_user) -> None:
    alice = as_user("alice@acme.example")
    post = lambda body: pbx.c.post(f"{B}/endpoints/2880/calls", json=body, headers=alice)  # noqa: E731
    expect_error(post({}), 400, "POST", CALLS)
    expect_error(post({"to": ""}), 400, "POST", CALLS)
    expect_error(post({"to": "2881", "ring": True}), 400, "POST", CALLS)
    expect_error(post({"to": "2881", "originateTimeout": 500}), 400, "POST", CALLS)
    expect_error(post({"to": "2881", "executeOnAnswer": "merge"}), 400, "POST", CALLS)
    expect_error(post({"to": "2881", "executeOnAnswer": "bridge"}), 400, "POST", CALLS, "InvalidArgs")
    expect_error(post({"to": "not a number"}), 400, "POST", CALLS, "InvalidDestination")
    expect_error(post({"to": "2999"}), 400, "POST", CALLS, "DestinationNotObtainable")
    expect_error(post({"to": "2880"}), 400, "POST", CALLS, "InvalidDestination")
    expect_error(post({"to": "2881", "from": "2882"}), 400, "POST", CALLS, "InvalidFrom")
    expect_error(post({"to": "2881", "associatedCallId": "12345678"}), 404, "POST", CALLS, "CallNotFound")
    expect_error(pbx.c.post(f"{B}/endpoints/2999/calls", json={"to": "2881"}, headers=pbx.admin), 404, "POST",
                 CALLS, "EndpointNotFound")
    # Nothing rang anywhere.
    assert pbx.calls("2880", alice) == [] and pbx.calls("2881") == [] and pbx.live() == []


# ---------------------------------------------------------------------------- actions
def connected(pbx: Pbx, number: str = "2881", caller: str = X) -> dict:
    """An outside caller talking to ``number``; returns the endpoint's leg."""
    pbx.dial_in(caller, number)
    pbx.phone(number, "answer")
    leg = pbx.only_call(number)
    assert leg["state"] == "connected"
    return leg


def test_answer_and_end_through_media(pbx: Pbx, as_user) -> None:
    bob = as_user("bob@acme.example")
    pbx.dial_in(X, "2881")
    ringing = pbx.only_call("2881", bob)
    answered = pbx.act("2881", ringing["callId"], "answer", bob)
    assert answered["state"] == "connected" and pbx_data(answered)["terminal"].startswith("1.")  # the desk phone
    caller = pbx.sim(X)["calls"][0]
    assert caller["state"] == "connected" and caller["answeredOn"]
    ended = pbx.act("2881", ringing["callId"], "end", bob)
    assert ended["state"] == "completed"
    assert pbx.sim(X)["calls"] == [] and pbx.live() == []


def test_end_a_ringing_call_rejects_it_to_voicemail(pbx: Pbx, as_user) -> None:
    bob = as_user("bob@acme.example")
    pbx.dial_in(X, "2881")
    ringing = pbx.only_call("2881", bob)
    rejected = pbx.act("2881", ringing["callId"], "end", bob)
    assert (rejected["state"], rejected["cause"]) == ("completed", "busy")
    [live] = pbx.live()
    assert leg_states(live) == {X: "connected", "6000": "connected"}
    assert next(leg for leg in live["legs"] if leg["endpointId"] == "6000")["cause"] == "busy"


def test_redirect_a_ringing_call(pbx: Pbx, as_user) -> None:
    alice = as_user("alice@acme.example")
    pbx.dial_in(X, "2880")
    ringing = pbx.only_call("2880", alice)
    redirected = pbx.act("2880", ringing["callId"], "redirect", alice, args="2882")
    assert (redirected["state"], redirected["cause"]) == ("completed", "redirected")
    carol = pbx.only_call("2882")
    assert (carol["state"], carol["cause"], carol["from"]) == ("ringing", "redirected", X)
    # Only a ringing inbound call can be redirected, and not onto the endpoint it rings on.
    expect_error(pbx.put_call("2882", carol["callId"], {"action": "redirect", "args": "2882"}), 400, "PUT", CALL,
                 "InvalidDestination")
    pbx.phone("2882", "answer")
    expect_error(pbx.put_call("2882", carol["callId"], {"action": "redirect", "args": "2880"}), 409, "PUT", CALL,
                 "InvalidCallState")
    assert pbx.call("2882", carol["callId"])["state"] == "connected"


def test_blind_transfer_a_connected_call(pbx: Pbx, as_user, events: Events) -> None:
    bob = as_user("bob@acme.example")
    leg = connected(pbx, "2881")
    pbx.advance(5)
    moved = pbx.act("2881", leg["callId"], "blindTransfer", bob, args="2882")
    assert (moved["state"], moved["cause"], moved["billingTime"]) == ("completed", "transfer", 5.0)
    pbx.gone("2881", leg["callId"])
    carol = pbx.only_call("2882")
    assert (carol["state"], carol["cause"], carol["from"], carol["direction"]) == ("ringing", "transfer", X, "inbound")
    caller = pbx.sim(X)["calls"][0]
    assert caller["state"] == "connected" and caller["cause"] == "transfer" and caller["to"] == "2882"
    pbx.phone("2882", "answer")
    [live] = pbx.live()
    assert leg_states(live) == {X: "connected", "2882": "connected"}

    # The caller (already transferred once) holds, and Carol transfers the call on: the caller's leg is
    # taken off hold, and that state change is one event like every other.
    pbx.phone(X, "hold")
    assert pbx.sim(X)["calls"][0]["state"] == "held"
    events.clear()
    pbx.act("2882", carol["callId"], "blindTransfer", destination="2880")
    caller = pbx.sim(X)["calls"][0]
    assert caller["state"] == "connected" and caller["to"] == "2880"
    assert [e["state"] for e in events.of(caller["legId"])] == ["connected"]


def test_blind_transfer_rejections_change_nothing(pbx: Pbx) -> None:
    leg = connected(pbx, "2881")
    before = pbx.call("2881", leg["callId"])
    put = lambda body: pbx.put_call("2881", leg["callId"], body)  # noqa: E731
    expect_error(put({"action": "blindTransfer"}), 400, "PUT", CALL, "InvalidArgs")
    expect_error(put({"action": "blindTransfer", "args": "2999"}), 400, "PUT", CALL, "DestinationNotObtainable")
    expect_error(put({"action": "blindTransfer", "args": "abc"}), 400, "PUT", CALL, "InvalidDestination")
    expect_error(put({"action": "blindTransfer", "args": "2881"}), 400, "PUT", CALL, "InvalidDestination")
    expect_error(put({"action": "blindTransfer", "args": X}), 400, "PUT", CALL, "InvalidDestination")
    assert pbx.call("2881", leg["callId"]) == before
    assert [leg_states(c) for c in pbx.live()] == [{X: "connected", "2881": "connected"}]


def test_consult_then_conference_then_a_party_leaves(pbx: Pbx, as_user) -> None:
    bob = as_user("bob@acme.example")
    leg = connected(pbx, "2881")
    consult = pbx.act("2881", leg["callId"], "consult", bob, destination="2882")
    assert consult["callId"] != leg["callId"] and consult["to"] == "2882" and consult["direction"] == "outbound"
    assert pbx_data(consult)["consultFor"] == leg["callId"]
    assert pbx.call("2881", leg["callId"], bob)["state"] == "held"
    pbx.phone("2882", "answer")

    # Conference: sent on the consultation, args the held call (or the other way round).
    joined = pbx.act("2881", consult["callId"], "conference", bob, args=leg["callId"])
    assert joined["callId"] == leg["callId"] and joined["state"] == "connected"
    pbx.gone("2881", consult["callId"])
    [live] = pbx.live()
    assert leg_states(live) == {X: "connected", "2881": "connected", "2882": "connected"}
    carol = pbx.only_call("2882")
    assert pbx_data(carol)["callTrackingID"] == live["callId"]

    # Carol leaves: a two-way call between the caller and Bob goes on.
    pbx.act("2882", carol["callId"], "end")
    [live] = pbx.live()
    assert leg_states(live) == {X: "connected", "2881": "connected"}
    assert pbx.call("2881", leg["callId"])["state"] == "connected"
    pbx.phone(X, "hangup")
    assert pbx.live() == [] and pbx.calls("2881") == []


def test_the_conferencing_party_leaves_a_three_way_call(pbx: Pbx) -> None:
    leg = connected(pbx, "2881")
    consult = pbx.act("2881", leg["callId"], "consult", args="2882")
    pbx.phone("2882", "answer")
    pbx.act("2881", leg["callId"], "conference", callId=consult["callId"])
    pbx.act("2881", leg["callId"], "end")
    [live] = pbx.live()
    assert leg_states(live) == {X: "connected", "2882": "connected"}


def test_supervised_transfer_and_conference_rejections(pbx: Pbx) -> None:
    leg = connected(pbx, "2881")
    put = lambda call_id, body: pbx.put_call("2881", call_id, body)  # noqa: E731
    # No other call to join with.
    expect_error(put(leg["callId"], {"action": "supervisedTransfer"}), 400, "PUT", CALL, "InvalidArgs")
    expect_error(put(leg["callId"], {"action": "conference", "args": "99999999"}), 404, "PUT", CALL, "CallNotFound")
    consult = pbx.act("2881", leg["callId"], "consult", args="2882")
    expect_error(put(leg["callId"], {"action": "consult", "args": "2880"}), 409, "PUT", CALL, "InvalidCallState")
    expect_error(put(leg["callId"], {"action": "conference", "args": leg["callId"]}), 400, "PUT", CALL,
                 "InvalidArgs")
    pbx.phone("2882", "answer")
    # Both calls connected: one must be on hold.
    pbx.act("2881", leg["callId"], "retrieve")
    before = {c["callId"]: c for c in pbx.calls("2881")}
    assert before[consult["callId"]]["state"] == "held"
    pbx.act("2881", consult["callId"], "retrieve")  # swap back: the consultation talks, the caller holds
    assert {c["callId"]: c["state"] for c in pbx.calls("2881")} == {leg["callId"]: "held",
                                                                    consult["callId"]: "connected"}
    transferred = pbx.act("2881", consult["callId"], "supervisedTransfer", callId=leg["callId"])
    assert transferred["state"] == "connected" and transferred["cause"] == "transfer"
    [live] = pbx.live()
    assert leg_states(live) == {X: "connected", "2882": "connected"}


def test_dtmf(pbx: Pbx, as_user) -> None:
    bob = as_user("bob@acme.example")
    pbx.dial_in(X, "2881")
    ringing = pbx.only_call("2881", bob)
    expect_error(pbx.put_call("2881", ringing["callId"], {"action": "dtmf", "args": "1"}, bob), 409, "PUT", CALL,
                 "InvalidCallState")
    pbx.act("2881", ringing["callId"], "answer", bob)
    sent = pbx.act("2881", ringing["callId"], "dtmf", bob, args="12*#a")
    assert pbx_data(sent)["dtmf"] == "12*#A"
    before = pbx.call("2881", ringing["callId"], bob)
    for bad in ("12x", "", "1" * 65, "+1"):
        expect_error(pbx.put_call("2881", ringing["callId"], {"action": "dtmf", "args": bad}, bob), 400, "PUT", CALL,
                     "InvalidArgs")
    expect_error(pbx.put_call("2881", ringing["callId"], {"action": "dtmf"}, bob), 400, "PUT", CALL, "InvalidArgs")
    expect_error(pbx.put_call("2881", ringing["callId"], {"action": "dtmf", "args": 12}, bob), 400, "PUT", CALL)
    assert pbx.call("2881", ringing["callId"], bob) == before
    # The caller's keypad (simulator) lands on the caller's leg.
    pressed = pbx.c.post(f"/_callyard/sim/endpoints/{X}/dtmf", json={"digits": "9"}, headers=pbx.admin)
    assert pressed.status_code == 200 and pressed.json()["dtmf"] == "9"
    # A leg remembers its latest 256 digits, however many are sent (the response does not grow without bound).
    for _ in range(5):
        sent = pbx.act("2881", ringing["callId"], "dtmf", bob, args="0123456789" * 6)
    assert pbx_data(sent)["dtmf"] == ("12*#A" + "0123456789" * 30)[-256:]


def test_recording_actions_on_the_call(pbx: Pbx, as_user) -> None:
    alice = as_user("alice@acme.example")
    made = pbx.make_call("2880", "2881", alice, record=True)
    expect_error(pbx.put_call("2880", made["callId"], {"action": "pauseRecording"}, alice), 409, "PUT", CALL,
                 "NotRecording")  # not answered yet: nothing is recorded
    pbx.phone("2881", "answer")
    for action, name in (("resumeRecording", "RecordingNotPaused"),):
        expect_error(pbx.put_call("2880", made["callId"], {"action": action}, alice), 409, "PUT", CALL, name)
    pbx.act("2880", made["callId"], "pauseRecording", alice)
    expect_error(pbx.put_call("2880", made["callId"], {"action": "pauseRecording"}, alice), 409, "PUT", CALL,
                 "RecordingPaused")
    pbx.act("2880", made["callId"], "resumeRecording", alice)
    expect_error(pbx.put_call("2880", made["callId"], {"action": "tagRecording"}, alice), 400, "PUT", CALL,
                 "InvalidArgs")
    expect_error(pbx.put_call("2880", made["callId"], {"action": "tagRecording", "args": "not json"}, alice), 400,
                 "PUT", CALL, "InvalidArgs")
    pbx.act("2880", made["callId"], "tagRecording", alice, args='{"CustomP100": "Support"}')
    # Actions the Media API does not offer are a 400, not a 404 or 500.
    for action in ("startRecording", "stopRecording", "park", "transfer"):
        expect_error(pbx.put_call("2880", made["callId"], {"action": action}, alice), 400, "PUT", CALL)


# ---------------------------------------------------------------------------- errors change nothing
def test_unknown_calls_and_bad_requests(pbx: Pbx, as_user) -> None:
    bob = as_user("bob@acme.example")
    leg = connected(pbx, "2881")
    before = pbx.call("2881", leg["callId"], bob)
    expect_error(pbx.c.get(f"{B}/endpoints/2881/calls/00000000", headers=bob), 404, "GET", CALL, "CallNotFound")
    expect_error(pbx.put_call("2881", "00000000", {"action": "hold"}, bob), 404, "PUT", CALL, "CallNotFound")
    expect_error(pbx.put_call("2882", leg["callId"], {"action": "hold"}), 404, "PUT", CALL, "CallNotFound")
    expect_error(pbx.put_call("2999", leg["callId"], {"action": "hold"}), 404, "PUT", CALL, "EndpointNotFound")
    expect_error(pbx.put_call("2881", leg["callId"], {"action": "explode"}, bob), 400, "PUT", CALL)
    expect_error(pbx.put_call("2881", leg["callId"], {}, bob), 400, "PUT", CALL)
    expect_error(pbx.put_call("2881", leg["callId"], {"action": "hold", "force": True}, bob), 400, "PUT", CALL)
    expect_error(pbx.c.put(f"{B}/endpoints/2881/calls/{leg['callId']}", content=b"{not json", headers={
        **bob, "content-type": "application/json"}), 400, "PUT", CALL)
    expect_error(pbx.c.put(f"{B}/endpoints/2881/calls/{leg['callId']}", json={"action": "hold"}), 401, "PUT", CALL)
    assert pbx.call("2881", leg["callId"], bob) == before


def test_actions_invalid_in_the_state_are_409_and_change_nothing(pbx: Pbx, as_user, events: Events) -> None:
    bob = as_user("bob@acme.example")
    pbx.dial_in(X, "2881")
    ringing = pbx.only_call("2881", bob)
    events.clear()
    for action in ("hold", "retrieve", "consult", "conference", "supervisedTransfer", "pauseRecording"):
        body = {"action": action, **({"args": "2882"} if action == "consult" else {})}
        response = pbx.put_call("2881", ringing["callId"], body, bob)
        if action in ("conference", "supervisedTransfer"):
            expect_error(response, 400, "PUT", CALL)  # no other call to join: an argument problem first
        else:
            expect_error(response, 409, "PUT", CALL)
        assert pbx.call("2881", ringing["callId"], bob) == ringing
    pbx.act("2881", ringing["callId"], "answer", bob)
    talking = pbx.call("2881", ringing["callId"], bob)
    events.clear()
    for action in ("answer", "retrieve"):
        expect_error(pbx.put_call("2881", ringing["callId"], {"action": action}, bob), 409, "PUT", CALL,
                     "InvalidCallState")
        assert pbx.call("2881", ringing["callId"], bob) == talking
    pbx.act("2881", ringing["callId"], "hold", bob)
    held = pbx.call("2881", ringing["callId"], bob)
    for action in ("hold", "answer", "dtmf"):
        body = {"action": action, **({"args": "1"} if action == "dtmf" else {})}
        expect_error(pbx.put_call("2881", ringing["callId"], body, bob), 409, "PUT", CALL, "InvalidCallState")
        assert pbx.call("2881", ringing["callId"], bob) == held
    assert events.states(ringing["callId"]) == ["held"]  # only the accepted hold produced an event
    assert pbx.sim("2882")["calls"] == []


def test_a_user_cannot_control_another_users_endpoint(pbx: Pbx, as_user) -> None:
    alice, bob = as_user("alice@acme.example"), as_user("bob@acme.example")
    pbx.dial_in(X, "2881")
    ringing = pbx.only_call("2881")
    expect_error(pbx.put_call("2881", ringing["callId"], {"action": "answer"}, alice), 403, "PUT", CALL,
                 "InsufficientPermissions")
    expect_error(pbx.c.get(f"{B}/endpoints/2881/calls/{ringing['callId']}", headers=alice), 403, "GET", CALL)
    expect_error(pbx.c.post(f"{B}/endpoints/2881/calls", json={"to": "2882"}, headers=alice), 403, "POST", CALLS)
    assert pbx.call("2881", ringing["callId"], bob) == ringing
    assert pbx.sim("2882")["calls"] == []
    expect_error(pbx.c.put(f"{B}/endpoints/2881", json={"action": "dnd", "userAvailability": "available",
                                                        "enabled": True}, headers=alice), 403, "PUT", ENDPOINT)
    assert pbx.endpoint("2881", bob)["dnd"] is False
    # A group member may act on the group's number; others may not.
    expect_error(pbx.c.post(f"{B}/endpoints/5000/calls", json={"to": "2882"}, headers=bob), 403, "POST", CALLS)


def test_tenant_isolation(pbx: Pbx, as_user) -> None:
    erin = as_user("erin@globex.example")
    pbx.dial_in(X, "2880")
    acme_leg = pbx.only_call("2880")
    # Erin's 2880 is Globex's endpoint: idle, her name, none of Acme's calls.
    hers = pbx.endpoint("2880", erin)
    assert hers["state"] == "idle" and hers["name"] == "Erin Ellis"
    assert pbx.calls("2880", erin) == []
    expect_error(pbx.c.get(f"{B}/endpoints/2880/calls/{acme_leg['callId']}", headers=erin), 404, "GET", CALL,
                 "CallNotFound")
    expect_error(pbx.put_call("2880", acme_leg["callId"], {"action": "answer"}, erin), 404, "PUT", CALL,
                 "CallNotFound")
    expect_error(pbx.c.get(f"{B}/endpoints/2881", headers=erin), 404, "GET", ENDPOINT, "EndpointNotFound")
    assert pbx.call("2880", acme_leg["callId"])["state"] == "ringing"
    # A call in Globex rings Erin, not Alice.
    erin_admin = as_user("admin@globex.example")
    placed = pbx.c.post("/_callyard/sim/calls", json={"from": Y, "to": "2880"}, headers=erin_admin)
    assert placed.status_code == 201, placed.text
    assert pbx.only_call("2880", erin)["from"] == Y
    assert pbx.only_call("2880")["callId"] == acme_leg["callId"]
    assert ok(pbx.c.get(f"{B}/calls/records", headers=erin), "GET", "/calls/records")["count"] == 0


def test_group_numbers_cannot_place_calls_or_take_settings(pbx: Pbx) -> None:
    # 400 (the swagger declares no 409 for these two operations): a group number is not a user's extension.
    expect_error(pbx.c.post(f"{B}/endpoints/5100/calls", json={"to": "2882"}, headers=pbx.admin), 400, "POST", CALLS,
                 "UnsupportedEndpoint")
    expect_error(pbx.c.put(f"{B}/endpoints/5100", json={"action": "messageWaiting", "userAvailability": "available"},
                           headers=pbx.admin), 400, "PUT", ENDPOINT, "UnsupportedEndpoint")


def test_blind_transfer_with_the_media_samples_body(pbx: Pbx, as_user) -> None:
    """Mitel's media sample sends ``args`` = the call's own id and ``destination`` = where to: the destination
    is ``destination``; an ``args`` that is neither the call nor the destination is a 400 and changes nothing."""
    bob = as_user("bob@acme.example")
    leg = connected(pbx, "2881")
    before = pbx.call("2881", leg["callId"])
    conflicting = pbx.put_call("2881", leg["callId"], {"action": "blindTransfer", "args": "2880",
                                                       "destination": "2882"})
    expect_error(conflicting, 400, "PUT", CALL, "InvalidArgs")
    assert pbx.call("2881", leg["callId"]) == before
    assert [leg_states(c) for c in pbx.live()] == [{X: "connected", "2881": "connected"}]
    moved = pbx.put_call("2881", leg["callId"], {"action": "blindTransfer", "args": leg["callId"],
                                                 "destination": "2882"}, bob)
    assert moved.status_code == 200, moved.text
    assert moved.json()["cause"] == "transfer"
    carol = pbx.only_call("2882")
    assert (carol["state"], carol["from"]) == ("ringing", X)
    assert pbx.sim(X)["calls"][0]["to"] == "2882"
    assert all(c.get("to") != leg["callId"] for c in pbx.sim(X)["calls"])
