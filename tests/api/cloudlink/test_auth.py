"""CloudLink Authentication API through HTTP: every grant and its error paths, discovery, JWKS."""
from __future__ import annotations

import base64
import hashlib

import jwt
import pytest

from tests.conftest import ACME, ALICE, APP_ID, APP_SECRET, GLOBEX, PARTNER, auth, token, OPERATOR_HEADERS

T = "/2017-09-01/token"


def test_password_grant_form_returns_201_token(client):
    r = client.post(T, data={"grant_type": "password", "username": "alice@acme.example", "password": "callyard"})
    assert r.status_code == 201
    body = r.json()
    assert body["token_type"] == "bearer" and body["scope"] == "read write"
    assert isinstance(body["expires_in"], int) and body["expires_in"] == 3600
    assert body["access_token"] != body["refresh_token"]


def test_password_grant_json_and_capitalised_grant(client):
    r = client.post(T, json={"grant_type": "Password", "username": "ALICE@acme.example", "password": "callyard"})
    assert r.status_code == 201, r.text


@pytest.mark.parametrize("username", ["ac3e0000-0000-4000-8000-000000002880", "+16135550101"])
def test_password_grant_matches_user_id_and_mobile(client, username):
    access = token(client, username)
    claims = client.get(T, headers=auth(access)).json()
    assert claims["userId"] == ALICE


def test_wrong_password_is_401_invalid_login(client):
    r = client.post(T, data={"grant_type": "password", "username": "alice@acme.example", "password": "nope"})
    assert r.status_code == 401 and r.json()["name"] == "InvalidLoginCredentials"


def test_missing_and_unknown_grant(client):
    r = client.post(T, data={"username": "x"})
    assert r.status_code == 400 and r.json()["name"] == "MissingParameters"
    r = client.post(T, data={"grant_type": "magic"})
    assert r.status_code == 400 and r.json()["name"] == "InvalidGrantType"
    r = client.post(T, content=b"{not json", headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["name"] == "MalformedJSON"


def test_same_login_in_two_accounts_is_409_then_account_id_selects(client):
    admin = auth(token(client, "admin@globex.example"))
    created = client.post(f"/2017-09-01/accounts/{GLOBEX}/users",
                          json={"email": "alice@acme.example", "password": "callyard"}, headers=admin)
    assert created.status_code == 201, created.text
    r = client.post(T, data={"grant_type": "password", "username": "alice@acme.example", "password": "callyard"})
    assert r.status_code == 409
    assert r.json()["name"] == "MultipleMatching" and sorted(r.json()["labels"]) == ["Acme", "Globex"]
    for account_ref, expected in ((GLOBEX, GLOBEX), ("858000055", ACME)):  # accountId or accountNumber
        access = token(client, "alice@acme.example", account_id=account_ref)
        assert client.get(T, headers=auth(access)).json()["accountId"] == expected


def test_get_token_claims_shape(client):
    access = token(client, "alice@acme.example")
    claims = client.get(T, headers={"Authorization": access}).json()  # raw token, as Mitel's samples send it
    assert claims["principalId"] == ALICE and claims["accountId"] == ACME and claims["role"] == "USER"
    assert isinstance(claims["exp"], str) and isinstance(claims["iat"], str)
    assert claims["emailVerified"] in ("true", "false") and claims["integrationLatency"] == 0
    assert claims["extension"] == "2880"
    r = client.get(T)
    assert r.status_code == 400 and r.json()["name"] == "MissingAuthToken"


def test_refresh_grant_and_deprecated_token_field(client):
    first = client.post(T, data={"grant_type": "password", "username": "bob@acme.example",
                                 "password": "callyard"}).json()
    current = first["refresh_token"]
    for field in ("refresh_token", "token"):   # each use rotates: the next use takes the new refresh token
        r = client.post(T, json={"grant_type": "refresh_token", field: current})
        assert r.status_code == 201, r.text
        assert client.get(T, headers=auth(r.json()["access_token"])).json()["email"] == "bob@acme.example"
        current = r.json()["refresh_token"]
    r = client.post(T, json={"grant_type": "refresh_token", "refresh_token": first["access_token"]})
    assert r.status_code == 401  # an access token is not a refresh token


def test_refresh_fails_for_deleted_user(client):
    first = client.post(T, data={"grant_type": "password", "username": "bob@acme.example",
                                 "password": "callyard"}).json()
    admin = auth(token(client, "admin@acme.example"))
    assert client.delete(f"/2017-09-01/users/{'ac3e0000-0000-4000-8000-000000002881'}",
                         headers=admin).status_code == 200
    r = client.post(T, json={"grant_type": "refresh_token", "refresh_token": first["refresh_token"]})
    assert r.status_code == 403 and r.json()["name"] == "UserNotActive"


def test_expired_access_token_is_401_on_the_server_clock(client):
    access = token(client, "alice@acme.example")
    assert client.get("/2017-09-01/users", headers=auth(access)).status_code == 200
    assert client.post("/_callyard/clock/advance", json={"seconds": 3601}, headers=OPERATOR_HEADERS).status_code == 200
    r = client.get("/2017-09-01/users", headers=auth(access))
    assert r.status_code == 401 and r.json()["name"] == "TokenExpired"


def test_account_override_of_access_lifetime(client):
    admin = auth(token(client, "admin@acme.example"))
    r = client.put(f"/2017-09-01/accounts/{ACME}", json={"accessTokenExpiryHours": 2}, headers=admin)
    assert r.status_code == 200, r.text
    r = client.post(T, data={"grant_type": "password", "username": "alice@acme.example", "password": "callyard"})
    assert r.json()["expires_in"] == 7200


def test_client_credentials_body_and_basic(client):
    r = client.post(T, data={"grant_type": "client_credentials", "client_id": APP_ID, "client_secret": APP_SECRET})
    assert r.status_code == 201, r.text
    claims = client.get(T, headers=auth(r.json()["access_token"])).json()
    assert claims["principalId"] == APP_ID and claims["accountId"] == ACME and claims["role"] == "ACCOUNT_ADMIN"
    basic = base64.b64encode(f"{APP_ID}:{APP_SECRET}".encode()).decode()
    r = client.post(T, data={"grant_type": "client_credentials"}, headers={"Authorization": f"Basic {basic}"})
    assert r.status_code == 201
    r = client.post(T, data={"grant_type": "client_credentials", "client_id": APP_ID, "client_secret": "bad"})
    assert r.status_code == 401 and r.json()["name"] == "ClientSecretMismatch"
    r = client.post(T, data={"grant_type": "client_credentials", "client_id": "nope", "client_secret": "x"})
    assert r.status_code == 404 and r.json()["name"] == "ClientNotFound"


def test_client_credentials_anonymous_user_token(client):
    r = client.post(T, json={"grant_type": "client_credentials", "client_id": APP_ID, "client_secret": APP_SECRET,
                             "name": "Web Visitor", "email": "visitor@example.org", "role": "USER"})
    assert r.status_code == 201, r.text
    claims = client.get(T, headers=auth(r.json()["access_token"])).json()
    assert claims["name"] == "Web Visitor" and claims["role"] == "USER" and claims["principalId"] != APP_ID
    r = client.post(T, json={"grant_type": "client_credentials", "client_id": APP_ID, "client_secret": APP_SECRET,
                             "email": "alice@acme.example"})
    assert r.status_code == 400 and r.json()["name"] == "InvalidPrincipals"
    r = client.post(T, json={"grant_type": "client_credentials", "client_id": APP_ID, "client_secret": APP_SECRET,
                             "name": "x", "role": "PARTNER_ADMIN"})
    assert r.status_code == 400


def _authorize(client, **extra):
    data = {"client_id": APP_ID, "response_type": "code", "username": "alice@acme.example", "password": "callyard",
            "redirect_uri": "http://localhost:3000/callback", **extra}
    return client.post("/2017-09-01/authorize", data=data)


@pytest.mark.parametrize("method", ["S256", "plain"])
def test_authorization_code_with_pkce(client, method):
    verifier = "a-verifier-that-is-long-enough-to-be-realistic-0123456789"
    challenge = (base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
                 if method == "S256" else verifier)
    r = _authorize(client, code_challenge=challenge, code_challenge_method=method)
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    bad = client.post(T, data={"grant_type": "authorization_code", "client_id": APP_ID, "code": code,
                               "redirect_uri": "http://localhost:3000/callback", "code_verifier": "wrong"})
    assert bad.status_code == 401 and bad.json()["name"] == "InvalidVerifier"
    # a code is single-use: the failed exchange consumed it
    r = _authorize(client, code_challenge=challenge, code_challenge_method=method)
    ok = client.post(T, json={"grant_type": "authorization_code", "client_id": APP_ID, "code": r.json()["code"],
                              "redirect_uri": "http://localhost:3000/callback", "code_verifier": verifier})
    assert ok.status_code == 201, ok.text
    assert client.get(T, headers=auth(ok.json()["access_token"])).json()["clientId"] == APP_ID
    again = client.post(T, json={"grant_type": "authorization_code", "client_id": APP_ID, "code": r.json()["code"],
                                 "redirect_uri": "http://localhost:3000/callback", "code_verifier": verifier})
    assert again.status_code == 401


def test_authorize_checks_redirect_uri_and_client(client):
    r = _authorize(client, redirect_uri="https://evil.example/cb")
    assert r.status_code == 403 and r.json()["name"] == "InvalidRedirectUri"
    r = _authorize(client, client_id="unknown-client")
    assert r.status_code == 403 and r.json()["name"] == "InvalidClient"
    r = _authorize(client, password="wrong")
    assert r.status_code == 401
    r = client.post("/2017-09-01/authorize", data={"client_id": APP_ID})
    assert r.status_code == 400 and r.json()["error"] == "invalid_request"
    # Globex users cannot use an application that is not enabled on Globex
    r = _authorize(client, username="erin@globex.example")
    assert r.status_code == 403 and r.json()["name"] == "InvalidClient"


def test_authorization_codes_expire(client):
    code = _authorize(client).json()["code"]
    client.post("/_callyard/clock/advance", json={"seconds": 601}, headers=OPERATOR_HEADERS)
    r = client.post(T, data={"grant_type": "authorization_code", "client_id": APP_ID, "code": code,
                             "redirect_uri": "http://localhost:3000/callback"})
    assert r.status_code == 401


def test_token_exchange_answers_501(client):
    r = client.post(T, data={"grant_type": "urn:ietf:params:oauth:grant-type:token-exchange"})
    assert r.status_code == 501 and r.json()["name"] == "NotImplemented"


def test_assume_role(client):
    partner = auth(token(client, "partner@callyard.example"))
    r = client.post("/2017-09-01/assume-role/token", json={"role": "ACCOUNT_ADMIN", "accountId": ACME}, headers=partner)
    assert r.status_code == 201, r.text
    claims = client.get(T, headers=auth(r.json()["access_token"])).json()
    assert claims["accountId"] == ACME and claims["role"] == "ACCOUNT_ADMIN" and claims["originalAccountId"] == PARTNER
    alice = auth(token(client, "alice@acme.example"))
    r = client.post("/2017-09-01/assume-role/token", json={"role": "ACCOUNT_ADMIN"}, headers=alice)
    assert r.status_code == 400 and r.json()["name"] == "AssumeRoleHigh"
    r = client.post("/2017-09-01/assume-role/token", json={"role": "KING"}, headers=alice)
    assert r.status_code == 400 and r.json()["name"] == "InvalidRole"
    acme_admin = auth(token(client, "admin@acme.example"))
    r = client.post("/2017-09-01/assume-role/token", json={"role": "USER", "accountId": GLOBEX}, headers=acme_admin)
    assert r.status_code == 403 and r.json()["name"] == "ImpersonationNotAllowed"


def test_guest_token_needs_the_account_policy(client):
    r = client.post("/2017-09-01/guest/token", data={"accountId": ACME, "name": "Guest"})
    assert r.status_code == 403 and r.json()["name"] == "NotAllowed"
    admin = auth(token(client, "admin@acme.example"))
    client.put(f"/2017-09-01/accounts/{ACME}", json={"policy": {"allowGuestAccess": True}}, headers=admin)
    r = client.post("/2017-09-01/guest/token", data={"accountId": ACME, "name": "Guest", "guestEmail": "g@example.org"})
    assert r.status_code == 201, r.text
    claims = client.get(T, headers=auth(r.json()["access_token"])).json()
    assert claims["role"] == "GUEST" and claims["name"] == "Guest"
    r = client.post("/2017-09-01/guest/token", data={"accountId": ACME})
    assert r.status_code == 400 and r.json()["name"] == "NameInvalid"


def test_discovery_and_jwks_verify_a_token(client):
    meta = client.get("/2017-09-01/.well-known/openid-configuration")
    assert meta.status_code == 200
    doc = meta.json()
    assert doc["code_challenge_methods_supported"] == ["plain", "S256"]
    assert client.get("/2017-09-01/.well-known/oauth-authorization-server").json()["issuer"] == doc["issuer"]
    jwks = client.get(f"/2017-09-01/accounts/{ACME}/.well-known/jwks.json").json()
    access = token(client, "alice@acme.example")
    key = jwt.PyJWKSet.from_dict(jwks)[jwt.get_unverified_header(access)["kid"]]
    claims = jwt.decode(access, key.key, algorithms=["RS256"], options={"verify_exp": False, "verify_iat": False})
    assert claims["principalId"] == ALICE and claims["iss"] == doc["issuer"]
    with pytest.raises(jwt.InvalidSignatureError):
        jwt.decode(access[:-4] + ("AAAA" if not access.endswith("AAAA") else "BBBB"), key.key, algorithms=["RS256"],
                   options={"verify_exp": False, "verify_iat": False})


def test_application_registration_and_enable_flow(client):
    partner = auth(token(client, "partner@callyard.example"))
    r = client.post("/2017-09-01/applications", json={"name": "Router", "description": "call routing"}, headers=partner)
    assert r.status_code == 201, r.text
    app_id, secret = r.json()["applicationId"], r.json()["clientSecret"]
    # enable on Globex with redirect URIs (seed 002 "PUT Enable Application")
    r = client.put(f"/2017-09-01/applications/{app_id}", json={"accountId": GLOBEX, "name": "Globex Router",
                   "active": True, "redirectUris": ["https://router.example/cb"]}, headers=partner)
    assert r.status_code == 200, r.text
    assert r.json()["accountId"] == GLOBEX and r.json()["redirectUris"] == ["https://router.example/cb"]
    globex_admin = auth(token(client, "admin@globex.example"))
    assert client.get(f"/2017-09-01/applications/{app_id}", headers=globex_admin).json()["name"] == "Globex Router"
    listed = client.get("/2017-09-01/apps", headers=globex_admin).json()["_embedded"]["items"]
    assert [a["applicationId"] for a in listed] == [app_id]
    code = client.post("/2017-09-01/authorize", data={"client_id": app_id, "response_type": "code",
                       "username": "erin@globex.example", "password": "callyard",
                       "redirect_uri": "https://router.example/cb"})
    assert code.status_code == 201, code.text
    r = client.post(T, data={"grant_type": "client_credentials", "client_id": app_id, "client_secret": secret,
                             "account_id": GLOBEX})
    assert r.status_code == 201, r.text
    # tags
    tag = client.post(f"/2017-09-01/applications/{app_id}/tags", json={"id": "env", "value": "prod"},
                      headers=globex_admin)
    assert tag.status_code == 201 and tag.json()["value"] == "prod"
    assert client.put(f"/2017-09-01/applications/{app_id}/tags/env", json={"value": "dev"},
                      headers=globex_admin).json()["value"] == "dev"
    assert client.get(f"/2017-09-01/applications/{app_id}/tags", headers=globex_admin).json()["count"] == 1
    assert client.delete(f"/2017-09-01/applications/{app_id}/tags/env", headers=globex_admin).status_code == 200
    # disabling stops the client on that account
    client.put(f"/2017-09-01/applications/{app_id}", json={"accountId": GLOBEX, "active": False}, headers=partner)
    r = client.post(T, data={"grant_type": "client_credentials", "client_id": app_id, "client_secret": secret,
                             "account_id": GLOBEX})
    assert r.status_code == 401 and r.json()["name"] == "ClientNotActive"
    # a USER cannot register; unknown fields are rejected
    alice = auth(token(client, "alice@acme.example"))
    assert client.post("/2017-09-01/applications", json={"name": "x", "description": "y"},
                       headers=alice).status_code == 403
    r = client.post("/2017-09-01/applications", json={"name": "x", "description": "y", "bogus": 1}, headers=partner)
    assert r.status_code == 400


def test_public_application_info_by_client_id(client):
    r = client.get("/2017-09-01/applications", params={"client_id": APP_ID})
    assert r.status_code == 200 and r.json()["name"] == "Callyard Demo App"
    assert client.get("/2017-09-01/applications").status_code == 400


@pytest.mark.parametrize("method,path", [("POST", "/saml2/start"), ("GET", "/identityProviders"),
                                         ("POST", "/credentials"), ("GET", "/trusted-issuers"),
                                         ("POST", "/policy-test")])
def test_routes_not_built_answer_501_naming_the_route(client, admin, method, path):
    # SAML is browser traffic (no token); the others check the caller first (tests/security).
    r = client.request(method, "/2017-09-01" + path, headers=None if path.startswith("/saml2/") else admin)
    assert r.status_code == 501
    assert r.json()["name"] == "NotImplemented" and path in r.json()["message"]


def test_sso_is_deprecated_as_in_the_real_service(client):
    assert client.get("/2017-09-01/sso").json() == {"providers": []}
    assert client.get("/2017-09-01/sso/google").status_code == 410


def test_application_account_id_must_be_a_string(client):
    # A list or object as accountId once reached the account lookup and failed there (500).
    partner = auth(token(client, "partner@callyard.example"))
    for account_id in ([None, None], {"accountId": GLOBEX}, 7):
        r = client.post("/2017-09-01/applications", json={"name": "x", "description": "y", "accountId": account_id},
                        headers=partner)
        assert r.status_code == 400 and r.json()["name"] == "MissingParamInRequest", r.text
        r = client.put(f"/2017-09-01/applications/{APP_ID}", json={"accountId": account_id}, headers=partner)
        assert r.status_code == 400 and r.json()["name"] == "MissingParamInRequest", r.text


def test_discovery_documents_follow_the_spec(client, admin):
    # oauthMetadata has additionalProperties: false; hydra's auth object requires authenticationUrl.
    meta = client.get("/2017-09-01/.well-known/openid-configuration").json()
    assert not {"scopes_supported", "subject_types_supported", "id_token_signing_alg_values_supported"} & set(meta)
    hydra = client.get("/2017-09-01/.well-known/mitel/hydra").json()["auth"]
    assert hydra["authenticationUrl"] == hydra["authorizationUrl"] == meta["authorization_endpoint"]
    # GET /apps names a query it cannot serve as the spec does.
    for params in ({"$filter": "name eq"}, {"$top": "-1"}):
        r = client.get("/2017-09-01/apps", params=params, headers=admin)
        assert r.status_code == 400 and r.json()["name"] == "UnsupportedQueryParameters", r.text


def test_bad_refresh_token_is_401_invalid_login_credentials(client):
    # The spec's 401 names for POST /token are InvalidLoginCredentials, InvalidVerifier, ClientSecretMismatch and
    # ClientNotActive: a malformed, foreign or access token given as a refresh token is bad credentials.
    access = token(client, "bob@acme.example")
    for refresh in ("\u0099", "a.b.c", access):
        r = client.post(T, data={"grant_type": "refresh_token", "refresh_token": refresh})
        assert r.status_code == 401 and r.json()["name"] == "InvalidLoginCredentials", r.text
