"""The CX family's authorization server: ``POST /AuthorizationServer/Token`` (any case) with the password,
client-credentials and impersonation grants, OAuth-form errors, ``GET /AuthorizationServer/api/account``, and
the separation of the families' tokens."""
from __future__ import annotations

import base64

import httpx
import pytest

from tests.api.cx.conftest import API, WALLBOARD, cx_token
from tests.conftest import auth, token


@pytest.mark.parametrize("path", ["/AuthorizationServer/Token", "/authorizationserver/token",
                                  "/AUTHORIZATIONSERVER/TOKEN"])
@pytest.mark.parametrize("username", ["alice", "alice@acme.example", "ALICE", "ACME\\alice"])
def test_password_grant_takes_the_login_or_its_local_part(client: httpx.Client, path: str, username: str) -> None:
    response = client.post(path, data={"grant_type": "password", "username": username, "password": "callyard"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600 and body["access_token"]
    assert response.headers["cache-control"] == "no-store"
    me = client.get(f"{API}/employees/me", headers=auth(body["access_token"]))
    assert me.json()["username"] == "alice"


@pytest.mark.parametrize(("form", "error"), [
    ({"grant_type": "password", "username": "alice", "password": "wrong"}, "invalid_grant"),
    ({"grant_type": "password", "username": "bob", "password": "callyard"}, "invalid_grant"),  # no employee
    ({"grant_type": "password", "username": "", "password": ""}, "invalid_grant"),
    ({"grant_type": "refresh_token", "refresh_token": "x"}, "unsupported_grant_type"),
    ({"username": "alice", "password": "callyard"}, "unsupported_grant_type"),
    ({"grant_type": "client_credentials", "client_id": "AcmeWallboard", "client_secret": "no"}, "invalid_client"),
    ({"grant_type": "client_credentials", "client_id": "Unknown", "client_secret": "x"}, "invalid_client"),
    ({"grant_type": "client_credentials"}, "invalid_client"),
])
def test_token_errors_are_oauth_form(client: httpx.Client, form: dict[str, str], error: str) -> None:
    response = client.post("/AuthorizationServer/Token", data=form)
    assert response.status_code == 400
    body = response.json()
    assert body["error"] == error and body["error_description"]


def test_a_json_body_is_not_a_token_request(client: httpx.Client) -> None:
    response = client.post("/AuthorizationServer/Token", json={"grant_type": "password"})
    assert response.status_code == 400 and response.json()["error"] == "invalid_request"


def test_client_credentials_in_the_form_or_basic(client: httpx.Client) -> None:
    form = client.post("/AuthorizationServer/Token", data={"grant_type": "client_credentials",
                                                          "client_id": WALLBOARD[0], "client_secret": WALLBOARD[1]})
    basic = client.post("/AuthorizationServer/Token", data={"grant_type": "client_credentials"},
                        headers={"Authorization": "Basic " + base64.b64encode(":".join(WALLBOARD).encode()).decode()})
    for response in (form, basic):
        assert response.status_code == 200, response.text
        account = client.get("/AuthorizationServer/api/account", headers=auth(response.json()["access_token"]))
        assert account.status_code == 200
        assert account.json()["userName"] == "AcmeWallboard" and account.json()["employeeId"] is None


def test_a_client_sees_everything_but_is_no_one(client: httpx.Client, wallboard: dict[str, str]) -> None:
    assert client.get(f"{API}/queues", headers=wallboard).json()["count"] == 5
    me = client.get(f"{API}/employees/me/state", headers=wallboard)
    assert me.status_code == 403 and me.json()["errorCode"] == "ThirdPartyDenied"
    change = client.put(f"{API}/employees/alice/state", headers=wallboard, json={"state": "Available"})
    assert change.status_code == 403


def test_impersonation_gives_the_employees_token(client: httpx.Client) -> None:
    response = client.post("/AuthorizationServer/Token", data={"grant_type": "client_credentials",
                                                               "client_id": WALLBOARD[0],
                                                               "client_secret": WALLBOARD[1]},
                           headers={"Impersonate": "dave"})
    assert response.status_code == 200, response.text
    headers = auth(response.json()["access_token"])
    account = client.get("/AuthorizationServer/api/account", headers=headers).json()
    assert account["userName"] == "dave" and account["isImpersonated"] is True
    assert client.get(f"{API}/employees/me", headers=headers).json()["username"] == "dave"
    unknown = client.post("/AuthorizationServer/Token", data={"grant_type": "client_credentials",
                                                              "client_id": WALLBOARD[0],
                                                              "client_secret": WALLBOARD[1]},
                          headers={"Impersonate": "erin"})  # another tenant's user
    assert unknown.status_code == 400 and unknown.json()["error"] == "invalid_grant"


def test_account_lists_the_callers_claims(client: httpx.Client) -> None:
    headers = auth(cx_token(client, "alice"))
    body = client.get("/authorizationserver/api/account", headers=headers).json()
    claims = {c["type"]: c["value"] for c in body["claims"]}
    assert claims["email"] == "alice@acme.example" and claims["securityRole"] == "Agent"
    assert body["userName"] == "alice" and body["securityRole"] == "Agent"


def test_the_families_tokens_do_not_cross(client: httpx.Client) -> None:
    cx = auth(cx_token(client, "alice"))
    cloudlink = auth(token(client, "alice@acme.example"))
    refused = client.get(f"{API}/employees/me", headers=cloudlink)
    assert refused.status_code == 401
    assert refused.json()["message"] == "Authorization has been denied for this request."
    assert refused.headers["www-authenticate"] == "Bearer"
    assert client.get("/2017-09-01/endpoints/2880", headers=cx).status_code == 401
    assert client.get("/AuthorizationServer/api/account", headers=cloudlink).status_code == 401


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer nonsense"}, {"Authorization": "Basic eDp5"}])
def test_no_valid_token_is_401(client: httpx.Client, headers: dict[str, str]) -> None:
    response = client.get(f"{API}/queues", headers=headers)
    assert response.status_code == 401
    assert set(response.json()) >= {"message", "errorCode"}
