"""Issue 18's web chat end to end through real interfaces: a customer starts a chat from the simulator, it
reaches carol (the demo tenant's Chat agent) and is pushed on her employeeHub (SignalR, ``signalr-async``),
the queueHub follows it, messages flow both ways (carol through CloudLink's Conversations API and the CX
SDK), completion ends it and its transcript is retrievable; and Globex, a tenant with a contact center of its
own, sees none of it through any route or hub."""
from __future__ import annotations

import asyncio
from typing import Any, Iterator

import httpx
import pytest

from tests.api.cx.conftest import API, CAROL, LOGIN, WEB_CHAT, cx_token
from tests.api.cx.test_cross_family import wrap_server  # noqa: F401 - the live twin (Globex has a contact center)
from tests.api.cx.test_hubs import aggregate, hubs
from tests.conftest import auth, token
from tests.delivery.signalr.test_python_clients import aiohttp_writer_send  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("aiohttp_writer_send")


@pytest.fixture
def http(wrap_server: Any) -> Iterator[httpx.Client]:  # noqa: F811
    with httpx.Client(base_url=wrap_server.url, timeout=10) as client:
        client.post("/_callyard/reset", headers=auth(token(client, "admin@acme.example"))).raise_for_status()
        yield client


async def test_a_web_chat_reaches_carol_on_her_employee_hub(wrap_server: Any, http: httpx.Client) -> None:  # noqa: F811
    url = wrap_server.url
    admin = auth(token(http, "admin@acme.example"))
    carol_cl, carol_cx = auth(token(http, "carol@acme.example")), cx_token(http, "carol")
    erin_cx = cx_token(http, "erin")                                  # Globex's supervisor
    async with hubs(url, carol_cx) as carol, hubs(url, cx_token(http, "admin@acme.example")) as boss, \
            hubs(url, erin_cx) as erin:
        await carol.employee.invoke("addSelfMonitor")
        await boss.queue.invoke("addConversationMonitor", [WEB_CHAT])
        await boss.queue.invoke("addStateMonitor", ["Web Chat"])
        await erin.employee.invoke("addSelfMonitor")
        await erin.queue.invoke("addConversationMonitor", ["Globex Help"])
        assert http.put(f"{API}/employees/me/state", headers=auth(carol_cx), json=LOGIN).status_code == 200
        await carol.until(lambda: bool(carol.of("employeeStateChanged")))

        started = http.post("/_callyard/sim/chats", headers=admin,
                            json={"name": "Zed Zero", "email": "zed@example.com", "text": "Where is my order?"})
        assert started.status_code == 201, started.text
        cid, cloudlink = started.json()["conversationId"], started.json()["cloudlinkConversationId"]
        await carol.until(lambda: bool(carol.of("employeeConversationChanged")))
        [offered] = carol.of("employeeConversationChanged")[0]
        assert (offered["conversationId"], offered["mediaType"], offered["conversationState"]) == (
            cid, "Chat", "Offered")
        assert offered["fromName"] == "Zed Zero" and offered["queueName"] == "Web Chat"
        await carol.until(lambda: aggregate(carol.of("employeeStateChanged")[-1]) == ("Available", "Offered"))
        await boss.until(lambda: any(c[0]["conversationId"] == cid for c in boss.of("queueConversationChanged")))
        await boss.until(lambda: any(q["waitingConversations"] == 1 for q in boss.of("queueStateChanged")))

        inbox = f"{API}/employees/me/conversations/{cid}"
        assert http.put(inbox, headers=auth(carol_cx), json={"conversationAction": "Accept"}).status_code == 200
        await carol.until(lambda: aggregate(carol.of("employeeStateChanged")[-1]) == ("Available", "Acd"))
        await boss.until(lambda: cid in sum(boss.of("queueConversationRemoved"), []))
        # messages both ways: carol through CloudLink, the customer through the simulator, carol through CX
        assert http.post(f"/2017-09-01/conversations/{cloudlink}/messages", headers=carol_cl,
                         json={"body": "It ships tomorrow."}).status_code == 201
        assert http.post(f"/_callyard/sim/chats/{cid}/messages", headers=admin,
                         json={"text": "Great, thanks"}).status_code == 200
        assert http.put(inbox, headers=auth(carol_cx), json={"conversationAction": "Send", "tags": [
            {"key": "body", "value": "You're welcome!"}]}).status_code == 200
        listed = http.get(f"/2017-09-01/conversations/{cloudlink}/messages", headers=carol_cl).json()
        assert [m["body"] for m in listed["_embedded"]["items"]] == [
            "Where is my order?", "It ships tomorrow.", "Great, thanks", "You're welcome!"]
        customer = http.get(f"/_callyard/sim/chats/{cid}", headers=admin).json()
        assert [m["senderName"] for m in customer["messages"]] == ["Zed Zero", "Carol Chen", "Zed Zero",
                                                                  "Carol Chen"]

        # what Globex's supervisor (and wallboard) may see of it: nothing
        erin_h = auth(erin_cx)
        assert http.get(f"{API}/conversations/{cid}", headers=erin_h).status_code == 404
        assert http.get(f"{API}/chat/cloudlink/{cid}/transcript/ready", headers=erin_h).status_code == 404
        assert http.get(f"{API}/chat/cloudlink/{cid}/transcript/{CAROL}", headers=erin_h).status_code == 404
        assert http.put(f"{API}/employees/{CAROL}/conversations/{cid}", headers=erin_h,
                        json={"conversationAction": "End"}).status_code == 404
        assert http.get(f"{API}/history/count", headers=erin_h).json() == 0
        assert http.get(f"{API}/cases", headers=erin_h).json()["count"] == 0
        assert http.get(f"/2017-09-01/conversations/{cloudlink}/messages",
                        headers=auth(token(http, "erin@globex.example"))).status_code == 404
        board = http.post("/AuthorizationServer/Token", data={"grant_type": "client_credentials",
                                                              "client_id": "GlobexBoard",
                                                              "client_secret": "globex-secret"}).json()
        globex_board = auth(board["access_token"])
        assert http.post(f"{API}/openmedia", headers=globex_board, json={"queue": "Open Media"}).status_code == 404
        assert http.get(f"{API}/openmedia/{cid}", headers=globex_board).status_code == 404

        assert http.put(inbox, headers=auth(carol_cx), json={"conversationAction": "End"}).status_code == 200
        await carol.until(lambda: cid in sum(carol.of("employeeConversationRemoved"), []))
        await carol.until(lambda: aggregate(carol.of("employeeStateChanged")[-1]) == ("Available", "Idle"))
        assert http.get(f"{API}/chat/cloudlink/{cid}/transcript/ready", headers=auth(carol_cx)).json() is True
        transcript = http.get(f"{API}/chat/cloudlink/{cid}/transcript/{CAROL}", headers=auth(carol_cx)).json()
        assert "Zed Zero: Where is my order?" in transcript["body"]
        assert "Carol Chen: You're welcome!" in transcript["body"]
        assert http.get(f"/_callyard/sim/chats/{cid}", headers=admin).json()["state"] == "Handled"
        await asyncio.sleep(0.3)
        assert erin.received == []
        assert [aggregate(s) for s in carol.of("employeeStateChanged")] == [
            ("Available", "Idle"), ("Available", "Offered"), ("Available", "Acd"), ("Available", "Idle")]
