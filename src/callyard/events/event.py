"""The one event type of the core: every state change the core commits is reported as an ``Event``."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Published (not stored) after the whole twin was replaced: a reset or a snapshot import. Live calls are gone
# and every document may have changed; projections that keep views rebuild them.
LIFECYCLE_KIND = "twin"
TWIN_RESET = "twin.reset"


@dataclass
class Event:
    """One state change, as the core reports it: ``type`` such as ``user.updated`` or ``call.state``, the
    account it belongs to, the family-neutral subject path of the resource, and the resource after the
    change (``None`` when deleted). Façades decide how (and whether) an event reaches their wire."""

    type: str
    account_id: str | None
    subject: str
    data: dict[str, Any] | None
    occurred_at: str
    correlation_id: str | None = None

    @property
    def kind(self) -> str:
        """The resource kind: the type up to its first dot (``call`` for ``call.state``)."""
        return self.type.split(".", 1)[0]
