"""The UC Calls API's verbs: blind and attended transfer of the user's call (status, cancel, completion when
the destination answers) and the call-back call through an answer place."""
from __future__ import annotations

import pytest

from callyard.core.errors import Conflict, Invalid, NotFound
from callyard.core.principal import SYSTEM
from callyard.core.service import Core
from tests.core.conftest import ACME, ALICE, advance, rejected

OUTSIDE = "+442071234567"


async def talking_to_outside(core: Core, alice) -> str:
    """An outside caller talks to alice; returns the caller's leg id."""
    caller = await core.engine.inbound(SYSTEM, OUTSIDE, "2880", account_ref=ACME)
    ringing = core.engine.endpoint(ACME, "2880").legs[0]
    await core.engine.answer(alice, "2880", ringing.leg_id, terminal="0.+16135550101")
    return caller["legId"]


async def test_blind_transfer_sends_the_caller_on(core: Core, alice) -> None:
    await talking_to_outside(core, alice)
    started = await core.user_calls.transfer(alice, ACME, ALICE, "BLIND_TRANSFER", "2881")
    assert set(started) == {"transferStartTime", "id"}
    assert core.engine.endpoint(ACME, "2880").legs == []
    assert core.engine.endpoint(ACME, "2881").legs[0].state == "ringing"
    assert core.user_calls.status(alice, ACME, ALICE)["type"] == "BLIND_TRANSFER"
    ringing = core.engine.endpoint(ACME, "2881").legs[0]
    await core.engine.answer(SYSTEM, "2881", ringing.leg_id, sim=True, account_ref=ACME)
    assert core.user_calls.status(alice, ACME, ALICE) is None


async def test_attended_transfer_completes_when_the_destination_answers(core: Core, alice) -> None:
    await talking_to_outside(core, alice)
    started = await core.user_calls.transfer(alice, ACME, ALICE, "ATTENDED_TRANSFER", "2881")
    states = sorted(leg.state for leg in core.engine.endpoint(ACME, "2880").legs)
    assert states == ["connected", "held"]
    status = core.user_calls.status(alice, ACME, ALICE)
    assert status["id"] == started["id"] and status["destination"] == "2881"
    await rejected(core, Conflict, "transfer.in.progress",
                   core.user_calls.transfer(alice, ACME, ALICE, "BLIND_TRANSFER", "2882"))
    ringing = core.engine.endpoint(ACME, "2881").legs[0]
    await core.engine.answer(SYSTEM, "2881", ringing.leg_id, sim=True, account_ref=ACME)
    assert core.engine.endpoint(ACME, "2880").legs == []       # alice left
    [bob_leg] = core.engine.endpoint(ACME, "2881").legs
    assert bob_leg.state == "connected" and bob_leg.from_number == OUTSIDE   # talking to the caller now


async def test_cancelling_an_attended_transfer_takes_the_call_back(core: Core, alice) -> None:
    await talking_to_outside(core, alice)
    started = await core.user_calls.transfer(alice, ACME, ALICE, "ATTENDED_TRANSFER", "2881")
    await rejected(core, NotFound, "transfer.does.not.exist", core.user_calls.cancel(alice, ACME, ALICE, "1"))
    await core.user_calls.cancel(alice, ACME, ALICE, started["id"])
    [leg] = core.engine.endpoint(ACME, "2880").legs
    assert leg.state == "connected" and core.engine.endpoint(ACME, "2881").legs == []
    assert core.user_calls.status(alice, ACME, ALICE) is None


async def test_transfer_needs_a_call_and_valid_input(core: Core, alice) -> None:
    await rejected(core, Conflict, "no.call.in.progress",
                   core.user_calls.transfer(alice, ACME, ALICE, "BLIND_TRANSFER", "2881"))
    await rejected(core, Invalid, "transferType.not.valid",
                   core.user_calls.transfer(alice, ACME, ALICE, "PUSH", "2881"))


async def test_call_back_rings_the_contact_from_the_answer_place(core: Core, alice) -> None:
    placed = await core.user_calls.call_back(alice, ACME, ALICE, "mobile", "bob@acme.example", role="PRIVATE")
    assert placed["terminal"] == "0.+16135550101"
    ringing = core.engine.endpoint(ACME, "2881").legs[0]
    assert ringing.state == "ringing" and ringing.from_number == "2880"
    await advance(core, 1)
    await core.user_calls.call_back(alice, ACME, "ac3e0000-0000-4000-8000-000000002880", "deskphone", "+468123456789")
    with pytest.raises(NotFound):
        await core.user_calls.call_back(alice, ACME, ALICE, "mobile", "nobody@acme.example")
    await rejected(core, Invalid, "aptype.not.valid", core.user_calls.call_back(alice, ACME, ALICE, "fax", "2881"))


async def test_call_back_bypasses_diversions_and_intrudes(core: Core, alice, bob, admin) -> None:
    await core.engine.configure_endpoint(bob, "2881", {"forwardAlways": "2882"})
    await core.user_calls.call_back(alice, ACME, ALICE, "softphone", "2881", bypass=True)
    assert core.engine.endpoint(ACME, "2881").legs[0].state == "ringing"   # not forwarded to carol
    assert core.engine.endpoint(ACME, "2882").legs == []
    ringing = core.engine.endpoint(ACME, "2881").legs[0]
    await core.engine.answer(bob, "2881", ringing.leg_id)
    dave = await core.user_calls.call_back(admin, ACME, "ac3e0000-0000-4000-8000-000000000200", "deskphone",
                                           "2881", intrude=True)
    assert dave["state"] == "connected" and len(core.engine.endpoint(ACME, "2881").legs[0].call.live_legs()) == 3
