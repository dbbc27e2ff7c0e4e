"""CTI webhooks (per call, per user, inline) received by a real local HTTP receiver through the durable
outbox, and the SSE streams (call state, SIP dialog-info XML) read by a real streaming client."""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from typing import Any, Iterator

import httpx

from callyard.api.uc.cti import streams
from tests.support.receiver import Receiver

DIALOG = "{urn:ietf:params:xml:ns:dialog-info}"


def test_per_call_webhook(cti, devices, control) -> None:
    alice, bob = cti("alice"), cti("bob")
    with Receiver() as receiver:
        made = alice.make(devices("2880"), "2881", targetUrl=receiver.url, targetId="crm-1")
        # registered with the call, in its transaction: the first callback is the call's first token
        assert receiver.wait_for(1) == [{"callId": made["callId"], "stateToken": made["stateToken"]}]
        bob.post(f"/calls/{bob.only_call()['callId']}/answer/{devices('2881')}")
        active = alice.call(made["callId"])
        posted = receiver.wait_for(2)
        assert posted[-1] == {"callId": made["callId"], "stateToken": active["stateToken"]}
        headers = receiver.accepted()[-1]["headers"]
        assert headers["webhook-id"] and headers["webhook-signature"].startswith("v1,")
        # registering by the Call State route too; each new token is posted to both
        registered = alice.post(f"/calls/{made['callId']}/webhooks",
                                {"targetUrl": receiver.url, "targetId": "wallboard", "publicTarget": False})
        assert registered["callId"] == made["callId"]
        held = alice.post(f"/calls/{made['callId']}/hold")
        tokens = [p["stateToken"] for p in receiver.wait_for(4)]
        assert tokens[-2:] == [held["stateToken"], held["stateToken"]]
        # the delivery log and replay of the control plane
        log = [d for d in control.deliveries() if d["publication"].get("callId") == made["callId"]]
        assert len(log) == 4 and all(d["status"] == "delivered" for d in log)
        control.replay(log[0]["deliveryId"])
        receiver.wait_for(5)
        # unregister by targetId: no more callbacks for it
        alice.request("DELETE", f"/calls/{made['callId']}/webhooks/wallboard", 204)
        alice.refused("DELETE", f"/calls/{made['callId']}/webhooks/wallboard", 404, "webhook.does.not.exist")
        alice.post(f"/calls/{made['callId']}/resume")
        assert len(receiver.wait_for(6)) == 6


def test_webhook_registration_refusals(cti, devices) -> None:
    alice = cti("alice")
    made = alice.make(devices("2880"), "2881")
    alice.refused("POST", f"/calls/{made['callId']}/webhooks", 400, "targetUrl.not.valid",
                  json={"targetUrl": "ftp://x", "targetId": "a", "publicTarget": True})
    alice.refused("POST", f"/calls/{made['callId']}/webhooks", 400, "publicTarget.required",
                  json={"targetUrl": "http://127.0.0.1:9/x", "targetId": "a"})
    alice.refused("POST", "/calls/12345678/webhooks", 404, "call.not.found",
                  json={"targetUrl": "http://127.0.0.1:9/x", "targetId": "a", "publicTarget": True})
    alice.refused("POST", f"/calls/{made['callId']}/answer/{devices('2880')}", 400, "targetUrl.required",
                  json={"targetId": "only-an-id"})


def test_per_user_webhook_new_and_deleted_calls(cti, devices, control) -> None:
    alice = cti("alice")
    with Receiver() as receiver:
        assert alice.post("/webhooks", {"targetUrl": receiver.url, "targetId": "me", "publicTarget": True}) == \
            {"expiresOn": 3600}
        control.ring("2880")
        new = receiver.wait_for(1)[-1]
        assert new["fullState"] is True and [c["status"] for c in new["calls"]] == ["RINGING"]
        call = new["calls"][0]["callId"]
        alice.post(f"/calls/{call}/answer/{devices('2880')}")     # not new, not deleted: no callback
        alice.request("DELETE", f"/calls/{call}", 204)
        deleted = receiver.wait_for(2)[-1]
        assert deleted == {"fullState": True, "calls": []}
        assert len(receiver.accepted()) == 2
        # an hour later the registration has expired; registering again renews it
        control.advance(3601)
        control.ring("2880")
        alice.request("DELETE", f"/calls/{alice.only_call()['callId']}", 204)
        assert len(receiver.accepted()) == 2
        alice.post("/webhooks", {"targetUrl": receiver.url, "targetId": "me", "publicTarget": True})
        control.ring("2880")
        assert len(receiver.wait_for(3)) == 3
        alice.request("DELETE", "/webhooks/me", 204)
        alice.refused("DELETE", "/webhooks/me", 404, "webhook.does.not.exist")


def _events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    """Parse a text/event-stream: each event as {id, event, data, comments}."""
    current: dict[str, Any] = {"data": [], "comments": []}
    for line in response.iter_lines():
        if line == "":
            if current["data"] or current.get("event") or current["comments"]:
                yield {**current, "data": "\n".join(current["data"])}
            current = {"data": [], "comments": []}
        elif line.startswith(":"):
            current["comments"].append(line[1:].strip())
            yield {**current, "data": ""}
            current = {"data": [], "comments": []}
        else:
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "data":
                current["data"].append(value)
            else:
                current[field] = value


def _next_event(events: Iterator[dict[str, Any]], kind: str) -> dict[str, Any]:
    for event in events:
        if event.get("event") == kind:
            return event
    raise AssertionError(f"the stream ended before a {kind} event")


def test_call_state_stream(base_url, client, cti, devices, ticket, monkeypatch) -> None:
    monkeypatch.setattr(streams, "KEEP_ALIVE_SECONDS", 0.3)
    alice, bob = cti("alice"), cti("bob")
    made = alice.make(devices("2880"), "2881")
    url = f"{base_url}/api/cti/acme.example/alice/calls/{made['callId']}/stream"
    headers = {**alice.headers, "Accept": "text/event-stream"}
    with httpx.Client(timeout=10) as reader, reader.stream("GET", url, headers=headers) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = _events(response)
        first = _next_event(events, "callstate")
        assert json.loads(first["data"])["status"] == "INITIATED" and first["id"] == str(made["stateToken"])
        bob.post(f"/calls/{bob.only_call()['callId']}/answer/{devices('2881')}")
        active = json.loads(_next_event(events, "callstate")["data"])
        assert active["status"] == "ACTIVE"
        keep_alive = next(e for e in events if e["comments"])
        assert keep_alive["comments"] == ["keep-alive"]
        alice.request("DELETE", f"/calls/{made['callId']}", 204)
        last = json.loads(_next_event(events, "callstate")["data"])
        assert last["status"] == "TERMINATED"
        assert list(events) == []   # the stream ends with the call


def test_call_state_stream_resumes_with_last_event_id(base_url, cti, devices) -> None:
    alice = cti("alice")
    made = alice.make(devices("2880"), "2881")
    current = alice.call(made["callId"])
    url = f"{base_url}/api/cti/acme.example/alice/calls/{made['callId']}/stream"
    headers = {**alice.headers, "Last-Event-ID": str(current["stateToken"])}
    with httpx.Client(timeout=10) as reader, reader.stream("GET", url, headers=headers) as response:
        events = _events(response)
        alice.request("DELETE", f"/calls/{made['callId']}", 204)
        # the state the client already had is not sent again: the next event is the new one
        assert json.loads(_next_event(events, "callstate")["data"])["status"] == "TERMINATED"
    alice.refused("GET", "/calls/12345678/stream", 404, "call.not.found")


def test_dialog_stream_is_rfc4235_xml(base_url, cti, devices, control) -> None:
    carol_watcher = cti("bob")
    url = f"{base_url}/api/cti/acme.example/bob/dialogs/stream"
    with httpx.Client(timeout=10) as reader, reader.stream("GET", url, headers=carol_watcher.headers) as response:
        assert response.status_code == 200
        events = _events(response)
        empty = ET.fromstring(_next_event(events, "dialog-info")["data"])
        assert empty.tag == f"{DIALOG}dialog-info" and empty.get("state") == "full" and empty.get("version") == "0"
        assert empty.findall(f"{DIALOG}dialog") == []
        control.ring("2881")
        ringing = ET.fromstring(_next_event(events, "dialog-info")["data"])
        dialog = ringing.find(f"{DIALOG}dialog")
        assert dialog is not None and dialog.get("direction") == "recipient"
        assert dialog.findtext(f"{DIALOG}state") == "early"
        assert dialog.find(f"{DIALOG}remote/{DIALOG}identity").text == "tel:+16135550123"
        leg = dialog.get("local-tag")
        control.phone("2881", "answer")
        confirmed = ET.fromstring(_next_event(events, "dialog-info")["data"])
        assert confirmed.find(f"{DIALOG}dialog").findtext(f"{DIALOG}state") == "confirmed"
        assert int(confirmed.get("version")) > int(ringing.get("version"))
        carol_watcher.request("DELETE", f"/calls/{leg}", 204)
        ended = ET.fromstring(_next_event(events, "dialog-info")["data"])
        assert ended.find(f"{DIALOG}dialog").findtext(f"{DIALOG}state") == "terminated"


def test_registrations_of_ended_calls_are_swept(cti, devices, control) -> None:
    alice = cti("alice")
    with Receiver() as receiver:
        made = alice.make(devices("2880"), "2881", targetUrl=receiver.url, targetId="short-lived")
        alice.request("DELETE", f"/calls/{made['callId']}", 204)
        receiver.wait_for(2)
        control.advance(601)   # the retention sweep runs every 10 minutes of the twin's clock
        alice.refused("DELETE", f"/calls/{made['callId']}/webhooks/short-lived", 404, "webhook.does.not.exist")


def test_the_other_party_changing_the_call_moves_the_token(base_url, cti, devices) -> None:
    alice, bob = cti("alice"), cti("bob")
    with Receiver() as receiver:
        made = alice.make(devices("2880"), "2881", targetUrl=receiver.url, targetId="mine")
        bob_call = bob.only_call()["callId"]
        bob.post(f"/calls/{bob_call}/answer/{devices('2881')}")
        before = alice.call(made["callId"])
        url = f"{base_url}/api/cti/acme.example/alice/calls/{made['callId']}/stream"
        with httpx.Client(timeout=10) as reader, reader.stream("GET", url, headers=alice.headers) as response:
            events = _events(response)
            assert json.loads(_next_event(events, "callstate")["data"])["stateToken"] == before["stateToken"]
            bob.post(f"/calls/{bob_call}/hold")                 # only bob's leg changes…
            after = alice.call(made["callId"])
            assert after["stateToken"] > before["stateToken"]   # …and alice's state token moves with the call
            streamed = json.loads(_next_event(events, "callstate")["data"])
            assert streamed["stateToken"] == after["stateToken"]
        assert receiver.wait_for(3)[-1] == {"callId": made["callId"], "stateToken": after["stateToken"]}
