"""``make soak``: webhook delivery through a failing receiver and a crashing server.

The server runs as a child process on a fresh SQLite data directory with a manual clock. A local receiver
records every webhook (``webhook-id`` and body) and answers 500 to a random 30% of the attempts. One webhook
subscription takes every chat message created; ``--events`` messages are posted by several concurrent
connections, and the server is killed (SIGKILL) ``--kills`` times during that and started again on the same
data. Then the retries drain: the twin's scheduler waits 1, 2, 4 … 600 s (with jitter) between attempts, so
the soak advances the virtual clock (``POST /_callyard/clock/advance``) instead of waiting for it. A delivery
whose eleven attempts all failed (the schedule gave up: 0.3^11 per delivery) is replayed through
``POST /_callyard/deliveries/{id}/replay`` and counted apart.

It prints the events produced (acknowledged with 201), the publications expected (the server's delivery
log), the unique webhook-ids delivered, the duplicates (a webhook-id delivered again, always with the same
body), and the lost ones: an acknowledged message with no delivery in the log, or a delivery never accepted
by the receiver. Exit status 1 if anything is lost or a duplicate differs from its first delivery.

Then an abuse phase (issue 13) on a fresh server: another tenant's webhook latency (Globex chat messages,
request sent → webhook received) is measured quietly, then again while Acme runs a pathological filter
subscriber (backtracking-bait ``subjectFilter`` and ``publicationFilter`` matched on every Acme message),
oversized request bodies (declared and chunked, without a token) and slow clients trickling their headers.
Exit status 1 as well if the abused p99 is more than twice the quiet one.

    python bench/soak.py --abuse-events 400   # 10,000 events, 2 kills, then the abuse phase (make soak)
    python bench/soak.py --events 500 --kills 1
"""
from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.loadgen import Conn, HookReceiver, PostServer  # noqa: E402

B = "/2017-09-01"
# What a dead or restarting server looks like to a client.
GONE = (ConnectionError, asyncio.IncompleteReadError, OSError, asyncio.TimeoutError)
TICK = 0.1               # wall seconds between clock advances
ADVANCE_LOADING = 1.0    # virtual seconds per tick while events are produced (10x)
ADVANCE_DRAINING = 10.0  # ... and while the retries drain (100x)
DRAIN_LIMIT = 600.0      # wall seconds to wait for the drain before counting what is left as lost


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ------------------------------------------------------------------------------------------- receiver
class FlakyReceiver(PostServer):
    """A webhook receiver that answers 500 to a random ``failure`` share of the attempts and 200 to the rest;
    records every accepted delivery by webhook-id."""

    def __init__(self, failure: float, seed: int) -> None:
        super().__init__()
        self.failure = failure
        self.rng = random.Random(seed)
        self.accepted: dict[str, list[bytes]] = defaultdict(list)
        self.attempts = 0
        self.refused = 0

    def on_post(self, headers: dict[bytes, bytes], body: bytes, at: float) -> bytes:
        self.attempts += 1
        if self.rng.random() < self.failure:
            self.refused += 1
            return b"500 Internal Server Error"
        self.accepted[headers[b"webhook-id"].decode()].append(body)
        return b"200 OK"


# ------------------------------------------------------------------------------------------- server
class Server:
    """``callyard serve`` on a data directory, manual clock, open control plane; killed with SIGKILL."""

    def __init__(self, data: Path, extra: tuple[str, ...] = ()) -> None:
        self.port = free_port()
        self.data = data
        self.extra = extra
        self.log = data.parent / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.up = asyncio.Event()

    def _start(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "callyard.cli.main", "serve", "--port", str(self.port), "--data",
                 str(self.data), "--clock", "manual", "--open-control", "--log-level", "warning", *self.extra],
                cwd=ROOT, stdout=out, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and self.process.poll() is None:
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/_callyard/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        raise RuntimeError(f"callyard did not start; see {self.log}")

    async def start(self) -> None:
        await asyncio.to_thread(self._start)
        self.up.set()

    def kill(self) -> None:
        self.up.clear()
        if self.process is not None:
            os.kill(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        self.up.clear()
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)


# ------------------------------------------------------------------------------------------- the run
@dataclass
class Figures:
    events: int = 0                  # messages acknowledged with 201
    unanswered: int = 0              # requests cut off by a kill (not counted as events)
    kills: int = 0
    expected: int = 0                # deliveries in the server's log for the subscription
    delivered: int = 0               # unique webhook-ids the receiver accepted, among the expected
    duplicates: int = 0              # accepted again with a webhook-id already accepted
    mismatched: int = 0              # duplicates whose body differs from the first delivery
    missing_from_outbox: int = 0     # acknowledged messages with no delivery in the log
    gave_up: int = 0                 # deliveries the retry schedule gave up on, replayed
    attempts: int = 0
    refused: int = 0
    wall: float = 0.0
    lost_ids: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return len(self.lost_ids)


class Client:
    """The soak's requests: JSON over one keep-alive connection, re-opened after the server restarts."""

    def __init__(self, server: Server, headers: dict[str, str] | None = None) -> None:
        self.server = server
        self.headers = headers or {}
        self.conn: Conn | None = None

    async def request(self, method: str, path: str, body: Any = None, form: dict[str, str] | None = None,
                      ) -> tuple[int, Any]:
        if self.conn is None:
            await self.server.up.wait()
            self.conn = await Conn(self.server.port, self.headers).__aenter__()
        try:
            status, data = await self.conn.request(method, path, body, form)
        except GONE:
            await self.close()
            raise
        return status, json.loads(data) if data else None

    async def close(self) -> None:
        if self.conn is not None:
            try:
                await self.conn.__aexit__(None, None, None)
            except GONE:
                pass
            self.conn = None


async def login(server: Server) -> dict[str, str]:
    client = Client(server)
    try:
        status, body = await client.request("POST", f"{B}/token", form={
            "grant_type": "password", "username": "admin@acme.example", "password": "callyard"})
        assert status == 201, body
        return {"Authorization": f"Bearer {body['access_token']}"}
    finally:
        await client.close()


def kill_points(events: int, kills: int) -> list[int]:
    """Where the kills fall: half-way for one, spread over 30%..70% of the events for several."""
    if kills <= 0:
        return []
    if kills == 1:
        return [events // 2]
    return [round(events * (0.3 + 0.4 * j / (kills - 1))) for j in range(kills)]


async def soak(events: int, kills: int, failure: float, seed: int, workers: int, data: Path,
               progress: bool = True) -> Figures:
    figures = Figures()
    began = time.perf_counter()
    server = Server(data)
    async with FlakyReceiver(failure, seed) as receiver:
        await server.start()
        try:
            await _run(server, receiver, figures, events, kills, workers, progress)
        finally:
            server.stop()
        figures.attempts, figures.refused = receiver.attempts, receiver.refused
    figures.wall = time.perf_counter() - began
    return figures


async def _run(server: Server, receiver: FlakyReceiver, figures: Figures, events: int, kills: int, workers: int,
               progress: bool) -> None:
    headers = await login(server)
    control = Client(server)
    status, clock = await control.request("GET", "/_callyard/clock")
    year = (datetime.fromisoformat(clock["now"].replace("Z", "+00:00")) + timedelta(days=360)).isoformat()
    admin = Client(server, headers)
    status, conversation = await admin.request("POST", f"{B}/conversations", {"stream": True, "name": "Soak"})
    assert status == 201, conversation
    status, subscription = await admin.request("POST", f"{B}/subscriptions", {
        "applicationId": "soak", "deviceId": receiver.url, "topic": "platform-api-conversations",
        "methodFilter": "POST", "subjectFilter": "/messages/", "expiryDateTime": year})
    assert status == 201, subscription
    await admin.close()
    conversation_id, subscription_id = conversation["conversationId"], subscription["subscriptionId"]

    acked: list[str] = []
    claimed = 0
    points = kill_points(events, kills)
    advance = {"seconds": ADVANCE_LOADING}
    done = asyncio.Event()

    async def ticker() -> None:
        clock = Client(server)
        while not done.is_set():
            await asyncio.sleep(TICK)
            if not server.up.is_set():
                continue
            try:
                await clock.request("POST", "/_callyard/clock/advance", dict(advance))
            except GONE:
                pass
        await clock.close()

    async def killer() -> None:
        for point in points:
            while len(acked) < point:
                await asyncio.sleep(0.005)
            server.kill()
            figures.kills += 1
            if progress:
                print(f"  killed at {len(acked):,} events; restarting", flush=True)
            await server.start()

    async def worker(n: int) -> None:
        nonlocal claimed, headers
        client = Client(server, headers)
        while claimed < events:
            claimed += 1
            try:
                status, body = await client.request("POST", f"{B}/conversations/{conversation_id}/messages",
                                                    {"body": f"soak {n}:{claimed}"})
            except GONE:
                figures.unanswered += 1
                claimed -= 1
                continue
            if status == 201:
                acked.append(body["messageId"])
                continue
            claimed -= 1
            if status == 401:  # the virtual clock outran the token: a new one
                await client.close()
                headers = await login(server)
                client = Client(server, headers)
                continue
            raise RuntimeError(f"posting a message answered {status}: {body}")
        await client.close()

    tasks = [asyncio.create_task(ticker())]
    try:
        kill_task = asyncio.create_task(killer())
        await asyncio.gather(*(worker(n) for n in range(workers)))
        await kill_task
        figures.events = len(acked)
        if progress:
            print(f"  {figures.events:,} events acknowledged; draining the retries", flush=True)
        advance["seconds"] = ADVANCE_DRAINING
        replayed: set[str] = set()
        deadline = time.monotonic() + DRAIN_LIMIT
        await control.close()  # its connection died with the last kill
        log_path = f"/_callyard/deliveries?subscriptionId={subscription_id}"
        while time.monotonic() < deadline:
            _, pending = await control.request("GET", f"{log_path}&status=pending")
            _, failed = await control.request("GET", f"{log_path}&status=failed")
            for delivery in failed["_embedded"]["items"]:
                await control.request("POST", f"/_callyard/deliveries/{delivery['deliveryId']}/replay")
                replayed.add(delivery["deliveryId"])
            if pending["count"] == 0 and failed["count"] == 0:
                break
            await asyncio.sleep(0.2)
        figures.gave_up = len(replayed)
    finally:
        done.set()
        await asyncio.gather(*tasks, return_exceptions=True)

    _, log = await control.request("GET", f"/_callyard/deliveries?subscriptionId={subscription_id}")
    await control.close()
    deliveries = {d["deliveryId"]: d["publication"]["content"]["messageId"] for d in log["_embedded"]["items"]}
    figures.expected = len(deliveries)
    in_log = set(deliveries.values())
    missing = [m for m in acked if m not in in_log]
    figures.missing_from_outbox = len(missing)
    delivered = {d for d in deliveries if receiver.accepted.get(d)}
    figures.delivered = len(delivered)
    figures.lost_ids = sorted(set(deliveries) - delivered) + missing
    figures.duplicates = sum(len(bodies) - 1 for bodies in receiver.accepted.values())
    figures.mismatched = sum(1 for bodies in receiver.accepted.values() if any(b != bodies[0] for b in bodies))


# ------------------------------------------------------------------------------------------- abuse phase
ABUSE_RATE = 40.0          # Globex (and Acme) chat messages per second
EVIL = "^(.|.)*!"          # froze every tenant for 40 s under a backtracking engine
SLOW_CLIENTS = 300         # connections trickling a header line every second
BODY_STREAMS = 4           # concurrent oversized uploads, each re-opened as soon as it is refused
HEADER_TIMEOUT = 3.0


@dataclass
class Abuse:
    quiet: list[float] = field(default_factory=list)    # Globex webhook latencies, seconds
    abused: list[float] = field(default_factory=list)
    refused_bodies: int = 0       # 413 answers
    timed_out: int = 0            # 408 answers to the slow clients
    cap_refusals: int = 0         # 503 TooManyConnections
    evil_deliveries: int = 0      # publications the pathological filters let through (expected 0)
    evil_events: int = 0          # Acme messages matched against them


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


async def _token(port: int, username: str) -> dict[str, str]:
    async with Conn(port) as conn:
        body = await conn.json("POST", f"{B}/token", form={"grant_type": "password", "username": username,
                                                          "password": "callyard"}, expect=201)
    return {"Authorization": f"Bearer {body['access_token']}"}


async def _paced_messages(port: int, headers: dict[str, str], conversation: str, count: int,
                          sent: dict[str, float] | None) -> None:
    """``count`` messages at ``ABUSE_RATE`` per second (open loop on one connection); ``sent`` records when
    each one's request went out, by messageId."""
    began = time.perf_counter()
    async with Conn(port, headers) as conn:
        for i in range(count):
            due = began + i / ABUSE_RATE
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            at = time.perf_counter()
            body = await conn.json("POST", f"{B}/conversations/{conversation}/messages", {"body": f"m{i}"}, expect=201)
            if sent is not None:
                sent[body["messageId"]] = at


async def _oversized(port: int, stop: asyncio.Event, figures: Abuse, chunked: bool) -> None:
    """A client uploading 100 MB bodies without a token, as fast as the server takes them, and trying again
    0.2 s after each refusal (declared with Content-Length, or chunked)."""
    chunk = b"x" * 65536
    frame = b"10000\r\n" + chunk + b"\r\n" if chunked else chunk
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            await asyncio.sleep(0.2)
            continue
        length = "Transfer-Encoding: chunked" if chunked else "Content-Length: 104857600"
        writer.write(f"POST {B}/accounts/x/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                     f"{length}\r\n\r\n".encode())
        answer = asyncio.ensure_future(reader.read(200))
        sent = 0
        try:
            while sent < 1600:   # 100 MiB, unless refused first
                if answer.done() or stop.is_set():
                    break
                writer.write(frame)
                await writer.drain()
                sent += 1
            head = await asyncio.wait_for(answer, 5)
            if head.startswith(b"HTTP/1.1 413"):
                figures.refused_bodies += 1
        except (OSError, asyncio.TimeoutError):
            # the server answered 413 and reset the connection under the unread body: refused all the same
            figures.refused_bodies += 0 < sent < 1599 and not stop.is_set()
        finally:
            answer.cancel()
            writer.close()
        await asyncio.sleep(0.2)


async def _slow_client(port: int, stop: asyncio.Event, figures: Abuse) -> None:
    while not stop.is_set():
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
            writer.write(b"GET /_callyard/health HTTP/1.1\r\nHost: x\r\n")
            answer = b""
            for i in range(60):
                await asyncio.sleep(1.0)
                if stop.is_set() or reader.at_eof():
                    break
                writer.write(f"X-Slow-{i}: y\r\n".encode())
                await writer.drain()
            answer = await asyncio.wait_for(reader.read(200), 2)
        except (OSError, asyncio.TimeoutError):
            answer = b""
        if answer.startswith(b"HTTP/1.1 408"):
            figures.timed_out += 1
        elif answer.startswith(b"HTTP/1.1 503"):
            figures.cap_refusals += 1
        try:
            writer.close()
        except Exception:  # noqa: BLE001 - the socket is gone either way
            pass


async def _abusers(port: int, seconds: float) -> tuple[int, int, int]:
    """The slow clients and oversized uploads for ``seconds``: (413s, 408s, 503s) they were answered."""
    figures = Abuse()
    stop = asyncio.Event()
    tasks = [asyncio.create_task(_slow_client(port, stop, figures)) for _ in range(SLOW_CLIENTS)]
    tasks += [asyncio.create_task(_oversized(port, stop, figures, chunked=bool(i % 2))) for i in range(BODY_STREAMS)]
    await asyncio.sleep(seconds)
    stop.set()
    await asyncio.gather(*tasks, return_exceptions=True)
    return figures.refused_bodies, figures.timed_out, figures.cap_refusals


def _abuse_process(port: int, seconds: float, out: Any) -> None:
    out.send(asyncio.run(_abusers(port, seconds)))


async def abuse_phase(events: int, data: Path) -> Abuse:
    figures = Abuse()
    arrivals: dict[str, float] = {}
    evil: list[bytes] = []

    def arrived(body: bytes, at: float) -> None:
        arrivals.setdefault(json.loads(body)["content"].get("messageId", ""), at)

    server = Server(data, ("--header-timeout", str(HEADER_TIMEOUT)))
    async with HookReceiver(arrived) as receiver, HookReceiver(lambda body, at: evil.append(body)) as sink:
        await server.start()
        try:
            port = server.port
            globex, alice = await _token(port, "admin@globex.example"), await _token(port, "alice@acme.example")
            async with Conn(port, globex) as conn:
                conversation = (await conn.json("POST", f"{B}/conversations", {"stream": True, "name": "G"}))
                await conn.json("POST", f"{B}/subscriptions", {
                    "applicationId": "soak", "deviceId": receiver.url, "topic": "platform-api-conversations",
                    "methodFilter": "POST", "subjectFilter": "/messages/"})
            async with Conn(port, alice) as conn:
                acme = await conn.json("POST", f"{B}/conversations", {"stream": True, "name": "A"})

            async def measure(into: list[float]) -> None:
                """Globex's messages and, at the same rate, Acme's (both tenants busy in both runs)."""
                sent: dict[str, float] = {}
                await asyncio.gather(
                    _paced_messages(port, globex, conversation["conversationId"], events, sent),
                    _paced_messages(port, alice, acme["conversationId"], events, None))
                deadline = time.perf_counter() + 10
                while time.perf_counter() < deadline and any(m not in arrivals for m in sent):
                    await asyncio.sleep(0.05)
                into.extend(arrivals[m] - at for m, at in sent.items() if m in arrivals)

            await measure(figures.quiet)
            async with Conn(port, alice) as conn:   # now Acme's subscriber turns pathological
                for extra in ({"subjectFilter": EVIL},
                              {"publicationFilter": f"$.publications[?search(@.content.body, '{EVIL}')]"}):
                    await conn.json("POST", f"{B}/subscriptions", {
                        "applicationId": "soak", "deviceId": sink.url, "topic": "platform-api-conversations",
                        **extra})
            # The abusers run in a process of their own, so the measuring client's loop stays as idle as before.
            receive, send = multiprocessing.Pipe(duplex=False)
            seconds = HEADER_TIMEOUT + events / ABUSE_RATE + 2
            process = multiprocessing.Process(target=_abuse_process, args=(port, seconds, send), daemon=True)
            process.start()
            await asyncio.sleep(HEADER_TIMEOUT)   # the slow clients are all connected and trickling
            await measure(figures.abused)
            figures.evil_events = events
            figures.refused_bodies, figures.timed_out, figures.cap_refusals = await asyncio.to_thread(receive.recv)
            process.join(10)
            await asyncio.sleep(0.5)
            figures.evil_deliveries = len(evil)
        finally:
            server.stop()
    return figures


def abuse_report(figures: Abuse, events: int) -> str:
    quiet, abused = percentile(figures.quiet, 0.99), percentile(figures.abused, 0.99)
    rows = [
        ("Globex messages delivered quiet / abused", f"{len(figures.quiet)} / {len(figures.abused)} of {events}"),
        ("Globex webhook p50 quiet / abused", f"{percentile(figures.quiet, 0.5) * 1000:.1f} / "
                                               f"{percentile(figures.abused, 0.5) * 1000:.1f} ms"),
        ("Globex webhook p99 quiet / abused", f"{quiet * 1000:.1f} / {abused * 1000:.1f} ms"),
        ("abused p99 / quiet p99 (at most 2)", f"{abused / quiet:.2f}"),
        ("Acme messages matched by the pathological filters", f"{figures.evil_events:,}, delivered "
                                                              f"{figures.evil_deliveries}"),
        ("100 MB uploads refused (413, the rest unread)", f"{figures.refused_bodies:,}"),
        (f"slow clients ({SLOW_CLIENTS}) cut off (408 after {HEADER_TIMEOUT:g} s)", f"{figures.timed_out:,}"),
    ]
    width = max(len(label) for label, _ in rows)
    head = (f"abuse: {events:,} Globex and {events:,} Acme messages at {ABUSE_RATE:g}/s each, quiet, then with "
            f"Acme's pathological filters, {BODY_STREAMS} oversized uploads and {SLOW_CLIENTS} slow clients")
    return "\n".join([head] + [f"  {label:<{width}}  {value}" for label, value in rows])


def abuse_ok(figures: Abuse, events: int) -> bool:
    quiet, abused = percentile(figures.quiet, 0.99), percentile(figures.abused, 0.99)
    return (len(figures.quiet) == len(figures.abused) == events and abused <= 2 * quiet
            and figures.evil_deliveries == 0)


def report(figures: Figures, events: int, kills: int, failure: float) -> str:
    rows = [
        ("events produced (messages acknowledged 201)", f"{figures.events:,}"),
        ("requests cut off by the kills (not events)", f"{figures.unanswered:,}"),
        ("server kills (SIGKILL) and restarts", f"{figures.kills}"),
        ("publications expected (server's delivery log)", f"{figures.expected:,}"),
        ("delivered, unique webhook-ids", f"{figures.delivered:,}"),
        ("duplicates (same webhook-id again)", f"{figures.duplicates:,}"
                                               + (f", {figures.mismatched} with a different body"
                                                  if figures.mismatched else ", bodies identical")),
        ("receiver attempts / answered 500", f"{figures.attempts:,} / {figures.refused:,}"),
        ("retry schedule gave up, replayed", f"{figures.gave_up}"),
        ("acknowledged but missing from the outbox", f"{figures.missing_from_outbox}"),
        ("lost", f"{figures.lost}"),
        ("wall time", f"{figures.wall:.1f} s"),
    ]
    width = max(len(label) for label, _ in rows)
    head = f"soak: {events:,} events, {kills} kill(s), receiver failing {failure:.0%} at random"
    return "\n".join([head] + [f"  {label:<{width}}  {value}" for label, value in rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=10_000, help="chat messages to post (default 10,000)")
    parser.add_argument("--kills", type=int, default=2, help="SIGKILLs during the run (default 2)")
    parser.add_argument("--failure-rate", type=float, default=0.3, help="share of attempts answered 500")
    parser.add_argument("--workers", type=int, default=8, help="concurrent connections posting events")
    parser.add_argument("--seed", type=int, default=None, help="seed of the receiver's failures")
    parser.add_argument("--quiet", action="store_true", help="print only the figures")
    parser.add_argument("--markdown", type=Path, help="also write the figures to this file (make soak: docs/soak.md)")
    parser.add_argument("--abuse-events", type=int, default=0,
                        help="Globex messages per abuse-phase run (make soak: 400; default 0 skips the phase)")
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 30)
    with tempfile.TemporaryDirectory(prefix="callyard-soak-") as tmp:
        if not args.quiet:
            print(f"soak: {args.events:,} events, {args.kills} kill(s), receiver seed {seed}", flush=True)
        figures = asyncio.run(soak(args.events, args.kills, args.failure_rate, seed, args.workers,
                                   Path(tmp) / "data", progress=not args.quiet)) if args.events else Figures()
        abuse = asyncio.run(abuse_phase(args.abuse_events, Path(tmp) / "abuse")) if args.abuse_events else None
    text = report(figures, args.events, args.kills, args.failure_rate)
    if abuse is not None:
        text += "\n\n" + abuse_report(abuse, args.abuse_events)
    print(text, flush=True)
    if args.markdown is not None:
        args.markdown.write_text(
            "# Webhook soak\n\nWritten by `make soak` (bench/soak.py), which rewrites this file. A server on SQLite "
            "with a manual clock (advanced by the run to compress the retry schedule), one webhook subscription to a "
            "chat conversation, a local receiver answering 500 to a random share of attempts, and the server "
            "killed with SIGKILL and restarted on the same data during the run. *Lost* counts acknowledged "
            "messages with no delivery in the outbox plus deliveries the receiver never accepted. The abuse phase "
            "(a fresh server) measures another tenant's webhook latency quietly and again under a pathological "
            "filter subscriber, oversized bodies and slow clients (issue 13).\n\n"
            f"Run on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}; receiver seed {seed}.\n\n```\n{text}\n```\n")
    if figures.lost_ids:
        print("  lost ids: " + ", ".join(figures.lost_ids[:20]) + (" …" if figures.lost > 20 else ""))
    abused_badly = abuse is not None and not abuse_ok(abuse, args.abuse_events)
    return 1 if figures.lost or figures.mismatched or abused_badly else 0


if __name__ == "__main__":
    sys.exit(main())
