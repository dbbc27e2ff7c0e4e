"""The engine verbs the UC family added, through the Engine's Python API: state tokens and optimistic locking,
mute, move, alternate, leave and drop participant, pickup (ringing, parked), intrusions, routes, transfer and
connect on answer, recording save/discard, allowed actions."""
from __future__ import annotations

from callyard.core.engine.calls import state_token
from callyard.core.errors import Conflict, Invalid, NotFound
from callyard.core.principal import SYSTEM
from callyard.core.service import Core
from tests.core.conftest import ACME, advance, rejected

CALLER = "+16135550123"


async def ring(core: Core, to: str) -> dict:
    return await core.engine.inbound(SYSTEM, CALLER, to, account_ref=ACME)


def leg_of(core: Core, number: str):
    legs = core.engine.endpoint(ACME, number).legs
    assert len(legs) == 1, legs
    return legs[0]


async def talking(core: Core, number: str):
    await ring(core, number)
    leg = leg_of(core, number)
    await core.engine.answer(SYSTEM, number, leg.leg_id, sim=True, account_ref=ACME)
    return leg


async def test_state_tokens_grow_and_stale_ones_change_nothing(core: Core, admin) -> None:
    leg = await talking(core, "2880")
    token = state_token(leg)
    await rejected(core, Conflict, "StateTokenMismatch",
                   core.engine.hold(admin, "2880", leg.leg_id, expect={leg.leg_id: token - 1}))
    assert leg.state == "connected" and state_token(leg) == token
    held = await core.engine.hold(admin, "2880", leg.leg_id, expect={leg.leg_id: token})
    assert held["state"] == "held" and held["stateToken"] > token


async def test_mute_move_and_actions(core: Core, admin) -> None:
    leg = await talking(core, "2880")
    actions = {a["action"] for a in leg_view(core, leg)["actions"]}
    assert {"HOLD", "TRANSFER", "PARK", "MUTE", "START_REC", "MOVE"} <= actions
    assert (await core.engine.mute(admin, "2880", leg.leg_id, True))["muted"] is True
    await rejected(core, Conflict, "InvalidCallState", core.engine.mute(admin, "2880", leg.leg_id, True))
    assert "UNMUTE" in {a["action"] for a in leg_view(core, leg)["actions"]}
    moved = await core.engine.move(admin, "2880", leg.leg_id, "2880-mobile")
    assert moved["terminal"] == "0.+16135550101"   # the alias names alice's mobile, whose device id is kept
    await rejected(core, Invalid, "InvalidDevice", core.engine.move(admin, "2880", leg.leg_id, "2881-desk"))


def leg_view(core: Core, leg) -> dict:
    return core.engine.snapshot(leg)


async def test_alternate_between_a_held_and_a_ringing_call(core: Core, admin) -> None:
    first = await talking(core, "2880")
    await core.engine.inbound(SYSTEM, "+16135550124", "2880", account_ref=ACME)   # call waiting is off: busy
    assert len(core.engine.endpoint(ACME, "2880").legs) == 1
    consult = await core.engine.consult(admin, "2880", first.leg_id, "2881")
    await core.engine.answer(SYSTEM, "2881", leg_of(core, "2881").leg_id, sim=True, account_ref=ACME)
    swapped = await core.engine.alternate(admin, "2880", consult["legId"], first.leg_id)
    assert swapped["state"] == "held" and first.state == "connected"
    await rejected(core, NotFound, "CallNotFound", core.engine.alternate(admin, "2880", first.leg_id, "00000000"))


async def test_conference_leave_and_drop(core: Core, admin) -> None:
    first = await talking(core, "2880")
    consult = await core.engine.consult(admin, "2880", first.leg_id, "2881")
    await core.engine.answer(SYSTEM, "2881", leg_of(core, "2881").leg_id, sim=True, account_ref=ACME)
    conference = await core.engine.conference(admin, "2880", consult["legId"], first.leg_id, keep_acted=True)
    assert conference["legId"] == consult["legId"] and len(conference["participants"]) == 2
    bob = leg_of(core, "2881")
    dropped = await core.engine.drop_participant(admin, "2880", consult["legId"], bob.leg_id)
    assert dropped["participants"] == [p for p in dropped["participants"] if p["number"] == CALLER]
    await rejected(core, Conflict, "NotAConference", core.engine.leave(admin, "2880", consult["legId"]))


async def test_pickup_of_a_ringing_and_of_a_parked_call(core: Core, admin) -> None:
    await ring(core, "2882")
    ringing = leg_of(core, "2882")
    picked = await core.engine.pickup(admin, "2880", ringing.leg_id, terminal="2880-soft")
    soft = next(t["deviceId"] for t in core.engine.endpoint(ACME, "2880").terminals if t["alias"] == "2880-soft")
    assert picked["state"] == "connected" and picked["terminal"] == soft
    assert core.engine.endpoint(ACME, "2882").legs == []
    leg = leg_of(core, "2880")
    await core.engine.park(admin, "2880", leg.leg_id)
    waiting = next(leg for leg in core.engine.legs.values() if leg.endpoint.number == CALLER)
    again = await core.engine.pickup(admin, "2881", waiting.leg_id)
    assert again["state"] == "connected" and again["from"] == CALLER
    await rejected(core, Conflict, "InvalidCallState", core.engine.pickup(admin, "2880", waiting.leg_id))


async def test_intrusions(core: Core, admin) -> None:
    victim = await talking(core, "2881")
    monitor = await core.engine.intrude(admin, "200", "2881", "MONITOR")
    assert monitor["muted"] is True and monitor["intrusion"] == "MONITOR" and monitor["state"] == "connected"
    assert len(victim.call.live_legs()) == 3
    await rejected(core, Conflict, "NotInCall", core.engine.intrude(admin, "2880", "2882", "BARGE"))
    await rejected(core, Invalid, "InvalidArgs", core.engine.intrude(admin, "2880", "2881", "SHOUT"))


async def test_routes(core: Core, admin) -> None:
    await core.engine.configure_endpoint(admin, "2881", {"forwardAlways": "2882"})
    await core.engine.originate(admin, "2880", "2881", route="bypass")
    assert leg_of(core, "2881").state == "ringing"
    await core.engine.end(admin, "2880", leg_of(core, "2880").leg_id)
    made = await core.engine.originate(admin, "2880", "2882", route="intercom")
    assert leg_of(core, "2882").state == "connected" and made["state"] == "connected"
    await core.engine.originate(admin, "200", "2882", route="camp_on")
    assert [leg.state for leg in core.engine.endpoint(ACME, "2882").legs] == ["connected", "ringing"]
    await rejected(core, Invalid, "InvalidRoute", core.engine.originate(admin, "2881", "200", route="teleport"))


async def test_transfer_and_connect_on_answer(core: Core, admin) -> None:
    first = await talking(core, "2880")
    await core.engine.consult(admin, "2880", first.leg_id, "2881", transfer_on_answer=True)
    assert first.state == "held"
    await core.engine.answer(SYSTEM, "2881", leg_of(core, "2881").leg_id, sim=True, account_ref=ACME)
    assert core.engine.endpoint(ACME, "2880").legs == [] and leg_of(core, "2881").from_number == CALLER
    second = await talking(core, "200")
    consult = await core.engine.consult(admin, "200", second.leg_id, "2882")
    await core.engine.connect_when_answered(admin, "200", consult["legId"], second.leg_id)
    assert len(core.engine.endpoint(ACME, "200").legs) == 2       # waiting for carol
    await core.engine.answer(SYSTEM, "2882", leg_of(core, "2882").leg_id, sim=True, account_ref=ACME)
    assert core.engine.endpoint(ACME, "200").legs == []


async def test_a_transfer_on_answer_completes_when_someone_picks_up(core: Core, admin) -> None:
    first = await talking(core, "2880")
    await core.engine.consult(admin, "2880", first.leg_id, "2881", transfer_on_answer=True)
    await core.engine.pickup(admin, "2882", leg_of(core, "2881").leg_id)
    assert core.engine.endpoint(ACME, "2880").legs == [] and core.engine.endpoint(ACME, "2881").legs == []
    assert leg_of(core, "2882").state == "connected" and leg_of(core, "2882").from_number == CALLER


async def test_a_call_with_no_other_party_cannot_be_transferred_or_bridged_on_answer(core: Core, admin) -> None:
    """A caller waiting in a queue no agent serves has no other party: a transfer on answer from that call
    (or a new call bridged with it on answer) would join nobody, so it is refused and changes nothing."""
    await core.engine.originate(admin, "2880", "5000")
    queued = leg_of(core, "2880")
    assert queued.state == "connected" and len(queued.call.live_legs()) == 1
    await rejected(core, Conflict, "InvalidCallState",
                   core.engine.consult(admin, "2880", queued.leg_id, "2882", transfer_on_answer=True))
    await rejected(core, Conflict, "InvalidCallState",
                   core.engine.originate(admin, "2880", "2882", associated_leg=queued.leg_id, bridge_on_answer=True))
    assert queued.state == "connected" and core.engine.endpoint(ACME, "2882").legs == []


async def test_discarded_recording_is_not_stored(core: Core, admin) -> None:
    leg = await talking(core, "2880")
    await core.engine.start_recording(admin, "2880", leg.leg_id)
    await advance(core, 2)
    await core.engine.discard_recording(admin, "2880", leg.leg_id)
    await rejected(core, Conflict, "RecordingDiscarded", core.engine.discard_recording(admin, "2880", leg.leg_id))
    await core.engine.stop_recording(admin, "2880", leg.leg_id)
    assert list(core.rt.state.all("recording")) == []
    await core.engine.start_recording(admin, "2880", leg.leg_id)
    await core.engine.discard_recording(admin, "2880", leg.leg_id)
    await core.engine.save_recording(admin, "2880", leg.leg_id)
    await core.engine.stop_recording(admin, "2880", leg.leg_id)
    assert len(list(core.rt.state.all("recording"))) == 1
