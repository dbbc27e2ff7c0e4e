"""The CX SDK's SignalR hubs at ``/miccsdk/signalr`` from pytest with the ``signalr-async`` client
(WebSockets), against a live twin: issue 17's cross-family scenario as the hubs see it (alice Available in
Support through the CX API, an outside call to 5000 from the simulator offered to her, accepted, ended, wrap-up,
Available again: each state change pushed once), what each caller may monitor, and that no tenant hears
another's."""
from __future__ import annotations

import asyncio
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Callable, Iterator

import httpx
import pytest
from signalr_async.exceptions import ConnectionInitializationError
from signalr_async.net.client import SignalRClient
from signalr_async.net.hub import SignalRHub

from tests.api.cx.conftest import ALICE, ALICE_VOICE, API, CALLER, LOGIN, SUPPORT, WEB_CHAT, cx_token
from tests.api.cx.test_cross_family import WRAP_UP, media_calls, wrap_server  # noqa: F401 - the live twin
from tests.conftest import OPERATOR_HEADERS, auth, token
from tests.delivery.signalr.test_python_clients import aiohttp_writer_send  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("aiohttp_writer_send")

EMPLOYEE_EVENTS = ("employeeStateChanged", "employeeConversationChanged", "employeeConversationRemoved")
QUEUE_EVENTS = ("queueStateChanged", "queueConversationChanged", "queueConversationRemoved")


class Listener:
    """One SignalR connection of one caller, with the hubs Mitel's samples use, recording what arrives."""

    def __init__(self) -> None:
        self.received: list[tuple[str, str, Any]] = []
        self.changed = asyncio.Event()
        self.employee, self.agent, self.queue = SignalRHub("employeeHub"), SignalRHub("agentHub"), SignalRHub(
            "queueHub")
        for hub, methods in ((self.employee, EMPLOYEE_EVENTS), (self.agent, ("onAgentStateChanged",)),
                             (self.queue, QUEUE_EVENTS)):
            for method in methods:
                hub.on(method, self._recorder(hub.name, method))

    def _recorder(self, hub: str, method: str) -> Callable[..., Any]:
        async def record(*args: Any) -> None:
            self.received.append((hub, method, args[0] if len(args) == 1 else list(args)))
            self.changed.set()
        return record

    def of(self, method: str) -> list[Any]:
        return [argument for _hub, name, argument in self.received if name == method]

    async def until(self, check: Callable[[], bool], seconds: float = 5.0) -> None:
        deadline = asyncio.get_running_loop().time() + seconds
        while not check():
            self.changed.clear()
            left = deadline - asyncio.get_running_loop().time()
            assert left > 0, f"timed out; received {[(h, m) for h, m, _ in self.received]}"
            try:
                await asyncio.wait_for(self.changed.wait(), left)
            except asyncio.TimeoutError:
                pass


@asynccontextmanager
async def hubs(url: str, bearer: str) -> AsyncIterator[Listener]:
    listener = Listener()
    options = {"extra_params": {"sessionid": f"Bearer {bearer}"}}
    async with SignalRClient(url + "/miccsdk/signalr", [listener.employee, listener.agent, listener.queue], timeout=10,
                             keepalive_interval=5, connection_options=options):
        yield listener


def aggregate(state: dict[str, Any]) -> tuple[str, str]:
    presence = state["presence"]["aggregate"]
    return presence["state"], presence["acdState"]


@pytest.fixture
def http(wrap_server: Any) -> Iterator[httpx.Client]:  # noqa: F811
    with httpx.Client(base_url=wrap_server.url, timeout=10) as client:
        client.post("/_callyard/reset", headers=auth(token(client, "admin@acme.example"))).raise_for_status()
        yield client


async def test_a_support_call_as_the_hubs_push_it(wrap_server: Any, http: httpx.Client) -> None:  # noqa: F811
    url = wrap_server.url
    admin = auth(token(http, "admin@acme.example"))
    alice_cl, alice_cx = auth(token(http, "alice@acme.example")), cx_token(http, "alice")
    supervisor_cx, dave_cx, erin_cx = (cx_token(http, "admin@acme.example"), cx_token(http, "dave"),
                                       cx_token(http, "erin"))
    async with hubs(url, alice_cx) as alice, hubs(url, supervisor_cx) as boss, hubs(url, dave_cx) as dave, \
            hubs(url, erin_cx) as erin:
        assert await alice.employee.invoke("addSelfMonitor") is None
        assert await dave.employee.invoke("addSelfMonitor") is None
        await boss.queue.invoke("addStateMonitor", ["Support"])          # a name, as the REST id accepts
        await boss.queue.invoke("addConversationMonitor", [SUPPORT])
        await boss.agent.invoke("addStateMonitor", ["alice", "3002"])    # an employee's agents; dave's by reporting
        await dave.queue.invoke("addStateMonitor", ["5000"])              # the reporting number
        await erin.queue.invoke("addStateMonitor", ["Globex Help"])       # Globex's own queue
        await erin.employee.invoke("addSelfMonitor")
        with pytest.raises(Exception, match="not found"):
            await erin.queue.invoke("addStateMonitor", [SUPPORT])        # another tenant's queue: none for her

        assert http.put(f"{API}/employees/me/state", headers=auth(alice_cx), json=LOGIN).status_code == 200
        await alice.until(lambda: len(alice.of("employeeStateChanged")) == 1 and alice.of("onAgentStateChanged"))
        [logged_in] = alice.of("employeeStateChanged")
        assert logged_in["id"] == ALICE and aggregate(logged_in) == ("Available", "Idle")
        assert alice.of("onAgentStateChanged")[0]["id"] == ALICE_VOICE
        await boss.until(lambda: any(q["agentsLoggedIn"] == 1 for q in boss.of("queueStateChanged")))

        call = http.post("/_callyard/sim/calls", headers=admin, json={"from": CALLER, "to": "5000"})
        assert call.status_code == 201, call.text
        await alice.until(lambda: bool(alice.of("employeeConversationChanged")))
        [offered] = alice.of("employeeConversationChanged")[0]
        assert offered["conversationState"] == "Offered" and offered["queueName"] == "Support"
        assert offered["fromAddress"] == CALLER
        [ringing] = media_calls(http, alice_cl, "2880")
        assert ringing["state"] == "ringing"
        await boss.until(lambda: any(q["waitingConversations"] == 1 for q in boss.of("queueStateChanged")))
        await boss.until(lambda: bool(boss.of("queueConversationChanged")))
        assert boss.of("queueConversationChanged")[0][0]["conversationId"] == offered["conversationId"]

        conversation = f"{API}/employees/me/conversations/{offered['conversationId']}"
        accepted = http.put(conversation, headers=auth(alice_cx), json={"conversationAction": "Accept"})
        assert accepted.status_code == 200, accepted.text
        [connected] = media_calls(http, alice_cl, "2880")
        assert connected["state"] == "connected"
        await alice.until(lambda: aggregate(alice.of("employeeStateChanged")[-1]) == ("Available", "Acd"))
        await boss.until(lambda: offered["conversationId"] in sum(boss.of("queueConversationRemoved"), []))

        assert http.put(conversation, headers=auth(alice_cx), json={"conversationAction": "End"}).status_code == 200
        await alice.until(lambda: offered["conversationId"] in sum(alice.of("employeeConversationRemoved"), []))
        await alice.until(lambda: aggregate(alice.of("employeeStateChanged")[-1]) == ("Busy", "WorkTimer"))
        http.post("/_callyard/clock/advance", headers=OPERATOR_HEADERS,
                  json={"seconds": WRAP_UP + 1}).raise_for_status()
        await alice.until(lambda: aggregate(alice.of("employeeStateChanged")[-1]) == ("Available", "Idle"))
        await asyncio.sleep(1.0)   # nothing more, nothing twice

        assert [aggregate(s) for s in alice.of("employeeStateChanged")] == [
            ("Available", "Idle"), ("Available", "Offered"), ("Available", "Acd"), ("Busy", "WorkTimer"),
            ("Available", "Idle")]
        assert [s["currentState"] for s in alice.of("onAgentStateChanged")] == [
            "Idle", "Offered", "Acd", "WorkTimer", "Idle"]
        states = boss.of("queueStateChanged")
        assert all(s["id"] == SUPPORT for s in states)
        assert len({repr({k: v for k, v in s.items() if k != "timeOfLastReceivedUpdate"}) for s in states}) == len(
            states), "a queue state pushed twice"
        assert states[-1]["answeredConversationsToday"] == 1 and states[-1]["waitingConversations"] == 0
        assert not any(m.startswith("employee") for _h, m, _a in boss.received)  # the supervisor monitors no self
        # dave monitors himself and Support's state: alice's inbox and her state are not his
        assert not dave.of("employeeStateChanged") and not dave.of("employeeConversationChanged")
        assert not dave.of("onAgentStateChanged") and dave.of("queueStateChanged")
        # the supervisor's agentHub hears the agents it monitors (alice's changed), Globex's erin nothing at all
        assert [s["currentState"] for s in boss.of("onAgentStateChanged")] == [
            "Idle", "Offered", "Acd", "WorkTimer", "Idle"]
        assert erin.received == []


async def test_what_a_caller_may_monitor(wrap_server: Any, http: httpx.Client) -> None:  # noqa: F811
    url = wrap_server.url
    board = http.post("/AuthorizationServer/Token", data={"grant_type": "client_credentials",
                                                          "client_id": "AcmeWallboard",
                                                          "client_secret": "acme-wallboard-secret"})
    async with hubs(url, cx_token(http, "alice")) as alice, hubs(url, board.json()["access_token"]) as wallboard:
        with pytest.raises(Exception, match="not one of the caller's queues"):
            await alice.queue.invoke("addStateMonitor", [SUPPORT, WEB_CHAT])     # Web Chat is carol's, not hers
        with pytest.raises(Exception, match="not found"):
            await alice.queue.invoke("addConversationMonitor", ["No Such Queue"])
        with pytest.raises(Exception, match="ids must be an array"):
            await alice.queue.invoke("addStateMonitor", [{"id": SUPPORT}])
        with pytest.raises(Exception, match="error invoking Hub method"):
            await alice.queue.invoke("addStateMonitor")                           # no argument
        with pytest.raises(Exception, match="only their own"):
            await alice.agent.invoke("addStateMonitor", ["dave"])                 # another agent's state
        await alice.agent.invoke("addStateMonitor", ["me"])
        with pytest.raises(Exception, match="third party"):
            await wallboard.employee.invoke("addSelfMonitor")                     # a client is no employee
        await wallboard.queue.invoke("addStateMonitor", [SUPPORT, WEB_CHAT])     # a client sees every queue
        await wallboard.agent.invoke("addStateMonitor", ["carol", "3002"])       # carol's four agents, dave's
        async with hubs(url, cx_token(http, "carol")) as carol:
            await carol.agent.invoke("addStateMonitor", ["me"])                   # her own, all media
            assert http.put(f"{API}/employees/me/state", headers=auth(cx_token(http, "carol")),
                            json=LOGIN).status_code == 200
            await carol.until(lambda: len(carol.of("onAgentStateChanged")) == 4)
            assert {a["mediaType"] for a in carol.of("onAgentStateChanged")} == {"Chat", "Email", "Sms", "OpenMedia"}
        await wallboard.until(lambda: len(wallboard.of("onAgentStateChanged")) == 4)
        await alice.queue.invoke("addStateMonitor", SUPPORT)                     # one id alone is accepted
        await alice.queue.invoke("removeStateMonitor", [SUPPORT])
        dave = cx_token(http, "dave")
        assert http.put(f"{API}/employees/me/state", headers=auth(dave), json=LOGIN).status_code == 200
        await wallboard.until(lambda: bool(wallboard.of("queueStateChanged")))
        await wallboard.until(lambda: len(wallboard.of("onAgentStateChanged")) == 5)   # and dave's
        await asyncio.sleep(0.5)
        # the refused call changed nothing, the removed monitor hears nothing
        assert alice.received == []
        assert {s["id"] for s in wallboard.of("queueStateChanged")} == {SUPPORT, WEB_CHAT}   # not Email, SMS…
        assert len(wallboard.of("onAgentStateChanged")) == 5
        assert http.put(f"{API}/employees/me/state", headers=auth(dave), json={"state": "Offline"}).status_code == 200


async def test_only_the_familys_own_tokens_open_the_hubs(wrap_server: Any, http: httpx.Client) -> None:  # noqa: F811
    cloudlink = token(http, "alice@acme.example")
    for bearer in (cloudlink, "not-a-token", ""):
        client = SignalRClient(wrap_server.url + "/miccsdk/signalr", [SignalRHub("employeeHub")],
                               connection_options={"extra_params": {"sessionid": f"Bearer {bearer}"}})
        with pytest.raises(ConnectionInitializationError):
            await client._connection.start()
    params = {"sessionid": f"Bearer {cx_token(http, 'alice')}", "clientProtocol": "1.5"}
    for path in ("/miccsdk/signalr/negotiate", "/MiccSdk/SignalR/negotiate", "/miccsdk//signalr/negotiate"):
        negotiated = http.get(path, params=params)
        assert negotiated.status_code == 200 and negotiated.json()["ProtocolVersion"] == "1.5", path
    assert http.get("/miccsdk/signalr/negotiate", params={**params, "sessionid": f"Bearer {cloudlink}"}
                    ).status_code == 401
    assert http.get("/miccsdk/signalr/nothing", params=params).status_code == 404


def test_the_hubs_stop_with_the_twin() -> None:
    from urllib.parse import urlencode

    from websockets.sync.client import connect

    from tests.conftest import start_server

    with start_server() as live:
        hubs_server = live.app.state.twin.family_state["cx.signalr"].server
        with httpx.Client(base_url=live.url, timeout=10) as http:
            bearer = cx_token(http, "alice")
            who = {"sessionid": f"Bearer {bearer}", "clientProtocol": "1.5"}
            negotiated = http.get("/miccsdk/signalr/negotiate", params=who).json()
        query = urlencode({**who, "transport": "webSockets", "connectionToken": negotiated["ConnectionToken"]})
        ws = connect(f"{live.url.replace('http', 'ws')}/miccsdk/signalr/connect?{query}")
        assert '"S":1' in str(ws.recv(timeout=5))
        assert [c.connection_id for c in hubs_server.connections()] == [negotiated["ConnectionId"]]
    assert hubs_server.connections() == []      # the twin's stop ended them
    ws.close()


def test_signalr_client_threads_over_server_sent_events(wrap_server: Any, http: httpx.Client) -> None:  # noqa: F811
    """The other PyPI client (Server-Sent Events; it never calls /start): a Globex wallboard client monitors its
    own queue, is refused Acme's, and hears its own queue's change and nothing of Acme's."""
    import threading

    import requests
    from signalr import Connection as ThreadsConnection
    from signalr.transports._sse_transport import ServerSentEventsTransport

    board = http.post("/AuthorizationServer/Token", data={"grant_type": "client_credentials",
                                                          "client_id": "GlobexBoard", "client_secret": "globex-secret"})
    acme_board = http.post("/AuthorizationServer/Token", data={"grant_type": "client_credentials",
                                                               "client_id": "AcmeWallboard",
                                                               "client_secret": "acme-wallboard-secret"})
    with requests.Session() as session:
        connection = ThreadsConnection(wrap_server.url + "/miccsdk/signalr", session)
        connection.qs = {"sessionid": f"Bearer {board.json()['access_token']}"}
        connection._Connection__transport = ServerSentEventsTransport(session, connection)
        queue_hub, agent_hub = connection.register_hub("queueHub"), connection.register_hub("agentHub")
        heard: list[tuple[str, Any]] = []
        results: dict[str, Any] = {}
        arrived = threading.Event()

        def on(method: str) -> Callable[[Any], None]:
            def record(argument: Any) -> None:
                heard.append((method, argument))
                arrived.set()
            return record
        queue_hub.client.on("queueStateChanged", on("queueStateChanged"))
        agent_hub.client.on("onAgentStateChanged", on("onAgentStateChanged"))
        connection.received += lambda **message: results.update({message["I"]: message}) if "I" in message else None
        connection.start()
        try:
            queue_hub.server.invoke("addStateMonitor", ["Globex Help"])     # I = "0"
            queue_hub.server.invoke("addStateMonitor", [SUPPORT])           # I = "1": Acme's
            agent_hub.server.invoke("addStateMonitor", ["erin"])            # I = "2"
            assert "E" not in results["0"] and "E" not in results["2"], results
            assert results["1"]["H"] is True and results["1"]["D"]["statusCode"] == 404
            acme = auth(acme_board.json()["access_token"])
            assert http.get(f"{API}/queues/state", headers=acme).status_code == 200
            alice = auth(cx_token(http, "alice"))
            assert http.put(f"{API}/employees/me/state", headers=alice, json=LOGIN).status_code == 200
            erin = auth(cx_token(http, "erin"))
            assert http.put(f"{API}/employees/me/state", headers=erin, json=LOGIN).status_code == 200
            assert arrived.wait(5)
            deadline = time.monotonic() + 5
            while len({m for m, _ in heard}) < 2 and time.monotonic() < deadline:
                time.sleep(0.1)
            time.sleep(0.5)
            assert {m for m, _ in heard} == {"queueStateChanged", "onAgentStateChanged"}
            assert {a["name"] for m, a in heard if m == "queueStateChanged"} == {"Globex Help"}
            assert {a["lastName"] for m, a in heard if m == "onAgentStateChanged"} == {"Ellis"}
        finally:
            connection.close()
            http.put(f"{API}/employees/me/state", headers=auth(cx_token(http, "alice")), json={"state": "Offline"})
