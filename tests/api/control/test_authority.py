"""The control plane's authority (issue 13, finding 1), through HTTP against a live twin.

Twin-wide operations (the clock, the whole twin's reset, state and faults) need the operator token; an account
administrator gets the account-scoped versions and nothing beyond: Globex's admin never reads, changes,
resets or faults Acme. Every refusal is checked together with "nothing changed"."""
from __future__ import annotations

import copy
import json
import os
import sys
from pathlib import Path

import httpx
import pytest

from tests.conftest import ACME, ALICE, GLOBEX, OPERATOR_HEADERS, auth, png_bytes, token

B = "/2017-09-01"
C = "/_callyard"
ACME_ADMIN = "ac3e0000-0000-4000-8000-00000000ad01"
ERIN = "610be000-0000-4000-8000-000000002880"


def ok(response: httpx.Response, *statuses: int) -> dict:
    assert response.status_code in (statuses or (200, 201)), f"{response.request.method} {response.request.url}: " \
                                                            f"{response.status_code} {response.text}"
    return response.json()


def refused(response: httpx.Response, status: int, name: str) -> None:
    assert response.status_code == status, f"{response.status_code} {response.text}"
    assert response.json()["name"] == name, response.text


def emails(client: httpx.Client, account: str) -> set[str]:
    items = ok(client.get(f"{C}/state", headers=OPERATOR_HEADERS))["documents"]["user"]
    return {u["email"] for u in items if u["accountId"] == account}


def users_of(client: httpx.Client, account: str) -> list[dict]:
    """The account's users as the operator exports them, less the sealed hashes (sealed anew each time)."""
    return sorted(({k: v for k, v in u.items() if k != "passwordHash"}
                   for u in ok(client.get(f"{C}/state", headers=OPERATOR_HEADERS))["documents"]["user"]
                   if u["accountId"] == account), key=lambda u: u["userId"])


@pytest.fixture
def globex(as_user) -> dict[str, str]:
    return as_user("admin@globex.example")


# ------------------------------------------------------------------------------------------- the clock
def test_the_clock_is_the_operators(client: httpx.Client, admin, globex, alice) -> None:
    before = ok(client.get(f"{C}/clock"))["now"]
    for headers in (admin, globex, alice):
        response = client.post(f"{C}/clock/advance", json={"seconds": 7200}, headers=headers)
        assert response.status_code == 403, response.text
    assert ok(client.get(f"{C}/clock"))["now"] == before
    assert client.get(f"{B}/users", headers=admin).status_code == 200      # Acme's tokens did not expire
    refused(client.post(f"{C}/clock/advance", json={"seconds": 1}, headers=globex), 403, "OperatorRequired")
    refused(client.post(f"{C}/clock/advance", json={"seconds": 1}, headers={"Authorization": "Bearer nope"}),
            401, "InvalidToken")
    assert ok(client.post(f"{C}/clock/advance", json={"seconds": 1}, headers=OPERATOR_HEADERS))["now"] != before


def test_the_operator_token_is_no_platform_token(client: httpx.Client) -> None:
    for path in (f"{B}/users", f"{B}/accounts/{ACME}", f"{B}/token"):
        assert client.get(path, headers=OPERATOR_HEADERS).status_code in (400, 401)
    assert client.get(f"{C}/sim/calls", headers=OPERATOR_HEADERS, params={"account": ACME}).status_code == 200


# ------------------------------------------------------------------------------------------- export
def test_an_admin_exports_only_its_account_with_secrets_sealed(client: httpx.Client, admin, globex) -> None:
    acme_hook = ok(client.post(f"{B}/subscriptions", headers=admin, json={
        "applicationId": "acme", "deviceId": "http://127.0.0.1:9/acme", "topic": "platform-api-admin"}))
    globex_hook = ok(client.post(f"{B}/subscriptions", headers=globex, json={
        "applicationId": "globex", "deviceId": "http://127.0.0.1:9/globex", "topic": "platform-api-admin"}))
    snapshot = ok(client.get(f"{C}/state", headers=globex))
    text = json.dumps(snapshot)
    assert snapshot["accounts"] == [GLOBEX]
    assert {d["accountId"] for docs in snapshot["documents"].values() for d in docs} == {GLOBEX}
    for acme_thing in (ACME, ALICE, ACME_ADMIN, acme_hook["subscriptionId"], acme_hook["signingSecret"]):
        assert acme_thing not in text
    # Globex's own secrets are sealed, never in clear.
    assert globex_hook["signingSecret"] not in text and "scrypt$" not in text and "whsec_" not in text
    [sub] = snapshot["documents"]["subscription"]
    assert sub["signingSecret"].startswith("sealed:v1:")
    assert all(u["passwordHash"].startswith("sealed:v1:") for u in snapshot["documents"]["user"])
    # The operator's export is the whole twin, sealed just the same; authorization codes are not exported.
    whole = ok(client.get(f"{C}/state", headers=OPERATOR_HEADERS))
    assert {ACME, GLOBEX} <= {a["accountId"] for a in whole["documents"]["account"]}
    assert "scrypt$" not in json.dumps(whole) and "whsec_" not in json.dumps(whole)
    assert "auth_code" not in whole["documents"] and "accounts" not in whole


def test_an_admin_round_trips_its_account_and_webhooks_keep_their_secret(client: httpx.Client, globex) -> None:
    hook = ok(client.post(f"{B}/subscriptions", headers=globex, json={
        "applicationId": "globex", "deviceId": "http://127.0.0.1:9/globex", "topic": "platform-api-admin"}))
    ok(client.post(f"{B}/accounts/{GLOBEX}/users", headers=globex,
                   json={"email": "kept@globex.example", "password": "pw-kept-1"}))
    snapshot = ok(client.get(f"{C}/state", headers=globex))
    ok(client.post(f"{C}/reset", headers=globex))
    assert "kept@globex.example" not in emails(client, GLOBEX)
    ok(client.post(f"{C}/state", json=snapshot, headers=auth(token(client, "admin@globex.example"))))
    assert token(client, "kept@globex.example", "pw-kept-1")           # the sealed hash was opened
    [sub] = [s for s in ok(client.get(f"{C}/state", headers=OPERATOR_HEADERS))["documents"]["subscription"]
             if s["subscriptionId"] == hook["subscriptionId"]]
    assert sub["signingSecret"].startswith("sealed:v1:")               # still sealed in every export …
    # … and the subscription kept its secret: the twin signs with the one the subscriber was given.
    assert hook["signingSecret"].startswith("whsec_")


# ------------------------------------------------------------------------------------------- import
def forged(snapshot: dict, change) -> dict:
    edited = copy.deepcopy(snapshot)
    change(edited["documents"])
    return edited


def test_an_admin_import_cannot_reach_beyond_its_account(client: httpx.Client, admin, globex) -> None:
    snapshot = ok(client.get(f"{C}/state", headers=globex))
    acme_users = users_of(client, ACME)
    globex_users = users_of(client, GLOBEX)
    [erin] = [u for u in snapshot["documents"]["user"] if u["userId"] == ERIN]
    acme_admin = next(u for u in acme_users if u["userId"] == ACME_ADMIN)
    unsealed = {k: v for k, v in erin.items() if k != "passwordHash"}
    root = {**unsealed, "userId": "f0f0f0f0-0000-4000-8000-0000000000ff", "email": "root@globex.example"}
    cases = {
        "a GLOBAL_ADMIN user": (403, lambda d: d["user"].append({**root, "role": "GLOBAL_ADMIN"})),
        "a PARTNER_ADMIN user": (403, lambda d: d["user"].append({**root, "role": "PARTNER_ADMIN"})),
        "Acme's admin, renamed": (403, lambda d: d["user"].append({**acme_admin, "name": "Pwned"})),
        "Acme's admin moved into Globex": (403, lambda d: d["user"].append(
            {**unsealed, "userId": ACME_ADMIN, "email": "moved@globex.example"})),
        "Acme's account": (403, lambda d: d["account"].append({"accountId": ACME, "name": "Acme"})),
        "a conversation with alice": (403, lambda d: d.setdefault("conversation", []).append({
            "conversationId": "c0c0c0c0-0000-4000-8000-000000000001", "accountId": GLOBEX, "stream": True,
            "participants": [{"participantId": ALICE, "type": "USER", "status": "ACCEPTED"}]})),
        "a subscription of Acme's admin": (403, lambda d: d.setdefault("subscription", []).append({
            "subscriptionId": "s0s0", "accountId": GLOBEX, "principalId": ACME_ADMIN, "topic": "platform-api-admin",
            "transport": "webhook", "deviceId": "http://127.0.0.1:9/x"})),
        "Globex made a partner": (403, lambda d: d["account"][0].update(type="PARTNER")),
        "Globex under another parent": (403, lambda d: d["account"][0].update(parentAccountId=ACME)),
        "Globex with Acme's domain": (403, lambda d: d["account"][0].update(domain="acme.example")),
        "a password hash in clear": (400, lambda d: d["user"][0].update(passwordHash="scrypt$16384$8$1$AA==$AA==")),
        "a sealed secret moved to another user": (400, lambda d: d["user"].append(
            {**erin, "userId": "f0f0f0f0-0000-4000-8000-0000000000fd", "email": "copy@globex.example"})),
        "no account at all": (400, lambda d: d.pop("account")),
        "a document without an account": (400, lambda d: d["user"][0].pop("accountId")),
        "an unknown role": (400, lambda d: d["user"][0].update(role="SUPERUSER")),
    }
    for what, (status, change) in cases.items():
        response = client.post(f"{C}/state", json=forged(snapshot, change), headers=globex)
        assert response.status_code == status, f"{what}: {response.status_code} {response.text}"
        assert response.json()["name"] in ("ForbiddenSnapshot", "InvalidSnapshot"), f"{what}: {response.text}"
    # All or nothing: none of these changed anything, in Acme or in Globex.
    assert users_of(client, ACME) == acme_users and users_of(client, GLOBEX) == globex_users
    assert token(client, "admin@acme.example")                        # Acme's admin still signs in as before
    assert client.get(f"{B}/accounts/{ACME}", headers=globex).status_code in (403, 404)


def test_a_blob_of_another_account_cannot_be_overwritten(client: httpx.Client, admin, globex) -> None:
    photo = ok(client.put(f"{B}/users/{ALICE}/photo", content=png_bytes(),
                          headers={**admin, "content-type": "image/png"}))
    photo_id = photo["photoUrl"].rsplit("/", 2)[-2]
    snapshot = ok(client.get(f"{C}/state", headers=globex))
    snapshot["blobs"][f"photos/{photo_id}/50"] = {"contentType": "image/png", "data": "AAAA"}
    refused(client.post(f"{C}/state", json=snapshot, headers=globex), 403, "ForbiddenSnapshot")
    assert client.get(f"{C}/photos/{photo_id}/50").content != b"\x00\x00\x00"


# ------------------------------------------------------------------------------------------- reset
def test_an_admin_resets_only_its_account(client: httpx.Client, admin, globex) -> None:
    ok(client.post(f"{B}/accounts/{ACME}/users", headers=admin, json={"email": "stays@acme.example"}))
    ok(client.post(f"{B}/accounts/{GLOBEX}/users", headers=globex, json={"email": "goes@globex.example"}))
    ok(client.post(f"{C}/sim/calls", headers=admin, json={"from": "+16135550123", "to": "2881"}), 201)
    ok(client.post(f"{C}/sim/calls", headers=globex, json={"from": "+16135550124", "to": "2880"}), 201)
    acme_users = users_of(client, ACME)
    answer = ok(client.post(f"{C}/reset", headers=globex))
    assert answer["accounts"] == [GLOBEX]
    assert "goes@globex.example" not in emails(client, GLOBEX)
    assert users_of(client, ACME) == acme_users                        # Acme did not notice …
    assert len(ok(client.get(f"{C}/sim/calls", headers=admin))["_embedded"]["items"]) == 1   # … its call lives on
    assert ok(client.get(f"{C}/sim/calls", headers=auth(token(client, "admin@globex.example"))))["count"] == 0
    assert client.get(f"{B}/users", headers=admin).status_code == 200  # and its tokens still work
    # Globex's PBX works on after its reset.
    ok(client.post(f"{C}/sim/calls", headers=globex, json={"from": "+16135550124", "to": "2880"}), 201)


def test_the_operator_resets_the_whole_twin(client: httpx.Client, admin, globex) -> None:
    ok(client.post(f"{B}/accounts/{ACME}/users", headers=admin, json={"email": "gone@acme.example"}))
    refused(client.post(f"{C}/reset", headers=alice_headers(client)), 403, "InsufficientPermissions")
    assert "gone@acme.example" in emails(client, ACME)
    ok(client.post(f"{C}/reset", headers=OPERATOR_HEADERS))
    assert "gone@acme.example" not in emails(client, ACME)


def alice_headers(client: httpx.Client) -> dict[str, str]:
    return auth(token(client, "alice@acme.example"))


# ------------------------------------------------------------------------------------------- faults
def test_an_admins_faults_hit_only_its_accounts_traffic(client: httpx.Client, admin, globex) -> None:
    acme_token = token(client, "bob@acme.example")
    globex_token = token(client, "erin@globex.example")
    expire = ok(client.post(f"{C}/faults", headers=globex, json={"kind": "token.expire"}), 201)
    globex = auth(token(client, "admin@globex.example"))              # issued after the cutoff: valid
    down = ok(client.post(f"{C}/faults", headers=globex, json={"route": f"{B}/token", "status": 503}), 201)
    assert down["accounts"] == [GLOBEX] and expire["accounts"] == [GLOBEX]
    # Acme signs in and works as before; Globex's sign-ins answer 503 and its old tokens are expired.
    assert client.post(f"{B}/token", data={"grant_type": "password", "username": "alice@acme.example",
                                           "password": "callyard"}).status_code == 201
    assert client.get(f"{B}/users", headers=auth(acme_token)).status_code == 200
    assert client.post(f"{B}/token", data={"grant_type": "password", "username": "erin@globex.example",
                                           "password": "callyard"}).status_code == 503
    refused(client.get(f"{B}/users", headers=auth(globex_token)), 401, "TokenExpired")
    # Acme's admin neither sees nor removes Globex's faults; Globex's admin sees its own.
    assert ok(client.get(f"{C}/faults", headers=admin))["count"] == 0
    refused(client.get(f"{C}/faults/{down['faultId']}", headers=admin), 404, "FaultNotFound")
    refused(client.delete(f"{C}/faults/{down['faultId']}", headers=admin), 404, "FaultNotFound")
    assert ok(client.delete(f"{C}/faults", headers=admin))["removed"] == 0
    assert ok(client.get(f"{C}/faults", headers=globex))["count"] == 2
    assert ok(client.get(f"{C}/faults", headers=OPERATOR_HEADERS))["count"] == 2
    # A webhook fault of another account's subscription is refused.
    acme_hook = ok(client.post(f"{B}/subscriptions", headers=admin, json={
        "applicationId": "acme", "deviceId": "http://127.0.0.1:9/acme", "topic": "platform-api-admin"}))
    response = client.post(f"{C}/faults", headers=globex, json={"kind": "webhook.drop",
                                                                "subscriptionId": acme_hook["subscriptionId"]})
    assert response.status_code == 404, response.text
    assert ok(client.get(f"{C}/faults", headers=OPERATOR_HEADERS))["count"] == 2


def test_the_operators_faults_hit_everyone(client: httpx.Client, admin) -> None:
    fault = ok(client.post(f"{C}/faults", headers=OPERATOR_HEADERS, json={"route": f"{B}/groups", "status": 503}),
               201)
    assert "accounts" not in fault
    assert client.get(f"{B}/groups", headers=admin).status_code == 503
    assert client.get(f"{B}/groups", headers=auth(token(client, "admin@globex.example"))).status_code == 503
    refused(client.get(f"{C}/faults/{fault['faultId']}", headers=admin), 404, "FaultNotFound")


# ------------------------------------------------------------------------------------------- the banner
def test_the_operator_token_comes_from_the_environment_and_is_printed(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.support.server_process import ServerProcess

    monkeypatch.setenv("CALLYARD_OPERATOR_TOKEN", "from-the-environment")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(sys.path))
    with ServerProcess(tmp_path / "log", data=tmp_path / "data", args=("--clock", "manual")) as server:
        with httpx.Client(base_url=server.url, timeout=10) as c:
            refused(c.post(f"{C}/clock/advance", json={"seconds": 1}, headers=auth(token(c, "admin@acme.example"))),
                    403, "OperatorRequired")
            ok(c.post(f"{C}/clock/advance", json={"seconds": 1}, headers=auth("from-the-environment")))
    assert "operator token (Authorization: Bearer … on /_callyard): from-the-environment" in server.output()
