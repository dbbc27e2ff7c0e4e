"""The Media API's conferences through HTTP: create / read / update / delete, participants, connections,
attendance history, recording control, content search, access rules and tenant isolation.

Every response is checked against the vendor swagger (``conform`` below: ``tests.support.swagger.check``,
with one repair of the swagger explained there). Every test starts from the demo tenant (``client`` resets
it) on the server's manual clock.
"""
from __future__ import annotations

import copy
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from jsonschema import Draft4Validator

from tests.conftest import ACME, ALICE, BOB, ERIN, OPERATOR_HEADERS
from tests.support import swagger
from tests.support.swagger import check

B = "/2017-09-01"
CAROL = "ac3e0000-0000-4000-8000-000000002882"
DAVE = "ac3e0000-0000-4000-8000-000000000200"
ADMIN = "ac3e0000-0000-4000-8000-00000000ad01"


# ---------------------------------------------------------------------------- swagger conformance
def _repaired_participant() -> dict[str, Any]:
    """The swagger's ``participant`` is ``allOf[resource, {…, additionalProperties: false}]``. JSON Schema
    applies ``additionalProperties`` per branch, so the first branch requires ``_links`` and the second
    forbids it: no instance validates (see ``test_swagger_participant_definition_is_unsatisfiable``). The
    intent is plain: the union of both branches, nothing else. That union is what we hold answers to."""
    definitions = swagger.spec()["definitions"]
    resource, own = (definitions[part["$ref"].rsplit("/", 1)[1]] if "$ref" in part else part
                     for part in definitions["participant"]["allOf"])
    return {"type": "object", "required": sorted(set(resource["required"]) | set(own["required"])),
            "properties": {**resource["properties"], **own["properties"]}, "additionalProperties": False}


def _reaches(schema: Any, target: str, seen: set[str] | None = None) -> bool:
    seen = set() if seen is None else seen
    if isinstance(schema, dict):
        ref = schema.get("$ref", "")
        if ref:
            name = ref.rsplit("/", 1)[1]
            if name == target:
                return True
            if name in seen:
                return False
            seen.add(name)
            return _reaches(swagger.spec()["definitions"][name], target, seen)
        return any(_reaches(v, target, seen) for v in schema.values())
    if isinstance(schema, list):
        return any(_reaches(v, target, seen) for v in schema)
    return False


def conform(response: httpx.Response, method: str, path: str) -> Any:
    """``check`` — the status must be declared for the operation and the body must match its schema — except
    that a schema embedding ``participant`` is validated with the repaired definition."""
    schema = swagger.schema_for(method, path, response.status_code)
    if response.status_code >= 400 or schema is None or not _reaches(schema, "participant"):
        return check(response, method, path)
    assert response.headers.get("content-type", "").startswith("application/json"), response.text
    body = response.json()
    root = {**schema, "definitions": {**swagger.spec()["definitions"], "participant": _repaired_participant()}}
    errors = sorted(Draft4Validator(root).iter_errors(body), key=lambda e: list(e.path))
    assert not errors, "; ".join(f"{'/'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors[:5])
    return body


def ok(response: httpx.Response, method: str, path: str) -> Any:
    body = conform(response, method, path)
    assert response.status_code == 200, response.text
    return body


def fails(response: httpx.Response, method: str, path: str, status: int, name: str | None = None) -> dict:
    body = conform(response, method, path)
    assert response.status_code == status, response.text
    assert isinstance(body["name"], str) and body["name"] and isinstance(body["message"], str) and body["message"]
    if name:
        assert body["name"] == name, body
    return body


def fails_undeclared(response: httpx.Response, method: str, path: str, status: int, name: str) -> dict:
    """A status the swagger does not declare for this operation (listed in the report as a swagger gap).
    Pins that it is still undeclared, and that the body is the usual ``{name, message}`` error."""
    with pytest.raises(AssertionError, match="does not declare"):
        swagger.schema_for(method, path, status)
    assert response.status_code == status, response.text
    body = response.json()
    swagger.definition("error", body)
    assert body["name"] == name and isinstance(body["message"], str) and body["message"], body
    return body


def test_swagger_participant_definition_is_unsatisfiable():
    with_links = {"participantId": ALICE, "state": "accepted", "_links": {"self": "/x"}}
    for instance in (with_links, {k: v for k, v in with_links.items() if k != "_links"}):
        with pytest.raises(AssertionError):
            swagger.definition("participant", instance)
    Draft4Validator(_repaired_participant()).validate(with_links)


# ---------------------------------------------------------------------------- fixtures and helpers
def create(client: httpx.Client, headers: dict, **body: Any) -> dict:
    return ok(client.post(f"{B}/conferences", json=body, headers=headers), "POST", "/conferences")


def get(client: httpx.Client, headers: dict, conference_id: str) -> dict:
    return ok(client.get(f"{B}/conferences/{conference_id}", headers=headers), "GET", "/conferences/{conferenceId}")


def act(client: httpx.Client, headers: dict, conference_id: str, action: str) -> httpx.Response:
    return client.post(f"{B}/conferences/{conference_id}", json={"action": action}, headers=headers)


def connect(client: httpx.Client, headers: dict, conference_id: str, participant_id: str) -> httpx.Response:
    return client.post(f"{B}/conferences/{conference_id}/participants/{participant_id}/connections", headers=headers)


def connected(client: httpx.Client, headers: dict, conference_id: str, participant_id: str) -> dict:
    return ok(connect(client, headers, conference_id, participant_id), "POST",
              "/conferences/{conferenceId}/participants/{participantId}/connections")


def put_participant(client: httpx.Client, headers: dict, conference_id: str, participant_id: str,
                    body: Any) -> httpx.Response:
    return client.put(f"{B}/conferences/{conference_id}/participants/{participant_id}", json=body, headers=headers)


def leave(client: httpx.Client, headers: dict, conference_id: str, participant_id: str) -> dict:
    return ok(put_participant(client, headers, conference_id, participant_id, {"action": "leave"}), "PUT",
              "/conferences/{conferenceId}/participants/{participantId}")


def conferences(client: httpx.Client, headers: dict, query: str = "") -> list[dict]:
    body = ok(client.get(f"{B}/conferences" + (f"?{query}" if query else ""), headers=headers), "GET", "/conferences")
    return body["_embedded"]["items"]


def roster(conference: dict) -> dict[str, str]:
    return {p["participantId"]: p["state"] for p in conference["_embedded"]["participants"]["_embedded"]["items"]}


def documents(client: httpx.Client, admin: dict, kind: str) -> list[dict]:
    response = client.get("/_callyard/state", headers=admin)
    assert response.status_code == 200, response.text
    return response.json()["documents"].get(kind, [])


def advance(client: httpx.Client, admin: dict, seconds: float) -> str:
    response = client.post("/_callyard/clock/advance", json={"seconds": seconds}, headers=OPERATOR_HEADERS)
    assert response.status_code == 200, response.text
    return response.json()["now"]


def now(client: httpx.Client) -> str:
    return client.get("/_callyard/clock").json()["now"]


def attendances(client: httpx.Client, headers: dict, user: str = "me", query: str = "") -> list[dict]:
    response = client.get(f"{B}/users/{user}/attendances" + (f"?{query}" if query else ""), headers=headers)
    return ok(response, "GET", "/users/{userId}/attendances")["_embedded"]["items"]


# ---------------------------------------------------------------------------- create and read
def test_create_applies_the_defaults_and_adds_the_creator(client, alice):
    stamp = now(client)
    body = create(client, alice, name="Weekly sync")
    assert body["name"] == "Weekly sync" and body["accountId"] == ACME
    assert body["type"] == "everyoneAllowed" and body["visibility"] == "public"
    assert body["lobbyPolicy"] == "guestLobby" and body["state"] == "inactive"
    assert len(body["accessCode"]) == 9 and body["accessCode"].isdigit()
    assert body["createdBy"] == body["modifiedBy"] == ALICE
    assert body["createdOn"] == body["modifiedOn"] == stamp
    assert body["_links"] == {"self": f"{B}/conferences/{body['id']}",
                              "participants": f"{B}/conferences/{body['id']}/participants"}
    assert roster(body) == {ALICE: "accepted"}
    participants = body["_embedded"]["participants"]
    assert participants["count"] == 1 and participants["_links"]["self"] == f"{B}/conferences/{body['id']}/participants"
    assert participants["_embedded"]["items"][0]["_links"]["self"] == \
        f"{B}/conferences/{body['id']}/participants/{ALICE}"
    addresses = body["_embedded"]["addresses"]["_embedded"]["items"]
    assert any(a["type"] == "pstn" and a["description"] == "Internal" and a["url"].startswith("tel:+")
               for a in addresses)
    assert get(client, alice, body["id"]) == body


def test_create_with_every_option(client, alice, admin):
    body = create(client, alice, id="team-standup", name="Standup", type="inviteOnly", lobbyPolicy="noLobby",
                  accessCodeLength=4, expiryDateTime="2999-01-31T10:00:00.600+01:00",
                  participants=[{"participantId": BOB}, {"participantId": CAROL}, {"participantId": "me"},
                                {"participantId": BOB}])
    assert body["id"] == "team-standup" and body["type"] == "inviteOnly" and body["visibility"] == "private"
    assert body["lobbyPolicy"] == "noLobby" and len(body["accessCode"]) == 4 and body["accessCode"].isdigit()
    assert roster(body) == {ALICE: "accepted", BOB: "invited", CAROL: "invited"}
    [doc] = documents(client, admin, "conference")
    assert doc["expiryDateTime"] == "2999-01-31T09:00:01.000Z"  # UTC, rounded to the second


def test_access_codes_are_unique_in_the_account(client, alice, bob, admin):
    codes = {create(client, alice if n % 2 else bob, accessCodeLength=1)["accessCode"] for n in range(10)}
    assert len(codes) == 10 and all(len(c) == 1 for c in codes)
    fails(client.post(f"{B}/conferences", json={"accessCodeLength": 1}, headers=alice), "POST", "/conferences",
          409, "AccessCodesExhausted")
    assert len(documents(client, admin, "conference")) == 10
    create(client, alice, accessCodeLength=2)


def test_a_taken_id_is_a_conflict(client, alice, bob, admin):
    first = create(client, alice, id="board-meeting", name="First")
    fails(client.post(f"{B}/conferences", json={"id": "board-meeting", "name": "Second"}, headers=bob),
          "POST", "/conferences", 409, "ConferenceExists")
    assert get(client, alice, "board-meeting") == first
    assert len(documents(client, admin, "conference")) == 1


@pytest.mark.parametrize("payload, name", [
    ({"colour": "blue"}, "ValidationError"),
    ({"type": "secret"}, "ValidationError"),
    ({"lobbyPolicy": "bouncer"}, "ValidationError"),
    ({"name": 42}, "ValidationError"),
    ({"name": "   "}, "ValidationError"),
    ({"name": "x" * 257}, "ValidationError"),
    ({"accessCodeLength": 0}, "ValidationError"),
    ({"accessCodeLength": 100}, "ValidationError"),
    ({"accessCodeLength": 9.5}, "ValidationError"),
    ({"accessCodeLength": "9"}, "ValidationError"),
    ({"expiryDateTime": "tomorrow"}, "InvalidExpiryDateTime"),
    ({"expiryDateTime": "2999-01-01"}, "InvalidExpiryDateTime"),
    ({"expiryDateTime": "2999-01-01T10:00:00"}, "InvalidExpiryDateTime"),
    ({"expiryDateTime": "2999-02-30T10:00:00Z"}, "InvalidExpiryDateTime"),
    ({"expiryDateTime": "2001-01-01T10:00:00Z"}, "InvalidExpiryDateTime"),
    ({"participants": [{"participantId": ERIN}]}, "InvalidParticipant"),
    ({"participants": [{"participantId": BOB}, {"participantId": "nobody"}]}, "InvalidParticipant"),
    ({"participants": [{"participantId": BOB, "role": "host"}]}, "ValidationError"),
    ({"participants": [{}]}, "ValidationError"),
    ({"id": "bad/id"}, "InvalidConferenceId"),
    ({"id": "has:colon"}, "InvalidConferenceId"),
    ({"id": ""}, "InvalidConferenceId"),
    ([{"name": "a list"}], "ValidationError"),
])
def test_bad_create_bodies_are_400_and_change_nothing(client, alice, admin, payload, name):
    fails(client.post(f"{B}/conferences", json=payload, headers=alice), "POST", "/conferences", 400, name)
    assert documents(client, admin, "conference") == [] and documents(client, admin, "participant") == []


def test_create_needs_a_body_and_a_token(client, alice):
    fails(client.post(f"{B}/conferences", headers=alice), "POST", "/conferences", 400, "MissingBodyInRequest")
    fails(client.post(f"{B}/conferences", content=b"{not json", headers={**alice, "content-type": "application/json"}),
          "POST", "/conferences", 400, "MalformedJSON")
    fails(client.post(f"{B}/conferences", json={}), "POST", "/conferences", 401, "MissingAuthToken")
    fails(client.get(f"{B}/conferences"), "GET", "/conferences", 401)


def test_served_under_the_media_prefix_too(client, alice):
    body = create(client, alice, name="Prefixed")
    response = client.get(f"/media{B}/conferences/{body['id']}", headers=alice)
    assert ok(response, "GET", "/conferences/{conferenceId}")["id"] == body["id"]


# ---------------------------------------------------------------------------- visibility and isolation
def test_who_sees_which_conference(client, admin, alice, bob, carol, erin):
    open_one = create(client, alice, name="Open house")
    advance(client, admin, 1)
    private = create(client, alice, name="Secret plans", type="inviteOnly", participants=[{"participantId": BOB}])
    assert [c["id"] for c in conferences(client, alice)] == [private["id"], open_one["id"]]  # newest first
    assert [c["id"] for c in conferences(client, bob)] == [private["id"], open_one["id"]]
    assert [c["id"] for c in conferences(client, admin)] == [private["id"], open_one["id"]]
    assert [c["id"] for c in conferences(client, carol)] == [open_one["id"]]
    assert conferences(client, erin) == []
    get(client, carol, open_one["id"])
    fails(client.get(f"{B}/conferences/{private['id']}", headers=carol), "GET", "/conferences/{conferenceId}",
          403, "InsufficientPermissions")
    assert get(client, bob, private["id"])["name"] == "Secret plans"
    fails(client.get(f"{B}/conferences/{open_one['id']}", headers=erin), "GET", "/conferences/{conferenceId}",
          404, "ConferenceNotFound")
    fails(client.get(f"{B}/conferences/no-such-thing", headers=alice), "GET", "/conferences/{conferenceId}",
          404, "ConferenceNotFound")


def test_another_account_cannot_touch_a_conference(client, alice, erin, admin):
    body = create(client, alice, name="Acme only")
    cid = body["id"]
    P = "/conferences/{conferenceId}"
    fails(client.put(f"{B}/conferences/{cid}", json={"name": "Mine now"}, headers=erin), "PUT", P, 404)
    fails(client.delete(f"{B}/conferences/{cid}", headers=erin), "DELETE", P, 404)
    fails(act(client, erin, cid, "end"), "POST", P, 404)
    fails(client.post(f"{B}/conferences/{cid}/participants", json={"participantId": ERIN}, headers=erin),
          "POST", P + "/participants", 404)
    fails(client.get(f"{B}/conferences/{cid}/participants/{ALICE}", headers=erin),
          "GET", P + "/participants/{participantId}", 404)
    fails(put_participant(client, erin, cid, ALICE, {"muted": True}), "PUT", P + "/participants/{participantId}", 404)
    fails(client.delete(f"{B}/conferences/{cid}/participants/{ALICE}", headers=erin),
          "DELETE", P + "/participants/{participantId}", 404)
    fails(connect(client, erin, cid, "me"), "POST", P + "/participants/{participantId}/connections", 404)
    fails_undeclared(client.get(f"{B}/conferences/{cid}/participants", headers=erin), "GET", P + "/participants",
                     404, "ConferenceNotFound")
    search = ok(client.get(f"{B}/conferences/content", params={"$search": "Acme"}, headers=erin),
                "GET", "/conferences/content")
    assert search["_embedded"]["items"] == []
    assert get(client, alice, cid) == body  # unchanged
    assert [d["participantId"] for d in documents(client, admin, "participant")] == [ALICE]


def test_contains_all_participants_and_paging_keeps_it(client, admin, alice):
    with_bob = create(client, alice, name="With Bob", participants=[{"participantId": BOB}])
    advance(client, admin, 1)
    with_carol = create(client, alice, name="With Carol", participants=[{"participantId": CAROL}])
    advance(client, admin, 1)
    both = create(client, alice, name="Both", participants=[{"participantId": BOB}, {"participantId": CAROL}])
    assert [c["id"] for c in conferences(client, alice, f"containsAllParticipants=me,{BOB}")] == \
        [both["id"], with_bob["id"]]
    assert [c["id"] for c in conferences(client, alice, f"containsAllParticipants={CAROL},{BOB}")] == [both["id"]]
    assert [c["id"] for c in conferences(client, admin, f"containsAllParticipants={CAROL}")] == \
        [both["id"], with_carol["id"]]
    assert conferences(client, alice, "containsAllParticipants=me,nobody") == []
    page = ok(client.get(f"{B}/conferences", params={"containsAllParticipants": f"me,{BOB}", "$top": "1"},
                         headers=alice), "GET", "/conferences")
    assert [c["id"] for c in page["_embedded"]["items"]] == [both["id"]]
    following = page["_links"]["next"]
    assert parse_qs(urlsplit(following).query)["containsAllParticipants"] == [f"me,{BOB}"]
    second = ok(client.get(following, headers=alice), "GET", "/conferences")
    assert [c["id"] for c in second["_embedded"]["items"]] == [with_bob["id"]] and "next" not in second["_links"]


def test_odata_on_the_conference_list(client, admin, alice):
    a = create(client, alice, name="Alpha")
    advance(client, admin, 1)
    b = create(client, alice, name="Bravo", type="inviteOnly")
    found = conferences(client, alice, f"$filter=accessCode eq '{a['accessCode']}'")
    assert [c["id"] for c in found] == [a["id"]]
    assert [c["id"] for c in conferences(client, alice, "$filter=type eq 'inviteOnly'")] == [b["id"]]
    assert [c["name"] for c in conferences(client, alice, "$orderby=name")] == ["Alpha", "Bravo"]
    assert [c["name"] for c in conferences(client, alice, "$skip=1")] == ["Alpha"]
    assert [c["name"] for c in conferences(client, alice, "$skiptoken=1")] == ["Alpha"]
    expanded = conferences(client, alice, "$expand=tags")
    assert all(c["_embedded"]["tags"]["_embedded"]["items"] == [] for c in expanded)
    assert all("tags" not in c["_embedded"] and "tags" not in c for c in conferences(client, alice))
    single = ok(client.get(f"{B}/conferences/{a['id']}", params={"$expand": "tags"}, headers=alice),
                "GET", "/conferences/{conferenceId}")
    assert single["_embedded"]["tags"]["count"] == 0
    fails_undeclared(client.get(f"{B}/conferences", params={"$filter": "name eq"}, headers=alice),
                     "GET", "/conferences", 400, "InvalidFilter")


def test_user_conferences(client, admin, alice, bob, carol):
    invited = create(client, alice, name="Invited Bob", type="inviteOnly", participants=[{"participantId": BOB}])
    advance(client, admin, 1)
    create(client, alice, name="Open, Bob not in it")
    advance(client, admin, 1)
    own = create(client, bob, name="Bob's own")
    path = "/users/{userId}/conferences"
    mine = ok(client.get(f"{B}/users/me/conferences", headers=bob), "GET", path)["_embedded"]["items"]
    assert [c["id"] for c in mine] == [own["id"], invited["id"]]
    by_id = ok(client.get(f"{B}/users/{BOB}/conferences", headers=bob), "GET", path)["_embedded"]["items"]
    assert by_id == mine
    assert ok(client.get(f"{B}/users/{BOB}/conferences", headers=admin), "GET", path)["_embedded"]["items"] == mine
    carols = ok(client.get(f"{B}/users/{CAROL}/conferences", headers=admin), "GET", path)["_embedded"]["items"]
    assert carols == []
    fails(client.get(f"{B}/users/{BOB}/conferences", headers=carol), "GET", path, 403, "InsufficientPermissions")
    fails(client.get(f"{B}/users/{ERIN}/conferences", headers=admin), "GET", path, 403, "InsufficientPermissions")
    filtered = ok(client.get(f"{B}/users/me/conferences", params={"$filter": "name eq 'Bob''s own'"}, headers=bob),
                  "GET", path)["_embedded"]["items"]
    assert [c["id"] for c in filtered] == [own["id"]]


# ---------------------------------------------------------------------------- update and delete
def test_update_by_creator_and_admin_only(client, admin, alice, bob):
    body = create(client, alice, name="Before", participants=[{"participantId": BOB}])
    cid = body["id"]
    P = "/conferences/{conferenceId}"
    later = advance(client, admin, 60)
    updated = ok(client.put(f"{B}/conferences/{cid}", json={"name": "After", "lobbyPolicy": "nonOwnerLobby"},
                            headers=alice), "PUT", P)
    assert updated["name"] == "After" and updated["lobbyPolicy"] == "nonOwnerLobby"
    assert updated["modifiedOn"] == later and updated["createdOn"] == body["createdOn"]
    assert updated["modifiedBy"] == ALICE and updated["accessCode"] == body["accessCode"]
    fails(client.put(f"{B}/conferences/{cid}", json={"name": "Bob's"}, headers=bob), "PUT", P, 403,
          "InsufficientPermissions")
    by_admin = ok(client.put(f"{B}/conferences/{cid}", json={"name": "Admin's"}, headers=admin), "PUT", P)
    assert by_admin["modifiedBy"] == ADMIN and by_admin["lobbyPolicy"] == "nonOwnerLobby"
    for bad in ({}, {"type": "inviteOnly"}, {"name": ""}, {"lobbyPolicy": "open"}, {"name": None}):
        fails(client.put(f"{B}/conferences/{cid}", json=bad, headers=alice), "PUT", P, 400)
    assert get(client, alice, cid) == by_admin


def test_delete_removes_the_conference_and_its_participants(client, admin, alice, bob):
    body = create(client, alice, name="Short-lived", participants=[{"participantId": BOB}])
    cid = body["id"]
    P = "/conferences/{conferenceId}"
    fails(client.delete(f"{B}/conferences/{cid}", headers=bob), "DELETE", P, 403)
    deleted = ok(client.delete(f"{B}/conferences/{cid}", headers=alice), "DELETE", P)
    assert deleted["id"] == cid and roster(deleted) == {ALICE: "accepted", BOB: "invited"}
    fails(client.get(f"{B}/conferences/{cid}", headers=alice), "GET", P, 404)
    fails(client.delete(f"{B}/conferences/{cid}", headers=alice), "DELETE", P, 404)
    assert documents(client, admin, "conference") == [] and documents(client, admin, "participant") == []
    other = create(client, bob, name="Bob's")
    ok(client.delete(f"{B}/conferences/{other['id']}", headers=admin), "DELETE", P)


def test_delete_during_a_meeting_closes_attendances_and_keeps_the_recording(client, admin, alice, bob):
    cid = create(client, alice, name="Interrupted", participants=[{"participantId": BOB}])["id"]
    connected(client, alice, cid, "me")
    connected(client, bob, cid, "me")
    ok(act(client, alice, cid, "record"), "POST", "/conferences/{conferenceId}")
    advance(client, admin, 20)
    ok(client.delete(f"{B}/conferences/{cid}", headers=alice), "DELETE", "/conferences/{conferenceId}")
    [recording] = documents(client, admin, "recording")
    assert recording["callId"] == cid and recording["durationInSeconds"] == 20
    mine = attendances(client, bob)
    assert len(mine) == 1 and mine[0]["conferenceId"] == cid and "_links" not in mine[0]  # conference is gone


# ---------------------------------------------------------------------------- participants
def test_adding_participants(client, admin, alice, bob, carol, erin):
    cid = create(client, alice, name="Open")["id"]
    private = create(client, alice, name="Closed", type="inviteOnly")["id"]
    P = "/conferences/{conferenceId}/participants"
    added = ok(client.post(f"{B}/conferences/{cid}/participants", json={"participantId": BOB}, headers=alice),
               "POST", P)
    assert added["participantId"] == BOB and added["state"] == "invited"
    assert added["_links"]["self"] == f"{B}/conferences/{cid}/participants/{BOB}"
    fails(client.post(f"{B}/conferences/{cid}/participants", json={"participantId": BOB}, headers=alice),
          "POST", P, 409, "ParticipantExists")
    fails(client.post(f"{B}/conferences/{cid}/participants", json={"participantId": ERIN}, headers=alice),
          "POST", P, 400, "InvalidParticipant")
    fails(client.post(f"{B}/conferences/{cid}/participants", json={"participantId": DAVE}, headers=bob),
          "POST", P, 403, "InsufficientPermissions")
    itself = ok(client.post(f"{B}/conferences/{cid}/participants", json={"participantId": "me"}, headers=carol),
                "POST", P)
    assert itself["participantId"] == CAROL and itself["state"] == "accepted"
    fails(client.post(f"{B}/conferences/{private}/participants", json={"participantId": "me"}, headers=carol),
          "POST", P, 403)
    by_admin = ok(client.post(f"{B}/conferences/{private}/participants", json={"participantId": DAVE}, headers=admin),
                  "POST", P)
    assert by_admin["state"] == "invited"
    for bad in ({}, {"participantId": 7}, {"participantId": BOB, "state": "active"}):
        fails(client.post(f"{B}/conferences/{cid}/participants", json=bad, headers=alice), "POST", P, 400)
    fails(client.post(f"{B}/conferences/{cid}/participants", json={"participantId": DAVE}, headers=erin),
          "POST", P, 404)
    everyone = ok(client.get(f"{B}/conferences/{cid}/participants", headers=bob), "GET", P)
    assert [(p["participantId"], p["state"]) for p in everyone["_embedded"]["items"]] == \
        [(ALICE, "accepted"), (BOB, "invited"), (CAROL, "accepted")]
    assert everyone["count"] == 3
    filtered = ok(client.get(f"{B}/conferences/{cid}/participants", params={"$filter": "state eq 'invited'"},
                             headers=bob), "GET", P)
    assert [p["participantId"] for p in filtered["_embedded"]["items"]] == [BOB]
    fails_undeclared(client.get(f"{B}/conferences/{private}/participants", headers=carol), "GET", P, 403,
                     "InsufficientPermissions")


def test_reading_one_participant(client, alice, bob, carol):
    cid = create(client, alice, name="Read me", type="inviteOnly", participants=[{"participantId": BOB}])["id"]
    P = "/conferences/{conferenceId}/participants/{participantId}"
    assert ok(client.get(f"{B}/conferences/{cid}/participants/me", headers=bob), "GET", P)["participantId"] == BOB
    assert ok(client.get(f"{B}/conferences/{cid}/participants/{ALICE}", headers=bob), "GET", P)["state"] == "accepted"
    fails(client.get(f"{B}/conferences/{cid}/participants/{CAROL}", headers=alice), "GET", P, 404,
          "ParticipantNotFound")
    fails(client.get(f"{B}/conferences/{cid}/participants/{BOB}", headers=carol), "GET", P, 403)


def test_removing_participants(client, admin, alice, bob, carol):
    cid = create(client, alice, name="Trim", participants=[{"participantId": BOB}, {"participantId": CAROL},
                                                           {"participantId": DAVE}])["id"]
    P = "/conferences/{conferenceId}/participants/{participantId}"
    fails(client.delete(f"{B}/conferences/{cid}/participants/{CAROL}", headers=bob), "DELETE", P, 403)
    gone = ok(client.delete(f"{B}/conferences/{cid}/participants/me", headers=bob), "DELETE", P)
    assert gone["participantId"] == BOB
    ok(client.delete(f"{B}/conferences/{cid}/participants/{CAROL}", headers=alice), "DELETE", P)
    ok(client.delete(f"{B}/conferences/{cid}/participants/{DAVE}", headers=admin), "DELETE", P)
    fails(client.delete(f"{B}/conferences/{cid}/participants/{ALICE}", headers=admin), "DELETE", P, 403,
          "CannotRemoveCreator")
    fails(client.delete(f"{B}/conferences/{cid}/participants/{BOB}", headers=alice), "DELETE", P, 404,
          "ParticipantNotFound")
    assert roster(get(client, alice, cid)) == {ALICE: "accepted"}


def test_updating_a_participant(client, admin, alice, bob, carol):
    cid = create(client, alice, name="Flags", participants=[{"participantId": BOB}, {"participantId": CAROL}])["id"]
    P = "/conferences/{conferenceId}/participants/{participantId}"
    ok(put_participant(client, alice, cid, BOB, {"muted": True}), "PUT", P)
    body = ok(put_participant(client, bob, cid, "me", {"onetimeAcceptance": True, "associatedParticipantId": CAROL}),
              "PUT", P)
    assert body["onetimeAcceptance"] is True and body["participantId"] == BOB
    [doc] = [d for d in documents(client, admin, "participant") if d["participantId"] == BOB]
    assert doc["muted"] is True and doc["associatedParticipantId"] == CAROL and doc["onetimeAcceptance"] is True
    ok(put_participant(client, bob, cid, "me", {"muted": False}), "PUT", P)
    [doc] = [d for d in documents(client, admin, "participant") if d["participantId"] == BOB]
    assert doc["muted"] is False
    fails(put_participant(client, carol, cid, BOB, {"muted": True}), "PUT", P, 403, "InsufficientPermissions")
    for bad, name in (({"associatedParticipantId": DAVE}, "InvalidAssociatedParticipant"),
                      ({"associatedParticipantId": ""}, "InvalidAssociatedParticipant"),
                      ({"muted": "yes"}, "ValidationError"), ({"muted": 1}, "ValidationError"),
                      ({"action": "join"}, "ValidationError"), ({}, "ValidationError"),
                      ({"state": "active"}, "ValidationError")):
        fails(put_participant(client, bob, cid, "me", bad), "PUT", P, 400, name)
    fails(put_participant(client, alice, cid, DAVE, {"muted": True}), "PUT", P, 404, "ParticipantNotFound")
    [after] = [d for d in documents(client, admin, "participant") if d["participantId"] == BOB]
    assert after == doc  # nothing changed by the rejected requests
    ok(client.delete(f"{B}/conferences/{cid}/participants/{CAROL}", headers=alice), "DELETE", P)
    [unlinked] = [d for d in documents(client, admin, "participant") if d["participantId"] == BOB]
    assert unlinked.get("associatedParticipantId") is None


# ---------------------------------------------------------------------------- connections and attendance
def test_connecting_makes_the_conference_active_and_opens_an_attendance(client, admin, alice, bob):
    cid = create(client, alice, name="Live", participants=[{"participantId": BOB}])["id"]
    joined_at = advance(client, admin, 10)
    connection = connected(client, alice, cid, "me")
    assert connection["token"] and connection["externalId"]
    assert connection["mediaUrl"].startswith("ws://") and f"/_callyard/conferences/{cid}/" in connection["mediaUrl"]
    assert connection["signalingUrl"].startswith("ws://") and connection["turnUrl"].startswith("turn:")
    conference = get(client, alice, cid)
    assert conference["state"] == "active" and connection["externalConferenceId"] == conference["externalId"]
    assert roster(conference) == {ALICE: "active", BOB: "invited"}
    participant = ok(client.get(f"{B}/conferences/{cid}/participants/me", headers=alice),
                     "GET", "/conferences/{conferenceId}/participants/{participantId}")
    assert participant["type"] == "webapi" and participant["externalId"] == connection["externalId"]
    [attendance] = documents(client, admin, "attendance")
    assert attendance["participantId"] == ALICE and attendance["joinTimeStamp"] == joined_at
    assert attendance["conferenceId"] == cid and "leaveTimeStamp" not in attendance
    again = connected(client, alice, cid, ALICE)  # a reconnect: new token, same attendance
    assert again["token"] != connection["token"] and len(documents(client, admin, "attendance")) == 1
    assert attendances(client, alice) == []  # still open: not history yet


def test_who_may_connect(client, admin, alice, bob, carol, erin):
    open_one = create(client, alice, name="Drop-in")["id"]
    private = create(client, alice, name="Invite only", type="inviteOnly", participants=[{"participantId": BOB}])["id"]
    C = "/conferences/{conferenceId}/participants/{participantId}/connections"
    connected(client, carol, open_one, "me")  # everyoneAllowed: anyone of the account joins
    assert roster(get(client, alice, open_one))[CAROL] == "active"
    fails(connect(client, carol, private, "me"), "POST", C, 403, "InsufficientPermissions")
    fails(connect(client, bob, private, ALICE), "POST", C, 403, "InsufficientPermissions")
    fails(connect(client, alice, private, CAROL), "POST", C, 404, "ParticipantNotFound")
    fails(connect(client, erin, open_one, "me"), "POST", C, 404, "ConferenceNotFound")
    connected(client, alice, private, BOB)  # the creator connects an invitee (e.g. dialling them in)
    assert roster(get(client, bob, private)) == {ALICE: "accepted", BOB: "active"}


def test_leaving_closes_the_attendance_and_the_last_one_out_ends_the_instance(client, admin, alice, bob):
    cid = create(client, alice, name="Comings and goings", participants=[{"participantId": BOB}])["id"]
    P = "/conferences/{conferenceId}/participants/{participantId}"
    fails(put_participant(client, bob, cid, "me", {"action": "leave"}), "PUT", P, 409, "ParticipantNotActive")
    t0 = advance(client, admin, 5)
    connected(client, alice, cid, "me")
    t1 = advance(client, admin, 10)
    connected(client, bob, cid, "me")
    t2 = advance(client, admin, 30)
    assert leave(client, bob, cid, "me")["state"] == "inactive"
    fails(put_participant(client, bob, cid, "me", {"action": "leave"}), "PUT", P, 409, "ParticipantNotActive")
    [bobs] = attendances(client, bob)
    assert (bobs["joinTimeStamp"], bobs["leaveTimeStamp"]) == (t1, t2)
    assert bobs["participantId"] == BOB and bobs["accountId"] == ACME and bobs["conferenceId"] == cid
    assert bobs["_links"] == {"conference": f"{B}/conferences/{cid}"}
    assert get(client, alice, cid)["state"] == "active"
    t3 = advance(client, admin, 15)
    leave(client, alice, cid, "me")
    assert get(client, alice, cid)["state"] == "inactive"  # nobody left connected
    [alices] = attendances(client, alice)
    assert (alices["joinTimeStamp"], alices["leaveTimeStamp"]) == (t0, t3)
    assert alices["conferenceInstanceId"] == bobs["conferenceInstanceId"]
    advance(client, admin, 60)
    connected(client, alice, cid, "me")
    t4 = advance(client, admin, 5)
    ok(act(client, alice, cid, "end"), "POST", "/conferences/{conferenceId}")
    newest, older = attendances(client, alice)
    assert newest["leaveTimeStamp"] == t4 and older == alices
    assert newest["conferenceInstanceId"] != alices["conferenceInstanceId"]  # a new instance


def test_attendance_listing_rules(client, admin, alice, bob, carol):
    cid = create(client, alice, name="History", participants=[{"participantId": BOB}])["id"]
    connected(client, bob, cid, "me")
    advance(client, admin, 3)
    leave(client, bob, cid, "me")
    A = "/users/{userId}/attendances"
    fails_undeclared(client.get(f"{B}/users/{BOB}/attendances", headers=carol), "GET", A, 403,
                     "InsufficientPermissions")
    assert len(attendances(client, admin, BOB)) == 1 and attendances(client, bob, BOB) == attendances(client, bob)
    assert attendances(client, admin, "me") == [] and attendances(client, admin, CAROL) == []
    [expanded] = attendances(client, bob, "me", "$expand=conference")
    assert expanded["_embedded"]["conference"]["id"] == cid
    assert expanded["_embedded"]["conference"]["_embedded"]["participants"]["count"] == 2
    filtered = attendances(client, bob, "me", f"$filter=conferenceId eq '{cid}'")
    assert len(filtered) == 1 and attendances(client, bob, "me", "$filter=conferenceId eq 'other'") == []


# ---------------------------------------------------------------------------- conference actions
def test_recording_excludes_paused_time(client, admin, alice, bob):
    cid = create(client, alice, name="Recorded", participants=[{"participantId": BOB}])["id"]
    P = "/conferences/{conferenceId}"
    fails(act(client, alice, cid, "record"), "POST", P, 409, "ConferenceNotActive")
    connected(client, alice, cid, "me")
    connected(client, bob, cid, "me")
    fails(act(client, alice, cid, "pause-record"), "POST", P, 409, "NotRecording")
    fails(act(client, alice, cid, "stop-record"), "POST", P, 409, "NotRecording")
    advance(client, admin, 5)
    started = now(client)
    ok(act(client, alice, cid, "record"), "POST", P)
    fails(act(client, alice, cid, "record"), "POST", P, 409, "AlreadyRecording")
    fails(act(client, alice, cid, "resume-record"), "POST", P, 409, "NotPaused")
    fails(act(client, bob, cid, "pause-record"), "POST", P, 403, "InsufficientPermissions")
    advance(client, admin, 30)
    ok(act(client, alice, cid, "pause-record"), "POST", P)
    fails(act(client, alice, cid, "pause-record"), "POST", P, 409, "NotRecording")
    fails(act(client, alice, cid, "record"), "POST", P, 409, "AlreadyRecording")
    advance(client, admin, 100)
    ok(act(client, admin, cid, "resume-record"), "POST", P)
    advance(client, admin, 12)
    assert documents(client, admin, "recording") == []
    stopped = ok(act(client, alice, cid, "stop-record"), "POST", P)
    assert stopped["state"] == "active" and stopped["modifiedBy"] == ALICE
    [recording] = documents(client, admin, "recording")
    assert recording["durationInSeconds"] == 42 and recording["callId"] == cid
    assert recording["createdOn"] == started and recording["accountId"] == ACME
    assert set(recording["principalIds"]) == {ALICE, BOB}
    fails(act(client, alice, cid, "stop-record"), "POST", P, 409, "NotRecording")


def test_end_disconnects_everyone_and_stores_a_running_recording(client, admin, alice, bob, carol):
    cid = create(client, alice, name="To be ended",
                 participants=[{"participantId": BOB}, {"participantId": CAROL}])["id"]
    P = "/conferences/{conferenceId}"
    fails(act(client, alice, cid, "end"), "POST", P, 409, "ConferenceNotActive")
    connected(client, alice, cid, "me")
    connected(client, bob, cid, "me")
    ok(act(client, alice, cid, "record"), "POST", P)
    advance(client, admin, 8)
    ok(act(client, alice, cid, "pause-record"), "POST", P)
    advance(client, admin, 50)
    fails(act(client, bob, cid, "end"), "POST", P, 403)
    ended_at = now(client)
    ended = ok(act(client, alice, cid, "end"), "POST", P)
    assert ended["state"] == "inactive" and roster(ended) == {ALICE: "inactive", BOB: "inactive", CAROL: "invited"}
    [recording] = documents(client, admin, "recording")
    assert recording["durationInSeconds"] == 8
    assert all(a["leaveTimeStamp"] == ended_at for a in documents(client, admin, "attendance"))
    fails(act(client, alice, cid, "end"), "POST", P, 409, "ConferenceNotActive")
    fails(act(client, alice, cid, "resume-record"), "POST", P, 409, "NotPaused")
    for bad in ({}, {"action": "explode"}, {"action": "end", "force": True}, {"action": 1}):
        fails(client.post(f"{B}/conferences/{cid}", json=bad, headers=alice), "POST", P, 400)


def test_the_last_participant_leaving_stores_the_recording(client, admin, alice):
    cid = create(client, alice, name="Solo")["id"]
    connected(client, alice, cid, "me")
    ok(act(client, alice, cid, "record"), "POST", "/conferences/{conferenceId}")
    advance(client, admin, 17)
    leave(client, alice, cid, "me")
    [recording] = documents(client, admin, "recording")
    assert recording["durationInSeconds"] == 17 and recording["principalIds"] == [ALICE]
    assert get(client, alice, cid)["state"] == "inactive"


# ---------------------------------------------------------------------------- content search
def _label_recording(client: httpx.Client, admin: dict, label: str) -> None:
    """The recordings routes belong to another module; label the stored recording through a snapshot."""
    snapshot = client.get("/_callyard/state", headers=admin).json()
    changed = copy.deepcopy(snapshot)
    for doc in changed["documents"]["recording"]:
        doc["label"] = label
    response = client.post("/_callyard/state", json=changed, headers=admin)
    assert response.status_code == 200, response.text


def test_content_search(client, admin, alice, bob, carol, erin):
    roadmap = create(client, alice, name="Quarterly Roadmap Review", participants=[{"participantId": BOB}])
    hidden = create(client, alice, name="Roadmap secrets", type="inviteOnly")
    connected(client, alice, roadmap["id"], "me")
    ok(act(client, alice, roadmap["id"], "record"), "POST", "/conferences/{conferenceId}")
    advance(client, admin, 4)
    ok(act(client, alice, roadmap["id"], "end"), "POST", "/conferences/{conferenceId}")
    _label_recording(client, admin, "Roadmap decisions")
    S = "/conferences/content"

    def search(headers: dict, text: str) -> list[dict]:
        body = ok(client.get(f"{B}{S}", params={"$search": text}, headers=headers), "GET", S)
        assert "$search" in parse_qs(urlsplit(body["_links"]["self"]).query)
        return body["_embedded"]["items"]

    found = search(carol, "roadmap")
    assert {(r["type"], r["content"]) for r in found} == {("conference", "Quarterly Roadmap Review")}
    assert found[0]["location"] == f"{B}/conferences/{roadmap['id']}"
    assert found[0]["_links"]["conference"] == f"{B}/conferences/{roadmap['id']}"
    mine = search(alice, "ROADMAP")
    assert {(r["type"], r["content"]) for r in mine} == {
        ("conference", "Quarterly Roadmap Review"), ("conference", "Roadmap secrets"),
        ("recording", "Roadmap decisions")}
    [recorded] = [r for r in mine if r["type"] == "recording"]
    [recording] = documents(client, admin, "recording")
    assert recorded["location"] == f"{B}/recordings/{recording['recordingId']}"
    assert [r["content"] for r in search(alice, "review quarterly")] == ["Quarterly Roadmap Review"]
    assert search(alice, "quarterly secrets") == []
    [by_code] = search(carol, roadmap["accessCode"])
    assert by_code["type"] == "conference" and by_code["content"] == roadmap["accessCode"]
    people = search(carol, "bob brown")
    assert [(r["type"], r["content"], r["location"]) for r in people] == \
        [("participant", "Bob Brown", f"{B}/conferences/{roadmap['id']}/participants/{BOB}")]
    assert [r["type"] for r in search(alice, BOB)] == ["participant"]
    assert search(erin, "roadmap") == []
    assert hidden["id"] not in {r["_links"]["conference"].rsplit("/", 1)[1] for r in search(bob, "roadmap")}
    assert len(ok(client.get(f"{B}{S}", params={"$search": "roadmap", "$top": "1"}, headers=alice),
                  "GET", S)["_embedded"]["items"]) == 1
    for params in ({}, {"$search": "  "}):
        fails_undeclared(client.get(f"{B}{S}", params=params, headers=alice), "GET", S, 400, "InvalidQueryParameter")


# ---------------------------------------------------------------------------- persistence
def test_conferences_survive_a_snapshot_round_trip(client, admin, alice, bob):
    cid = create(client, alice, name="Persistent", participants=[{"participantId": BOB}])["id"]
    connected(client, bob, cid, "me")
    advance(client, admin, 2)
    leave(client, bob, cid, "me")
    before = get(client, alice, cid)
    snapshot = client.get("/_callyard/state", headers=admin).json()
    assert {"conference", "participant", "attendance"} <= set(snapshot["documents"])
    assert client.post("/_callyard/reset", headers=admin).status_code == 200
    fails(client.get(f"{B}/conferences/{cid}", headers=alice), "GET", "/conferences/{conferenceId}", 404)
    imported = client.post("/_callyard/state", json=snapshot, headers=admin)
    assert imported.status_code == 200, imported.text
    assert get(client, alice, cid) == before
    assert len(attendances(client, bob)) == 1


# ---------------------------------------------------------------------------- events
@pytest.fixture
def events(server):
    """The core's events, as published on the in-process bus (after each request's commit)."""
    seen: list = []
    unsubscribe = server.app.state.core.projections.subscribe(seen.append)
    yield seen
    unsubscribe()


def _drain(seen: list) -> list[tuple[str, str]]:
    batch = [(e.type, e.subject) for e in seen]
    seen.clear()
    assert len(batch) == len(set(s for _, s in batch)), f"a resource changed twice in one request: {batch}"
    return batch


def test_one_event_per_changed_resource(client, admin, alice, bob, events):
    cid = create(client, alice, name="Evented", participants=[{"participantId": BOB}])["id"]
    conference, a, b = f"/conferences/{cid}", f"/conferences/{cid}/participants/{ALICE}", \
        f"/conferences/{cid}/participants/{BOB}"
    assert _drain(events) == [("conference.created", conference), ("participant.added", a),
                              ("participant.added", b)]
    connected(client, alice, cid, "me")
    batch = _drain(events)
    assert sorted(t for t, _ in batch) == ["attendance.created", "conference.updated", "participant.updated"]
    assert all(e.account_id == ACME for e in events) and ("participant.updated", a) in batch
    connected(client, bob, cid, "me")
    assert sorted(t for t, _ in _drain(events)) == ["attendance.created", "participant.updated"]
    ok(act(client, alice, cid, "record"), "POST", "/conferences/{conferenceId}")
    assert _drain(events) == [("conference.updated", conference)]
    advance(client, admin, 3)
    ok(act(client, alice, cid, "end"), "POST", "/conferences/{conferenceId}")
    # …and the recording lands in both participants' UC communication logs (a RECORDING item each).
    assert sorted(t for t, _ in _drain(events)) == ["attendance.updated", "attendance.updated", "commlog.created",
                                                    "commlog.created", "conference.updated", "participant.updated",
                                                    "participant.updated", "recording.created"]
    fails(act(client, alice, cid, "end"), "POST", "/conferences/{conferenceId}", 409)
    assert _drain(events) == []  # a rejected request announces nothing
    ok(client.delete(f"{B}/conferences/{cid}", headers=alice), "DELETE", "/conferences/{conferenceId}")
    assert sorted(_drain(events)) == [("conference.deleted", conference), ("participant.removed", a),
                                      ("participant.removed", b)]


def test_the_media_samples_leave_body_is_accepted(client, admin, alice, bob):
    """Mitel's media sample leaves with ``{associatedParticipantId: <itself>, muted: true, action: leave}``: the
    swagger has no rule against a participant associated with itself, so the twin has none either."""
    cid = create(client, alice, name="Sample", participants=[{"participantId": BOB}])["id"]
    connected(client, alice, cid, "me")
    connected(client, bob, cid, "me")
    P = "/conferences/{conferenceId}/participants/{participantId}"
    body = ok(put_participant(client, bob, cid, BOB, {"associatedParticipantId": BOB, "muted": True,
                                                      "action": "leave"}), "PUT", P)
    assert body["participantId"] == BOB and body["state"] == "inactive"
    [doc] = [d for d in documents(client, admin, "participant") if d["participantId"] == BOB]
    assert doc["muted"] is True and doc["associatedParticipantId"] == BOB
    assert roster(get(client, alice, cid)) == {ALICE: "active", BOB: "inactive"}
