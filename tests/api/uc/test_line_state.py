"""Line State through a live server: create (POST or PUT), read, update, delete, expiry on the twin's clock,
and that a marked user is busy for calls placed through the CloudLink Media API."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

from tests.api.uc.helpers import control, refused

URL = "/api/linestate/acme.example/bob/crm-42"


def later(client, seconds: float) -> str:
    now = datetime.fromisoformat(client.get("/_callyard/clock").json()["now"].replace("Z", "+00:00"))
    return (now + timedelta(seconds=seconds)).astimezone(timezone(timedelta(hours=1))).isoformat(timespec="seconds")


def test_a_line_state_lives_until_it_expires(client, ticket, openapi, alice, bob) -> None:
    headers = ticket("bob@acme.example", ("CALLS",))
    refused(openapi.check(client.get(URL, headers=headers)), 404, "linestate.does.not.exist")
    until = later(client, 60)
    created = openapi.check(client.post(URL, json={"expiresOn": until}, headers=headers))
    assert created.status_code == 201 and created.json()["expiresOn"]
    moved = openapi.check(client.put(URL, json={"expiresOn": later(client, 120)}, headers=headers))
    assert moved.status_code == 200
    assert openapi.check(client.get(URL, headers=headers)).json() == moved.json()
    # bob is busy: a call to him meets his busy handling (voicemail), his phone does not ring.
    placed = client.post("/2017-09-01/endpoints/2880/calls", json={"to": "2881"}, headers=alice)
    assert placed.status_code == 200, placed.text
    assert client.get("/2017-09-01/endpoints/2881/calls", headers=bob).json()["count"] == 0
    control(client).advance(121)
    refused(client.get(URL, headers=headers), 404, "linestate.does.not.exist")


def test_delete_and_refusals(client, ticket, openapi) -> None:
    headers = ticket("bob@acme.example", ("CALLS",))
    assert client.put(URL, json={"expiresOn": later(client, 60)}, headers=headers).status_code == 201
    assert openapi.check(client.delete(URL, headers=headers)).status_code == 204
    refused(openapi.check(client.delete(URL, headers=headers)), 404, "linestate.does.not.exist")
    refused(openapi.check(client.post(URL, json={"expiresOn": "tomorrow"}, headers=headers)), 400,
            "expiresOn.not.valid")
    refused(client.post(URL, json={"expiresOn": later(client, -60)}, headers=headers), 400, "expiresOn.in.past")
    refused(client.post(URL, json={}, headers=headers), 400, "expiresOn.required")
    alice = ticket("alice@acme.example", ("CALLS",))
    refused(client.get(URL, headers=alice), 403, "access.denied")
