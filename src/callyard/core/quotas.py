"""Per-account quotas on the objects a plain user can create without bound (issue 13): live notification
subscriptions and connections, conversations. Beyond a quota a create answers ``Conflict("QuotaExceeded")``
(409: the state must change — something deleted or expired — before the same request can succeed) and
changes nothing. The numbers are settings (``callyard serve --quota-subscriptions N`` …)."""
from __future__ import annotations

from dataclasses import dataclass

from callyard.core.errors import Conflict


@dataclass
class Quotas:
    subscriptions: int = 10_000
    connections: int = 10_000
    conversations: int = 100_000


def check_quota(count: int, limit: int, what: str) -> None:
    """Refuse one more ``what`` when the account already has ``limit`` of them (0 or less: no quota)."""
    if 0 < limit <= count:
        raise Conflict("QuotaExceeded", f"the account already has {count} {what}, its quota; delete some first")
