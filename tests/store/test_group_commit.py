"""Group commit (store/group_commit.py, Runtime.write): concurrent operations share one transaction and one
durability wait, reach the database in commit order, are acknowledged only once durable; a failed write fails
its operations and every one staged after it, which are rolled back in memory, newest first, and the store
then accepts work again."""
from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path
from typing import Any

import pytest

from callyard.core.clock import Clock
from callyard.core.ids import Ids
from callyard.core.runtime import Runtime
from callyard.core.state import Changes, State
from callyard.events.projections import Projections
from callyard.store.database import SqlStore
from callyard.store.group_commit import Batch, GroupCommit, Prepared, StoreUnavailable


@pytest.fixture
async def sqlite_runtime(tmp_path: Path):
    store = SqlStore(f"sqlite+aiosqlite:///{tmp_path / 'g.db'}")
    await store.open()
    rt = Runtime(store, Clock(), Ids(3), Projections())
    yield rt, tmp_path / "g.db"
    await store.close()


async def _bump(rt: Runtime, n: int) -> None:
    async with rt.write() as uow:
        current = rt.state.get("counter", "c") or {"id": "c", "value": 0, "order": []}
        uow.put("counter", "c", {"id": "c", "value": current["value"] + 1, "order": [*current["order"], n]})
        uow.put("item", str(n), {"id": str(n), "accountId": "acct"})
        uow.emit("item.created", "acct", f"/items/{n}", {"n": n}, rt.now_iso())


async def test_concurrent_writes_share_batches_and_land_in_commit_order(sqlite_runtime):
    rt, path = sqlite_runtime
    await asyncio.gather(*(_bump(rt, n) for n in range(200)))
    committer = rt.store.committer
    assert committer.change_sets == 200
    assert committer.batches < 200          # several operations per transaction (and fsync)
    db = sqlite3.connect(path)
    counter = db.execute("SELECT body FROM documents WHERE kind = 'counter'").fetchone()[0]
    assert '"value":200' in counter
    assert db.execute("SELECT count(*) FROM documents WHERE kind = 'item'").fetchone()[0] == 200
    # The event log is in the order the operations committed in memory.
    import json
    memory_order = rt.state.get("counter", "c")["order"]
    logged = [json.loads(body)["n"] for (body,) in db.execute("SELECT body FROM events ORDER BY seq")]
    assert logged == memory_order


async def test_an_operation_returns_only_once_its_batch_is_written(tmp_path):
    gate = asyncio.Event()
    written: list[int] = []

    async def slow_write(batch: Batch) -> None:
        await gate.wait()
        written.append(len(batch.events))

    committer = GroupCommit(slow_write)
    rt = Runtime(_StoreOf(committer), Clock(), Ids(1), Projections())
    task = asyncio.create_task(_bump(rt, 1))
    await asyncio.sleep(0.05)
    assert not task.done()                  # staged, memory changed, not acknowledged
    assert rt.state.get("item", "1") is not None
    # The lock is free meanwhile: a second operation runs against memory.
    second = asyncio.create_task(_bump(rt, 2))
    await asyncio.sleep(0.05)
    assert rt.state.get("counter", "c")["value"] == 2 and not second.done()
    gate.set()
    await asyncio.gather(task, second)
    assert sum(written) == 2
    await committer.close()


async def test_a_failed_batch_rolls_back_it_and_everything_staged_after_it(tmp_path):
    fail = asyncio.Event()
    release = asyncio.Event()

    async def write(batch: Batch) -> None:
        await release.wait()
        if fail.is_set():
            raise OSError("disk full")

    committer = GroupCommit(write)
    rt = Runtime(_StoreOf(committer), Clock(), Ids(1), Projections())
    release.set()
    await _bump(rt, 0)                       # durable
    release.clear()
    fail.set()
    first = asyncio.create_task(_bump(rt, 1))
    await asyncio.sleep(0.02)
    later = [asyncio.create_task(_bump(rt, n)) for n in (2, 3)]
    await asyncio.sleep(0.02)
    assert rt.state.get("counter", "c")["value"] == 4   # all applied in memory, none acknowledged
    release.set()
    results = await asyncio.gather(first, *later, return_exceptions=True)
    assert all(isinstance(r, (OSError, StoreUnavailable)) for r in results), results
    # Memory is back to the last durable state: the failed operations left nothing behind.
    assert rt.state.get("counter", "c")["value"] == 1
    assert all(rt.state.get("item", str(n)) is None for n in (1, 2, 3))
    assert rt.state.get("item", "0") is not None
    # And the store accepts work again.
    fail.clear()
    await _bump(rt, 4)
    assert rt.state.get("counter", "c") == {"id": "c", "value": 2, "order": [0, 4]}
    await committer.close()


async def test_a_replace_goes_alone_and_after_what_was_staged_before(sqlite_runtime):
    rt, path = sqlite_runtime
    await asyncio.gather(*(_bump(rt, n) for n in range(5)))
    fresh = State()
    fresh.docs = {"thing": {"x": {"id": "x"}}}
    await rt.store.replace_all(fresh, {"tenant": "t"})
    db = sqlite3.connect(path)
    assert db.execute("SELECT kind, id FROM documents").fetchall() == [("thing", "x")]
    assert db.execute("SELECT value FROM meta WHERE key = 'tenant'").fetchone() == ("t",)
    assert db.execute("SELECT count(*) FROM events").fetchone()[0] == 5   # the event log is kept


def test_prepared_rows_are_a_snapshot_of_the_change_set():
    changes = Changes()
    doc: dict[str, Any] = {"id": "1", "accountId": "a", "n": 1}
    changes.upserts[("k", "1")] = doc
    changes.deletes.add(("k", "2"))
    prepared = Prepared.of(changes)
    doc["n"] = 2                              # a later in-place change does not reach the write
    batch = Batch()
    batch.add(prepared)
    assert batch.upserts() == [("k", "1", "a", '{"id":"1","accountId":"a","n":1}')]
    assert batch.deletes() == [("k", "2")]


class _StoreOf:
    """A store whose durability is a GroupCommit with a test-controlled write."""

    description = "test"

    def __init__(self, committer: GroupCommit) -> None:
        self.committer = committer

    def stage(self, changes: Changes, meta: dict[str, str] | None = None) -> asyncio.Future[None]:
        return self.committer.stage(Prepared.of(changes, meta))

    def resume(self) -> None:
        self.committer.resume()
