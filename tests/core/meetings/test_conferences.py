"""Conference rules: creation and validation, who reads and manages, participants, connecting and leaving
(the conference goes active and idle), recordings on the virtual clock, and isolation between accounts."""
from __future__ import annotations


import pytest

from callyard.core.errors import Conflict, Forbidden, Invalid, NotFound
from callyard.core.service import Core
from tests.core.conftest import ACME, ALICE, BOB, CAROL, ERIN, advance, rejected


async def test_create_with_creator_accepted_and_invitees_invited(core: Core, alice) -> None:
    conference = await core.meetings.create_conference(alice, {"name": " Standup ", "participants": [
        {"participantId": BOB}, {"participantId": BOB}, {"participantId": "me"}]})
    assert conference["accountId"] == ACME and conference["state"] == "inactive" and conference["name"] == "Standup"
    assert conference["type"] == "everyoneAllowed" and conference["visibility"] == "public"
    assert len(conference["accessCode"]) == 9 and conference["accessCode"].isdigit()
    roster = core.meetings.list_participants(alice, conference["id"])
    assert [(p["participantId"], p["state"]) for p in roster] == [(ALICE, "accepted"), (BOB, "invited")]


async def test_creation_is_validated_and_a_failure_leaves_nothing(core: Core, alice) -> None:
    mt = core.meetings
    await rejected(core, Invalid, "ValidationError", mt.create_conference(alice, {"type": "secret"}))
    await rejected(core, Invalid, "ValidationError", mt.create_conference(alice, {"colour": "red"}))
    await rejected(core, Invalid, "ValidationError", mt.create_conference(alice, {"accessCodeLength": 0}))
    await rejected(core, Invalid, "ValidationError", mt.create_conference(alice, {"accessCodeLength": 2.5}))
    await rejected(core, Invalid, "ValidationError", mt.create_conference(alice, {"name": "   "}))
    await rejected(core, Invalid, "InvalidConferenceId", mt.create_conference(alice, {"id": "a:b"}))
    await rejected(core, Invalid, "InvalidExpiryDateTime",
                    mt.create_conference(alice, {"expiryDateTime": "2000-01-01T00:00:00Z"}))
    await rejected(core, Invalid, "InvalidExpiryDateTime",
                    mt.create_conference(alice, {"expiryDateTime": "2099-01-01T00:00:00"}))
    # an invitee of another account fails the whole creation, conference included
    await rejected(core, Invalid, "InvalidParticipant",
                    mt.create_conference(alice, {"id": "room-1", "participants": [{"participantId": ERIN}]}))
    await mt.create_conference(alice, {"id": "room-1"})
    await rejected(core, Conflict, "ConferenceExists", mt.create_conference(alice, {"id": "room-1"}))


async def test_access_codes_are_unique_within_the_account(core: Core, alice) -> None:
    codes = {(await core.meetings.create_conference(alice, {"accessCodeLength": 1}))["accessCode"] for _ in range(10)}
    assert codes == {str(n) for n in range(10)}
    await rejected(core, Conflict, "AccessCodesExhausted",
                    core.meetings.create_conference(alice, {"accessCodeLength": 1}))


async def test_invite_only_conferences_are_forbidden_to_non_participants(core: Core, alice, bob, carol, admin) -> None:
    mt = core.meetings
    private = await mt.create_conference(alice, {"type": "inviteOnly", "participants": [{"participantId": BOB}]})
    cid = private["id"]
    assert mt.get_conference(bob, cid)["id"] == cid           # an invitee reads it
    assert mt.get_conference(admin, cid)["id"] == cid         # an admin manages everything of the account
    with pytest.raises(Forbidden) as caught:
        mt.get_conference(carol, cid)
    assert caught.value.name == "InsufficientPermissions"
    await rejected(core, Forbidden, "InsufficientPermissions", mt.add_participant(carol, cid, {"participantId": "me"}))
    await rejected(core, Forbidden, "InsufficientPermissions", mt.connect(carol, cid, "me"))
    assert cid not in [c["id"] for c in mt.list_conferences(carol)]


async def test_another_accounts_conferences_do_not_exist(core: Core, alice, globex_admin, erin) -> None:
    cid = (await core.meetings.create_conference(alice, {}))["id"]
    for who in (globex_admin, erin):
        with pytest.raises(NotFound) as caught:
            core.meetings.get_conference(who, cid)
        assert caught.value.name == "ConferenceNotFound"
        await rejected(core, NotFound, "ConferenceNotFound", core.meetings.connect(who, cid, "me"))
        await rejected(core, NotFound, "ConferenceNotFound", core.meetings.delete_conference(who, cid))
        assert core.meetings.list_conferences(who) == []


async def test_only_the_creator_or_an_admin_manages(core: Core, alice, bob, carol, admin) -> None:
    mt = core.meetings
    cid = (await mt.create_conference(alice, {"participants": [{"participantId": BOB}]}))["id"]
    await rejected(core, Forbidden, "InsufficientPermissions", mt.add_participant(bob, cid, {"participantId": CAROL}))
    await rejected(core, Forbidden, "InsufficientPermissions", mt.delete_conference(bob, cid))
    await rejected(core, Forbidden, "InsufficientPermissions", mt.remove_participant(carol, cid, BOB))
    await rejected(core, Forbidden, "CannotRemoveCreator", mt.remove_participant(admin, cid, ALICE))
    # anyone of the account joins an everyoneAllowed conference themselves, accepted at once
    assert (await mt.add_participant(carol, cid, {"participantId": "me"}))["state"] == "accepted"
    await rejected(core, Conflict, "ParticipantExists", mt.add_participant(carol, cid, {"participantId": "me"}))
    await mt.remove_participant(bob, cid, "me")             # leave oneself
    await mt.remove_participant(admin, cid, CAROL)
    assert [p["participantId"] for p in mt.list_participants(alice, cid)] == [ALICE]


async def test_connecting_and_leaving_drive_the_conference_state_and_attendance(core: Core, alice, bob) -> None:
    mt = core.meetings
    cid = (await mt.create_conference(alice, {"participants": [{"participantId": BOB}]}))["id"]
    await rejected(core, Conflict, "ParticipantNotActive", mt.update_participant(bob, cid, "me", {"action": "leave"}))
    await mt.connect(alice, cid, "me")
    first = mt.get_conference(alice, cid)
    assert first["state"] == "active" and first["instanceId"]
    await mt.connect(bob, cid, "me")
    await advance(core, 30)
    await mt.update_participant(alice, cid, "me", {"action": "leave"})
    assert mt.get_conference(alice, cid)["state"] == "active"          # Bob is still there
    await mt.update_participant(bob, cid, "me", {"action": "leave"})
    assert mt.get_conference(alice, cid)["state"] == "inactive"        # the last one left
    history = mt.attendances(bob, "me")
    assert len(history) == 1 and history[0][0]["conferenceInstanceId"] == first["instanceId"]
    await mt.connect(bob, cid, "me")
    assert mt.get_conference(bob, cid)["instanceId"] != first["instanceId"]  # a new stretch of activity
    await rejected(core, Forbidden, "InsufficientPermissions", mt.connect(bob, cid, ALICE))  # only oneself


async def test_recording_length_is_virtual_time_without_pauses(core: Core, alice) -> None:
    mt = core.meetings
    cid = (await mt.create_conference(alice, {}))["id"]
    await rejected(core, Conflict, "ConferenceNotActive", mt.act(alice, cid, "record"))
    await mt.connect(alice, cid, "me")
    await mt.act(alice, cid, "record")
    await rejected(core, Conflict, "AlreadyRecording", mt.act(alice, cid, "record"))
    await advance(core, 10)
    await mt.act(alice, cid, "pause-record")
    await advance(core, 100)
    await rejected(core, Conflict, "NotRecording", mt.act(alice, cid, "pause-record"))
    await mt.act(alice, cid, "resume-record")
    await rejected(core, Conflict, "NotPaused", mt.act(alice, cid, "resume-record"))
    await advance(core, 5)
    await mt.act(alice, cid, "end")
    assert mt.get_conference(alice, cid)["state"] == "inactive" and mt.get_conference(alice, cid)["recording"] is None
    recordings = [r for r in core.recordings.list(alice) if r["callId"] == cid]
    assert len(recordings) == 1 and recordings[0]["durationInSeconds"] == 15
