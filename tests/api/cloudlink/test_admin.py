"""The CloudLink Admin API through HTTP: users, bulk, welcome mail, groups, photos, OData, tenant isolation,
accounts, clients and authentication errors. Every test starts from the demo tenant (``client`` resets it)."""
from __future__ import annotations

import io
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image

from tests.conftest import ACME, ALICE, BOB, ERIN, GLOBEX, PARTNER, auth, png_bytes, token

B = "/2017-09-01"
ACME_USERS = f"{B}/accounts/{ACME}/users"
ACME_EMAILS = ["admin@acme.example", "alice@acme.example", "bob@acme.example", "carol@acme.example",
               "dave@acme.example"]


@pytest.fixture
def globex(as_user):
    return as_user("admin@globex.example")


def items(response: httpx.Response) -> list[dict]:
    assert response.status_code == 200, response.text
    return response.json()["_embedded"]["items"]


def emails(client, headers, account=ACME) -> list[str]:
    return sorted(u["email"] for u in items(client.get(f"{B}/accounts/{account}/users", headers=headers)))


def assert_error(response: httpx.Response, status: int, name: str | None = None, text: str | None = None) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert isinstance(body.get("name"), str) and body["name"] and isinstance(body.get("message"), str)
    if name:
        assert body["name"] == name
    if text:
        assert text.lower() in body["message"].lower()
    return body


# ---------------------------------------------------------------------------- users
def test_create_user_defaults_and_hides_password(client, admin):
    r = client.post(ACME_USERS, headers=admin, json={"email": "zoe@acme.example", "name": "Zoe Zed",
                                                     "extension": "2890", "password": "s3cret-pass"})
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["role"] == "USER" and body["accountId"] == ACME and body["email"] == "zoe@acme.example"
    assert body["userId"] and body["userId"] not in (ALICE, BOB)
    assert "passwordHash" not in body and "password" not in body
    fetched = client.get(f"{ACME_USERS}/{body['userId']}", headers=admin)
    assert fetched.status_code == 200
    assert fetched.json()["extension"] == "2890" and "passwordHash" not in fetched.json()
    assert "zoe@acme.example" in emails(client, admin)
    assert token(client, "zoe@acme.example", "s3cret-pass")


@pytest.mark.parametrize("payload, status, name, text", [
    ({"name": "No Mail"}, 400, "ValidationError", "email"),
    ({"email": "not-an-email"}, 400, "ValidationError", "email"),
    ({"email": "x@acme.example", "favouriteColour": "blue"}, 400, "ValidationError", "additional properties"),
    ({"email": "x@acme.example", "extension": 123}, 400, "ValidationError", "extension"),
    ({"email": "ALICE@acme.example"}, 409, "ConditionalCheckFailedException", "alice@acme.example"),
])
def test_create_user_rejections_leave_list_unchanged(client, admin, payload, status, name, text):
    before = emails(client, admin)
    assert before == ACME_EMAILS
    assert_error(client.post(ACME_USERS, headers=admin, json=payload), status, name, text)
    assert emails(client, admin) == before


def test_create_user_role_rules(client, admin, alice, partner):
    assert_error(client.post(ACME_USERS, headers=alice, json={"email": "u1@acme.example"}), 403)
    ok = client.post(ACME_USERS, headers=admin, json={"email": "admin2@acme.example", "role": "ACCOUNT_ADMIN"})
    assert ok.status_code == 201 and ok.json()["role"] == "ACCOUNT_ADMIN"
    assert_error(client.post(ACME_USERS, headers=admin, json={"email": "pa@acme.example", "role": "PARTNER_ADMIN"}),
                 403, "InsufficientPermissions")
    assert_error(client.post(ACME_USERS, headers=partner, json={"email": "pa@acme.example", "role": "PARTNER_ADMIN"}),
                 400, "ValidationError", "PARTNER_ADMIN")
    assert emails(client, admin) == sorted(ACME_EMAILS + ["admin2@acme.example"])


def test_legacy_post_users_creates_only_users(client, admin):
    r = client.post(f"{B}/users", headers=admin, json={"email": "legacy@acme.example"})
    assert r.status_code == 201 and r.json()["role"] == "USER" and r.json()["accountId"] == ACME
    assert_error(client.post(f"{B}/users", headers=admin, json={"email": "boss@acme.example", "role": "ACCOUNT_ADMIN"}),
                 400, "ValidationError", "USER role")
    assert emails(client, admin) == sorted(ACME_EMAILS + ["legacy@acme.example"])


def test_duplicate_unique_user_id_is_409(client, admin):
    r = client.post(ACME_USERS, headers=admin, json={"email": "twin@acme.example", "uniqueUserId": BOB})
    assert_error(r, 409, "ConditionalCheckFailedException")
    assert emails(client, admin) == ACME_EMAILS


@pytest.mark.parametrize("base", [ACME_USERS, f"{B}/users"])
def test_get_put_delete_user(client, admin, base):
    got = client.get(f"{base}/{BOB}", headers=admin)
    assert got.status_code == 200 and got.json()["email"] == "bob@acme.example" and got.json()["extension"] == "2881"
    put = client.put(f"{base}/{BOB}", headers=admin, json={"name": "Robert Brown", "extension": "2899"})
    assert put.status_code == 200 and put.json()["name"] == "Robert Brown"
    again = client.get(f"{base}/{BOB}", headers=admin).json()
    assert again["name"] == "Robert Brown" and again["extension"] == "2899"
    deleted = client.delete(f"{base}/{BOB}", headers=admin)
    assert deleted.status_code == 200 and deleted.json()["userId"] == BOB
    assert_error(client.get(f"{base}/{BOB}", headers=admin), 404, "UserNotFound")
    assert "bob@acme.example" not in emails(client, admin)


def test_user_may_edit_own_name_but_not_role(client, alice, admin):
    r = client.put(f"{B}/users/{ALICE}", headers=alice, json={"name": "Alice A."})
    assert r.status_code == 200 and r.json()["name"] == "Alice A."
    assert_error(client.put(f"{B}/users/{ALICE}", headers=alice, json={"role": "ACCOUNT_ADMIN"}),
                 403, "InsufficientPermissions")
    assert_error(client.put(f"{B}/users/{BOB}", headers=alice, json={"name": "Hacked"}), 403)
    assert client.get(f"{ACME_USERS}/{ALICE}", headers=admin).json()["role"] == "USER"
    assert client.get(f"{ACME_USERS}/{ALICE}", headers=admin).json()["name"] == "Alice A."
    assert client.get(f"{ACME_USERS}/{BOB}", headers=admin).json()["name"] == "Bob Brown"


# ---------------------------------------------------------------------------- bulk
def test_bulk_patch_reports_each_operation(client, admin):
    ops = [{"op": "create", "body": {"email": "new@acme.example", "name": "New One"}},
           {"op": "create", "body": {"email": "carol@acme.example"}},
           {"op": "update", "id": BOB, "body": {"name": "Bobby"}},
           {"op": "delete", "id": ALICE}]
    r = client.patch(ACME_USERS, headers={**admin, "x-mitel-correlation-id": "bulk-1"}, json={"operations": ops})
    assert r.status_code == 200, r.text
    results = r.json()["operations"]
    assert [o["statusCode"] for o in results] == [201, 409, 200, 200]
    assert [o["headers"]["x-mitel-correlation-id"] for o in results] == [f"bulk-1-{i}" for i in range(4)]
    assert results[0]["body"]["email"] == "new@acme.example" and results[0]["body"]["role"] == "USER"
    assert results[1]["body"]["name"] == "ConditionalCheckFailedException"
    assert results[2]["body"]["name"] == "Bobby" and results[3]["body"]["userId"] == ALICE
    assert client.get(f"{ACME_USERS}/{BOB}", headers=admin).json()["name"] == "Bobby"
    assert_error(client.get(f"{ACME_USERS}/{ALICE}", headers=admin), 404, "UserNotFound")
    assert emails(client, admin) == sorted(set(ACME_EMAILS + ["new@acme.example"]) - {"alice@acme.example"})


# ---------------------------------------------------------------------------- welcome mail
def test_welcome_mail(client, admin, alice):
    r = client.post(f"{ACME_USERS}/{ALICE}/welcome", headers=admin, json={"languageCode": "fr-FR"})
    assert r.status_code == 202, r.text
    assert r.json()["to"] == "alice@acme.example" and r.json()["languageCode"] == "fr-FR"
    outbox = client.get("/_callyard/mail", headers=admin)
    assert outbox.status_code == 200
    mails = [m for m in outbox.json()["_embedded"]["items"] if m["to"] == "alice@acme.example"]
    assert len(mails) == 1 and mails[0]["languageCode"] == "fr-FR" and mails[0]["userId"] == ALICE
    assert mails[0]["mailId"] == r.json()["mailId"] and "Bienvenue" in mails[0]["subject"]
    assert_error(client.post(f"{ACME_USERS}/{ALICE}/welcome", headers=admin, json={"languageCode": "xx_YY!"}),
                 400, "ValidationError", "languageCode")
    assert_error(client.post(f"{ACME_USERS}/{BOB}/welcome", headers=alice, json={}), 403)
    assert client.get("/_callyard/mail", headers=admin).json()["count"] == 1


@pytest.mark.parametrize("raw", [b"{bad", b'{"languageCode": 123}', b'["fr-FR"]'])
def test_welcome_malformed_body_is_400(client, admin, raw):
    r = client.post(f"{ACME_USERS}/{ALICE}/welcome", headers={**admin, "content-type": "application/json"}, content=raw)
    assert_error(r, 400)
    assert client.get("/_callyard/mail", headers=admin).json()["count"] == 0


# ---------------------------------------------------------------------------- groups
def test_groups_and_members(client, admin):
    groups = f"{B}/accounts/{ACME}/groups"
    r = client.post(groups, headers=admin, json={"name": "Sales", "visibility": "PRIVATE",
                                                 "members": [{"memberId": ALICE, "status": "ACCEPTED"}]})
    assert r.status_code == 201, r.text
    group = r.json()
    assert group["type"] == "USER" and group["visibility"] == "PRIVATE" and group["accountId"] == ACME
    assert group["members"] == [{"memberId": ALICE, "status": "ACCEPTED", "type": "USER"}]
    gid = group["groupId"]
    assert_error(client.post(groups, headers=admin, json={"name": "Mixed", "members": [{"memberId": ERIN}]}),
                 400, "ValidationError", ERIN)
    # The demo tenant's own groups (Support queue, Sales hunt group) are there too.
    assert [g["name"] for g in items(client.get(groups, headers=admin))].count("Sales") == 2
    added = client.post(f"{groups}/{gid}/members", headers=admin, json={"memberId": BOB})
    assert added.status_code == 201 and {m["memberId"] for m in added.json()["members"]} == {ALICE, BOB}
    listed = items(client.get(f"{groups}/{gid}/members", headers=admin))
    assert {m["memberId"] for m in listed} == {ALICE, BOB} and all(m["groupId"] == gid for m in listed)
    removed = client.delete(f"{groups}/{gid}/members/{BOB}", headers=admin)
    assert removed.status_code == 200 and [m["memberId"] for m in removed.json()["members"]] == [ALICE]
    assert [m["memberId"] for m in items(client.get(f"{groups}/{gid}/members", headers=admin))] == [ALICE]
    assert client.delete(f"{ACME_USERS}/{ALICE}", headers=admin).status_code == 200
    assert client.get(f"{groups}/{gid}", headers=admin).json()["members"] == []


# ---------------------------------------------------------------------------- photos
def _open(url: str) -> Image.Image:
    r = httpx.get(url, timeout=10)
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    return Image.open(io.BytesIO(r.content))


def test_user_photo_lifecycle(client, admin):
    photo = f"{ACME_USERS}/{ALICE}/photo"
    r = client.put(photo, headers={**admin, "content-type": "image/png"}, content=png_bytes((2000, 1500)))
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["userId"] == ALICE and body["photoUrl"].startswith("http")
    assert set(body["avatars"]) == {"50", "150", "300", "scaled"}
    assert all(url.startswith(("http://", "https://")) for url in body["avatars"].values())
    assert _open(body["avatars"]["50"]).size == (50, 50)
    assert _open(body["avatars"]["150"]).size == (150, 150)
    assert _open(body["avatars"]["300"]).size == (300, 300)
    assert max(_open(body["avatars"]["scaled"]).size) <= 1024
    original = httpx.get(body["photoUrl"], timeout=10)
    assert original.status_code == 200 and original.headers["content-type"] == "image/png"
    assert client.get(f"{ACME_USERS}/{ALICE}", headers=admin).json()["photoUrl"] == body["photoUrl"]
    gone = client.delete(photo, headers=admin)
    assert gone.status_code == 200 and gone.json()["userId"] == ALICE
    assert "photoUrl" not in gone.json() and "avatars" not in gone.json()
    assert "photoUrl" not in client.get(f"{ACME_USERS}/{ALICE}", headers=admin).json()
    assert httpx.get(body["avatars"]["50"], timeout=10).status_code == 404
    assert httpx.get(body["photoUrl"], timeout=10).status_code == 404


def test_photo_rejects_non_image(client, admin):
    r = client.put(f"{ACME_USERS}/{ALICE}/photo", headers={**admin, "content-type": "image/png"},
                   content=b"this is not a picture")
    assert_error(r, 400, "InvalidImage")
    assert "photoUrl" not in client.get(f"{ACME_USERS}/{ALICE}", headers=admin).json()


def test_photo_on_token_account_route(client, alice, admin):
    r = client.put(f"{B}/users/{ALICE}/photo", headers={**alice, "content-type": "image/png"}, content=png_bytes())
    assert r.status_code == 200 and "photoUrl" in r.json()
    assert client.get(f"{B}/users/{ALICE}", headers=admin).json()["photoUrl"] == r.json()["photoUrl"]
    assert_error(client.put(f"{B}/users/{BOB}/photo", headers={**alice, "content-type": "image/png"},
                            content=png_bytes()), 403)
    assert client.delete(f"{B}/users/{ALICE}/photo", headers=alice).status_code == 200
    assert "photoUrl" not in client.get(f"{B}/users/{ALICE}", headers=admin).json()


# ---------------------------------------------------------------------------- OData
@pytest.mark.parametrize("query, expected", [
    ({"$filter": "extension eq '2880'"}, ["alice@acme.example"]),
    ({"$filter": "substringof('bob',email)"}, ["bob@acme.example"]),
    ({"$filter": "startswith(email,'c')"}, ["carol@acme.example"]),
    ({"$search": "carol"}, ["carol@acme.example"]),
    ({"$orderby": "email desc"}, sorted(ACME_EMAILS, reverse=True)),
])
def test_odata_filter_search_orderby(client, admin, query, expected):
    r = client.get(ACME_USERS, headers=admin, params=query)
    assert [u["email"] for u in items(r)] == expected
    assert r.json()["count"] == len(expected)


def test_odata_paging_follows_next_link(client, admin):
    everything = [u["userId"] for u in items(client.get(ACME_USERS, headers=admin))]
    assert len(everything) == 5
    page = client.get(ACME_USERS, headers=admin, params={"$top": "2", "$skip": "1"})
    assert page.json()["count"] == 2 and [u["userId"] for u in items(page)] == everything[1:3]
    nxt = page.json()["_links"]["next"]
    assert parse_qs(urlsplit(nxt).query)["$skip"] == ["3"]
    rest = client.get(nxt, headers=admin)
    assert [u["userId"] for u in items(rest)] == everything[3:]
    assert "next" not in rest.json()["_links"]


def test_odata_errors_and_count(client, admin):
    assert_error(client.get(ACME_USERS, headers=admin, params={"$filter": "email eq"}), 400, "InvalidFilter", "$filter")
    assert_error(client.get(ACME_USERS, headers=admin, params={"$top": "abc"}), 400, "InvalidQueryParameter", "$top")
    counted = client.get(ACME_USERS, headers=admin, params={"$count": "true", "$top": "1"})
    assert counted.json()["totalCount"] == 5 and counted.json()["count"] == 1
    assert "totalCount" not in client.get(ACME_USERS, headers=admin).json()


def test_odata_unicode_digit_skip_is_400(client, admin):
    assert_error(client.get(ACME_USERS, headers=admin, params={"$skip": "\u00b2"}), 400, "InvalidQueryParameter")


def test_odata_top_zero_next_links_terminate(client, admin):
    url, seen = f"{ACME_USERS}?$top=0", set()
    for _ in range(10):
        links = client.get(url, headers=admin).json()["_links"]
        if "next" not in links:
            break
        assert links["next"] not in seen, "next link repeats"
        seen.add(url := links["next"])
    else:
        pytest.fail("next links did not terminate")


# ---------------------------------------------------------------------------- tenant isolation
def test_other_tenant_cannot_read_or_write(client, admin, globex):
    assert client.get(ACME_USERS, headers=globex).status_code in (403, 404)
    assert_error(client.get(f"{B}/users/{ALICE}", headers=globex), 404, "UserNotFound")
    erin = f"{B}/accounts/{GLOBEX}/users/{ERIN}"
    assert client.put(erin, headers=admin, json={"name": "Owned"}).status_code in (403, 404)
    assert client.put(f"{B}/users/{ERIN}", headers=admin, json={"name": "Owned"}).status_code in (403, 404)
    assert client.get(erin, headers=globex).json()["name"] == "Erin Ellis"


def test_partner_sees_customers_and_account_lists(client, admin, partner):
    assert emails(client, partner, ACME) == ACME_EMAILS
    assert emails(client, partner, GLOBEX) == ["admin@globex.example", "erin@globex.example"]
    assert {a["accountId"] for a in items(client.get(f"{B}/accounts", headers=partner))} == {PARTNER, ACME, GLOBEX}
    assert [a["accountId"] for a in items(client.get(f"{B}/accounts", headers=admin))] == [ACME]


# ---------------------------------------------------------------------------- accounts
def test_partner_creates_customer_account(client, partner, admin):
    own = client.get(f"{B}/accounts/{PARTNER}", headers=partner).json()
    r = client.post(f"{B}/accounts", headers=partner, json={"name": "Initech"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["name"] == "Initech" and created["type"] == "CUSTOMER"
    assert created["partnerId"] == own["partnerId"] and created["accountId"] not in (PARTNER, ACME, GLOBEX)
    listed = {a["accountId"]: a["name"] for a in items(client.get(f"{B}/accounts", headers=partner))}
    assert listed[created["accountId"]] == "Initech" and len(listed) == 4
    assert_error(client.post(f"{B}/accounts", headers=admin, json={"name": "Rogue"}), 403)


def test_account_policy_update(client, admin, alice):
    r = client.put(f"{B}/accounts/{ACME}", headers=admin, json={"policy": {"allowGuestAccess": True}})
    assert r.status_code == 200 and r.json()["policy"]["allowGuestAccess"] is True
    policy = client.get(f"{B}/accounts/{ACME}", headers=admin).json()["policy"]
    assert policy == {"allowGuestAccess": True, "allowProxyAuthentication": False}
    assert_error(client.put(f"{B}/accounts/{ACME}", headers=alice, json={"name": "Mine"}), 403)
    assert client.get(f"{B}/accounts/{ACME}", headers=admin).json()["name"] == "Acme"


# ---------------------------------------------------------------------------- clients
def test_client_credentials_for_new_client(client, admin):
    r = client.post(f"{B}/accounts/{ACME}/clients", headers=admin, json={"name": "crm", "role": "USER"})
    assert r.status_code == 201, r.text
    created = r.json()
    assert created["clientId"] and created["clientSecret"] and created["role"] == "USER"
    assert "clientSecretHash" not in created
    listed = items(client.get(f"{B}/accounts/{ACME}/clients", headers=admin))
    assert created["clientId"] in {c["clientId"] for c in listed}
    assert all("clientSecret" not in c for c in listed)
    issued = client.post(f"{B}/token", data={"grant_type": "client_credentials", "client_id": created["clientId"],
                                             "client_secret": created["clientSecret"]})
    assert issued.status_code == 201, issued.text
    claims = client.get(f"{B}/token", headers=auth(issued.json()["access_token"]))
    assert claims.status_code == 200
    assert claims.json()["accountId"] == ACME and claims.json()["role"] == "USER"
    assert claims.json()["clientId"] == created["clientId"]
    bad = client.post(f"{B}/token", data={"grant_type": "client_credentials", "client_id": created["clientId"],
                                          "client_secret": "wrong"})
    assert bad.status_code in (400, 401)


# ---------------------------------------------------------------------------- authentication
def test_missing_and_garbage_tokens(client):
    assert_error(client.get(f"{B}/users"), 401, "MissingAuthToken")
    assert_error(client.get(f"{B}/users", headers={"Authorization": "Bearer not.a.jwt"}), 401)
    assert_error(client.post(ACME_USERS, json={"email": "anon@acme.example"}), 401, "MissingAuthToken")
