"""Behaviour profiles (callyard.sim.profiles) on a clock that moves while the engine works, as the real one
does: every answered leg of a profile with ``talkSeconds`` hangs up once its talk time is over — also when
the answer's event is stamped a millisecond after the answer, and when a second call put it on hold."""
from __future__ import annotations

from datetime import timedelta

from callyard.core.clock import ManualClock
from callyard.core.ids import Ids
from callyard.core.principal import SYSTEM
from callyard.core.service import Core
from callyard.sim.profiles import Profiles
from callyard.store.database import MemoryStore

ACME = "ac3e0000-0000-4000-8000-00000000ac3e"


class CreepingClock(ManualClock):
    """A manual clock that also moves on by a millisecond each time it is read (time passes while the engine
    works), so an answer and its event are never stamped with the same instant."""

    def now(self):  # type: ignore[no-untyped-def]
        self._now = self._now + timedelta(milliseconds=1)
        return self._now


async def test_talk_time_ends_every_answered_call_even_one_held_by_a_second_answer() -> None:
    core = Core(MemoryStore(), CreepingClock(), Ids(5), None)
    Profiles(core, seed=5)
    await core.start()
    try:
        engine = core.engine
        await engine.configure_endpoint(SYSTEM, "2881", {"callWaiting": True},
                                        {"mode": "answer", "answerAfter": 1, "talkSeconds": 10},
                                        account_ref=ACME, sim=True)
        await engine.inbound(SYSTEM, "+16135550123", "2881", account_ref=ACME)
        await core.scheduler.advance(2)          # answered at ~1 s: talks until ~11 s
        await engine.inbound(SYSTEM, "+16135550777", "2881", account_ref=ACME)
        await core.scheduler.advance(2)          # the waiting call is answered: the first goes on hold
        states = sorted(leg["state"] for call in engine.live_calls(ACME) for leg in call["legs"]
                        if leg["endpointId"] == "2881")
        assert states == ["connected", "held"]
        await core.scheduler.advance(20)         # both talk times are over
        assert engine.live_calls(ACME) == []
    finally:
        await core.stop()
