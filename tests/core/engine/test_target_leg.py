"""``Engine.target_leg``: which call a phone's user means when they press answer, hang up, hold, retrieve
or reject without naming one (the rule every family's phone actions share)."""
from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from callyard.core.clock import ManualClock
from callyard.core.errors import Conflict
from callyard.core.ids import Ids
from callyard.core.principal import SYSTEM
from callyard.core.service import Core
from callyard.store.database import MemoryStore

ACME = "ac3e0000-0000-4000-8000-00000000ac3e"


@pytest.fixture
async def core() -> AsyncIterator[Core]:
    core = Core(MemoryStore(), ManualClock(), Ids(11))
    await core.start()
    yield core
    await core.stop()


async def test_target_leg_prefers_the_call_the_action_makes_sense_for(core: Core) -> None:
    engine = core.engine
    await engine.configure_endpoint(SYSTEM, "2881", {"callWaiting": True}, account_ref=ACME, sim=True)
    bob = engine.sim_endpoint(SYSTEM, "2881", ACME)

    with pytest.raises(Conflict) as idle:
        engine.target_leg(bob, "hangup")
    assert idle.value.name == "NoSuchCall"
    assert engine.target_leg(bob, "hangup", "12345678") == "12345678"  # a named call is taken as given

    await engine.inbound(SYSTEM, "+16135550101", "2881", account_ref=ACME)
    [first] = [leg.leg_id for leg in bob.legs]
    assert engine.target_leg(bob, "answer") == first
    assert engine.target_leg(bob, "busy") == first
    assert engine.target_leg(bob, "hangup") == first  # only a ringing call: hang up rejects it
    with pytest.raises(Conflict):
        engine.target_leg(bob, "hold")

    await engine.answer(SYSTEM, "2881", engine.target_leg(bob, "answer"), sim=True, account_ref=ACME)
    await engine.inbound(SYSTEM, "+16135550102", "2881", account_ref=ACME)
    [second] = [leg.leg_id for leg in bob.legs if leg.leg_id != first]
    assert engine.target_leg(bob, "answer") == second       # the waiting call
    assert engine.target_leg(bob, "hangup") == first        # the talking call before the ringing one
    assert engine.target_leg(bob, "hold") == first
    with pytest.raises(Conflict):
        engine.target_leg(bob, "retrieve")

    await engine.answer(SYSTEM, "2881", second, sim=True, account_ref=ACME)  # the first goes on hold
    assert engine.target_leg(bob, "retrieve") == first
    assert engine.target_leg(bob, "hold") == second
    assert engine.target_leg(bob, "hangup") == second
    with pytest.raises(Conflict):
        engine.target_leg(bob, "answer")
