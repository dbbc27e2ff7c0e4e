"""Load-generation helpers for bench/run.py: a minimal keep-alive HTTP/1.1 client on asyncio streams, a
generator of large tenants, and a reader of a process's resident memory.

The client is deliberately tiny (no header objects, no connection pool): on a machine with few cores the
load generator shares the CPU with the server under test, so the less it spends per request the more the
figures say about the server rather than about the client. The same client drives the bare Starlette
baseline, so the ratios compare like with like.
"""
from __future__ import annotations

import asyncio
import json
import os
import time
from pathlib import Path
from typing import Any, Awaitable, Callable
from urllib.parse import urlencode


class HttpError(RuntimeError):
    pass


class Conn:
    """One keep-alive HTTP/1.1 connection; requests on it are strictly sequential."""

    def __init__(self, port: int, headers: dict[str, str] | None = None) -> None:
        self.port = port
        self.extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> "Conn":
        self.reader, self.writer = await asyncio.open_connection("127.0.0.1", self.port)
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.writer is not None:
            self.writer.close()
            try:
                await self.writer.wait_closed()
            except OSError:
                pass

    async def request(self, method: str, path: str, body: Any = None, form: dict[str, str] | None = None,
                      headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        """``body`` is sent as JSON, ``form`` as application/x-www-form-urlencoded; ``headers`` are added to
        this request only."""
        assert self.reader is not None and self.writer is not None
        if form is not None:
            payload, content_type = urlencode(form).encode(), "application/x-www-form-urlencoded"
        else:
            payload, content_type = (b"" if body is None else json.dumps(body).encode()), "application/json"
        extra = self.extra + "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        head = (f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n{extra}"
                f"Content-Type: {content_type}\r\nContent-Length: {len(payload)}\r\n\r\n")
        self.writer.write(head.encode("latin-1") + payload)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        length = None
        for line in raw.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
                break
        if length is None:
            raise HttpError(f"{method} {path}: response without Content-Length")
        data = await self.reader.readexactly(length) if length else b""
        return status, data

    async def json(self, method: str, path: str, body: Any = None, expect: int | tuple[int, ...] = (200, 201),
                   form: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Any:
        status, data = await self.request(method, path, body, form, headers)
        if status not in ((expect,) if isinstance(expect, int) else expect):
            raise HttpError(f"{method} {path} -> {status}: {data[:300]!r}")
        return json.loads(data) if data else None


async def run_for(seconds: float, workers: list[Callable[[], Awaitable[int]]],
                  marks: list[float] | None = None) -> tuple[int, float]:
    """Run each worker's step repeatedly until ``seconds`` have passed; a step returns how many units of
    work (requests, calls) it completed. Returns (units, elapsed seconds); ``marks`` collects the instant
    (perf_counter) each step finished."""
    deadline = time.perf_counter() + seconds
    began = time.perf_counter()
    done = 0

    async def loop(step: Callable[[], Awaitable[int]]) -> None:
        nonlocal done
        while time.perf_counter() < deadline:
            units = await step()  # not ``done += await step()``: that reads ``done`` before awaiting
            done += units
            if marks is not None:
                marks.append(time.perf_counter())

    await asyncio.gather(*(loop(w) for w in workers))
    return done, time.perf_counter() - began


# ---------------------------------------------------------------------------------------------- receivers
class PostServer:
    """A minimal HTTP/1.1 server on asyncio streams (keep-alive) for webhook receivers: each POST goes to
    ``on_post(headers, body, perf_counter at the end of the request)``, whose answer is the status line.
    As small as the client, for the same reason."""

    def __init__(self) -> None:
        self.server: asyncio.AbstractServer | None = None
        self.url = ""
        self.handlers: set[asyncio.Task[Any]] = set()

    def on_post(self, headers: dict[bytes, bytes], body: bytes, at: float) -> bytes:
        raise NotImplementedError

    async def __aenter__(self) -> "PostServer":
        self.server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.url = f"http://127.0.0.1:{self.server.sockets[0].getsockname()[1]}/hook"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self.server is not None:
            self.server.close()
        for task in list(self.handlers):
            task.cancel()
        await asyncio.gather(*self.handlers, return_exceptions=True)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self.handlers.add(task)
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                headers = {}
                for line in head.split(b"\r\n")[1:]:
                    name, _, value = line.partition(b":")
                    headers[name.strip().lower()] = value.strip()
                length = int(headers.get(b"content-length", b"0"))
                body = await reader.readexactly(length) if length else b""
                status = self.on_post(headers, body, time.perf_counter())
                writer.write(b"HTTP/1.1 " + status + b"\r\ncontent-length: 0\r\n\r\n")
                await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()
            self.handlers.discard(task)


class HookReceiver(PostServer):
    """Answers 204 at once and calls ``arrived(body, at)`` for each delivery."""

    def __init__(self, arrived: Callable[[bytes, float], None]) -> None:
        super().__init__()
        self.arrived = arrived

    def on_post(self, headers: dict[bytes, bytes], body: bytes, at: float) -> bytes:
        self.arrived(body, at)
        return b"204 No Content"


class _Packet:
    """amqtt's decoders read from an adapter: this one serves the bytes of one WebSocket message."""

    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    async def read(self, n: int = -1) -> bytes:
        out = self.data[self.pos:] if n < 0 else self.data[self.pos:self.pos + n]
        self.pos += len(out)
        return out

    def feed_eof(self) -> None:
        self.pos = len(self.data)


class MqttSubscriber:
    """A small MQTT 3.1.1 subscriber over WebSocket for the bench: the ``websockets`` client and amqtt's
    packet codec (what the server decodes with), no thread per client like paho, so thousands fit in the
    load generator. Calls ``arrived(payload, perf_counter)`` for each PUBLISH and acknowledges QoS 1."""

    def __init__(self, url: str, token: str, client_id: str, arrived: Callable[[bytes, float], None]) -> None:
        self.url, self.token, self.client_id, self.arrived = url, token, client_id, arrived
        self.ws: Any = None
        self.task: asyncio.Task[None] | None = None

    async def open(self, topic: str, qos: int = 0) -> None:
        from amqtt.mqtt.connect import ConnectPacket, ConnectPayload, ConnectVariableHeader
        from amqtt.mqtt.subscribe import SubscribePacket
        from websockets.asyncio.client import connect

        self.ws = await connect(self.url, subprotocols=["mqtt"], ping_interval=None, compression=None,
                                max_size=None, open_timeout=30)
        header = ConnectVariableHeader(proto_name="MQTT", proto_level=4, keep_alive=0)
        header.clean_session_flag = header.username_flag = header.password_flag = True
        await self.ws.send(ConnectPacket(variable_header=header, payload=ConnectPayload(
            client_id=self.client_id, username="bench", password=self.token)).to_bytes())
        connack = await self.ws.recv()
        if connack[-1] != 0:
            raise HttpError(f"CONNACK refused: {connack!r}")
        await self.ws.send(SubscribePacket.build([(topic, qos)], 1).to_bytes())
        suback = await self.ws.recv()
        if suback[-1] not in (0, 1):
            raise HttpError(f"SUBACK refused: {suback!r}")
        self.task = asyncio.create_task(self._read())

    async def _read(self) -> None:
        from amqtt.mqtt.packet import PUBLISH, MQTTFixedHeader
        from amqtt.mqtt.puback import PubackPacket
        from amqtt.mqtt.publish import PublishPacket

        async for frame in self.ws:
            at = time.perf_counter()
            reader = _Packet(frame)
            header = await MQTTFixedHeader.from_stream(reader)  # type: ignore[arg-type]
            if header is None or header.packet_type != PUBLISH:
                continue
            packet = await PublishPacket.from_stream(reader, fixed_header=header)  # type: ignore[arg-type]
            self.arrived(packet.data or b"", at)
            if packet.qos == 1:
                await self.ws.send(PubackPacket.build(packet.packet_id).to_bytes())

    async def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        if self.ws is not None:
            await self.ws.close()


# ---------------------------------------------------------------------------------------------- tenant
BENCH_ACCOUNT = "be9c0000-0000-4000-8000-0000000be9c0"
ADMIN_EMAIL = "admin@bench.example"
ADMIN_PASSWORD = "bench-admin"
FIRST_EXTENSION = 10000


def write_tenant(path: Path, users: int) -> None:
    """A tenant with one customer account of ``users`` extension users (10000, 10001, …) and one
    ACCOUNT_ADMIN with a password (the only password: the other users skip the hash)."""
    people = [{"userId": f"be9c0000-0000-4000-8000-{FIRST_EXTENSION + i:012d}",
               "email": f"user{FIRST_EXTENSION + i}@bench.example", "name": f"Bench User {FIRST_EXTENSION + i}",
               "extension": str(FIRST_EXTENSION + i)} for i in range(users)]
    tenant = {"format": "callyard-tenant", "version": 1, "accounts": [
        {"accountId": "be9c0000-0000-4000-8000-0000000ba5e0", "accountNumber": "406900001", "name": "Bench Partner",
         "users": [], "customers": [
             {"accountId": BENCH_ACCOUNT, "accountNumber": "858000001", "name": "Bench",
              "users": [{"userId": "be9c0000-0000-4000-8000-00000000ad01", "email": ADMIN_EMAIL,
                         "name": "Bench Admin", "role": "ACCOUNT_ADMIN", "password": ADMIN_PASSWORD}, *people],
              "pbx": {"voicemail": "6000"}}]}]}
    path.write_text(json.dumps(tenant))


def extension(i: int) -> str:
    return str(FIRST_EXTENSION + i)


def outside_number(i: int) -> str:
    return f"+1613{5000000 + i:07d}"


def slowest_window(began: float, marks: list[float], seconds: float, window: float) -> float:
    """The lowest rate (units per second) over the consecutive ``window``-second slices of a run."""
    slices = max(1, int(seconds // window))
    counts = [0] * slices
    for mark in marks:
        index = int((mark - began) // window)
        if 0 <= index < slices:
            counts[index] += 1
    return min(counts) / window


# ---------------------------------------------------------------------------------------------- process
def cpu_seconds(pid: int) -> float:
    """User + system CPU time of ``pid``, all its threads (/proc/<pid>/stat)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    """Resident set size of ``pid`` (VmRSS in /proc/<pid>/status)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")
