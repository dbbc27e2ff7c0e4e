"""Make Call ``successUrl``/``failureUrl`` callbacks: the engine emits ``call.originate.result`` when the
outcome of an originated call is known; this posts the call snapshot to the URL (JSON), retrying twice
with back-off. A receiver that is down does not affect the call."""
from __future__ import annotations

import asyncio
import logging
from typing import Any

import httpx

from callyard.events.event import Event
from callyard.events.projections import Projections

log = logging.getLogger("callyard.delivery.callbacks")


class Callbacks:
    def __init__(self, projections: Projections, attempts: int = 3) -> None:
        self.attempts = attempts
        self.delivered: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        projections.after_commit("Make Call success/failure URL callbacks", self._on_event,
                                 events=("call.originate.result",))

    def _on_event(self, event: Event) -> None:
        if event.type != "call.originate.result" or not event.data:
            return
        task = asyncio.get_running_loop().create_task(self._post(event.data))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _post(self, data: dict[str, Any]) -> None:
        body = {"success": data["success"], **data["call"]}
        async with httpx.AsyncClient(timeout=5) as client:
            for attempt in range(self.attempts):
                try:
                    response = await client.post(data["url"], json=body)
                    if response.status_code < 500:
                        self.delivered.append({"url": data["url"], "status": response.status_code})
                        return
                except httpx.HTTPError as exc:
                    log.info("callback to %s failed: %s", data["url"], exc)
                await asyncio.sleep(0.5 * 2 ** attempt)
        self.delivered.append({"url": data["url"], "status": None})
