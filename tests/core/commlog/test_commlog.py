"""The communication log as a projection of engine events: calls, missed calls, voicemail, recordings and
the group inbox, with watermarks, filters, marks, trash and the deleted flag."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from callyard.core.clock import ManualClock
from callyard.core.directory.tenant import DEMO_TENANT
from callyard.core.errors import Forbidden, Invalid, NotFound
from callyard.core.ids import Ids
from callyard.core.principal import SYSTEM
from callyard.core.service import Core
from callyard.store.database import MemoryStore
from tests.core.conftest import ACME, ALICE, BOB, advance, principal_for, rejected

OUTSIDE = "+442071234567"


def items(core: Core, actor, user_id: str, **filters) -> list[dict]:
    return core.commlog.list(actor, ACME, user_id, **filters)["items"]


async def call_and_talk(core: Core, alice, bob, seconds: float) -> None:
    placed = await core.engine.originate(alice, "2880", "2881")
    ringing = core.engine.endpoint(ACME, "2881").legs[0]
    await core.engine.answer(bob, "2881", ringing.leg_id)
    await advance(core, seconds)
    await core.engine.end(alice, "2880", placed["legId"])


async def test_a_call_lands_in_both_logs(core: Core, alice, bob) -> None:
    await call_and_talk(core, alice, bob, 42)
    [out] = items(core, alice, ALICE)
    [inc] = items(core, bob, BOB)
    assert out["itemType"] == "OUTGOING_CALL" and out["remoteParty"] == {"number": "2881", "displayName": "Bob Brown"}
    assert inc["itemType"] == "INCOMING_CALL" and inc["remoteParty"] == {"number": "2880",
                                                                         "displayName": "Alice Anders"}
    assert out["duration"] == inc["duration"] == 42
    assert out["callId"] == inc["callId"] and not out["isSeen"]
    assert inc["itemId"] > out["itemId"] or out["itemId"] > inc["itemId"]  # one id space per account


async def test_an_unanswered_call_is_missed_then_a_voicemail(core: Core, bob) -> None:
    caller = await core.engine.inbound(SYSTEM, OUTSIDE, "2881", from_name="Jane Doe", account_ref=ACME)
    await advance(core, 15)          # bob's phone rings out: voicemail answers
    await advance(core, 7)           # Jane speaks for 7 seconds
    await core.engine.end(SYSTEM, OUTSIDE, caller["legId"], sim=True, account_ref=ACME)
    missed, voicemail = items(core, bob, BOB)
    assert missed["itemType"] == "MISSED_CALL" and missed["duration"] == 0
    assert missed["remoteParty"] == {"number": OUTSIDE, "displayName": "Jane Doe"}
    assert voicemail["itemType"] == "VOICEMAIL" and voicemail["isPlayed"] is False
    assert voicemail["duration"] == 7 and voicemail["callItemId"] == missed["itemId"]
    # Playing the message, and the call item with it.
    await core.commlog.mark(bob, ACME, BOB, voicemail["itemId"], seen=True, played=True, update_call_item=True)
    missed, voicemail = items(core, bob, BOB)
    assert voicemail["isPlayed"] and voicemail["isSeen"] and missed["isSeen"]


async def test_watermarks_windows_filters_and_limits(core: Core, alice, bob) -> None:
    for seconds in (5, 6, 7):
        await call_and_talk(core, alice, bob, seconds)
        await advance(core, 60)
    ids = [i["itemId"] for i in items(core, alice, ALICE)]
    assert len(ids) == 3 and ids == sorted(ids)
    listed = core.commlog.list(alice, ACME, ALICE, since=ids[0])
    assert [i["itemId"] for i in listed["items"]] == ids[1:] and listed["flushCache"] is False
    assert listed["hintCount"] == 2 and listed["generatedAt"]
    assert [i["itemId"] for i in items(core, alice, ALICE, older_than=ids[2], limit=1)] == [ids[1]]
    assert [i["itemId"] for i in items(core, alice, ALICE, since=0, limit=2)] == ids[:2]
    starts = [i["startTime"] for i in items(core, alice, ALICE)]
    assert [i["startTime"] for i in items(core, alice, ALICE, since_time=starts[0], until_time=starts[2])] == [
        starts[1]]
    assert items(core, alice, ALICE, item_types=["MISSED_CALL"]) == []
    assert len(items(core, alice, ALICE, number="2881")) == 3
    assert len(items(core, alice, ALICE, contact_id=BOB)) == 3
    assert items(core, alice, ALICE, number="2882") == []
    with pytest.raises(Invalid):
        core.commlog.list(alice, ACME, ALICE, item_types=["PIGEON"])


async def test_trash_deleted_flag_and_removal(core: Core, alice, bob) -> None:
    for seconds in (5, 6, 7):
        await call_and_talk(core, alice, bob, seconds)
    a, b, c = [i["itemId"] for i in items(core, alice, ALICE)]
    await core.commlog.set_deletion_time(alice, ACME, ALICE, a, True)
    assert [i["itemId"] for i in items(core, alice, ALICE)] == [b, c]
    [trashed] = items(core, alice, ALICE, mark_as_delete=True)
    assert trashed["itemId"] == a and trashed["deletionTime"]
    await core.commlog.set_deletion_time(alice, ACME, ALICE, a, False)
    assert len(items(core, alice, ALICE)) == 3
    await core.commlog.set_deleted(alice, ACME, ALICE, b)
    assert [i["itemId"] for i in items(core, alice, ALICE, deleted=True)] == [b]
    assert [i["itemId"] for i in items(core, alice, ALICE)] == [a, c]
    missing = await core.commlog.mark_many(alice, ACME, ALICE, item_ids=[a, 999], seen=True, played=None)
    assert missing == [999] and items(core, alice, ALICE)[0]["isSeen"]
    await core.commlog.delete(alice, ACME, ALICE, a)
    await rejected(core, NotFound, "item.does.not.exist", core.commlog.delete(alice, ACME, ALICE, a))
    assert await core.commlog.delete_many(alice, ACME, ALICE, until_item_id=c) == []
    assert items(core, alice, ALICE) == [] and items(core, alice, ALICE, deleted=True) == []


async def test_a_user_reads_their_own_log_only(core: Core, alice, bob, erin) -> None:
    await call_and_talk(core, alice, bob, 3)
    with pytest.raises(Forbidden):
        core.commlog.list(bob, ACME, ALICE)
    with pytest.raises(NotFound):
        core.commlog.list(erin, ACME, ALICE)
    item = items(core, alice, ALICE)[0]["itemId"]
    await rejected(core, Forbidden, "access.denied", core.commlog.delete(bob, ACME, ALICE, item))


async def test_a_recorded_call_is_a_recording_item(core: Core, alice, bob) -> None:
    placed = await core.engine.originate(alice, "2880", "2881", record=True)
    ringing = core.engine.endpoint(ACME, "2881").legs[0]
    await core.engine.answer(bob, "2881", ringing.leg_id)
    await advance(core, 10)
    await core.engine.end(alice, "2880", placed["legId"])
    kinds = {i["itemType"]: i for i in items(core, alice, ALICE)}
    assert set(kinds) == {"OUTGOING_CALL", "RECORDING"}
    assert kinds["RECORDING"]["remoteParty"]["number"] == "2881" and kinds["RECORDING"]["isPlayed"] is False
    assert kinds["RECORDING"]["callItemId"] == kinds["OUTGOING_CALL"]["itemId"]


async def test_voicemail_left_on_a_group_reaches_its_members_group_inbox(tmp_path: Path) -> None:
    tenant = json.loads(DEMO_TENANT.read_text())
    for account in tenant["accounts"][0]["customers"]:
        for group in account.get("groups", []):
            if group["name"] == "Support":  # nobody logged in: after 10 s the caller goes to voicemail
                group["acd"] = {**group["acd"], "maxWaitSeconds": 10, "overflow": "voicemail"}
    path = tmp_path / "tenant.json"
    path.write_text(json.dumps(tenant))
    core = Core(MemoryStore(), ManualClock(), Ids(5), tenant_file=path)
    await core.start()
    try:
        alice = principal_for(core, "alice@acme.example")
        caller = await core.engine.inbound(SYSTEM, OUTSIDE, "5000", from_name="Jane Doe", account_ref=ACME)
        await advance(core, 10)
        await advance(core, 4)
        await core.engine.end(SYSTEM, OUTSIDE, caller["legId"], sim=True, account_ref=ACME)
        assert items(core, alice, ALICE) == []   # not in her own log
        [message] = core.commlog.list(alice, ACME, ALICE, group_inbox=True)["items"]
        assert message["itemType"] == "VOICEMAIL" and message["inboxName"] == "Support"
        assert message["remoteParty"]["number"] == OUTSIDE and message["duration"] == 4
    finally:
        await core.stop()
