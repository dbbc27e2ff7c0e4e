"""Server-Sent Events: the one body loop of the families' streams (the UC User API's CTI, contact, device,
configuration and queue-statistics streams, the console's live screens).

A stream is a subscription (a context manager entered when the body starts and left however the stream ends:
``respond`` ended it, the subscription was closed, ``gone`` said so, or the body was cancelled — Starlette cancels
it when the client disconnects) and a ``respond`` function that turns each update into the text to send. The
loop around them is here::

    opening texts (``retry:``, a comment) → respond(START) → wait for an update:
        an update       → respond(update): a message, nothing, or End (the stream is over)
        the closed item → the subscription was dropped (its reader fell behind): the stream ends
        ``poll`` s idle → respond(IDLE) (streams that re-read what changes without telling them)
        ``keepalive`` s of idle waits without a message sent → a keep-alive comment
    and, with ``gone``, before each respond: the client went away → the stream ends.

What differs between the streams is theirs: the event names, the payloads (JSON, PIDF, dialog-info, queue
statistics XML, HTML), the ``id:`` they count, how ``data:`` lines are split (``split``), the keep-alive text,
the headers. ``message`` formats one event; ``sse_response`` wraps a body in the streaming response.
"""
from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Iterator, Protocol, TypeVar, Union

from starlette.responses import StreamingResponse

from callyard.events.event import Event
from callyard.events.projections import Projections

MEDIA_TYPE = "text/event-stream"
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
KEEP_ALIVE = ": keep-alive\n\n"

T = TypeVar("T")
T_co = TypeVar("T_co", covariant=True)


class Source(Protocol[T_co]):
    """Where updates come from: an ``asyncio.Queue`` or anything with an awaitable ``get``."""

    def get(self) -> Awaitable[T_co]: ...


class _Marker:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return self.name


START = _Marker("START")   # respond(START): what the stream sends first, once subscribed
IDLE = _Marker("IDLE")     # respond(IDLE): ``poll`` seconds passed without an update


class End:
    """What ``respond`` returns to end the stream, after sending ``text`` when there is one."""

    def __init__(self, text: str | None = None) -> None:
        self.text = text


END = End()
Reply = Union[str, End, None]
Respond = Callable[[Any], Union[Reply, Awaitable[Reply]]]


# ---------------------------------------------------------------------------- formatting
def lines(data: str) -> list[str]:
    """The ``data:`` lines of a payload (``str.splitlines``; an empty payload is one empty line)."""
    return data.splitlines() or [""]


def html_lines(data: str) -> list[str]:
    """The ``data:`` lines of an HTML fragment: CR LF and CR are line ends too, a final line end gives an empty
    last line."""
    return data.replace("\r\n", "\n").replace("\r", "\n").split("\n")


def one_line(data: str) -> list[str]:
    """The payload as one ``data:`` line, as written (a document known to hold no line end)."""
    return [data]


def message(data: str, *, event: str | None = None, event_id: str | int | None = None,
            split: Callable[[str], list[str]] = lines) -> str:
    """One server-sent event: ``id:``, ``event:``, then a ``data:`` line per line of ``data``."""
    out = []
    if event_id is not None:
        out.append(f"id: {event_id}")
    if event:
        out.append(f"event: {event}")
    out += [f"data: {line}" for line in split(data)]
    return "\n".join(out) + "\n\n"


# ---------------------------------------------------------------------------- subscriptions
@contextmanager
def subscription(source: Source[T], unsubscribe: Callable[[], None]) -> Iterator[Source[T]]:
    """A source already subscribed (an after-commit projection feeding a queue): ``unsubscribe`` when the
    stream ends."""
    try:
        yield source
    finally:
        unsubscribe()


def after_commit(projections: Projections, name: str, events: Iterable[str], pick: Callable[[Event], T | None],
                 queue: asyncio.Queue[T]) -> AbstractContextManager[Source[T]]:
    """Subscribes at once (nothing committed after the request's checks is missed) an after-commit projection
    that puts on ``queue`` what ``pick`` takes from each event (None: not this stream's), dropped when the
    queue is full; the projection is removed when the stream ends."""
    def on_event(event: Event) -> None:
        item = pick(event)
        if item is not None and not queue.full():
            queue.put_nowait(item)

    return subscription(queue, projections.after_commit(name, on_event, events=events))


# ---------------------------------------------------------------------------- the body
async def sse_body(subscribe: AbstractContextManager[Source[Any]], respond: Respond, *,
                   opening: Sequence[str] = (), keepalive: float, keepalive_text: str = KEEP_ALIVE,
                   poll: float | None = None, closed: Any = None,
                   gone: Callable[[], Awaitable[bool]] | None = None) -> AsyncIterator[str]:
    """The text of a stream (see the module's docstring). ``closed``: the item a fan-out gives a subscriber it
    dropped (compared by identity); ``gone``: tells whether the client went away (the console's streams ask it
    before each render)."""
    idle = 0.0   # seconds of idle waits since something was sent
    with subscribe as source:
        for text in opening:
            yield text
        update: Any = START
        while True:
            if gone is not None and await gone():
                return
            reply = respond(update)
            if inspect.isawaitable(reply):
                reply = await reply
            if isinstance(reply, End):
                if reply.text is not None:
                    yield reply.text
                return
            if reply is not None:
                idle = 0.0
                yield reply
            elif idle >= keepalive:
                idle = 0.0
                yield keepalive_text
            while True:
                try:
                    update = await asyncio.wait_for(source.get(), poll if poll is not None else keepalive)
                except asyncio.TimeoutError:
                    if poll is None:   # nothing to re-read: only the keep-alive is due
                        yield keepalive_text
                        continue
                    idle += poll
                    update = IDLE
                break
            if closed is not None and update is closed:
                return


def sse_response(subscribe: AbstractContextManager[Source[Any]], respond: Respond, *, opening: Sequence[str] = (),
                 keepalive: float, keepalive_text: str = KEEP_ALIVE, poll: float | None = None, closed: Any = None,
                 gone: Callable[[], Awaitable[bool]] | None = None, headers: Mapping[str, str] = HEADERS,
                 media_type: str = MEDIA_TYPE) -> StreamingResponse:
    """The streaming response of ``sse_body`` (``text/event-stream``, not cached, not buffered by a proxy)."""
    body = sse_body(subscribe, respond, opening=opening, keepalive=keepalive, keepalive_text=keepalive_text,
                    poll=poll, closed=closed, gone=gone)
    return StreamingResponse(body, media_type=media_type, headers=dict(headers))
