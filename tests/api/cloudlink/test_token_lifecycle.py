"""Token lifecycle (issue 13, finding 6), through HTTP: refresh tokens rotate and a reused one revokes its
family (OAuth 2.0 Security BCP, RFC 9700 §4.14.2); a new password or a deactivation revokes the user's
tokens; every request is checked against the user's current state and role."""
from __future__ import annotations

import httpx
import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect as ws_connect

from tests.conftest import ACME, ALICE, BOB, OPERATOR_HEADERS, PASSWORD, auth, token

B = "/2017-09-01"
T = f"{B}/token"


def sign_in(client: httpx.Client, username: str, password: str = PASSWORD) -> dict:
    response = client.post(T, data={"grant_type": "password", "username": username, "password": password})
    assert response.status_code == 201, response.text
    return response.json()


def refresh(client: httpx.Client, refresh_token: str) -> httpx.Response:
    return client.post(T, data={"grant_type": "refresh_token", "refresh_token": refresh_token})


def works(client: httpx.Client, access_token: str) -> bool:
    response = client.get(f"{B}/users/{ALICE}", headers=auth(access_token))
    assert response.status_code in (200, 401), response.text
    return response.status_code == 200


def revoked(response: httpx.Response) -> None:
    assert response.status_code == 401, response.text
    assert "revoked" in response.json()["message"], response.text


def test_refresh_tokens_rotate_and_a_reused_one_revokes_its_family(client: httpx.Client) -> None:
    first = sign_in(client, "alice@acme.example")
    other = sign_in(client, "alice@acme.example")          # another session of the same user
    second = refresh(client, first["refresh_token"])
    assert second.status_code == 201, second.text
    second = second.json()
    assert second["refresh_token"] != first["refresh_token"]
    third = refresh(client, second["refresh_token"]).json()
    assert works(client, third["access_token"]) and works(client, first["access_token"])
    # The retired first refresh token comes back: theft. It is refused and the family is revoked …
    revoked(refresh(client, first["refresh_token"]))
    revoked(refresh(client, third["refresh_token"]))                    # … the newest refresh token too
    for access in (first["access_token"], second["access_token"], third["access_token"]):
        response = client.get(f"{B}/users/{ALICE}", headers=auth(access))
        assert response.status_code == 401 and response.json()["name"] == "TokenRevoked", response.text
    # The other session is another family: untouched.
    assert works(client, other["access_token"])
    assert refresh(client, other["refresh_token"]).status_code == 201
    # The revocation is an event of the account, and the family's state is the twin's (exported, sealed nothing).
    events = client.get("/_callyard/events", params={"type": "tokenFamily.*", "limit": 2000},
                        headers=OPERATOR_HEADERS).json()["_embedded"]["items"]
    assert [e["data"]["reason"] for e in events if e["type"] == "tokenFamily.revoked"] == ["reuse"]
    assert all(e["accountId"] == ACME and first["refresh_token"] not in str(e) for e in events)


def test_a_new_password_revokes_the_users_tokens(client: httpx.Client, admin) -> None:
    alice = sign_in(client, "alice@acme.example")
    bob = sign_in(client, "bob@acme.example")
    changed = client.put(f"{B}/users/{ALICE}", json={"password": "a-new-secret-1"}, headers=auth(alice["access_token"]))
    assert changed.status_code == 200, changed.text
    response = client.get(f"{B}/users/{ALICE}", headers=auth(alice["access_token"]))
    assert response.status_code == 401 and response.json()["name"] == "TokenRevoked", response.text
    revoked(refresh(client, alice["refresh_token"]))
    assert client.post(T, data={"grant_type": "password", "username": "alice@acme.example",
                                "password": PASSWORD}).status_code == 401
    assert works(client, sign_in(client, "alice@acme.example", "a-new-secret-1")["access_token"])
    assert works(client, bob["access_token"]) and refresh(client, bob["refresh_token"]).status_code == 201


def test_a_deactivated_users_tokens_stop_and_stay_stopped(client: httpx.Client, admin) -> None:
    alice = sign_in(client, "alice@acme.example")
    assert works(client, alice["access_token"])                          # checked (and cached) once
    assert client.put(f"{B}/users/{ALICE}", json={"active": False}, headers=admin).status_code == 200
    response = client.get(f"{B}/users/{ALICE}", headers=auth(alice["access_token"]))
    assert response.status_code == 401 and response.json()["name"] == "TokenRevoked", response.text
    assert refresh(client, alice["refresh_token"]).status_code in (401, 403)
    assert client.put(f"{B}/users/{ALICE}", json={"active": True}, headers=admin).status_code == 200
    assert not works(client, alice["access_token"])                      # reactivation revives nothing
    revoked(refresh(client, alice["refresh_token"]))
    assert works(client, sign_in(client, "alice@acme.example")["access_token"])


def test_a_demoted_admins_old_token_acts_as_what_the_user_is_now(client: httpx.Client, admin) -> None:
    assert client.put(f"{B}/users/{BOB}", json={"role": "ACCOUNT_ADMIN"}, headers=admin).status_code == 200
    bob = auth(sign_in(client, "bob@acme.example")["access_token"])
    made = client.post(f"{B}/accounts/{ACME}/users", json={"email": "one@acme.example"}, headers=bob)
    assert made.status_code == 201, made.text                           # an admin, checked and cached
    assert client.put(f"{B}/users/{BOB}", json={"role": "USER"}, headers=admin).status_code == 200
    refused = client.post(f"{B}/accounts/{ACME}/users", json={"email": "two@acme.example"}, headers=bob)
    assert refused.status_code == 403 and refused.json()["name"] == "InsufficientPermissions", refused.text
    emails = {u["email"] for u in client.get(f"{B}/users", params={"$top": 1000}, headers=admin)
              .json()["_embedded"]["items"]}
    assert "two@acme.example" not in emails and "one@acme.example" in emails
    assert client.get(f"{B}/users/{BOB}", headers=bob).status_code == 200   # still bob, as a USER
    assert client.get("/_callyard/faults", headers=bob).status_code == 403  # nor the control plane


def test_a_deleted_users_token_stops(client: httpx.Client, admin) -> None:
    target = client.post(f"{B}/accounts/{ACME}/users", json={"email": "temp@acme.example", "password": "pw-temp-1"},
                         headers=admin).json()
    temp = auth(token(client, "temp@acme.example", "pw-temp-1"))
    assert client.get(f"{B}/users/{target['userId']}", headers=temp).status_code == 200
    assert client.delete(f"{B}/users/{target['userId']}", headers=admin).status_code in (200, 204)
    assert client.get(f"{B}/users", headers=temp).status_code == 401


def test_a_live_stream_closes_when_its_token_is_revoked(client: httpx.Client, admin, base_url: str) -> None:
    alice = sign_in(client, "alice@acme.example")
    headers = auth(alice["access_token"])
    connection = client.post(f"{B}/connections", json={"transport": "websocket"}, headers=headers).json()
    sub = client.post(f"{B}/subscriptions", headers=headers, json={
        "transport": "websocket", "connectionId": connection["connectionId"], "topic": "platform-api-presence"})
    assert sub.status_code == 201, sub.text
    url = f"{base_url.replace('http', 'ws')}/_callyard/stream?token={alice['access_token']}" \
          f"&subscriptionId={sub.json()['subscriptionId']}"
    with ws_connect(url, open_timeout=5) as ws:
        with pytest.raises(TimeoutError):
            ws.recv(timeout=1.5)                                         # open, and nothing to say
        assert client.put(f"{B}/users/{ALICE}", json={"active": False}, headers=admin).status_code == 200
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


def test_a_new_password_revokes_the_other_families_credentials(client: httpx.Client) -> None:
    """The UC family's API tickets and the CX family's tokens of a user stop with a password change too."""
    from tests.api.cx.conftest import cx_token
    from tests.api.uc.conftest import bearer, create_ticket

    ticket = create_ticket(client, "alice@acme.example", ("USER",))
    cx = cx_token(client, "alice")
    devices = "/api/device/info/v1/list/acme.example/alice"
    cx_me = "/miccsdk/api/v1/employees/me"
    assert client.get(devices, headers=bearer(ticket)).status_code == 200
    assert client.get(cx_me, headers=auth(cx)).status_code == 200
    alice = sign_in(client, "alice@acme.example")
    changed = client.put(f"{B}/users/{ALICE}", json={"password": "a-new-secret-1"}, headers=auth(alice["access_token"]))
    assert changed.status_code == 200, changed.text
    refused_uc = client.get(devices, headers=bearer(ticket))
    assert refused_uc.status_code == 401, refused_uc.text
    refused_cx = client.get(cx_me, headers=auth(cx))
    assert refused_cx.status_code == 401, refused_cx.text
    fresh = create_ticket(client, "alice@acme.example", ("USER",), password="a-new-secret-1")
    assert client.get(devices, headers=bearer(fresh)).status_code == 200
    assert client.get(cx_me, headers=auth(cx_token(client, "alice", "a-new-secret-1"))).status_code == 200
