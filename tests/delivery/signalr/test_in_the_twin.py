"""The transport inside the twin, the way a family uses it: a throw-away family (defined here only) mounts a
``SignalRServer`` in its router, authenticates with the twin's own access tokens, and feeds a hub from an
after-commit projection. A change made through the CloudLink REST API reaches the WebSocket and SSE clients
that monitor it, through the app's middleware, and nobody else."""
from __future__ import annotations

import json
import threading
from typing import Any, Iterator
from urllib.parse import urlencode

import httpx
import pytest
import uvicorn
from fastapi import APIRouter
from starlette.requests import HTTPConnection
from websockets.sync.client import connect

from callyard.api.family import Family, Mount
from callyard.app import FAMILIES, build_app
from callyard.config import Settings
from callyard.core.errors import CoreError
from callyard.delivery.signalr import Hub, SignalRServer, credential
from callyard.events.event import Event
from tests.api.test_families import ValidationResult
from tests.conftest import ALICE, LiveServer, free_port, token


def authenticate(connection: HTTPConnection) -> Any:
    bearer = credential(connection)
    if bearer is None:
        return None
    try:
        return connection.app.state.twin.core.auth.principal(bearer)
    except CoreError:
        return None


class DirectoryHub(Hub):
    async def watchMe(self) -> str:
        self.context.groups.add(f"user:{self.context.principal.user_id}")
        return self.context.principal.user_id


HUBS = SignalRServer("/hubdemo/signalr", authenticate, {"directoryHub": DirectoryHub},
                     expires=lambda principal: principal.claims.get("exp"))
router = APIRouter()
router.routes.append(HUBS.route())


def projections(twin: Any) -> None:
    def user_changed(event: Event) -> None:
        data = event.data or {}
        HUBS.push("directoryHub", "userChanged", [data.get("userId"), data.get("name")],
                  group=f"user:{data.get('userId')}",
                  where=lambda info: info.principal.account_id == event.account_id)
    twin.core.projections.after_commit("hubdemo pushes user changes", user_changed, events=("user.updated",))


async def nobody() -> None:
    return None


HUBDEMO = Family(name="hubdemo", prefixes=("/hubdemo",), mounts=(Mount(router, ""),), errors=ValidationResult(),
                 auth=nobody, paging=lambda items: {"items": items}, projections=projections)


class HubTwin(LiveServer):
    """A live twin with the hub family registered beside the real ones."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = build_app(settings, families=(*FAMILIES, HUBDEMO))
        self.server = uvicorn.Server(uvicorn.Config(self.app, host=settings.host, port=settings.port,
                                                    log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://{settings.host}:{settings.port}"


@pytest.fixture(scope="module")
def twin() -> Iterator[tuple[httpx.Client, int]]:
    port = free_port()
    with HubTwin(Settings(port=port, ephemeral=True)):
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=10) as client:
            yield client, port


def test_a_rest_change_reaches_the_hub_monitors_of_it(twin: tuple[httpx.Client, int]) -> None:
    http, port = twin
    alice_jwt, bob_jwt = token(http, "alice@acme.example"), token(http, "bob@acme.example")
    assert http.get("/HubDemo/SignalR/negotiate").status_code == 401
    assert http.get("/hubdemo/signalr/negotiate", params={"sessionid": "Bearer not-a-jwt"}).status_code == 401

    def open_ws(jwt: str) -> Any:
        negotiated = http.get("/HubDemo/SignalR/negotiate", params={"sessionid": f"Bearer {jwt}",
                                                                    "clientProtocol": "2.1"})
        assert negotiated.status_code == 200 and negotiated.json()["ProtocolVersion"] == "2.0"
        params = {"transport": "webSockets", "clientProtocol": "2.1", "sessionid": f"Bearer {jwt}",
                  "connectionToken": negotiated.json()["ConnectionToken"]}
        return connect(f"ws://127.0.0.1:{port}/HubDemo/SignalR/connect?{urlencode(params)}")

    with open_ws(alice_jwt) as alice, open_ws(bob_jwt) as bob:
        for ws in (alice, bob):
            assert json.loads(ws.recv(timeout=5))["S"] == 1
        alice.send(json.dumps({"H": "directoryhub", "M": "watchme", "A": [], "I": 1}))
        frames = [json.loads(alice.recv(timeout=5)) for _ in range(2)]
        assert {"I": "1", "R": ALICE} in frames
        changed = http.put(f"/2017-09-01/users/{ALICE}", headers={"Authorization": f"Bearer {alice_jwt}"},
                           json={"name": "Alice Hub"})
        assert changed.status_code == 200, changed.text
        body = json.loads(alice.recv(timeout=5))
        while not body.get("M"):
            body = json.loads(alice.recv(timeout=5))
        assert body["M"] == [{"H": "directoryHub", "M": "userChanged", "A": [ALICE, "Alice Hub"]}]
        # bob monitors nothing: only keep-alives reach him
        with pytest.raises(TimeoutError):
            while True:
                assert json.loads(bob.recv(timeout=1.5)) == {}


def test_server_sent_events_through_the_apps_middleware(twin: tuple[httpx.Client, int]) -> None:
    http, _ = twin
    jwt = token(http, "alice@acme.example")
    who = {"sessionid": f"Bearer {jwt}", "clientProtocol": "1.5"}
    negotiated = http.get("/hubdemo/signalr/negotiate", params=who).json()
    params = {**who, "transport": "serverSentEvents", "connectionToken": negotiated["ConnectionToken"]}
    with http.stream("GET", "/hubdemo/signalr/connect", params=params) as stream:
        lines = (line[6:] for line in stream.iter_lines() if line.startswith("data: "))
        assert next(lines) == "initialized" and json.loads(next(lines))["S"] == 1
        with httpx.Client(base_url=str(http.base_url), timeout=10) as other:
            sent = other.post("/hubdemo/signalr/send", params=params,
                              data={"data": json.dumps({"H": "directoryHub", "M": "watchMe", "A": [], "I": 0})})
            assert sent.json() == {"I": "0", "R": ALICE}
            assert other.put(f"/2017-09-01/users/{ALICE}", headers={"Authorization": f"Bearer {jwt}"},
                             json={"name": "Alice SSE"}).status_code == 200
        for line in lines:
            body = json.loads(line)
            if body.get("M"):
                assert body["M"][0]["A"] == [ALICE, "Alice SSE"]
                break
