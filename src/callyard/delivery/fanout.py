"""One bounded fan-out for the live streams (the UC SSE streams): a key's subscribers each get a queue; an item
offered under the key goes to every queue, and a subscriber that has fallen ``max_backlog`` items behind gets the
``closed`` item instead and is dropped (its client reconnects and starts from the current state), so a slow
reader never holds memory without bound."""
from __future__ import annotations

import asyncio
from collections.abc import Hashable, Iterator
from contextlib import contextmanager
from typing import Generic, TypeVar

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class Fanout(Generic[K, T]):
    def __init__(self, closed: T, max_backlog: int = 256) -> None:
        self.closed = closed
        self.max_backlog = max_backlog
        self.listeners: dict[K, set[asyncio.Queue[T]]] = {}

    def offer(self, key: K, item: T) -> None:
        for queue in list(self.listeners.get(key, ())):
            if queue.qsize() >= self.max_backlog:
                queue.put_nowait(self.closed)
                self.listeners[key].discard(queue)
            else:
                queue.put_nowait(item)

    @contextmanager
    def subscribe(self, key: K) -> Iterator[asyncio.Queue[T]]:
        queue: asyncio.Queue[T] = asyncio.Queue()
        self.listeners.setdefault(key, set()).add(queue)
        try:
            yield queue
        finally:
            listeners = self.listeners.get(key)
            if listeners is not None:
                listeners.discard(queue)
                if not listeners:
                    self.listeners.pop(key, None)
