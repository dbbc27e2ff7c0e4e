"""The contact center through the engine's public API on the manual clock: which agent a queued call is
offered to (longest idle vs member priority), and ring-no-answer (RONA)."""
from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from callyard.core.clock import ManualClock
from callyard.core.directory.tenant import DEMO_TENANT
from callyard.core.ids import Ids
from callyard.core.principal import SYSTEM
from callyard.core.service import Core
from callyard.store.database import MemoryStore

ACME = "ac3e0000-0000-4000-8000-00000000ac3e"
ALICE = "ac3e0000-0000-4000-8000-000000002880"   # extension 2880, first member of Support
DAVE = "ac3e0000-0000-4000-8000-000000000200"    # extension 200, second member of Support
SUPPORT = "ac3e0000-0000-4000-8000-00000000500a"  # ACD queue, number 5000
CALLER = "+16135550101"

CoreFactory = Callable[[str], Awaitable[Core]]


@pytest.fixture
async def core_with(tmp_path: Path) -> AsyncIterator[CoreFactory]:
    """``await core_with("priority")``: a started core whose Support queue uses that distribution."""
    started: list[Core] = []

    async def make(distribution: str) -> Core:
        tenant = json.loads(DEMO_TENANT.read_text())
        accounts = list(tenant["accounts"])
        while accounts:  # accounts nest: a partner's customers are accounts too
            account = accounts.pop()
            accounts.extend(account.get("customers", []))
            for group in account.get("groups", []):
                if group.get("groupId") == SUPPORT:
                    group["acd"] = {**group.get("acd", {}), "distribution": distribution}
        path = tmp_path / f"tenant-{distribution}.json"
        path.write_text(json.dumps(tenant))
        core = Core(MemoryStore(), ManualClock(), Ids(5), tenant_file=path)
        await core.start()
        started.append(core)
        return core

    yield make
    for core in started:
        await core.stop()


def ringing_offers(core: Core, number: str) -> list[dict]:
    endpoint = core.engine.sim_endpoint(SYSTEM, number, ACME)
    return [core.engine.snapshot(leg) for leg in endpoint.legs if leg.state == "ringing"]


async def log_in_dave_then_alice(core: Core) -> None:
    """Dave logs in first (idle longest), Alice a second later; Alice is the first member of the queue."""
    await core.contact_center.set_agent(SYSTEM, DAVE, logged_in=True, account_ref=ACME)
    await core.scheduler.advance(1)
    await core.contact_center.set_agent(SYSTEM, ALICE, logged_in=True, account_ref=ACME)


async def test_longest_idle_offers_the_agent_idle_longest(core_with: CoreFactory) -> None:
    core = await core_with("longestIdle")
    await log_in_dave_then_alice(core)
    await core.engine.inbound(SYSTEM, CALLER, "5000", account_ref=ACME)
    [offer] = ringing_offers(core, "200")
    assert (offer["from"], offer["to"], offer["queueId"]) == (CALLER, "5000", SUPPORT)
    assert ringing_offers(core, "2880") == []  # one offer at a time


async def test_priority_offers_the_first_member_in_order(core_with: CoreFactory) -> None:
    core = await core_with("priority")
    await log_in_dave_then_alice(core)
    await core.engine.inbound(SYSTEM, CALLER, "5000", account_ref=ACME)
    [offer] = ringing_offers(core, "2880")
    assert (offer["from"], offer["queueId"]) == (CALLER, SUPPORT)
    assert ringing_offers(core, "200") == []


async def test_rona_makes_the_agent_not_ready_and_requeues_the_call(core_with: CoreFactory) -> None:
    core = await core_with("longestIdle")
    await core.contact_center.set_agent(SYSTEM, DAVE, logged_in=True, account_ref=ACME)
    await core.engine.inbound(SYSTEM, CALLER, "5000", account_ref=ACME)
    [offer] = ringing_offers(core, "200")

    await core.scheduler.advance(15)  # the queue's ringTimeoutSeconds
    assert ringing_offers(core, "200") == []
    record = core.rt.state.get("call_record", f"{ACME}:{offer['legId']}")
    assert record is not None and record["cause"] == "callNotAnswer"
    agent = core.contact_center.agent(ACME, DAVE)
    assert (agent["loggedIn"], agent["ready"], agent["reason"]) == (True, False, "RONA")
    [stats] = [s for s in core.contact_center.queue_stats(SYSTEM, ACME) if s["groupId"] == SUPPORT]
    assert (stats["waiting"], stats["agentsFree"]) == (1, 0)

    # The call waited at the head of the queue: the next ready agent is offered it.
    await core.contact_center.set_agent(SYSTEM, ALICE, logged_in=True, account_ref=ACME)
    [again] = ringing_offers(core, "2880")
    assert (again["from"], again["callId"]) == (CALLER, offer["callId"])
