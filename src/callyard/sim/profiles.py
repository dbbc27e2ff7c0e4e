"""Behaviour profiles: how the simulated person at an endpoint reacts when it rings.

A profile is stored with the endpoint (``PUT /_callyard/sim/endpoints/{id}``) and looks like
``{"mode": "answer", "answerAfter": 3, "talkSeconds": [30, 120], "device": "2880-soft"}``:

* ``mode``: ``manual`` (default: nothing happens until told), ``answer`` (after ``answerAfter`` seconds,
  a number or ``[min, max]``), ``autoAnswer`` (at once), ``never`` (lets it ring), ``busy`` (rejects).
* ``talkSeconds``: once connected, hang up after this long (number or ``[min, max]``); absent, stay on.

Reactions run on the twin's scheduler, so with ``--clock manual`` they happen exactly when the virtual
clock reaches them.
"""
from __future__ import annotations

import random
from typing import Any

from callyard.core.errors import CoreError
from callyard.core.principal import SYSTEM
from callyard.events.event import TWIN_RESET, Event

MODES = ("manual", "answer", "autoAnswer", "never", "busy")


def validate_profile(profile: Any) -> dict[str, Any] | None:
    from callyard.core.errors import Invalid

    if profile is None:
        return None
    if not isinstance(profile, dict):
        raise Invalid("InvalidProfile", "a profile is an object")
    unknown = set(profile) - {"mode", "answerAfter", "talkSeconds", "device"}
    if unknown:
        raise Invalid("InvalidProfile", f"unknown profile fields: {', '.join(sorted(unknown))}")
    if profile.get("mode", "manual") not in MODES:
        raise Invalid("InvalidProfile", f"mode must be one of {', '.join(MODES)}")
    for key in ("answerAfter", "talkSeconds"):
        value = profile.get(key)
        if value is None:
            continue
        if isinstance(value, list):
            ok = len(value) == 2 and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value) \
                and 0 <= value[0] <= value[1] <= 86400
        else:
            ok = isinstance(value, (int, float)) and not isinstance(value, bool) and 0 <= value <= 86400
        if not ok:
            raise Invalid("InvalidProfile", f"{key} is seconds (0..86400) or [min, max]")
    return dict(profile)


def pick(value: Any, rng: random.Random) -> float:
    if isinstance(value, list):
        return rng.uniform(float(value[0]), float(value[1]))
    return float(value)


class Profiles:
    def __init__(self, core: Any, seed: int | None = None) -> None:
        self.core = core
        self.rng = random.Random(seed)
        # Legs whose talk time is running: each answered leg gets one hang-up, whatever happens to it after
        # (held, retrieved, transferred). Forgotten when the leg completes.
        self.talking: set[tuple[str, str]] = set()
        core.projections.after_commit("simulated device behaviour profiles", self._on_event,
                                      events=("call.state", TWIN_RESET))

    def _profile(self, account_id: str, number: str) -> dict[str, Any] | None:
        doc = self.core.rt.state.get("endpoint", f"{account_id}:{number}")
        return (doc or {}).get("profile")

    def _on_event(self, event: Event) -> None:
        if event.type == TWIN_RESET:
            self.talking.clear()   # live calls are gone with the reset
            return
        if event.type != "call.state" or not event.data:
            return
        leg = event.data
        key = (leg["accountId"], leg["legId"])
        if leg["state"] == "completed":
            self.talking.discard(key)
            return
        profile = self._profile(leg["accountId"], leg["endpointId"])
        if not profile:
            return
        mode = profile.get("mode", "manual")
        account, number, leg_id = leg["accountId"], leg["endpointId"], leg["legId"]
        if leg["state"] == "ringing" and leg["direction"] == "inbound":
            if mode == "answer":
                delay = pick(profile.get("answerAfter", 0), self.rng)
                self._later(delay, account, number, leg_id, "answer", profile.get("device"))
            elif mode == "autoAnswer":
                self._later(0, account, number, leg_id, "answer", profile.get("device"))
            elif mode == "busy":
                self._later(0, account, number, leg_id, "end", None)
        elif (leg["state"] in ("connected", "held") and leg.get("answeredOn") and key not in self.talking
              and profile.get("talkSeconds") is not None):
            # Once per answered leg. (Comparing the answer time with the event's time missed answers whose
            # event was stamped a millisecond later on the real clock: those calls never ended, and a
            # later answer on the same phone left them on hold for good.)
            self.talking.add(key)
            self._later(pick(profile["talkSeconds"], self.rng), account, number, leg_id, "end", None)

    def _later(self, delay: float, account: str, number: str, leg_id: str, action: str, device: str | None) -> None:
        engine = self.core.engine

        async def act() -> None:
            try:
                if action == "answer":
                    await engine.answer(SYSTEM, number, leg_id, terminal=device, sim=True, account_ref=account)
                else:
                    await engine.end(SYSTEM, number, leg_id, sim=True, account_ref=account)
            except CoreError:
                pass  # the call moved on (answered elsewhere, caller hung up): nothing to do
        self.core.scheduler.after(delay, act, f"profile {action} {number}/{leg_id}")
