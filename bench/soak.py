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

    python bench/soak.py                      # 10,000 events, 2 kills
    python bench/soak.py --events 500 --kills 1
"""
from __future__ import annotations

import argparse
import asyncio
import json
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

from bench.loadgen import Conn, PostServer  # noqa: E402

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

    def __init__(self, data: Path) -> None:
        self.port = free_port()
        self.data = data
        self.log = data.parent / "server.log"
        self.process: subprocess.Popen[bytes] | None = None
        self.up = asyncio.Event()

    def _start(self) -> None:
        self.data.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "callyard.cli.main", "serve", "--port", str(self.port), "--data",
                 str(self.data), "--clock", "manual", "--open-control", "--log-level", "warning"],
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
    args = parser.parse_args(argv)
    seed = args.seed if args.seed is not None else random.SystemRandom().randrange(1 << 30)
    with tempfile.TemporaryDirectory(prefix="callyard-soak-") as tmp:
        if not args.quiet:
            print(f"soak: {args.events:,} events, {args.kills} kill(s), receiver seed {seed}", flush=True)
        figures = asyncio.run(soak(args.events, args.kills, args.failure_rate, seed, args.workers,
                                   Path(tmp) / "data", progress=not args.quiet))
    text = report(figures, args.events, args.kills, args.failure_rate)
    print(text, flush=True)
    if args.markdown is not None:
        args.markdown.write_text(
            "# Webhook soak\n\nWritten by `make soak` (bench/soak.py), which rewrites this file. A server on SQLite "
            "with a manual clock (advanced by the run to compress the retry schedule), one webhook subscription to a "
            "chat conversation, a local receiver answering 500 to a random share of attempts, and the server "
            "killed with SIGKILL and restarted on the same data during the run. *Lost* counts acknowledged "
            "messages with no delivery in the outbox plus deliveries the receiver never accepted.\n\n"
            f"Run on {datetime.now(timezone.utc):%Y-%m-%d %H:%M} UTC, {platform.machine()}, {os.cpu_count()} cores, "
            f"Python {platform.python_version()}; receiver seed {seed}.\n\n```\n{text}\n```\n")
    if figures.lost_ids:
        print("  lost ids: " + ", ".join(figures.lost_ids[:20]) + (" …" if figures.lost > 20 else ""))
    return 1 if figures.lost or figures.mismatched else 0


if __name__ == "__main__":
    sys.exit(main())
