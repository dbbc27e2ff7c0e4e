"""The core runtime: state, store, clock, ids and bus wired together, and the write transaction every
mutating core operation runs in."""
from __future__ import annotations

import asyncio
from contextlib import asynccontextmanager
from typing import AsyncIterator, Callable

from callyard.core import context
from callyard.core.clock import Clock, iso
from callyard.core.ids import Ids
from callyard.core.state import State, UnitOfWork
from callyard.events.bus import EventBus
from callyard.core.ports import Store


class Runtime:
    def __init__(self, store: Store, clock: Clock, ids: Ids, bus: EventBus) -> None:
        self.store = store
        self.clock = clock
        self.ids = ids
        self.bus = bus
        self.state = State()
        self.write_lock = asyncio.Lock()
        # Called with the unit of work just before its commit, inside the transaction: a hook may add
        # documents (the notification outbox does), so they are durable together with the change.
        self.before_commit: list[Callable[[UnitOfWork], None]] = []

    def now_iso(self) -> str:
        return iso(self.clock.now())

    @asynccontextmanager
    async def write(self) -> AsyncIterator[UnitOfWork]:
        """One atomic core operation: changes and events are committed together or not at all; events
        reach the bus only after the commit."""
        async with self.write_lock:
            uow = UnitOfWork(self.state, context.correlation_id.get())
            try:
                yield uow
                if uow.changes.events:
                    for hook in self.before_commit:
                        hook(uow)
                if not uow.changes.empty():
                    await self.store.commit(uow.changes)
            except BaseException:
                uow.rollback()
                raise
        for callback in uow.after_commit:
            callback()
        if uow.changes.events:
            await self.bus.publish(uow.changes.events)
