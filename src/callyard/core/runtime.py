"""The core runtime: state, store, clock, ids and the projection registry wired together, and the write
transaction every mutating core operation runs in."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator

from callyard.core import context
from callyard.core.clock import Clock
from callyard.core.ids import Ids
from callyard.core.state import State, UnitOfWork
from callyard.core.ports import Store
from callyard.events.projections import Projections


class Runtime:
    def __init__(self, store: Store, clock: Clock, ids: Ids, projections: Projections) -> None:
        self.store = store
        self.clock = clock
        self.ids = ids
        self.projections = projections
        self.state = State()
        self.write_lock = asyncio.Lock()
        # Units of work staged in the store but not yet known durable, in commit order (group commit).
        self._unconfirmed: list[tuple[UnitOfWork, asyncio.Future[None]]] = []

    def now_iso(self) -> str:
        return self.clock.now_iso()

    @asynccontextmanager
    async def write(self) -> AsyncIterator[UnitOfWork]:
        """One atomic core operation: changes and events are committed together or not at all. The
        in-transaction projections run just before the commit; the after-commit ones once it is durable.

        Group commit: the changes are staged in the store in commit order while the write lock is held; the
        lock is released before waiting for durability, so the next operation proceeds while this one's
        batch is written. The caller returns (and its request is acknowledged) only once its own changes are
        durable. If the write fails, this operation and every one staged after it are rolled back in memory,
        newest first, and each caller gets the failure."""
        durable: asyncio.Future[None] | None = None
        async with self.write_lock:
            uow = UnitOfWork(self.state, context.correlation_id.get())
            try:
                yield uow
                if uow.changes.events:
                    self.projections.run_in_transaction(uow)
                if not uow.changes.empty():
                    durable = self.store.stage(uow.changes)
            except BaseException:
                uow.rollback()
                raise
            if durable is not None and not (durable.done() and durable.exception() is None):
                self._unconfirmed.append((uow, durable))
            else:
                durable = None   # already durable (the memory store): nothing to wait for
        if durable is None:
            await self._after_commit(uow)
        else:
            # Shielded: once staged, the operation completes (its after-commit work included) even if the
            # request that started it is cancelled.
            await asyncio.shield(self._confirm(uow, durable))

    async def _confirm(self, uow: UnitOfWork, durable: asyncio.Future[None]) -> None:
        try:
            await durable
        except BaseException:
            await self._roll_back_failed()
            raise
        finally:
            self._forget(uow)
        await self._after_commit(uow)

    def _forget(self, uow: UnitOfWork) -> None:
        unconfirmed = self._unconfirmed
        if unconfirmed and unconfirmed[0][0] is uow:   # the usual case: confirmations come in commit order
            del unconfirmed[0]
        else:
            self._unconfirmed = [entry for entry in unconfirmed if entry[0] is not uow]

    async def _roll_back_failed(self) -> None:
        """Undo, newest first, every staged unit of work whose write failed (a failure fails everything
        staged after it, so these are the newest ones), then let the store accept work again."""
        async with self.write_lock:
            failed = [entry for entry in self._unconfirmed
                      if entry[1].done() and not entry[1].cancelled() and entry[1].exception() is not None]
            if not failed:
                return
            for entry in reversed(failed):
                entry[0].rollback()
            self._unconfirmed = [entry for entry in self._unconfirmed if entry not in failed]
            self.store.resume()

    async def _after_commit(self, uow: UnitOfWork) -> None:
        for callback in uow.after_commit:
            callback()
        if uow.changes.events:
            await self.projections.publish(uow.changes.events)
