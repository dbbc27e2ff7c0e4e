"""The request journal and the server log keep no one's secrets and show no one another account's traffic
(issue 13, finding 7), through HTTP and WebSocket against live servers."""
from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import httpx
import pytest

from tests.conftest import ACME, GLOBEX, OPERATOR_HEADERS, auth, token

B = "/2017-09-01"
J = "/_callyard/journal"


def journal(client: httpx.Client, headers: dict[str, str]) -> list[dict]:
    response = client.get(J, params={"limit": 2000}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["_embedded"]["items"]


def test_unauthenticated_requests_are_attributed_to_the_account_they_name(client: httpx.Client, admin) -> None:
    globex = auth(token(client, "admin@globex.example"))
    # Globex's user signs in with a wrong password, in the query string as careless clients do.
    failed = client.post(f"{B}/token", params={"password": "hunter2-wrong"}, headers={"x-mitel-correlation-id": "g-1"},
                         data={"grant_type": "password", "username": "erin@globex.example", "password": "nope"})
    assert failed.status_code in (400, 401), failed.text
    client.post(f"{B}/token", headers={"x-mitel-correlation-id": "a-1"},
                data={"grant_type": "password", "username": "alice@acme.example", "password": "callyard"})
    client.get(f"{B}/users", headers={"Authorization": "Bearer garbage", "x-mitel-correlation-id": "n-1"})
    client.post(f"{B}/token", headers={"x-mitel-correlation-id": "n-2"},
                data={"grant_type": "password", "username": "who@nowhere.example", "password": "x"})

    acme_view = {e["correlationId"]: e for e in journal(client, admin)}
    globex_view = {e["correlationId"]: e for e in journal(client, globex)}
    operator_view = {e["correlationId"]: e for e in journal(client, OPERATOR_HEADERS)}
    assert "g-1" in globex_view and "g-1" not in acme_view               # by the username's domain
    assert "a-1" in acme_view and "a-1" not in globex_view
    for nobodys in ("n-1", "n-2"):                                      # naming no account: the operator's only
        assert nobodys in operator_view and nobodys not in acme_view and nobodys not in globex_view
        assert operator_view[nobodys]["accountId"] is None
    assert globex_view["g-1"]["accountId"] == GLOBEX and acme_view["a-1"]["accountId"] == ACME
    assert all(e["accountId"] == ACME for e in acme_view.values())
    assert all(e["accountId"] == GLOBEX for e in globex_view.values())
    # The secret in the query string never reached the journal.
    assert globex_view["g-1"]["query"] == "password=REDACTED"
    assert "hunter2" not in str(operator_view)


def test_secrets_in_query_strings_are_redacted(client: httpx.Client, admin) -> None:
    client.get(f"{B}/users", headers={**admin, "x-mitel-correlation-id": "q-1"}, params={
        "$top": "5", "token": "tok-secret", "client_secret": "cs-secret", "refresh_token": "rt-secret",
        "code": "code-secret", "t": "t-secret", "sessionid": "sid-secret", "Authorization": "auth-secret",
        "password": "pw-secret"})
    [entry] = [e for e in journal(client, admin) if e["correlationId"] == "q-1"]
    assert "-secret" not in entry["query"], entry["query"]
    assert entry["query"].startswith("%24top=5&token=REDACTED") or entry["query"].startswith("$top=5&token=REDACTED")
    assert entry["query"].count("REDACTED") == 8


def test_the_audit_evidence_is_redacted_too(client: httpx.Client, admin) -> None:
    for _ in range(2):   # the same request after a 400: a retry of a non-retryable status, with evidence
        client.post(f"{B}/token", params={"client_secret": "cs-in-the-url"},
                    data={"grant_type": "password", "username": "alice@acme.example"})
    report = client.get("/_callyard/audit", headers=OPERATOR_HEADERS).json()
    assert "cs-in-the-url" not in str(report)
    assert "client_secret=REDACTED" in str(report)


def test_the_server_log_prints_no_websocket_token(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from websockets.sync.client import connect as ws_connect

    from tests.support.server_process import ServerProcess

    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(sys.path))
    server = ServerProcess(tmp_path / "log", data=tmp_path / "data", args=("--open-control", "--access-log"))
    server.command[server.command.index("--log-level") + 1] = "info"   # the access log on
    with server:
        with httpx.Client(base_url=server.url, timeout=10) as c:
            access = token(c, "alice@acme.example")
            c.get("/_callyard/health", params={"token": "http-secret-token"})
        with ws_connect(f"{server.url.replace('http', 'ws')}/_callyard/stream?token={access}&subscriptionId=none",
                        open_timeout=5) as ws:
            try:
                ws.recv(timeout=2)
            except Exception:   # closed with 4404 (no such subscription): the point is the log line
                pass
        deadline = time.monotonic() + 5
        while "WebSocket" not in server.output() and time.monotonic() < deadline:
            time.sleep(0.1)
    log = server.output()
    assert "WebSocket" in log and "/_callyard/health" in log, log[-2000:]
    assert access not in log and access[:40] not in log and "http-secret-token" not in log, log[-2000:]
    assert "token=REDACTED" in log


def test_the_journal_keeps_headers_and_bodies_with_credentials_redacted(client: httpx.Client, admin) -> None:
    signed = client.post(f"{B}/token", headers={"x-mitel-correlation-id": "b-1", "Cookie": "s=cookie-secret"},
                         data={"grant_type": "password", "username": "admin@acme.example", "password": "callyard"})
    issued = signed.json()
    client.get(f"{B}/users", headers={**admin, "x-mitel-correlation-id": "b-2"})
    entries = {e["correlationId"]: e for e in journal(client, OPERATOR_HEADERS)}
    sign_in, listed = entries["b-1"], entries["b-2"]
    assert sign_in["requestBody"].startswith("grant_type=password") and "password=REDACTED" in sign_in["requestBody"]
    assert "REDACTED" in sign_in["responseBody"] and '"expires_in"' in sign_in["responseBody"]
    assert dict(sign_in["requestHeaders"])["cookie"] == "REDACTED"
    assert dict(listed["requestHeaders"])["authorization"] == "Bearer REDACTED"
    assert "admin@acme.example" in listed["responseBody"]
    everything = str(entries)
    for secret in (issued["access_token"], issued["refresh_token"], admin["Authorization"].split()[1], "cookie-secret"):
        assert secret not in everything


@pytest.mark.parametrize("body,content_type,total,shown", [
    (b'{"access_token":"a.b.c","refresh_token": "r\\"q","expires_in":3600}', "application/json", 66,
     '{"access_token":"REDACTED","refresh_token": "REDACTED","expires_in":3600}'),
    (b'{"Signing-Secret":"s","client_secret":12,"name":"x"}', "application/json; charset=utf-8", 51,
     '{"Signing-Secret":"REDACTED","client_secret":"REDACTED","name":"x"}'),
    (b'{"token":"abcdef', "application/json", 9000, '{"token":"REDACTED" … (9000 bytes)'),   # cut short
    (b"grant_type=password&password=hunter2", "application/x-www-form-urlencoded", 36,
     "grant_type=password&password=REDACTED"),
    (b"\x89PNG\r\n", "image/png", 2048, "<2048 bytes of image/png>"),
    (b"", "application/json", 0, None),
])
def test_kept_bodies_are_shown_with_credentials_redacted(body: bytes, content_type: str, total: int,
                                                         shown: str | None) -> None:
    from callyard.api.common import redaction

    assert redaction.readable(redaction.Kept(body, content_type, total)) == shown
