"""The one clock and the one id generator: a manual clock moves only when told; seeded ids replay."""
from __future__ import annotations

import uuid
from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callyard.core.clock import Clock, ManualClock, iso
from callyard.core.ids import Ids


def _draw(ids: Ids) -> list[str]:
    return [ids.uuid(), ids.hex32(), ids.digits(9), ids.uuid(), ids.digits(1)]


@given(st.integers(min_value=0, max_value=2**63))
def test_a_seed_replays_the_same_ids(seed: int) -> None:
    assert _draw(Ids(seed)) == _draw(Ids(seed))


def test_different_seeds_and_unseeded_generators_differ() -> None:
    assert _draw(Ids(1)) != _draw(Ids(2))
    assert Ids().uuid() != Ids().uuid()


def test_id_shapes() -> None:
    ids = Ids(5)
    for _ in range(200):
        value = ids.uuid()
        assert uuid.UUID(value).version == 4 and str(uuid.UUID(value)) == value
        hexed = ids.hex32()
        assert len(hexed) == 32 and int(hexed, 16) >= 0 and hexed == hexed.lower()
        for n in (1, 6, 9):
            number = ids.digits(n)
            assert len(number) == n and number.isdigit() and number[0] != "0"


def test_secrets_are_never_replayed_even_when_seeded() -> None:
    assert Ids(3).secret() != Ids(3).secret()


def test_a_manual_clock_stands_still_until_advanced() -> None:
    start = datetime(2030, 1, 31, 17, 0, tzinfo=timezone.utc)
    clock = ManualClock(start)
    assert clock.now() == start and clock.now() == start
    assert clock.advance(90.5) == start + timedelta(seconds=90.5)
    assert clock.now() == start + timedelta(seconds=90.5)
    assert clock.timestamp() == start.timestamp() + 90.5
    clock.advance(0)
    assert clock.now() == start + timedelta(seconds=90.5)


def test_a_manual_clock_never_goes_back_and_the_real_one_cannot_be_moved() -> None:
    clock = ManualClock(datetime(2030, 1, 1, tzinfo=timezone.utc))
    with pytest.raises(ValueError):
        clock.advance(-1)
    assert clock.now() == datetime(2030, 1, 1, tzinfo=timezone.utc)
    with pytest.raises(ValueError):
        Clock().advance(1)


def test_a_manual_clock_starts_on_a_whole_second_in_utc() -> None:
    now = ManualClock().now()
    assert now.tzinfo is not None and now.utcoffset() == timedelta(0) and now.microsecond == 0


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2999, 12, 31), timezones=st.just(timezone.utc)))
def test_iso_is_utc_with_milliseconds_and_sorts_like_time(moment: datetime) -> None:
    text = iso(moment)
    assert len(text) == 24 and text.endswith("Z") and text[19] == "."
    later = iso(moment + timedelta(milliseconds=1))
    assert later > text  # expiries are compared as strings (notifications/owned.py)


@settings(max_examples=200, deadline=None)
@given(namespace=st.uuids(), name=st.text(max_size=80))
def test_uuid5_text_is_the_standard_librarys(namespace: uuid.UUID, name: str) -> None:
    from callyard.core.ids import uuid5

    assert uuid5(namespace, name) == str(uuid.uuid5(namespace, name))


@settings(max_examples=300, deadline=None)
@given(bits=st.integers(min_value=0, max_value=2**128 - 1))
def test_uuid4_text_is_the_standard_librarys(bits: int) -> None:
    from callyard.core.ids import uuid4_text

    assert uuid4_text(bits) == str(uuid.UUID(int=bits, version=4))
