"""One clock for the whole twin: real time by default, or a manual (virtual) clock that only moves when told.

Every timestamp, token expiry and (later) ring timeout reads this object, never ``datetime.now()``.
"""
from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone


class Clock:
    """Real wall-clock time, in UTC."""

    manual = False
    _ms = -1          # the millisecond ``_text`` was written for
    _text = ""

    def now(self) -> datetime:
        return datetime.now(timezone.utc)

    def now_iso(self) -> str:
        """``iso(self.now())``. The text changes once a millisecond; one request stamps several documents and
        events, so it is written once per millisecond, not once per stamp."""
        ms = int(time.time() * 1000)
        if ms != self._ms:
            self._text = iso(datetime.fromtimestamp(ms / 1000, timezone.utc))
            self._ms = ms
        return self._text

    def timestamp(self) -> float:
        return self.now().timestamp()

    def advance(self, seconds: float) -> datetime:
        raise ValueError("the real clock cannot be advanced; start the server with --clock manual")


class ManualClock(Clock):
    """A virtual clock: starts at a given instant (default: the real time at creation) and moves only by
    ``advance``. Deterministic tests of expiries and durations use it."""

    manual = True

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.fromtimestamp(int(time.time()), timezone.utc)

    def now(self) -> datetime:
        return self._now

    def now_iso(self) -> str:
        return iso(self.now())

    def advance(self, seconds: float) -> datetime:
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        self._now = self._now + timedelta(seconds=seconds)
        return self._now


# id → (the datetime, its text): the same objects (a leg's createdOn, answeredOn) are formatted again at every
# change of a live call. Keyed by identity (hashing an aware datetime costs about what formatting it does); the
# entry holds the object, so its id cannot be reused while it is here.
_formatted: dict[int, tuple[datetime, str]] = {}


def iso(dt: datetime) -> str:
    """UTC ISO-8601 with milliseconds and a Z, the way CloudLink writes createdOn/modifiedOn."""
    known = _formatted.get(id(dt))
    if known is not None and known[0] is dt:
        return known[1]
    utc = dt if dt.tzinfo is timezone.utc else dt.astimezone(timezone.utc)
    text = utc.isoformat(timespec="milliseconds")[:-6] + "Z"   # "+00:00" → "Z"; isoformat is 5× strftime
    if len(_formatted) >= 512:
        _formatted.clear()
    _formatted[id(dt)] = (dt, text)
    return text
