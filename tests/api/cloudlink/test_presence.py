"""Presence over HTTP: ``GET``/``PUT /presentities/{principalId}``, the batch read, the access rules, and the
aggregate following the PBX (busy in a call, DND on the extension), announced by exactly one
``presence.updated`` event per change."""
from __future__ import annotations

from typing import Any, Iterator

import httpx
import pytest

from tests.conftest import ACME, ALICE, APP_ID, APP_SECRET, BOB, ERIN, GLOBEX, LiveServer, OPERATOR_HEADERS

B = "/2017-09-01"
CALLER = "+16135550123"
ME = f"{B}/presentities/me"
ALICE_URL = f"{B}/presentities/{ALICE}"


class PresenceEvents:
    """The ``presence.updated`` events of the live server's bus, from the moment of subscription."""

    def __init__(self, bus: Any) -> None:
        self.all: list[Any] = []
        self._unsubscribe = bus.subscribe(self._on)

    def _on(self, event: Any) -> None:
        if event.type == "presence.updated":
            self.all.append(event)

    def close(self) -> None:
        self._unsubscribe()

    def take(self) -> list[Any]:
        taken, self.all = self.all, []
        return taken

    def statuses(self) -> list[tuple[str, str]]:
        """(aggregate, principal) status of each event taken."""
        return [(e.data["aggregate"]["status"], e.data["principal"]["status"]) for e in self.take()]


@pytest.fixture
def events(client: httpx.Client, server: LiveServer) -> Iterator[PresenceEvents]:
    collected = PresenceEvents(server.app.state.core.projections)
    yield collected
    collected.close()


def ok(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/json")
    return response.json()


def error(response: httpx.Response, status: int, name: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) >= {"name", "message"} and body["message"], body
    if name is not None:
        assert body["name"] == name, body
    return body


def sim(client: httpx.Client, admin: dict[str, str], path: str, **body: Any) -> dict[str, Any]:
    response = client.post(f"/_callyard/sim/{path}", json=body or None, headers=admin)
    assert response.status_code in (200, 201), response.text
    return response.json()


def media_dnd(client: httpx.Client, headers: dict[str, str], enabled: bool, number: str = "2880") -> dict[str, Any]:
    return ok(client.put(f"{B}/endpoints/{number}", headers=headers,
                         json={"action": "dnd", "userAvailability": "available", "enabled": enabled}))


def advance(client: httpx.Client, admin: dict[str, str], seconds: float) -> None:
    response = client.post("/_callyard/clock/advance", json={"seconds": seconds}, headers=OPERATOR_HEADERS)
    assert response.status_code == 200, response.text


# ---------------------------------------------------------------------------- reading and setting
def test_a_user_who_set_nothing_is_available(client, alice, bob):
    mine = ok(client.get(ME, headers=alice))
    assert mine == {
        "principalId": ALICE, "accountId": ACME, "status": "available", "reason": None, "note": None,
        "workMode": None, "enteredOn": mine["enteredOn"],
        "principal": {"status": "available", "enteredOn": mine["enteredOn"]},
        "aggregate": {"status": "available", "enteredOn": mine["enteredOn"]},
        "_links": {"self": ALICE_URL}}
    assert ok(client.get(ALICE_URL, headers=bob)) == mine
    # The service prefix and the service's host reach the same resource.
    assert ok(client.get(f"/presence{ALICE_URL}", headers=bob)) == mine
    assert ok(client.get(ALICE_URL, headers={**bob, "Host": "presence.api.mitel.io"})) == mine


def test_set_then_read_by_a_colleague(client, admin, alice, bob, events):
    before = ok(client.get(ME, headers=alice))
    advance(client, admin, 60)
    body = {"status": "away", "reason": "Lunch", "note": "Back at 2 pm", "workMode": "remote"}
    put = ok(client.put(ME, headers=alice, json=body))
    assert {k: put[k] for k in body} == body
    assert put["principal"]["status"] == put["aggregate"]["status"] == "away"
    assert put["enteredOn"] == put["principal"]["enteredOn"] > before["enteredOn"]
    assert ok(client.get(ALICE_URL, headers=bob)) == put
    [event] = events.take()
    assert (event.account_id, event.subject) == (ACME, f"/presentities/{ALICE}")
    assert event.data == {k: v for k, v in put.items() if k != "_links"}

    # A partial update keeps the rest; null clears a text; the same status keeps its enteredOn.
    advance(client, admin, 60)
    again = ok(client.put(ME, headers=alice, json={"status": "away", "note": None}))
    assert (again["status"], again["reason"], again["note"], again["workMode"]) == ("away", "Lunch", None, "remote")
    assert again["enteredOn"] == put["enteredOn"]
    assert len(events.take()) == 1

    # Nothing changed: nothing announced.
    assert ok(client.put(ME, headers=alice, json={"status": "away", "workMode": "remote"})) == again
    assert events.take() == []

    offline = ok(client.put(ALICE_URL, headers=alice, json={"status": "offline", "reason": ""}))
    assert (offline["status"], offline["reason"]) == ("offline", None)
    assert offline["enteredOn"] > put["enteredOn"]
    assert events.statuses() == [("offline", "offline")]


def test_batch_read(client, alice, bob, erin):
    ok(client.put(f"{B}/presentities/me", headers=bob, json={"status": "busy"}))
    body = ok(client.get(f"{B}/presentities", params={"principalIds": f"me,{BOB},nobody,{BOB},{ERIN}"},
                         headers=alice))
    assert body["count"] == 2
    assert [(p["principalId"], p["status"]) for p in body["_embedded"]["items"]] == [(ALICE, "available"),
                                                                                   (BOB, "busy")]
    assert body["_links"]["self"].startswith(f"{B}/presentities?principalIds=")

    everyone = ok(client.get(f"{B}/presentities", headers=alice))
    assert {p["accountId"] for p in everyone["_embedded"]["items"]} == {ACME}
    assert {ALICE, BOB} <= {p["principalId"] for p in everyone["_embedded"]["items"]}
    busy = ok(client.get(f"{B}/presentities", params={"$filter": "status eq 'busy'"}, headers=alice))
    assert [p["principalId"] for p in busy["_embedded"]["items"]] == [BOB]

    # Another account's ids name nobody there.
    assert ok(client.get(f"{B}/presentities", params={"principalIds": ALICE}, headers=erin))["count"] == 0

    ids = ",".join([ALICE] * 101)
    error(client.get(f"{B}/presentities", params={"principalIds": ids}, headers=alice), 400, "ValidationError")
    error(client.get(f"{B}/presentities", params={"principalIds": " , "}, headers=alice), 400, "ValidationError")


# ---------------------------------------------------------------------------- access
def app_headers(client: httpx.Client) -> dict[str, str]:
    issued = client.post(f"{B}/token", data={"grant_type": "client_credentials", "client_id": APP_ID,
                                             "client_secret": APP_SECRET})
    assert issued.status_code == 201, issued.text
    return {"Authorization": f"Bearer {issued.json()['access_token']}"}


def test_who_may_set_and_read(client, admin, alice, bob, erin, as_user, events):
    error(client.put(ALICE_URL, headers=bob, json={"status": "away"}), 403, "InsufficientPermissions")
    assert events.take() == []
    assert ok(client.put(ALICE_URL, headers=admin, json={"status": "away"}))["status"] == "away"
    assert ok(client.put(ALICE_URL, headers=app_headers(client), json={"note": "set by the app"}))["note"] == \
        "set by the app"
    assert len(events.take()) == 2
    assert ok(client.get(ALICE_URL, headers=bob))["status"] == "away"

    # Other accounts, and ids that name nobody, are not found (Globex's admin included).
    for headers in (erin, as_user("admin@globex.example")):
        error(client.get(ALICE_URL, headers=headers), 404, "PresentityNotFound")
        error(client.put(ALICE_URL, headers=headers, json={"status": "available"}), 404, "PresentityNotFound")
    error(client.get(f"{B}/presentities/00000000-0000-4000-8000-000000000000", headers=alice), 404,
          "PresentityNotFound")
    error(client.get(ME, headers=app_headers(client)), 404, "PresentityNotFound")
    error(client.get(ALICE_URL), 401)
    assert events.take() == []

    # Erin's presence lives in Globex, beside Alice's.
    erins = ok(client.put(ME, headers=erin, json={"status": "dnd"}))
    assert (erins["principalId"], erins["accountId"]) == (ERIN, GLOBEX)
    assert ok(client.get(ALICE_URL, headers=alice))["status"] == "away"
    assert ok(client.get(f"{B}/endpoints/2880", headers=alice))["dnd"] is False


def test_validation(client, alice, events):
    cases = [
        ({"status": "lunch"}, "ValidationError"),
        ({"status": None}, "ValidationError"),
        ({"status": "away", "mood": "happy"}, "ValidationError"),
        ({"reason": "x" * 257}, "ValidationError"),
        ({"note": "x" * 1025}, "ValidationError"),
        ({"workMode": "beach"}, "ValidationError"),
        ({"note": 5}, "ValidationError"),
        ({}, "ValidationError"),
        (["away"], "ValidationError"),
    ]
    for body, name in cases:
        error(client.put(ME, headers=alice, json=body), 400, name)
    assert "additional properties" in error(client.put(ME, headers=alice, json={"mood": "x"}), 400)["message"]
    error(client.put(ME, headers={**alice, "Content-Type": "application/json"}, content=b"{"), 400, "MalformedJSON")
    error(client.put(ME, headers=alice), 400, "MissingBodyInRequest")
    # The limits themselves are fine.
    ok(client.put(ME, headers=alice, json={"reason": "x" * 256, "note": "y" * 1024, "workMode": "mobile"}))
    assert len(events.take()) == 1


# ---------------------------------------------------------------------------- following the PBX
def test_busy_while_in_a_call_and_back_after_hangup(client, admin, alice, bob, events):
    ok(client.put(ME, headers=alice, json={"status": "away", "note": "in the lab"}))
    events.take()
    sim(client, admin, "calls", **{"from": CALLER, "to": "2880"})
    assert ok(client.get(ALICE_URL, headers=bob))["status"] == "away"  # ringing does not count
    assert events.take() == []

    advance(client, admin, 5)
    sim(client, admin, "endpoints/2880/answer")
    during = ok(client.get(ALICE_URL, headers=bob))
    assert (during["status"], during["principal"]["status"], during["note"]) == ("busy", "away", "in the lab")
    assert during["aggregate"]["enteredOn"] > during["principal"]["enteredOn"]
    [event] = events.take()
    assert event.data["aggregate"]["status"] == "busy" and event.subject == f"/presentities/{ALICE}"

    sim(client, admin, "endpoints/2880/hold")  # on hold is still in the call
    assert ok(client.get(ALICE_URL, headers=bob))["status"] == "busy"
    assert events.take() == []
    sim(client, admin, "endpoints/2880/retrieve")

    advance(client, admin, 30)
    sim(client, admin, "endpoints/2880/hangup")
    after = ok(client.get(ALICE_URL, headers=bob))
    assert (after["status"], after["principal"]["status"]) == ("away", "away")
    assert after["aggregate"]["enteredOn"] > during["aggregate"]["enteredOn"]
    assert events.statuses() == [("away", "away")]
    assert ok(client.get(f"{B}/presentities/{BOB}", headers=bob))["status"] == "available"


def test_busy_from_dialling_out(client, admin, alice, events):
    call = client.post(f"{B}/endpoints/2880/calls", headers=alice, json={"to": "2881"})
    assert call.status_code in (200, 201), call.text
    # The caller's leg is connected from the moment it dials; bob's phone only rings.
    assert ok(client.get(ME, headers=alice))["status"] == "busy"
    assert ok(client.get(f"{B}/presentities/{BOB}", headers=alice))["status"] == "available"
    sim(client, admin, "endpoints/2881/answer")
    assert ok(client.get(f"{B}/presentities/{BOB}", headers=alice))["status"] == "busy"
    sim(client, admin, "endpoints/2881/hangup")
    assert {p["principalId"]: p["status"] for p in ok(client.get(
        f"{B}/presentities", params={"principalIds": f"{ALICE},{BOB}"}, headers=alice))["_embedded"]["items"]} == \
        {ALICE: "available", BOB: "available"}
    announced = [(e.data["principalId"], e.data["status"]) for e in events.take()]
    assert announced[:2] == [(ALICE, "busy"), (BOB, "busy")]
    assert sorted(announced[2:]) == sorted([(ALICE, "available"), (BOB, "available")])


def test_dnd_set_on_the_extension_shows_in_presence(client, admin, alice, bob, events):
    media_dnd(client, alice, True)
    seen = ok(client.get(ALICE_URL, headers=bob))
    assert (seen["status"], seen["principal"]["status"]) == ("dnd", "available")
    assert events.statuses() == [("dnd", "available")]

    media_dnd(client, alice, True)  # unchanged: nothing announced
    ok(client.put(f"{B}/endpoints/2880", headers=alice,
                  json={"action": "messageWaiting", "userAvailability": "available", "enabled": True}))
    assert events.take() == []

    media_dnd(client, admin, False)
    assert ok(client.get(ALICE_URL, headers=bob))["status"] == "available"
    assert events.statuses() == [("available", "available")]


def test_dnd_set_through_presence_is_the_extensions_dnd(client, admin, alice, bob, events):
    put = ok(client.put(ME, headers=alice, json={"status": "dnd", "reason": "Focus time"}))
    assert (put["status"], put["principal"]["status"]) == ("dnd", "dnd")
    endpoint = ok(client.get(f"{B}/endpoints/2880", headers=alice))
    assert (endpoint["dnd"], endpoint["userAvailability"]) == (True, "dnd")
    assert events.statuses() == [("dnd", "dnd")]  # one event, although the extension changed too

    # The PBX honours it: a call to 2880 does not ring Alice (it goes to her voicemail).
    sim(client, admin, "calls", **{"from": CALLER, "to": "2880"})
    assert ok(client.get(f"{B}/endpoints/2880/calls", headers=alice))["count"] == 0
    assert ok(client.get(ME, headers=alice))["status"] == "dnd"
    assert events.take() == []

    # Any other status clears DND.
    cleared = ok(client.put(ME, headers=alice, json={"status": "busy"}))
    assert (cleared["status"], cleared["reason"]) == ("busy", "Focus time")
    assert ok(client.get(f"{B}/endpoints/2880", headers=alice))["dnd"] is False
    assert events.statuses() == [("busy", "busy")]

    # DND turned off on the extension ends a dnd status.
    ok(client.put(ME, headers=alice, json={"status": "dnd"}))
    events.take()
    media_dnd(client, alice, False)
    now = ok(client.get(ALICE_URL, headers=bob))
    assert (now["status"], now["principal"]["status"]) == ("available", "available")
    assert events.statuses() == [("available", "available")]

    # A status set while DND was on from the Media API clears it too.
    media_dnd(client, alice, True)
    assert events.statuses() == [("dnd", "available")]
    ok(client.put(ME, headers=alice, json={"status": "available"}))
    assert ok(client.get(f"{B}/endpoints/2880", headers=alice))["dnd"] is False
    assert events.statuses() == [("available", "available")]


def test_an_admin_setting_dnd_for_a_user_sets_their_extension(client, admin, bob):
    ok(client.put(f"{B}/presentities/{BOB}", headers=admin, json={"status": "dnd"}))
    assert ok(client.get(f"{B}/endpoints/2881", headers=bob))["dnd"] is True


def test_isolation_of_the_pbx_follow(client, admin, alice, erin, events):
    # Globex's 2880 is Erin; Acme's 2880 in a call changes nothing for her.
    sim(client, admin, "calls", **{"from": CALLER, "to": "2880"})
    sim(client, admin, "endpoints/2880/answer")
    assert ok(client.get(ME, headers=erin))["status"] == "available"
    assert [e.data["principalId"] for e in events.take()] == [ALICE]
    media_dnd(client, erin, True)
    assert ok(client.get(ME, headers=erin))["status"] == "dnd"
    assert ok(client.get(ME, headers=alice))["status"] == "busy"
    [event] = events.take()
    assert (event.account_id, event.data["principalId"]) == (GLOBEX, ERIN)


def test_reset_and_user_deletion(client, server, admin, alice, events):
    ok(client.put(ME, headers=alice, json={"status": "dnd", "note": "gone fishing"}))
    reset = client.post("/_callyard/reset", headers=admin)
    assert reset.status_code == 200, reset.text
    fresh = ok(client.get(ME, headers=alice))
    assert (fresh["status"], fresh["note"]) == ("available", None)
    events.take()
    # The first change after a reset is announced.
    media_dnd(client, alice, True)
    assert events.statuses() == [("dnd", "available")]

    ok(client.put(f"{B}/presentities/{BOB}", headers=admin, json={"status": "away"}))
    assert client.delete(f"{B}/users/{BOB}", headers=admin).status_code in (200, 201)
    error(client.get(f"{B}/presentities/{BOB}", headers=alice), 404, "PresentityNotFound")
    assert server.app.state.core.rt.state.get("presence", BOB) is None  # the document went with the user
