"""The contact center as the UC User API shows it: group login/logout (the contact center's agent state),
agents, queue statistics and the group call log projected from queue records."""
from __future__ import annotations

import pytest

from callyard.core.errors import Forbidden, Invalid, NotFound
from callyard.core.principal import SYSTEM
from callyard.core.service import Core
from tests.core.conftest import ACME, ALICE, BOB, DAVE, advance, rejected

OUTSIDE = "+442071234567"
SUPPORT = "ac3e0000-0000-4000-8000-00000000500a"


async def test_logging_in_to_a_group_is_the_contact_centers_agent_login(core: Core, alice) -> None:
    groups = core.user_groups
    [support] = groups.list(alice, ACME, ALICE)
    assert support["groupId"] == SUPPORT
    assert groups.summary(support, ALICE) == {
        "id": 5000, "domain": "acme.example", "name": "Support", "type": "ACD", "loggedIn": False,
        "nightMode": False, "loggedInAgents": 0, "freeAgents": 0, "callsWaiting": 0}
    await groups.set_login(alice, ACME, ALICE, 5000, True)
    agent = core.contact_center.agent(ACME, ALICE)
    assert agent["loggedIn"] and agent["ready"] and agent["presence"][SUPPORT] is True
    summary = groups.summary(groups.group(ACME, 5000), ALICE)
    assert summary["loggedIn"] and summary["loggedInAgents"] == 1 and summary["freeAgents"] == 1
    await groups.set_login(alice, ACME, ALICE, 5000, False)
    assert not core.contact_center.agent(ACME, ALICE)["loggedIn"]   # her last ACD group: logged out


async def test_only_members_and_admins(core: Core, alice, bob, admin, erin) -> None:
    groups = core.user_groups
    await rejected(core, NotFound, "group.does.not.exist", groups.set_login(bob, ACME, BOB, 5000, True))
    await rejected(core, Forbidden, "access.denied", groups.set_login(bob, ACME, ALICE, 5000, True))
    await rejected(core, NotFound, "user.does.not.exist", groups.set_login(erin, ACME, ALICE, 5000, True))
    await groups.set_login(admin, ACME, DAVE, 5000, True)   # an administrator logs an agent in
    assert core.contact_center.agent(ACME, DAVE)["loggedIn"]


async def test_a_queued_call_reaches_the_logged_in_agent_and_the_statistics(core: Core, alice) -> None:
    groups = core.user_groups
    await groups.set_login(alice, ACME, ALICE, 5000, True)
    caller = await core.engine.inbound(SYSTEM, OUTSIDE, "5000", from_name="Jane Doe", account_ref=ACME)
    [offer] = core.engine.endpoint(ACME, "2880").legs
    assert offer.state == "ringing" and offer.queue_id == SUPPORT
    stat = groups.queue_stat(groups.group(ACME, 5000))
    assert stat["queueLength"] == 1 and stat["loggedInAgents"] == 1 and stat["totalCallsForPeriod"] == 1
    await advance(core, 4)
    await core.engine.answer(alice, "2880", offer.leg_id)
    await advance(core, 30)
    await core.engine.end(SYSTEM, OUTSIDE, caller["legId"], sim=True, account_ref=ACME)
    stat = groups.queue_stat(groups.group(ACME, 5000))
    assert stat["queueLength"] == 0 and stat["answeredCallsForPeriod"] == 1 and stat["answeredCallsLast24h"] == 1
    assert stat["lastWait"] == 4 and stat["averageWait"] == 4 and stat["totalCallsLast24h"] == 1
    log = groups.call_log(alice, ACME, ALICE)
    [item] = log["callLogItem"]
    assert log["callCountAnswered"] == 1 and item["itemType"] == "ANSWERED"
    assert item["callerNumber"] == OUTSIDE and item["queueDuration"] == 4 and item["callDuration"] == 30
    assert item["agent"] == {"name": "Alice Anders", "number": "2880", "userId": ALICE}
    assert item["handledStatus"]["state"] == "UNHANDLED"


async def test_missed_calls_aggregate_per_caller_and_can_be_assigned(core: Core, alice, bob) -> None:
    groups = core.user_groups
    for _ in range(2):   # nobody logged in: the caller gives up after 5 s
        caller = await core.engine.inbound(SYSTEM, OUTSIDE, "5000", account_ref=ACME)
        await advance(core, 5)
        await core.engine.end(SYSTEM, OUTSIDE, caller["legId"], sim=True, account_ref=ACME)
    log = groups.call_log(alice, ACME, ALICE, group_number=5000)
    [item] = log["callLogItem"]
    assert item["itemType"] == "MISSED" and item["callCount"] == 2 and log["callCountMissed"] == 2
    single = groups.call_log(alice, ACME, ALICE, caller_number=OUTSIDE, item_types=["MISSED"])
    assert [i["callCount"] for i in single["callLogItem"]] == [1, 1]
    first = single["callLogItem"][0]["itemId"]
    assert groups.call_log(alice, ACME, ALICE, since=first, caller_number=OUTSIDE,
                           item_types=["MISSED"])["hintCount"] == 1
    assigned = await groups.assign(alice, ACME, ALICE, first, "INPROGRESS", "Call back on Friday")
    assert assigned["handledStatus"]["state"] == "INPROGRESS" and assigned["noteIncluded"]
    assert assigned["handledStatus"]["agent"]["userId"] == ALICE
    assert [i["itemId"] for i in groups.call_log(alice, ACME, ALICE, assigned=True)["callLogItem"]] == [first]
    await rejected(core, Invalid, "state.not.valid", groups.assign(alice, ACME, ALICE, first, "DONE", None))
    await rejected(core, NotFound, "item.does.not.exist", groups.assign(bob, ACME, BOB, first, "HANDLED", None))
    with pytest.raises(Invalid):
        groups.call_log(alice, ACME, ALICE, item_types=["LOST"])


async def test_queue_statistics_need_a_supervisor_or_membership(core: Core, alice, bob, admin) -> None:
    groups = core.user_groups
    assert [s["id"] for s in groups.organisation_stats(admin, ACME)] == [5000, 5100]
    with pytest.raises(Forbidden):
        groups.organisation_stats(alice, ACME)
    assert groups.group_stat(alice, ACME, 5000)["name"] == "Support"   # her own queue
    with pytest.raises(Forbidden):
        groups.group_stat(alice, ACME, 5100)
    assert [s["id"] for s in groups.supervised(bob, ACME, BOB)] == [5100]
