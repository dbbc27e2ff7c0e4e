"""Presence rules: set/get and validation, who may set whose, DND kept as one setting with the extension,
the aggregate following calls, one presence.updated per change."""
from __future__ import annotations

import copy

import pytest

from callyard.core.errors import Forbidden, Invalid, NotFound
from callyard.core.service import Core
from tests.core.conftest import ACME, ALICE, BOB, ERIN


def _dnd(core: Core, number: str) -> bool:
    return bool(core.engine.settings(core.engine.endpoint(ACME, number))["dnd"])


class Announced:
    """The presence.updated events committed while the block runs."""

    def __init__(self, core: Core) -> None:
        self.core = core
        self.events: list = []

    def __enter__(self) -> "Announced":
        self._off = self.core.projections.subscribe(
            lambda e: self.events.append(e) if e.type == "presence.updated" else None)
        return self

    def __exit__(self, *exc: object) -> None:
        self._off()

    def statuses(self) -> list[tuple[str, str, str]]:
        return [(e.subject.rsplit("/", 1)[-1], e.data["aggregate"]["status"], e.data["principal"]["status"])
                for e in self.events]


async def test_default_then_set_then_get(core: Core, alice, bob) -> None:
    initial = core.presence.get(bob, ALICE)
    assert initial["status"] == "available" and initial["principal"]["status"] == "available"
    assert initial["enteredOn"] == core.rt.state.get("user", ALICE)["createdOn"]
    set_ = await core.presence.update(alice, "me", {"status": "away", "reason": "lunch", "workMode": "remote"})
    got = core.presence.get(bob, ALICE)
    assert got == set_ and got["status"] == "away" and got["reason"] == "lunch" and got["workMode"] == "remote"
    # unspecified fields keep their value; None clears
    after = await core.presence.update(alice, "me", {"note": "back at 2"})
    assert (after["status"], after["reason"], after["note"]) == ("away", "lunch", "back at 2")
    cleared = await core.presence.update(alice, "me", {"reason": None, "workMode": None})
    assert cleared["reason"] is None and cleared["workMode"] is None and cleared["note"] == "back at 2"


async def test_validation_changes_nothing(core: Core, alice) -> None:
    before = copy.deepcopy(core.rt.state.docs)
    for fields in ({}, {"status": "sleeping"}, {"mood": "happy"}, {"reason": "x" * 257}, {"note": 5},
                   {"workMode": "beach"}):
        with pytest.raises(Invalid) as caught:
            await core.presence.update(alice, "me", fields)
        assert caught.value.name == "ValidationError", fields
    assert core.rt.state.docs == before


async def test_who_may_set_and_read(core: Core, alice, bob, admin, erin, app) -> None:
    with pytest.raises(Forbidden) as caught:
        await core.presence.update(bob, ALICE, {"status": "busy"})
    assert caught.value.name == "InsufficientPermissions"
    assert (await core.presence.update(admin, ALICE, {"status": "busy"}))["principal"]["status"] == "busy"
    assert (await core.presence.update(app, ALICE, {"status": "away"}))["principal"]["status"] == "away"
    for call in (lambda: core.presence.get(erin, ALICE), lambda: core.presence.get(app, "me")):
        with pytest.raises(NotFound) as missing:
            call()
        assert missing.value.name == "PresentityNotFound"
    with pytest.raises(NotFound):
        await core.presence.update(erin, ALICE, {"status": "busy"})


async def test_batch_read_keeps_order_skips_strangers_and_is_bounded(core: Core, bob) -> None:
    got = core.presence.get_many(bob, [BOB, ERIN, ALICE, BOB, "nobody"])
    assert [p["principalId"] for p in got] == [BOB, ALICE]
    with pytest.raises(Invalid):
        core.presence.get_many(bob, [" "])
    with pytest.raises(Invalid):
        core.presence.get_many(bob, [f"u{n}" for n in range(101)])
    assert {p["accountId"] for p in core.presence.get_many(bob, None)} == {ACME}


async def test_dnd_is_one_setting_with_the_extension(core: Core, alice, admin) -> None:
    await core.presence.update(alice, "me", {"status": "dnd"})
    assert _dnd(core, "2880") is True
    await core.presence.update(alice, "me", {"status": "away"})
    assert _dnd(core, "2880") is False
    await core.presence.update(alice, "me", {"status": "dnd"})
    # DND turned off at the extension (Media PUT /endpoints) ends the dnd principal status
    with Announced(core) as announced:
        await core.engine.update_endpoint(admin, "2880", "dnd", "available", False)
    assert core.presence.get(alice, "me")["principal"]["status"] == "available"
    assert announced.statuses() == [(ALICE, "available", "available")]
    # DND turned on at the extension shows in the aggregate only
    await core.engine.update_endpoint(admin, "2880", "dnd", "available", True)
    view = core.presence.get(alice, "me")
    assert (view["status"], view["principal"]["status"]) == ("dnd", "available")


async def test_presence_follows_a_call(core: Core, alice, bob) -> None:
    with Announced(core) as announced:
        placed = await core.engine.originate(alice, "2880", "2881")
        assert core.presence.get(alice, "me")["status"] == "busy"      # off-hook and dialling: connected
        assert core.presence.get(bob, "me")["status"] == "available"   # ringing does not count
        ringing = next(c for c in core.engine.list_calls(bob, "2881") if c["state"] == "ringing")
        await core.engine.answer(bob, "2881", ringing["legId"])
        assert core.presence.get(bob, "me")["status"] == "busy"
        await core.engine.end(alice, "2880", placed["legId"])
    assert core.presence.get(alice, "me")["status"] == "available"
    assert core.presence.get(bob, "me")["status"] == "available"
    assert announced.statuses() == [(ALICE, "busy", "available"), (BOB, "busy", "available"),
                                    (ALICE, "available", "available"), (BOB, "available", "available")]
    # the principal layer was never written by the call
    assert core.rt.state.get("presence", ALICE) is None


async def test_a_status_set_twice_is_announced_once(core: Core, alice) -> None:
    with Announced(core) as announced:
        await core.presence.update(alice, "me", {"status": "away"})
        await core.presence.update(alice, "me", {"status": "away"})
    assert announced.statuses() == [(ALICE, "away", "away")]


async def test_dnd_outranks_a_call(core: Core, alice) -> None:
    await core.engine.originate(alice, "2880", "2881")
    assert core.presence.get(alice, "me")["status"] == "busy"
    await core.presence.update(alice, "me", {"status": "dnd"})
    assert core.presence.get(alice, "me")["status"] == "dnd"
