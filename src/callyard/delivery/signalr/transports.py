"""The three transports: WebSockets, Server-Sent Events and long polling. Each reads the connection's
buffer from a cursor, so a transport that drops and comes back with ``/reconnect`` resumes where it was.

* WebSockets: the init (or the missed messages) first, then each PersistentResponse as a text frame, ``{}``
  every keep-alive interval; hub invocations arrive as text frames and their results go back as frames.
* Server-Sent Events: ``data: initialized`` first, then the same responses as ``data:`` events, ``data: {}`` as
  keep-alive; invocations come by ``POST /send`` and their results are that request's body.
* Long polling: ``/connect`` answers the init at once; ``/poll`` (and ``/reconnect``) is held until there is
  something newer than the client's ``messageId`` or the connection timeout passes; a newer poll ends the one
  it supersedes. Results, too, are the body of ``/send``.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import TYPE_CHECKING, AsyncIterator, Awaitable, Callable

from starlette.websockets import WebSocket, WebSocketDisconnect

from callyard.delivery.signalr.connections import Connection
from callyard.delivery.signalr.protocol import parse_invocation, persistent_response

if TYPE_CHECKING:
    from callyard.delivery.signalr.server import SignalRServer

log = logging.getLogger("callyard.delivery.signalr")
CLOSE_SECONDS = 2.0


def farewell(connection: Connection) -> str | None:
    """What a transport says last when the server ended the connection (revoked, expired, too slow, shutting
    down): a response with ``E``, so the client stops instead of reconnecting. ``None`` otherwise."""
    if not connection.ended or connection.end_code == 1000:
        return None
    return persistent_response(connection.head, [], error=connection.end_reason)


def pending(server: SignalRServer, connection: Connection, cursor: int) -> tuple[str | None, int]:
    """The PersistentResponse a transport should write next (``None``: nothing new) and its cursor."""
    messages, head = connection.after(cursor)
    groups = connection.take_groups_change()
    if not messages and not groups:
        return None, cursor
    token = server.groups_token(connection) if groups else None
    return persistent_response(head, messages, groups=token), head


# ---------------------------------------------------------------------------------------------- WebSockets
async def websocket(server: SignalRServer, ws: WebSocket, connection: Connection, cursor: int,
                    initialized: bool) -> None:
    generation = connection.attach("webSockets")
    lock = asyncio.Lock()

    async def send(text: str) -> None:
        async with lock:
            await ws.send_text(text)

    async def write() -> None:
        nonlocal cursor
        if initialized:
            await send(persistent_response(connection.head, [], initialized=True,
                                           groups=server.groups_token(connection) if connection.groups else None))
            cursor = connection.head
        last = time.monotonic()
        while connection.current(generation):
            frame, cursor = pending(server, connection, cursor)
            if frame is not None:
                await send(frame)
                connection.mark_delivered(cursor)
                last = time.monotonic()
                continue
            idle = time.monotonic() - last
            if idle >= server.options.keep_alive:
                await send("{}")
                last = time.monotonic()
                continue
            await connection.wait(server.options.keep_alive - idle)

    async def read() -> None:
        while True:
            message = await ws.receive()
            if message["type"] == "websocket.disconnect":
                return
            text = message.get("text")
            if text is None and message.get("bytes") is not None:
                text = message["bytes"].decode("utf-8", "replace")
            if not text:
                continue
            connection.last_seen = time.monotonic()
            call = parse_invocation(text)
            if call is not None:
                await send(await server.invoke(connection, call))

    async def watch() -> None:
        while connection.current(generation):
            await connection.wait(3600)

    tasks = [asyncio.create_task(coro) for coro in (write(), read(), watch())]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        for result in await asyncio.gather(*tasks, return_exceptions=True):
            if isinstance(result, Exception) and not isinstance(result, (OSError, WebSocketDisconnect,
                                                                         RuntimeError)):
                log.debug("signalr websocket task ended with %r", result)
        connection.detach(generation)
        code, reason = (connection.end_code, connection.end_reason) if connection.ended else (1000, "")
        final = farewell(connection)
        with contextlib.suppress(Exception):
            if final is not None:
                await asyncio.wait_for(ws.send_text(final), CLOSE_SECONDS)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(ws.close(code, reason[:120]), CLOSE_SECONDS)


# ---------------------------------------------------------------------------------------------- SSE
async def server_sent_events(server: SignalRServer, connection: Connection, cursor: int,
                             initialized: bool) -> AsyncIterator[str]:
    generation = connection.attach("serverSentEvents")
    try:
        yield "data: initialized\n\n"
        if initialized:
            yield f"data: {persistent_response(connection.head, [], initialized=True)}\n\n"
            cursor = connection.head
        last = time.monotonic()
        while connection.current(generation):
            frame, cursor = pending(server, connection, cursor)
            if frame is not None:
                yield f"data: {frame}\n\n"
                connection.mark_delivered(cursor)
                last = time.monotonic()
                continue
            idle = time.monotonic() - last
            if idle >= server.options.keep_alive:
                yield "data: {}\n\n"
                last = time.monotonic()
                continue
            await connection.wait(server.options.keep_alive - idle)
        final = farewell(connection)
        if final is not None:
            yield f"data: {final}\n\n"
    finally:
        connection.detach(generation)


# ---------------------------------------------------------------------------------------------- long polling
async def long_poll(server: SignalRServer, connection: Connection, cursor: int,
                    disconnected: Callable[[], Awaitable[bool]]) -> str:
    """One poll: what is newer than ``cursor``, as soon as there is some, else an empty response when the
    connection timeout passes, the poll is superseded, the connection ends or the client goes away."""
    connection.mark_delivered(cursor)     # the client has seen up to its messageId
    generation = connection.attach("longPolling")
    deadline = time.monotonic() + server.options.connection_timeout
    try:
        while connection.current(generation):
            frame, new_cursor = pending(server, connection, cursor)
            if frame is not None:
                return frame
            remaining = deadline - time.monotonic()
            if remaining <= 0 or await disconnected():
                break
            await connection.wait(min(remaining, 1.0))
        return farewell(connection) or persistent_response(min(cursor, connection.head), [])
    finally:
        connection.detach(generation)
