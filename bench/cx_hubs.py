"""``python bench/cx_hubs.py``: how fast the CX hubs carry a contact-center change to many monitors.

A live twin (demo tenant, in memory); ``CLIENTS`` supervisor WebSocket connections (the ``websockets`` client,
the SignalR wire format) each monitor Support's state (``queueHub.addStateMonitor``) and dave's agent
(``agentHub.addStateMonitor``). dave logs in and out ``ROUNDS`` times over REST; for each change the script
measures the time from the REST answer until every client has the ``queueStateChanged``. Numbers, not
pass/fail."""
from __future__ import annotations

import asyncio
import json
import statistics
import sys
import time
from pathlib import Path
from urllib.parse import urlencode

import httpx
from websockets.asyncio.client import ClientConnection, connect

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT))

from tests.conftest import start_server  # noqa: E402

CLIENTS = int(sys.argv[1]) if len(sys.argv) > 1 else 100
ROUNDS = 10
SUPPORT = "ac3e0000-0000-4000-8000-00000000500a"


async def cx_token(http: httpx.AsyncClient, username: str) -> str:
    response = await http.post("/AuthorizationServer/Token", data={"grant_type": "password", "username": username,
                                                                   "password": "callyard"})
    return str(response.json()["access_token"])


async def open_client(http: httpx.AsyncClient, ws_url: str, bearer: str) -> ClientConnection:
    who = {"sessionid": f"Bearer {bearer}", "clientProtocol": "1.5"}
    negotiated = (await http.get("/miccsdk/signalr/negotiate", params=who)).json()
    query = urlencode({**who, "transport": "webSockets", "connectionToken": negotiated["ConnectionToken"]})
    ws = await connect(f"{ws_url}/miccsdk/signalr/connect?{query}", max_queue=None)
    await ws.recv()
    for i, (hub, method, ids) in enumerate((("queueHub", "addStateMonitor", [SUPPORT]),
                                            ("agentHub", "addStateMonitor", ["dave"]))):
        await ws.send(json.dumps({"H": hub, "M": method, "A": [ids], "I": i}))
    answered = 0
    while answered < 2:
        answered += "I" in json.loads(await ws.recv())
    return ws


async def until_queue_state(ws: ClientConnection) -> float:
    while True:
        frame = json.loads(await ws.recv())
        if any(m.get("M") == "queueStateChanged" for m in frame.get("M", [])):
            return time.perf_counter()


async def main(url: str) -> None:
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        supervisor, dave = await cx_token(http, "admin@acme.example"), await cx_token(http, "dave")
        started = time.perf_counter()
        clients = [await open_client(http, url.replace("http", "ws"), supervisor) for _ in range(CLIENTS)]
        print(f"{CLIENTS} supervisor connections with 2 monitors each in {time.perf_counter() - started:.1f} s")
        latencies, slowest = [], []
        for round_ in range(ROUNDS):
            waiting = [asyncio.create_task(until_queue_state(ws)) for ws in clients]
            body = {"state": "Available", "availableReason": "Login"} if round_ % 2 == 0 else {"state": "Offline"}
            response = await http.put("/miccsdk/api/v1/employees/me/state", json=body,
                                      headers={"Authorization": f"Bearer {dave}"})
            answered = time.perf_counter()
            assert response.status_code == 200, response.text
            arrived = await asyncio.gather(*waiting)
            latencies.extend(a - answered for a in arrived)
            slowest.append(max(arrived) - answered)
        print(f"{ROUNDS} changes: after the REST answer, median {statistics.median(latencies) * 1000:.1f} ms to a "
              f"client, all {CLIENTS} within {statistics.median(slowest) * 1000:.1f} ms (median), "
              f"{max(slowest) * 1000:.1f} ms (worst)")
        for ws in clients:
            await ws.close()


if __name__ == "__main__":
    with start_server() as live:
        asyncio.run(main(live.url))
