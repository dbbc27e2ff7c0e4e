"""The in-memory state of the core and its unit of work.

The core keeps every aggregate (account, user, group, application, …) as a plain document in memory and
reads from there; the store (``callyard.store``) is the durable record. A write runs inside a
``UnitOfWork``: the core changes documents through it, the changes and the events they emit are committed
to the store in one transaction, and only then is the request answered. If the operation raises part-way
through, or the commit fails, every document it touched is put back as it was, so a rejected request
changes nothing.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator

from callyard.events.event import Event

Key = tuple[str, str]


@dataclass
class Changes:
    upserts: dict[Key, dict[str, Any]] = field(default_factory=dict)
    deletes: set[Key] = field(default_factory=set)
    blob_puts: dict[str, tuple[str, bytes]] = field(default_factory=dict)
    blob_deletes: set[str] = field(default_factory=set)
    events: list[Event] = field(default_factory=list)

    def empty(self) -> bool:
        return not (self.upserts or self.deletes or self.blob_puts or self.blob_deletes or self.events)


_MISSING = object()


class State:
    """Documents by kind and id, plus binary blobs (photos). Reads are plain dict look-ups."""

    def __init__(self) -> None:
        self.docs: dict[str, dict[str, dict[str, Any]]] = {}
        self.blobs: dict[str, tuple[str, bytes]] = {}

    def get(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        return self.docs.get(kind, {}).get(doc_id)

    def all(self, kind: str) -> Iterator[dict[str, Any]]:
        return iter(list(self.docs.get(kind, {}).values()))

    def clear(self) -> None:
        self.docs.clear()
        self.blobs.clear()

    def load(self, kind: str, doc_id: str, doc: dict[str, Any]) -> None:
        self.docs.setdefault(kind, {})[doc_id] = doc


class UnitOfWork:
    """Tracks the documents one core operation changes, with before-images for rollback."""

    def __init__(self, state: State, correlation_id: str | None = None) -> None:
        self.state = state
        self.correlation_id = correlation_id
        self.changes = Changes()
        self.after_commit: list[Callable[[], object]] = []  # run once the transaction is durable
        self.on_rollback: list[Callable[[], object]] = []   # undo what lives outside the documents
        # Per-transaction working state of whoever takes part (projections batching their after-commit work).
        self.scratch: dict[str, Any] = {}
        self._before: dict[Key, Any] = {}
        self._blob_before: dict[str, Any] = {}

    def _remember(self, key: Key) -> None:
        if key not in self._before:
            old = self.state.get(*key)
            self._before[key] = _MISSING if old is None else old

    def put(self, kind: str, doc_id: str, doc: dict[str, Any]) -> dict[str, Any]:
        """Store ``doc`` (a fresh dict owned by the state from now on) under kind/id."""
        key = (kind, doc_id)
        self._remember(key)
        self.state.docs.setdefault(kind, {})[doc_id] = doc
        self.changes.deletes.discard(key)
        self.changes.upserts[key] = doc
        return doc

    def update(self, kind: str, doc_id: str, **fields: Any) -> dict[str, Any]:
        """Copy-on-write update of an existing document."""
        current = self.state.get(kind, doc_id)
        if current is None:
            raise KeyError((kind, doc_id))
        new = copy.deepcopy(current)
        new.update(fields)
        return self.put(kind, doc_id, new)

    def delete(self, kind: str, doc_id: str) -> None:
        key = (kind, doc_id)
        self._remember(key)
        self.state.docs.get(kind, {}).pop(doc_id, None)
        self.changes.upserts.pop(key, None)
        self.changes.deletes.add(key)

    def put_blob(self, blob_id: str, content_type: str, data: bytes) -> None:
        if blob_id not in self._blob_before:
            self._blob_before[blob_id] = self.state.blobs.get(blob_id, _MISSING)
        self.state.blobs[blob_id] = (content_type, data)
        self.changes.blob_deletes.discard(blob_id)
        self.changes.blob_puts[blob_id] = (content_type, data)

    def delete_blob(self, blob_id: str) -> None:
        if blob_id not in self._blob_before:
            self._blob_before[blob_id] = self.state.blobs.get(blob_id, _MISSING)
        self.state.blobs.pop(blob_id, None)
        self.changes.blob_puts.pop(blob_id, None)
        self.changes.blob_deletes.add(blob_id)

    def emit(self, type_: str, account_id: str | None, subject: str, data: dict[str, Any] | None,
             occurred_at: str, fresh: bool = False) -> None:
        """Record an event. ``data`` is copied unless the caller built it for this event alone (``fresh``)."""
        self.changes.events.append(Event(type_, account_id, subject, data if fresh else copy.deepcopy(data),
                                         occurred_at, self.correlation_id))

    def rollback(self) -> None:
        for (kind, doc_id), old in self._before.items():
            if old is _MISSING:
                self.state.docs.get(kind, {}).pop(doc_id, None)
            else:
                self.state.docs.setdefault(kind, {})[doc_id] = old
        for blob_id, old in self._blob_before.items():
            if old is _MISSING:
                self.state.blobs.pop(blob_id, None)
            else:
                self.state.blobs[blob_id] = old
        self.changes = Changes()
        for undo in reversed(self.on_rollback):
            undo()
