"""How a family mounts the server: its route inside a FastAPI ``APIRouter`` included in the app (as
``api/family.py`` does) keeps matching every endpoint, in any case, beside the family's other routes."""
from __future__ import annotations

import httpx
from fastapi import APIRouter, FastAPI

from callyard.delivery.signalr import SignalRServer
from tests.delivery.signalr.conftest import BASE, EchoHub, authenticate


async def test_the_route_survives_include_router() -> None:
    server = SignalRServer(BASE, authenticate, {"testHub": EchoHub})
    router = APIRouter()

    @router.get("/miccsdk/api/v1/status")
    async def status() -> dict[str, str]:
        return {"status": "ok"}
    router.routes.append(server.route())
    app = FastAPI()
    app.include_router(router, prefix="")
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://twin") as http:
        params = {"sessionid": "Bearer tok-alice", "clientProtocol": "1.5"}
        negotiated = await http.get("/MiccSdk/SignalR/negotiate", params=params)
        assert negotiated.status_code == 200 and negotiated.json()["ProtocolVersion"] == "1.5"
        assert (await http.get("/miccsdk//signalr/ping", params=params)).json() == {"Response": "pong"}
        assert (await http.get("/miccsdk/api/v1/status")).json() == {"status": "ok"}
        assert (await http.get("/miccsdk/signalr/nothing", params=params)).status_code == 404
        assert (await http.get("/elsewhere/signalr/ping", params=params)).status_code == 404
    await server.stop()
