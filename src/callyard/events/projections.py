"""The projection registry: how events become everything derived from them.

A *projection* subscribes to event types and runs in one of two phases:

* ``in_transaction``: inside the committing transaction, after the operation and before the commit. It
  receives the unit of work and may write documents (call records, the webhook outbox, presence following
  the PBX) or emit further events; what it writes is durable together with the change, and undone with
  it. Later projections (higher ``order``) see the events earlier ones emitted, so a presence change
  caused by a call is published with the call. A projection that raises aborts the transaction.
* ``after_commit``: once the transaction is durable, in commit order (live transports, success/failure
  URL callbacks, the simulator's device behaviour). One that fails is logged and does not stop the others:
  the event is already in the store's event log.

Who owns a projection registers it (the core for its own derived state, a family for its publications,
delivery for its transports); the composition root decides the order of registration. Patterns are event
types (``call.state``) or kinds (``user.*``); no pattern means every event of the core's state. Lifecycle
signals of the twin itself (``twin.reset``: never stored, published after a reset or snapshot import) reach
only the projections that name them.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Awaitable, Callable, Iterable, Literal

from callyard.events.event import LIFECYCLE_KIND, Event

if TYPE_CHECKING:
    from callyard.core.state import UnitOfWork

log = logging.getLogger("callyard.events")

Phase = Literal["in_transaction", "after_commit"]
InTransaction = Callable[["UnitOfWork", list[Event]], None]
AfterCommit = Callable[[Event], "Awaitable[None] | None"]

# Orders of in-transaction projections: derived state first, then what publishes it.
DERIVE = 10
PUBLISH = 20


class Patterns:
    """Event types (``call.state``) and kinds (``user.*``) a projection listens to; empty = every event."""

    __slots__ = ("types", "kinds", "everything")

    def __init__(self, patterns: Iterable[str] | None) -> None:
        listed = list(patterns or ())
        self.types = frozenset(p for p in listed if not p.endswith(".*"))
        self.kinds = frozenset(p[:-2] for p in listed if p.endswith(".*"))
        self.everything = not listed

    def match(self, event: Event) -> bool:
        return self.match_type(event.type)

    def match_type(self, event_type: str) -> bool:
        """Whether events of ``event_type`` are wanted (all that matching needs of an event)."""
        kind = event_type.split(".", 1)[0]
        if self.everything:
            return kind != LIFECYCLE_KIND  # lifecycle signals reach only who names them
        return event_type in self.types or kind in self.kinds

    def __str__(self) -> str:
        return "*" if self.everything else ", ".join(sorted(self.types | {f"{k}.*" for k in self.kinds}))


@dataclass(frozen=True)
class Registration:
    name: str
    phase: Phase
    patterns: Patterns
    order: int
    in_transaction: InTransaction | None = None
    after_commit: AfterCommit | None = None


class Projections:
    def __init__(self) -> None:
        self._in_transaction: list[Registration] = []
        self._after_commit: list[Registration] = []
        # event type → the after-commit registrations it reaches, and → the ids of the in-transaction ones:
        # worked out once per type (a hold goes past some twenty projections), dropped when one (un)registers
        self._after_by_type: dict[str, list[Registration]] = {}
        self._in_by_type: dict[str, frozenset[int]] = {}

    def _changed(self) -> None:
        self._after_by_type.clear()
        self._in_by_type.clear()

    def _in_reached(self, event_type: str) -> frozenset[int]:
        reached = self._in_by_type.get(event_type)
        if reached is None:
            reached = self._in_by_type[event_type] = frozenset(
                id(r) for r in self._in_transaction if r.patterns.match_type(event_type))
        return reached

    def _after_reached(self, event: Event) -> list[Registration]:
        reached = self._after_by_type.get(event.type)
        if reached is None:
            reached = self._after_by_type[event.type] = [r for r in self._after_commit if r.patterns.match(event)]
        return reached

    # ------------------------------------------------------------------ registering
    def in_transaction(self, name: str, handler: InTransaction, *, events: Iterable[str] | None = None,
                       order: int = DERIVE) -> Callable[[], None]:
        """Run ``handler(uow, matching_events)`` inside every transaction that emitted a matching event."""
        entry = Registration(name, "in_transaction", Patterns(events), order, in_transaction=handler)
        self._in_transaction.append(entry)
        self._in_transaction.sort(key=lambda r: r.order)  # stable: registration order within one order
        self._changed()

        def remove() -> None:
            self._in_transaction.remove(entry)
            self._changed()
        return remove

    def after_commit(self, name: str, handler: AfterCommit, *,
                     events: Iterable[str] | None = None) -> Callable[[], None]:
        """Run ``handler(event)`` for each matching event once its transaction is durable."""
        entry = Registration(name, "after_commit", Patterns(events), 0, after_commit=handler)
        self._after_commit.append(entry)
        self._changed()

        def remove() -> None:
            self._after_commit.remove(entry)
            self._changed()
        return remove

    def subscribe(self, handler: AfterCommit) -> Callable[[], None]:
        """Every event, after commit (tests and tools that watch the whole stream). Returns the unsubscriber."""
        return self.after_commit(getattr(handler, "__qualname__", "subscriber"), handler)

    def describe(self) -> list[dict[str, str | int]]:
        """The registered projections, in the order they run (docs, the control plane)."""
        return [{"name": r.name, "phase": r.phase, "events": str(r.patterns), "order": r.order}
                for r in [*self._in_transaction, *self._after_commit]]

    # ------------------------------------------------------------------ running
    def run_in_transaction(self, uow: "UnitOfWork") -> None:
        """Called by the runtime before the commit. Each projection sees the transaction's events as they
        are when its turn comes, including those an earlier projection emitted."""
        events = uow.changes.events
        by_type = self._in_by_type
        for entry in list(self._in_transaction):
            key = id(entry)
            matching = []
            for event in events:
                reached = by_type.get(event.type)
                if reached is None:
                    reached = self._in_reached(event.type)
                if key in reached:
                    matching.append(event)
            if matching and entry.in_transaction is not None:
                entry.in_transaction(uow, matching)

    async def publish(self, events: list[Event]) -> None:
        """Called by the runtime after the commit, with the transaction's events in order."""
        for event in events:
            for entry in self._after_reached(event):
                if entry.after_commit is None:
                    continue
                try:
                    result = entry.after_commit(event)
                    if result is not None:
                        await result
                except Exception:  # noqa: BLE001 - one failing projection must not hide an event from others
                    log.exception("projection %s failed for %s", entry.name, event.type)
