"""ACD/Attendant Group through a live server: the user's groups (v2 and the deprecated variants) with agents
and statistics, and agent login/logout by the user, for another agent by an administrator, and refused."""
from __future__ import annotations

from tests.api.uc.helpers import control, refused

DAVE_ID = "ac3e0000-0000-4000-8000-000000000200"


def test_groups_and_details(client, ticket, openapi) -> None:
    headers = ticket("alice@acme.example", ("USER",))
    groups = openapi.check(client.get("/api/v2/acd/acme.example/alice", headers=headers)).json()["groups"]
    [support] = groups
    assert support["id"] == 5000 and support["type"] == "ACD" and support["distributionType"] == "PRIORITY"
    assert {(a["firstName"], a["isLoggedIn"]) for a in support["agents"]} == {("Alice", False), ("Dave", False)}
    assert support["statistic"] == {"numberOfLoggedInAgents": 0, "numberOfFreeAgents": 0, "numberOfCallsInQueue": 0}
    bare = client.get("/api/v2/acd/acme.example/alice", params={"ignoreStatistics": "true", "ignoreAgents": "true"},
                      headers=headers).json()["groups"][0]
    assert "statistic" not in bare and bare["agents"] == []
    one = openapi.check(client.get("/api/v2/acd/acme.example/alice/acme.example/5000", headers=headers)).json()
    assert one == support
    old = openapi.check(client.get("/api/acd/acme.example/alice/acme.example/5000", headers=headers)).json()
    assert "distributionType" not in old and old["name"] == "Support"
    assert openapi.check(client.get("/api/acd/acme.example/alice", headers=headers)).json()["groups"][0]["id"] == 5000
    legacy = openapi.check(client.get("/api/acd/acme.example/alice/5000", headers=headers)).json()
    assert legacy["isLoggedIn"] is False and legacy["phoneNumber"] == "5000"
    assert {a["userId"] for a in legacy["agents"]} == {"alice", "dave"}
    refused(openapi.check(client.get("/api/v2/acd/acme.example/alice/acme.example/5100", headers=headers)), 404,
            "group.does.not.exist")
    refused(client.get("/api/v2/acd/acme.example/alice/globex.example/5000", headers=headers), 404,
            "group.does.not.exist")


def test_agent_login_variants(client, ticket, openapi) -> None:
    alice = ticket("alice@acme.example", ("USER",))
    done = openapi.check(client.post("/api/acd/acme.example/5000/agent/alice@acme.example",
                                     params={"action": "login"}, headers=alice))
    assert done.status_code == 200 and done.json() == "OK"
    assert client.get("/api/v2/acd/acme.example/alice", headers=alice).json()["groups"][0]["loggedIn"] is True
    legacy = openapi.check(client.post("/api/acd/acme.example/alice/5000/agent/alice", params={"action": "logout"},
                                       headers=alice)).json()
    assert legacy["isLoggedIn"] is False
    assert openapi.check(client.post("/api/acd/acme.example/alice/acme.example/5000/agent/alice",
                                     params={"action": "login"}, headers=alice)).json() == "OK"
    refused(openapi.check(client.post("/api/acd/acme.example/5000/agent/alice", params={"action": "dance"},
                                      headers=alice)), 400, "action.not.valid")
    # Another agent: only an administrator; dave's state is the simulator's.
    refused(client.post("/api/acd/acme.example/5000/agent/dave", params={"action": "login"}, headers=alice), 403,
            "access.denied")
    admin = ticket("admin@acme.example", ("USER",))
    assert client.post("/api/acd/acme.example/5000/agent/dave", params={"action": "login"},
                       headers=admin).json() == "OK"
    assert control(client).agent(DAVE_ID)["loggedIn"] is True
    refused(client.post("/api/acd/acme.example/5000/agent/bob", params={"action": "login"}, headers=admin), 404,
            "group.does.not.exist")
