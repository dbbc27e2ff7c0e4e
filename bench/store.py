"""``make bench``, the store part: call control and new calls on the default SQLite store (WAL,
``synchronous=FULL``) with group commit, against the bare Starlette routes in the same run.

Hold/retrieve toggles at 3 and 16 clients (each on its own established call), 3 rounds, median rate; server
CPU per request from /proc; transactions (one fsync each) per request from the server's own count
(``GET /_callyard/health`` → ``storeWrites``); new calls per second (simulator call, answer, hang-up) at 16
clients. Prints one line per target with PASS/FAIL and replaces the "Store" section of docs/performance.md
(between its markers; appended when absent). ``python bench/store.py --print`` prints without writing."""
from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Awaitable, Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import loadgen  # noqa: E402
from bench.loadgen import Conn, cpu_seconds, extension, outside_number, run_for  # noqa: E402
from bench.run import PY, SIM_CALLS, establish, load_average, machine, media_call, phone, serve_cmd, start, stop  # noqa: E402

USERS = 400
CLIENT_COUNTS = (3, 16)
ROUNDS = 3
SECONDS = 1.5
CALL_CLIENTS = 16
CALL_SECONDS = 6.0
BEFORE_CALLS_PER_SECOND = 109.0   # new calls/s on SQLite before group commit (docs/performance.md of that run)
TARGETS = {3: 0.15, 16: 0.25}
TARGET_TX_PER_REQUEST = 0.2
BEGIN, END = "<!-- bench/store.py: begin -->", "<!-- bench/store.py: end -->"


async def _writes(conn: Conn) -> int:
    health = await conn.json("GET", "/_callyard/health", expect=200)
    return int(health.get("storeWrites", {}).get("transactions", 0))


class Target:
    def __init__(self, name: str, cmd: list[str], port: int) -> None:
        self.name, self.port = name, port
        self.proc, _ = start(cmd, port)
        self.bare = name == "bare"
        self.headers: dict[str, str] = {}
        self.calls: list[tuple[str, str]] = []
        self.held: dict[str, bool] = {}

    async def prepare(self) -> None:
        if not self.bare:
            from bench.run import bearer
            self.headers = await bearer(self.port)
        async with Conn(self.port) as conn:
            for w in range(max(CLIENT_COUNTS)):
                self.calls.append((extension(w), await establish(conn, outside_number(w), extension(w))))
        self.held = {leg: False for _, leg in self.calls}

    async def toggle(self, clients: int) -> tuple[int, float, float, int]:
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
            await run_for(0.3, steps)
            async with Conn(self.port) as probe:
                tx = 0 if self.bare else await _writes(probe)
                cpu = cpu_seconds(self.proc.pid)
                done, elapsed = await run_for(SECONDS, steps)
                cpu = cpu_seconds(self.proc.pid) - cpu
                tx = 0 if self.bare else await _writes(probe) - tx
            return done, elapsed, cpu, tx
        finally:
            for conn in conns:
                await conn.__aexit__()

    async def new_calls(self) -> dict[str, float]:
        counter = [0]

        def caller(conn: Conn, w: int) -> Callable[[], Awaitable[int]]:
            mine = [extension(i) for i in range(max(CLIENT_COUNTS), USERS) if i % CALL_CLIENTS == w]
            turn = [0]

            async def step() -> int:
                ext = mine[turn[0] % len(mine)]
                turn[0] += 1
                counter[0] += 1
                await conn.json("POST", SIM_CALLS, {"from": outside_number(200_000 + counter[0]), "to": ext},
                                expect=201)
                await conn.json("POST", phone(ext, "answer"), expect=200)
                await conn.json("POST", phone(ext, "hangup"), expect=200)
                return 1
            return step

        conns = [await Conn(self.port).__aenter__() for _ in range(CALL_CLIENTS)]
        try:
            steps = [caller(conns[w], w) for w in range(CALL_CLIENTS)]
            await run_for(0.5, steps)
            cpu = cpu_seconds(self.proc.pid)
            done, elapsed = await run_for(CALL_SECONDS, steps)
            cpu = cpu_seconds(self.proc.pid) - cpu
        finally:
            for conn in conns:
                await conn.__aexit__()
        return {"rate": done / elapsed, "cpu_ms": cpu / done * 1000}

    def stop(self) -> None:
        stop(self.proc)


async def measure(targets: list[Target]) -> dict[str, Any]:
    for target in targets:
        await target.prepare()
    runs: dict[tuple[str, int], list[tuple[int, float, float, int]]] = {}
    for _ in range(ROUNDS):
        for target in targets:
            for clients in CLIENT_COUNTS:
                runs.setdefault((target.name, clients), []).append(await target.toggle(clients))
    out: dict[str, Any] = {"toggle": {}, "calls": {}}
    for (name, clients), results in runs.items():
        done = sum(r[0] for r in results)
        out["toggle"][(name, clients)] = {
            "rate": statistics.median(r[0] / r[1] for r in results),
            "cpu_ms": sum(r[2] for r in results) / done * 1000,
            "tx_per_request": sum(r[3] for r in results) / done}
    for target in targets:
        out["calls"][target.name] = await target.new_calls()
    return out


def lines(fig: dict[str, Any], load_before: float) -> list[str]:
    toggle = fig["toggle"]
    rows = ["## Store: group commit on SQLite", "", BEGIN.replace("begin", "generated by bench/store.py"), "",
            f"A generated tenant of {USERS} users; `callyard serve --data DIR` (SQLite, WAL, `synchronous=FULL`): "
            "every call-control request commits one transaction's worth of changes and is answered only once "
            "they are durable, but concurrent requests share one transaction and one fsync (group commit, "
            "src/callyard/store/group_commit.py). Hold/retrieve toggles with the Media API, each client on its "
            f"own established call, {ROUNDS} rounds of {SECONDS} s, median rate; *transactions per request* is "
            "the server's own count of SQLite commits (each one fsync of the WAL) divided by the requests.", "",
            "| clients | callyard SQLite | callyard in memory | bare Starlette | ratio | server CPU per request "
            "(SQLite / memory / bare) | transactions (fsyncs) per request | target | |",
            "|---|---|---|---|---|---|---|---|---|"]
    verdicts: list[str] = []
    for clients in CLIENT_COUNTS:
        twin, bare, memory = toggle[("sqlite", clients)], toggle[("bare", clients)], toggle[("ephemeral", clients)]
        ratio = twin["rate"] / bare["rate"]
        goal = f"≥ {TARGETS[clients]}×" + (f", < {TARGET_TX_PER_REQUEST} tx/req" if clients == 16 else "")
        ok = ratio >= TARGETS[clients] and (clients != 16 or twin["tx_per_request"] < TARGET_TX_PER_REQUEST)
        rows.append(f"| {clients} | {twin['rate']:,.0f} req/s | {memory['rate']:,.0f} req/s "
                    f"| {bare['rate']:,.0f} req/s "
                    f"| {ratio:.2f}× | {twin['cpu_ms']:.2f} / {memory['cpu_ms']:.2f} / {bare['cpu_ms']:.2f} ms "
                    f"| {twin['tx_per_request']:.3f} | {goal} | "
                    f"{'met' if ok else '**not met**'} |")
        verdicts.append(f"{'PASS' if ok else 'FAIL'} SQLite call control, {clients} clients: {ratio:.3f}× the bare "
                        f"route (target {goal}), {twin['tx_per_request']:.3f} transactions/request, "
                        f"{twin['cpu_ms']:.2f} ms server CPU/request")
    calls = fig["calls"]
    ratio_before = calls["sqlite"]["rate"] / BEFORE_CALLS_PER_SECOND
    ok = ratio_before >= 3.0
    rows += ["", f"New calls per second on SQLite, {CALL_CLIENTS} clients for {CALL_SECONDS:.0f} s (simulator call, "
             "answer, hang-up: three transactions per call, the last writing the call record):", "",
             "| callyard SQLite | callyard in memory | bare Starlette (same 3 requests) | server CPU per call "
             "(SQLite / memory) | before group commit | target | |", "|---|---|---|---|---|---|---|",
             f"| {calls['sqlite']['rate']:,.0f} calls/s | {calls['ephemeral']['rate']:,.0f} calls/s "
             f"| {calls['bare']['rate']:,.0f} cycles/s | {calls['sqlite']['cpu_ms']:.2f} / "
             f"{calls['ephemeral']['cpu_ms']:.2f} ms | {BEFORE_CALLS_PER_SECOND:.0f} calls/s ({ratio_before:.1f}×) | "
             f"≥ 3× | {'met' if ok else '**not met**'} |", ""]
    verdicts.append(f"{'PASS' if ok else 'FAIL'} SQLite new calls: {calls['sqlite']['rate']:,.0f} calls/s = "
                    f"{ratio_before:.2f}× the {BEFORE_CALLS_PER_SECOND:.0f} calls/s before group commit (target ≥ 3×)")
    rows += [f"Load average (1 min) when this part began: {load_before:.1f}, when it ended: {load_average():.1f}.",
             "", END]
    for verdict in verdicts:
        print(verdict, flush=True)
    return rows


def write_section(rows: list[str]) -> None:
    doc = ROOT / "docs" / "performance.md"
    text = doc.read_text() if doc.exists() else "# Performance\n"
    header = "## Store: group commit on SQLite"
    if header in text and END in text:
        before = text[:text.index(header)]
        after = text[text.index(END) + len(END):]
        text = before + "\n".join(rows) + after
    else:
        text = text.rstrip("\n") + "\n\n" + "\n".join(rows) + "\n"
    doc.write_text(text)


def main() -> None:
    load_before = load_average()
    print(machine(load_before), flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        tenant = Path(tmp) / "store-tenant.json"
        loadgen.write_tenant(tenant, USERS)
        targets: list[Target] = []
        try:
            bare = [PY, "-m", "uvicorn", "bench.bare_app:app", "--port", "8291", "--log-level", "warning"]
            targets.append(Target("bare", bare, 8291))
            targets.append(Target("ephemeral", serve_cmd(8294, "ephemeral", tenant, tmp), 8294))
            targets.append(Target("sqlite", serve_cmd(8295, "sqlite", tenant, tmp), 8295))
            began = time.perf_counter()
            fig = asyncio.run(measure(targets))
            print(f"measured in {time.perf_counter() - began:.0f} s", flush=True)
        finally:
            for target in targets:
                target.stop()
    rows = lines(fig, load_before)
    if "--print" in sys.argv:
        print("\n".join(rows))
    else:
        write_section(rows)


if __name__ == "__main__":
    main()
