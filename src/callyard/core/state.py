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

_SCALARS = frozenset({str, int, float, bool, type(None)})


def data_copy(value: Any) -> Any:
    """``copy.deepcopy`` for documents and event data (dicts and lists of JSON values), several times faster:
    dicts, lists, tuples and sets are copied, JSON scalars shared; anything else goes to ``copy.deepcopy``."""
    kind = type(value)
    if kind is dict:
        return {k: v if type(v) in _SCALARS else data_copy(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _SCALARS else data_copy(v) for v in value]
    if kind in _SCALARS:
        return value
    if kind is tuple:
        return tuple(data_copy(v) for v in value)
    if kind is set:
        return {data_copy(v) for v in value}
    return copy.deepcopy(value)


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
    """Documents by kind and id, plus binary blobs (photos). Reads are plain dict look-ups.

    Derived look-ups (the directory's indexes) are rebuilt lazily: ``generation(kind)`` changes whenever a
    document of that kind may have changed — a write or delete through a unit of work, its rollback, a
    ``load`` — and whenever the documents are replaced wholesale (``docs = …``, ``clear``: reset and snapshot
    import). A cache keyed by the generation it was built at is therefore never stale."""

    def __init__(self) -> None:
        self._counter = 0   # moves at every touch and every wholesale replacement: generations never repeat
        self._base = 0      # the generation of every kind not touched since the last wholesale replacement
        self._generations: dict[str, int] = {}
        self.docs = {}
        self.blobs: dict[str, tuple[str, bytes]] = {}

    @property
    def docs(self) -> dict[str, dict[str, dict[str, Any]]]:
        return self._docs

    @docs.setter
    def docs(self, value: dict[str, dict[str, dict[str, Any]]]) -> None:
        self._docs = value
        self._renew()

    def _renew(self) -> None:
        self._counter += 1
        self._base = self._counter
        self._generations.clear()

    def generation(self, kind: str) -> int:
        """Changes whenever a document of ``kind`` may have changed (see the class notes), and never takes a
        value it had before."""
        return self._generations.get(kind, self._base)

    def touch(self, kind: str) -> None:
        """Note that documents of ``kind`` changed (the unit of work calls this on every write)."""
        self._counter += 1
        self._generations[kind] = self._counter

    def get(self, kind: str, doc_id: str) -> dict[str, Any] | None:
        return self._docs.get(kind, {}).get(doc_id)

    def all(self, kind: str) -> Iterator[dict[str, Any]]:
        return iter(list(self._docs.get(kind, {}).values()))

    def clear(self) -> None:
        self._docs.clear()
        self.blobs.clear()
        self._renew()

    def load(self, kind: str, doc_id: str, doc: dict[str, Any]) -> None:
        self._docs.setdefault(kind, {})[doc_id] = doc
        self.touch(kind)


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
        self.state.touch(kind)
        self.changes.deletes.discard(key)
        self.changes.upserts[key] = doc
        return doc

    def update(self, kind: str, doc_id: str, **fields: Any) -> dict[str, Any]:
        """Copy-on-write update of an existing document."""
        current = self.state.get(kind, doc_id)
        if current is None:
            raise KeyError((kind, doc_id))
        new = data_copy(current)
        new.update(fields)
        return self.put(kind, doc_id, new)

    def delete(self, kind: str, doc_id: str) -> None:
        key = (kind, doc_id)
        self._remember(key)
        self.state.docs.get(kind, {}).pop(doc_id, None)
        self.state.touch(kind)
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
        self.changes.events.append(Event(type_, account_id, subject, data if fresh else data_copy(data),
                                         occurred_at, self.correlation_id))

    def rollback(self) -> None:
        for (kind, doc_id), old in self._before.items():
            if old is _MISSING:
                self.state.docs.get(kind, {}).pop(doc_id, None)
            else:
                self.state.docs.setdefault(kind, {})[doc_id] = old
            self.state.touch(kind)
        for blob_id, old in self._blob_before.items():
            if old is _MISSING:
                self.state.blobs.pop(blob_id, None)
            else:
                self.state.blobs[blob_id] = old
        self.changes = Changes()
        for undo in reversed(self.on_rollback):
            undo()
