"""What the core needs from the world outside it, as protocols. The core imports these; only the composition
root (``callyard.container``) imports an implementation (``callyard.store``)."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Protocol

from callyard.core.state import Changes, State
from callyard.events.event import Event


@dataclass(frozen=True)
class StoredEvent:
    """One entry of the event log: its commit-ordered sequence number and the event."""

    seq: int
    event: Event


class Store(Protocol):
    """The durable record of the core's documents, blobs and event log (``callyard.store`` implements it)."""

    description: str

    async def open(self) -> None: ...
    async def close(self) -> None: ...
    async def load(self, state: State) -> bool: ...
    def stage(self, changes: Changes, meta: dict[str, str] | None = None) -> "asyncio.Future[None]":
        """Queue a change set, in commit order (called under the core's write lock); the future completes
        once it is durable, or fails, with every change set staged after it, if its write failed."""
        ...
    def resume(self) -> None:
        """After a failed write, once the core has rolled back every failed change set: accept new ones."""
        ...
    async def commit(self, changes: Changes, meta: dict[str, str] | None = None) -> None:
        """``stage`` and wait for durability."""
        ...
    async def replace_all(self, state: State, meta: dict[str, str]) -> None: ...
    async def get_meta(self, key: str) -> str | None: ...
    async def count_events(self) -> int: ...
    async def read_events(self, after: int, limit: int, account_ids: set[str] | None = None,
                          types: tuple[str, ...] = ()) -> list[StoredEvent]:
        """Events with ``seq`` > ``after`` in commit order, at most ``limit``; ``account_ids`` None: any
        account; ``types``: event types (``call.state``) or kinds (``call.*``), none: every type."""
        ...
