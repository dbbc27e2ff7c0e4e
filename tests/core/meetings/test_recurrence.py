"""Recurrence of scheduled meetings (core/meetings/recurrence.py, on dateutil's rrule): the UC fields become
the RFC 5545 rule a user expects, checked with hypothesis against plain date arithmetic (COUNT gives exactly
that many occurrences at the interval; UNTIL keeps every occurrence up to it and none after), window
expansion is exactly the slice of the whole series, wall-clock time survives daylight saving, and exceptions
(modified, cancelled) replace their occurrence."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callyard.core.errors import Invalid
from callyard.core.meetings import recurrence as rec
from callyard.core.meetings.events import MeetingEvents
from callyard.core.state import State

UTC = rec.zone("UTC")
STARTS = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)).map(
    lambda d: d.replace(second=0, microsecond=0, tzinfo=timezone.utc))
FAR = timedelta(days=100 * 366)   # beyond the longest series generated (60 × 30 × 14 days)


def expand(fields: dict[str, Any], start: datetime, tz: Any = UTC, low: datetime | None = None,
           high: datetime | None = None) -> list[datetime]:
    rule = rec.series(rec.rule_text(fields, start, tz), start, tz)
    return rec.starts(rule, start, tz, low or start - timedelta(days=1), high or start + FAR, limit=100_000)


@settings(max_examples=60, deadline=None)
@given(start=STARTS, interval=st.integers(1, 30), count=st.integers(1, 60),
       kind=st.sampled_from(["DAILY", "WEEKLY", "BIWEEKLY"]))
def test_numbered_series_match_plain_arithmetic(start: datetime, interval: int, count: int, kind: str) -> None:
    step = timedelta(days={"DAILY": 1, "WEEKLY": 7, "BIWEEKLY": 14}[kind] * interval)
    found = expand({"recurringType": kind, "interval": interval, "recurrenceRangeType": "NUMBERED",
                    "numberOfOccurrences": count}, start)
    assert found == [start + i * step for i in range(count)]


@settings(max_examples=60, deadline=None)
@given(start=STARTS, interval=st.integers(1, 10), days=st.integers(0, 400))
def test_until_keeps_every_occurrence_up_to_it_and_none_after(start: datetime, interval: int, days: int) -> None:
    until = start + timedelta(days=days, hours=1)
    found = expand({"recurringType": "DAILY", "interval": interval, "recurrenceRangeType": "END_DATE",
                    "endDate": rec.iso_z(until)}, start)
    assert found == [start + timedelta(days=i * interval) for i in range(days // interval + 1)]
    assert all(moment <= until for moment in found) and found[-1] + timedelta(days=interval) > until


@settings(max_examples=40, deadline=None)
@given(start=STARTS, interval=st.integers(1, 6), a=st.integers(0, 900), span=st.integers(0, 200),
       kind=st.sampled_from(["DAILY", "WEEKLY", "MONTHLY", "MONTHLY_ABSOLUTE", "YEARLY"]))
def test_a_window_is_exactly_the_slice_of_the_whole_series(start: datetime, interval: int, a: int, span: int,
                                                           kind: str) -> None:
    fields = {"recurringType": kind, "interval": interval, "recurrenceRangeType": "NUMBERED",
              "numberOfOccurrences": 50}
    whole = expand(fields, start)
    low, high = start + timedelta(days=a), start + timedelta(days=a + span)
    assert expand(fields, start, low=low, high=high) == [m for m in whole if low <= m < high]


def test_monthly_relative_and_yearly_rules() -> None:
    start = datetime(2026, 1, 27, 15, 0, tzinfo=timezone.utc)
    last_tuesdays = expand({"recurringType": "MONTHLY_RELATIVE", "daysOfWeek": ["TUESDAY"], "weekPosition": "LAST",
                            "recurrenceRangeType": "NUMBERED", "numberOfOccurrences": 3}, start)
    assert [m.date().isoformat() for m in last_tuesdays] == ["2026-01-27", "2026-02-24", "2026-03-31"]
    second_mondays_of_june = expand({"recurringType": "YEARLY_RELATIVE", "daysOfWeek": ["MONDAY"],
                                     "weekPosition": "SECOND", "monthOfYear": 6, "recurrenceRangeType": "NUMBERED",
                                     "numberOfOccurrences": 2}, start)
    assert [m.date().isoformat() for m in second_mondays_of_june] == ["2026-06-08", "2027-06-14"]
    # The 31st every month skips the shorter months (RFC 5545), it does not move to the 30th.
    thirty_firsts = expand({"recurringType": "MONTHLY_ABSOLUTE", "dayOfMonth": 31, "recurrenceRangeType": "NUMBERED",
                            "numberOfOccurrences": 3}, datetime(2026, 1, 31, 9, tzinfo=timezone.utc))
    assert [m.date().isoformat() for m in thirty_firsts] == ["2026-01-31", "2026-03-31", "2026-05-31"]


def test_wall_clock_time_survives_daylight_saving() -> None:
    tz = rec.zone("America/Toronto")
    start = datetime(2026, 3, 6, 14, 0, tzinfo=timezone.utc)   # 09:00 EST
    found = expand({"recurringType": "WEEKLY", "recurrenceRangeType": "NUMBERED", "numberOfOccurrences": 3}, start, tz)
    assert [m.astimezone(tz).hour for m in found] == [9, 9, 9]
    assert [m.hour for m in found] == [14, 13, 13]   # UTC: the offset changed on 8 March


@pytest.mark.parametrize("fields,code", [
    ({"recurringType": "HOURLY"}, "recurringType.not.valid"),
    ({"recurringType": "DAILY", "interval": 0}, "interval.not.valid"),
    ({"recurringType": "WEEKLY", "daysOfWeek": ["FUNDAY"]}, "daysOfWeek.not.valid"),
    ({"recurringType": "MONTHLY_RELATIVE", "daysOfWeek": ["MONDAY"]}, "weekPosition.required"),
    ({"recurringType": "YEARLY", "monthOfYear": 13}, "monthOfYear.not.valid"),
    ({"recurringType": "DAILY", "recurrenceRangeType": "NUMBERED"}, "numberOfOccurrences.not.valid"),
    ({"recurringType": "DAILY", "recurrenceRangeType": "END_DATE", "endDate": "never"}, "endDate.not.valid"),
])
def test_invalid_fields_are_named(fields: dict[str, Any], code: str) -> None:
    with pytest.raises(Invalid) as raised:
        rec.rule_text(fields, datetime(2026, 1, 1, tzinfo=timezone.utc), UTC)
    assert raised.value.name == code


def test_an_rrule_that_is_not_one_is_refused() -> None:
    for text in ("FREQ=SOMETIMES", "COUNT=3", "FREQ=DAILY;BYDAY=XX", "FREQ=DAILY\nEXDATE:20260101"):
        with pytest.raises(Invalid) as raised:
            rec.series(text, datetime(2026, 1, 1, tzinfo=timezone.utc), UTC)
        assert raised.value.name == "rRule.not.valid"


@settings(max_examples=40, deadline=None)
@given(count=st.integers(2, 30), data=st.data())
def test_exceptions_replace_their_occurrence(count: int, data: Any) -> None:
    events = MeetingEvents(SimpleNamespace(state=State()), None)  # type: ignore[arg-type]
    start = datetime(2026, 5, 4, 8, 0, tzinfo=timezone.utc)
    originals = [start + timedelta(days=i) for i in range(count)]
    cancelled = data.draw(st.sets(st.integers(0, count - 1)))
    moved = data.draw(st.sets(st.integers(0, count - 1)).map(lambda s: s - cancelled))
    exceptions = [{"id": i + 1, "dateTimeOld": rec.iso_z(originals[i]), "isCancelled": i in cancelled,
                   "isUpdated": i in moved,
                   "dateTimeStart": rec.iso_z(originals[i] + timedelta(hours=5 if i in moved else 0)),
                   "dateTimeEnd": rec.iso_z(originals[i] + timedelta(hours=6 if i in moved else 1))}
                  for i in sorted(cancelled | moved)]
    event = {"id": "1", "organizerId": "nobody", "participants": [], "timeZone": "UTC",
             "dateTimeStart": rec.iso_z(start), "dateTimeEnd": rec.iso_z(start + timedelta(hours=1)),
             "rRule": f"FREQ=DAILY;INTERVAL=1;COUNT={count}", "exceptions": exceptions, "name": "n", "note": ""}
    found = events.occurrences(event, start - timedelta(days=1), start + timedelta(days=count + 1))
    expected = sorted(rec.iso_z(o + timedelta(hours=5 if i in moved else 0))
                      for i, o in enumerate(originals) if i not in cancelled)
    assert [o["dateTimeStart"] for o in found] == expected
    assert sum(o["isUpdated"] for o in found) == len(moved)
