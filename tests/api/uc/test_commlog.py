"""Communication Log through a live server: items projected from calls placed and answered through the
CloudLink Media API and the simulator, watermarks, filters, count, marks, trash, the deleted flag, deletion
(single and bulk, with missing ids) and the group inbox."""
from __future__ import annotations

import json

import httpx

from callyard.core.directory.tenant import DEMO_TENANT
from tests.api.uc.conftest import bearer, create_ticket
from tests.api.uc.helpers import control, refused
from tests.conftest import start_server

ALICE = "/api/commlog/acme.example/alice"
BOB = "/api/commlog/acme.example/bob"
OUTSIDE = "+442071234567"


def talk(client, alice_headers, seconds: float = 20) -> None:
    """alice calls bob through the Media API; bob answers at his phone; alice hangs up."""
    placed = client.post("/2017-09-01/endpoints/2880/calls", json={"to": "2881"}, headers=alice_headers)
    assert placed.status_code == 200, placed.text
    sim = control(client)
    sim.phone("2881", "answer")
    sim.advance(seconds)
    sim.phone("2880", "hangup")


def calls(response) -> list[dict]:
    return [item[".CallDTO"] for item in response.json()["historyItems"]]


def test_both_parties_log_a_media_api_call(client, ticket, openapi, alice) -> None:
    talk(client, alice, 42)
    [out] = calls(openapi.check(client.get(ALICE, headers=ticket("alice@acme.example", ("CALLS",)))))
    [inc] = calls(openapi.check(client.get(BOB, headers=ticket("bob@acme.example", ("CALLS",)))))
    assert out["itemType"] == "OUTGOING_CALL" and out["remoteParty"] == {"number": "2881",
                                                                         "displayName": "Bob Brown"}
    assert inc["itemType"] == "INCOMING_CALL" and inc["remoteParty"]["number"] == "2880"
    assert out["duration"] == inc["duration"] == 42 and out["isSeen"] is False


def test_watermarks_filters_count_and_marks(client, ticket, openapi, alice) -> None:
    headers = ticket("alice@acme.example", ("CALLS",))
    for seconds in (5, 6, 7):
        talk(client, alice, seconds)
    listed = openapi.check(client.get(ALICE, headers=headers)).json()
    ids = [item[".CallDTO"]["itemId"] for item in listed["historyItems"]]
    assert listed["hintCount"] == 3 and listed["flushCache"] is True and listed["generatedAt"]
    delta = openapi.check(client.get(ALICE, params={"since": ids[0]}, headers=headers)).json()
    assert [i[".CallDTO"]["itemId"] for i in delta["historyItems"]] == ids[1:] and delta["flushCache"] is False
    older = client.get(ALICE, params={"olderThan": ids[2], "limit": 1}, headers=headers)
    assert [i["itemId"] for i in calls(older)] == [ids[1]]
    assert calls(client.get(ALICE, params={"itemType": ["MISSED_CALL", "VOICEMAIL"]}, headers=headers)) == []
    assert len(calls(client.get(ALICE, params={"number": "2881"}, headers=headers))) == 3
    assert openapi.check(client.get(ALICE, params={"count": "true"}, headers=headers)).json() == {"count": 3}
    refused(openapi.check(client.get(ALICE, params={"itemType": "PIGEON"}, headers=headers)), 400,
            "invalid.item.type")
    refused(client.get(ALICE, params={"since": "ten"}, headers=headers), 400, "since.not.valid")
    # One item seen; then several at once, with an unknown id reported back.
    assert openapi.check(client.put(f"{ALICE}/{ids[0]}", params={"isSeen": "true", "isPlayed": "false",
                                                                  "updateCallItem": "false"},
                                    headers=headers)).status_code == 204
    one = openapi.check(client.get(f"{ALICE}/{ids[0]}", headers=headers))
    assert calls(one)[0]["isSeen"] is True
    missing = openapi.check(client.put(ALICE, params={"itemId": [ids[1], 999999], "isSeen": "true",
                                                      "isPlayed": "false", "updateCallItem": "false"},
                                       headers=headers))
    assert missing.status_code == 200 and missing.json() == "999999"
    assert all(item["isSeen"] for item in calls(client.get(ALICE, params={"olderThan": ids[2]}, headers=headers)))
    refused(openapi.check(client.get(f"{ALICE}/999999", headers=headers)), 404, "item.does.not.exist")


def test_trash_deleted_flag_and_deletion(client, ticket, openapi, alice) -> None:
    headers = ticket("alice@acme.example", ("CALLS",))
    for seconds in (5, 6, 7):
        talk(client, alice, seconds)
    a, b, c = [i["itemId"] for i in calls(client.get(ALICE, headers=headers))]
    assert openapi.check(client.put(f"{ALICE}/{a}/deletiontime", params={"delete": "true"},
                                    headers=headers)).status_code == 204
    assert [i["itemId"] for i in calls(client.get(ALICE, headers=headers))] == [b, c]
    trash = calls(client.get(ALICE, params={"markAsDelete": "true"}, headers=headers))
    assert [i["itemId"] for i in trash] == [a] and trash[0]["deletionTime"]
    client.put(f"{ALICE}/{a}/deletiontime", params={"delete": "false"}, headers=headers)
    assert len(calls(client.get(ALICE, headers=headers))) == 3
    assert openapi.check(client.put(f"{ALICE}/{b}/deleted", headers=headers)).status_code == 204
    assert [i["itemId"] for i in calls(client.get(ALICE, params={"deleted": "true"}, headers=headers))] == [b]
    assert openapi.check(client.delete(f"{ALICE}/{a}", params={"updateCallItem": "false"},
                                       headers=headers)).status_code == 204
    refused(client.delete(f"{ALICE}/{a}", headers=headers), 404, "item.does.not.exist")
    bulk = openapi.check(client.delete(ALICE, params={"itemId": [c, 424242]}, headers=headers))
    assert bulk.status_code == 200 and bulk.json() == "424242"
    refused(openapi.check(client.delete(ALICE, headers=headers)), 400, "itemId.required")
    assert calls(client.get(ALICE, headers=headers)) == []


def test_voicemail_is_played_with_its_missed_call(client, ticket) -> None:
    sim = control(client)
    sim.dial_in(OUTSIDE, "2881", fromName="Jane Doe")
    sim.advance(15)                 # bob does not answer: voicemail
    sim.advance(6)
    sim.phone(OUTSIDE, "hangup")
    headers = ticket("bob@acme.example", ("CALLS",))
    missed, voicemail = calls(client.get(BOB, headers=headers))
    assert missed["itemType"] == "MISSED_CALL" and voicemail["itemType"] == "VOICEMAIL"
    assert voicemail["isPlayed"] is False and voicemail["callItemId"] == missed["itemId"]
    client.put(f"{BOB}/{voicemail['itemId']}", params={"isSeen": "true", "isPlayed": "true",
                                                      "updateCallItem": "true"}, headers=headers)
    missed, voicemail = calls(client.get(BOB, headers=headers))
    assert voicemail["isPlayed"] and missed["isSeen"]


def test_the_group_inbox(tmp_path) -> None:
    """Voicemail left on a group reaches its members' group inbox. A twin whose Support queue overflows to
    voicemail after 10 s (queue settings come from the tenant file)."""
    tenant = json.loads(DEMO_TENANT.read_text())
    for account in tenant["accounts"][0]["customers"]:
        for group in account.get("groups", []):
            if group["name"] == "Support":
                group["acd"] = {**group["acd"], "maxWaitSeconds": 10, "overflow": "voicemail"}
    path = tmp_path / "tenant.json"
    path.write_text(json.dumps(tenant))
    with start_server(clock="manual", tenant_file=path) as live, httpx.Client(base_url=live.url, timeout=10) as c:
        sim = control(c)
        sim.dial_in(OUTSIDE, "5000", fromName="Jane Doe")
        sim.advance(10)
        sim.advance(4)
        sim.phone(OUTSIDE, "hangup")
        headers = bearer(create_ticket(c, "alice@acme.example", ("CALLS",)))
        inbox = c.get(f"{ALICE}/groupinbox", headers=headers)
        assert inbox.status_code == 200, inbox.text
        [message] = [item[".GroupInboxVoiceMailDTO"] for item in inbox.json()["historyItems"]]
        assert message["inboxName"] == "Support" and message["itemType"] == "VOICEMAIL" and not message["isPlayed"]
        assert message["remoteParty"] == {"number": OUTSIDE, "displayName": "Jane Doe"}
        assert c.get(ALICE, headers=headers).json()["historyItems"] == []   # not in her own log


def test_a_user_reads_their_own_log_only(client, ticket, openapi) -> None:
    refused(openapi.check(client.get(ALICE, headers=ticket("bob@acme.example", ("CALLS",)))), 403, "access.denied")
    refused(client.get(ALICE, headers=ticket("erin@globex.example", ("CALLS",))), 403, "access.denied")
