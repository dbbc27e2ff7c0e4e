"""Routing (root, prefix, Host), cross-cutting headers, and the /_callyard control plane."""
from __future__ import annotations

import httpx
import pytest

from tests.conftest import ACME, ALICE, auth, start_server, token

VALID_APP = "callyard-tests/1.0.0;platform=linux/6.1;session-id=b49d5f6c-1d31-4816-9c77-3d991c335220"


@pytest.mark.parametrize("path,host", [
    ("/2017-09-01/token", None),
    ("/authentication/2017-09-01/token", None),
    ("/2017-09-01/token", "authentication.api.mitel.io"),
    ("/2017-09-01/token", "authentication.us.dev.api.mitel.io"),
])
def test_token_route_by_root_prefix_and_host(client, path, host):
    headers = {"Host": host} if host else {}
    r = client.post(path, data={"grant_type": "password", "username": "alice@acme.example", "password": "callyard"},
                    headers=headers)
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("path,host", [
    ("/2017-09-01/users", None), ("/admin/2017-09-01/users", None),
    ("/2017-09-01/users", "admin.api.mitel.io"), ("/2017-09-01/users", "admin.us-west-2.us.api.mitel.io"),
])
def test_admin_route_by_root_prefix_and_host(client, path, host):
    headers = {**auth(token(client, "admin@acme.example")), **({"Host": host} if host else {})}
    r = client.get(path, headers=headers)
    assert r.status_code == 200 and r.json()["count"] >= 5


def test_host_decides_between_services(client):
    # /token exists on the authentication service only: through the admin host it is not a route.
    r = client.post("/2017-09-01/token", data={"grant_type": "password"}, headers={"Host": "admin.api.mitel.io"})
    assert r.status_code in (404, 405) and "name" in r.json()


def test_unknown_route_and_method_use_the_error_envelope(client):
    r = client.get("/2017-09-01/nothing-here")
    assert r.status_code == 404 and r.json()["name"] == "UnregisteredRoute"
    r = client.delete("/2017-09-01/token")
    assert r.status_code == 405 and set(r.json()) >= {"name", "message"}


def test_correlation_id_echoed_or_generated(client):
    r = client.get("/_callyard/health", headers={"x-mitel-correlation-id": "abc-123"})
    assert r.headers["x-mitel-correlation-id"] == "abc-123"
    r = client.get("/2017-09-01/users")  # even on an error
    assert r.status_code == 401 and len(r.headers["x-mitel-correlation-id"]) == 36


def test_journal_records_requests_with_app_header_and_principal(client):
    admin = auth(token(client, "admin@acme.example"))
    client.get("/2017-09-01/users", headers={**admin, "X-Mitel-App": VALID_APP, "x-mitel-correlation-id": "j-1"})
    client.get("/2017-09-01/users", headers={**admin, "X-Mitel-App": "BadApp;platform=Win/10",
                                             "x-mitel-correlation-id": "j-2"})
    entries = {e["correlationId"]: e
               for e in client.get("/_callyard/journal", headers=admin).json()["_embedded"]["items"]}
    good, bad = entries["j-1"], entries["j-2"]
    assert good["status"] == 200 and good["method"] == "GET" and good["path"] == "/2017-09-01/users"
    assert good["appHeader"]["valid"] and good["appHeader"]["flavor"] == "tests" and good["appHeader"]["os"] == "linux"
    assert good["principal"]["accountId"] == ACME
    assert not bad["appHeader"]["valid"] and any("lower case" in p for p in bad["appHeader"]["problems"])


def test_control_plane_needs_an_admin_token(client):
    assert client.post("/_callyard/reset").status_code == 401
    alice = auth(token(client, "alice@acme.example"))
    assert client.post("/_callyard/reset", headers=alice).status_code == 403
    assert client.get("/_callyard/health").json()["status"] == "ok"


def test_reset_returns_to_the_baseline(client):
    admin = auth(token(client, "admin@acme.example"))
    client.post(f"/2017-09-01/accounts/{ACME}/users", json={"email": "zed@acme.example"}, headers=admin)
    client.delete(f"/2017-09-01/users/{ALICE}", headers=admin)
    assert client.post("/_callyard/reset", headers=admin).status_code == 200
    admin = auth(token(client, "admin@acme.example"))
    emails = {u["email"] for u in client.get("/2017-09-01/users", headers=admin).json()["_embedded"]["items"]}
    assert "zed@acme.example" not in emails and "alice@acme.example" in emails


def test_export_and_import_state(client):
    admin = auth(token(client, "admin@acme.example"))
    client.post(f"/2017-09-01/accounts/{ACME}/users", json={"email": "kept@acme.example", "password": "pw-123"},
                headers=admin)
    snapshot = client.get("/_callyard/state", headers=admin).json()
    assert snapshot["format"] == "callyard-state" and snapshot["version"] == 1
    assert all("passwordHash" not in u or u["passwordHash"].startswith("sealed:v1:")   # never in clear
               for u in snapshot["documents"]["user"])
    client.post("/_callyard/reset", headers=admin)
    admin = auth(token(client, "admin@acme.example"))
    r = client.post("/_callyard/state", json=snapshot, headers=admin)
    assert r.status_code == 200, r.text
    assert token(client, "kept@acme.example", "pw-123")
    for bad in ({"format": "other"}, {**snapshot, "version": 99}, {**snapshot, "documents": {"weird": []}}):
        r = client.post("/_callyard/state", json=bad, headers=admin)
        assert r.status_code == 400 and r.json()["name"] == "InvalidSnapshot"
    assert token(client, "kept@acme.example", "pw-123")  # a rejected import changed nothing


def test_clock_advance_requires_manual_clock():
    with start_server(open_control=True) as live, httpx.Client(base_url=live.url) as c:
        r = c.post("/_callyard/clock/advance", json={"seconds": 5})
        assert r.status_code == 400 and r.json()["name"] == "ClockNotManual"
        assert c.post("/_callyard/reset").status_code == 200  # --open-control: no token needed


def test_strict_app_header_rejects_malformed():
    with start_server(strict_app_header=True) as live, httpx.Client(base_url=live.url) as c:
        body = {"grant_type": "password", "username": "alice@acme.example", "password": "callyard"}
        r = c.post("/2017-09-01/token", data=body, headers={"X-Mitel-App": "Nope"})
        assert r.status_code == 400 and r.json()["name"] == "InvalidAppHeader"
        assert c.post("/2017-09-01/token", data=body, headers={"X-Mitel-App": VALID_APP}).status_code == 201


def test_rate_limit_per_token_answers_429_with_retry_after():
    with start_server(rate_limit=1.0, rate_burst=3) as live, httpx.Client(base_url=live.url) as c:
        alice = auth(token(c, "alice@acme.example"))
        bob = auth(token(c, "bob@acme.example"))
        statuses = [c.get("/2017-09-01/users", headers=alice) for _ in range(6)]
        limited = [r for r in statuses if r.status_code == 429]
        assert limited and int(limited[0].headers["retry-after"]) >= 1 and "message" in limited[0].json()
        assert c.get("/2017-09-01/users", headers=bob).status_code == 200  # per token
