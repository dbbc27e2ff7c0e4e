"""``make bench``: measure callyard against a bare Starlette route in the same run and rewrite
docs/performance.md with the figures and ratios. No assertion: numbers, not pass/fail.

Two parts: start-up and a directory read against the demo tenant, then the PBX engine and the Media API
(call-control action throughput, concurrent calls held against resident memory, new calls per second)
against a generated tenant of ``TENANT_USERS`` extension users, on the in-memory and the SQLite store."""
from __future__ import annotations

import asyncio
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

import httpx

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import loadgen  # noqa: E402
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

    async def prepare_toggles(self) -> None:
        """One established call per client: outside caller ``w`` → extension ``w``, answered."""
        self.headers = {} if self.bare else await bearer(self.port)
        async with Conn(self.port) as conn:
            for w in range(CLIENTS):
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

    async def sustained_calls(self, seconds: float) -> dict[str, float]:
        """``CLIENTS`` clients each placing calls (outside caller → extension), answering and hanging up, as
        fast as they can for ``seconds``. Every call has a caller number never used before; each client
        cycles over its own extensions (not those of the toggled calls)."""
        counter = [0]

        def caller(conn: Conn, w: int) -> Callable[[], Awaitable[int]]:
            mine = [extension(i) for i in range(CLIENTS, TENANT_USERS) if i % CLIENTS == w]
            turn = [0]

            async def step() -> int:
                ext = mine[turn[0] % len(mine)]
                turn[0] += 1
                counter[0] += 1
                await conn.json("POST", SIM_CALLS, {"from": outside_number(100_000 + counter[0]), "to": ext},
                                expect=201)
                await conn.json("POST", phone(ext, "answer"), expect=200)
                await conn.json("POST", phone(ext, "hangup"), expect=200)
                return 1
            return step

        conns = [await Conn(self.port).__aenter__() for _ in range(CLIENTS)]
        try:
            steps = [caller(conns[w], w) for w in range(CLIENTS)]
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

            async def work(conn: Conn) -> None:
                for i in queue:
                    await establish(conn, outside_number(i), extension(i))

            await asyncio.gather(*(work(c) for c in conns))
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
        f"`PUT /2017-09-01/endpoints/{{id}}/calls/{{callId}}`; {CLIENTS} concurrent clients each toggle their own call.",
        f"{TOGGLE_ROUNDS} rounds, each giving every server and mode {TOGGLE_SECONDS:g} s after a short warm-up; the rate is",
        "the median of the rounds.", "",
        "| store | clients | callyard | bare Starlette | ratio | server CPU per request (callyard / bare) "
        "| target | |", "|---|---|---|---|---|---|---|---|"]
    for store, name in (("ephemeral", "in memory"), ("sqlite", "SQLite")):
        for label, clients in (("sequential", 1), ("concurrent", CLIENTS)):
            ours, base = toggle[store][label], toggle["bare"][label]
            ratio = ours["rate"] / base["rate"]
            lines.append(f"| {name} | {clients} | {ours['rate']:,.0f} req/s | {base['rate']:,.0f} req/s | {ratio:.2f}× | "
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
    load_before = load_average()
    bare_cmd = [PY, "-m", "uvicorn", "bench.bare_app:app", "--port", "8191", "--log-level", "warning"]
    results: dict[str, list[float]] = {"bare": [], "ephemeral": [], "sqlite": []}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(RUNS):
            proc, t = start(bare_cmd, 8191); stop(proc); results["bare"].append(t)
            proc, t = start([PY, "-m", "callyard.cli.main", "serve", "--port", "8192", "--ephemeral",
                             "--log-level", "warning"], 8192); stop(proc); results["ephemeral"].append(t)
            data = os.path.join(tmp, f"d{i}")
            proc, t = start([PY, "-m", "callyard.cli.main", "serve", "--port", "8193", "--data", data,
                             "--log-level", "warning"], 8193); stop(proc); results["sqlite"].append(t)
        proc, _ = start(bare_cmd, 8191)
        bare_latency = latency(8191, {})
        stop(proc)
        proc, _ = start([PY, "-m", "callyard.cli.main", "serve", "--port", "8192", "--ephemeral",
                         "--log-level", "warning"], 8192)
        tok = httpx.post("http://127.0.0.1:8192/2017-09-01/token", data={
            "grant_type": "password", "username": "admin@acme.example", "password": "callyard"}).json()["access_token"]
        users_latency = latency(8192, {"Authorization": f"Bearer {tok}"})
        stop(proc)
        engine = engine_figures(tmp, bare_cmd)
    med = {k: statistics.median(v) for k, v in results.items()}
    lines = [
        "# Performance", "",
        "Figures measured by `make bench` (bench/run.py), which rewrites this file. Each figure is compared with",
        "a bare Starlette route served by the same uvicorn in the same run, so the ratio, not the absolute",
        "number, is what carries across machines.", "",
        machine(load_before), "",
        "## Start-up and a directory read", "",
        "| measure | callyard | bare Starlette | ratio |", "|---|---|---|---|",
        f"| start to ready, in-memory store (median of {RUNS}) | {med['ephemeral']*1000:.0f} ms | {med['bare']*1000:.0f} ms | {med['ephemeral']/med['bare']:.2f}× |",
        f"| start to ready, SQLite, first start with migrations and tenant load (median of {RUNS}) | {med['sqlite']*1000:.0f} ms | {med['bare']*1000:.0f} ms | {med['sqlite']/med['bare']:.2f}× |",
        f"| `GET /2017-09-01/users` (token verified, OData envelope), median of {REQUESTS} sequential requests | {users_latency*1000:.2f} ms | {bare_latency*1000:.2f} ms | {users_latency/bare_latency:.2f}× |",
        "", "Start to ready is measured from process start until `GET /_callyard/health` answers 200, with the",
        "demo tenant. Event latency and WebSocket subscribers are measured once the notification path exists.", "",
        *engine_lines(engine)]
    (ROOT / "docs" / "performance.md").write_text("\n".join(lines))
    print("\n".join(lines))


if __name__ == "__main__":
    main()
