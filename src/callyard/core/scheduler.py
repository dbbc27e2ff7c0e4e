"""Timers on the twin's one clock: ring-no-answer, originate timeouts, ACD offers, simulated people.

With the real clock a background task sleeps until the earliest timer is due. With the manual clock nothing
fires on its own: ``advance(seconds)`` moves the clock from one due timer to the next, running each at its
exact virtual instant, so a test that advances 20 s sees a 15 s ring timeout fire at t+15 and the
forwarded call's own timers after it, in order.
"""
from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
from datetime import datetime, timedelta
from typing import Any, Awaitable, Callable

from callyard.core.clock import Clock

log = logging.getLogger("callyard.scheduler")

Callback = Callable[[], Awaitable[Any]]


class Timer:
    __slots__ = ("due", "seq", "callback", "cancelled", "label")

    def __init__(self, due: datetime, seq: int, callback: Callback, label: str) -> None:
        self.due = due
        self.seq = seq
        self.callback = callback
        self.cancelled = False
        self.label = label

    def cancel(self) -> None:
        self.cancelled = True

    def __lt__(self, other: "Timer") -> bool:
        return (self.due, self.seq) < (other.due, other.seq)


class Scheduler:
    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self._heap: list[Timer] = []
        self._seq = itertools.count()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._advancing = asyncio.Lock()

    def after(self, seconds: float, callback: Callback, label: str = "") -> Timer:
        timer = Timer(self.clock.now() + timedelta(seconds=max(0.0, seconds)), next(self._seq), callback, label)
        heapq.heappush(self._heap, timer)
        if self._wake is not None and self._heap[0] is timer:
            self._wake.set()
        elif self.clock.manual and seconds <= 0:
            # An immediate action (an auto-answering phone) must not wait for the next advance.
            try:
                asyncio.get_running_loop().call_soon(lambda: asyncio.ensure_future(self.run_due()))
            except RuntimeError:
                pass
        return timer

    def pending(self) -> int:
        return sum(1 for t in self._heap if not t.cancelled)

    def clear(self) -> None:
        for timer in self._heap:
            timer.cancel()
        self._heap.clear()

    async def _fire(self, timer: Timer) -> None:
        try:
            await timer.callback()
        except Exception:  # noqa: BLE001 - a timer whose action is no longer valid must not stop the others
            log.exception("timer %s failed", timer.label)

    def _pop_due(self, now: datetime) -> Timer | None:
        while self._heap and self._heap[0].cancelled:
            heapq.heappop(self._heap)
        if self._heap and self._heap[0].due <= now:
            return heapq.heappop(self._heap)
        return None

    # ------------------------------------------------------------------ manual clock
    async def advance(self, seconds: float) -> datetime:
        """Move the manual clock forward by ``seconds``, firing every timer due on the way at its instant."""
        if not self.clock.manual:
            raise ValueError("the real clock cannot be advanced; start the server with --clock manual")
        if seconds < 0:
            raise ValueError("a clock only moves forward")
        async with self._advancing:
            target = self.clock.now() + timedelta(seconds=seconds)
            while True:
                while self._heap and self._heap[0].cancelled:
                    heapq.heappop(self._heap)
                if not self._heap or self._heap[0].due > target:
                    break
                timer = heapq.heappop(self._heap)
                step = (timer.due - self.clock.now()).total_seconds()
                if step > 0:
                    self.clock.advance(step)
                await self._fire(timer)
            remaining = (target - self.clock.now()).total_seconds()
            if remaining > 0:
                self.clock.advance(remaining)
            return self.clock.now()

    async def run_due(self) -> None:
        """Fire what is due now (the manual clock after a zero-second timer was set)."""
        while (timer := self._pop_due(self.clock.now())) is not None:
            await self._fire(timer)

    # ------------------------------------------------------------------ real clock
    def start(self) -> None:
        if self.clock.manual or self._task is not None:
            return
        self._wake = asyncio.Event()
        self._task = asyncio.get_running_loop().create_task(self._run(), name="callyard-scheduler")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        self._wake = None

    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            timer = self._pop_due(self.clock.now())
            if timer is not None:
                await self._fire(timer)
                continue
            self._wake.clear()
            delay = None
            if self._heap:
                delay = max(0.0, (self._heap[0].due - self.clock.now()).total_seconds())
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=delay)
            except asyncio.TimeoutError:
                pass
