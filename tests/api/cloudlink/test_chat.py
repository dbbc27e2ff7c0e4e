"""Conversations (chat) over HTTP: the "Create Stream Conversation" tutorial end to end with four users, the
direct flow with the raw-token Authorization header of Mitel's samples, participants' rules, messages,
transcripts, isolation, and the publications on platform-api-conversations."""
from __future__ import annotations

import httpx

from tests.conftest import ALICE, BOB, token
from tests.support.receiver import Receiver

B = "/2017-09-01"
APP = "3f1c0d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f"


def user_id(client: httpx.Client, headers: dict[str, str]) -> str:
    response = client.get(f"{B}/token", headers=headers)
    assert response.status_code == 200, response.text
    claims = response.json()
    return claims.get("userId") or claims["principalId"]


def create(client: httpx.Client, headers: dict[str, str], **body) -> dict:
    response = client.post(f"{B}/conversations", headers=headers, json=body)
    assert response.status_code == 201, response.text
    return response.json()


def post(client: httpx.Client, headers: dict[str, str], cid: str, text: str, **extra) -> dict:
    response = client.post(f"{B}/conversations/{cid}/messages", headers=headers, json={"body": text, **extra})
    assert response.status_code == 201, response.text
    return response.json()


def test_stream_tutorial_end_to_end(client: httpx.Client, alice, bob, carol, as_user) -> None:
    dave = as_user("dave@acme.example")
    carol_id, dave_id = user_id(client, carol), user_id(client, dave)
    # Step 2: a public stream of three, created by alice with the userIds of bob and carol
    convo = create(client, alice, name="Release train", stream=True, visibility="PUBLIC", hidden=False,
                   generateSystemMessages=False,
                   originalParticipants=[{"type": "USER", "participantId": BOB},
                                         {"type": "USER", "participantId": carol_id}])
    cid = convo["conversationId"]
    assert convo["stream"] is True and convo["visibility"] == "PUBLIC" and convo["name"] == "Release train"
    assert {p["participantId"] for p in convo["participants"]} == {ALICE, BOB, carol_id}
    assert all(p["status"] == "ACCEPTED" and p["type"] == "USER" for p in convo["participants"])
    assert convo["_links"]["self"] == f"{B}/conversations/{cid}"
    # Step 3: dave added directly as ACCEPTED
    added = client.post(f"{B}/conversations/{cid}/participants", headers=bob,
                        json={"type": "USER", "participantId": dave_id, "status": "ACCEPTED"})
    assert added.status_code == 201, added.text
    assert added.json()["status"] == "ACCEPTED"
    participants = client.get(f"{B}/conversations/{cid}/participants", headers=dave).json()
    assert participants["count"] == 4
    # Step 4: messages from several senders; the sender is the token's principal
    first = post(client, alice, cid, "hello all")
    post(client, bob, cid, "<b>hi</b>", contentType="text/html", fallbackText="hi")
    post(client, carol, cid, '{"kind": "card"}', contentType="application/json")
    last = post(client, dave, cid, "thanks for adding me")
    assert (first["senderId"], last["senderId"]) == (ALICE, dave_id)
    listed = client.get(f"{B}/conversations/{cid}/messages", headers=carol).json()
    assert [m["body"] for m in listed["_embedded"]["items"]][0] == "hello all" and listed["count"] == 4
    # Step 5: a JSON transcript
    transcript = client.post(f"{B}/conversations/{cid}/transcripts", headers=alice,
                             json={"contentType": "application/json"})
    assert transcript.status_code == 200 and transcript.headers["content-type"].startswith("application/json")
    data = transcript.json()
    assert data["count"] == 4 and [m["senderId"] for m in data["messages"]] == [ALICE, BOB, carol_id, dave_id]
    html = client.post(f"{B}/conversations/{cid}/transcripts", headers=alice, json={})
    assert html.headers["content-type"].startswith("text/html") and "hello all" in html.text
    plain = client.post(f"{B}/conversations/{cid}/transcripts", headers=alice, json={"contentType": "text/plain"})
    assert plain.text.count("\n") == 5 and "thanks for adding me" in plain.text
    # Step 6: delete; 200 with a JSON body, messages gone
    deleted = client.delete(f"{B}/conversations/{cid}", headers=alice)
    assert deleted.status_code == 200 and deleted.json()["conversationId"] == cid
    assert client.get(f"{B}/conversations/{cid}", headers=alice).status_code == 404
    assert client.get(f"{B}/conversations/{cid}/messages/{first['messageId']}", headers=alice).status_code == 404
    assert client.post(f"{B}/conversations/{cid}/messages", headers=alice, json={"body": "x"}).status_code == 404


def test_direct_flow_with_raw_token_header(client: httpx.Client) -> None:
    raw = {"Authorization": token(client, "alice@acme.example")}  # no "Bearer", as Mitel's samples send it
    bob_raw = {"Authorization": token(client, "bob@acme.example")}
    convo = create(client, raw, stream=False, hidden=True, generateSystemMessages=False,
                   originalParticipants=[{"type": "USER", "participantId": BOB}])
    cid = convo["conversationId"]
    assert convo["stream"] is False and convo["visibility"] == "PRIVATE"
    post(client, raw, cid, "ping", contentType="text/plain")
    reply = post(client, bob_raw, cid, "pong")
    mine = client.get(f"{B}/conversations", headers=raw, params={"$filter": "stream eq false"}).json()
    assert cid in [c["conversationId"] for c in mine["_embedded"]["items"]]
    assert client.get(f"{B}/users/me/conversations", headers=bob_raw).json()["count"] >= 1
    got = client.get(f"{B}/conversations/{cid}/messages/{reply['messageId']}", headers=raw)
    assert got.status_code == 200 and got.json()["body"] == "pong"
    # a direct conversation keeps exactly two
    assert client.post(f"{B}/conversations/{cid}/participants", headers=raw,
                       json={"participantId": "carol@acme.example"}).status_code == 409
    assert client.delete(f"{B}/conversations/{cid}/participants/{BOB}", headers=raw).status_code == 409
    three = client.post(f"{B}/conversations", headers=raw, json={
        "stream": False, "originalParticipants": [{"participantId": BOB}, {"participantId": "carol@acme.example"}]})
    assert three.status_code == 400
    deleted = client.delete(f"{B}/conversations/{cid}", headers=bob_raw)
    assert deleted.status_code == 200 and deleted.json()["conversationId"] == cid


def test_validation_errors(client: httpx.Client, alice) -> None:
    extra = client.post(f"{B}/conversations", headers=alice, json={"stream": True, "color": "red"})
    assert extra.status_code == 400 and "should NOT have additional properties" in extra.json()["message"]
    assert client.post(f"{B}/conversations", headers=alice, json={
        "stream": True, "originalParticipants": [{"type": "USER", "participantId": "nobody@nowhere"}],
    }).status_code == 400
    cid = create(client, alice, stream=True, name="v")["conversationId"]
    no_body = client.post(f"{B}/conversations/{cid}/messages", headers=alice, json={"contentType": "text/plain"})
    assert no_body.status_code == 400 and set(no_body.json()) >= {"name", "message"}
    odd = client.post(f"{B}/conversations/{cid}/messages", headers=alice, json={"body": "x", "senderId": BOB})
    assert odd.status_code == 400 and "additional properties" in odd.json()["message"]
    bad_json = client.post(f"{B}/conversations/{cid}/messages", headers=alice,
                           json={"body": "{nope", "contentType": "application/json"})
    assert bad_json.status_code == 400


def test_participants_rules_and_isolation(client: httpx.Client, alice, bob, carol, erin, admin) -> None:
    carol_id = user_id(client, carol)
    private = create(client, alice, stream=True, name="secret", visibility="PRIVATE",
                     originalParticipants=[{"participantId": BOB}])["conversationId"]
    # outsiders: 404 for a private stream, another account too
    assert client.get(f"{B}/conversations/{private}", headers=carol).status_code == 404
    assert client.get(f"{B}/conversations/{private}/messages", headers=carol).status_code == 404
    assert client.post(f"{B}/conversations/{private}/messages", headers=erin, json={"body": "x"}).status_code == 404
    assert client.post(f"{B}/conversations/{private}/participants", headers=carol,
                       json={"participantId": carol_id}).status_code == 404
    # invite → INVITED can see the conversation but not read messages until accepting
    invited = client.post(f"{B}/conversations/{private}/participants", headers=bob, json={"participantId": carol_id})
    assert invited.status_code == 201 and invited.json()["status"] == "INVITED"
    assert client.get(f"{B}/conversations/{private}", headers=carol).status_code == 200
    assert client.get(f"{B}/conversations/{private}/messages", headers=carol).status_code == 403
    assert client.put(f"{B}/conversations/{private}/participants/{carol_id}", headers=alice,
                      json={"status": "ACCEPTED"}).status_code == 403
    accepted = client.put(f"{B}/conversations/{private}/participants/me", headers=carol, json={"status": "ACCEPTED"})
    assert accepted.status_code == 200 and accepted.json()["status"] == "ACCEPTED"
    assert client.get(f"{B}/conversations/{private}/messages", headers=carol).status_code == 200
    assert client.post(f"{B}/conversations/{private}/participants", headers=bob,
                       json={"participantId": carol_id}).status_code == 409
    # leave, then a non-creator cannot remove others
    assert client.delete(f"{B}/conversations/{private}/participants/me", headers=carol).status_code == 200
    assert client.get(f"{B}/conversations/{private}", headers=carol).status_code == 404
    assert client.delete(f"{B}/conversations/{private}/participants/{ALICE}", headers=bob).status_code == 403
    assert client.delete(f"{B}/conversations/{private}/participants/{BOB}", headers=alice).status_code == 200
    # decline removes the invitee
    client.post(f"{B}/conversations/{private}/participants", headers=alice, json={"participantId": BOB})
    declined = client.put(f"{B}/conversations/{private}/participants/{BOB}", headers=bob, json={"status": "DECLINED"})
    assert declined.status_code == 200
    assert client.get(f"{B}/conversations/{private}", headers=bob).status_code == 404
    # a public stream: anyone of the account may join (always ACCEPTED), others of the account see it
    public = create(client, alice, stream=True, name="lobby", visibility="PUBLIC")["conversationId"]
    assert client.get(f"{B}/conversations/{public}", headers=bob).status_code == 200
    assert client.post(f"{B}/conversations/{public}/messages", headers=bob, json={"body": "x"}).status_code == 403
    joined = client.post(f"{B}/conversations/{public}/participants", headers=bob,
                         json={"participantId": BOB, "status": "INVITED"})
    assert joined.status_code == 201 and joined.json()["status"] == "ACCEPTED"
    assert client.get(f"{B}/conversations/{public}", headers=erin).status_code == 404
    # only the sender edits; sender or admin deletes; creator or admin deletes a stream
    msg = post(client, bob, public, "draft")
    assert client.put(f"{B}/conversations/{public}/messages/{msg['messageId']}", headers=alice,
                      json={"body": "hijack"}).status_code == 403
    edited = client.put(f"{B}/conversations/{public}/messages/{msg['messageId']}", headers=bob, json={"body": "final"})
    assert edited.status_code == 200 and edited.json()["body"] == "final"
    assert client.delete(f"{B}/conversations/{public}/messages/{msg['messageId']}", headers=alice).status_code == 403
    assert client.delete(f"{B}/conversations/{public}/messages/{msg['messageId']}", headers=bob).status_code == 200
    assert client.delete(f"{B}/conversations/{public}", headers=bob).status_code == 403
    renamed = client.put(f"{B}/conversations/{public}", headers=bob, json={"name": "lobby 2"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "lobby 2"
    assert client.delete(f"{B}/conversations/{public}", headers=admin).status_code == 200


def test_listing_paging_time_range_and_system_messages(client: httpx.Client, alice, bob, carol) -> None:
    carol_id = user_id(client, carol)
    cid = create(client, alice, stream=True, name="sys", generateSystemMessages=True,
                 originalParticipants=[{"participantId": BOB}])["conversationId"]
    client.post(f"{B}/conversations/{cid}/participants", headers=alice,
                json={"participantId": carol_id, "status": "ACCEPTED"})
    texts = [post(client, bob, cid, f"m{i}") for i in range(3)]
    every = client.get(f"{B}/conversations/{cid}/messages", headers=alice).json()["_embedded"]["items"]
    system = [m for m in every if m["type"] == "SYSTEM"]
    assert len(system) == 2 and system[0]["senderId"] is None and "created" in system[0]["body"]
    page = client.get(f"{B}/conversations/{cid}/messages", headers=alice, params={"$top": "2", "$skip": "1"}).json()
    assert page["count"] == 2 and "next" in page["_links"]
    later = client.get(f"{B}/conversations/{cid}/messages", headers=alice,
                       params={"startDate": "2999-01-01T00:00:00Z"}).json()
    assert later["count"] == 0
    until = client.get(f"{B}/conversations/{cid}/messages", headers=alice,
                       params={"endDate": texts[-1]["createdOn"], "$filter": "type eq 'USER'"}).json()
    assert until["count"] == 3
    assert client.get(f"{B}/conversations/{cid}/messages", headers=alice,
                      params={"startDate": "yesterday"}).status_code == 400
    other = create(client, alice, stream=False, originalParticipants=[{"participantId": "bob@acme.example"}])
    assert [p["participantId"] for p in other["participants"]] == [ALICE, BOB]  # e-mail resolved to the userId
    ordered = client.get(f"{B}/conversations", headers=alice, params={"$orderby": "name desc", "$top": "50"}).json()
    assert ordered["count"] >= 2


def test_publications_reach_a_subscriber(client: httpx.Client, alice, bob) -> None:
    with Receiver() as receiver:
        sub = client.post(f"{B}/subscriptions", headers=bob, json={
            "applicationId": APP, "deviceId": receiver.url, "topic": "platform-api-conversations"})
        assert sub.status_code == 201, sub.text
        cid = create(client, alice, stream=False, originalParticipants=[{"participantId": BOB}])["conversationId"]
        message = post(client, alice, cid, "published")
        client.delete(f"{B}/conversations/{cid}", headers=alice)
        publications = receiver.wait_for(4)
        by_subject = {(p["method"], p["subject"]) for p in publications}
        assert ("POST", f"/conversations/{cid}") in by_subject
        assert ("POST", f"/conversations/{cid}/messages/{message['messageId']}") in by_subject
        assert ("DELETE", f"/conversations/{cid}") in by_subject
        assert all(p["topic"] == "platform-api-conversations" for p in publications)
        created = next(p for p in publications if p["subject"].endswith(message["messageId"]) and p["method"] == "POST")
        assert created["content"]["body"] == "published" and created["publisher"]["principalId"] == ALICE
        gone = next(p for p in publications if p["method"] == "DELETE" and p["subject"] == f"/conversations/{cid}")
        assert gone["content"]["deletedBy"] == ALICE and gone["publisher"]["principalId"] == ALICE


def test_error_texts_and_transcript_negotiation(client: httpx.Client, alice, bob) -> None:
    extra = client.post(f"{B}/conversations", headers=alice, json={"stream": True, "color": "red"}).json()
    assert extra["message"].startswith("data should NOT have additional properties")
    cid = create(client, alice, stream=False, originalParticipants=[{"participantId": BOB}])["conversationId"]
    missing = client.post(f"{B}/conversations/{cid}/messages", headers=alice, json={}).json()
    assert "body" in missing["message"]
    post(client, bob, cid, "a <tag> & more")
    bare = client.post(f"{B}/conversations/{cid}/transcripts", headers=alice)
    assert bare.status_code == 200 and "a &lt;tag&gt; &amp; more" in bare.text
    accepted = client.post(f"{B}/conversations/{cid}/transcripts", headers={**alice, "Accept": "application/json"})
    assert accepted.json()["messages"][0]["senderName"] == "Bob Brown"
    window = client.post(f"{B}/conversations/{cid}/transcripts", headers=alice, json={
        "contentType": "application/json", "startDate": "2000-01-01", "endDate": "2000-01-02"})
    assert window.json()["count"] == 0
    assert client.post(f"{B}/conversations/{cid}/transcripts", headers=alice,
                       json={"contentType": "application/pdf"}).status_code == 400
    assert client.post(f"/chat{B}/conversations/{cid}/messages", headers=bob,
                       json={"body": "via prefix"}).status_code == 201
