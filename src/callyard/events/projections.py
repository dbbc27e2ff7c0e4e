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
        if self.everything:
            return event.kind != LIFECYCLE_KIND  # lifecycle signals reach only who names them
        return event.type in self.types or event.kind in self.kinds

    def __str__(self) -> str:
        return "*" if self.everything else ", ".join(sorted(self.types | {f"{k}.*" for k in self.kinds}))


def _kind(event: Event, known: dict[str, str]) -> str:
    """``event.kind``, remembered per type for one pass."""
    kind = known.get(event.type)
    if kind is None:
        kind = known[event.type] = event.kind
    return kind


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
        # The after-commit registrations matching each event type, in registration order (an index over
        # ``_after_commit``, dropped whenever a registration comes or goes).
        self._after_by_type: dict[str, tuple[Registration, ...]] = {}

    # ------------------------------------------------------------------ registering
    def in_transaction(self, name: str, handler: InTransaction, *, events: Iterable[str] | None = None,
                       order: int = DERIVE) -> Callable[[], None]:
        """Run ``handler(uow, matching_events)`` inside every transaction that emitted a matching event."""
        entry = Registration(name, "in_transaction", Patterns(events), order, in_transaction=handler)
        self._in_transaction.append(entry)
        self._in_transaction.sort(key=lambda r: r.order)  # stable: registration order within one order
        return lambda: self._in_transaction.remove(entry)

    def after_commit(self, name: str, handler: AfterCommit, *,
                     events: Iterable[str] | None = None) -> Callable[[], None]:
        """Run ``handler(event)`` for each matching event once its transaction is durable."""
        entry = Registration(name, "after_commit", Patterns(events), 0, after_commit=handler)
        self._after_commit.append(entry)
        self._after_by_type.clear()

        def unregister() -> None:
            self._after_commit.remove(entry)
            self._after_by_type.clear()
        return unregister

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
        kinds: dict[str, str] = {}
        for entry in self._in_transaction:
            patterns = entry.patterns
            if patterns.everything:
                matching = [e for e in uow.changes.events if e.kind != LIFECYCLE_KIND]
            else:
                matching = [e for e in uow.changes.events if e.type in patterns.types or (
                    patterns.kinds and _kind(e, kinds) in patterns.kinds)]
            if matching and entry.in_transaction is not None:
                entry.in_transaction(uow, matching)

    async def publish(self, events: list[Event]) -> None:
        """Called by the runtime after the commit, with the transaction's events in order."""
        for event in events:
            matching = self._after_by_type.get(event.type)
            if matching is None:   # the patterns depend on the event's type alone
                matching = self._after_by_type[event.type] = tuple(
                    entry for entry in self._after_commit if entry.patterns.match(event))
            for entry in matching:
                if entry.after_commit is None:
                    continue
                try:
                    result = entry.after_commit(event)
                    if result is not None:
                        await result
                except Exception:  # noqa: BLE001 - one failing projection must not hide an event from others
                    log.exception("projection %s failed for %s", entry.name, event.type)
