"""The retry rule of seed 002, in one place.

* Retry only where a retry has a reasonable chance: 408, 429, 503, 504, 598, 599, and any response that
  carries a ``Retry-After`` header. Never another status (400, 401 — which has its own refresh-and-retry-once
  rule —, 404, 409, 500 …).
* Wait at least 2 seconds before each retry; when the response says ``Retry-After`` (seconds or an
  HTTP-date), wait ``max(2 s, Retry-After)``.
* At most 5 retries (6 attempts), then raise.
* A request that got no response (connection refused or reset, DNS failure, a timeout) is retried the same
  way. Note that a timed-out POST may have been carried out by the service before the connection failed
  (a Make Call placed twice); set ``retry_transport_errors=False`` on the policy where that matters.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Callable, Mapping

RETRYABLE_STATUSES = frozenset({408, 429, 503, 504, 598, 599})
MIN_DELAY = 2.0
MAX_RETRIES = 5


def parse_retry_after(value: str | None, now: Callable[[], datetime] | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP-date; None if absent or
    unreadable."""
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isdigit():
        return float(value)
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=timezone.utc)
    current = now() if now is not None else datetime.now(timezone.utc)
    return max(0.0, (when - current).total_seconds())


@dataclass(frozen=True)
class RetryPolicy:
    """How failed attempts are retried. The defaults are seed 002's limits, and the constructor refuses to
    go beyond them (more than 5 retries, or less than 2 s between attempts).

    ``max_retry_after``: a ``Retry-After`` longer than this (seconds) is not waited for; the error is raised
    at once with ``retry_after`` set, so the application can decide (it is honoured, not shortened).
    """

    max_retries: int = MAX_RETRIES
    min_delay: float = MIN_DELAY
    max_retry_after: float = 120.0
    retry_transport_errors: bool = True

    def __post_init__(self) -> None:
        if not 0 <= self.max_retries <= MAX_RETRIES:
            raise ValueError(f"max_retries must be between 0 and {MAX_RETRIES} (seed 002)")
        if self.min_delay < MIN_DELAY:
            raise ValueError(f"min_delay must be at least {MIN_DELAY} seconds (seed 002)")
        if self.max_retry_after < self.min_delay:
            raise ValueError("max_retry_after must be at least min_delay")

    def retryable(self, status: int, headers: Mapping[str, str]) -> bool:
        return status in RETRYABLE_STATUSES or headers.get("retry-after") is not None

    def delay(self, retry_after: float | None) -> float:
        """The wait before the next attempt."""
        return max(self.min_delay, retry_after or 0.0)
