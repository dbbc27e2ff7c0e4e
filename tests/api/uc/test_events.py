"""Event (meetings) through a live server: scheduling a series on the core's conferences (pincode = the access
code CloudLink shows), recurrence expansion in a window, single occurrences and exceptions (modified and
cancelled), joining and leaving through the one conference, the web meeting, a stream's events, the refusals
and cross-tenant isolation."""
from __future__ import annotations

from tests.api.uc.helpers import refused

EVENTS = "/api/event/acme.example/alice"
MEDIA = "/2017-09-01"
BOB = {"firstName": "Bob", "lastName": "Test", "businessPhone": "2881", "mobilePhone": ""}
GUEST = {"firstName": "Gina", "lastName": "Guest", "businessPhone": "+46850654760", "mobilePhone": "+46767676194",
         "email": "gina@example.org"}
DAILY = {"dateTimeStart": "2026-03-23T08:00:00Z", "dateTimeEnd": "2026-03-23T09:00:00Z", "name": "Stand-up",
         "timeZone": "Europe/Stockholm", "recurringType": "DAILY", "interval": 1, "recurrenceRangeType": "NUMBERED",
         "numberOfOccurrences": 10, "participants": [BOB, GUEST], "note": "Daily", "pincode": "151512",
         "dialInNumbers": "+16135550100", "webmeetAllowed": True, "moxtraBinderId": "binder-1",
         "organizer": {"firstName": "ignored"}}


def test_schedule_read_update_delete(client, ticket, openapi, alice, bob) -> None:
    headers = ticket("alice@acme.example", ("USER",))
    created = openapi.check(client.post(EVENTS, json=DAILY, headers=headers))
    assert created.status_code == 200, created.text
    event = created.json()
    assert event["id"] >= 1 and event["rRule"] == "FREQ=DAILY;INTERVAL=1;COUNT=10"
    assert event["pincode"] == "151512" and event["recurringType"] == "DAILY" and event["exceptions"] == []
    assert event["organizer"] == {"firstName": "Alice", "lastName": "Anders", "businessPhone": "2880",
                                  "mobilePhone": "+16135550101"}
    assert event["participants"] == [BOB, GUEST]
    # The meeting is one of the core's conferences: CloudLink shows it with the same access code, alice owning
    # it and bob (a user of the organisation) invited; the outside guest stays on the event only.
    conference = client.get(f"{MEDIA}/conferences/{event['conferenceId']}", headers=alice).json()
    assert conference["accessCode"] == "151512" and conference["name"] == "Stand-up"
    roster = {p["participantId"]: p["state"] for p in conference["_embedded"]["participants"]["_embedded"]["items"]}
    assert roster == {"ac3e0000-0000-4000-8000-000000002880": "accepted",
                      "ac3e0000-0000-4000-8000-000000002881": "invited"}
    path = f"{EVENTS}/{event['id']}"
    assert openapi.check(client.get(path, headers=headers)).json() == event
    assert [e["id"] for e in openapi.check(client.get(EVENTS, headers=headers)).json()["events"]] == [event["id"]]
    # bob sees it in his list (a participant), reads it but cannot change it.
    bob_ticket = ticket("bob@acme.example", ("USER",))
    bob_events = "/api/event/acme.example/bob"
    assert [e["id"] for e in client.get(bob_events, headers=bob_ticket).json()["events"]] == [event["id"]]
    refused(openapi.check(client.put(f"{bob_events}/{event['id']}", json=DAILY, headers=bob_ticket)), 403,
            "event.organizer.only")
    # A PUT replaces the schedule: weekly on Monday and Wednesday until mid-April; bob is no longer invited.
    weekly = {**DAILY, "name": "Sync", "recurringType": "WEEKLY", "daysOfWeek": ["MONDAY", "WEDNESDAY"],
              "recurrenceRangeType": "END_DATE", "endDate": "2026-04-15T08:00:00Z", "participants": [GUEST],
              "pincode": None}
    changed = openapi.check(client.put(path, json=weekly, headers=headers)).json()
    assert changed["rRule"] == "FREQ=WEEKLY;INTERVAL=1;BYDAY=MO,WE;UNTIL=20260415T100000"
    assert changed["pincode"] == "151512" and changed["name"] == "Sync"
    conference = client.get(f"{MEDIA}/conferences/{event['conferenceId']}", headers=alice).json()
    assert conference["name"] == "Sync" and conference["_embedded"]["participants"]["count"] == 1
    assert client.get(bob_events, headers=bob_ticket).json() == {"events": []}
    deleted = openapi.check(client.delete(path, headers=headers))
    assert deleted.json() == {"field": [], "warning": [], "generated-id": ""}
    refused(openapi.check(client.get(path, headers=headers)), 404, "event.does.not.exist")
    assert client.get(f"{MEDIA}/conferences/{event['conferenceId']}", headers=alice).status_code == 404


def test_window_expansion_and_exceptions(client, ticket, openapi) -> None:
    headers = ticket("alice@acme.example", ("USER",))
    event = client.post(EVENTS, json={**DAILY, "pincode": None}, headers=headers).json()
    window = {"from": "2026-03-25T00:00:00Z", "to": "2026-03-30T00:00:00Z"}
    listed = openapi.check(client.get(EVENTS, params=window, headers=headers)).json()["events"]
    starts = [o["dateTimeStart"] for o in listed[0]["occurrences"]]
    # 09:00 Stockholm: 08:00Z before the change to summer time (29 March), 07:00Z after it.
    assert starts == ["2026-03-25T08:00:00Z", "2026-03-26T08:00:00Z", "2026-03-27T08:00:00Z",
                      "2026-03-28T08:00:00Z", "2026-03-29T07:00:00Z"]
    base = f"{EVENTS}/{event['id']}"
    # A single occurrence, by its date.
    one = openapi.check(client.get(f"{base}/2026-03-26", headers=headers)).json()
    assert one["dateTimeStart"] == "2026-03-26T08:00:00Z" and not one["isUpdated"] and not one["isCancelled"]
    # Move the 26th to the afternoon, cancel the 27th.
    moved = openapi.check(client.put(f"{base}/2026-03-26", headers=headers, json={
        "dateTimeStart": "2026-03-26T13:00:00Z", "dateTimeEnd": "2026-03-26T14:00:00Z", "name": "Late stand-up",
        "participants": [BOB], "organizer": {}})).json()
    assert moved["isUpdated"] and moved["dateTimeOld"] == "2026-03-26T08:00:00Z" and moved["id"] == 1
    cancelled = openapi.check(client.delete(f"{base}/2026-03-27", headers=headers)).json()
    assert cancelled["isCancelled"] and cancelled["id"] == 2 and cancelled["dateTimeStart"] == "2026-03-27T08:00:00Z"
    refused(openapi.check(client.delete(f"{base}/2026-03-27", headers=headers)), 409,
            "event.occurrence.already.cancelled")
    assert client.get(f"{base}/2026-03-26", headers=headers).json()["name"] == "Late stand-up"
    listed = client.get(EVENTS, params=window, headers=headers).json()["events"][0]
    assert [(o["dateTimeStart"], o["name"]) for o in listed["occurrences"]] == [
        ("2026-03-25T08:00:00Z", "Stand-up"), ("2026-03-26T13:00:00Z", "Late stand-up"),
        ("2026-03-28T08:00:00Z", "Stand-up"), ("2026-03-29T07:00:00Z", "Stand-up")]
    assert [e["id"] for e in listed["exceptions"]] == [1, 2]
    # Outside the series: no occurrence; a window with none leaves the event out.
    refused(openapi.check(client.get(f"{base}/2026-04-20", headers=headers)), 404, "event.occurrence.does.not.exist")
    refused(client.get(f"{base}/26-03-2026", headers=headers), 400, "eventDate.not.valid")
    assert client.get(EVENTS, params={"from": "2027-01-01T00:00:00Z", "to": "2027-02-01T00:00:00Z"},
                      headers=headers).json() == {"events": []}
    refused(client.get(EVENTS, params={"from": "2026-01-01T00:00:00Z"}, headers=headers), 400, "window.not.valid")
    refused(client.get(EVENTS, params={"from": "2026-01-01T00:00:00Z", "to": "2036-01-01T00:00:00Z"},
                       headers=headers), 400, "window.not.valid")


def test_relative_and_explicit_rules(client, ticket) -> None:
    headers = ticket("alice@acme.example", ("USER",))
    last_tuesday = client.post(EVENTS, headers=headers, json={
        "dateTimeStart": "2026-01-27T15:00:00Z", "dateTimeEnd": "2026-01-27T16:00:00Z", "name": "Review",
        "recurringType": "MONTHLY_RELATIVE", "daysOfWeek": ["TUESDAY"], "weekPosition": "LAST",
        "recurrenceRangeType": "NUMBERED", "numberOfOccurrences": 4}).json()
    assert last_tuesday["rRule"] == "FREQ=MONTHLY;INTERVAL=1;BYDAY=TU;BYSETPOS=-1;COUNT=4"
    window = {"from": "2026-01-01T00:00:00Z", "to": "2027-01-01T00:00:00Z"}
    found = client.get(EVENTS, params=window, headers=headers).json()["events"][0]["occurrences"]
    assert [o["dateTimeStart"][:10] for o in found] == ["2026-01-27", "2026-02-24", "2026-03-31", "2026-04-28"]
    explicit = client.post(EVENTS, headers=headers, json={
        "dateTimeStart": "2026-01-05T10:00:00Z", "dateTimeEnd": "2026-01-05T10:30:00Z", "name": "Sprint",
        "rRule": "FREQ=WEEKLY;INTERVAL=2;COUNT=3"}).json()
    assert explicit["recurringType"] == "WEEKLY"
    events = client.get(EVENTS, params=window, headers=headers).json()["events"]
    sprint = next(e for e in events if e["id"] == explicit["id"])
    assert [o["dateTimeStart"][:10] for o in sprint["occurrences"]] == ["2026-01-05", "2026-01-19", "2026-02-02"]


def test_join_leave_webmeet_and_stream(client, ticket, openapi, alice) -> None:
    headers = ticket("alice@acme.example", ("USER",))
    event = client.post(EVENTS, json=DAILY, headers=headers).json()
    base = f"{EVENTS}/{event['id']}"
    refused(openapi.check(client.post(f"{base}/leave", headers=headers)), 409, "event.not.joined")
    joined = openapi.check(client.post(f"{base}/join", params={"selectedDeviceID": "2.softphone"}, headers=headers))
    assert joined.status_code == 200 and isinstance(joined.json(), str)
    conference = client.get(f"{MEDIA}/conferences/{event['conferenceId']}", headers=alice).json()
    assert conference["state"] == "active"
    bob = ticket("bob@acme.example", ("USER",))
    assert client.post(f"/api/event/acme.example/bob/{event['id']}/join", headers=bob).status_code == 200
    states = {p["participantId"][-4:]: p["state"]
              for p in client.get(f"{MEDIA}/conferences/{event['conferenceId']}", headers=alice)
              .json()["_embedded"]["participants"]["_embedded"]["items"]}
    assert states == {"2880": "active", "2881": "active"}
    assert openapi.check(client.post(f"{base}/leave", headers=headers)).json()["field"] == []
    assert client.post(f"/api/event/acme.example/bob/{event['id']}/leave", headers=bob).status_code == 200
    assert client.get(f"{MEDIA}/conferences/{event['conferenceId']}", headers=alice).json()["state"] == "inactive"
    # The web meeting (allowed here), and the stream's events by a participant's e-mail or mobile number.
    webmeet = openapi.check(client.get(f"{base}/webmeet", headers=headers)).json()
    assert webmeet["code"] == "RESPONSE_SUCCESS" and webmeet["data"]["id"]
    plain = client.post(EVENTS, json={**DAILY, "pincode": None, "webmeetAllowed": False}, headers=headers).json()
    refused(openapi.check(client.get(f"{EVENTS}/{plain['id']}/webmeet", headers=headers)), 400,
            "webmeet.not.allowed")
    stream = openapi.check(client.get("/api/event/stream/binder-1/gina@example.org", headers=headers)).json()
    assert sorted(e["id"] for e in stream["events"]) == sorted([event["id"], plain["id"]])
    assert client.get("/api/event/stream/binder-1/+16135550101", headers=headers).json()["events"]  # alice, mobile
    assert client.get("/api/event/stream/binder-2/gina@example.org", headers=headers).json() == {"events": []}
    # carol attends none of them: the stream shows her nothing; an administrator sees the organisation's.
    carol = ticket("carol@acme.example", ("USER",))
    assert client.get("/api/event/stream/binder-1/gina@example.org", headers=carol).json() == {"events": []}
    admin = ticket("admin@acme.example", ("USER",))
    assert len(client.get("/api/event/stream/binder-1/gina@example.org", headers=admin).json()["events"]) == 2


def test_refusals_change_nothing(client, ticket, openapi) -> None:
    headers = ticket("alice@acme.example", ("USER",))
    for body, code in (
            ({**DAILY, "dateTimeEnd": "2026-03-23T07:00:00Z"}, "dateTimeEnd.not.valid"),
            ({**DAILY, "dateTimeStart": "tomorrow"}, "dateTimeStart.not.valid"),
            ({**DAILY, "timeZone": "Mars/Olympus"}, "timeZone.not.valid"),
            ({**DAILY, "numberOfOccurrences": None}, "numberOfOccurrences.not.valid"),
            ({**DAILY, "recurrenceRangeType": "END_DATE", "endDate": "2026-01-01T00:00:00Z"}, "endDate.not.valid"),
            ({**DAILY, "recurringType": "MONTHLY_RELATIVE"}, "weekPosition.required"),
            ({**DAILY, "rRule": "FREQ=SOMETIMES"}, "rRule.not.valid"),
            ({**DAILY, "pincode": "12ab"}, "pincode.not.valid")):
        refused(openapi.check(client.post(EVENTS, json=body, headers=headers)), 400, code)
    refused(openapi.check(client.post(EVENTS, json={**DAILY, "recurringType": "HOURLY"}, headers=headers)), 400,
            "recurringType.not.valid")
    refused(client.post(EVENTS, json={"name": "no times"}, headers=headers), 400, "dateTimeStart.required")
    assert client.get(EVENTS, headers=headers).json() == {"events": []}
    first = client.post(EVENTS, json=DAILY, headers=headers).json()
    refused(openapi.check(client.post(EVENTS, json=DAILY, headers=headers)), 409, "pincode.already.used")
    assert [e["id"] for e in client.get(EVENTS, headers=headers).json()["events"]] == [first["id"]]
    refused(openapi.check(client.get(f"{EVENTS}/999999", headers=headers)), 404, "event.does.not.exist")
    refused(openapi.check(client.put(f"{EVENTS}/{first['id']}/2026-03-24", json={"dateTimeStart": "x",
                                     "dateTimeEnd": "2026-03-24T09:00:00Z"}, headers=headers)), 400,
            "dateTimeStart.not.valid")
    refused(openapi.check(client.get(EVENTS, headers=ticket("alice@acme.example", ("CALL_CONTROL",)))), 403,
            "api.not.allowed")
    # carol is not invited: alice's event is not hers to read or join.
    carol = ticket("carol@acme.example", ("USER",))
    refused(client.get(f"/api/event/acme.example/carol/{first['id']}", headers=carol), 404, "event.does.not.exist")
    refused(client.post(f"/api/event/acme.example/carol/{first['id']}/join", headers=carol), 404,
            "event.does.not.exist")


def test_another_organisation_is_never_reached(client, ticket, openapi) -> None:
    event = client.post(EVENTS, json=DAILY, headers=ticket("alice@acme.example", ("USER",))).json()
    erin = ticket("erin@globex.example", ("USER",))
    refused(openapi.check(client.get(f"{EVENTS}/{event['id']}", headers=erin)), 403, "access.denied")
    refused(client.get(f"/api/event/globex.example/erin/{event['id']}", headers=erin), 404, "event.does.not.exist")
    refused(client.post(f"/api/event/globex.example/erin/{event['id']}/join", headers=erin), 404,
            "event.does.not.exist")
    assert client.get("/api/event/stream/binder-1/gina@example.org", headers=erin).json() == {"events": []}
    # Globex may use the same pincode: access codes are unique per organisation.
    mine = client.post("/api/event/globex.example/erin", json={**DAILY, "participants": []}, headers=erin)
    assert mine.status_code == 200 and mine.json()["pincode"] == "151512"


def test_events_survive_an_account_export_and_import(client, ticket, admin, alice) -> None:
    headers = ticket("alice@acme.example", ("USER",))
    event = client.post(EVENTS, json=DAILY, headers=headers).json()
    client.delete(f"{EVENTS}/{event['id']}/2026-03-24", headers=headers).raise_for_status()
    client.post("/api/event/globex.example/erin", json={**DAILY, "participants": []},
                headers=ticket("erin@globex.example", ("USER",))).raise_for_status()
    snapshot = client.get("/_callyard/state", headers=admin).json()
    assert [e["id"] for e in snapshot["documents"]["meeting_event"]] == [str(event["id"])]
    assert client.post("/_callyard/reset", headers=admin).status_code == 200
    headers = ticket("alice@acme.example", ("USER",))
    assert client.get(EVENTS, headers=headers).json() == {"events": []}
    imported = client.post("/_callyard/state", json=snapshot, headers=admin)
    assert imported.status_code == 200, imported.text
    headers = ticket("alice@acme.example", ("USER",))
    again = client.get(f"{EVENTS}/{event['id']}", headers=headers).json()
    assert again["pincode"] == "151512" and [e["isCancelled"] for e in again["exceptions"]] == [True]
    assert client.post(f"{EVENTS}/{event['id']}/join", headers=headers).status_code == 200


def test_sms_reminders_reach_the_outbox_on_the_twins_clock(client, ticket, operator) -> None:
    from datetime import datetime, timedelta

    def advance(minutes: float) -> None:
        assert client.post("/_callyard/clock/advance", json={"seconds": minutes * 60},
                           headers=operator).status_code == 200

    def reminders() -> list[dict]:
        return [m for m in client.get("/_callyard/sms", headers=operator).json()["_embedded"]["items"]
                if m.get("reason") == "meetingReminder"]   # the operator: tokens expire as the clock moves

    now = datetime.fromisoformat(client.get("/_callyard/clock").json()["now"].replace("Z", "+00:00"))
    start = (now + timedelta(minutes=30)).replace(microsecond=0)
    headers = ticket("alice@acme.example", ("USER",))
    event = client.post(EVENTS, headers=headers, json={
        **DAILY, "dateTimeStart": start.isoformat(), "dateTimeEnd": (start + timedelta(hours=1)).isoformat(),
        "numberOfOccurrences": 2, "minutesBeforeMeetingSMS": 10}).json()
    advance(19)
    assert reminders() == []
    advance(2)
    sent = reminders()
    assert [(m["to"], m["from"], m["eventId"]) for m in sent] == [("+46767676194", "+16135550101", event["id"])]
    assert "pincode 151512" in sent[0]["text"] and sent[0]["occurrence"] == event["dateTimeStart"]
    advance(24 * 60)
    assert len(reminders()) == 2   # the second (and last) occurrence's
    advance(24 * 60)
    assert len(reminders()) == 2
