"""The in-process event bus. Handlers run after the events' transaction has committed, in commit order.

A handler that fails is logged and does not stop the others: the event is already durable in the store's
event log, which is what delivery will replay from.
"""
from __future__ import annotations

import logging
from typing import Awaitable, Callable

from callyard.core.state import Event

log = logging.getLogger("callyard.events")

Handler = Callable[[Event], Awaitable[None] | None]


class EventBus:
    def __init__(self) -> None:
        self._handlers: list[Handler] = []

    def subscribe(self, handler: Handler) -> Callable[[], None]:
        self._handlers.append(handler)
        return lambda: self._handlers.remove(handler)

    async def publish(self, events: list[Event]) -> None:
        for event in events:
            for handler in list(self._handlers):
                try:
                    result = handler(event)
                    if result is not None:
                        await result
                except Exception:  # noqa: BLE001 - one failing subscriber must not hide an event from others
                    log.exception("event handler failed for %s", event.type)
