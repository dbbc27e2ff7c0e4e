"""Recurrence of scheduled meetings, on python-dateutil's RFC 5545 ``rrule`` (never hand-rolled).

A series is described either by the UC Event API's fields (``recurringType`` NONE, DAILY, WEEKLY, BIWEEKLY,
MONTHLY, YEARLY, MONTHLY_ABSOLUTE, MONTHLY_RELATIVE, YEARLY_ABSOLUTE, YEARLY_RELATIVE; ``interval``,
``daysOfWeek``, ``dayOfMonth``, ``monthOfYear``, ``weekPosition``; ``recurrenceRangeType`` NONE, END_DATE,
NUMBERED with ``endDate`` / ``numberOfOccurrences``) or by an RFC 5545 ``rRule`` (``FREQ=DAILY;INTERVAL=1``),
which wins when both are given. ``rule_text`` turns the fields into the equivalent ``rRule``; ``series`` builds
the dateutil rule, anchored at the first start in the event's time zone, so occurrences keep their wall-clock
time across daylight-saving changes.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil.rrule import rrule, rrulestr

from callyard.core.errors import Invalid

RECURRING_TYPES = ("NONE", "DAILY", "WEEKLY", "BIWEEKLY", "MONTHLY", "YEARLY", "MONTHLY_ABSOLUTE",
                   "MONTHLY_RELATIVE", "YEARLY_ABSOLUTE", "YEARLY_RELATIVE")
RANGE_TYPES = ("NONE", "END_DATE", "NUMBERED")
WEEK_POSITIONS = {"FIRST": 1, "SECOND": 2, "THIRD": 3, "FOURTH": 4, "LAST": -1, "NONE": None}
DAYS = ("MONDAY", "TUESDAY", "WEDNESDAY", "THURSDAY", "FRIDAY", "SATURDAY", "SUNDAY")
_BYDAY = {day: day[:2] for day in DAYS}
_FREQ = {"DAILY": "DAILY", "WEEKLY": "WEEKLY", "BIWEEKLY": "WEEKLY", "MONTHLY": "MONTHLY",
         "MONTHLY_ABSOLUTE": "MONTHLY", "MONTHLY_RELATIVE": "MONTHLY", "YEARLY": "YEARLY",
         "YEARLY_ABSOLUTE": "YEARLY", "YEARLY_RELATIVE": "YEARLY"}
INTERVAL_MAX = 999
COUNT_MAX = 5000
EXPANSION_MAX = 1000          # occurrences one expansion returns at most


def parse_instant(value: Any, field: str) -> datetime:
    """An ISO 8601 date-time (``2025-03-11T15:38:39Z``; an offset, or none meaning UTC) as an aware datetime."""
    if not isinstance(value, str) or len(value) > 40:
        raise Invalid(f"{field}.not.valid", f"{field} is a date-time (YYYY-MM-DDTHH:mm:ssZ)", field=field,
                      value="" if value is None else str(value)[:40])
    try:
        moment = datetime.fromisoformat(value.strip().replace("z", "Z").replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"{field}.not.valid", f"{field} is a date-time (YYYY-MM-DDTHH:mm:ssZ)", field=field,
                      value=value) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    if not 1970 <= moment.year <= 9000:
        raise Invalid(f"{field}.not.valid", f"{field} is out of range", field=field, value=value)
    return moment.astimezone(timezone.utc)


def iso_z(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def zone(name: Any) -> ZoneInfo:
    if not isinstance(name, str) or not name or len(name) > 64:
        raise Invalid("timeZone.not.valid", "timeZone is an IANA time zone (Europe/Stockholm)", field="timeZone",
                      value="" if name is None else str(name)[:64])
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid("timeZone.not.valid", "timeZone is an IANA time zone (Europe/Stockholm)", field="timeZone",
                      value=name) from None


def rule_text(fields: dict[str, Any], start: datetime, tz: ZoneInfo) -> str | None:
    """The RFC 5545 RRULE the UC recurrence fields describe for a series starting at ``start`` in zone ``tz``,
    or None for a single event. The rule is in floating (wall-clock) time, so ``UNTIL`` is the local time of
    ``endDate`` in ``tz``. Invalid naming the first field that does not fit."""
    start = start.astimezone(tz)
    kind = fields.get("recurringType") or "NONE"
    if kind not in RECURRING_TYPES:
        raise Invalid("recurringType.not.valid", f"recurringType is one of {', '.join(RECURRING_TYPES)}",
                      field="recurringType", value=str(kind))
    if kind == "NONE":
        return None
    interval = fields["interval"] if fields.get("interval") is not None else 1
    if isinstance(interval, bool) or not isinstance(interval, int) or not 1 <= interval <= INTERVAL_MAX:
        raise Invalid("interval.not.valid", f"interval is a whole number from 1 to {INTERVAL_MAX}", field="interval",
                      value=str(interval))
    if kind == "BIWEEKLY":
        interval *= 2
    parts = [f"FREQ={_FREQ[kind]}", f"INTERVAL={interval}"]
    days = fields.get("daysOfWeek") or []
    if not isinstance(days, list) or any(d not in DAYS for d in days) or len(set(days)) != len(days):
        raise Invalid("daysOfWeek.not.valid", f"daysOfWeek lists distinct days of {', '.join(DAYS)}",
                      field="daysOfWeek", value=str(days)[:64])
    position = fields.get("weekPosition") or "NONE"
    if position not in WEEK_POSITIONS:
        raise Invalid("weekPosition.not.valid", f"weekPosition is one of {', '.join(WEEK_POSITIONS)}",
                      field="weekPosition", value=str(position))
    day_of_month = _whole(fields, "dayOfMonth", 1, 31)
    month = _whole(fields, "monthOfYear", 1, 12)
    if kind in ("WEEKLY", "BIWEEKLY"):
        parts.append("BYDAY=" + ",".join(_BYDAY[d] for d in days or [DAYS[start.weekday()]]))
    elif kind.endswith("_RELATIVE"):
        if not days or WEEK_POSITIONS[position] is None:
            raise Invalid("weekPosition.required", f"{kind} needs daysOfWeek and a weekPosition", field="weekPosition",
                          value=str(position))
        parts += ["BYDAY=" + ",".join(_BYDAY[d] for d in days), f"BYSETPOS={WEEK_POSITIONS[position]}"]
        if kind == "YEARLY_RELATIVE":
            parts.append(f"BYMONTH={month or start.month}")
    elif kind in ("MONTHLY", "MONTHLY_ABSOLUTE"):
        parts.append(f"BYMONTHDAY={day_of_month or start.day}")
    elif kind in ("YEARLY", "YEARLY_ABSOLUTE"):
        parts += [f"BYMONTH={month or start.month}", f"BYMONTHDAY={day_of_month or start.day}"]
    range_type = fields.get("recurrenceRangeType") or "NONE"
    if range_type not in RANGE_TYPES:
        raise Invalid("recurrenceRangeType.not.valid", f"recurrenceRangeType is one of {', '.join(RANGE_TYPES)}",
                      field="recurrenceRangeType", value=str(range_type))
    if range_type == "NUMBERED":
        count = fields.get("numberOfOccurrences")
        if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= COUNT_MAX:
            raise Invalid("numberOfOccurrences.not.valid", f"a NUMBERED series needs numberOfOccurrences from 1 to "
                          f"{COUNT_MAX}", field="numberOfOccurrences", value=str(count))
        parts.append(f"COUNT={count}")
    elif range_type == "END_DATE":
        until = parse_instant(fields.get("endDate"), "endDate")
        if until < start:
            raise Invalid("endDate.not.valid", "endDate is before the first occurrence", field="endDate",
                          value=str(fields.get("endDate")))
        parts.append("UNTIL=" + until.astimezone(tz).strftime("%Y%m%dT%H%M%S"))
    return ";".join(parts)


def _whole(fields: dict[str, Any], name: str, low: int, high: int) -> int | None:
    value = fields.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise Invalid(f"{name}.not.valid", f"{name} is a whole number from {low} to {high}", field=name,
                      value=str(value))
    return value


def series(text: str | None, start: datetime, tz: ZoneInfo) -> rrule | None:
    """The dateutil rule of ``text`` anchored at ``start`` (wall-clock in ``tz``); None for a single event."""
    if text is None:
        return None
    if not isinstance(text, str) or len(text) > 512 or "\n" in text:
        raise Invalid("rRule.not.valid", "rRule is one RFC 5545 RRULE value (FREQ=DAILY;INTERVAL=1)", field="rRule",
                      value=str(text)[:64])
    body = text[6:] if text.upper().startswith("RRULE:") else text
    try:
        rule = rrulestr(body, dtstart=start.astimezone(tz).replace(tzinfo=None), forceset=False, ignoretz=True)
    except (ValueError, TypeError, KeyError, IndexError, OverflowError) as exc:
        raise Invalid("rRule.not.valid", f"rRule is not a valid RFC 5545 RRULE: {exc}", field="rRule",
                      value=text[:64]) from None
    if not isinstance(rule, rrule):
        raise Invalid("rRule.not.valid", "rRule is one RRULE", field="rRule", value=text[:64])
    return rule


def _aware(local: datetime, tz: ZoneInfo) -> datetime:
    return local.replace(tzinfo=tz).astimezone(timezone.utc)


def starts(rule: rrule | None, start: datetime, tz: ZoneInfo, window_start: datetime, window_end: datetime,
           limit: int = EXPANSION_MAX) -> list[datetime]:
    """The original starts (UTC) of the series in ``[window_start, window_end)``, at most ``limit``."""
    if rule is None:
        return [start] if window_start <= start < window_end else []
    # The rule runs on naive wall-clock times of the zone (RFC 5545 local time); the window is widened by a
    # day each side for the zone's offset, then filtered exactly in UTC.
    low = window_start.astimezone(tz).replace(tzinfo=None) - timedelta(days=1)
    found: list[datetime] = []
    for local in rule.xafter(low, inc=True):
        moment = _aware(local, tz)
        if moment >= window_end:
            break
        if moment >= window_start:
            found.append(moment)
            if len(found) >= limit:
                break
    return found


def on_date(rule: rrule | None, start: datetime, tz: ZoneInfo, day: date) -> datetime | None:
    """The original start of the occurrence on local date ``day`` (the first one that day), or None."""
    low = datetime.combine(day, time.min).replace(tzinfo=tz).astimezone(timezone.utc)
    found = starts(rule, start, tz, low, low + timedelta(days=1, hours=1), limit=4)
    return next((m for m in found if m.astimezone(tz).date() == day), None)
