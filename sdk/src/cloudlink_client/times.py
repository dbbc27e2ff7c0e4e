"""Date-times as CloudLink writes them: UTC ISO 8601 with milliseconds and a Z (seed 002 asks for UTC ISO
timestamps in logs too)."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def iso_time(value: datetime | str | None) -> str | None:
    """A date-time as CloudLink writes it (``2026-11-22T20:11:04.163Z``); strings and None pass through, a
    naive datetime is taken as UTC."""
    if value is None or isinstance(value, str):
        return value
    moment = (value if value.tzinfo else value.replace(tzinfo=timezone.utc)).astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def utc_now_iso() -> str:
    """Now, UTC ISO 8601 with milliseconds and a Z."""
    return str(iso_time(datetime.now(timezone.utc)))


def parse_time(value: Any) -> datetime | None:
    """An aware datetime from an ISO 8601 string (``Z`` or an offset; none: UTC), or None when it is not one."""
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
