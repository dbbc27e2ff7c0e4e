"""``python bench/signalr.py``: fan-out figures of the SignalR 2 transport (delivery/signalr) on this machine.

A ``SignalRServer`` with one hub under uvicorn in a thread; ``CLIENTS`` WebSocket connections (the
``websockets`` client, the SignalR wire format) all join one group; the server pushes ``PUSHES`` messages to
the group at once (as a projection would after a commit). Prints how long one push call takes and how long
until every client has every message, then the same with one client that stops reading joined to the group.
Numbers, not pass/fail."""
from __future__ import annotations

import asyncio
import json
import socket
import statistics
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from websockets.asyncio.client import connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from callyard.delivery.signalr import Hub, Options, SignalRServer  # noqa: E402

CLIENTS = 200
PUSHES = 200
BASE = "/miccsdk/signalr"


class BoardHub(Hub):
    async def watch(self) -> bool:
        self.context.groups.add("board")
        return True


def build() -> tuple[Starlette, SignalRServer]:
    server = SignalRServer(BASE, lambda c: "viewer", {"boardHub": BoardHub}, options=Options(buffer_size=1000))

    async def push(request: Request) -> JSONResponse:
        n = int(request.query_params["n"])
        timings = []
        for i in range(n):
            started = time.perf_counter()
            server.push("boardHub", "tick", [i, time.time(), "x" * 200], group="board")
            timings.append(time.perf_counter() - started)
        return JSONResponse({"push_ms_median": statistics.median(timings) * 1000,
                             "push_ms_max": max(timings) * 1000})
    return Starlette(routes=[server.route(), Route("/push", push, methods=["POST"])]), server


async def client(url: str, port: int, expected: int, ready: asyncio.Event, done: list[float],
                 reading: bool = True) -> None:
    async with httpx.AsyncClient() as http:
        token = (await http.get(f"{url}{BASE}/negotiate", params={"clientProtocol": "2.0"})).json()["ConnectionToken"]
    params = urlencode({"transport": "webSockets", "clientProtocol": "2.0", "connectionToken": token})
    async with connect(f"ws://127.0.0.1:{port}{BASE}/connect?{params}", max_queue=1 if not reading else 16) as ws:
        await ws.recv()
        await ws.send(json.dumps({"H": "boardHub", "M": "watch", "A": [], "I": 0}))
        ready.set()
        if not reading:
            await asyncio.sleep(3600)
        seen = 0
        while seen < expected:
            body = json.loads(await ws.recv())
            seen += sum(1 for m in body.get("M", []) if m.get("M") == "tick")
        done.append(time.perf_counter())


async def run(url: str, port: int, slow: bool) -> dict[str, float]:
    done: list[float] = []
    readies = [asyncio.Event() for _ in range(CLIENTS)]
    tasks = [asyncio.create_task(client(url, port, PUSHES, readies[i], done)) for i in range(CLIENTS)]
    if slow:
        stuck = asyncio.Event()
        tasks.append(asyncio.create_task(client(url, port, PUSHES, stuck, [], reading=False)))
        readies.append(stuck)
    for ready in readies:
        await ready.wait()
    await asyncio.sleep(0.5)
    started = time.perf_counter()
    async with httpx.AsyncClient(timeout=60) as http:
        figures = (await http.post(f"{url}/push", params={"n": PUSHES})).json()
    await asyncio.wait(tasks[:CLIENTS], timeout=60)
    for task in tasks:
        task.cancel()
    figures["all_delivered_s"] = max(done) - started if len(done) == CLIENTS else float("nan")
    figures["messages_per_s"] = CLIENTS * PUSHES / figures["all_delivered_s"]
    return figures


def main() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    app, _ = build()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.02)
    url = f"http://127.0.0.1:{port}"
    for slow in (False, True):
        figures = asyncio.run(run(url, port, slow))
        label = "with one client that stops reading" if slow else "all clients reading"
        print(f"{CLIENTS} WebSocket clients, {PUSHES} pushes to their group, {label}: "
              f"push() median {figures['push_ms_median']:.3f} ms (max {figures['push_ms_max']:.2f} ms), "
              f"every message at every client after {figures['all_delivered_s']:.2f} s "
              f"({figures['messages_per_s']:.0f} messages/s delivered)")
    server.should_exit = True


if __name__ == "__main__":
    main()
