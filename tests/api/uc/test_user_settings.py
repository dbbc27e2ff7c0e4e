"""UC End-user Configuration (with its SSE stream read by a real SSE client), Voicemail Settings (obeyed by
the engine's voicemail and its e-mail notification) and Mobile Subscriber through the real interface, every
response validated against the family's OpenAPI document."""
from __future__ import annotations

import json
import threading
from typing import Any

import httpx
from httpx_sse import connect_sse

from tests.api.uc.helpers import refused

CONFIG = "/api/userconfig/acme.example/alice"
VOICEMAIL = "/api/voicemail/settings/acme.example/alice"
MOBILE = "/api/mobilesubscriber/acme.example/%2B16135550101"


def ok(openapi: Any, response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    openapi.check(response)
    return response.json() if response.content else None


# ---------------------------------------------------------------------------- end-user configuration
def test_configuration_documents(client, openapi, ticket) -> None:
    alice = ticket("alice@acme.example", ("USER",))
    places = ok(openapi, client.get(f"{CONFIG}/answerplaces", headers=alice))["answerplace"]
    assert {p["id"] for p in places} <= {"deskphone", "softphone", "mobile"} and places
    roles = ok(openapi, client.get(f"{CONFIG}/roles", headers=alice))["role"]
    assert [r["id"] for r in roles][:2] == ["business", "private"]
    activities = ok(openapi, client.get(f"{CONFIG}/activities", params={"language": "sv_SE"},
                                        headers=alice))["activity"]
    by_id = {a["id"]: a for a in activities}
    assert {"available", "busy", "lunch", "meeting", "out_of_office", "working"} <= set(by_id)
    assert by_id["available"] == {"id": "available", "name": "Tillgänglig", "available": True, "default": True,
                                  "stateName": "available"}
    assert by_id["lunch"]["stateName"] == "away" and by_id["lunch"]["available"] is False
    # the organisation's own activity and role (tenant file) are offered and can be set
    assert by_id["support_shift"]["name"] == "Support shift"
    assert "support" in {r["id"] for r in roles}
    info = "/api/userinfo/acme.example/alice"
    assert ok(openapi, client.put(f"{info}/activity", params={"activity": "support_shift"},
                                  headers=alice)) == "support_shift"
    ok(openapi, client.put(f"{info}/presence", json={"role": "support"}, headers=alice))

    document = ok(openapi, client.get(CONFIG, headers=alice))
    assert document["language"] == "en_US" and document["defaultPresenceState"] == "available"
    assert document["answerplaces"]["answerplace"] == places and document["callrouting-enabled"] is True
    assert {f["id"]: f["currentValue"] for f in document["fields"]["field"]}["extension"] == "2880"
    assert ok(openapi, client.get(f"{CONFIG}/webclient", headers=alice))["url"].startswith("http")
    refused(openapi.check(client.get(CONFIG, params={"language": "swe"}, headers=alice)), 400,
            "language.not.valid")
    erin = ticket("erin@globex.example", ("USER",))
    for path in ("", "/roles", "/activities", "/answerplaces", "/webclient", "/stream"):
        refused(openapi.check(client.get(f"{CONFIG}{path}", headers=erin)), 403, "access.denied")
    # Globex has none of Acme's own activities
    erin_activities = ok(openapi, client.get("/api/userconfig/globex.example/erin/activities", headers=erin))
    assert "support_shift" not in {a["id"] for a in erin_activities["activity"]}


def test_configuration_stream_pushes_a_device_change(base_url, client, openapi, ticket) -> None:
    alice = ticket("alice@acme.example", ("USER",))
    documents: list[dict[str, Any]] = []
    first, second = threading.Event(), threading.Event()

    def read() -> None:
        with httpx.Client(base_url=base_url, timeout=10) as http, connect_sse(
                http, "GET", f"{CONFIG}/stream", headers=alice) as source:
            assert source.response.headers["content-type"].startswith("text/event-stream")
            for event in source.iter_sse():
                assert event.event == "application/app-config-data"
                documents.append(json.loads(event.data))
                (first if len(documents) == 1 else second).set()
                if len(documents) >= 2:
                    return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert first.wait(5)
    assert documents[0]["language"] == "en_US"
    softphone = next(d for d in client.get("/api/device/info/v1/list/acme.example/alice", headers=alice).json()
                     if d["deviceType"] == "SOFTPHONE")
    renamed = client.put(f"/api/device/info/v1/name/acme.example/alice/{softphone['deviceId']}",
                         params={"name": "Laptop"}, headers=alice)
    assert renamed.status_code == 204, renamed.text
    assert second.wait(5)
    reader.join(5)
    places = {p["id"]: p["name"] for p in documents[1]["answerplaces"]["answerplace"]}
    assert places["softphone"] == "Laptop"


# ---------------------------------------------------------------------------- voicemail settings
def test_allow_voicemail_false_keeps_an_unanswered_call_from_voicemail(client, openapi, ticket, control) -> None:
    alice = ticket("alice@acme.example", ("USER",))
    settings = ok(openapi, client.get(VOICEMAIL, headers=alice))
    assert settings["allowVoicemail"] is True and settings["emailNotification"] is False

    call = control.ring("2880")
    control.advance(16)   # unanswered: the mailbox takes it
    assert control.legs(call).get("6000") == "connected"
    control.phone("+16135550123", "hangup")

    changed = ok(openapi, client.put(VOICEMAIL, json={"allowVoicemail": False, "playHumanAssistance": True,
                                                      "humanAssistanceNumber": "+4676767676"}, headers=alice))
    assert (changed["allowVoicemail"], changed["playHumanAssistance"], changed["humanAssistanceNumber"]) == (
        False, True, "+4676767676")
    assert control.sim("2880")["settings"]["voicemail"] is False   # the engine's own setting
    call = control.ring("2880")
    control.advance(16)
    assert control.legs(call) == {"+16135550123": "connected", "2880": "ringing"}   # rings on, no voicemail
    control.phone("+16135550123", "hangup")
    assert ok(openapi, client.get(VOICEMAIL, headers=alice)) == changed


def test_email_notification_of_a_new_voicemail(client, openapi, ticket, control) -> None:
    alice = ticket("alice@acme.example", ("USER",))
    ok(openapi, client.put(VOICEMAIL, json={"emailNotification": True, "fileAttached": True}, headers=alice))
    call = control.ring("2880")
    control.advance(16)
    assert control.legs(call).get("6000") == "connected"
    control.advance(5)
    control.phone("+16135550123", "hangup")
    mails = [m for m in control._request("GET", "/_callyard/mail")["_embedded"]["items"]
             if m.get("template") == "voicemail"]
    assert [(m["to"], m["attached"]) for m in mails] == [("alice@acme.example", True)]
    assert "+16135550123" in mails[0]["body"]


def test_voicemail_settings_refusals(client, openapi, ticket) -> None:
    alice = ticket("alice@acme.example", ("USER",))
    before = ok(openapi, client.get(VOICEMAIL, headers=alice))
    for body, code in (({"allowVoicemail": "sometimes"}, "allowVoicemail.not.valid"),
                       ({"greeting": "hello"}, "greeting.not.allowed")):
        refused(openapi.check(client.put(VOICEMAIL, json=body, headers=alice)), 400, code)
    assert ok(openapi, client.get(VOICEMAIL, headers=alice)) == before
    bob = ticket("bob@acme.example", ("USER",))
    refused(openapi.check(client.put(VOICEMAIL, json={"allowVoicemail": False}, headers=bob)), 403,
            "access.denied")
    erin = ticket("erin@globex.example", ("USER",))
    refused(openapi.check(client.get(VOICEMAIL, headers=erin)), 403, "access.denied")


# ---------------------------------------------------------------------------- mobile subscriber
def test_mobile_subscriber_settings(client, openapi, ticket) -> None:
    alice = ticket("alice@acme.example", ("USER",))
    assert ok(openapi, client.get(f"{MOBILE}/fullcallerid", headers=alice)) is False
    assert ok(openapi, client.put(f"{MOBILE}/fullcallerid", params={"enable": "true"}, headers=alice), 204) is None
    assert ok(openapi, client.get(f"{MOBILE}/fullcallerid", headers=alice)) is True
    assert ok(openapi, client.get(f"{MOBILE}/numberpresentation", headers=alice)) == "0"
    ok(openapi, client.put(f"{MOBILE}/numberpresentation", params={"value": 2}, headers=alice), 204)
    assert ok(openapi, client.get(f"{MOBILE}/numberpresentation", headers=alice)) == "2"
    ok(openapi, client.put(f"{MOBILE}/pbxintegration", params={"enable": "false"}, headers=alice), 204)
    ok(openapi, client.put(f"{MOBILE}/routetopbx", params={"enable": "true"}, headers=alice), 204)
    # the organisation's administrator manages it too
    admin = ticket("admin@acme.example", ("USER",))
    assert ok(openapi, client.get(f"{MOBILE}/numberpresentation", headers=admin)) == "2"

    for method, path, params, status, code in (
            ("PUT", "/numberpresentation", {"value": 7}, 400, "value.not.valid"),
            ("PUT", "/numberpresentation", {}, 400, "value.required"),
            ("PUT", "/fullcallerid", {"enable": "maybe"}, 400, "enable.not.valid"),
            ("PUT", "/routetopbx", {}, 400, "enable.not.valid")):
        refused(openapi.check(client.request(method, f"{MOBILE}{path}", params=params, headers=alice)), status, code)
    refused(openapi.check(client.get("/api/mobilesubscriber/acme.example/%2B15550000000/fullcallerid",
                                     headers=alice)), 404, "mobile.subscriber.does.not.exist")
    bob = ticket("bob@acme.example", ("USER",))
    refused(openapi.check(client.put(f"{MOBILE}/fullcallerid", params={"enable": "false"}, headers=bob)), 403,
            "access.denied")
    erin = ticket("erin@globex.example", ("USER",))
    refused(openapi.check(client.get(f"{MOBILE}/fullcallerid", headers=erin)), 403, "access.denied")
    refused(openapi.check(client.get("/api/mobilesubscriber/globex.example/%2B16135550101/fullcallerid",
                                     headers=erin)), 404, "mobile.subscriber.does.not.exist")
    assert ok(openapi, client.get(f"{MOBILE}/fullcallerid", headers=alice)) is True   # unchanged


def test_a_deleted_user_takes_their_settings_along(client, openapi, ticket, server) -> None:
    import time

    from tests.conftest import ALICE, auth, token

    alice = ticket("alice@acme.example", ("USER",))
    ok(openapi, client.put(VOICEMAIL, json={"emailNotification": True}, headers=alice))
    ok(openapi, client.put(f"{MOBILE}/routetopbx", params={"enable": "true"}, headers=alice), 204)
    ok(openapi, client.put("/api/activitydiversion/acme.example/alice/lunch", json={"phoneNumber": "2882"},
                           headers=alice))
    state = server.app.state.core.rt.state
    kinds = ("voicemail_settings", "mobile_subscriber", "activity_diversion")
    assert all(any(d.get("userId") == ALICE for d in state.all(kind)) for kind in kinds)
    deleted = client.delete(f"/2017-09-01/users/{ALICE}", headers=auth(token(client, "admin@acme.example")))
    assert deleted.status_code in (200, 204), deleted.text
    deadline = time.monotonic() + 3
    while time.monotonic() < deadline and any(d.get("userId") == ALICE for k in kinds for d in state.all(k)):
        time.sleep(0.02)
    assert not any(d.get("userId") == ALICE for k in kinds for d in state.all(k))
