"""User Line through a live server: the user's lines, the active caller id, and that changing it changes the
number the far end sees on a call placed through the CloudLink Media API."""
from __future__ import annotations

from tests.api.uc.helpers import refused

LINES = "/api/userline/acme.example/alice"


def test_lines_and_active_line(client, ticket, openapi, alice, bob) -> None:
    headers = ticket("alice@acme.example", ("USER",))
    lines = openapi.check(client.get(LINES, headers=headers)).json()["line"]
    assert [(line["type"], line["groupId"], line["active"]) for line in lines] == [
        ("OFFICE_FIXED", 0, True), ("OFFICE_MOBILE", 0, False), ("ANONYMOUS", 0, False), ("ACD", 5000, False)]
    assert openapi.check(client.get(f"{LINES}/active", headers=headers)).json() == {
        "number": "2880", "type": "OFFICE_FIXED", "name": "Alice Anders", "groupId": 0}
    changed = openapi.check(client.put(f"{LINES}/active", json={"type": "ACD", "groupId": 5000}, headers=headers))
    assert changed.status_code == 200 and changed.json() == {"field": [], "warning": [], "generated-id": ""}
    assert client.get(f"{LINES}/active", headers=headers).json()["number"] == "5000"
    # A call alice places through the Media API now shows the Support queue's number at bob's phone.
    placed = client.post("/2017-09-01/endpoints/2880/calls", json={"to": "2881"}, headers=alice)
    assert placed.status_code in (200, 201), placed.text
    ringing = client.get("/2017-09-01/endpoints/2881/calls", headers=bob).json()["_embedded"]["items"][0]
    assert ringing["from"] == "5000" and ringing["fromName"] == "Support"


def test_refusals(client, ticket, openapi) -> None:
    headers = ticket("alice@acme.example", ("USER",))
    refused(openapi.check(client.put(f"{LINES}/active", json={"type": "ACD", "groupId": 5100}, headers=headers)),
            400, "line.does.not.exist")
    refused(openapi.check(client.put(f"{LINES}/active", json={"type": "FAX", "groupId": 0}, headers=headers)),
            400, "type.not.valid")
    refused(client.put(f"{LINES}/active", json={"type": "ACD"}, headers=headers), 400, "groupId.required")
    bob = ticket("bob@acme.example", ("USER",))
    refused(openapi.check(client.get(LINES, headers=bob)), 403, "access.denied")


def test_a_cti_call_can_name_its_line(client, ticket, bob) -> None:
    headers = ticket("alice@acme.example", ("CALL_CONTROL", "USER"))
    soft = client.get("/api/device/info/v1/list/acme.example/alice", params={"type": "SOFTPHONE"},
                      headers=headers).json()[0]["deviceId"]
    url = f"/api/cti/acme.example/alice/devices/{soft}/calls"
    refused(client.post(url, json={"destination": "2881", "userLine": {"type": "ACD", "groupId": 5100}},
                        headers=headers), 400, "line.does.not.exist")
    assert client.get("/2017-09-01/endpoints/2881/calls", headers=bob).json()["count"] == 0   # nothing rang
    made = client.post(url, json={"destination": "2881", "userLine": {"type": "ANONYMOUS", "groupId": 0}},
                       headers=headers)
    assert made.status_code == 200, made.text
    ringing = client.get("/2017-09-01/endpoints/2881/calls", headers=bob).json()["_embedded"]["items"][0]
    assert ringing["from"] == "anonymous" and ringing["fromName"] == "Anonymous"
    assert client.get(f"{LINES}/active", headers=headers).json()["type"] == "OFFICE_FIXED"   # for that call only
