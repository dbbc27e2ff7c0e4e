"""Distribution Group through a live server: the user's groups and login state, login/logout (the contact
center's agent state, seen by the CloudLink simulator), the group call log with aggregation, filters and
assignment, and the queue-statistics SSE stream read by a real SSE client (httpx-sse)."""
from __future__ import annotations

import threading
import xml.etree.ElementTree as ET

import httpx
from httpx_sse import connect_sse

from tests.api.uc.helpers import control, refused

BASE = "/api/distributiongroup/acme.example/alice"
OUTSIDE = "+442071234567"
NS = {"q": "urn:telepo:queue-statistics"}
ALICE_ID = "ac3e0000-0000-4000-8000-000000002880"


def test_groups_login_and_logout(client, ticket, openapi) -> None:
    headers = ticket("alice@acme.example", ("USER",))
    groups = openapi.check(client.get(BASE, headers=headers)).json()["group"]
    assert groups == [{"id": 5000, "domain": "acme.example", "name": "Support", "type": "ACD", "loggedIn": False,
                       "nightMode": False, "loggedInAgents": 0, "freeAgents": 0, "callsWaiting": 0}]
    logged_in = openapi.check(client.put(f"{BASE}/acme.example/5000/login", headers=headers)).json()["group"][0]
    assert logged_in["loggedIn"] and logged_in["loggedInAgents"] == 1 and logged_in["freeAgents"] == 1
    agent = control(client).agent(ALICE_ID)      # the same agent state the simulator shows
    assert agent["loggedIn"] and agent["ready"]
    logged_out = openapi.check(client.put(f"{BASE}/acme.example/5000/logout", headers=headers)).json()["group"][0]
    assert not logged_out["loggedIn"] and logged_out["loggedInAgents"] == 0
    refused(openapi.check(client.put(f"{BASE}/acme.example/5100/login", headers=headers)), 404,
            "group.does.not.exist")
    refused(client.put(f"{BASE}/globex.example/5000/login", headers=headers), 404, "group.does.not.exist")
    refused(client.get(BASE, headers=ticket("bob@acme.example", ("USER",))), 403, "access.denied")


def test_group_call_log_and_assignment(client, ticket, openapi) -> None:
    headers = ticket("alice@acme.example", ("USER",))
    sim = control(client)
    for _ in range(2):       # nobody logged in: two callers give up after 5 s
        sim.dial_in(OUTSIDE, "5000")
        sim.advance(5)
        sim.phone(OUTSIDE, "hangup")
    log = openapi.check(client.get(f"{BASE}/5000/calllog", headers=headers)).json()
    assert log["callCountMissed"] == 2 and log["hintCount"] == 1
    [item] = log["callLogItem"]
    assert item["itemType"] == "MISSED" and item["callCount"] == 2 and item["callerNumber"] == OUTSIDE
    assert item["queueDuration"] == 5 and item["handledStatus"]["state"] == "UNHANDLED"
    single = openapi.check(client.get(f"{BASE}/calllog", params={"callerNumber": OUTSIDE, "itemType": "MISSED"},
                                      headers=headers)).json()["callLogItem"]
    assert [i["callCount"] for i in single] == [1, 1]
    first = single[0]["itemId"]
    assigned = openapi.check(client.put(f"{BASE}/calllog/{first}",
                                        json={"state": "INPROGRESS", "note": "Wants to be called back on friday"},
                                        headers=headers)).json()
    assert assigned["handledStatus"]["state"] == "INPROGRESS" and assigned["noteIncluded"]
    assert assigned["handledStatus"]["agent"] == {"name": "Alice Anders", "number": "2880", "userId": ALICE_ID}
    mine = openapi.check(client.get(f"{BASE}/calllog/assigned", headers=headers)).json()["callLogItem"]
    assert [i["itemId"] for i in mine] == [first]
    assert openapi.check(client.get(f"{BASE}/5000/calllog/assigned", headers=headers)).json()["callLogItem"] == mine
    refused(openapi.check(client.put(f"{BASE}/calllog/{first}", json={"state": "DONE"}, headers=headers)), 400,
            "state.not.valid")
    refused(client.put(f"{BASE}/calllog/999999", json={"state": "HANDLED"}, headers=headers), 404,
            "item.does.not.exist")
    refused(client.get(f"{BASE}/calllog", params={"itemType": "LOST"}, headers=headers), 400,
            "item.type.not.valid")
    refused(client.get(f"{BASE}/5000/calllog", params={"groupDomain": "globex.example"}, headers=headers), 404,
            "group.does.not.exist")


def test_queue_statistics_stream(base_url, client, ticket) -> None:
    headers = ticket("alice@acme.example", ("USER",))
    documents: list[ET.Element] = []
    first = threading.Event()
    changed = threading.Event()

    def read() -> None:
        with httpx.Client(base_url=base_url, timeout=10) as http, connect_sse(
                http, "GET", f"{BASE}/queuestatistics/stream", headers=headers) as source:
            assert source.response.headers["content-type"].startswith("text/event-stream")
            for event in source.iter_sse():
                assert event.event == "application/telepo-queue-statistics+xml"
                documents.append(ET.fromstring(event.data))
                (first if len(documents) == 1 else changed).set()
                if len(documents) >= 2 and documents[-1].find("q:queue/q:queueLength", NS).text == "1":
                    return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert first.wait(5)
    [queue] = documents[0].findall("q:queue", NS)
    assert queue.get("name") == "Support" and queue.get("id") == "5000"
    assert queue.find("q:queueLength", NS).text == "0"
    control(client).dial_in(OUTSIDE, "5000")
    reader.join(5)
    assert not reader.is_alive()
    assert documents[-1].find("q:queue/q:queueLength", NS).text == "1"
    assert documents[-1].find("q:queue/q:totalCallsForPeriod", NS).text == "1"
