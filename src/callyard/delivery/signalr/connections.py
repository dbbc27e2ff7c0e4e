"""SignalR connections: who owns each, its groups (the monitors a hub method adds), and its bounded message
buffer with cursors, which every transport reads from and ``reconnect`` replays.

A connection outlives its transports: a WebSocket that drops and comes back with ``/reconnect`` and the last
cursor it saw gets what it missed, from the buffer. Pushing never waits: ``enqueue`` appends to the buffer and
wakes whatever transport is attached. A connection whose undelivered messages outgrow the buffer (a client that
cannot keep up, or one that stopped polling) is ended rather than allowed to hold the server back.
"""
from __future__ import annotations

import asyncio
import time
from collections import deque
from dataclasses import dataclass
from typing import Any, Callable, Iterator


@dataclass(frozen=True)
class ConnectionInfo:
    """What ``SignalRServer.connections()`` and a ``push(where=…)`` predicate see of a connection."""
    connection_id: str
    identity: str
    principal: Any
    transport: str | None
    protocol: str
    groups: frozenset[str]      # "hub.group", the hub lower-cased
    started: bool


class Connection:
    def __init__(self, connection_id: str, identity: str, principal: Any, protocol: str, buffer_size: int) -> None:
        self.id = connection_id
        self.identity = identity
        self.principal = principal
        self.protocol = protocol
        self.transport: str | None = None
        self.started = False
        self.groups: set[str] = set()
        self.groups_changed = False
        self.buffer: deque[tuple[int, str]] = deque(maxlen=buffer_size)
        self.limit = buffer_size
        self.head = 0               # the cursor of the newest message
        self.delivered = 0          # the newest cursor a transport has handed to the client
        self.ended = False
        self.end_reason = ""
        self.end_code = 1000
        self.attached = 0           # the generation of the transport now attached (0: none)
        self._generation = 0
        self.last_seen = time.monotonic()
        self._changed = asyncio.Event()
        self.on_groups: Callable[[Connection, set[str]], None] | None = None   # the registry's group index

    # ------------------------------------------------------------------ messages
    def enqueue(self, message: str) -> bool:
        """Append one encoded message (a hub call); ``False`` if the connection is over or was just ended for
        falling too far behind."""
        if self.ended:
            return False
        self.head += 1
        self.buffer.append((self.head, message))
        if self.head - self.delivered > self.limit:
            self.end("the client fell too far behind (its message buffer is full)", code=1008)
            return False
        self._wake()
        return True

    def after(self, cursor: int) -> tuple[list[str], int]:
        """The buffered messages newer than ``cursor`` and the cursor of the last of them (what a client that has
        seen up to ``cursor`` should get next). Messages older than the buffer are gone."""
        cursor = min(max(cursor, 0), self.head)
        if cursor == self.head:
            return [], self.head
        return [text for seq, text in self.buffer if seq > cursor], self.head

    def mark_delivered(self, cursor: int) -> None:
        self.delivered = max(self.delivered, min(cursor, self.head))

    def take_groups_change(self) -> bool:
        changed, self.groups_changed = self.groups_changed, False
        return changed

    def set_groups(self, groups: set[str]) -> None:
        if groups != self.groups:
            before, self.groups = self.groups, set(groups)
            self.groups_changed = True
            if self.on_groups is not None:
                self.on_groups(self, before)
            self._wake()

    # ------------------------------------------------------------------ transports
    def attach(self, transport: str) -> int:
        """A transport takes the connection over (a reconnect supersedes the socket or poll before it)."""
        self._generation += 1
        self.attached = self._generation
        self.transport = transport
        self.last_seen = time.monotonic()
        self._wake()
        return self._generation

    def detach(self, generation: int) -> None:
        if self.attached == generation:
            self.attached = 0
        self.last_seen = time.monotonic()

    def current(self, generation: int) -> bool:
        return not self.ended and self.attached == generation

    def end(self, reason: str, code: int = 1000) -> None:
        """End the connection; ``code`` is the close code a WebSocket on it gets (1000 normal, 1001 going
        away, 1008 policy: too slow, revoked or expired)."""
        if not self.ended:
            self.ended = True
            self.end_reason = reason
            self.end_code = code
            self.last_seen = time.monotonic()
            self._wake()

    async def wait(self, timeout: float) -> None:
        """Until something changes (a message, a group change, a takeover, the end) or ``timeout`` seconds."""
        changed = self._changed
        try:
            await asyncio.wait_for(changed.wait(), timeout)
        except asyncio.TimeoutError:
            pass

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    def info(self) -> ConnectionInfo:
        return ConnectionInfo(connection_id=self.id, identity=self.identity, principal=self.principal,
                              transport=self.transport, protocol=self.protocol, groups=frozenset(self.groups),
                              started=self.started)


class Connections:
    """The connections by id (ended ones too, until they are forgotten), and by group."""

    def __init__(self) -> None:
        self._by_id: dict[str, Connection] = {}
        self._members: dict[str, set[Connection]] = {}

    def get(self, connection_id: str) -> Connection | None:
        """The live connection of that id."""
        connection = self._by_id.get(connection_id)
        return None if connection is None or connection.ended else connection

    def ended(self, connection_id: str) -> bool:
        connection = self._by_id.get(connection_id)
        return connection is not None and connection.ended

    def members(self, group: str) -> list[Connection]:
        return [c for c in self._members.get(group, ()) if not c.ended]

    def add(self, connection: Connection) -> None:
        self._by_id[connection.id] = connection
        connection.on_groups = self._regroup
        self._regroup(connection, set())

    def remove(self, connection: Connection) -> None:
        if self._by_id.get(connection.id) is connection:
            del self._by_id[connection.id]
            connection.on_groups = None
            for group in connection.groups:
                self._leave(group, connection)

    def _regroup(self, connection: Connection, before: set[str]) -> None:
        for group in before - connection.groups:
            self._leave(group, connection)
        for group in connection.groups - before:
            self._members.setdefault(group, set()).add(connection)

    def _leave(self, group: str, connection: Connection) -> None:
        members = self._members.get(group)
        if members is not None:
            members.discard(connection)
            if not members:
                del self._members[group]

    def __iter__(self) -> Iterator[Connection]:
        return iter(list(self._by_id.values()))

    def __len__(self) -> int:
        return len(self._by_id)
