"""The core runtime: state, store, clock, ids and the projection registry wired together, and the write
transaction every mutating core operation runs in."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator

from callyard.core import context
from callyard.core.clock import Clock, iso
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

    def now_iso(self) -> str:
        return iso(self.clock.now())

    @asynccontextmanager
    async def write(self) -> AsyncIterator[UnitOfWork]:
        """One atomic core operation: changes and events are committed together or not at all. The
        in-transaction projections run just before the commit; the after-commit ones once it is durable."""
        async with self.write_lock:
            uow = UnitOfWork(self.state, context.correlation_id.get())
            try:
                yield uow
                if uow.changes.events:
                    self.projections.run_in_transaction(uow)
                if not uow.changes.empty():
                    await self.store.commit(uow.changes)
            except BaseException:
                uow.rollback()
                raise
        for callback in uow.after_commit:
            callback()
        if uow.changes.events:
            await self.projections.publish(uow.changes.events)
