"""The SSE streams of a directory contact: its presence as PIDF documents (one per change of the ONE presence,
``presence.updated``) and its line state as RFC 4235 dialog-info documents (the CTI streams' hub of the
engine's call events). A subscriber that falls ``MAX_BACKLOG`` events behind is closed (the client reconnects
and gets the current state first)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from callyard.delivery.fanout import Fanout
from callyard.events.event import Event

if TYPE_CHECKING:
    from callyard.container import Twin

PRESENCE_STREAMS = "uc.presence.streams"
MAX_BACKLOG = 256
Key = tuple[str, str]
CLOSED = "closed"


class PresenceStreams(Fanout[Key, str]):
    """(account, userId) → the queues of the open presence streams; each is told that the presence changed."""

    def __init__(self) -> None:
        super().__init__(CLOSED, MAX_BACKLOG)

    def publish(self, event: Event) -> None:
        if event.account_id is not None:
            self.offer((event.account_id, event.subject.rstrip("/").rsplit("/", 1)[-1]), "changed")


def register(twin: "Twin") -> None:
    hub = PresenceStreams()
    twin.family_state[PRESENCE_STREAMS] = hub
    twin.core.projections.after_commit("UC contact presence streams", hub.publish, events=("presence.updated",))
