"""Group commit: one writer, one transaction and one durability wait for every change set that queued up
while the previous batch was being written.

The core's unit of work stages its changes here *in commit order* while it still holds the core's write
lock (``Runtime.write``), releases the lock, and only then waits for its batch to be durable: the next
operation runs against memory while this one's fsync is in flight, and under load one fsync covers many
operations. A request is still acknowledged only once its own change set is durable, and change sets reach
the database in the order they were staged.

Staging serialises the changes at once (``Prepared``), so the writer never reads a live document: what is
written is exactly what the operation committed, whatever later operations do to memory.

If a batch fails, its change sets and every one staged after it fail too (they were built on top of it):
the committer refuses new work until the core has rolled all of them back in memory and calls ``resume()``.
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

import orjson

from callyard.core.state import Changes

Row = tuple[Any, ...]


def json_text(value: Any) -> str:
    """Compact JSON text, as ``json.dumps(value, separators=(",", ":"))`` writes it (non-string keys as text),
    several times faster."""
    return orjson.dumps(value, option=orjson.OPT_NON_STR_KEYS).decode()


def _account_of(doc: dict[str, Any]) -> str | None:
    value = doc.get("accountId")
    return value if isinstance(value, str) else None


@dataclass(slots=True)
class Prepared:
    """One change set as rows: ``documents`` maps (kind, id) to (account id, JSON body) or None for a
    deletion; ``replace`` means "the store holds exactly this afterwards" (reset, snapshot import)."""

    documents: dict[tuple[str, str], tuple[str | None, str] | None] = field(default_factory=dict)
    blobs: dict[str, tuple[str, bytes] | None] = field(default_factory=dict)
    events: list[Row] = field(default_factory=list)   # (occurred_at, type, account_id, subject, correlation, body)
    meta: dict[str, str] = field(default_factory=dict)
    replace: bool = False

    @classmethod
    def of(cls, changes: Changes, meta: dict[str, str] | None = None, replace: bool = False) -> "Prepared":
        documents: dict[tuple[str, str], tuple[str | None, str] | None] = dict.fromkeys(changes.deletes)
        for key, doc in changes.upserts.items():
            documents[key] = (_account_of(doc), json_text(doc))
        blobs: dict[str, tuple[str, bytes] | None] = dict.fromkeys(changes.blob_deletes)
        blobs.update(changes.blob_puts)
        events = [(e.occurred_at, e.type, e.account_id, e.subject, e.correlation_id,
                   None if e.data is None else json_text(e.data)) for e in changes.events]
        return cls(documents, blobs, events, dict(meta or {}), replace)


@dataclass(slots=True)
class Batch:
    """Consecutive change sets merged into one transaction: the last write of a key wins, events keep their
    order. A ``replace`` starts a batch of its own."""

    documents: dict[tuple[str, str], tuple[str | None, str] | None] = field(default_factory=dict)
    blobs: dict[str, tuple[str, bytes] | None] = field(default_factory=dict)
    events: list[Row] = field(default_factory=list)
    meta: dict[str, str] = field(default_factory=dict)
    replace: bool = False

    def add(self, item: Prepared) -> None:
        self.documents.update(item.documents)
        self.blobs.update(item.blobs)
        self.events.extend(item.events)
        self.meta.update(item.meta)

    def upserts(self) -> list[Row]:
        return [(kind, doc_id, row[0], row[1]) for (kind, doc_id), row in self.documents.items() if row is not None]

    def deletes(self) -> list[tuple[str, str]]:
        return [key for key, row in self.documents.items() if row is None]

    def blob_puts(self) -> list[Row]:
        return [(blob_id, row[0], row[1]) for blob_id, row in self.blobs.items() if row is not None]

    def blob_deletes(self) -> list[str]:
        return [blob_id for blob_id, row in self.blobs.items() if row is None]


class StoreUnavailable(RuntimeError):
    """A change set staged after a failed batch, before the core rolled the failure back."""


class GroupCommit:
    """The single writer: ``stage()`` queues a change set and returns a future that completes once it is
    durable; a background task writes everything queued as one ``Batch`` through ``write``."""

    def __init__(self, write: Callable[[Batch], Awaitable[None]], max_batch: int = 512) -> None:
        self._write = write
        self._max_batch = max_batch
        self._queue: list[tuple[Prepared, asyncio.Future[None]]] = []
        self._wake = asyncio.Event()
        self._idle = asyncio.Event()
        self._idle.set()
        self._failure: BaseException | None = None
        self._task: asyncio.Task[None] | None = None
        self.batches = 0        # transactions written (one durability wait each)
        self.change_sets = 0    # change sets they carried

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="callyard-group-commit")

    def stage(self, item: Prepared) -> asyncio.Future[None]:
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        if self._failure is not None:
            future.set_exception(StoreUnavailable(f"an earlier write failed: {self._failure!r}"))
            return future
        if self._task is None:
            self.start()
        self._queue.append((item, future))
        self._idle.clear()
        self._wake.set()
        return future

    def resume(self) -> None:
        """The core has rolled back every change set that failed: accept new ones again."""
        self._failure = None

    async def flush(self) -> None:
        """Wait until everything staged so far is written (or failed)."""
        await self._idle.wait()

    async def close(self) -> None:
        await self.flush()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None

    async def _run(self) -> None:
        while True:
            await self._wake.wait()
            # one turn of the event loop before taking the batch: requests already read and running to their
            # commit stage into it and share its fsync, instead of waiting for the next one
            await asyncio.sleep(0)
            self._wake.clear()
            while self._queue:
                taken = self._take()
                batch = Batch(replace=taken[0][0].replace)
                for item, _ in taken:
                    batch.add(item)
                try:
                    await self._write(batch)
                except asyncio.CancelledError:
                    self._fail(taken, StoreUnavailable("the store closed"))
                    raise
                except Exception as exc:   # noqa: BLE001 - every waiter gets the failure
                    self._fail(taken, exc)
                else:
                    self.batches += 1
                    self.change_sets += len(taken)
                    for _, future in taken:
                        if not future.done():
                            future.set_result(None)
            self._idle.set()

    def _take(self) -> list[tuple[Prepared, asyncio.Future[None]]]:
        """The next batch: consecutive change sets up to ``max_batch``; a replace goes alone."""
        count = 1
        if not self._queue[0][0].replace:
            while (count < len(self._queue) and count < self._max_batch
                   and not self._queue[count][0].replace):
                count += 1
        taken, self._queue = self._queue[:count], self._queue[count:]
        return taken

    def _fail(self, taken: list[tuple[Prepared, asyncio.Future[None]]], exc: BaseException) -> None:
        self._failure = exc
        doomed, self._queue = taken + self._queue, []
        for _, future in doomed:
            if not future.done():
                future.set_exception(exc)
