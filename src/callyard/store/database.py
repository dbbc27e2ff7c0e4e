"""Store implementations.

The core's documents are stored as JSON text, one row per (kind, id), with the owning account as an indexed
column. The core reads from memory and writes through here in one transaction per operation, together with
the events that operation emitted: the event log, in commit order, which the control plane's event journal
(``GET /_callyard/events``) reads. Webhook deliveries are not replayed from it: they are documents of their
own (the outbox), written in the same transaction.
"""
from __future__ import annotations

import asyncio
import json
import sqlite3
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import orjson
import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from callyard.core.ports import Store, StoredEvent
from callyard.core.state import Changes, State
from callyard.events.event import Event
from callyard.events.projections import Patterns
from callyard.store import tables
from callyard.store.group_commit import Batch, GroupCommit, Prepared, json_text

MIGRATIONS = Path(__file__).parent / "migrations"
EVENT_LOG_LIMIT = 10_000


class MemoryStore:
    """``--ephemeral``: nothing outlives the process. The event log keeps the last ``EVENT_LOG_LIMIT`` events
    (a long load run in memory must not grow without bound); the count covers every event.

    An event is kept as the SQL stores keep it, a row of plain values with its data as JSON text, and read
    back as a new Event: a reader gets what it would get from SQLite, and the log holds no containers for
    the cycle collector to walk (a tuple of strings is untracked), which kept ten thousand events' nested
    snapshots in every full collection."""

    description = "in memory (ephemeral)"

    def __init__(self) -> None:
        self._meta: dict[str, str] = {}
        self._events = 0
        # (seq, type, account_id, subject, occurred_at, correlation_id, data as JSON text or None). Text, not
        # orjson's bytes: those keep orjson's whole output buffer (8 KiB for a 1.3 KB event).
        self._log: deque[tuple[int, str, str | None, str, str, str | None, str | None]] = deque(
            maxlen=EVENT_LOG_LIMIT)

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def load(self, state: State) -> bool:
        return False

    def stage(self, changes: Changes, meta: dict[str, str] | None = None) -> asyncio.Future[None]:
        """Nothing to wait for: the change set is "durable" (as far as memory goes) at once."""
        for event in changes.events:
            self._events += 1
            self._log.append((self._events, event.type, event.account_id, event.subject, event.occurred_at,
                              event.correlation_id,
                              None if event.data is None else json_text(event.data)))
        self._meta.update(meta or {})
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        done.set_result(None)
        return done

    def resume(self) -> None:
        return None

    async def commit(self, changes: Changes, meta: dict[str, str] | None = None) -> None:
        await self.stage(changes, meta)

    async def replace_all(self, state: State, meta: dict[str, str]) -> None:
        self._meta = dict(meta)

    async def get_meta(self, key: str) -> str | None:
        return self._meta.get(key)

    async def count_events(self) -> int:
        return self._events

    async def read_events(self, after: int, limit: int, account_ids: set[str] | None = None,
                          types: tuple[str, ...] = ()) -> list[StoredEvent]:
        found: list[StoredEvent] = []
        wanted = Patterns(types)
        for seq, type_, account_id, subject, occurred_at, correlation_id, body in self._log:
            if seq <= after or (account_ids is not None and account_id not in account_ids):
                continue
            if not wanted.match_type(type_):
                continue
            found.append(StoredEvent(seq, Event(type_, account_id, subject, None if body is None else
                                                orjson.loads(body), occurred_at, correlation_id)))
            if len(found) >= limit:
                break
        return found


class SqlStore:
    """SQLite (the embedded default) or PostgreSQL. Reads go through SQLAlchemy; every write goes through one
    ``GroupCommit`` writer (store/group_commit.py): on SQLite a plain ``sqlite3`` connection in a thread of its
    own (no async wrapper, one thread hand-off per batch), on PostgreSQL one transaction of the async engine
    per batch. Either way a batch is one transaction and one durability wait."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine | None = None
        self.description = sa.engine.make_url(url).render_as_string(hide_password=True)
        self._committer: GroupCommit | None = None
        self._sqlite: SqliteWriter | None = None

    async def open(self) -> None:
        url = sa.engine.make_url(self.url)
        if url.get_backend_name() == "sqlite":
            if url.database and url.database != ":memory:":
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_async_engine(self.url)

            @sa_event.listens_for(engine.sync_engine, "connect")
            def _pragmas(dbapi_connection: Any, _record: Any) -> None:
                cursor = dbapi_connection.cursor()
                # WAL for concurrent readers while the writer (SqliteWriter) commits; FULL for the migrations.
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=FULL")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.close()
        else:
            engine = create_async_engine(self.url, pool_size=5, max_overflow=5)
        self.engine = engine
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade)
        if url.get_backend_name() == "sqlite":
            self._sqlite = SqliteWriter(url.database or ":memory:")
            await self._sqlite.open()
            self._committer = GroupCommit(self._sqlite.write)
        else:
            self._committer = GroupCommit(self._write_sql)
        self._committer.start()

    async def close(self) -> None:
        if self._committer is not None:
            await self._committer.close()
            self._committer = None
        if self._sqlite is not None:
            await self._sqlite.close()
            self._sqlite = None
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None

    @property
    def committer(self) -> GroupCommit:
        assert self._committer is not None, "the store is not open"
        return self._committer

    async def load(self, state: State) -> bool:
        assert self.engine is not None
        async with self.engine.connect() as conn:
            loaded = await conn.scalar(sa.select(tables.meta.c.value).where(tables.meta.c.key == "tenant"))
            if loaded is None:
                return False
            state.clear()
            for kind, doc_id, body in await conn.execute(
                    sa.select(tables.documents.c.kind, tables.documents.c.id, tables.documents.c.body)):
                state.load(kind, doc_id, json.loads(body))
            for blob_id, content_type, data in await conn.execute(
                    sa.select(tables.blobs.c.id, tables.blobs.c.content_type, tables.blobs.c.data)):
                state.blobs[blob_id] = (content_type, bytes(data))
        return True

    def stage(self, changes: Changes, meta: dict[str, str] | None = None) -> asyncio.Future[None]:
        return self.committer.stage(Prepared.of(changes, meta))

    def resume(self) -> None:
        self.committer.resume()

    async def commit(self, changes: Changes, meta: dict[str, str] | None = None) -> None:
        await self.stage(changes, meta)

    async def replace_all(self, state: State, meta: dict[str, str]) -> None:
        """Make the store hold exactly ``state`` (reset and snapshot import), after everything staged before."""
        changes = Changes()
        for kind, docs in state.docs.items():
            for doc_id, doc in docs.items():
                changes.upserts[(kind, doc_id)] = doc
        changes.blob_puts = dict(state.blobs)
        await self.committer.stage(Prepared.of(changes, meta, replace=True))

    async def _write_sql(self, batch: Batch) -> None:
        """One batch as one transaction of the async engine (PostgreSQL)."""
        assert self.engine is not None
        async with self.engine.begin() as conn:
            await conn.run_sync(_write_batch_sa, batch)

    async def get_meta(self, key: str) -> str | None:
        assert self.engine is not None
        async with self.engine.connect() as conn:
            return await conn.scalar(sa.select(tables.meta.c.value).where(tables.meta.c.key == key))

    async def count_events(self) -> int:
        assert self.engine is not None
        async with self.engine.connect() as conn:
            return int(await conn.scalar(sa.select(sa.func.count()).select_from(tables.events)) or 0)

    async def read_events(self, after: int, limit: int, account_ids: set[str] | None = None,
                          types: tuple[str, ...] = ()) -> list[StoredEvent]:
        assert self.engine is not None
        e = tables.events
        query = sa.select(e).where(e.c.seq > after).order_by(e.c.seq).limit(limit)
        if account_ids is not None:
            query = query.where(e.c.account_id.in_(sorted(account_ids)))
        if types:
            query = query.where(sa.or_(*[e.c.type.startswith(t[:-1]) if t.endswith(".*") else e.c.type == t
                                         for t in types]))
        async with self.engine.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [StoredEvent(row.seq, Event(row.type, row.account_id, row.subject,
                                           None if row.body is None else json.loads(row.body), row.occurred_at,
                                           row.correlation_id)) for row in rows]


class SqliteWriter:
    """The SQLite writer: one plain ``sqlite3`` connection used only from one thread of its own. WAL mode,
    ``synchronous=FULL``: a batch's COMMIT returns once the WAL is on disk (one fsync per batch)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="callyard-sqlite-writer")
        self._conn: sqlite3.Connection | None = None

    async def open(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._pool, self._connect)

    def _connect(self) -> None:
        conn = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=FULL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=10000")
        self._conn = conn

    async def write(self, batch: Batch) -> None:
        await asyncio.get_running_loop().run_in_executor(self._pool, self._write, batch)

    def _write(self, batch: Batch) -> None:
        conn = self._conn
        assert conn is not None
        conn.execute("BEGIN IMMEDIATE")
        try:
            if batch.replace:
                for table in ("documents", "blobs", "meta"):
                    conn.execute(f"DELETE FROM {table}")
            else:
                conn.executemany("DELETE FROM documents WHERE kind = ? AND id = ?", batch.deletes())
                conn.executemany("DELETE FROM blobs WHERE id = ?", [(b,) for b in batch.blob_deletes()])
            conn.executemany("INSERT OR REPLACE INTO documents (kind, id, account_id, body) VALUES (?, ?, ?, ?)",
                             batch.upserts())
            conn.executemany("INSERT OR REPLACE INTO blobs (id, content_type, data) VALUES (?, ?, ?)",
                             batch.blob_puts())
            conn.executemany("INSERT INTO events (occurred_at, type, account_id, subject, correlation_id, body) "
                             "VALUES (?, ?, ?, ?, ?, ?)", batch.events)
            conn.executemany("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", list(batch.meta.items()))
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise

    async def close(self) -> None:
        def _close() -> None:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
        await asyncio.get_running_loop().run_in_executor(self._pool, _close)
        self._pool.shutdown(wait=True)


def _write_batch_sa(conn: Any, batch: Batch) -> None:
    """A batch through SQLAlchemy Core (PostgreSQL): deletes of every key written, then inserts."""
    d, b, m = tables.documents, tables.blobs, tables.meta
    if batch.replace:
        for table in (d, b, m):
            conn.execute(table.delete())
    else:
        keys = list(batch.documents)
        if keys:
            conn.execute(d.delete().where(d.c.kind == sa.bindparam("k"), d.c.id == sa.bindparam("i")),
                         [{"k": kind, "i": doc_id} for kind, doc_id in keys])
        if batch.blobs:
            conn.execute(b.delete().where(b.c.id.in_(list(batch.blobs))))
        if batch.meta:
            conn.execute(m.delete().where(m.c.key.in_(list(batch.meta))))
    upserts = batch.upserts()
    if upserts:
        conn.execute(d.insert(), [{"kind": kind, "id": doc_id, "account_id": account, "body": body}
                                  for kind, doc_id, account, body in upserts])
    blob_puts = batch.blob_puts()
    if blob_puts:
        conn.execute(b.insert(), [{"id": blob_id, "content_type": ct, "data": data} for blob_id, ct, data in blob_puts])
    if batch.events:
        conn.execute(tables.events.insert(), [
            {"occurred_at": at, "type": type_, "account_id": account, "subject": subject, "correlation_id": cid,
             "body": body} for at, type_, account, subject, cid, body in batch.events])
    if batch.meta:
        conn.execute(m.insert(), [{"key": key, "value": value} for key, value in batch.meta.items()])


def _upgrade(connection: Any) -> None:
    """Apply Alembic migrations up to head on an open connection (runs inside the async engine)."""
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = connection
    command.upgrade(config, "head")


def open_store(url: str | None) -> Store:
    return MemoryStore() if url is None else SqlStore(url)
