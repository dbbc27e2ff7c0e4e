"""What the two WebSocket transports (MQTT over WebSocket, the plain JSON stream) share.

* ``Link``: one accepted WebSocket. The notification service hands envelopes over synchronously, from the
  commit of the request that caused them, so sending must never wait: ``send`` queues the frame and one
  writer task per socket writes in order. ``close`` queues the close behind what is already queued (a
  flush), and a peer that reads too slowly to keep its queue under ``MAX_QUEUED`` frames is cut off rather
  than allowed to grow the server without bound.
* The access token's expiry on the twin's clock: a timer on the core scheduler closes the link at ``exp``
  (with ``--clock manual`` that is the moment ``/_callyard/clock/advance`` passes it), and ``Sweeper`` checks
  every link once a second as well — after a reset, which clears the scheduler and every connection, or when
  a connection or subscription goes away without a listener hearing of it.
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any, Callable, Coroutine

from starlette.websockets import WebSocket

from callyard.core.notifications.connections import CONNECTION_DELETED, deleted_connection_id
from callyard.core.scheduler import Scheduler, Timer
from callyard.events.projections import Projections

log = logging.getLogger("callyard.delivery.live")

MAX_QUEUED = 10_000
SWEEP_SECONDS = 1.0
CLOSE_FLUSH_SECONDS = 2.0


Transport = Callable[[dict[str, Any], dict[str, Any]], None]


def close_sessions_of_deleted_connections(projections: Projections, name: str,
                                          connection_closed: Callable[[str], None]) -> None:
    """A transport closes the sessions bound to a connection as soon as its deletion is durable."""
    projections.after_commit(f"{name} closes a deleted connection's sessions",
                             lambda event: connection_closed(deleted_connection_id(event)),
                             events=(CONNECTION_DELETED,))


class LiveTransports:
    """The live (WebSocket) transports a publishing projection hands ``(subscription, envelope)`` pairs to,
    after the commit that produced them. Each transport sends only to the sockets bound to that
    subscription or its connection."""

    def __init__(self, *transports: Transport) -> None:
        self.transports = transports

    def dispatch(self, items: list[tuple[dict[str, Any], dict[str, Any]]]) -> None:
        for sub, envelope in items:
            for transport in self.transports:
                transport(sub, envelope)


class EnvelopeEncoder:
    """``json.dumps(envelope, separators=(",", ":"))``, byte for byte, for the envelopes of one publication
    fanned out to many subscriptions: they differ only in ``subscription``, so the rest is encoded once
    (the service hands them over one publication after another) and the subscription spliced in."""

    def __init__(self) -> None:
        self._key: tuple[Any, ...] | None = None
        self._parts: tuple[str, str] = ("", "")

    def encode(self, envelope: dict[str, Any]) -> str:
        subscription = envelope.get("subscription")
        if not isinstance(subscription, dict):
            return json.dumps(envelope, separators=(",", ":"))
        notification = envelope.get("notification") or {}
        key = (envelope.get("publicationId"), notification.get("correlationId"), notification.get("createdOn"),
               len(notification), len(envelope))  # a publicationId names one publication: the rest follows
        if key != self._key:
            keys = list(envelope)
            at = keys.index("subscription")
            before = json.dumps({k: envelope[k] for k in keys[:at]}, separators=(",", ":"))[:-1]
            after = json.dumps({k: envelope[k] for k in keys[at + 1:]}, separators=(",", ":"))[1:]
            self._parts = (before + ("," if at else "") + '"subscription":', ("," + after) if after != "}" else "}")
            self._key = key
        return self._parts[0] + json.dumps(subscription, separators=(",", ":")) + self._parts[1]


def bearer(header: str | None) -> str | None:
    """The token of an ``Authorization`` header, with or without ``Bearer `` (as the REST API accepts it)."""
    if not header:
        return None
    header = header.strip()
    if header[:7].lower() == "bearer ":
        return header[7:].strip() or None
    return None if header[:6].lower() == "basic " else header


class _Close:
    __slots__ = ("code", "reason")

    def __init__(self, code: int, reason: str) -> None:
        self.code, self.reason = code, reason


class Link:
    """One accepted WebSocket of a live transport."""

    def __init__(self, websocket: WebSocket) -> None:
        self.ws = websocket
        self.queue: asyncio.Queue[bytes | str | _Close] = asyncio.Queue()
        self.closing = False
        self.close_reason = ""
        self.expires = float("inf")   # the token's exp (seconds since the epoch, twin clock)
        self._revoked: Callable[[], bool] | None = None
        self._timer: Timer | None = None

    # ------------------------------------------------------------------ sending (never blocks)
    def send(self, frame: bytes | str) -> bool:
        if self.closing:
            return False
        if self.queue.qsize() >= MAX_QUEUED:
            self.close(1008, "slow consumer: too many frames queued")
            return False
        self.queue.put_nowait(frame)
        return True

    def close(self, code: int = 1000, reason: str = "") -> None:
        if self.closing:
            return
        self.closing = True
        self.close_reason = reason
        self.cancel_timer()
        self.queue.put_nowait(_Close(code, reason))

    # ------------------------------------------------------------------ token expiry
    def expire_at(self, exp: float, scheduler: Scheduler, now: float,
                  revoked: Callable[[], bool] | None = None) -> None:
        """Close this link when the token expires (``exp`` on the twin's clock); ``revoked`` tells whether the
        token no longer admits its holder (a new password, a deactivation, a revoked token family): the link
        then counts as expired at the next check (each delivery, and the sweep every second)."""
        self.expires = exp
        self._revoked = revoked
        self.cancel_timer()

        async def fire() -> None:
            self.close(4401, "TokenExpired: the access token has expired")
        self._timer = scheduler.after(max(0.0, exp - now), fire, "websocket token expiry")

    def expired(self, now: float) -> bool:
        return self.expires <= now or (self._revoked is not None and self._revoked())

    def cancel_timer(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

    # ------------------------------------------------------------------ the socket's life
    async def _write(self) -> None:
        while True:
            frame = await self.queue.get()
            if isinstance(frame, _Close):
                with contextlib.suppress(Exception):
                    await self.ws.close(frame.code, frame.reason)
                return
            if isinstance(frame, bytes):
                await self.ws.send_bytes(frame)
            else:
                await self.ws.send_text(frame)

    async def run(self, reader: Callable[[], Coroutine[Any, Any, Any]]) -> None:
        """Run the writer and ``reader`` until either ends (the peer left, or a close was queued); then make
        sure the socket is closed and both tasks are gone."""
        writer = asyncio.create_task(self._write())
        reading = asyncio.create_task(reader())
        try:
            await asyncio.wait({writer, reading}, return_when=asyncio.FIRST_COMPLETED)
            if reading.done() and not writer.done():
                if reading.exception() is not None and not isinstance(reading.exception(), OSError):
                    log.warning("websocket reader failed", exc_info=reading.exception())
                self.close(1000, self.close_reason)
                with contextlib.suppress(asyncio.TimeoutError):
                    await asyncio.wait_for(asyncio.shield(writer), CLOSE_FLUSH_SECONDS)
        finally:
            self.closing = True
            self.cancel_timer()
            for task in (reading, writer):
                task.cancel()
            results = await asyncio.gather(reading, writer, return_exceptions=True)
            for result in results:
                if isinstance(result, Exception) and not isinstance(result, (OSError, RuntimeError)):
                    log.debug("websocket task ended with %r", result)


class Sweeper:
    """Calls ``check`` once every ``SWEEP_SECONDS`` (real time) while started."""

    def __init__(self, check: Callable[[], None], period: float = SWEEP_SECONDS) -> None:
        self.check = check
        self.period = period
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name="callyard-websocket-sweeper")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.period)
            try:
                self.check()
            except Exception:  # noqa: BLE001 - one bad check must not stop the sweeps
                log.exception("websocket sweep failed")
