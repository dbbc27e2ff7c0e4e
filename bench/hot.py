"""The request pipeline's targets (issue 19, the HTTP half): each hot route of each family against a bare
Starlette route of the same shape, on the in-memory store with the demo tenant.

Every target runs ``ROUNDS`` rounds; in each round the bare route and callyard get ``SECONDS`` each, one after
the other, so a slow spell of the shared machine falls on both. The ratio is the median of the rounds'
ratios; *server CPU* is the server process's user + system time (/proc) per request over all the rounds,
the steadiest figure on a shared machine. ``python bench/run.py hot`` runs only this part and prints one line
per target with PASS/FAIL.
"""
from __future__ import annotations

import asyncio
import os
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Awaitable, Callable

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.loadgen import Conn, cpu_seconds, run_for  # noqa: E402

ROUNDS = 3
SECONDS = 1.5
CLIENTS = 4
ACME = "ac3e0000-0000-4000-8000-00000000ac3e"
LUNCH = "ac3e0000-0000-4000-8000-0000cc00d001"     # a busy reason code of the demo tenant
B = "/2017-09-01"
EXTENSIONS = ("2880", "2881", "2882", "200")      # the demo tenant's Acme users: one call per client
# Other benches on the same machine may hold the default ports: BENCH_BARE_PORT / BENCH_TWIN_PORT move them.
BARE_PORT = int(os.environ.get("BENCH_BARE_PORT", "8181"))
TWIN_PORT = int(os.environ.get("BENCH_TWIN_PORT", "8182"))


@dataclass(frozen=True)
class Target:
    key: str
    label: str                 # what the line says
    family: str
    clients: int
    ratio: float | None = None         # the bare-route ratio to reach
    rate: float | None = None          # or the absolute rate (per second) to reach


TARGETS = (
    Target("cl_toggle_1", "CloudLink call-control PUT (hold/retrieve), 1 client", "CloudLink", 1, ratio=0.45),
    Target("cl_toggle_4", f"CloudLink call-control PUT (hold/retrieve), {CLIENTS} clients", "CloudLink", CLIENTS,
           ratio=0.45),
    Target("cl_dtmf", f"CloudLink call-control PUT (DTMF on a fresh call), {CLIENTS} clients", "CloudLink", CLIENTS,
           ratio=0.45),
    Target("cl_users", "GET /2017-09-01/users (token check, OData envelope), 1 client", "CloudLink", 1, ratio=0.3),
    Target("cl_token", f"POST /token (password grant), {CLIENTS} clients", "CloudLink", CLIENTS, rate=100.0),
    Target("uc_toggle", "UC CTI call control (hold/resume), 1 client", "UC", 1, ratio=0.45),
    Target("cx_state", "CX employee state (PUT /employees/me/state), 1 client", "CX", 1, ratio=0.45),
)

Step = Callable[[], Awaitable[int]]


async def measure(pid: int, steps: list[Step]) -> tuple[float, float]:
    """(requests per second, server CPU seconds per request) over ``SECONDS`` after a short warm-up."""
    await run_for(0.2, steps)
    cpu = cpu_seconds(pid)
    done, elapsed = await run_for(SECONDS, steps)
    return done / elapsed, (cpu_seconds(pid) - cpu) / max(done, 1)


async def _conns(port: int, n: int, headers: dict[str, str] | None = None) -> list[Conn]:
    return [await Conn(port, headers).__aenter__() for _ in range(n)]


async def _close(conns: list[Conn]) -> None:
    for conn in conns:
        await conn.__aexit__()


class Twin:
    """Drives one server: callyard (the demo tenant, in memory, open control) or the bare routes."""

    def __init__(self, port: int, pid: int, bare: bool) -> None:
        self.port, self.pid, self.bare = port, pid, bare
        self.cl: dict[str, str] = {}
        self.uc: dict[str, str] = {}
        self.cx: dict[str, str] = {}
        self.away = [True]

    async def prepare(self) -> None:
        if self.bare:
            return
        async with Conn(self.port) as c:
            access = await c.json("POST", f"{B}/token", form={
                "grant_type": "password", "username": "admin@acme.example", "password": "callyard"})
            self.cl = {"Authorization": f"Bearer {access['access_token']}"}
            ticket = await c.json("POST", "/api/tickets/acme.example/alice?api=CALL_CONTROL&platform=other",
                                  headers={"Authorization": "Basic " + _basic("alice@acme.example")}, expect=200)
            self.uc = {"Authorization": f"Bearer {ticket['token']}"}
            cx = await c.json("POST", "/authorizationserver/token", form={
                "grant_type": "password", "username": "alice@acme.example", "password": "callyard"})
            self.cx = {"Authorization": f"Bearer {cx['access_token']}"}

    async def call(self, c: Conn, caller: str, ext: str) -> str:
        """An outside caller dials ``ext``, which answers; the extension's leg id."""
        if self.bare:
            return "40000000"
        q = f"?account={ACME}"
        await c.json("POST", f"/_callyard/sim/calls{q}", {"from": caller, "to": ext}, expect=201)
        answered = await c.json("POST", f"/_callyard/sim/endpoints/{ext}/answer{q}", expect=200)
        return str(answered["legId"])

    async def hangup(self, c: Conn, ext: str) -> None:
        if not self.bare:
            await c.json("POST", f"/_callyard/sim/endpoints/{ext}/hangup?account={ACME}", expect=200)

    # ------------------------------------------------------------------ targets
    async def run(self, key: str) -> tuple[float, float]:
        return await getattr(self, key)()

    async def cl_toggle_1(self) -> tuple[float, float]:
        return await self._cl_toggle(1)

    async def cl_toggle_4(self) -> tuple[float, float]:
        return await self._cl_toggle(CLIENTS)

    async def _cl_toggle(self, clients: int) -> tuple[float, float]:
        exts = list(EXTENSIONS[:clients])
        conns = await _conns(self.port, clients, self.cl)
        try:
            legs = [await self.call(conns[i], f"+1613555{1000 + i}", ext) for i, ext in enumerate(exts)]
            held = {leg: False for leg in legs}

            def step(c: Conn, ext: str, leg: str) -> Step:
                async def go() -> int:
                    await c.json("PUT", f"{B}/endpoints/{ext}/calls/{leg}",
                                 {"action": "retrieve" if held[leg] else "hold"}, expect=200)
                    held[leg] = not held[leg]
                    return 1
                return go
            out = await measure(self.pid, [step(conns[i], exts[i], legs[i]) for i in range(clients)])
            for c, ext in zip(conns, exts, strict=True):
                await self.hangup(c, ext)
            return out
        finally:
            await _close(conns)

    async def cl_dtmf(self) -> tuple[float, float]:
        exts = list(EXTENSIONS[:CLIENTS])
        conns = await _conns(self.port, CLIENTS, self.cl)
        try:
            legs = [await self.call(conns[i], f"+1613555{2000 + i}", ext) for i, ext in enumerate(exts)]

            def step(c: Conn, ext: str, leg: str) -> Step:
                async def go() -> int:
                    await c.json("PUT", f"{B}/endpoints/{ext}/calls/{leg}", {"action": "dtmf", "args": "5"},
                                 expect=200)
                    return 1
                return go
            out = await measure(self.pid, [step(conns[i], exts[i], legs[i]) for i in range(CLIENTS)])
            for c, ext in zip(conns, exts, strict=True):
                await self.hangup(c, ext)
            return out
        finally:
            await _close(conns)

    async def cl_users(self) -> tuple[float, float]:
        conns = await _conns(self.port, 1, self.cl)
        try:
            async def go() -> int:
                await conns[0].json("GET", f"{B}/users", expect=200)
                return 1
            return await measure(self.pid, [go])
        finally:
            await _close(conns)

    async def cl_token(self) -> tuple[float, float]:
        conns = await _conns(self.port, CLIENTS)
        try:
            def step(c: Conn) -> Step:
                async def go() -> int:
                    await c.json("POST", f"{B}/token", form={"grant_type": "password", "username": "alice@acme.example",
                                                            "password": "callyard"}, expect=(200, 201))
                    return 1
                return go
            return await measure(self.pid, [step(c) for c in conns])
        finally:
            await _close(conns)

    async def uc_toggle(self) -> tuple[float, float]:
        conns = await _conns(self.port, 1, self.uc)
        c = conns[0]
        try:
            await self.call(c, "+16135553000", "2880")
            base = "/api/cti/acme.example/alice"
            call_id = "1" if self.bare else (await c.json("GET", f"{base}/calls", expect=200))["calls"][0]["callId"]
            held = [False]

            async def go() -> int:
                await c.json("POST", f"{base}/calls/{call_id}/{'resume' if held[0] else 'hold'}", {}, expect=200)
                held[0] = not held[0]
                return 1
            out = await measure(self.pid, [go])
            await self.hangup(c, "2880")
            return out
        finally:
            await _close(conns)

    async def cx_state(self) -> tuple[float, float]:
        conns = await _conns(self.port, 1, self.cx)
        c = conns[0]
        away = self.away        # logged out at first: the first request logs in
        try:
            async def go() -> int:
                body = {"state": "Available", "availableReason": "Login"} if away[0] else {"State": 2, "Reason": LUNCH}
                await c.json("PUT", "/miccsdk/api/v1/employees/me/state", body, expect=200)
                away[0] = not away[0]
                return 1
            return await measure(self.pid, [go])
        finally:
            await _close(conns)


def _basic(user: str, password: str = "callyard") -> str:
    import base64
    return base64.b64encode(f"{user}:{password}".encode()).decode()


def figures(py: str, start: Callable[..., Any], stop: Callable[[Any], None],
            keys: tuple[str, ...] | None = None) -> dict[str, dict[str, float]]:
    """Per target: callyard's and the bare route's rate (median of the rounds), the median ratio and the CPU
    per request of each (microseconds)."""
    wanted = [t for t in TARGETS if keys is None or t.key in keys]
    bare_proc, _ = start([py, "-m", "uvicorn", "bench.bare_app:app", "--port", str(BARE_PORT), "--log-level",
                          "warning"], BARE_PORT)
    twin_proc, _ = start([py, "-m", "callyard.cli.main", "serve", "--port", str(TWIN_PORT), "--ephemeral",
                          "--open-control", "--log-level", "warning"], TWIN_PORT)
    try:
        bare, twin = Twin(BARE_PORT, bare_proc.pid, True), Twin(TWIN_PORT, twin_proc.pid, False)
        asyncio.run(twin.prepare())
        out: dict[str, dict[str, float]] = {}
        for target in wanted:
            rounds: list[tuple[float, float, float, float]] = []
            for _ in range(ROUNDS):
                b_rate, b_cpu = asyncio.run(bare.run(target.key))
                t_rate, t_cpu = asyncio.run(twin.run(target.key))
                rounds.append((t_rate, t_cpu, b_rate, b_cpu))
            out[target.key] = {
                "rate": statistics.median(r[0] for r in rounds), "bare": statistics.median(r[2] for r in rounds),
                "ratio": statistics.median(r[0] / r[2] for r in rounds),
                "cpu_us": statistics.median(r[1] for r in rounds) * 1e6,
                "bare_cpu_us": statistics.median(r[3] for r in rounds) * 1e6}
            print(verdict(target, out[target.key]), flush=True)
        return out
    finally:
        stop(twin_proc)
        stop(bare_proc)


def met(target: Target, fig: dict[str, float]) -> bool:
    if target.rate is not None:
        return fig["rate"] >= target.rate
    return fig["ratio"] >= (target.ratio or 0.0)


def verdict(target: Target, fig: dict[str, float]) -> str:
    """One line: the target, the measured figure, PASS/FAIL, the server CPU per request."""
    if target.rate is not None:
        measured = f"{fig['rate']:,.0f}/s (target ≥ {target.rate:,.0f}/s)"
    else:
        measured = f"{fig['ratio']:.2f}× the bare route (target ≥ {target.ratio}×)"
    return (f"{'PASS' if met(target, fig) else 'FAIL'}  {target.label}: {measured}; server CPU "
            f"{fig['cpu_us']:,.0f} µs/request (bare {fig['bare_cpu_us']:,.0f} µs)")


def lines(fig: dict[str, dict[str, float]]) -> list[str]:
    """The section of docs/performance.md."""
    out = [
        "## The request pipeline: hot routes per family", "",
        "Each family's busiest routes against a bare Starlette route of the same shape (bench/bare_app.py), on",
        "a server with the demo tenant and the in-memory store (bench/hot.py; `python bench/run.py hot` runs only",
        f"this part). {ROUNDS} rounds; in each the bare route and callyard get {SECONDS:g} s in turn after a short",
        "warm-up. *Ratio* is the median of the rounds' ratios of request rates; *server CPU* is the server",
        "process's user + system time per request (median of the rounds). Call control: hold and retrieve",
        "alternately on an answered call per client; DTMF: one digit per request on a call established just",
        "before; `POST /token`: the password grant, as fast as the clients go. The targets are issue 19's; the UC",
        "and CX lines carry the CloudLink call-control target.", "",
        "| family | request | callyard | bare route | ratio | server CPU per request (callyard / bare) | target | |",
        "|---|---|---|---|---|---|---|---|"]
    for target in TARGETS:
        f = fig.get(target.key)
        if f is None:
            continue
        goal = f"≥ {target.rate:,.0f}/s" if target.rate is not None else f"≥ {target.ratio}×"
        out.append(f"| {target.family} | {target.label} | {f['rate']:,.0f}/s | {f['bare']:,.0f}/s | "
                   f"{f['ratio']:.2f}× | {f['cpu_us']:,.0f} µs / {f['bare_cpu_us']:,.0f} µs | {goal} | "
                   f"{'met' if met(target, f) else '**not met**'} |")
    out.append("")
    return out


def rewrite_section(path: Path, machine: str, section: list[str]) -> None:
    """Replace this part's section of docs/performance.md (appended when absent), the machine and load
    average of this run under its heading."""
    section = section[:2] + [machine, ""] + section[2:]
    text = path.read_text() if path.exists() else "# Performance\n"
    heading = section[0]
    lines_ = text.split("\n")
    if heading in lines_:
        start = lines_.index(heading)
        end = next((i for i in range(start + 1, len(lines_)) if lines_[i].startswith("## ")), len(lines_))
        lines_[start:end] = section
    else:
        lines_ += ["", *section]
    path.write_text("\n".join(lines_))
