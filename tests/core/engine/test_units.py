"""Unit tests of the engine's building blocks: the scheduler on the one clock, the dial plan, WAV synthesis."""
from __future__ import annotations

import asyncio
import io
import wave
from datetime import timedelta

import pytest

from callyard.core.clock import Clock, ManualClock
from callyard.core.engine.recordings import synthesise_wav
from callyard.core.ids import Ids
from callyard.core.scheduler import Scheduler
from callyard.core.service import Core
from callyard.store.database import MemoryStore

ACME = "ac3e0000-0000-4000-8000-00000000ac3e"
GLOBEX = "610be000-0000-4000-8000-0000000610be"


async def test_manual_advance_fires_timers_in_order_at_their_instants() -> None:
    clock = ManualClock()
    start = clock.now()
    scheduler = Scheduler(clock)
    fired: list[tuple[str, float]] = []

    def note(label: str):
        async def callback() -> None:
            fired.append((label, (clock.now() - start).total_seconds()))
            if label == "a":  # a timer set by a timer, due inside the same advance
                scheduler.after(2, note("c"))
        return callback

    scheduler.after(15, note("b"))
    scheduler.after(5, note("a"))
    cancelled = scheduler.after(6, note("never"))
    cancelled.cancel()
    assert await scheduler.advance(20) == start + timedelta(seconds=20)
    assert fired == [("a", 5.0), ("c", 7.0), ("b", 15.0)]
    assert scheduler.pending() == 0


async def test_the_real_clock_cannot_be_advanced_but_runs_its_timers() -> None:
    scheduler = Scheduler(Clock())
    with pytest.raises(ValueError):
        await scheduler.advance(1)
    done = asyncio.Event()

    async def callback() -> None:
        done.set()
    scheduler.start()
    try:
        scheduler.after(0.05, callback)
        await asyncio.wait_for(done.wait(), timeout=5)
    finally:
        await scheduler.stop()


@pytest.fixture
async def core():
    core = Core(MemoryStore(), ManualClock(), Ids(3))
    await core.start()
    yield core
    await core.stop()


async def test_dial_plan(core: Core) -> None:
    engine = core.engine
    alice = engine.endpoint(ACME, "2880")
    erin = engine.endpoint(GLOBEX, "2880")
    assert alice.user_id != erin.user_id and alice is not erin  # same number, two accounts, two devices
    assert [t["type"] for t in alice.terminals] == ["DESKPHONE", "SOFTPHONE", "MOBILE"]
    assert engine.endpoint(ACME, "+1 (613) 555-0100").kind == "group"      # a DID to the Support queue
    assert engine.endpoint(ACME, "+16135550128") is alice                  # a DID to an extension
    assert engine.endpoint(ACME, "6000").kind == "voicemail"
    assert engine.endpoint(ACME, "+442071234567").kind == "external"       # through the trunk
    assert engine.endpoint(ACME, "4242") is None                           # nothing answers: unobtainable


async def test_renumbering_a_user_moves_the_dial_plan(core: Core) -> None:
    from callyard.core.principal import SYSTEM

    await core.directory.update_user(SYSTEM, "ac3e0000-0000-4000-8000-000000002881", {"extension": "2890"}, ACME)
    assert core.engine.endpoint(ACME, "2881") is None
    assert core.engine.endpoint(ACME, "2890").user_id == "ac3e0000-0000-4000-8000-000000002881"


def test_recordings_are_real_wav_of_the_recorded_length() -> None:
    with wave.open(io.BytesIO(synthesise_wav(2.5))) as audio:
        assert audio.getframerate() == 8000 and audio.getnchannels() == 1 and audio.getsampwidth() == 2
        assert audio.getnframes() == 20000
    with wave.open(io.BytesIO(synthesise_wav(0))) as audio:
        assert audio.getnframes() == 0
