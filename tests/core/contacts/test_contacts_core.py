"""The contacts core without HTTP: Contact Entry IDs, search isolation, and scheduled-presence occurrences
(dateutil rrule in the event's time zone) checked against plain date arithmetic."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callyard.core.auth.tickets import principal_of
from callyard.core.contacts.service import _decode_entry_id, entry_id
from callyard.core.errors import Invalid, NotFound
from tests.core.conftest import ACME, BOB, GLOBEX


def test_entry_ids_round_trip_and_garbage_is_no_entry_id() -> None:
    assert entry_id("contactId@example.org", "directory") == "Y29udGFjdElkQGV4YW1wbGUub3JnQGRpcmVjdG9yeQ"
    assert _decode_entry_id("Y29udGFjdElkQGV4YW1wbGUub3JnQGRpcmVjdG9yeQ") == "contactId@example.org"
    for garbage in ("", "bob", "%%%%%%%%%%", "YWJj", "Ym9iQGFjbWUuZXhhbXBsZUBzb21ld2hlcmU", "////////"):
        assert _decode_entry_id(garbage) is None


async def test_a_cid_names_a_contact_of_the_callers_organisation_only(core) -> None:
    acme = core.rt.state.get("account", ACME)
    globex = core.rt.state.get("account", GLOBEX)
    assert core.contacts.resolve(acme, "bob@acme.example").doc["userId"] == BOB
    assert core.contacts.resolve(acme, "2881").doc["userId"] == BOB
    with pytest.raises(NotFound):
        core.contacts.resolve(globex, "bob@acme.example")
    with pytest.raises(NotFound):
        core.contacts.resolve(globex, entry_id("bob@acme.example", "directory"))
    erin = next(u for u in core.directory.users_of(GLOBEX))
    assert [e.cid for e in core.contacts.search(erin, globex, "bob")] == []


WEEKDAYS = ("MO", "TU", "WE", "TH", "FR", "SA", "SU")


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(days=st.sets(st.sampled_from(WEEKDAYS), min_size=1), hour=st.integers(0, 22),
       offset=st.integers(0, 360), zone_name=st.sampled_from(["Europe/Stockholm", "America/New_York", "UTC"]))
async def test_weekly_occurrences_keep_their_local_time(core, days, hour, offset, zone_name) -> None:
    """Every occurrence of a weekly presence falls on one of its days at the same local time, and every such
    day of the window has one, across daylight-saving changes."""
    tz = ZoneInfo(zone_name)
    first_day = datetime(2027, 1, 4, hour, 30, tzinfo=tz) + timedelta(days=offset)   # a Monday + offset
    start = first_day.astimezone(timezone.utc)
    byday = ",".join(d for d in WEEKDAYS if d in days)
    doc = core.contacts.future._validated(ACME, {
        "activity": "meeting", "dt-start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "dt-end": (start + timedelta(minutes=30)).strftime("%Y-%m-%dT%H:%M:%SZ"), "tzid": zone_name,
        "recur": {"freq": "WEEKLY", "byday": byday}}, None)
    window_end = start + timedelta(days=60)
    instances = core.contacts.future.instances(doc, start, window_end)
    # each of its days at hour:30 local time, read as RFC 5545 reads a local time (a time in a daylight-saving
    # gap with the offset before the gap: 02:30 on the spring-forward day is 03:30 daylight time)
    days_in_window = [(first_day + timedelta(days=n)).date() for n in range(62)]
    expected = [moment for moment in (datetime(d.year, d.month, d.day, hour, 30, tzinfo=tz).astimezone(timezone.utc)
                                      for d in days_in_window if WEEKDAYS[d.weekday()] in days)
                if moment < window_end]
    assert [datetime.fromisoformat(i["dt-start"].replace("Z", "+00:00")) for i in instances] == expected
    assert all(i["dt-end"] > i["dt-start"] for i in instances)


async def test_scheduled_presence_refuses_what_it_cannot_schedule(core) -> None:
    bob = core.rt.state.get("user", BOB)
    actor = principal_of(bob)
    base = {"activity": "lunch", "dt-start": "2027-01-04T11:00:00Z", "dt-end": "2027-01-04T12:00:00Z"}
    for change, code in (({"recur": {"freq": "HOURLY"}}, "recur.freq.not.valid"),
                         ({"recur": {"freq": "DAILY", "interval": 0}}, "recur.interval.not.valid"),
                         ({"priority": -1}, "priority.not.valid"), ({"busyType": "SLEEPING"}, "busyType.not.valid"),
                         ({"note": "x" * 251}, "note.too.long"), ({"role": "pirate"}, "role.not.valid")):
        with pytest.raises(Invalid) as refused:
            await core.contacts.future.create(actor, bob, {**base, **change})
        assert refused.value.name == code
    assert core.contacts.future.of_user(bob) == []
