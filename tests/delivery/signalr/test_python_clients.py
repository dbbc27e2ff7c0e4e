"""The PyPI clients of classic SignalR against the server: ``signalr-async`` (WebSockets; negotiate, connect,
``/start``, ``{}`` pings) and ``signalr-client-threads`` (Server-Sent Events; hubs registered before start).

signalr-async 3.0.0 (2022) sends through aiohttp's private ``WebSocketWriter.send``, which aiohttp 3.10 renamed
``send_frame``; the ``aiohttp_writer_send`` fixture restores the old name as an alias, nothing more."""
from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import httpx
import pytest
import requests
from signalr import Connection as ThreadsConnection
from signalr.transports._sse_transport import ServerSentEventsTransport
from signalr_async.exceptions import ConnectionInitializationError
from signalr_async.net.client import SignalRClient
from signalr_async.net.hub import SignalRHub

from tests.delivery.signalr.conftest import BASE, HubServer


@pytest.fixture
def aiohttp_writer_send(monkeypatch: pytest.MonkeyPatch) -> None:
    from aiohttp import WSMsgType
    from aiohttp._websocket.writer import WebSocketWriter

    if hasattr(WebSocketWriter, "send"):
        return

    async def send(self: WebSocketWriter, message: str | bytes, binary: bool = False,
                   compress: int | None = None) -> None:
        data = message.encode() if isinstance(message, str) else message
        await self.send_frame(data, WSMsgType.BINARY if binary else WSMsgType.TEXT, compress=compress)
    monkeypatch.setattr(WebSocketWriter, "send", send, raising=False)


@pytest.mark.usefixtures("aiohttp_writer_send")
async def test_signalr_async_over_websockets(hub_server: HubServer) -> None:
    received: asyncio.Queue[tuple[Any, ...]] = asyncio.Queue()
    hub = SignalRHub("testHub")

    async def announced(text: str, sender: str) -> None:
        await received.put((text, sender))
    hub.on("announced", announced)
    options = {"extra_params": {"sessionid": "Bearer tok-alice"}}
    async with SignalRClient(hub_server.url + BASE, [hub], timeout=10, keepalive_interval=1,
                             connection_options=options) as client:
        connection_id = client._connection.connection_id
        assert await hub.invoke("add", 2, 3) == 5
        assert await hub.invoke("echo", {"nested": [1, "two"]}) == {"nested": [1, "two"]}
        assert await hub.invoke("monitor", "py-async") == ["py-async"]
        with pytest.raises(Exception, match="You may not do that"):
            await hub.invoke("refuse")
        async with httpx.AsyncClient(base_url=hub_server.url) as http:
            listed = {c["id"]: c for c in (await http.get("/_test/connections")).json()}
            assert listed[connection_id]["transport"] == "webSockets" and listed[connection_id]["started"]
            assert listed[connection_id]["protocol"] == "1.5"
            pushed = await http.post("/_test/push", json={"hub": "testHub", "method": "announced",
                                                          "args": ["to python", "server"], "group": "py-async"})
            assert pushed.json() == {"reached": 1}
        assert await asyncio.wait_for(received.get(), 5) == ("to python", "server")
        await asyncio.sleep(2.5)          # its {} pings and the server's keep-alives keep the connection up
        assert await hub.invoke("add", 1, 1) == 2


@pytest.mark.usefixtures("aiohttp_writer_send")
async def test_signalr_async_is_refused_without_a_valid_credential(hub_server: HubServer) -> None:
    options = {"extra_params": {"sessionid": "Bearer wrong"}}
    client = SignalRClient(hub_server.url + BASE, [SignalRHub("testHub")], connection_options=options)
    with pytest.raises(ConnectionInitializationError):
        await client._connection.start()


def test_signalr_client_threads_over_server_sent_events(hub_server: HubServer) -> None:
    with requests.Session() as session:
        connection = ThreadsConnection(hub_server.url + BASE, session)
        connection.qs = {"sessionid": "Bearer tok-alice"}
        # negotiate offers WebSockets; this test pins the client's SSE transport
        connection._Connection__transport = ServerSentEventsTransport(session, connection)
        hub = connection.register_hub("testHub")
        announced: list[tuple[Any, ...]] = []
        results: dict[str, Any] = {}
        arrived = threading.Event()

        def on_announced(text: str, sender: str) -> None:
            announced.append((text, sender))
            arrived.set()

        def on_received(**message: Any) -> None:
            if "I" in message:
                results[message["I"]] = message
        hub.client.on("announced", on_announced)
        connection.received += on_received
        connection.start()
        try:
            hub.server.invoke("add", 20, 22)                 # I = "0"
            hub.server.invoke("monitor", "py-threads")       # I = "1"
            hub.server.invoke("nosuchmethod")                # I = "2"
            assert results["0"] == {"I": "0", "R": 42}
            assert results["1"] == {"I": "1", "R": ["py-threads"]}
            assert results["2"]["E"] == "There was an error invoking Hub method 'testHub.nosuchmethod'."
            pushed = session.post(hub_server.url + "/_test/push", json={
                "hub": "testHub", "method": "announced", "args": ["over sse", "server"], "group": "py-threads"})
            assert pushed.json() == {"reached": 1}
            assert arrived.wait(5) and announced == [("over sse", "server")]
            listed = {c["id"]: c for c in session.get(hub_server.url + "/_test/connections").json()}
            assert listed[connection.id]["transport"] == "serverSentEvents"
        finally:
            connection.close()
        time.sleep(0.2)
        listed = {c["id"] for c in requests.get(hub_server.url + "/_test/connections").json()}
        assert connection.id not in listed            # close() sent /abort
