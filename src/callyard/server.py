"""The HTTP server the twin runs on: uvicorn, with a small guard against slow and abundant clients (issue 13,
finding 5). uvicorn offers ``limit_concurrency`` (a 503 once a request *arrives*), ``timeout_keep_alive``
(idle time between requests) and no bound on how long a request's headers may take, so a client that opens
20,000 connections and sends a header line every few seconds holds 20,000 file descriptors. The guard, a
subclass of uvicorn's httptools protocol:

* a connection cap: beyond ``max_connections`` open connections (HTTP and WebSocket alike) a new one is
  answered at once with ``503 TooManyConnections`` (``Retry-After: 1``) and closed, before it holds anything;
* a header-read timeout: a request's line and headers must arrive within ``header_timeout`` seconds of the
  connection opening (or of the previous response); otherwise ``408 RequestTimeout`` and the connection closes;
* at most ``MAX_HEADER_BYTES`` of request line and headers, else ``431 RequestHeaderFieldsTooLarge``.

It also joins a response's status line and headers with its first body chunk into one socket write
(``_Joined``): uvicorn writes them separately, two system calls and two wake-ups of a client on the same
machine for every small JSON answer.

Both numbers are settings (``callyard serve --header-timeout S --max-connections N``); the connection cap is
kept below the process's open-file limit.
"""
from __future__ import annotations

import asyncio
import json
import resource
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from callyard.config import Settings

MAX_HEADER_BYTES = 64 * 1024
FD_RESERVE = 64   # descriptors kept for the store, logs and outgoing webhooks


def _answer(status: int, reason: str, name: str, message: str, extra: str = "") -> bytes:
    body = json.dumps({"name": name, "message": message}).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            f"connection: close\r\n{extra}\r\n")
    return head.encode() + body


def connection_cap(requested: int) -> int:
    """``requested``, kept below the soft open-file limit so the cap refuses before the kernel does."""
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return requested
    return max(1, min(requested, soft - FD_RESERVE))


class _Joined:
    """A connection's transport as a request cycle sees it: the first write of a response (its head) is held
    until the next write (its body), which goes out with it in one ``write``; if no body follows in the same
    turn of the event loop (a stream that has nothing to say yet), the head goes out alone at the end of it.
    Everything else is the transport's own."""

    __slots__ = ("_transport", "_loop", "_held")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport, self._loop, self._held = transport, loop, b""

    def write(self, data: bytes) -> None:
        if self._held:
            data, self._held = self._held + data, b""
            self._transport.write(data)
        elif data:
            self._held = data
            self._loop.call_soon(self.flush)

    def flush(self) -> None:
        if self._held:
            data, self._held = self._held, b""
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class GuardedHttpTools(HttpToolsProtocol):  # type: ignore[misc]
    header_timeout: float = 10.0
    max_connections: int = 10_000

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._deadline: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._reading_headers = True
        self._refused = False

    # ------------------------------------------------------------------ the cap
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        if len(self.connections) >= self.max_connections:
            self._refused = True
            self.transport = transport
            transport.write(_answer(503, "Service Unavailable", "TooManyConnections",
                                    f"the server holds its maximum of {self.max_connections} connections; retry "
                                    "shortly", "retry-after: 1\r\n"))
            transport.close()
            return
        super().connection_made(transport)
        self._joined = _Joined(transport, self.loop)
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        if self._refused:
            return
        super().connection_lost(exc)

    # ------------------------------------------------------------------ the header deadline
    def _arm(self) -> None:
        self._reading_headers = True
        self._header_bytes = 0
        if self._deadline is None:
            self._deadline = self.loop.call_later(self.header_timeout, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self._reading_headers and not self.transport.is_closing():
            self.transport.write(_answer(408, "Request Timeout", "RequestTimeout",
                                         f"the request line and headers did not arrive within "
                                         f"{self.header_timeout:g} s"))
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._reading_headers:
            self._header_bytes += len(data)
            if self._header_bytes > MAX_HEADER_BYTES + 16 * 1024 * 1024:
                self.transport.close()   # far beyond any header block: no answer is owed
                return
        super().data_received(data)
        if self._reading_headers and self._header_bytes > MAX_HEADER_BYTES and not self.transport.is_closing():
            self.transport.write(_answer(431, "Request Header Fields Too Large", "RequestHeaderFieldsTooLarge",
                                         f"the request line and headers are larger than {MAX_HEADER_BYTES} bytes"))
            self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._arm()

    def on_headers_complete(self) -> None:
        self._reading_headers = False
        self._disarm()
        super().on_headers_complete()
        if self.cycle is not None and self.cycle.transport is self.transport:
            self.cycle.transport = self._joined  # type: ignore[assignment]  # duck-typed: write, close, the rest

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._arm()


def uvicorn_config(app: Any, settings: Settings, **options: Any) -> uvicorn.Config:
    """The uvicorn configuration of a twin: its address and the slow-client guard with the settings' numbers."""
    protocol = type("CallyardHttp", (GuardedHttpTools,), {
        "header_timeout": settings.header_timeout, "max_connections": connection_cap(settings.max_connections)})
    return uvicorn.Config(app, host=settings.host, port=settings.port, http=protocol, lifespan="on", **options)
