"""The cross-family flow of issue 15: one call, seen and driven through the UC family and the CloudLink Media
API at once, with alice's per-call webhook and CloudLink's call records."""
from __future__ import annotations

import json

from tests.api.uc.cti_support import Cti, device_id
from tests.support.receiver import Receiver
from tests.conftest import auth, token

MEDIA = "/2017-09-01"


def test_alice_calls_bob_through_cti_and_bob_answers_through_the_media_api(client, openapi, ticket, server) -> None:
    alice = Cti(client, openapi, ticket("alice@acme.example", ("CALL_CONTROL",)), "alice")
    softphone = device_id(server, "2880", "SOFTPHONE")
    bob_media = auth(token(client, "bob@acme.example"))
    with Receiver() as receiver:
        made = alice.make(softphone, "sip:bob@acme.example", targetUrl=receiver.url, targetId="alice-crm")
        assert made["status"] == "INITIATED" and made["deviceIds"] == [softphone]

        # the Media API shows bob's endpoint ringing: the same call
        ringing = client.get(f"{MEDIA}/endpoints/2881/calls", headers=bob_media).json()["_embedded"]["items"]
        assert [c["state"] for c in ringing] == ["ringing"]
        assert json.loads(ringing[0]["extraPbxData"])["callTrackingID"] == made["correlationId"]

        # bob answers through the Media API; alice's CallState is ACTIVE with a new stateToken
        answered = client.put(f"{MEDIA}/endpoints/2881/calls/{ringing[0]['callId']}", json={"action": "answer"},
                              headers=bob_media)
        assert answered.status_code == 200, answered.text
        active = alice.call(made["callId"])
        assert active["status"] == "ACTIVE" and active["stateToken"] != made["stateToken"]
        assert receiver.wait_for(2) == [{"callId": made["callId"], "stateToken": made["stateToken"]},
                                        {"callId": made["callId"], "stateToken": active["stateToken"]}]

        # hold with a stale token: refused, nothing changes; then with the current one
        alice.refused("POST", f"/calls/{made['callId']}/hold", 409, "state.token.mismatch",
                      json={"stateToken": made["stateToken"]})
        assert alice.call(made["callId"]) == active
        held = alice.post(f"/calls/{made['callId']}/hold", {"stateToken": active["stateToken"]})
        assert held["status"] == "HELD"
        assert receiver.wait_for(3)[-1] == {"callId": made["callId"], "stateToken": held["stateToken"]}
        media_view = client.get(f"{MEDIA}/endpoints/2880/calls/{made['callId']}",
                                headers=auth(token(client, "alice@acme.example"))).json()
        assert media_view["state"] == "held"

        alice.request("DELETE", f"/calls/{made['callId']}", 204)
        assert alice.state()["calls"] == []

    # CloudLink's call records show the same call, both legs
    records = client.get(f"{MEDIA}/calls/records", headers=auth(token(client, "admin@acme.example"))).json()
    mine = [r for r in records["_embedded"]["items"]
            if json.loads(r["extraPbxData"])["callTrackingID"] == made["correlationId"]]
    assert sorted(json.loads(r["extraPbxData"])["endpointId"] for r in mine) == ["2880", "2881"]
    assert {r["callId"] for r in mine} == {made["callId"], ringing[0]["callId"]}
