"""The audit end to end: a deliberately misbehaving client (plain httpx) against the live twin with injected
faults gets every finding; a client that follows seeds 001 and 002 gets a clean report; ``callyard audit``
prints the report and fails on findings."""
from __future__ import annotations

import json
import time
import uuid

import httpx

from callyard.cli.main import main as cli
from tests.conftest import PASSWORD

B = "/2017-09-01"
ALICE = "ac3e0000-0000-4000-8000-000000002880"


def header(flavor: str = "desktop") -> tuple[str, str]:
    session = str(uuid.uuid4())
    return session, f"auditee-{flavor}/2.1.0;platform=linux/6.1.0;session-id={session}"


def sign_in(client: httpx.Client, app: str, username: str = "alice@acme.example") -> dict:
    response = client.post(f"{B}/token", headers={"X-Mitel-App": app}, data={
        "grant_type": "password", "username": username, "password": PASSWORD})
    assert response.status_code == 201
    return response.json()


def findings(client: httpx.Client, admin: dict, session: str) -> dict[str, dict]:
    report = client.get("/_callyard/audit", params={"session": session}, headers=admin).json()
    assert report["count"] == 1
    return {f["rule"]: f for f in report["applications"][0]["findings"]}


def test_a_misbehaving_client_gets_every_finding(client: httpx.Client, admin) -> None:
    session, app = header("desktop")
    tokens = sign_in(client, app)
    h = {"X-Mitel-App": app, "Authorization": f"Bearer {tokens['access_token']}"}

    client.post("/_callyard/faults", headers=admin, json={"route": f"{B}/groups", "status": 503})
    for _ in range(7):                                   # hammering: too soon, and too many times
        assert client.get(f"{B}/groups", headers=h).status_code == 503
    client.delete("/_callyard/faults", headers=admin)
    for _ in range(2):                                   # a 404 will not get better
        assert client.get(f"{B}/users/nobody", headers=h).status_code == 404
    for _ in range(5):                                   # polling presence instead of subscribing
        assert client.get(f"{B}/presentities/{ALICE}", headers=h).status_code == 200
    webhook = client.post(f"{B}/subscriptions", headers=h, json={
        "applicationId": "3f1c0d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f", "deviceId": "http://127.0.0.1:9/hook",
        "transport": "webhook", "topic": "platform-api-presence"})
    assert webhook.status_code == 201                    # a desktop app on webhooks
    client.post("/_callyard/faults", headers=admin, json={"kind": "token.expire"})
    assert client.get(f"{B}/token", headers=h).status_code == 401
    assert client.get(f"{B}/conversations", headers=h).status_code == 401   # the dead token again
    admin_token = sign_in(client, "callyard-test/1;platform=linux/6;", "admin@acme.example")["access_token"]
    admin = {"Authorization": f"Bearer {admin_token}"}
    client.post("/_callyard/faults", headers=admin, json={"route": f"{B}/contacts", "status": 401})
    for _ in range(5):                                   # refresh after every 401, without an exit
        fresh = sign_in(client, app)
        h["Authorization"] = f"Bearer {fresh['access_token']}"
        assert client.get(f"{B}/contacts", headers=h).status_code == 401

    found = findings(client, admin, session)
    assert set(found) == {"retry-too-soon", "too-many-retries", "retry-not-retryable", "polling",
                          "webhook-from-client", "no-refresh-after-401", "refresh-loop"}
    too_soon = found["retry-too-soon"]
    assert too_soon["target"] == f"GET {B}/groups" and too_soon["seed"] == "002_992dd2f1eacf9d60.txt"
    assert "minimum of 2 seconds" in too_soon["quote"] and too_soon["fix"]
    assert all(e["correlationId"] and e["at"].endswith("Z") for e in too_soon["evidence"])
    assert found["retry-not-retryable"]["target"] == f"GET {B}/users/nobody"
    assert found["polling"]["target"] == f"GET {B}/presentities/{ALICE}"
    journal = client.get("/_callyard/journal", headers=admin).json()["_embedded"]["items"]
    assert too_soon["evidence"][0]["correlationId"] in {e["correlationId"] for e in journal}

    anonymous = httpx.get(f"{client.base_url}{B}/token", headers={"Authorization": h["Authorization"]})
    malformed = httpx.get(f"{client.base_url}{B}/token", headers={"Authorization": h["Authorization"],
                                                                 "X-Mitel-App": "Auditee/1.0"})
    assert anonymous.status_code == malformed.status_code == 200   # reported, not refused (no strict mode)
    report = client.get("/_callyard/audit", headers=admin).json()
    rules = {f["rule"] for a in report["applications"] for f in a["findings"]}
    assert {"app-header-missing", "app-header-malformed"} <= rules


def test_a_client_that_follows_the_rules_is_clean(client: httpx.Client, admin) -> None:
    session, app = header("server")
    tokens = sign_in(client, app, "admin@acme.example")
    h = {"X-Mitel-App": app, "Authorization": f"Bearer {tokens['access_token']}"}
    client.post("/_callyard/faults", headers=admin, json={"route": f"{B}/groups", "status": 503, "retryAfter": 1,
                                                          "count": 1})
    assert client.get(f"{B}/groups", headers=h).status_code == 503
    time.sleep(2.05)                                     # max(2 s, Retry-After)
    assert client.get(f"{B}/groups", headers=h).status_code == 200
    client.post("/_callyard/faults", headers=admin, json={"kind": "token.expire"})
    assert client.get(f"{B}/users", headers=h).status_code == 401
    admin = {"Authorization": f"Bearer {sign_in(client, app, 'admin@acme.example')['access_token']}"}
    refreshed = client.post(f"{B}/token", headers={"X-Mitel-App": app}, data={
        "grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]})
    h["Authorization"] = f"Bearer {refreshed.json()['access_token']}"
    assert client.get(f"{B}/users", headers=h).status_code == 200      # the failed call, retried once
    connection = client.post(f"{B}/connections", headers=h, json={"transport": "websocket"}).json()
    assert client.post(f"{B}/subscriptions", headers=h, json={
        "transport": "websocket", "connectionId": connection["connectionId"],
        "topic": "platform-api-presence"}).status_code == 201
    assert findings(client, admin, session) == {}

    # the CLI: clean for this session (exit 0), failing on the whole report of a misbehaving app (exit 1)
    server = ["--server", str(client.base_url)]
    assert cli(["audit", *server, "--session", session]) == 0
    client.get(f"{B}/users", headers={"Authorization": h["Authorization"]})   # no X-Mitel-App
    assert cli(["audit", *server]) == 1
    assert cli(["audit", *server, "--json", "--fail-on", "never"]) == 0


def test_each_account_sees_only_its_own_traffic(client: httpx.Client, admin) -> None:
    session, app = header("desktop")
    tokens = sign_in(client, app)
    client.get(f"{B}/users/nobody", headers={"X-Mitel-App": app, "Authorization": tokens["access_token"]})
    other_session, other_app = header("server")
    globex = {"Authorization": f"Bearer {sign_in(client, other_app, 'admin@globex.example')['access_token']}"}
    client.get(f"{B}/users", headers={"X-Mitel-App": other_app, **globex})

    acme_view = client.get("/_callyard/audit", headers=admin).json()["applications"]
    globex_view = client.get("/_callyard/audit", headers=globex).json()["applications"]
    assert {a["app"]["sessionId"] for a in acme_view} >= {session}
    assert other_session not in {a["app"]["sessionId"] for a in acme_view}
    # Globex sees its own application, nothing of Acme's (nor applications attributed to no account)
    assert {a["app"]["sessionId"] for a in globex_view} == {other_session}
    journal = client.get("/_callyard/journal", headers=globex).json()["_embedded"]["items"]
    assert {e["principal"]["accountId"] for e in journal if e["principal"]} == {"610be000-0000-4000-8000-0000000610be"}
    assert any(e["principal"] is None for e in journal)      # its sign-in, before any principal: by the username
    assert {e["accountId"] for e in journal} == {"610be000-0000-4000-8000-0000000610be"}


def test_pages_are_not_audited_prefixes_are_kept_and_unknown_sessions_are_errors(client: httpx.Client, admin,
                                                                                   capsys) -> None:
    """A browser opening the landing page and the docs is no CloudLink client; the evidence shows the path
    as sent (with its service prefix); two prefixes (here /admin and the root) are two requests, not a
    retry; and asking for a
    session the twin never saw is an error, not a clean report."""
    anonymous = {"user-agent": "a-browser/1.0"}
    for path in ("/", "/docs", "/docs/cloudlink", "/openapi.json", "/favicon.ico", "/docs/assets/swagger-ui.css"):
        assert client.get(path, headers=anonymous).status_code == 200, path
    report = client.get("/_callyard/audit", headers=admin).json()
    assert "a-browser" not in json.dumps(report), report

    session, app = header("server")
    h = {"X-Mitel-App": app, "Authorization": "Bearer " + sign_in(client, app, "admin@acme.example")["access_token"]}
    fault = client.post("/_callyard/faults", headers=admin, json={"route": f"{B}/accounts", "method": "GET",
                                                                  "status": 400, "count": 1})
    assert fault.status_code == 201
    assert client.get(f"/admin{B}/accounts", headers=h).status_code == 400        # not retryable …
    assert client.get(f"{B}/accounts", headers=h).status_code == 200   # … but another request (the root)
    assert "retry-not-retryable" not in findings(client, admin, session)
    client.get(f"/admin{B}/accounts", headers={"Authorization": h["Authorization"]})  # no X-Mitel-App
    report = client.get("/_callyard/audit", headers=admin).json()
    paths = [e["path"] for a in report["applications"] for f in a["findings"] if f["rule"] == "app-header-missing"
             for e in f["evidence"]]
    assert f"/admin{B}/accounts" in paths, paths

    unknown = str(uuid.uuid4())
    r = client.get("/_callyard/audit", params={"session": unknown}, headers=admin)
    assert r.status_code == 404 and r.json()["name"] == "SessionNotFound"
    capsys.readouterr()
    assert cli(["audit", "--server", str(client.base_url), "--session", unknown]) == 2
    assert unknown in capsys.readouterr().err
