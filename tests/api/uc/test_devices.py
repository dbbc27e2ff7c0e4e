"""User Device Information through a live server: the list (type filter), the shortlist at the real path,
names (≤ 32 characters), icons, attributes, the table's alias paths, the SSE stream of device-set updates
and the refusals (another user, another domain, an unknown device, a ticket without USER/CALL_CONTROL)."""
from __future__ import annotations

import json
import threading

import httpx

from tests.api.uc.helpers import control, refused

BASE = "/api/device/info/v1"
ALICE = "acme.example/alice"


def test_list_and_shortlist(client, ticket, openapi) -> None:
    headers = ticket("alice@acme.example", ("USER",))
    listed = openapi.check(client.get(f"{BASE}/list/{ALICE}", headers=headers)).json()
    assert [d["deviceType"] for d in listed] == ["DESKPHONE", "SOFTPHONE", "MOBILE"]
    mobile = listed[2]
    assert mobile["deviceId"] == "0.+16135550101" and mobile["deviceStatus"] == "ACTIVE"
    assert listed[1]["deviceId"].startswith("2.") and len(listed[1]["deviceId"]) == 38
    only = openapi.check(client.get(f"{BASE}/list/{ALICE}", params={"type": "MOBILE"}, headers=headers)).json()
    assert only == [mobile]
    refused(openapi.check(client.get(f"{BASE}/list/{ALICE}", params={"type": "TOASTER"}, headers=headers)), 400,
            "invalid.device.type")
    # The real path (a CALL_CONTROL ticket is enough, as the CTI example shows) and the table's alias.
    cti = ticket("alice@acme.example", ("CALL_CONTROL",))
    short = openapi.check(client.get(f"{BASE}/shortlist/{ALICE}", headers=cti)).json()
    assert short[0] == {k: listed[0][k] for k in ("deviceId", "deviceType", "deviceName", "deviceIcon")}
    assert client.get(f"/api/userdevices/{ALICE}/active", headers=cti).json() == short
    assert client.get(f"/api/userdevices/{ALICE}", headers=cti).json() == listed


def test_names_icons_and_attributes(client, ticket, openapi) -> None:
    headers = ticket("alice@acme.example", ("USER",))
    soft = client.get(f"{BASE}/list/{ALICE}", params={"type": "SOFTPHONE"}, headers=headers).json()[0]["deviceId"]
    name_url, icon_url = f"{BASE}/name/{ALICE}/{soft}", f"{BASE}/icon/{ALICE}/{soft}"
    assert openapi.check(client.get(name_url, headers=headers)).json() == "Softphone"
    assert client.get(name_url, params={"fallback": "false"}, headers=headers).json() == ""
    assert openapi.check(client.put(name_url, params={"name": "My work laptop"}, headers=headers)).status_code == 204
    assert client.get(name_url, headers=headers).json() == "My work laptop"
    assert client.put(name_url, json={"name": "Desk"}, headers=headers).status_code == 204   # or as a JSON body
    assert client.get(f"/api/userdevices/{ALICE}/{soft}/name", headers=headers).json() == "Desk"
    refused(openapi.check(client.put(name_url, params={"name": "x" * 33}, headers=headers)), 400,
            "device.name.too.long")
    refused(client.put(name_url, headers=headers), 400, "invalid.device.name")
    assert openapi.check(client.get(icon_url, headers=headers)).json() == "SOFTPHONE_DEFAULT"
    assert client.get(icon_url, params={"fallback": "false"}, headers=headers).json() == ""
    assert openapi.check(client.put(icon_url, params={"name": "TYPE_2"}, headers=headers)).status_code == 204
    assert client.get(icon_url, headers=headers).json() == "SOFTPHONE_TYPE_2"
    refused(client.put(icon_url, params={"name": "TYPE_7"}, headers=headers), 400, "invalid.device.icon")
    listed = client.get(f"{BASE}/list/{ALICE}", params={"type": "SOFTPHONE"}, headers=headers).json()[0]
    assert listed["deviceName"] == "Desk" and listed["deviceIcon"] == "TYPE_2"
    attributes = openapi.check(client.get(f"{BASE}/attributes/{ALICE}/{soft}", headers=headers)).json()
    assert {"name": "USER_AGENT", "value": "Callyard Softphone/Mac/5.4.0.1001"} in attributes
    refused(openapi.check(client.get(f"{BASE}/name/{ALICE}/2.nope", headers=headers)), 404, "device.does.not.exist")


def test_refusals(client, ticket, openapi) -> None:
    bob = ticket("bob@acme.example", ("USER",))
    refused(openapi.check(client.get(f"{BASE}/list/{ALICE}", headers=bob)), 403, "access.denied")
    erin = ticket("erin@globex.example", ("USER",))
    refused(client.get(f"{BASE}/list/{ALICE}", headers=erin), 403, "access.denied")
    sms = ticket("alice@acme.example", ("SMS",))
    refused(client.get(f"{BASE}/list/{ALICE}", headers=sms), 403, "api.not.allowed")
    refused(client.get(f"{BASE}/list/{ALICE}"), 401, "ticket.required")
    admin = ticket("admin@acme.example", ("USER",))
    assert client.get(f"{BASE}/list/{ALICE}", headers=admin).status_code == 200   # the superuser may


def test_device_set_stream(base_url, client, ticket) -> None:
    headers = ticket("alice@acme.example", ("USER",))
    soft = client.get(f"{BASE}/list/{ALICE}", params={"type": "SOFTPHONE"}, headers=headers).json()[0]["deviceId"]
    received: list[dict] = []
    opened = threading.Event()

    def read() -> None:
        with httpx.Client(base_url=base_url, timeout=10) as stream_client, stream_client.stream(
                "GET", f"{BASE}/stream/{ALICE}", headers={**headers, "Accept": "text/event-stream"}) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            opened.set()
            event = None
            for line in response.iter_lines():
                if line.startswith("event: "):
                    event = line[7:]
                elif line.startswith("data: "):
                    received.append({"event": event, **json.loads(line[6:])})
                    return

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    assert opened.wait(5)
    assert client.put(f"{BASE}/name/{ALICE}/{soft}", params={"name": "Laptop"}, headers=headers).status_code == 204
    reader.join(5)
    assert received and received[0]["event"] == "application/app-config-data"
    assert received[0]["changedField"] == "DEVICE_INFO" and received[0]["deviceId"] == soft


def test_device_set_webhook(client, ticket, openapi) -> None:
    from tests.support.receiver import Receiver

    headers = ticket("alice@acme.example", ("USER",))
    soft = client.get(f"{BASE}/list/{ALICE}", params={"type": "SOFTPHONE"}, headers=headers).json()[0]["deviceId"]
    with Receiver() as receiver:
        body = {"targetUrl": receiver.url, "targetId": "crm-devices", "publicTarget": True}
        registered = openapi.check(client.post(f"{BASE}/webhooks/{ALICE}", json=body, headers=headers))
        assert registered.json() == {"expiresOn": 3600}
        client.put(f"{BASE}/icon/{ALICE}/{soft}", params={"name": "TYPE_1"}, headers=headers)
        [posted] = receiver.wait_for(1)
        assert posted["changedField"] == "DEVICE_INFO"
        assert len(posted["timeStamp"]) == 23 and posted["timeStamp"][10] == " "   # 2025-03-10 20:28:32.213
        assert receiver.accepted()[-1]["headers"]["webhook-signature"].startswith("v1,")
        # the alias path unregisters too; then no more callbacks
        assert openapi.check(client.delete(f"{BASE}/webhooks/{ALICE}/crm-devices", headers=headers)).status_code == 204
        refused(client.delete(f"/api/userdevices/{ALICE}/webhooks/crm-devices", headers=headers), 404,
                "webhook.does.not.exist")
        client.put(f"{BASE}/icon/{ALICE}/{soft}", params={"name": "TYPE_2"}, headers=headers)
        queued = [d for d in control(client).deliveries() if d["publication"].get("changedField") == "DEVICE_INFO"]
        assert len(queued) == 1   # nothing was queued for the change after unregistering
        refused(openapi.check(client.post(f"{BASE}/webhooks/{ALICE}", json={**body, "targetUrl": "ftp://x"},
                                          headers=headers)), 400, "targetUrl.not.valid")
        bob = ticket("bob@acme.example", ("USER",))
        refused(client.post(f"{BASE}/webhooks/{ALICE}", json=body, headers=bob), 403, "access.denied")
