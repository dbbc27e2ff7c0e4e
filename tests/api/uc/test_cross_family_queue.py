"""Issue 15's second cross-family test: alice logs in to Support through the Distribution Group API; an
outside call to Support 5000 (the simulator) is delivered to her — the CloudLink Media API shows her endpoint
ringing — and the UC queue statistics show it waiting, then answered; the group call log and both
communication logs (hers and the UC view of the call) follow, and the CloudLink call records agree."""
from __future__ import annotations

from tests.api.uc.helpers import control

OUTSIDE = "+442071234567"


def test_a_queued_call_reaches_the_agent_who_logged_in_through_the_uc_api(client, ticket, openapi, alice,
                                                                           admin) -> None:
    uc = ticket("alice@acme.example", ("USER", "CALLS", "QUEUE_STATISTICS"))
    login = client.put("/api/distributiongroup/acme.example/alice/acme.example/5000/login", headers=uc)
    assert openapi.check(login).json()["group"][0]["loggedIn"] is True

    sim = control(client)
    sim.dial_in(OUTSIDE, "5000", fromName="Jane Doe")
    # The Media API shows alice's endpoint ringing with the queue's call.
    media = client.get("/2017-09-01/endpoints/2880/calls", headers=alice).json()["_embedded"]["items"]
    [ringing] = media
    assert ringing["state"] == "ringing" and ringing["from"] == OUTSIDE and ringing["direction"] == "inbound"
    stat = openapi.check(client.get("/api/queue/statistics/acme.example/5000", headers=uc)).json()
    assert stat["queueLength"] == 1 and stat["loggedInAgents"] == 1 and stat["totalCallsForPeriod"] == 1
    assert {"name": "Busy", "count": 1} in stat["current-agent-presence"]   # her phone rings with it

    sim.advance(3)
    answered = client.put(f"/2017-09-01/endpoints/2880/calls/{ringing['callId']}", json={"action": "answer"},
                          headers=alice)
    assert answered.status_code == 200, answered.text
    sim.advance(30)
    sim.phone(OUTSIDE, "hangup")

    stat = client.get("/api/queue/statistics/acme.example/5000", headers=uc).json()
    assert stat["queueLength"] == 0 and stat["answeredCallsForPeriod"] == 1 and stat["lastWait"] == 3
    [item] = client.get("/api/distributiongroup/acme.example/alice/5000/calllog", headers=uc).json()["callLogItem"]
    assert item["itemType"] == "ANSWERED" and item["callDuration"] == 30 and item["agent"]["number"] == "2880"
    [logged] = [i[".CallDTO"] for i in client.get("/api/commlog/acme.example/alice", headers=uc).json()["historyItems"]]
    assert logged["itemType"] == "INCOMING_CALL" and logged["remoteParty"]["number"] == OUTSIDE
    assert logged["duration"] == 30
    records = client.get("/2017-09-01/calls/records", headers=alice).json()["_embedded"]["items"]
    assert any(r["callId"] == ringing["callId"] and r["from"] == OUTSIDE for r in records)
