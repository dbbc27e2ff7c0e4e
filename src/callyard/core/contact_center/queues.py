"""Queues: their settings and the entries waiting in them.

A queue holds :class:`QueueEntry` objects, not calls. Today every entry wraps a voice call (``channel``
``"voice"``): it is offered to an agent by ringing legs on the agent's phone (``offers``). The queue order,
the agent state and the choice of agent (``distribution``) only look at the entry's channel-neutral fields
(priority, skill, when it was queued, who declined it), so a chat or email could later be queued and offered
to the same agents through the same queues by adding an entry kind with its own way of offering. Nothing
routes non-voice interactions yet.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from callyard.core.engine.model import Call, Leg

DISTRIBUTIONS = ("longestIdle", "priority", "skills", "ringAll")
QUEUE_DEFAULTS: dict[str, Any] = {"distribution": "longestIdle", "ringTimeoutSeconds": 15, "wrapUpSeconds": 0,
                                  "maxWaitSeconds": None, "overflow": None}


def queue_settings(group: dict[str, Any]) -> dict[str, Any]:
    """A group's queue settings: its ``acd`` object over the defaults (non-ACD groups ring all members)."""
    defaults = dict(QUEUE_DEFAULTS)
    if group.get("type") != "ACD":
        defaults["distribution"] = "ringAll"
    return {**defaults, **(group.get("acd") or {})}


@dataclass(eq=False, slots=True)
class QueueEntry:
    """One interaction waiting in a queue (today: a voice call)."""

    call: Call
    group_id: str
    queued_on: datetime
    priority: int = 0
    skill: str | None = None
    channel: str = "voice"
    offers: list[Leg] = field(default_factory=list)   # the agent legs ringing with it now

    @property
    def interaction_id(self) -> str:
        return self.call.call_id

    @property
    def account_id(self) -> str:
        return self.call.account_id

    @property
    def declined(self) -> set[tuple[str, str]]:
        """Endpoints (group members) that rejected this interaction: they are not offered it again."""
        return self.call.declined

    @property
    def offered(self) -> bool:
        return bool(self.offers)


class Queues:
    """The waiting lists: per (account, group), entries in order (priority, then arrival)."""

    def __init__(self) -> None:
        self._waiting: dict[tuple[str, str], list[QueueEntry]] = {}
        self._entries: dict[str, QueueEntry] = {}   # interaction id → its entry, while it waits

    def clear(self) -> None:
        self._waiting.clear()
        self._entries.clear()

    def add(self, entry: QueueEntry) -> None:
        stale = self._entries.get(entry.interaction_id)
        if stale is not None:
            self.remove(stale)
        queue = self._waiting.setdefault((entry.account_id, entry.group_id), [])
        position = len(queue)
        while position > 0 and queue[position - 1].priority < entry.priority:
            position -= 1
        queue.insert(position, entry)
        self._entries[entry.interaction_id] = entry

    def remove(self, entry: QueueEntry) -> None:
        queue = self._waiting.get((entry.account_id, entry.group_id), [])
        if entry in queue:
            queue.remove(entry)
        if self._entries.get(entry.interaction_id) is entry:
            del self._entries[entry.interaction_id]

    def entry_of(self, call: Call) -> QueueEntry | None:
        """The entry of ``call`` while it waits in the queue it is routed to (``call.queue_id``)."""
        entry = self._entries.get(call.call_id)
        if entry is None or entry.group_id != call.queue_id:
            return None
        return entry

    def waiting(self, account_id: str, group_id: str) -> list[QueueEntry]:
        """The entries waiting in one queue, in order (a copy)."""
        return list(self._waiting.get((account_id, group_id), []))

    def any_waiting(self, account_id: str) -> bool:
        return any(entries for (account, _), entries in self._waiting.items() if account == account_id)
