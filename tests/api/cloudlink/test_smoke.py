from tests.conftest import ACME, auth, token


def test_password_token_and_users_list(client):
    access = token(client, "admin@acme.example")
    users = client.get("/2017-09-01/users", headers=auth(access))
    assert users.status_code == 200
    emails = {u["email"] for u in users.json()["_embedded"]["items"]}
    assert "alice@acme.example" in emails and "erin@globex.example" not in emails
    assert all(u["accountId"] == ACME for u in users.json()["_embedded"]["items"])
