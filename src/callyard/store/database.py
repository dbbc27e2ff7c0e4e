"""Store implementations.

The core's documents are stored as JSON text, one row per (kind, id), with the owning account as an indexed
column. The core reads from memory and writes through here in one transaction per operation, together with
the events that operation emitted: the event log, in commit order, which the control plane's event journal
(``GET /_callyard/events``) reads. Webhook deliveries are not replayed from it: they are documents of their
own (the outbox), written in the same transaction.
"""
from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event as sa_event
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from callyard.core.ports import Store, StoredEvent
from callyard.core.state import Changes, State
from callyard.events.event import Event
from callyard.events.projections import Patterns
from callyard.store import tables

MIGRATIONS = Path(__file__).parent / "migrations"
EVENT_LOG_LIMIT = 10_000


def _account_of(doc: dict[str, Any]) -> str | None:
    value = doc.get("accountId")
    return value if isinstance(value, str) else None


class MemoryStore:
    """``--ephemeral``: nothing outlives the process. The event log keeps the last ``EVENT_LOG_LIMIT`` events
    (a long load run in memory must not grow without bound); the count covers every event."""

    description = "in memory (ephemeral)"

    def __init__(self) -> None:
        self._meta: dict[str, str] = {}
        self._events = 0
        self._log: deque[StoredEvent] = deque(maxlen=EVENT_LOG_LIMIT)

    async def open(self) -> None:
        return None

    async def close(self) -> None:
        return None

    async def load(self, state: State) -> bool:
        return False

    async def commit(self, changes: Changes, meta: dict[str, str] | None = None) -> None:
        for event in changes.events:
            self._events += 1
            self._log.append(StoredEvent(self._events, event))
        self._meta.update(meta or {})

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
        for stored in self._log:
            if stored.seq <= after or not wanted.match(stored.event):
                continue
            if account_ids is not None and stored.event.account_id not in account_ids:
                continue
            found.append(stored)
            if len(found) >= limit:
                break
        return found


class SqlStore:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: AsyncEngine | None = None
        self.description = sa.engine.make_url(url).render_as_string(hide_password=True)

    async def open(self) -> None:
        url = sa.engine.make_url(self.url)
        if url.get_backend_name() == "sqlite":
            if url.database and url.database != ":memory:":
                Path(url.database).parent.mkdir(parents=True, exist_ok=True)
            engine = create_async_engine(self.url)

            @sa_event.listens_for(engine.sync_engine, "connect")
            def _pragmas(dbapi_connection: Any, _record: Any) -> None:
                # WAL for concurrent readers, FULL so that an acknowledged commit survives a power cut.
                cursor = dbapi_connection.cursor()
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=FULL")
                cursor.execute("PRAGMA foreign_keys=ON")
                cursor.close()
        else:
            engine = create_async_engine(self.url, pool_size=5, max_overflow=5)
        self.engine = engine
        async with engine.begin() as conn:
            await conn.run_sync(_upgrade)

    async def close(self) -> None:
        if self.engine is not None:
            await self.engine.dispose()
            self.engine = None

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

    async def commit(self, changes: Changes, meta: dict[str, str] | None = None) -> None:
        assert self.engine is not None
        async with self.engine.begin() as conn:
            await self._write(conn, changes)
            for key, value in (meta or {}).items():
                await self._put_meta(conn, key, value)

    async def replace_all(self, state: State, meta: dict[str, str]) -> None:
        """Make the store hold exactly ``state`` (reset and snapshot import)."""
        assert self.engine is not None
        changes = Changes()
        for kind, docs in state.docs.items():
            for doc_id, doc in docs.items():
                changes.upserts[(kind, doc_id)] = doc
        changes.blob_puts = dict(state.blobs)
        async with self.engine.begin() as conn:
            await conn.execute(tables.documents.delete())
            await conn.execute(tables.blobs.delete())
            await conn.execute(tables.meta.delete())
            await self._write(conn, changes, fresh=True)
            for key, value in meta.items():
                await self._put_meta(conn, key, value)

    async def _write(self, conn: Any, changes: Changes, fresh: bool = False) -> None:
        # One hop to the driver's thread per transaction (aiosqlite runs every statement in its thread),
        # with the per-key deletes as one executemany.
        await conn.run_sync(_write_sync, changes, fresh)

    async def _put_meta(self, conn: Any, key: str, value: str) -> None:
        await conn.execute(tables.meta.delete().where(tables.meta.c.key == key))
        await conn.execute(tables.meta.insert().values(key=key, value=value))

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


def _write_sync(conn: Any, changes: Changes, fresh: bool) -> None:
    d, b = tables.documents, tables.blobs
    keys = list(changes.upserts) + list(changes.deletes)
    if keys and not fresh:
        conn.execute(d.delete().where(d.c.kind == sa.bindparam("k"), d.c.id == sa.bindparam("i")),
                     [{"k": kind, "i": doc_id} for kind, doc_id in keys])
    if changes.upserts:
        conn.execute(d.insert(), [
            {"kind": kind, "id": doc_id, "account_id": _account_of(doc),
             "body": json.dumps(doc, separators=(",", ":"))}
            for (kind, doc_id), doc in changes.upserts.items()])
    blob_ids = list(changes.blob_puts) + list(changes.blob_deletes)
    if blob_ids and not fresh:
        conn.execute(b.delete().where(b.c.id.in_(blob_ids)))
    if changes.blob_puts:
        conn.execute(b.insert(), [
            {"id": blob_id, "content_type": ct, "data": data}
            for blob_id, (ct, data) in changes.blob_puts.items()])
    if changes.events:
        conn.execute(tables.events.insert(), [
            {"occurred_at": e.occurred_at, "type": e.type, "account_id": e.account_id,
             "subject": e.subject, "correlation_id": e.correlation_id,
             "body": None if e.data is None else json.dumps(e.data, separators=(",", ":"))}
            for e in changes.events])


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
