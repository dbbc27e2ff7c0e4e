"""A bare Starlette app serving a test hub through ``SignalRServer`` under uvicorn in a thread, and helpers.

The app also has ``/_test/...`` routes that run server-side calls (``push``, ``connections``,
``close_connections_of``) on the server's own event loop, as a family's projections would.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass
from typing import Any, AsyncIterator, Iterator

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from callyard.delivery.signalr import Hub, HubError, Options, SignalRServer, credential
from tests.conftest import free_port

BASE = "/miccsdk/signalr"
TOKENS = {"tok-alice": ("alice", "acme"), "tok-bob": ("bob", "acme"), "tok-erin": ("erin", "globex"),
          "tok-brief": ("dana", "acme")}
BRIEF_SECONDS = 1.5      # tok-brief expires this long after each request that presents it


@dataclass(frozen=True)
class User:
    principal_id: str
    tenant: str
    expires: float | None = None


def authenticate(connection: HTTPConnection) -> User | None:
    token = credential(connection) or ""
    if token == "tok-boom":
        raise RuntimeError("the family's token reader failed")
    found = TOKENS.get(token)
    if found is None:
        return None
    return User(*found, expires=time.time() + BRIEF_SECONDS if token == "tok-brief" else None)


class EchoHub(Hub):
    """A hub defined by the tests: echo/add, monitors (groups), state, errors and a server push."""

    async def echo(self, value: Any) -> Any:
        return value

    async def add(self, a: int, b: int) -> int:
        return a + b

    async def whoAmI(self) -> str:
        return self.context.principal.principal_id

    async def monitor(self, topic: str) -> list[str]:
        self.context.groups.add(topic)
        return list(self.context.groups)

    async def unmonitor(self, topic: str) -> list[str]:
        self.context.groups.discard(topic)
        return list(self.context.groups)

    async def count(self) -> int:
        self.context.state["count"] = int(self.context.state.get("count", 0)) + 1
        return self.context.state["count"]

    async def announce(self, topic: str, text: str) -> int:
        """Push ``announced(text, sender)`` to the monitors of ``topic`` in the caller's tenant only."""
        tenant = self.context.principal.tenant
        return self.context.server.push("testHub", "announced", [text, self.context.principal.principal_id],
                                        group=topic, where=lambda info: info.principal.tenant == tenant)

    async def ping_me(self, text: str) -> bool:
        self.context.caller("pinged", text)
        return True

    async def refuse(self) -> None:
        raise HubError("You may not do that.", {"code": 42})

    async def crash(self) -> None:
        raise RuntimeError("secret internal detail /etc/passwd")

    def not_a_hub_method(self) -> str:   # not async: not invokable
        return "no"


class OtherHub(Hub):
    async def hello(self) -> str:
        return "hello from other"


OPTIONS = Options(keep_alive=1.0, disconnect_timeout=3.0, connection_timeout=1.5, buffer_size=50,
                  sweep_interval=0.2)


def build_app(options: Options = OPTIONS) -> tuple[Starlette, SignalRServer]:
    server = SignalRServer(BASE, authenticate, {"testHub": EchoHub, "otherHub": OtherHub}, options=options,
                           expires=lambda user: user.expires)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await server.stop()

    async def push(request: Request) -> JSONResponse:
        body = await request.json()
        reached = [server.push(body["hub"], body["method"], body["args"], group=body.get("group"),
                               connection_ids=body.get("connection_ids")) for _ in range(body.get("repeat", 1))]
        return JSONResponse({"reached": reached[-1]} if len(reached) == 1 else {"reached": reached})

    async def connections(request: Request) -> JSONResponse:
        return JSONResponse([{"id": c.connection_id, "identity": c.identity, "transport": c.transport,
                              "protocol": c.protocol, "groups": sorted(c.groups), "started": c.started}
                             for c in server.connections()])

    async def revoke(request: Request) -> JSONResponse:
        identity = request.query_params["identity"]
        if request.query_params.get("as") == "principal":      # by the principal object, as a family may
            return JSONResponse({"closed": server.close_connections_of(User(identity, "acme"))})
        if request.query_params.get("as") == "predicate":
            return JSONResponse({"closed": server.close_connections_of(lambda info: info.identity == identity)})
        return JSONResponse({"closed": server.close_connections_of(identity)})

    async def drop(request: Request) -> JSONResponse:
        """Cut the transport a connection is on without ending the connection (a network failure): the
        client is expected to come back with /reconnect and its last cursor."""
        connection = server._connections.get(request.query_params["id"])
        if connection is None:
            return JSONResponse({"dropped": False}, 404)
        connection.detach(connection.attach("cut by the test"))
        return JSONResponse({"dropped": True})

    app = Starlette(routes=[server.route(),
                            Route("/_test/drop", drop, methods=["POST"]),
                            Route("/_test/push", push, methods=["POST"]),
                            Route("/_test/connections", connections),
                            Route("/_test/revoke", revoke, methods=["POST"])],
                    lifespan=lifespan)
    return app, server


class HubServer:
    def __init__(self) -> None:
        import threading

        self.app, self.signalr = build_app()
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(self.app, host="127.0.0.1", port=self.port,
                                                    log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 15
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the SignalR test server did not start")
            time.sleep(0.02)

    def close(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(scope="session")
def hub_server() -> Iterator[HubServer]:
    live = HubServer()
    yield live
    live.close()


@pytest.fixture
def http(hub_server: HubServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hub_server.url, timeout=15) as client:
        yield client
