"""Queue Statistics through a live server: the organisation's figures (administrator or Supervisor licence),
one group's (also its members), a user's supervised groups, the deprecated variants, and the refusals."""
from __future__ import annotations

from tests.api.uc.helpers import control, refused

KEYS = {"name", "domain", "number", "id", "queueLength", "availableAgents", "loggedInAgents", "longestWaiting",
        "lastWait", "averageWait", "droppedCallsForPeriod", "totalCallsForPeriod", "answeredCallsForPeriod",
        "totalCallsLast24h", "droppedCallsLast24h", "answeredCallsLast24h", "current-agent-presence"}
OUTSIDE = "+442071234567"


def test_organisation_and_group_statistics(client, ticket, openapi) -> None:
    admin = ticket("admin@acme.example", ("QUEUE_STATISTICS",))
    sim = control(client)
    sim.dial_in(OUTSIDE, "5000")
    sim.advance(8)
    sim.phone(OUTSIDE, "hangup")      # a dropped call
    sim.dial_in(OUTSIDE, "5000")
    sim.advance(2)
    queues = openapi.check(client.get("/api/queue/statistics/acme.example", headers=admin)).json()["queue"]
    assert [q["id"] for q in queues] == [5000, 5100] and set(queues[0]) == KEYS
    support = queues[0]
    assert support["queueLength"] == 1 and support["longestWaiting"] == 2
    assert support["droppedCallsForPeriod"] == 1 and support["totalCallsForPeriod"] == 2
    assert support["droppedCallsLast24h"] == 1 and support["totalCallsLast24h"] == 2
    assert openapi.check(client.get("/api/queuestatistics/acme.example", headers=admin)).json()["queue"] == queues
    one = openapi.check(client.get("/api/queue/statistics/acme.example/5000", headers=admin)).json()
    assert one == support
    refused(openapi.check(client.get("/api/queue/statistics/acme.example/4242", headers=admin)), 404,
            "group.does.not.exist")


def test_who_may_read(client, ticket, openapi) -> None:
    alice = ticket("alice@acme.example", ("QUEUE_STATISTICS",))
    refused(openapi.check(client.get("/api/queue/statistics/acme.example", headers=alice)), 403, "license.missing")
    assert client.get("/api/queue/statistics/acme.example/5000", headers=alice).status_code == 200   # a member
    refused(client.get("/api/queue/statistics/acme.example/5100", headers=alice), 403, "access.denied")
    mine = openapi.check(client.get("/api/queue/statistics/acme.example/user/alice", headers=alice)).json()
    assert [q["id"] for q in mine["queue"]] == [5000]
    legacy = openapi.check(client.get("/api/queuestatistics/acme.example/alice", headers=alice)).json()
    assert legacy == mine
    admin = ticket("admin@acme.example", ("QUEUE_STATISTICS",))
    assert [q["id"] for q in client.get("/api/queue/statistics/acme.example/user/admin",
                                        headers=admin).json()["queue"]] == [5000, 5100]
    refused(client.get("/api/queue/statistics/globex.example", headers=alice), 403, "access.denied")
    refused(client.get("/api/queue/statistics/acme.example/user/bob", headers=alice), 403, "access.denied")
    refused(client.get("/api/queue/statistics/acme.example/5000", headers=ticket("alice@acme.example", ("USER",))),
            403, "api.not.allowed")
