"""``make bench``: measure callyard against a bare Starlette route in the same run and rewrite
docs/performance.md with the figures and ratios. No assertion: numbers, not pass/fail.

Three parts: start-up and a directory read against the demo tenant; the PBX engine and the Media API
(call-control action throughput, concurrent calls held against resident memory, new calls per second)
against a generated tenant of ``TENANT_USERS`` extension users, on the in-memory and the SQLite store; and
Notifications (event → webhook and event → MQTT latency at ``EVENT_RATE`` events/s, concurrent MQTT over
WebSocket subscribers held against resident memory). ``python bench/run.py notifications`` runs only the
last and prints its section without rewriting docs/performance.md."""
from __future__ import annotations

import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any, Awaitable, Callable, Iterator

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import hot, loadgen  # noqa: E402
from bench.loadgen import (Conn, cpu_seconds, extension, outside_number, rss_bytes, run_for,  # noqa: E402
                           slowest_window)

PY = sys.executable
RUNS = 5
REQUESTS = 300
# The engine part.
TENANT_USERS = 10_000          # extension users of the generated tenant (one call each at the peak)
CLIENTS = 4                    # concurrent clients ("a few") for the concurrent figures
TOGGLE_ROUNDS = 3              # hold/retrieve: rounds, each giving every server and mode one run
TOGGLE_SECONDS = 1.5           # one such run
SUSTAIN_SECONDS = 20.0         # new calls per second, per store
SUSTAIN_WINDOW = 5.0           # ... and the slowest of its 5-second slices
BARE_SUSTAIN_SECONDS = 5.0     # the same request mix against the bare routes
HELD_STEPS = (1_000, 5_000, 10_000)
HELD_WORKERS = 8               # connections establishing the held calls
TARGET_TOGGLE_RATIO = 0.5
TARGET_RSS_BYTES = 1 << 30     # 10,000 concurrent calls in at most 1 GiB
TARGET_CALLS_PER_SECOND = 100.0
MIB = 1 << 20


def start(cmd: list[str], port: int) -> tuple[subprocess.Popen, float]:
    began = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/_callyard/health"
    while True:
        try:
            if httpx.get(url, timeout=0.2).status_code == 200:
                return proc, time.perf_counter() - began
        except httpx.HTTPError:
            pass
        if time.perf_counter() - began > 60:
            proc.kill()
            raise RuntimeError(f"{cmd} did not become ready")
        time.sleep(0.005)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(10)


def latency(port: int, headers: dict[str, str]) -> float:
    with httpx.Client(base_url=f"http://127.0.0.1:{port}") as c:
        for _ in range(20):
            c.get("/2017-09-01/users", headers=headers)
        samples = []
        for _ in range(REQUESTS):
            t = time.perf_counter()
            r = c.get("/2017-09-01/users", headers=headers)
            samples.append(time.perf_counter() - t)
            assert r.status_code == 200
    return statistics.median(samples)


# ============================================================================================ PBX engine
def serve_cmd(port: int, store: str, tenant: Path, tmp: str) -> list[str]:
    """callyard on the generated tenant; ``store`` is "ephemeral" or "sqlite" (the default store, in a
    fresh data directory). --open-control lets the simulator run without a token (``?account=``)."""
    cmd = [PY, "-m", "callyard.cli.main", "serve", "--port", str(port), "--tenant", str(tenant),
           "--open-control", "--log-level", "warning"]
    if store == "ephemeral":
        return cmd + ["--ephemeral"]
    return cmd + ["--data", os.path.join(tmp, f"{store}-{port}")]


# The same paths on callyard and on the bare routes.
Q = f"?account={loadgen.BENCH_ACCOUNT}"
SIM_CALLS = f"/_callyard/sim/calls{Q}"


def phone(ext: str, action: str) -> str:
    return f"/_callyard/sim/endpoints/{ext}/{action}{Q}"


def media_call(ext: str, leg_id: str) -> str:
    return f"/2017-09-01/endpoints/{ext}/calls/{leg_id}"


async def establish(conn: Conn, caller: str, ext: str) -> str:
    """An outside caller dials ``ext`` and the extension answers; returns the extension's leg id (what the
    Media API calls the callId on that endpoint)."""
    await conn.json("POST", SIM_CALLS, {"from": caller, "to": ext}, expect=201)
    answered = await conn.json("POST", phone(ext, "answer"), expect=200)
    return str(answered.get("legId", "40000000"))


async def bearer(port: int) -> dict[str, str]:
    async with Conn(port) as conn:
        token = await conn.json("POST", "/2017-09-01/token", expect=(200, 201), form={
            "grant_type": "password", "username": loadgen.ADMIN_EMAIL, "password": loadgen.ADMIN_PASSWORD})
    return {"Authorization": f"Bearer {token['access_token']}"}


class Server:
    """A server under test: callyard on one store, or the bare routes."""

    def __init__(self, name: str, cmd: list[str], port: int) -> None:
        self.name, self.cmd, self.port = name, cmd, port
        self.bare = name == "bare"
        self.proc, self.ready = start(cmd, port)
        self.headers: dict[str, str] = {}
        self.calls: list[tuple[str, str]] = []      # (extension, leg id) of the toggled calls
        self.held: dict[str, bool] = {}

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def prepare_toggles(self, clients: int = CLIENTS) -> None:
        """One established call per client: outside caller ``w`` → extension ``w``, answered."""
        self.headers = {} if self.bare else await bearer(self.port)
        async with Conn(self.port) as conn:
            for w in range(clients):
                self.calls.append((extension(w), await establish(conn, outside_number(w), extension(w))))
        self.held = {leg: False for _, leg in self.calls}

    async def toggle(self, clients: int, seconds: float) -> tuple[int, float, float]:
        """hold/retrieve alternately on ``clients`` calls, one connection each. (requests, seconds, server
        CPU seconds)."""
        def toggler(conn: Conn, ext: str, leg: str) -> Callable[[], Awaitable[int]]:
            path = media_call(ext, leg)

            async def step() -> int:
                await conn.json("PUT", path, {"action": "retrieve" if self.held[leg] else "hold"}, expect=200)
                self.held[leg] = not self.held[leg]
                return 1
            return step

        conns = [await Conn(self.port, self.headers).__aenter__() for _ in range(clients)]
        try:
            steps = [toggler(conns[i], *self.calls[i]) for i in range(clients)]
            await run_for(0.3, steps)  # warm-up
            cpu = cpu_seconds(self.pid)
            done, elapsed = await run_for(seconds, steps)
            return done, elapsed, cpu_seconds(self.pid) - cpu
        finally:
            for conn in conns:
                await conn.__aexit__()

    async def sustained_calls(self, seconds: float, clients: int = CLIENTS, users: int = TENANT_USERS,
                              first_caller: int = 100_000) -> dict[str, float]:
        """``clients`` clients each placing calls (outside caller → extension), answering and hanging up, as
        fast as they can for ``seconds``. Every call has a caller number never used before; each client
        cycles over its own extensions (not those of the toggled calls)."""
        counter = [0]

        def caller(conn: Conn, w: int) -> Callable[[], Awaitable[int]]:
            mine = [extension(i) for i in range(clients, users) if i % clients == w]
            turn = [0]

            async def step() -> int:
                ext = mine[turn[0] % len(mine)]
                turn[0] += 1
                counter[0] += 1
                await conn.json("POST", SIM_CALLS, {"from": outside_number(first_caller + counter[0]), "to": ext},
                                expect=201)
                await conn.json("POST", phone(ext, "answer"), expect=200)
                await conn.json("POST", phone(ext, "hangup"), expect=200)
                return 1
            return step

        conns = [await Conn(self.port).__aenter__() for _ in range(clients)]
        try:
            steps = [caller(conns[w], w) for w in range(clients)]
            await run_for(0.5, steps)  # warm-up
            marks: list[float] = []
            cpu, began = cpu_seconds(self.pid), time.perf_counter()
            done, elapsed = await run_for(seconds, steps, marks)
            cpu = cpu_seconds(self.pid) - cpu
        finally:
            for conn in conns:
                await conn.__aexit__()
        return {"rate": done / elapsed, "cpu_ms": cpu / done * 1000, "calls": done,
                "slowest": slowest_window(began, marks, seconds, SUSTAIN_WINDOW)}

    def stop(self) -> None:
        stop(self.proc)


async def toggles(servers: list[Server]) -> dict[str, dict[str, dict[str, float]]]:
    """Rounds in which every server gets its turn, so that a slow spell of the machine (other processes)
    falls on all of them alike; per server and mode, the median rate of the rounds and the server CPU
    time per request over all of them."""
    for server in servers:
        await server.prepare_toggles()
    runs: dict[tuple[str, str], list[tuple[int, float, float]]] = {}
    for _ in range(TOGGLE_ROUNDS):
        for server in servers:
            for label, clients in (("sequential", 1), ("concurrent", CLIENTS)):
                runs.setdefault((server.name, label), []).append(await server.toggle(clients, TOGGLE_SECONDS))
    out: dict[str, dict[str, dict[str, float]]] = {}
    for (name, label), results in runs.items():
        out.setdefault(name, {})[label] = {
            "rate": statistics.median(done / elapsed for done, elapsed, _ in results),
            "cpu_ms": sum(cpu for _, _, cpu in results) / sum(done for done, _, _ in results) * 1000}
    return out


async def held_calls(port: int, pid: int) -> tuple[int, list[tuple[int, int, float]]]:
    """Establish answered calls (outside caller → extension i, answered) up to each of ``HELD_STEPS``, none
    hung up, reading the server's VmRSS at each step. Returns (idle RSS, [(calls, RSS, seconds to
    establish that step)])."""
    await asyncio.sleep(0.5)
    idle = rss_bytes(pid)
    steps: list[tuple[int, int, float]] = []
    made = 0
    conns = [await Conn(port).__aenter__() for _ in range(HELD_WORKERS)]
    try:
        for target in HELD_STEPS:
            began = time.perf_counter()
            queue = iter(range(made, target))

            async def work(conn: Conn, queue: Iterator[int]) -> None:
                for i in queue:
                    await establish(conn, outside_number(i), extension(i))

            await asyncio.gather(*(work(c, queue) for c in conns))
            made = target
            elapsed = time.perf_counter() - began
            await asyncio.sleep(0.5)
            steps.append((target, rss_bytes(pid), elapsed))
        # the last call is really up: its extension is connected
        async with Conn(port) as conn:
            view = await conn.json("GET", f"/_callyard/sim/endpoints/{extension(made - 1)}{Q}", expect=200)
            assert view["state"] == "connected" and view["activeCalls"] == 1, view
    finally:
        for conn in conns:
            await conn.__aexit__()
    return idle, steps


def engine_figures(tmp: str, bare_cmd: list[str]) -> dict[str, Any]:
    tenant = Path(tmp) / "bench-tenant.json"
    loadgen.write_tenant(tenant, TENANT_USERS)
    fig: dict[str, Any] = {"calls": {}, "rss_after": {}}
    servers: list[Server] = []
    try:
        servers.append(Server("bare", bare_cmd, 8191))
        for name, port in (("ephemeral", 8194), ("sqlite", 8195)):
            servers.append(Server(name, serve_cmd(port, name, tenant, tmp), port))
            fig[f"{name}_ready"] = servers[-1].ready
        fig["toggle"] = asyncio.run(toggles(servers))
        for server in servers:
            seconds = BARE_SUSTAIN_SECONDS if server.bare else SUSTAIN_SECONDS
            fig["calls"][server.name] = asyncio.run(server.sustained_calls(seconds))
            fig["rss_after"][server.name] = rss_bytes(server.pid)
            print(f"{server.name}: toggles {fig['toggle'][server.name]}, calls {fig['calls'][server.name]}",
                  flush=True)
    finally:
        for server in servers:
            server.stop()
    held = Server("held", serve_cmd(8196, "ephemeral", tenant, tmp), 8196)
    try:
        fig["idle_rss"], fig["held"] = asyncio.run(held_calls(held.port, held.pid))
    finally:
        held.stop()
    return fig


# ============================================================================================ Notifications
NOTIFY_PORT = 8197
NOTIFY_USERS = 100             # extension users of the notification server's tenant
EVENT_RATE = 500.0             # events per second, paced by the clock (open loop), not by the answers
EVENT_SECONDS = 6.0            # per transport
WEBHOOK_LOW_RATE = 100.0       # webhooks again, at a rate the path can sustain
EVENT_CALLS = 16               # established calls whose hold/retrieve make the events, one worker each
DRAIN_SECONDS = 3.0            # after the last request, how long a publication may still arrive
SUBSCRIBER_STEPS = (500, 1_000, 2_000)
FANOUT_EVENTS = 5
TARGET_WEBHOOK_P99 = 0.025
TARGET_MQTT_P99 = 0.010
TARGET_SUBSCRIBERS = 2_000
B = "/2017-09-01"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(q / 100 * len(ordered) + 0.5)) - 1))]


class Notified:
    """The send instant of each event-causing request (by its x-mitel-correlation-id) and the receipt
    instant of each publication (by the same id, which the envelope carries as notification.correlationId)."""

    def __init__(self) -> None:
        self.sent: dict[str, float] = {}
        self.received: dict[str, float] = {}
        self.extra = 0

    def arrived(self, body: bytes, at: float) -> None:
        correlation = json.loads(body)["notification"]["correlationId"]
        if correlation in self.received:
            self.extra += 1
        else:
            self.received[correlation] = at

    def latencies(self) -> list[float]:
        return [self.received[c] - t for c, t in self.sent.items() if c in self.received]


async def drive_events(port: int, headers: dict[str, str], calls: list[tuple[str, str]], held: dict[str, bool],
                       notified: Notified, seconds: float, rate: float) -> float:
    """Hold/retrieve PUTs, one every 1/rate s, each on a free call (a call waits for its previous answer);
    returns the rate achieved."""
    free: asyncio.Queue[tuple[Conn, str, str]] = asyncio.Queue()
    conns = [await Conn(port, headers).__aenter__() for _ in calls]
    for conn, (ext, leg) in zip(conns, calls, strict=True):
        free.put_nowait((conn, ext, leg))

    async def one(worker: tuple[Conn, str, str], correlation: str) -> None:
        conn, ext, leg = worker
        notified.sent[correlation] = time.perf_counter()
        await conn.json("PUT", media_call(ext, leg), {"action": "retrieve" if held[leg] else "hold"}, expect=200,
                        headers={"x-mitel-correlation-id": correlation})
        held[leg] = not held[leg]
        free.put_nowait(worker)

    tasks = []
    began = time.perf_counter()
    try:
        for i in range(int(seconds * rate)):
            delay = began + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(await free.get(), str(uuid.uuid4()))))
        await asyncio.gather(*tasks)
        achieved = len(tasks) / (time.perf_counter() - began)
    finally:
        for conn in conns:
            await conn.__aexit__()
    # Wait for this run's own publications: the receiver also gets the warm-up's, so counts would not do.
    deadline = time.perf_counter() + DRAIN_SECONDS
    while (any(c not in notified.received for c in notified.sent)
           and time.perf_counter() < deadline):
        await asyncio.sleep(0.05)
    return achieved


async def settle(pid: int, limit: float = 60.0) -> None:
    """Wait until the server is idle (under 10 % of a core over half a second): a saturated run leaves
    work queued behind it."""
    deadline = time.perf_counter() + limit
    while time.perf_counter() < deadline:
        cpu = cpu_seconds(pid)
        await asyncio.sleep(0.5)
        if cpu_seconds(pid) - cpu < 0.05:
            return


def event_figures(notified: Notified, achieved: float, pid: int, cpu: float) -> dict[str, Any]:
    lat = notified.latencies()
    return {"sent": len(notified.sent), "received": len(lat), "extra": notified.extra, "rate": achieved,
            "p50": percentile(lat, 50) if lat else float("nan"), "p99": percentile(lat, 99) if lat else float("nan"),
            "max": max(lat) if lat else float("nan"), "cpu_ms": (cpu_seconds(pid) - cpu) / max(1, len(lat)) * 1000}


async def notification_run(port: int, pid: int) -> dict[str, Any]:
    headers = await bearer(port)
    token = headers["Authorization"].split(" ", 1)[1]
    fig: dict[str, Any] = {}
    async def rest(method: str, path: str, body: Any = None, expect: int = 200) -> Any:
        async with Conn(port, headers) as conn:  # a fresh connection: an idle one is closed after 5 s
            return await conn.json(method, path, body, expect=expect)

    async with Conn(port, headers) as conn:
        calls = [(extension(w), await establish(conn, outside_number(w), extension(w))) for w in range(EVENT_CALLS)]
    held = {leg: False for _, leg in calls}
    media = {"topic": "platform-api-media", "subjectFilter": f"{B}/endpoints/"}

    # event → MQTT message, QoS 0 then QoS 1 (first: the webhook run leaves the server busy for a while)
    for qos in (0, 1):
        connection = await rest("POST", f"{B}/connections", {"transport": "websocket"}, expect=201)
        sub = await rest("POST", f"{B}/subscriptions", {
            **media, "transport": "websocket", "connectionId": connection["connectionId"]}, expect=201)
        notified = Notified()
        subscriber = loadgen.MqttSubscriber(connection["url"], token, f"bench-{qos}", notified.arrived)
        await subscriber.open(sub["subscriptionId"], qos)
        await drive_events(port, headers, calls, held, Notified(), 0.5, EVENT_RATE)
        cpu = cpu_seconds(pid)
        achieved = await drive_events(port, headers, calls, held, notified, EVENT_SECONDS, EVENT_RATE)
        fig[f"mqtt{qos}"] = event_figures(notified, achieved, pid, cpu)
        await subscriber.close()
        await rest("DELETE", f"{B}/connections/{connection['connectionId']}")
        await rest("DELETE", f"{B}/subscriptions/{sub['subscriptionId']}")
        print(f"mqtt qos {qos}: {fig[f'mqtt{qos}']}", flush=True)

    # event → webhook, at the rate of the target and at a lower one (what the path costs when not saturated)
    for key, rate in (("webhook", EVENT_RATE), ("webhook_low", WEBHOOK_LOW_RATE)):
        notified = Notified()
        async with loadgen.HookReceiver(notified.arrived) as receiver:
            sub = await rest("POST", f"{B}/subscriptions", {
                **media, "transport": "webhook", "deviceId": receiver.url,
                "applicationId": "3f1c0d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f"}, expect=201)
            await drive_events(port, headers, calls, held, Notified(), 0.5, rate)  # warm-up
            cpu = cpu_seconds(pid)
            achieved = await drive_events(port, headers, calls, held, notified, EVENT_SECONDS, rate)
            fig[key] = event_figures(notified, achieved, pid, cpu)
            await rest("DELETE", f"{B}/subscriptions/{sub['subscriptionId']}")
        print(f"{key}: {fig[key]}", flush=True)
        await settle(pid)

    # concurrent MQTT subscribers held, against RSS; then one event fanned out to all of them
    fig["subscribers"] = await held_subscribers(port, pid, headers, token, calls[0], held[calls[0][1]])
    return fig


async def held_subscribers(port: int, pid: int, headers: dict[str, str], token: str,
                           call: tuple[str, str], held_now: bool) -> dict[str, Any]:
    """Subscribers up to each of ``SUBSCRIBER_STEPS``, each with its own connection and subscription (the
    calls of one extension, QoS 0) and its own WebSocket; VmRSS at each step. Then ``FANOUT_EVENTS`` events
    on that extension, each of which every subscriber must receive."""
    ext, leg = call
    await asyncio.sleep(0.5)
    out: dict[str, Any] = {"idle_rss": rss_bytes(pid), "steps": []}
    per_event: dict[str, list[float]] = {}
    sent: dict[str, float] = {}

    def arrived(body: bytes, at: float) -> None:
        per_event.setdefault(json.loads(body)["notification"]["correlationId"], []).append(at)

    subscribers: list[loadgen.MqttSubscriber] = []
    conns = [await Conn(port, headers).__aenter__() for _ in range(HELD_WORKERS)]
    try:
        made = 0
        for target in SUBSCRIBER_STEPS:
            began = time.perf_counter()
            queue = iter(range(made, target))

            async def work(conn: Conn, queue: Iterator[int]) -> None:
                for i in queue:
                    connection = await conn.json("POST", f"{B}/connections", {"transport": "websocket"}, expect=201)
                    sub = await conn.json("POST", f"{B}/subscriptions", {
                        "topic": "platform-api-media", "subjectFilter": f"{B}/endpoints/{ext}/",
                        "transport": "websocket", "connectionId": connection["connectionId"]}, expect=201)
                    subscriber = loadgen.MqttSubscriber(connection["url"], token, f"held-{i}", arrived)
                    await subscriber.open(sub["subscriptionId"], 0)
                    subscribers.append(subscriber)

            await asyncio.gather(*(work(c, queue) for c in conns))
            made = target
            elapsed = time.perf_counter() - began
            await asyncio.sleep(0.5)
            out["steps"].append((target, rss_bytes(pid), elapsed))
            print(f"subscribers: {target} held, RSS {rss_bytes(pid) / MIB:.1f} MiB", flush=True)
        held_state = held_now   # where the event runs left this call (they spread over the calls at random)
        for _ in range(FANOUT_EVENTS):
            correlation = str(uuid.uuid4())
            sent[correlation] = time.perf_counter()
            await conns[0].json("PUT", media_call(ext, leg), {"action": "retrieve" if held_state else "hold"},
                                expect=200, headers={"x-mitel-correlation-id": correlation})
            held_state = not held_state
            deadline = time.perf_counter() + 10
            while len(per_event.get(correlation, ())) < len(subscribers) and time.perf_counter() < deadline:
                await asyncio.sleep(0.01)
            await asyncio.sleep(0.2)
        fanout = [(min(per_event.get(c, [float("nan")])) - t, max(per_event.get(c, [float("nan")])) - t,
                   len(per_event.get(c, ()))) for c, t in sent.items()]
        out["fanout"] = {"first": statistics.median(f for f, _, _ in fanout),
                         "last": statistics.median(last for _, last, _ in fanout),
                         "delivered": min(n for _, _, n in fanout), "subscribers": len(subscribers)}
        out["rss_after"] = rss_bytes(pid)
    finally:
        for subscriber in subscribers:
            await subscriber.close()
        for conn in conns:
            await conn.__aexit__()
    return out


def notification_figures(tmp: str) -> dict[str, Any]:
    tenant = Path(tmp) / "notify-tenant.json"
    loadgen.write_tenant(tenant, NOTIFY_USERS)
    server = Server("notifications", serve_cmd(NOTIFY_PORT, "ephemeral", tenant, tmp), NOTIFY_PORT)
    try:
        return asyncio.run(notification_run(server.port, server.pid))
    finally:
        server.stop()


def notification_lines(fig: dict[str, Any]) -> list[str]:
    def ms(seconds: float) -> str:
        return f"{seconds * 1000:.1f} ms"

    lines = [
        "## Notifications", "",
        f"A fresh in-memory server (`--ephemeral --open-control`, a tenant of {NOTIFY_USERS} extension users) with",
        f"{EVENT_CALLS} established calls (outside caller → extension, answered). Events are hold and retrieve",
        f"PUTs on those calls, paced at {EVENT_RATE:.0f} per second by the load generator's clock (a call waits for",
        "its previous answer), each carrying its own `x-mitel-correlation-id`, which the publication envelope",
        "carries as `notification.correlationId`. Latency is from just before the request is written to the",
        "receipt of its publication in the same load-generator process: a local keep-alive HTTP receiver",
        "answering 204 for the webhook (Standard Webhooks signed, through the durable outbox: one delivery",
        "document written with the event, one status update after the answer), and an MQTT 3.1.1 client over",
        "WebSocket (bench/loadgen.py: `websockets` and amqtt's packet codec; QoS 1 is acknowledged) for MQTT.",
        f"Each transport runs alone for {EVENT_SECONDS:.0f} s after a 0.5 s warm-up, with one subscription matching",
        "every media publication; publications still missing "
        f"{DRAIN_SECONDS:.0f} s after the last request count as not received. *Server",
        "CPU* is the server's user + system time per publication received. The last row runs the webhook path",
        f"again at {WEBHOOK_LOW_RATE:.0f} events/s, below the rate at which the server saturates.", "",
        "| transport | events/s achieved | publications received / events | p50 | p99 | max | server CPU per "
        "event | target (p99 at 500/s) | |", "|---|---|---|---|---|---|---|---|---|"]
    for key, name, target in (("webhook", "webhook", TARGET_WEBHOOK_P99),
                              ("mqtt0", "MQTT over WebSocket, QoS 0", TARGET_MQTT_P99),
                              ("mqtt1", "MQTT over WebSocket, QoS 1", TARGET_MQTT_P99),
                              ("webhook_low", f"webhook at {WEBHOOK_LOW_RATE:.0f}/s", None)):
        f = fig[key]
        verdict = "" if target is None else met(f["p99"] <= target and f["received"] == f["sent"])
        lines.append(f"| {name} | {f['rate']:,.0f} | {f['received']:,} / {f['sent']:,} | {ms(f['p50'])} | "
                     f"{ms(f['p99'])} | {ms(f['max'])} | {f['cpu_ms']:.2f} ms | "
                     f"{'—' if target is None else f'≤ {target * 1000:.0f} ms'} | {verdict} |")
    subs = fig["subscribers"]
    idle = subs["idle_rss"]
    lines += [
        "", "### Concurrent MQTT subscribers held", "",
        "The same server afterwards: subscribers added in steps, each with its own connection "
        "(`POST /connections`),",
        "its own websocket subscription (the calls of one extension) and its own WebSocket, MQTT-subscribed",
        f"at QoS 0 ({HELD_WORKERS} workers set them up); the server's VmRSS is read half a second after each step. The",
        f"baseline is the same server's RSS just before the first subscriber: {idle / MIB:.1f} MiB.", "",
        "| subscribers held | server RSS | RSS per subscriber above the baseline | time to add the step | target | |",
        "|---|---|---|---|---|---|"]
    for count, rss, seconds in subs["steps"]:
        is_target = count == TARGET_SUBSCRIBERS
        lines.append(f"| {count:,} | {rss / MIB:,.1f} MiB | {(rss - idle) / count / 1024:.1f} KiB | {seconds:.1f} s | "
                     f"{'≥ 2,000' if is_target else '—'} | "
                     f"{met(subs['fanout']['delivered'] >= TARGET_SUBSCRIBERS) if is_target else ''} |")
    fan = subs["fanout"]
    lines += [
        "", f"With all {fan['subscribers']:,} held, {FANOUT_EVENTS} events on that extension were each delivered to "
        f"{fan['delivered']:,} of them",
        f"(the fewest of the {FANOUT_EVENTS}): the first subscriber had it {ms(fan['first'])} after the request, the "
        f"last {ms(fan['last'])} (medians).",
        f"Server RSS at the end: {subs['rss_after'] / MIB:,.1f} MiB.", ""]
    return lines


def load_average() -> float:
    try:
        return float(Path("/proc/loadavg").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return float("nan")


def machine(load_before: float) -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
        mem = next(int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines()
                   if line.startswith("MemTotal:"))
        memory = f", {mem / (1 << 20):.1f} GiB RAM"
    except (OSError, StopIteration, ValueError):
        memory = ""
    cpu = f" ({model})" if model else ""
    return (f"Machine: {platform.machine()}{cpu}, {os.cpu_count()} cores{memory}, Python {platform.python_version()} "
            f"({platform.python_implementation()}), {platform.system()} {platform.release()}. Load average (1 min)\n"
            f"when the run began: {load_before:.1f}, when it ended: {load_average():.1f}; whatever else runs on the "
            "machine competes\nwith the servers and the load generator for the cores, which is why the ratios and "
            "the server CPU per request\nare the figures to compare between runs.")


def met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def engine_lines(fig: dict[str, Any]) -> list[str]:
    toggle, calls = fig["toggle"], fig["calls"]
    lines = [
        "## PBX engine and Media API", "",
        f"Against a generated tenant of {TENANT_USERS:,} users, each with an extension (users without a password,",
        "one ACCOUNT_ADMIN with one), started with `--open-control` so the simulator needs no token; the Media API",
        "requests carry the admin's bearer token. *SQLite* is the default store (`--data DIR`, WAL,",
        "`synchronous=FULL`): every call-control action and every simulator step commits one transaction with",
        "its events. The load generator (bench/loadgen.py, a minimal keep-alive HTTP/1.1 client on asyncio) runs",
        "in one process on the same machine and drives the bare Starlette routes (bench/bare_app.py: same paths,",
        "JSON body parsed) the same way, so both figures of a row pay the same client. *Server CPU* is the server",
        "process's user + system time (/proc/<pid>/stat, all threads) divided by the work done: unlike a rate, it",
        "hardly moves when other processes compete for the cores. The targets are the issue's; they are",
        "reported, not asserted.", "",
        "### Call-control action throughput", "",
        "Hold and retrieve, alternately, on an established call (outside caller → extension, answered) with",
        f"`PUT /2017-09-01/endpoints/{{id}}/calls/{{callId}}`; {CLIENTS} concurrent clients each toggle their "
        "own call.",
        f"{TOGGLE_ROUNDS} rounds, each giving every server and mode {TOGGLE_SECONDS:g} s after a short warm-up; "
        "the rate is",
        "the median of the rounds.", "",
        "| store | clients | callyard | bare Starlette | ratio | server CPU per request (callyard / bare) "
        "| target | |", "|---|---|---|---|---|---|---|---|"]
    for store, name in (("ephemeral", "in memory"), ("sqlite", "SQLite")):
        for label, clients in (("sequential", 1), ("concurrent", CLIENTS)):
            ours, base = toggle[store][label], toggle["bare"][label]
            ratio = ours["rate"] / base["rate"]
            lines.append(f"| {name} | {clients} | {ours['rate']:,.0f} req/s | {base['rate']:,.0f} req/s | "
                         f"{ratio:.2f}× | "
                         f"{ours['cpu_ms']:.2f} ms / {base['cpu_ms']:.2f} ms | ≥ {TARGET_TOGGLE_RATIO}× | "
                         f"{met(ratio >= TARGET_TOGGLE_RATIO)} |")
    idle = fig["idle_rss"]
    lines += [
        "", "### Concurrent calls held against resident memory", "",
        "A fresh in-memory server: outside callers (each a distinct number) dial extensions and every call is",
        f"answered and kept up ({HELD_WORKERS} connections establish them); the server's VmRSS",
        "(/proc/<pid>/status) is read half a second after each step. The baseline is the same server's RSS",
        f"with the tenant loaded and no call: {idle / MIB:.1f} MiB. Live calls, legs and endpoints are memory-only",
        "objects whatever the store, so the figure stands for SQLite too.", "",
        "| concurrent calls | server RSS | idle RSS (baseline) | ratio | RSS per call above idle | "
        "time to establish the step | target | |", "|---|---|---|---|---|---|---|---|"]
    previous = 0
    for count, rss, seconds in fig["held"]:
        per_call = (rss - idle) / count
        is_target = count == 10_000
        lines.append(f"| {count:,} | {rss / MIB:,.1f} MiB | {idle / MIB:,.1f} MiB | {rss / idle:.2f}× | "
                     f"{per_call / 1024:.1f} KiB | {seconds:.1f} s ({(count - previous) / seconds:,.0f} calls/s) | "
                     f"{'≤ 1 GiB' if is_target else '—'} | {met(rss <= TARGET_RSS_BYTES) if is_target else ''} |")
        previous = count
    bare = calls["bare"]
    lines += [
        "", "### New calls per second, sustained", "",
        f"{CLIENTS} clients, each looping as fast as it can for {SUSTAIN_SECONDS:.0f} s: `POST /_callyard/sim/calls`",
        "(an outside number never used before dials an extension), `POST /_callyard/sim/endpoints/{ext}/answer`,",
        "`POST /_callyard/sim/endpoints/{ext}/hangup`: three requests and three transactions per call, the last",
        "one writing the call record. The baseline is the same three-request cycle against the bare routes",
        f"({BARE_SUSTAIN_SECONDS:.0f} s). *Slowest {SUSTAIN_WINDOW:.0f} s* is the lowest rate over the run's "
        f"consecutive {SUSTAIN_WINDOW:.0f}-second slices.", "",
        "| store | callyard | slowest 5 s | bare Starlette (same 3 requests) | ratio | server CPU per call "
        "(callyard / bare) | target | |", "|---|---|---|---|---|---|---|---|"]
    for store, name in (("ephemeral", "in memory"), ("sqlite", "SQLite")):
        ours = calls[store]
        lines.append(f"| {name} | {ours['rate']:,.0f} calls/s | {ours['slowest']:,.0f} calls/s | "
                     f"{bare['rate']:,.0f} cycles/s | {ours['rate'] / bare['rate']:.2f}× | "
                     f"{ours['cpu_ms']:.2f} ms / {bare['cpu_ms']:.2f} ms | ≥ {TARGET_CALLS_PER_SECOND:.0f} calls/s | "
                     f"{met(ours['rate'] >= TARGET_CALLS_PER_SECOND)} |")
    rss_after = fig["rss_after"]
    lines += [
        "", f"Start to ready with the {TENANT_USERS:,}-user tenant: {fig['ephemeral_ready'] * 1000:,.0f} ms in memory,",
        f"{fig['sqlite_ready'] * 1000:,.0f} ms on SQLite (first start: migrations and the tenant written). Server RSS "
        f"after all the runs above:",
        f"{rss_after['ephemeral'] / MIB:,.1f} MiB in memory, {rss_after['sqlite'] / MIB:,.1f} MiB on SQLite, "
        f"{rss_after['bare'] / MIB:,.1f} MiB for the bare routes (call records stay in",
        "memory as documents, whatever the store).", ""]
    return lines


def main() -> None:
    if sys.argv[1:2] == ["hot"]:
        # Only the request pipeline's targets; with no target named, their section of docs/performance.md is
        # rewritten in place (the rest of the file stays as the last full run left it).
        load_before = load_average()
        fig = hot.figures(PY, start, stop, tuple(sys.argv[2:]) or None)
        if not sys.argv[2:]:
            hot.rewrite_section(ROOT / "docs" / "performance.md", machine(load_before), hot.lines(fig))
        return
    if sys.argv[1:] == ["notifications"]:
        with tempfile.TemporaryDirectory() as tmp:
            print("\n".join(notification_lines(notification_figures(tmp))))
        return
    load_before = load_average()
    bare_cmd = [PY, "-m", "uvicorn", "bench.bare_app:app", "--port", "8191", "--log-level", "warning"]
    results: dict[str, list[float]] = {"bare": [], "ephemeral": [], "sqlite": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(RUNS):
            proc, t = start(bare_cmd, 8191)
            stop(proc)
            results["bare"].append(t)
            proc, t = start([PY, "-m", "callyard.cli.main", "serve", "--port", "8192", "--ephemeral",
                             "--log-level", "warning"], 8192)
            stop(proc)
            results["ephemeral"].append(t)
            data = os.path.join(tmp, f"d{i}")
            proc, t = start([PY, "-m", "callyard.cli.main", "serve", "--port", "8193", "--data", data,
                             "--log-level", "warning"], 8193)
            stop(proc)
            results["sqlite"].append(t)
        proc, _ = start(bare_cmd, 8191)
        bare_latency = latency(8191, {})
        stop(proc)
        proc, _ = start([PY, "-m", "callyard.cli.main", "serve", "--port", "8192", "--ephemeral",
                         "--log-level", "warning"], 8192)
        tok = httpx.post("http://127.0.0.1:8192/2017-09-01/token", data={
            "grant_type": "password", "username": "admin@acme.example", "password": "callyard"}).json()["access_token"]
        users_latency = latency(8192, {"Authorization": f"Bearer {tok}"})
        stop(proc)
        pipeline = hot.figures(PY, start, stop)
        engine = engine_figures(tmp, bare_cmd)
        notify = notification_figures(tmp)
    med = {k: statistics.median(v) for k, v in results.items()}
    lines = [
        "# Performance", "",
        "Figures measured by `make bench` (bench/run.py), which rewrites this file. Each figure is compared with",
        "a bare Starlette route served by the same uvicorn in the same run, so the ratio, not the absolute",
        "number, is what carries across machines.", "",
        machine(load_before), "",
        "## Start-up and a directory read", "",
        "| measure | callyard | bare Starlette | ratio |", "|---|---|---|---|",
        f"| start to ready, in-memory store (median of {RUNS}) | {med['ephemeral']*1000:.0f} ms "
        f"| {med['bare']*1000:.0f} ms | {med['ephemeral']/med['bare']:.2f}× |",
        f"| start to ready, SQLite, first start with migrations and tenant load (median of {RUNS}) "
        f"| {med['sqlite']*1000:.0f} ms | {med['bare']*1000:.0f} ms | {med['sqlite']/med['bare']:.2f}× |",
        f"| `GET /2017-09-01/users` (token verified, OData envelope), median of {REQUESTS} sequential requests "
        f"| {users_latency*1000:.2f} ms | {bare_latency*1000:.2f} ms | {users_latency/bare_latency:.2f}× |",
        "", "Start to ready is measured from process start until `GET /_callyard/health` answers 200, with the",
        "demo tenant.", "",
        *hot.lines(pipeline), *engine_lines(engine), *notification_lines(notify)]
    (ROOT / "docs" / "performance.md").write_text("\n".join(lines))
    print("\n".join(lines))
    print("\n".join(hot.verdict(t, pipeline[t.key]) for t in hot.TARGETS))


if __name__ == "__main__":
    main()
