"""The seed 000 Media tutorial, end to end: inbound call to 2880 → redirect to 2881 → answer → consult
2882 → 2882 answers → list 2881's calls → supervisedTransfer → the caller talks to 2882, and the call
records tell the story. Every response is checked against the vendor swagger."""
from __future__ import annotations

import httpx

from tests.support.swagger import check
from tests.conftest import OPERATOR_HEADERS

B = "/2017-09-01"


def test_seed_000_tutorial(client: httpx.Client, as_user) -> None:
    admin = as_user("admin@acme.example")
    placed = client.post("/_callyard/sim/calls", json={"from": "+16135550123", "to": "2880"}, headers=admin)
    assert placed.status_code == 201, placed.text
    call_tracking = placed.json()["callId"]

    # Step 1: the routing application sees 2880 ringing.
    ringing = check(client.get(f"{B}/endpoints/2880/calls", headers=admin), "GET", "/endpoints/{endpointId}/calls")
    assert ringing["count"] == 1
    first = ringing["_embedded"]["items"][0]
    assert (first["state"], first["cause"], first["direction"], first["from"]) == \
        ("ringing", "newCall", "inbound", "+16135550123")
    endpoint = check(client.get(f"{B}/endpoints/2880", headers=admin), "GET", "/endpoints/{endpointId}")
    assert endpoint["state"] == "ringing"

    # Step 2: redirect to 2881 (the 613 area code goes to 2881).
    redirected = client.put(f"{B}/endpoints/2880/calls/{first['callId']}",
                            json={"action": "redirect", "destination": "2881"}, headers=admin)
    check(redirected, "PUT", "/endpoints/{endpointId}/calls/{callId}")
    assert redirected.status_code == 200
    assert check(client.get(f"{B}/endpoints/2880/calls", headers=admin), "GET",
                 "/endpoints/{endpointId}/calls")["count"] == 0
    bob_calls = check(client.get(f"{B}/endpoints/2881/calls", headers=admin), "GET", "/endpoints/{endpointId}/calls")
    original = bob_calls["_embedded"]["items"][0]
    assert (original["state"], original["cause"]) == ("ringing", "redirected")
    assert original["callId"] != first["callId"]

    # Step 3: the client tool on Bob's desk answers.
    bob = as_user("bob@acme.example")
    answered = client.put(f"{B}/endpoints/2881/calls/{original['callId']}", json={"action": "answer"}, headers=bob)
    check(answered, "PUT", "/endpoints/{endpointId}/calls/{callId}")
    assert answered.json()["state"] == "connected"

    # Step 4: consult 2882 with args, Carol answers on her phone.
    consulted = client.put(f"{B}/endpoints/2881/calls/{original['callId']}",
                           json={"action": "consult", "args": "2882"}, headers=bob)
    check(consulted, "PUT", "/endpoints/{endpointId}/calls/{callId}")
    carol_ringing = client.get("/_callyard/sim/endpoints/2882", headers=admin).json()["calls"][0]
    assert carol_ringing["state"] == "ringing" and carol_ringing["from"] == "2881"
    assert client.post("/_callyard/sim/endpoints/2882/answer", headers=admin).status_code == 200

    listing = check(client.get(f"{B}/endpoints/2881/calls", headers=bob), "GET", "/endpoints/{endpointId}/calls")
    states = {item["callId"]: item["state"] for item in listing["_embedded"]["items"]}
    assert states[original["callId"]] == "held"
    consultation = next(i for i in listing["_embedded"]["items"] if i["callId"] != original["callId"])
    assert consultation["state"] == "connected" and consultation["to"] == "2882"

    transferred = client.put(f"{B}/endpoints/2881/calls/{consultation['callId']}",
                             json={"action": "supervisedTransfer", "args": original["callId"]}, headers=bob)
    check(transferred, "PUT", "/endpoints/{endpointId}/calls/{callId}")
    assert transferred.status_code == 200

    # The external caller now talks to 2882; 2881 is idle.
    assert check(client.get(f"{B}/endpoints/2881", headers=bob), "GET", "/endpoints/{endpointId}")["state"] == "idle"
    carol = check(client.get(f"{B}/endpoints/2882/calls", headers=admin), "GET", "/endpoints/{endpointId}/calls")
    assert carol["count"] == 1
    talking = carol["_embedded"]["items"][0]
    assert talking["state"] == "connected" and talking["from"] == "+16135550123" and talking["cause"] == "transfer"
    live = client.get("/_callyard/sim/calls", headers=admin).json()["_embedded"]["items"]
    assert len(live) == 1 and live[0]["callId"] == call_tracking
    assert sorted(leg["endpointId"] for leg in live[0]["legs"]) == ["+16135550123", "2882"]

    # 30 s of talk, the caller hangs up; the records show what happened.
    client.post("/_callyard/clock/advance", json={"seconds": 30}, headers=OPERATOR_HEADERS)
    assert client.post("/_callyard/sim/endpoints/+16135550123/hangup", headers=admin).status_code == 200
    records = check(client.get(f"{B}/calls/records", headers=admin), "GET", "/calls/records")
    by_leg = {r["callId"]: r for r in records["_embedded"]["items"]}
    assert by_leg[first["callId"]]["cause"] == "redirected" and by_leg[first["callId"]]["completed"] is False
    assert by_leg[original["callId"]]["cause"] == "transfer" and by_leg[original["callId"]]["completed"] is True
    assert by_leg[consultation["callId"]]["to"] == "2882"
    assert by_leg[talking["callId"]]["billingTime"] == 30.0
    assert by_leg[talking["callId"]]["endTime"]
