"""The contact center's other media through a live server: OpenMedia (5), Chat's CloudLink transcript
operations (3), the SMS queues (1), Cases (2) and History (2) of the CX SDK, the simulator's customers
(``/_callyard/sim/chats``, ``/_callyard/sim/sms``), the agent's side through the employee inbox
(ConversationAction) and CloudLink's Conversations API, and what another tenant cannot see."""
from __future__ import annotations

from typing import Any

import httpx

from tests.api.cx.conftest import API, CAROL, LOGIN, WEB_CHAT
from tests.conftest import auth, token
from tests.support.control import Control

OPEN_MEDIA = "ac3e0000-0000-4000-8000-0000cc00c704"
SMS_QUEUE = "ac3e0000-0000-4000-8000-0000cc00c703"
MULTIMEDIA_AGENTS = "ac3e0000-0000-4000-8000-0000cc00b700"
ITEM = {"queue": "Open Media", "subject": "Refund request #42", "targetUri": "https://crm.example/tickets/42",
        "from": "crm", "variableData": {"Name": "Zed Zero", "Email": "zed@example.com", "Ticket": "42"}}


def items(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 200, response.text
    return list(response.json()["_embedded"]["items"])


def act(client: httpx.Client, headers: dict[str, str], cid: str, action: str, **more: Any) -> httpx.Response:
    return client.put(f"{API}/employees/me/conversations/{cid}", headers=headers,
                      json={"conversationAction": action, **more})


def test_open_media_routed_accepted_completed_then_gone(client: httpx.Client, wallboard: dict, cx_carol: dict,
                                                        cx_alice: dict, supervisor: dict, control: Control) -> None:
    posted = client.post(f"{API}/openmedia", headers=wallboard, json=ITEM)
    assert posted.status_code == 201, posted.text
    item = posted.json()
    assert (item["conversationState"], item["queueName"], item["positionInQueue"]) == ("InQueue", "Open Media", 1)
    assert item["targetUri"] == ITEM["targetUri"] and item["variableData"]["Ticket"] == "42"
    [contact] = [e for e in items(client.get(f"{API}/directory", headers=supervisor))
                 if e["type"] == "ElasticContact"]
    assert (contact["name"], contact["email"]) == ("Zed Zero", "zed@example.com")   # identified or created
    assert [i["id"] for i in items(client.get(f"{API}/openmedia", headers=wallboard))] == [item["id"]]
    assert client.get(f"{API}/openmedia/{item['id']}", headers=cx_alice).status_code == 404   # not her queue
    [queue] = items(client.get(f"{API}/openmedia/queues", headers=wallboard))
    assert queue["id"] == OPEN_MEDIA and queue["conversations"][0]["id"] == item["id"]

    assert client.put(f"{API}/employees/me/state", headers=cx_carol, json=LOGIN).status_code == 200
    assert client.get(f"{API}/openmedia/{item['id']}", headers=wallboard).json()["conversationState"] == "Offered"
    [offered] = items(client.get(f"{API}/employees/me/conversations", headers=cx_carol))
    assert (offered["conversationId"], offered["mediaType"], offered["subject"]) == (
        item["id"], "OpenMedia", ITEM["subject"])
    control.advance(5)
    assert act(client, cx_carol, item["id"], "Accept").status_code == 200
    accepted = client.get(f"{API}/openmedia/{item['id']}", headers=wallboard).json()
    assert (accepted["conversationState"], accepted["agentReporting"]) == ("Acd", "3403")
    state = client.get(f"{API}/employees/me/state", headers=cx_carol).json()
    assert state["presence"]["openMedia"]["acdState"] == "Acd"

    completed = client.put(f"{API}/openmedia/{item['id']}", headers=wallboard, json={"action": "Complete"})
    assert completed.status_code == 200 and completed.json() == "OK"
    gone = client.get(f"{API}/openmedia/{item['id']}", headers=wallboard)
    assert gone.status_code == 404 and set(gone.json()) == {"message", "errorCode"}
    assert items(client.get(f"{API}/employees/me/conversations", headers=cx_carol)) == []
    assert items(client.get(f"{API}/openmedia", headers=wallboard)) == []
    assert [i["conversationState"] for i in items(client.get(f"{API}/openmedia?$search='Refund'",
                                                             headers=wallboard))] == ["Handled"]
    figures = client.get(f"{API}/queues/{OPEN_MEDIA}/state", headers=wallboard).json()
    assert (figures["offeredConversationsToday"], figures["answeredConversationsToday"]) == (1, 1)
    assert client.get(f"{API}/employees/me/state", headers=cx_carol).json()["acdOpenMediaConversationsToday"] == 1
    assert client.put(f"{API}/openmedia/{item['id']}", headers=wallboard, json={"action": 0}).status_code == 404


def test_open_media_errors_change_nothing(client: httpx.Client, wallboard: dict, cx_carol: dict) -> None:
    for body, status in (({}, 400), ({"queue": "Nowhere"}, 404), ({"queue": "Web Chat"}, 400),
                         ({"queue": "Open Media", "variableData": "x"}, 400), ({"queue": "Open Media",
                                                                              "subject": 5}, 400)):
        response = client.post(f"{API}/openmedia", headers=wallboard, json=body)
        assert response.status_code == status, (body, response.text)
    assert client.post(f"{API}/openmedia", headers=wallboard, content=b"[1]").status_code == 400
    assert items(client.get(f"{API}/openmedia?$search='x'", headers=wallboard)) == []
    item = client.post(f"{API}/openmedia", headers=wallboard, json={"subject": "only queue"}).json()
    assert item["queueName"] == "Open Media"   # the caller's only open-media queue
    for body in ({"action": "Explode"}, {}, {"action": "Complete", "queue": 3}):
        assert client.put(f"{API}/openmedia/{item['id']}", headers=wallboard, json=body).status_code == 400
    assert client.put(f"{API}/openmedia/{item['id']}", headers=wallboard,
                      json={"action": "Reroute"}).status_code == 409   # only a failed item is rerouted
    assert client.put(f"{API}/openmedia/nope", headers=wallboard, json={"action": "Complete"}).status_code == 404
    assert client.get(f"{API}/openmedia/{item['id']}", headers=wallboard).json()["conversationState"] == "InQueue"
    # the agent's side: what a non-voice conversation does not do
    client.put(f"{API}/employees/me/state", headers=cx_carol, json=LOGIN)
    assert act(client, cx_carol, item["id"], "Dtmf", dtmfDigit="1").status_code == 400
    assert act(client, cx_carol, item["id"], "Hold").status_code == 409
    assert act(client, cx_carol, item["id"], "Send", tags=[{"key": "body", "value": "hi"}]).status_code == 409
    assert act(client, cx_carol, item["id"], "Accept").status_code == 200
    assert act(client, cx_carol, item["id"], "Send").status_code == 400
    assert act(client, cx_carol, item["id"], "Transfer", transferDestinationType="Queue",
               transferDestination="Web Chat").status_code == 400
    assert act(client, cx_carol, item["id"], "Transfer", transferDestinationType="External",
               transferDestination="+15550000").status_code == 400


def test_a_web_chat_and_an_sms_both_ways(client: httpx.Client, admin: dict, cx_carol: dict, carol: dict,
                                         supervisor: dict, control: Control) -> None:
    chat = client.post("/_callyard/sim/chats", headers=admin,
                       json={"name": "Zed Zero", "email": "zed@example.com", "text": "Is my order shipped?"})
    assert chat.status_code == 201, chat.text
    cid = chat.json()["conversationId"]
    assert chat.json()["state"] == "InQueue" and chat.json()["positionInQueue"] == 1
    client.put(f"{API}/employees/me/state", headers=cx_carol, json=LOGIN)
    assert act(client, cx_carol, cid, "Accept").status_code == 200
    cloudlink = chat.json()["cloudlinkConversationId"]
    posted = client.post(f"/2017-09-01/conversations/{cloudlink}/messages", headers=carol,
                         json={"body": "Yes, it left today."})
    assert posted.status_code == 201, posted.text                  # the agent answers through CloudLink
    assert client.post(f"/_callyard/sim/chats/{cid}/messages", headers=admin,
                       json={"text": "Thanks!"}).status_code == 200
    assert act(client, cx_carol, cid, "Send", tags=[{"key": "body", "value": "Anything else?"}]).status_code == 200
    seen = client.get(f"/_callyard/sim/chats/{cid}", headers=admin).json()
    assert [(m["senderName"], m["body"]) for m in seen["messages"]] == [
        ("Zed Zero", "Is my order shipped?"), ("Carol Chen", "Yes, it left today."), ("Zed Zero", "Thanks!"),
        ("Carol Chen", "Anything else?")]
    assert seen["agentName"] == "Carol Chen" and seen["state"] == "Acd"
    conversation = client.get(f"{API}/conversations/{cid}", headers=supervisor).json()
    assert conversation["lastAgentAction"] == "Send" and conversation["timeOfLastAgentResponse"]
    assert client.get(f"{API}/chat/cloudlink/{cid}/transcript/ready", headers=cx_carol).json() is False
    assert act(client, cx_carol, cid, "Tag", tags=[{"key": "topic", "value": "shipping"}]).status_code == 200
    assert client.get(f"{API}/chat/cloudlink/{cid}/tags/shipping", headers=cx_carol).json() is True
    assert client.get(f"{API}/chat/cloudlink/{cid}/tags/billing", headers=cx_carol).json() is False
    assert act(client, cx_carol, cid, "End").status_code == 200
    assert client.post(f"/_callyard/sim/chats/{cid}/messages", headers=admin,
                       json={"text": "Hello?"}).status_code == 409
    assert client.get(f"{API}/chat/cloudlink/{cid}/transcript/ready", headers=cx_carol).json() is True
    body = client.get(f"{API}/chat/cloudlink/{cid}/transcript/{CAROL}", headers=cx_carol).json()["body"]
    assert "Zed Zero: Is my order shipped?" in body and "Carol Chen: Anything else?" in body
    assert client.get(f"{API}/chat/cloudlink/nope/transcript/ready", headers=cx_carol).status_code == 404

    # an SMS: the customer texts the SMS queue's number, carol replies, the reply is in the SMS outbox
    client.put(f"{API}/employees/me/state", headers=cx_carol, json={"state": "Available"})
    sms = client.post("/_callyard/sim/sms", headers=admin, json={"from": "+16135550142", "to": "+16135550170",
                                                                 "text": "Can I change my delivery date?"})
    assert sms.status_code == 201, sms.text
    sid = sms.json()["conversationId"]
    assert act(client, cx_carol, sid, "Accept").status_code == 200
    assert act(client, cx_carol, sid, "Send", tags=[{"key": "body", "value": "Sure: which date?"}]).status_code == 200
    again = client.post("/_callyard/sim/sms", headers=admin, json={"from": "+16135550142", "text": "Friday"})
    assert again.json()["conversationId"] == sid                    # the same conversation while it is active
    [captured] = items(client.get("/_callyard/sms", headers=admin))
    assert (captured["from"], captured["to"], captured["text"]) == ("+16135550170", "+16135550142",
                                                                     "Sure: which date?")
    assert [m["direction"] for m in client.get(f"/_callyard/sim/sms/{sid}", headers=admin).json()["messages"]] == [
        "in", "out", "in"]
    assert [q["id"] for q in items(client.get(f"{API}/sms/queues", headers=cx_carol))] == [SMS_QUEUE]
    assert act(client, cx_carol, sid, "End").status_code == 200
    assert client.post("/_callyard/sim/sms", headers=admin, json={"from": "x", "text": "hi"}).status_code == 400
    assert client.post("/_callyard/sim/sms", headers=admin, json={"from": "+1555", "to": "+1999",
                                                                  "text": "hi"}).status_code == 404
    assert client.post("/_callyard/sim/chats", headers=admin, json={"name": ""}).status_code in (400, 422)
    assert client.post("/_callyard/sim/chats", headers=admin, json={"name": "A", "queue": "SMS"}).status_code == 400

    # cases: one per customer this month, with both interactions of zed's e-mail/phone
    cases = items(client.get(f"{API}/cases", headers=supervisor))
    assert {c["lastMediaType"] for c in cases} == {"Chat", "Sms"} and all(c["state"] == "Closed" for c in cases)
    chat_case = next(c for c in cases if c["lastMediaType"] == "Chat")
    assert chat_case["subject"] == "Is my order shipped?" and chat_case["lastAgentReporting"] == "3103"
    assert chat_case["durationInLastQueue"] == "00:00:00"     # carol logged in and was offered it at once
    one = client.get(f"{API}/cases/{chat_case['id']}/{chat_case['monthYearCreated']}", headers=cx_carol)
    assert one.status_code == 200 and one.json()["conversations"] == [cid]
    assert client.get(f"{API}/cases/{chat_case['id']}/011999", headers=cx_carol).status_code == 404
    assert client.get(f"{API}/cases/{chat_case['id']}/13x", headers=cx_carol).status_code == 400
    assert client.get(f"{API}/cases?global=true", headers=cx_carol).status_code == 403
    assert client.get(f"{API}/cases?global=maybe", headers=supervisor).status_code == 400
    # history: every interaction, searchable
    assert client.get(f"{API}/history", headers=supervisor).status_code == 400      # $search is mandatory
    found = items(client.get(f"{API}/history", headers=supervisor,
                             params={"$search": "'_exists_:lastagentid;media:Sms'"}))
    assert [h["conversationId"] for h in found] == [sid]
    assert client.get(f"{API}/history/count", headers=supervisor).json() == 2
    assert client.get(f"{API}/history/count", headers=cx_carol).json() == 2


def test_queue_side_pick_junk_and_transfer(client: httpx.Client, cx_carol: dict, wallboard: dict,
                                           supervisor: dict) -> None:
    first = client.post(f"{API}/openmedia", headers=wallboard, json={"subject": "spam"}).json()
    second = client.post(f"{API}/openmedia", headers=wallboard, json={"subject": "real"}).json()
    assert [c["conversationId"] for c in items(client.get(f"{API}/queues/{OPEN_MEDIA}/conversations",
                                                          headers=cx_carol))] == [first["id"], second["id"]]
    junk = client.put(f"{API}/queues/{OPEN_MEDIA}/conversations/{first['id']}", headers=cx_carol,
                      json={"conversationAction": "Junk"})
    assert junk.status_code == 200, junk.text
    assert client.put(f"{API}/queues/{OPEN_MEDIA}/conversations/{second['id']}", headers=cx_carol,
                      json={"conversationAction": "Pick"}).status_code == 409      # she is logged out
    client.put(f"{API}/employees/me/state", headers=cx_carol, json=LOGIN)
    [offered] = items(client.get(f"{API}/employees/me/conversations", headers=cx_carol))
    assert offered["conversationId"] == second["id"]
    assert act(client, cx_carol, second["id"], "Decline").status_code == 200
    assert client.get(f"{API}/employees/me/state", headers=cx_carol).json()["presence"]["openMedia"]["state"] == "Busy"
    pick = f"{API}/queues/{OPEN_MEDIA}/conversations/{second['id']}"
    assert client.put(pick, headers=cx_carol, json={"conversationAction": "Pick"}).status_code == 409   # busy
    away = [{"id": MULTIMEDIA_AGENTS, "statuses": [{"type": "OpenMedia", "status": "NotPresent"}]}]
    assert client.put(f"{API}/employees/me/agentgrouppresence", headers=cx_carol, json=away).status_code == 200
    assert client.put(f"{API}/employees/me/state", headers=cx_carol, json={"state": "Available"}).status_code == 200
    assert items(client.get(f"{API}/employees/me/conversations", headers=cx_carol)) == []   # not present: no offer
    assert client.put(pick, headers=cx_carol, json={"conversationAction": "Pick"}).status_code == 200
    assert act(client, cx_carol, second["id"], "Accept").status_code == 200
    assert act(client, cx_carol, second["id"], "Transfer", transferDestinationType="Employee",
               transferDestination="alice").status_code == 400                     # alice has no OpenMedia agent
    assert act(client, cx_carol, second["id"], "Transfer", transferDestinationType="Queue",
               transferDestination="7004").status_code == 200
    moved = client.get(f"{API}/conversations/{second['id']}", headers=supervisor).json()
    assert (moved["conversationState"], moved["transferCount"]) == ("InQueue", 1)
    assert client.get(f"{API}/openmedia/{first['id']}", headers=wallboard).status_code == 404   # junked
    assert client.put(f"{API}/queues/{OPEN_MEDIA}/conversations/{second['id']}", headers=cx_carol,
                      json={"conversationAction": "Hold"}).status_code == 400


def test_another_tenants_simulator_sees_nothing(client: httpx.Client, wallboard: dict, admin: dict) -> None:
    chat = client.post("/_callyard/sim/chats", headers=admin, json={"name": "Zed", "text": "hi"}).json()
    globex_admin = auth(token(client, "admin@globex.example"))
    # Globex's administrator drives Globex's simulator: Acme's chat and queues are not there
    assert client.get(f"/_callyard/sim/chats/{chat['conversationId']}", headers=globex_admin).status_code == 404
    assert client.post(f"/_callyard/sim/chats/{chat['conversationId']}/end",
                       headers=globex_admin).status_code == 404
    assert client.post("/_callyard/sim/chats", headers=globex_admin,
                       json={"name": "Zed", "queue": WEB_CHAT}).status_code == 404
    assert client.post("/_callyard/sim/sms", headers=globex_admin,
                       json={"from": "+16135550142", "text": "hi"}).status_code == 400   # Globex has no Sms queue
    # (the CX SDK's own cross-tenant checks run on a server where Globex has a contact center:
    # test_multimedia_hubs.py)


def test_an_employee_starts_an_sms_conversation(client: httpx.Client, cx_carol: dict, cx_alice: dict,
                                                admin: dict) -> None:
    start = f"{API}/employees/me/conversations"
    assert client.post(start, headers=cx_carol, json={"type": "Sms", "to": "+16135550188"}).status_code == 409
    client.put(f"{API}/employees/me/state", headers=cx_carol, json=LOGIN)
    for body, status in (({"type": "Sms"}, 400), ({"type": "Sms", "to": "nobody"}, 400),
                         ({"type": "Sms", "to": "+16135550188", "from": "Web Chat"}, 400),
                         ({"type": "Chat", "to": "x"}, 400), ({"type": 3, "to": "x"}, 400)):
        assert client.post(start, headers=cx_carol, json=body).status_code == status, body
    assert client.post(start, headers=cx_alice, json={"type": "Sms", "to": "+16135550188"}).status_code == 400
    started = client.post(start, headers=cx_carol, json={"type": 2, "to": "+16135550188", "from": "SMS",
                                                         "subject": "Your delivery"})
    assert started.status_code == 200, started.text
    sid = started.json()
    [mine] = items(client.get(f"{API}/employees/me/conversations", headers=cx_carol))
    assert (mine["conversationId"], mine["conversationState"], mine["direction"]) == (sid, "Acd", "Outbound")
    assert act(client, cx_carol, sid, "Send", tags=[{"key": "text", "value": "Your parcel arrives at 3 pm."}]
               ).status_code == 200
    [sent] = items(client.get("/_callyard/sms", headers=admin))
    assert (sent["from"], sent["to"], sent["source"]) == ("+16135550170", "+16135550188", "cx")
    answer = client.post("/_callyard/sim/sms", headers=admin, json={"from": "+16135550188", "text": "Thanks"})
    assert answer.json()["conversationId"] == sid                  # the customer's answer joins it
    assert act(client, cx_carol, sid, "End").status_code == 200
    figures = client.get(f"{API}/queues/{SMS_QUEUE}/state", headers=cx_carol).json()
    assert figures["offeredConversationsToday"] == 0                # an outbound conversation never queued
