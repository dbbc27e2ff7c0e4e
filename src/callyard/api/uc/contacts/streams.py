"""The SSE streams of a directory contact: its presence as PIDF documents (one per change of the ONE presence,
``presence.updated``) and its line state as RFC 4235 dialog-info documents (the CTI streams' hub of the
engine's call events). A subscriber that falls ``MAX_BACKLOG`` events behind is closed (the client reconnects
and gets the current state first)."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from callyard.events.event import Event

if TYPE_CHECKING:
    from callyard.container import Twin

PRESENCE_STREAMS = "uc.presence.streams"
MAX_BACKLOG = 256
Key = tuple[str, str]
CLOSED = "closed"


class PresenceStreams:
    """(account, userId) → the queues of the open presence streams; each is told that the presence changed."""

    def __init__(self) -> None:
        self.listeners: dict[Key, set[asyncio.Queue[str]]] = {}

    def publish(self, event: Event) -> None:
        if event.account_id is None:
            return
        key = (event.account_id, event.subject.rstrip("/").rsplit("/", 1)[-1])
        for queue in list(self.listeners.get(key, ())):
            if queue.qsize() >= MAX_BACKLOG:
                queue.put_nowait(CLOSED)
                self.listeners[key].discard(queue)
            else:
                queue.put_nowait("changed")

    @contextmanager
    def subscribe(self, key: Key) -> Iterator[asyncio.Queue[str]]:
        queue: asyncio.Queue[str] = asyncio.Queue()
        self.listeners.setdefault(key, set()).add(queue)
        try:
            yield queue
        finally:
            listeners = self.listeners.get(key)
            if listeners is not None:
                listeners.discard(queue)
                if not listeners:
                    self.listeners.pop(key, None)


def register(twin: "Twin") -> None:
    hub = PresenceStreams()
    twin.family_state[PRESENCE_STREAMS] = hub
    twin.core.projections.after_commit("UC contact presence streams", hub.publish, events=("presence.updated",))
