"""Conversations (3), ReasonCode (2), Status (1), Extension (2), Dnis (2), Site (2), Directory (4) and
WarningReason (2) through a live server."""
from __future__ import annotations

import httpx

from tests.api.cx.conftest import API, CALLER, LOGIN, SUPPORT
from tests.support.control import Control


def test_conversations_active_and_one(client: httpx.Client, cx_alice: dict, cx_carol: dict, supervisor: dict,
                                      control: Control) -> None:
    assert client.get(f"{API}/conversations", headers=supervisor).json()["count"] == 0
    control.dial_in(CALLER, "5000")
    [waiting] = client.get(f"{API}/conversations", headers=supervisor).json()["_embedded"]["items"]
    assert (waiting["conversationState"], waiting["queueId"], waiting["mediaType"]) == ("InQueue", SUPPORT, "Voice")
    assert client.get(f"{API}/conversations", headers=cx_alice).json()["count"] == 1  # her queue
    assert client.get(f"{API}/conversations", headers=cx_carol).json()["count"] == 0  # not hers
    cid = waiting["conversationId"]
    assert client.get(f"{API}/conversations/{cid}", headers=cx_alice).json()["fromAddress"] == CALLER
    assert client.get(f"{API}/conversations/{cid}", headers=cx_carol).status_code == 404
    client.put(f"{API}/employees/me/state", headers=cx_alice, json=LOGIN)
    offered = client.get(f"{API}/conversations/{cid}", headers=supervisor).json()
    assert offered["conversationState"] == "Offered" and offered["agentReporting"] == "3001"
    details = client.post(f"{API}/conversations/{cid}/calldetails", headers=cx_alice,
                          json={"variables": [{"key": "account", "value": "42"}]})
    assert details.status_code == 200 and details.json() == {"variables": [{"key": "account", "value": "42"}]}
    assert client.post(f"{API}/conversations/{cid}/calldetails", headers=cx_alice,
                       json={"variables": "x"}).status_code == 400
    assert client.post(f"{API}/conversations/nope/calldetails", headers=cx_alice,
                       json={"variables": []}).status_code == 404


def test_reason_codes(client: httpx.Client, cx_alice: dict) -> None:
    codes = client.get(f"{API}/reasoncodes", headers=cx_alice).json()
    assert codes["count"] == 4
    for ref in ("Lunch", "1", "lunch"):
        assert client.get(f"{API}/reasoncodes/{ref}", headers=cx_alice).json()["type"] == "Busy"
    assert client.get(f"{API}/reasoncodes/Focus", headers=cx_alice).json()["type"] == "Dnd"
    assert client.get(f"{API}/reasoncodes/Nap", headers=cx_alice).status_code == 404


def test_status(client: httpx.Client, cx_alice: dict, control: Control) -> None:
    first = client.get(f"{API}/status", headers=cx_alice).json()
    assert first["isReady"] is True and first["serverTime"].endswith("Z")
    control.advance(120)
    later = client.get(f"{API}/status", headers=cx_alice).json()
    assert later["serverTime"] > first["serverTime"]


def test_extensions(client: httpx.Client, supervisor: dict, cx_alice: dict) -> None:
    everything = client.get(f"{API}/extensions", headers=supervisor).json()["_embedded"]["items"]
    assert [e["reporting"] for e in everything] == ["200", "2880", "2881", "2882"]
    assert {e["reporting"]: e["acdEnabled"] for e in everything} == {"200": True, "2880": True, "2881": False,
                                                                      "2882": False}
    mine = client.get(f"{API}/extensions", headers=cx_alice).json()["_embedded"]["items"]
    assert [e["reporting"] for e in mine] == ["2880"]
    one = client.get(f"{API}/extensions/2880", headers=cx_alice).json()
    assert one["name"] == "Alice Anders" and client.get(f"{API}/extensions/{one['id']}", headers=cx_alice).json() == one
    assert client.get(f"{API}/extensions/200", headers=cx_alice).status_code == 404


def test_dnis_sites_warning_reasons(client: httpx.Client, cx_alice: dict) -> None:
    [dnis] = client.get(f"{API}/dnis", headers=cx_alice).json()["_embedded"]["items"]
    assert dnis["phoneNumber"] == "+16135550100" and dnis["serviceLevel"] == "00:00:20"
    assert client.get(f"{API}/dnis/Support line", headers=cx_alice).json()["id"] == dnis["id"]
    assert client.get(f"{API}/dnis/none", headers=cx_alice).status_code == 404
    [site] = client.get(f"{API}/sites", headers=cx_alice).json()["_embedded"]["items"]
    assert site["name"] == "Acme HQ"
    assert client.get(f"{API}/sites/Acme HQ", headers=cx_alice).json()["id"] == site["id"]
    assert client.get(f"{API}/sites/Globex", headers=cx_alice).status_code == 404
    reasons = client.get(f"{API}/warningreasons", headers=cx_alice).json()["_embedded"]["items"]
    assert [r["name"] for r in reasons] == ["Outdated answer", "Wrong tone"]
    assert client.get(f"{API}/warningreasons/Wrong tone", headers=cx_alice).json()["id"] == reasons[1]["id"]
    assert client.get(f"{API}/warningreasons/Nope", headers=cx_alice).status_code == 404


def test_directory(client: httpx.Client, cx_alice: dict, supervisor: dict) -> None:
    listed = client.get(f"{API}/directory", headers=cx_alice).json()
    assert {e["type"] for e in listed["_embedded"]["items"]} == {"Employee", "Queue"}
    employees = client.get(f"{API}/directory", headers=cx_alice,
                           params={"$filter": "Type eq Mitel.MiccSdk.Models.DirectoryEntryType'Employee'"}).json()
    assert employees["count"] == 4
    searched = client.get(f"{API}/directory?$search='Anders'", headers=cx_alice).json()
    assert [e["name"] for e in searched["_embedded"]["items"]] == ["Alice Anders"]
    created = client.post(f"{API}/directory", headers=cx_alice,
                          json={"Name": "Zed Zero", "Email": "zed@example.com", "Phone": "+16135550999"})
    assert created.status_code == 200, created.text
    entry = created.json()
    assert entry["type"] == "ElasticContact" and entry["name"] == "Zed Zero"
    assert client.get(f"{API}/directory/{entry['id']}", headers=supervisor).json()["email"] == "zed@example.com"
    updated = client.put(f"{API}/directory/{entry['id']}", headers=cx_alice, json={"mobilePhone": "+16135550998"})
    assert updated.json()["mobilePhone"] == "+16135550998" and updated.json()["name"] == "Zed Zero"
    assert client.post(f"{API}/directory", headers=cx_alice, json={"email": "x@example.com"}).status_code == 400
    assert client.post(f"{API}/directory", headers=cx_alice, json={"name": 5}).status_code == 400
    assert client.put(f"{API}/directory/Support", headers=cx_alice, json={"name": "X"}).status_code == 409
    assert client.get(f"{API}/directory/nobody", headers=cx_alice).status_code == 404
    assert client.get(f"{API}/directory?voiceOnly=maybe", headers=cx_alice).status_code == 400


def test_unknown_routes_and_methods_answer_in_the_family_envelope(client: httpx.Client, cx_alice: dict) -> None:
    missing = client.get(f"{API}/nosuchresource", headers=cx_alice)
    assert missing.status_code == 404 and set(missing.json()) == {"message", "errorCode"}
    wrong = client.post(f"{API}/queues", headers=cx_alice)
    assert wrong.status_code == 405 and wrong.json()["errorCode"] == "MethodNotAllowed"


def test_an_employees_own_call_is_an_active_conversation(client: httpx.Client, cx_alice: dict,
                                                         supervisor: dict) -> None:
    client.post(f"{API}/employees/me/conversations", headers=cx_alice, json={"type": "Voice", "to": "2881"})
    [call] = client.get(f"{API}/conversations", headers=supervisor).json()["_embedded"]["items"]
    assert (call["conversationState"], call["direction"], call["queueId"]) == ("Outbound", "Outbound", None)
    assert call["agentReporting"] == "3001"
