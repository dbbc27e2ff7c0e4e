"""Conversation rules: direct and stream conversations, who sees and who reads, per-conversation sequence
numbers, transcripts."""
from __future__ import annotations

import json

import pytest

from callyard.core.errors import Conflict, Forbidden, Invalid, NotFound
from callyard.core.service import Core
from tests.core.conftest import ALICE, BOB, CAROL, ERIN, advance, rejected


async def test_a_direct_conversation_has_exactly_two_private_participants(core: Core, alice) -> None:
    m = core.messaging
    await rejected(core, Invalid, "InvalidParticipants", m.create(alice, {"participants": []}))
    await rejected(core, Invalid, "InvalidParticipants", m.create(alice, {"participants": [BOB, CAROL]}))
    await rejected(core, Invalid, "InvalidParticipants", m.create(alice, {"participants": ["me"]}))
    await rejected(core, Invalid, "InvalidVisibility",
                    m.create(alice, {"participants": [BOB], "visibility": "PUBLIC"}))
    await rejected(core, Invalid, "InvalidParticipant", m.create(alice, {"participants": [ERIN]}))  # another account
    direct = await m.create(alice, {"participants": ["bob@acme.example"]})  # by e-mail
    assert [p["participantId"] for p in direct["participants"]] == [ALICE, BOB]
    assert all(p["status"] == "ACCEPTED" for p in direct["participants"])
    assert direct["visibility"] == "PRIVATE" and direct["stream"] is False
    await rejected(core, Conflict, "DirectConversation",
                    m.add_participant(alice, direct["conversationId"], {"participantId": CAROL}))


async def test_who_sees_and_who_reads(core: Core, alice, bob, carol, admin, erin) -> None:
    m = core.messaging
    direct = await m.create(alice, {"participants": [BOB]})
    cid = direct["conversationId"]
    await m.post(alice, cid, {"body": "hi bob"})
    assert [x["body"] for x in m.messages(bob, cid)] == ["hi bob"]
    # a non-participant of the account: the private conversation does not exist for them
    for call in (lambda: m.get(carol, cid), lambda: m.messages(carol, cid)):
        with pytest.raises(NotFound) as caught:
            call()
        assert caught.value.name == "ConversationNotFound"
    await rejected(core, NotFound, "ConversationNotFound", m.post(carol, cid, {"body": "let me in"}))
    # another account: not found either, even for its admin
    with pytest.raises(NotFound):
        m.get(erin, cid)
    # an ACCOUNT_ADMIN sees it but is not a participant, so reads no messages
    assert m.get(admin, cid)["conversationId"] == cid
    with pytest.raises(Forbidden) as admin_reads:
        m.messages(admin, cid)
    assert admin_reads.value.name == "NotAParticipant"
    assert [c["conversationId"] for c in m.list(carol)] == []
    assert [c["conversationId"] for c in m.list(bob)] == [cid]


async def test_invited_participants_see_but_read_only_once_accepted(core: Core, alice, bob, carol) -> None:
    m = core.messaging
    stream = await m.create(alice, {"stream": True, "name": "Team", "participants": [BOB]})
    cid = stream["conversationId"]
    invited = await m.add_participant(alice, cid, {"participantId": CAROL})
    assert invited["status"] == "INVITED"
    assert m.get(carol, cid)["conversationId"] == cid
    with pytest.raises(Forbidden) as caught:
        m.messages(carol, cid)
    assert caught.value.name == "NotAParticipant"
    await rejected(core, Forbidden, "InsufficientPermissions", m.respond(bob, cid, CAROL, "ACCEPTED"))
    await m.respond(carol, cid, "me", "ACCEPTED")
    await m.post(carol, cid, {"body": "thanks"})
    await rejected(core, Conflict, "NotInvited", m.respond(carol, cid, "me", "ACCEPTED"))
    await rejected(core, Conflict, "ParticipantExists", m.add_participant(alice, cid, {"participantId": CAROL}))


async def test_public_streams_are_open_to_the_account(core: Core, alice, carol) -> None:
    m = core.messaging
    public = await m.create(alice, {"stream": True, "visibility": "PUBLIC", "participants": []})
    cid = public["conversationId"]
    assert m.get(carol, cid)["visibility"] == "PUBLIC"           # visible without joining
    with pytest.raises(Forbidden):
        m.messages(carol, cid)                                    # but not readable
    joined = await m.add_participant(carol, cid, {"participantId": "me", "status": "INVITED"})
    assert joined["status"] == "ACCEPTED"                         # joining oneself is always ACCEPTED
    private = await m.create(alice, {"stream": True, "participants": []})
    await rejected(core, NotFound, "ConversationNotFound",
                    m.add_participant(carol, private["conversationId"], {"participantId": "me"}))


async def test_sequence_numbers_count_per_conversation(core: Core, alice, bob, carol) -> None:
    m = core.messaging
    ab = (await m.create(alice, {"participants": [BOB]}))["conversationId"]
    ac = (await m.create(alice, {"participants": [CAROL]}))["conversationId"]
    seqs = []
    for who, cid in ((alice, ab), (bob, ab), (alice, ac), (alice, ab), (carol, ac)):
        seqs.append((cid, (await m.post(who, cid, {"body": "x"}))["sequence"]))
    assert seqs == [(ab, 1), (ab, 2), (ac, 1), (ab, 3), (ac, 2)]
    assert [x["sequence"] for x in m.messages(bob, ab)] == [1, 2, 3]     # oldest first, the clock never moved


async def test_system_messages_take_sequence_numbers_too(core: Core, alice) -> None:
    m = core.messaging
    stream = await m.create(alice, {"stream": True, "participants": [BOB], "generateSystemMessages": True})
    cid = stream["conversationId"]
    await m.update(alice, cid, {"name": "Renamed"})
    posted = await m.post(alice, cid, {"body": "hello"})
    listed = m.messages(alice, cid)
    assert [(x["type"], x["sequence"]) for x in listed] == [("SYSTEM", 1), ("SYSTEM", 2), ("USER", 3)]
    assert posted["sequence"] == 3 and "renamed the conversation to Renamed" in listed[1]["body"]


async def test_message_content_rules(core: Core, alice) -> None:
    m = core.messaging
    cid = (await m.create(alice, {"participants": [BOB]}))["conversationId"]
    for fields in ({}, {"body": ""}, {"body": 42}, {"body": "x", "contentType": "plain"},
                   {"body": "{not json", "contentType": "application/json"}, {"body": "x" * 40_000}):
        await rejected(core, Invalid, "ValidationError", m.post(alice, cid, fields))
    posted = await m.post(alice, cid, {"body": {"card": 1}, "contentType": "application/json", "senderId": "forged"})
    assert posted["senderId"] == ALICE and posted["body"] == {"card": 1}


async def test_only_the_sender_edits_and_the_sender_or_an_admin_deletes(core: Core, alice, bob, admin) -> None:
    m = core.messaging
    cid = (await m.create(alice, {"participants": [BOB]}))["conversationId"]
    message = await m.post(alice, cid, {"body": "typo"})
    await rejected(core, Forbidden, "InsufficientPermissions", m.edit(bob, cid, message["messageId"], {"body": "x"}))
    await rejected(core, Forbidden, "InsufficientPermissions", m.delete_message(bob, cid, message["messageId"]))
    assert (await m.edit(alice, cid, message["messageId"], {"body": "fixed"}))["body"] == "fixed"
    await m.delete_message(admin, cid, message["messageId"])
    with pytest.raises(NotFound) as gone:
        m.message(alice, cid, message["messageId"])
    assert gone.value.name == "MessageNotFound"


async def test_transcripts_cover_a_time_window(core: Core, alice, bob, carol) -> None:
    m = core.messaging
    cid = (await m.create(alice, {"participants": [BOB], "name": "Plans <b>"}))["conversationId"]
    first = await m.post(alice, cid, {"body": "early"})
    await advance(core, 60)
    await m.post(bob, cid, {"body": "late & <loud>"})
    kind, plain = m.transcript(bob, cid, "text/plain", None, None)
    assert kind == "text/plain"
    assert plain.splitlines() == ["Transcript of Plans <b>", f"[{first['createdOn']}] Alice Anders: early",
                                  plain.splitlines()[2]] and plain.splitlines()[2].endswith("Bob Brown: late & <loud>")
    _, html = m.transcript(alice, cid, None, None, None)  # HTML by default, escaped
    assert "<title>Plans &lt;b&gt;</title>" in html and "late &amp; &lt;loud&gt;" in html and "<loud>" not in html
    _, window = m.transcript(alice, cid, "application/json", None, first["createdOn"])
    assert window["count"] == 1 and window["messages"][0]["body"] == "early"
    json.dumps(window)
    with pytest.raises(Invalid) as bad_range:
        m.transcript(alice, cid, "text/plain", "2030-01-02", "2030-01-01")
    assert bad_range.value.name == "InvalidDateRange"
    with pytest.raises(Invalid):
        m.transcript(alice, cid, "application/pdf", None, None)
    with pytest.raises(NotFound):
        m.transcript(carol, cid, "text/plain", None, None)


async def test_deleting_a_stream_takes_its_messages(core: Core, alice, bob) -> None:
    m = core.messaging
    cid = (await m.create(alice, {"stream": True, "participants": [BOB]}))["conversationId"]
    posted = await m.post(bob, cid, {"body": "x"})
    await rejected(core, Forbidden, "InsufficientPermissions", m.delete(bob, cid))  # not the creator
    await m.delete(alice, cid)
    assert core.rt.state.get("message", posted["messageId"]) is None
    assert core.rt.state.get("conversation", cid) is None


async def test_a_sequence_number_is_never_reused_after_a_delete(core: Core, alice) -> None:
    m = core.messaging
    cid = (await m.create(alice, {"participants": [BOB]}))["conversationId"]
    await m.post(alice, cid, {"body": "one"})
    newest = await m.post(alice, cid, {"body": "two"})
    await m.delete_message(alice, cid, newest["messageId"])
    assert (await m.post(alice, cid, {"body": "three"}))["sequence"] > newest["sequence"]
