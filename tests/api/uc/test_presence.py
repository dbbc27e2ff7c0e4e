"""UC User Information and Presence Shortcuts through the real interface: the user's presence (the SAME
presentity CloudLink's /presentities shows) as JSON and PIDF, the activity, its expiration on the twin's
clock, availability (DND, a connected call), the photo shared with the Admin API, and the shortcuts.
Every response is validated against the family's OpenAPI document."""
from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from typing import Any

import httpx
from PIL import Image

from tests.api.uc.helpers import refused
from tests.conftest import ALICE, auth, png_bytes, token
from tests.support.mqtt_client import Mqtt

ALICE_INFO = "/api/userinfo/acme.example/alice"
SHORTCUTS = "/api/presenceshortcuts/acme.example/alice"
CL = "/2017-09-01"
PIDF = "urn:ietf:params:xml:ns:pidf"
RPID = "urn:ietf:params:xml:ns:pidf:rpid"
DM = "urn:ietf:params:xml:ns:pidf:data-model"
LUNCH = {"id": "lunch-shortcut", "name": "Lunch", "activityId": "lunch", "available": False,
         "durationType": "MINUTES", "durationMinutes": 45, "order": 1, "imageId": "ic_shortcut_pizza",
         "diversionPhoneNumber": "2882", "applyDiversionNumber": True}


def ok(openapi: Any, response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    openapi.check(response)
    return response.json() if response.content and "json" in response.headers.get("content-type", "") else None


def presentity(client: httpx.Client, user_id: str = ALICE) -> dict[str, Any]:
    response = client.get(f"{CL}/presentities/{user_id}", headers=auth(token(client, "bob@acme.example")))
    assert response.status_code == 200, response.text
    return response.json()


# ---------------------------------------------------------------------------- presence, the same as CloudLink's
def test_default_presence_and_an_activity_shown_by_cloudlink(client, openapi, ticket) -> None:
    alice = ticket("alice@acme.example", ("USER",))
    first = ok(openapi, client.get(f"{ALICE_INFO}/presence", headers=alice))
    assert first == {"futurePresenceAccess": "WRITE", "activityAccess": "WRITE", "roleAccess": "WRITE",
                     "noteAccess": "WRITE", "role": "business", "note": "",
                     "activity": {"id": "available", "expiration": "never", "available": True},
                     "idle": False, "available": True, "capabilities": ["MESSAGE", "SMS"]}

    body = {"role": "private", "note": "Back at two", "activity": {"id": "lunch"}}
    put = ok(openapi, client.put(f"{ALICE_INFO}/presence", json=body, headers=alice))
    assert (put["role"], put["note"], put["activity"], put["available"]) == (
        "private", "Back at two", {"id": "lunch", "expiration": "never", "available": False}, False)
    shown = presentity(client)
    assert (shown["status"], shown["reason"], shown["note"]) == ("away", "Lunch", "Back at two")
    assert ok(openapi, client.get(f"{ALICE_INFO}/available", headers=alice)) is False

    # A status set through CloudLink ends the UC activity: the one shown is derived from it.
    cl = client.put(f"{CL}/presentities/me", json={"status": "busy", "reason": None},
                    headers=auth(token(client, "alice@acme.example")))
    assert cl.status_code == 200, cl.text
    now = ok(openapi, client.get(f"{ALICE_INFO}/presence", headers=alice))
    assert now["activity"] == {"id": "busy", "expiration": "never", "available": False}
    assert now["note"] == "Back at two"   # one note, whoever set it


def test_lunch_through_uc_is_one_cloudlink_presence_publication(client, openapi, ticket) -> None:
    admin = auth(token(client, "admin@acme.example"))
    conn = client.post(f"{CL}/connections", headers=admin, json={"transport": "websocket"}).json()
    sub = client.post(f"{CL}/subscriptions", headers=admin, json={
        "transport": "websocket", "connectionId": conn["connectionId"], "topic": "platform-api-presence"})
    assert sub.status_code == 201, sub.text
    alice = ticket("alice@acme.example", ("USER",))
    with Mqtt(conn["url"], admin["Authorization"].split(" ", 1)[1]) as mq:
        assert not mq.wait_connack()[0].is_failure
        mq.subscribe(sub.json()["subscriptionId"], qos=0)
        ok(openapi, client.put(f"{ALICE_INFO}/activity", params={"activity": "lunch"}, headers=alice))
        publication = mq.payload()
        assert publication["topic"] == "platform-api-presence"
        assert publication["subject"].endswith(f"/presentities/{ALICE}")
        assert (publication["content"]["status"], publication["content"]["reason"]) == ("away", "Lunch")
        assert mq.quiet(0.3)   # exactly one publication for the change
        # the same activity again changes nothing and publishes nothing
        ok(openapi, client.put(f"{ALICE_INFO}/activity", params={"activity": "lunch"}, headers=alice))
        assert mq.quiet(0.3)


def test_dnd_on_the_phone_and_a_connected_call_show_in_both(client, openapi, ticket, control) -> None:
    alice = ticket("alice@acme.example", ("USER",))
    alice_cl = auth(token(client, "alice@acme.example"))
    dnd = client.put(f"{CL}/endpoints/2880", headers=alice_cl,
                     json={"action": "dnd", "userAvailability": "available", "enabled": True})
    assert dnd.status_code == 200, dnd.text
    view = ok(openapi, client.get(f"{ALICE_INFO}/presence", headers=alice))
    assert view["available"] is False and view["activity"]["id"] == "available"
    assert presentity(client)["status"] == "dnd"
    client.put(f"{CL}/endpoints/2880", headers=alice_cl,
               json={"action": "dnd", "userAvailability": "available", "enabled": False})
    assert ok(openapi, client.get(f"{ALICE_INFO}/available", headers=alice)) is True

    control.ring("2880")
    control.phone("2880", "answer")
    assert presentity(client)["status"] == "busy"
    assert ok(openapi, client.get(f"{ALICE_INFO}/available", headers=alice)) is False
    control.phone("2880", "hangup")
    assert ok(openapi, client.get(f"{ALICE_INFO}/available", headers=alice)) is True


def test_activity_expiration_is_ended_by_the_clock(client, openapi, ticket, control, server) -> None:
    alice = ticket("alice@acme.example", ("USER",))
    clock = client.get("/_callyard/clock").json()["now"]
    ok(openapi, client.put(f"{ALICE_INFO}/activity", params={"activity": "meeting"}, headers=alice))
    assert ok(openapi, client.get(f"{ALICE_INFO}/activity/expires", headers=alice)) == "never"
    from datetime import datetime, timedelta
    end = (datetime.fromisoformat(clock.replace("Z", "+00:00")) + timedelta(minutes=30)).strftime(
        "%Y-%m-%dT%H:%M:%SZ")
    assert ok(openapi, client.put(f"{ALICE_INFO}/activity/expires", params={"expires": end},
                                  headers=alice)) == end
    assert ok(openapi, client.get(f"{ALICE_INFO}/activity/expires", headers=alice)) == end
    assert presentity(client)["reason"] == "Meeting"

    seen: list[Any] = []
    unsubscribe = server.app.state.core.projections.subscribe(
        lambda e: seen.append(e) if e.type == "presence.updated" else None)
    try:
        control.advance(29 * 60)
        assert presentity(client)["reason"] == "Meeting" and seen == []
        control.advance(61)
        view = ok(openapi, client.get(f"{ALICE_INFO}/presence", headers=alice))
        assert view["activity"] == {"id": "available", "expiration": "never", "available": True}
        assert (presentity(client)["status"], presentity(client)["reason"]) == ("available", None)
        assert len(seen) == 1
    finally:
        unsubscribe()

    # a JSON body works as well as the query; 'never' keeps an activity
    ok(openapi, client.put(f"{ALICE_INFO}/activity", json={"activity": "busy"}, headers=alice))
    assert ok(openapi, client.put(f"{ALICE_INFO}/activity/expires", json={"expires": "never"},
                                  headers=alice)) == "never"


def test_presence_refusals_change_nothing(client, openapi, ticket) -> None:
    alice = ticket("alice@acme.example", ("USER",))
    before = ok(openapi, client.get(f"{ALICE_INFO}/presence", headers=alice))
    for response, code in (
            (client.put(f"{ALICE_INFO}/presence", json={"activity": {"id": "sleeping"}}, headers=alice),
             "activity.not.valid"),
            (client.put(f"{ALICE_INFO}/presence", json={"role": "boss"}, headers=alice), "role.not.valid"),
            (client.put(f"{ALICE_INFO}/presence", json={"note": "x" * 1025}, headers=alice), "note.too.long"),
            (client.put(f"{ALICE_INFO}/presence", json={}, headers=alice), "presence.empty"),
            (client.put(f"{ALICE_INFO}/presence", content=b"[1]", headers={**alice, "Content-Type":
                                                                              "application/json"}),
             "body.required"),
            (client.put(f"{ALICE_INFO}/presence", json={"activity": {"id": "busy", "expiration": "yesterday"}},
                        headers=alice), "expiration.not.valid"),
            (client.put(f"{ALICE_INFO}/presence", json={"activity": {"id": "busy",
                                                                     "expiration": "2001-01-01T00:00:00Z"}},
                        headers=alice), "expiration.not.valid"),
            (client.put(f"{ALICE_INFO}/activity", headers=alice), "activity.required"),
            (client.put(f"{ALICE_INFO}/activity/expires", headers=alice), "expires.required"),
            (client.put(f"{ALICE_INFO}/activity/expires", params={"expires": "2001-01-01T00:00:00Z"},
                        headers=alice), "expires.not.valid")):
        refused(openapi.check(response), 400, code)
    assert ok(openapi, client.get(f"{ALICE_INFO}/presence", headers=alice)) == before

    # another user's presence: an administrator may, a colleague may not; another organisation never
    bob = ticket("bob@acme.example", ("USER",))
    refused(openapi.check(client.put(f"{ALICE_INFO}/activity", params={"activity": "busy"}, headers=bob)),
            403, "access.denied")
    admin = ticket("admin@acme.example", ("USER",))
    assert ok(openapi, client.put(f"{ALICE_INFO}/activity", params={"activity": "busy"}, headers=admin)) == "busy"
    erin = ticket("erin@globex.example", ("USER",))
    for method, path in (("GET", "/presence"), ("PUT", "/activity?activity=lunch"), ("GET", "/photo"),
                         ("GET", "/available")):
        refused(openapi.check(client.request(method, f"{ALICE_INFO}{path}", headers=erin)), 403, "access.denied")
    # a ticket without the USER api
    refused(client.get(f"{ALICE_INFO}/presence", headers=ticket("alice@acme.example", ("CALL_CONTROL",))),
            403, "api.not.allowed")


# ---------------------------------------------------------------------------- PIDF
def test_pidf_produced_and_accepted(client, openapi, ticket) -> None:
    alice = ticket("alice@acme.example", ("USER",))
    ok(openapi, client.put(f"{ALICE_INFO}/presence", json={"note": "On the road", "activity": {"id": "lunch"}},
                           headers=alice))
    response = client.get(f"{ALICE_INFO}/presence", headers={**alice, "Accept": "application/pidf+xml"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/pidf+xml")
    root = ET.fromstring(response.content)
    assert root.tag == f"{{{PIDF}}}presence" and root.get("entity") == "sip:alice@acme.example"
    assert root.find(f"{{{PIDF}}}tuple/{{{PIDF}}}status/{{{PIDF}}}basic").text == "closed"
    person = root.find(f"{{{DM}}}person")
    assert [child.tag for child in person.find(f"{{{RPID}}}activities")] == [f"{{{RPID}}}meal"]
    assert person.find(f"{{{DM}}}note").text == "On the road"
    assert person.find(f"{{{RPID}}}class").text == "business"

    document = (f'<?xml version="1.0"?><presence xmlns="{PIDF}" xmlns:rpid="{RPID}" xmlns:dm="{DM}" '
                f'entity="sip:alice@acme.example"><tuple id="t"><status><basic>closed</basic></status></tuple>'
                f'<dm:person id="p"><rpid:activities><rpid:meeting/></rpid:activities>'
                f'<rpid:class>private</rpid:class><dm:note>Planning</dm:note></dm:person></presence>')
    put = client.put(f"{ALICE_INFO}/presence", content=document.encode(),
                     headers={**alice, "Content-Type": "application/pidf+xml"})
    assert put.status_code == 204 and put.content == b"", put.text
    openapi.check(put)
    view = ok(openapi, client.get(f"{ALICE_INFO}/presence", headers=alice))
    assert (view["activity"]["id"], view["role"], view["note"]) == ("meeting", "private", "Planning")
    assert presentity(client)["reason"] == "Meeting"

    for bad, code in ((b"<presence", "pidf.not.valid"), (b"<other xmlns='x'/>", "pidf.not.valid"),
                      (f"<presence xmlns='{PIDF}'/>".encode(), "pidf.empty"),
                      (b'<!DOCTYPE x [<!ENTITY a "b">]><presence/>', "pidf.not.valid")):
        refused(client.put(f"{ALICE_INFO}/presence", content=bad,
                           headers={**alice, "Content-Type": "application/pidf+xml"}), 400, code)
    refused(client.put(f"{ALICE_INFO}/presence", content=b"x", headers={**alice, "Content-Type": "text/plain"}),
            415, "content.type.not.supported")


# ---------------------------------------------------------------------------- photo (shared with the Admin API)
def test_photo_shared_with_the_admin_api(client, openapi, ticket) -> None:
    alice = ticket("alice@acme.example", ("USER",))
    refused(openapi.check(client.get(f"{ALICE_INFO}/photo", headers=alice)), 404, "photo.does.not.exist")
    put = client.put(f"{ALICE_INFO}/photo", content=png_bytes((400, 300), "blue"),
                     headers={**alice, "Content-Type": "image/png"})
    assert put.status_code == 204, put.text
    original = client.get(f"{ALICE_INFO}/photo", headers=alice)
    assert original.status_code == 200 and original.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(original.content)).size == (400, 300)
    small = client.get(f"{ALICE_INFO}/photo", params={"prefWidth": 40, "prefHeight": 30}, headers=alice)
    assert small.headers["content-type"] == "image/jpeg" and Image.open(io.BytesIO(small.content)).size == (50, 50)
    # The Admin API shows the same photo
    admin = auth(token(client, "admin@acme.example"))
    user = client.get(f"{CL}/users/{ALICE}", headers=admin).json()
    assert httpx.get(user["photoUrl"], timeout=10).content == original.content
    # and a photo the Admin API uploads is the one this API serves
    replaced = client.put(f"{CL}/users/{ALICE}/photo", content=png_bytes((200, 100), "green"),
                          headers={**admin, "Content-Type": "image/png"})
    assert replaced.status_code == 200, replaced.text
    assert Image.open(io.BytesIO(client.get(f"{ALICE_INFO}/photo", headers=alice).content)).size == (200, 100)
    refused(client.put(f"{ALICE_INFO}/photo", content=b"not an image",
                       headers={**alice, "Content-Type": "image/png"}), 400, "invalid.image")
    bob = ticket("bob@acme.example", ("USER",))
    refused(client.put(f"{ALICE_INFO}/photo", content=png_bytes(), headers={**bob, "Content-Type": "image/png"}),
            403, "access.denied")


# ---------------------------------------------------------------------------- presence shortcuts
def test_presence_shortcuts(client, openapi, ticket, control) -> None:
    alice = ticket("alice@acme.example", ("USER",))
    assert ok(openapi, client.get(SHORTCUTS, headers=alice)) == {"presenceShortcut": []}
    put = ok(openapi, client.put(f"{SHORTCUTS}/lunch-shortcut", json=LUNCH, headers=alice))
    assert put == LUNCH
    meeting = {**LUNCH, "id": "m", "name": "Meeting", "activityId": "meeting", "durationType": "NO_END_TIME",
               "durationMinutes": None, "order": 0, "imageId": "ic_shortcut_office", "diversionPhoneNumber": None,
               "applyDiversionNumber": False}
    ok(openapi, client.post(f"{SHORTCUTS}/m", json=meeting, headers=alice))
    assert [s["id"] for s in ok(openapi, client.get(SHORTCUTS, headers=alice))["presenceShortcut"]] == [
        "m", "lunch-shortcut"]   # by order
    assert ok(openapi, client.get(f"{SHORTCUTS}/m", headers=alice)) == meeting

    # applying the lunch shortcut: the activity, its end 45 minutes on, and its diversion number
    assert ok(openapi, client.put(f"{ALICE_INFO}/activity", params={"shortcutId": "lunch-shortcut"},
                                  headers=alice)) == "lunch"
    expires = ok(openapi, client.get(f"{ALICE_INFO}/activity/expires", headers=alice))
    assert expires != "never"
    number = ok(openapi, client.get("/api/diversion/acme.example/alice/number", headers=alice))
    assert number == {"diversion-number": "2882", "activityScoped": True}
    call = control.ring("2880")
    assert control.legs(call).get("2882") == "ringing" and "2880" not in control.legs(call)
    control.phone("2882", "hangup")
    control.advance(46 * 60)   # the shortcut's activity ended, and its diversion with it
    assert ok(openapi, client.get("/api/diversion/acme.example/alice/number", headers=alice))[
        "diversion-number"] == ""

    replaced = ok(openapi, client.put(SHORTCUTS, json={"presenceShortcut": [meeting]}, headers=alice))
    assert replaced == {"presenceShortcut": [meeting]}
    assert client.delete(f"{SHORTCUTS}/m", headers=alice).status_code == 204
    refused(openapi.check(client.get(f"{SHORTCUTS}/m", headers=alice)), 404, "shortcut.does.not.exist")
    refused(openapi.check(client.delete(f"{SHORTCUTS}/m", headers=alice)), 404, "shortcut.does.not.exist")
    refused(client.put(f"{ALICE_INFO}/activity", params={"shortcutId": "m"}, headers=alice), 404,
            "shortcut.does.not.exist")
    for body, code in (({**LUNCH, "id": "other"}, "id.not.valid"),
                       ({**LUNCH, "activityId": "sleeping"}, "activityId.not.valid"),
                       ({**LUNCH, "durationMinutes": None}, "durationMinutes.not.valid"),
                       ({**LUNCH, "diversionPhoneNumber": "not a number"}, "diversionPhoneNumber.not.valid"),
                       ({**LUNCH, "imageId": "ic_cat"}, "imageId.not.valid"),
                       ({k: v for k, v in LUNCH.items() if k != "name"}, "name.required")):
        refused(openapi.check(client.put(f"{SHORTCUTS}/lunch-shortcut", json=body, headers=alice)), 400, code)
    refused(client.put(SHORTCUTS, json={"presenceShortcut": [meeting, meeting]}, headers=alice), 400,
            "id.not.unique")
    erin = ticket("erin@globex.example", ("USER",))
    refused(client.get(SHORTCUTS, headers=erin), 403, "access.denied")


def test_an_expiration_survives_a_restart(tmp_data) -> None:
    """The expiration is stored with the presentity: a restarted twin (SQLite) ends the activity on time."""
    from tests.api.uc.conftest import bearer, create_ticket
    from tests.conftest import OPERATOR_HEADERS, start_server

    def run(check: Any) -> Any:
        with start_server(clock="manual", ephemeral=False, data_dir=tmp_data) as live, \
                httpx.Client(base_url=live.url, timeout=10) as http:
            return check(http)

    def first(http: httpx.Client) -> str:
        alice = bearer(create_ticket(http, "alice@acme.example", ("USER",)))
        now = http.get("/_callyard/clock").json()["now"]
        from datetime import datetime, timedelta
        end = (datetime.fromisoformat(now.replace("Z", "+00:00")) + timedelta(minutes=10)).strftime(
            "%Y-%m-%dT%H:%M:%SZ")
        assert http.put(f"{ALICE_INFO}/presence", json={"activity": {"id": "lunch", "expiration": end}},
                        headers=alice).status_code == 200
        return alice["Authorization"]

    authorization = run(first)

    def second(http: httpx.Client) -> None:
        alice = {"Authorization": authorization}
        assert http.get(f"{CL}/presentities/{ALICE}", headers=auth(token(http, "bob@acme.example"))).json()[
            "reason"] == "Lunch"
        advance = http.post("/_callyard/clock/advance", json={"seconds": 11 * 60}, headers=OPERATOR_HEADERS)
        assert advance.status_code == 200, advance.text
        shown = http.get(f"{CL}/presentities/{ALICE}", headers=auth(token(http, "bob@acme.example"))).json()
        assert (shown["status"], shown["reason"]) == ("available", None)
        assert http.get(f"{ALICE_INFO}/activity/expires", headers=alice).json() == "never"

    run(second)
