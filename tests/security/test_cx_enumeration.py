"""Every route of the CX SDK family, enumerated from the application's route table, against the same
authorisation properties (the CloudLink and control-plane routes have theirs in test_enumeration.py):

* the family's OpenAPI lists exactly the routes it serves;
* no token, a garbage token, a tampered one, HTTP Basic credentials, a CloudLink token of the same user, and
  an expired CX token (the virtual clock moved past its ``exp``) → 401 in the family's envelope
  (``{message, errorCode}``) with ``WWW-Authenticate: Bearer``;
* another tenant's employee (Globex has a contact center of its own here) naming Acme's objects → 403 or
  404, and Acme's state is unchanged;
* an agent (alice) naming another employee (dave) on the employee routes → 403 (or 404), unchanged.
"""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from callyard.api.cx.openapi import document
from callyard.app import build_app
from callyard.config import Settings
from callyard.core.directory.tenant import DEMO_TENANT
from tests.conftest import OPERATOR_HEADERS, LiveServer, auth, start_server, token
from tests.security.test_enumeration import mounted

PREFIXES = ("/miccsdk/api/v1", "/authorizationserver")
PUBLIC = {("POST", "/authorizationserver/token"), ("GET", "/miccsdk/api/v1/openapi.json")}
ROUTES = sorted(r for r in mounted(build_app(Settings(ephemeral=True)))
                if r[1].startswith(PREFIXES) and r not in PUBLIC)
FILL = {"id": "alice", "groupid": "Support Agents", "conversationId": "nope", "actionName": "update",
        "fileToDelete": "x", "qid": "Support", "cid": "nope",
        # the other media (Cases, Chat's CloudLink transcripts)
        "monthYearCreated": "122026", "interactionId": "nope", "tagId": "x", "employeeId": "alice",
        # configuration and diagnostics
        "caseId": "x", "callId": "nope", "recordingId": "nope", "appname": "Ignite", "profilenameorid": "Default",
        "skipIfContained": "true",
        # e-mail
        "resourceId": "nope", "getEmailType": "Preview"}
ACME_FILL = {**FILL, "id": "Support"}


def cx_token(http: httpx.Client, username: str) -> str:
    response = http.post("/AuthorizationServer/Token", data={"grant_type": "password", "username": username,
                                                             "password": "callyard"})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


def fill(path: str, values: dict[str, str]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: values[m.group(1)], path)


def body_for(method: str, path: str) -> Any:
    if method not in ("PUT", "POST"):
        return None
    if path.endswith("/agentgrouppresence"):
        return []
    if path.endswith("/states") or path.endswith("/conversations") and method == "PUT":
        return [{"id": "alice", "state": "Available", "conversationAction": "End"}]
    return {"state": "Available", "availableReason": "Login", "conversationAction": "End", "name": "X",
            "type": "Voice", "to": "200", "isDefault": True, "base64String": "AAAA", "variables": [],
            "statuses": []}


class World:
    def __init__(self, live: LiveServer) -> None:
        self.live = live
        self.http = httpx.Client(base_url=live.url, timeout=10)
        admin = auth(token(self.http, "admin@acme.example"))
        assert self.http.post("/_callyard/reset", headers=admin).status_code == 200
        self.control = admin
        self.expired = auth(cx_token(self.http, "alice"))
        advance = self.http.post("/_callyard/clock/advance", headers=OPERATOR_HEADERS, json={"seconds": 3700})
        assert advance.status_code == 200, advance.text
        self.alice = auth(cx_token(self.http, "alice"))
        self.supervisor = auth(cx_token(self.http, "admin@acme.example"))
        self.erin = auth(cx_token(self.http, "erin"))
        self.cloudlink = auth(token(self.http, "alice@acme.example"))

    def acme_state(self) -> str:
        """What Acme's contact center looks like (employees' states, queues, directory) as its supervisor."""
        parts = []
        for path in ("/employees?$expand=state", "/queues", "/directory", "/agents/states"):
            response = self.http.get(f"/miccsdk/api/v1{path}", headers=self.supervisor)
            assert response.status_code == 200
            items = response.json()["_embedded"]["items"]
            for item in items:
                item.pop("_embedded", None) if path != "/employees?$expand=state" else None
            parts.append(json.dumps(items, sort_keys=True))
        return "\n".join(parts)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    tenant = json.loads(DEMO_TENANT.read_text())
    pending = list(tenant["accounts"])
    while pending:
        account = pending.pop()
        pending.extend(account.get("customers", []))
        if account["name"] == "Globex":
            account["contactCenter"] = {
                "employees": [{"user": "erin@globex.example", "reporting": "1000", "role": "Supervisor",
                               "agents": {"Voice": {"reporting": "3100"}}}],
                "agentGroups": [{"name": "Help", "media": ["Chat"], "members": ["erin@globex.example"]}],
                "queues": [{"name": "Help", "mediaType": "Chat", "reporting": "7100", "agentGroups": ["Help"]}]}
    path: Path = tmp_path_factory.mktemp("tenant") / "tenant.json"
    path.write_text(json.dumps(tenant))
    with start_server(clock="manual", tenant_file=path) as live:
        w = World(live)
        yield w
        w.http.close()


def test_the_document_lists_every_route() -> None:
    documented = {(m.upper(), p) for p, item in document()["paths"].items() for m in item}
    served = set(ROUTES) | {("POST", "/authorizationserver/token")}
    assert documented - {("GET", "/miccsdk/api/v1/openapi.json")} == served


def refused(response: httpx.Response, statuses: tuple[int, ...], what: str) -> dict[str, Any]:
    assert response.status_code in statuses, f"{what}: {response.status_code} {response.text[:300]}"
    body = response.json()
    assert isinstance(body.get("message"), str) and isinstance(body.get("errorCode"), str), body
    return dict(body)


@pytest.mark.parametrize("method,path", ROUTES, ids=[f"{m} {p}" for m, p in ROUTES])
def test_cx_route_authorisation(world: World, method: str, path: str) -> None:
    w = world
    url = fill(path, FILL)
    tampered = {"Authorization": w.alice["Authorization"][:-4] + "AAAA"}
    for headers, what in ((None, "no token"), ({"Authorization": "Bearer not-a-token"}, "garbage"),
                          (tampered, "tampered"), ({"Authorization": "Basic YWxpY2U6Y2FsbHlhcmQ="}, "basic"),
                          (w.cloudlink, "a CloudLink token"), (w.expired, "an expired token")):
        response = w.http.request(method, url, headers=headers, json=body_for(method, path))
        refused(response, (401,), what)
        assert response.headers.get("www-authenticate") == "Bearer"

    before = w.acme_state()
    if path.startswith("/miccsdk"):
        other = w.http.request(method, fill(path, ACME_FILL if "/queue" in path else FILL), headers=w.erin,
                               json=body_for(method, path))
        if path in ("/miccsdk/api/v1/employees/states",):
            refused(other, (403, 404), "Globex naming Acme's employees")
        elif "{" in path:
            refused(other, (400, 403, 404), "Globex naming an Acme object")
        else:
            assert other.status_code < 500
            assert "ac3e0000" not in other.text, f"Globex saw Acme's data: {other.text[:300]}"
    if path.startswith("/miccsdk/api/v1/employees/{id}"):
        other = w.http.request(method, fill(path, {**FILL, "id": "dave"}), headers=w.alice,
                               json=body_for(method, path))
        refused(other, (403, 404), "an agent naming another employee")
    assert w.acme_state() == before, f"{method} {path} changed Acme's state for a refused caller"
