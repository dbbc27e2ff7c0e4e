"""Calls through a live server: blind and attended transfer of the user's call in progress (status, cancel,
completion when the destination answers) and the call-back call of the seed's sourced example."""
from __future__ import annotations

from tests.api.uc.helpers import control, refused

OUTSIDE = "+442071234567"
TRANSFER = "/api/calls/transfer/acme.example/alice"


def alice_on_a_call(client) -> None:
    """An outside caller talks to alice on her mobile."""
    sim = control(client)
    sim.dial_in(OUTSIDE, "2880")
    sim.phone("2880", "answer", device="0.+16135550101")


def test_blind_transfer(client, ticket, openapi) -> None:
    headers = ticket("alice@acme.example", ("CALLS",))
    refused(openapi.check(client.post(TRANSFER, params={"transferType": "BLIND_TRANSFER", "destination": "2881"},
                                      headers=headers)), 409, "no.call.in.progress")
    alice_on_a_call(client)
    started = openapi.check(client.post(TRANSFER, params={"transferType": "BLIND_TRANSFER", "destination": "2881"},
                                        headers=headers))
    assert started.status_code == 200 and set(started.json()["transferId"]) == {"transferStartTime", "id"}
    status = openapi.check(client.get(TRANSFER, headers=headers)).json()["transferId"]
    assert status["type"] == "BLIND_TRANSFER" and status["destination"] == "2881"
    assert control(client).sim("2880")["calls"] == []
    assert [c["state"] for c in control(client).sim("2881")["calls"]] == ["ringing"]
    control(client).phone("2881", "answer")
    assert client.get(TRANSFER, headers=headers).json() == {"transferId": None}


def test_attended_transfer_and_cancel(client, ticket, openapi) -> None:
    headers = ticket("alice@acme.example", ("CALLS",))
    alice_on_a_call(client)
    started = client.post(TRANSFER, params={"transferType": "ATTENDED_TRANSFER", "destination": "2881"},
                          headers=headers).json()["transferId"]
    refused(openapi.check(client.post(TRANSFER, params={"transferType": "BLIND_TRANSFER", "destination": "2882"},
                                      headers=headers)), 409, "transfer.in.progress")
    assert sorted(c["state"] for c in control(client).sim("2880")["calls"]) == ["connected", "held"]
    refused(openapi.check(client.delete(f"{TRANSFER}/123", headers=headers)), 404, "transfer.does.not.exist")
    assert openapi.check(client.delete(f"{TRANSFER}/{started['id']}", headers=headers)).status_code == 204
    assert [c["state"] for c in control(client).sim("2880")["calls"]] == ["connected"]   # the caller is back
    # Again, and this time bob answers: alice leaves, bob talks to the caller.
    client.post(TRANSFER, params={"transferType": "ATTENDED_TRANSFER", "destination": "2881"}, headers=headers)
    control(client).phone("2881", "answer")
    assert control(client).sim("2880")["calls"] == []
    [bob_call] = control(client).sim("2881")["calls"]
    assert bob_call["state"] == "connected" and bob_call["from"] == OUTSIDE


def test_transfer_input(client, ticket, openapi) -> None:
    headers = ticket("alice@acme.example", ("CALLS",))
    refused(openapi.check(client.post(TRANSFER, params={"transferType": "PUSH", "destination": "2881"},
                                      headers=headers)), 400, "transferType.not.valid")
    refused(client.post(TRANSFER, params={"transferType": "BLIND_TRANSFER"}, headers=headers), 400,
            "destination.required")
    refused(client.get(TRANSFER, headers=ticket("alice@acme.example", ("USER",))), 403, "api.not.allowed")


def test_call_back_call(client, ticket, openapi) -> None:
    headers = ticket("alice@acme.example", ("CALLS",))
    # The seed's example: POST /api/calls/current/foo.com/alice/mobile/<cid>?role=PRIVATE
    answered = openapi.check(client.post("/api/calls/current/acme.example/alice/mobile/bob%40acme.example",
                                         params={"role": "PRIVATE"}, headers=headers))
    assert answered.status_code == 200 and answered.json()["field"] == []
    [bob_call] = control(client).sim("2881")["calls"]
    assert bob_call["state"] == "ringing" and bob_call["from"] == "2880"
    [alice_call] = control(client).sim("2880")["calls"]
    assert alice_call["terminal"] == "0.+16135550101"
    refused(openapi.check(client.post("/api/calls/current/acme.example/alice/fax/2881", headers=headers)), 400,
            "aptype.not.valid")
    refused(client.post("/api/calls/current/acme.example/alice/mobile/nobody%40acme.example", headers=headers),
            404, "contact.does.not.exist")
