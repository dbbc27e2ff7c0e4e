"""The console's live screens: Server-Sent Events fed from the event path.

An after-commit projection (registered by the family's ``projections`` hook) wakes every open screen whose
viewer may see the event's account: the screen renders its live part again and, when it changed, sends it
as one SSE message (``event: <screen>``, the HTML as ``data:`` lines) that htmx's SSE extension swaps in.
What changes without a core event (the request journal, fault hits, delivery attempts, the clock's
reading) is caught by a re-render every ``IDLE_SECONDS``; an unchanged screen sends nothing.
"""
from __future__ import annotations

import asyncio
from collections import deque
from contextlib import contextmanager
from typing import Any, Awaitable, Callable, Iterator

from starlette.responses import StreamingResponse

from callyard.api.common import sse
from callyard.events.event import TWIN_RESET, Event
from callyard.events.projections import Projections

IDLE_SECONDS = 2.0
RECENT_EVENTS = 100        # per account, for the events screen
# One account's documents replaced (Core.reset_accounts, an account-scoped import).
ACCOUNT_REPLACED = ("twin.accountReset", "twin.accountImported")
SETTLE_SECONDS = 0.05      # events of one burst (a call's legs) are rendered once
KEEPALIVE_SECONDS = 15.0
HEADERS = {"cache-control": "no-store", "x-accel-buffering": "no"}


class Watcher:
    """One open screen: the accounts it shows (None: every account, the operator's twin-wide screens)."""

    def __init__(self, accounts: set[str] | None) -> None:
        self.accounts = accounts
        self.wake = asyncio.Event()

    async def get(self) -> bool:
        """Woken by an event it concerns (``sse.sse_body`` waits on this, ``IDLE_SECONDS`` at most)."""
        return await self.wake.wait()

    def concerns(self, event: Event) -> bool:
        account = event.account_id
        return self.accounts is None or not account or account == "*" or account in self.accounts


class Hub:
    def __init__(self) -> None:
        self.watchers: set[Watcher] = set()
        # The latest events of each account (seq, event), seeded from the store's event log on first use.
        self._recent: dict[str, deque[tuple[int, Event]]] = {}
        self._seq = 0

    def register(self, projections: Projections) -> None:
        projections.after_commit("console wakes its live screens", self.publish)
        projections.after_commit("console wakes its live screens after a reset", self.publish,
                                 events=(TWIN_RESET, *ACCOUNT_REPLACED))

    def publish(self, event: Event) -> None:
        if event.type == TWIN_RESET:
            self._recent.clear()
        elif event.type in ACCOUNT_REPLACED:
            self._recent.pop(event.account_id or "", None)
        elif event.account_id in self._recent:
            self._seq += 1
            self._recent[event.account_id].append((-self._seq, event))
        for watcher in list(self.watchers):
            if watcher.concerns(event):
                watcher.wake.set()

    async def recent(self, store: Any, account_id: str) -> list[tuple[int, Event]]:
        """The account's latest events, oldest first: ``(seq, event)``, seq from the event log (negative for
        those heard after the log was read: the projection is not told their sequence number)."""
        kept = self._recent.get(account_id)
        if kept is None:
            kept = deque(maxlen=RECENT_EVENTS)
            after = 0
            while True:
                page = await store.read_events(after, 2000, {account_id}, ())
                kept.extend((stored.seq, stored.event) for stored in page)
                if len(page) < 2000:
                    break
                after = page[-1].seq
            self._recent[account_id] = kept
        return list(kept)

    @contextmanager
    def _watching(self, watcher: Watcher) -> Iterator[Watcher]:
        self.watchers.add(watcher)
        try:
            yield watcher
        finally:
            self.watchers.discard(watcher)

    def stream(self, screen: str, accounts: set[str] | None, render: Callable[[], Awaitable[str | None]],
               gone: Callable[[], Awaitable[bool]]) -> StreamingResponse:
        """The SSE stream of ``screen``: its render each time it changes, until the client goes away (``gone``)
        or ``render`` gives None (the session ended); a keep-alive after ``KEEPALIVE_SECONDS`` of idle waits."""
        watcher = Watcher(accounts)
        last = ""

        async def respond(update: Any) -> sse.Reply:
            nonlocal last
            if update is not sse.START:
                if update is not sse.IDLE:
                    await asyncio.sleep(SETTLE_SECONDS)   # woken: the rest of the burst first
                watcher.wake.clear()
            html = await render()
            if html is None:
                return sse.END
            if html == last:
                return None
            last = html
            return message(screen, html)

        return sse.sse_response(self._watching(watcher), respond, opening=["retry: 2000\n\n"],
                                keepalive=KEEPALIVE_SECONDS, poll=IDLE_SECONDS, gone=gone, headers=HEADERS)


def message(event: str, html: str) -> str:
    """One SSE message: ``event:`` and the HTML, one ``data:`` line per line."""
    return sse.message(html, event=event, split=sse.html_lines)
