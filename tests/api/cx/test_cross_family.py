"""One PBX, three façades: alice sets herself Available through the CX API; an outside caller (the control
plane's simulator) dials Support 5000; the contact center offers the call to her; the CloudLink Media API
shows her endpoint ringing; she accepts through the CX API and the Media API shows the call connected; she
ends it; after the queue's wrap-up (work timer) she is Available again. Each employee state change is one
``cc.employee.state`` event (what the employeeHub pushes), and the queue's numbers follow."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from callyard.core.directory.tenant import DEMO_TENANT
from tests.api.cx.conftest import ALICE, API, CALLER, LOGIN, SUPPORT, cx_token
from tests.conftest import auth, start_server, token
from tests.support.control import Control

WRAP_UP = 10


@pytest.fixture(scope="module")
def wrap_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A server whose Support queue has a 10 s wrap-up (the demo tenant's has none)."""
    tenant = json.loads(DEMO_TENANT.read_text())
    pending = list(tenant["accounts"])
    while pending:
        account = pending.pop()
        pending.extend(account.get("customers", []))
        for group in account.get("groups", []):
            if group.get("groupId") == SUPPORT:
                group["acd"]["wrapUpSeconds"] = WRAP_UP
        if account["name"] == "Globex":  # another tenant with a contact center of its own
            account["contactCenter"] = {
                "employees": [{"user": "erin@globex.example", "reporting": "1000", "role": "Supervisor",
                               "agents": {"Chat": {"reporting": "3100"}}},
                              {"user": "admin@globex.example", "reporting": "1001", "role": "Supervisor"}],
                "agentGroups": [{"name": "Help Agents", "media": ["Chat"], "members": ["erin@globex.example"]}],
                "queues": [{"name": "Globex Help", "mediaType": "Chat", "reporting": "7100",
                            "agentGroups": ["Help Agents"]}],
                "reasonCodes": [{"name": "Break", "type": "Busy"}],
                "clients": [{"clientId": "GlobexBoard", "secret": "globex-secret"}]}
    path: Path = tmp_path_factory.mktemp("tenant") / "tenant.json"
    path.write_text(json.dumps(tenant))
    with start_server(clock="manual", tenant_file=path) as live:
        yield live


def media_calls(http: httpx.Client, headers: dict[str, str], number: str) -> list[dict[str, Any]]:
    response = http.get(f"/2017-09-01/endpoints/{number}/calls", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["_embedded"]["items"])


def test_a_support_call_through_cx_and_the_media_api(wrap_server: Any) -> None:
    with httpx.Client(base_url=wrap_server.url, timeout=10) as http:
        admin = auth(token(http, "admin@acme.example"))
        control = Control(http, admin)
        control.reset()
        alice_cl = auth(token(http, "alice@acme.example"))  # CloudLink token: the Media API
        alice_cx = auth(cx_token(http, "alice"))             # CX token: the contact center
        start = _last_event(control)

        assert http.put(f"{API}/employees/me/state", headers=alice_cx, json=LOGIN).status_code == 200
        control.dial_in(CALLER, "5000")
        [ringing] = media_calls(http, alice_cl, "2880")
        assert (ringing["state"], ringing["from"]) == ("ringing", CALLER)
        [offer] = http.get(f"{API}/employees/me/conversations", headers=alice_cx).json()["_embedded"]["items"]
        assert offer["conversationState"] == "Offered" and offer["queueName"] == "Support"

        accepted = http.put(f"{API}/employees/me/conversations/{offer['conversationId']}", headers=alice_cx,
                            json={"conversationAction": "Accept"})
        assert accepted.status_code == 200, accepted.text
        [connected] = media_calls(http, alice_cl, "2880")
        assert connected["state"] == "connected"
        queue = http.get(f"{API}/queues/Support/state", headers=alice_cx).json()
        assert (queue["answeredConversationsToday"], queue["agentsOnAcdConversations"]) == (1, 1)

        ended = http.put(f"{API}/employees/me/conversations/{offer['conversationId']}", headers=alice_cx,
                         json={"conversationAction": "End"})
        assert ended.status_code == 200
        assert media_calls(http, alice_cl, "2880") == []
        state = http.get(f"{API}/employees/me/state", headers=alice_cx).json()["presence"]["aggregate"]
        assert (state["state"], state["acdState"]) == ("Busy", "WorkTimer")

        control.advance(WRAP_UP + 1)
        state = http.get(f"{API}/employees/me/state", headers=alice_cx).json()["presence"]["aggregate"]
        assert (state["state"], state["acdState"]) == ("Available", "Idle")

        pushed = [(e["data"]["presence"]["aggregate"]["state"], e["data"]["presence"]["aggregate"]["acdState"])
                  for e in _events_since(control, start, "cc.employee.state") if e["data"]["employeeId"] == ALICE]
        assert pushed == [("Available", "Idle"), ("Available", "Offered"), ("Available", "Acd"),
                          ("Busy", "WorkTimer"), ("Available", "Idle")]
        conversation_events = [e["type"] for e in _events_since(control, start, None)
                               if e["type"].startswith("cc.conversation")]
        assert conversation_events.count("cc.conversation.removed") >= 2  # from the queue, then her inbox


def _last_event(control: Control) -> int:
    after = 0
    while True:
        page = control.events(after=after, limit=2000)
        if not page["count"]:
            return after
        after = page["next"]


def _events_since(control: Control, start: int, type_: str | None) -> list[dict[str, Any]]:
    params: dict[str, Any] = {"after": start, "limit": 2000}
    if type_:
        params["type"] = type_
    return list(control.events(**params)["_embedded"]["items"])


def test_no_tenant_sees_another(wrap_server: Any) -> None:
    with httpx.Client(base_url=wrap_server.url, timeout=10) as http:
        Control(http, auth(token(http, "admin@acme.example"))).reset()
        erin = auth(cx_token(http, "erin"))
        supervisor = auth(cx_token(http, "admin@acme.example"))
        ambiguous = http.post("/AuthorizationServer/Token", data={"grant_type": "password", "username": "admin",
                                                                  "password": "callyard"})
        assert ambiguous.status_code == 400  # admin is an employee of both tenants: the full login is needed
        assert http.get("/AuthorizationServer/api/account", headers=auth(cx_token(
            http, "admin@globex.example"))).json()["userName"] == "admin"
        assert [q["name"] for q in http.get(f"{API}/queues", headers=erin).json()["_embedded"]["items"]] == [
            "Globex Help"]
        for path in (f"/queues/{SUPPORT}", "/queues/Support", f"/employees/{ALICE}", "/employees/alice",
                     "/reasoncodes/Lunch", "/agents/3001", "/agentgroups/Support Agents", "/extensions/2881"):
            assert http.get(f"{API}{path}", headers=erin).status_code == 404, path
        assert http.get(f"{API}/extensions/2880", headers=erin).json()["name"] == "Erin Ellis"  # Globex's own
        assert http.put(f"{API}/employees/alice/state", headers=erin, json=LOGIN).status_code == 404
        assert http.get(f"{API}/employees/erin", headers=supervisor).status_code == 404
        assert {e["username"] for e in http.get(f"{API}/employees", headers=supervisor).json()["_embedded"]["items"]
                } == {"admin", "alice", "dave", "carol"}
        Control(http, auth(token(http, "admin@acme.example"))).dial_in(CALLER, "5000")
        assert http.get(f"{API}/conversations", headers=erin).json()["count"] == 0
        assert http.get(f"{API}/conversations", headers=supervisor).json()["count"] == 1
        impersonate = http.post("/AuthorizationServer/Token", headers={"Impersonate": "alice"}, data={
            "grant_type": "client_credentials", "client_id": "GlobexBoard", "client_secret": "globex-secret"})
        assert impersonate.status_code == 400
        board = http.post("/AuthorizationServer/Token", data={
            "grant_type": "client_credentials", "client_id": "GlobexBoard", "client_secret": "globex-secret"})
        queues = http.get(f"{API}/queues/state", headers=auth(board.json()["access_token"])).json()
        assert [q["name"] for q in queues["_embedded"]["items"]] == ["Globex Help"]


def test_an_agent_logged_in_through_the_uc_api_is_the_cx_employee_state(wrap_server: Any) -> None:
    """One agent state: alice logs in to Support through the UC Distribution Group API and the CX SDK shows her
    Available in it; she goes Offline through the CX SDK and the UC API shows her logged out."""
    from tests.api.uc.conftest import bearer, create_ticket

    with httpx.Client(base_url=wrap_server.url, timeout=10) as http:
        admin = auth(token(http, "admin@acme.example"))
        Control(http, admin).reset()
        uc = bearer(create_ticket(http, "alice@acme.example", ("USER",)))
        alice_cx = auth(cx_token(http, "alice"))
        groups = "/api/distributiongroup/acme.example/alice"

        def uc_support() -> dict[str, Any]:
            [support] = [g for g in http.get(groups, headers=uc).json()["group"] if g["id"] == 5000]
            return support

        def cx_state() -> str:
            response = http.get(f"{API}/employees/me/state", headers=alice_cx)
            assert response.status_code == 200, response.text
            return json.dumps(response.json())

        assert uc_support()["loggedIn"] is False and '"Offline"' in cx_state()
        logged_in = http.put(f"{groups}/acme.example/5000/login", headers=uc)
        assert logged_in.status_code == 200, logged_in.text
        assert uc_support()["loggedIn"] is True
        assert '"Available"' in cx_state()
        support = http.get(f"{API}/queues/Support/state", headers=alice_cx).json()
        assert (support["agentsLoggedIn"], support["agentsAvailable"]) == (1, 1)
        offline = http.put(f"{API}/employees/me/state", headers=alice_cx, json={"state": "Offline"})
        assert offline.status_code == 200, offline.text
        assert uc_support()["loggedIn"] is False and '"Offline"' in cx_state()
