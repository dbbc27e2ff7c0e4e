"""The projection registry and the runtime's transaction: in-transaction projections commit with the change
and are undone with it; after-commit projections run once it is durable, in commit order, and one failing
does not stop the others."""
from __future__ import annotations

import pytest

from callyard.core.clock import Clock
from callyard.core.ids import Ids
from callyard.core.runtime import Runtime
from callyard.events.event import Event
from callyard.events.projections import DERIVE, PUBLISH, Projections
from callyard.store import open_store


@pytest.fixture
async def runtime() -> Runtime:
    rt = Runtime(open_store(None), Clock(), Ids(7), Projections())
    await rt.store.open()
    return rt


async def test_in_transaction_projection_writes_with_the_change_and_sees_earlier_projections(runtime):
    seen: list[str] = []

    def derive(uow, events):
        for event in events:
            uow.put("derived", event.subject, {"from": event.type})
            uow.emit("derived.created", event.account_id, f"/derived{event.subject}", None, event.occurred_at)

    def publish(uow, events):
        seen.extend(e.type for e in events)

    runtime.projections.in_transaction("publish", publish, order=PUBLISH)  # registered first, runs second
    runtime.projections.in_transaction("derive", derive, events=("thing.*",), order=DERIVE)
    async with runtime.write() as uow:
        uow.put("thing", "1", {"id": "1"})
        uow.emit("thing.created", "acct", "/things/1", {"id": "1"}, runtime.now_iso())
    assert runtime.state.get("derived", "/things/1") == {"from": "thing.created"}
    assert seen == ["thing.created", "derived.created"]
    assert await runtime.store.count_events() == 2
    assert [p["name"] for p in runtime.projections.describe()] == ["derive", "publish"]


async def test_a_failing_in_transaction_projection_rolls_the_change_back(runtime):
    def refuse(uow, events):
        raise RuntimeError("no")

    runtime.projections.in_transaction("refuse", refuse)
    published: list[Event] = []
    runtime.projections.subscribe(published.append)
    with pytest.raises(RuntimeError):
        async with runtime.write() as uow:
            uow.put("thing", "1", {"id": "1"})
            uow.emit("thing.created", "acct", "/things/1", {"id": "1"}, runtime.now_iso())
    assert runtime.state.get("thing", "1") is None
    assert published == [] and await runtime.store.count_events() == 0


async def test_after_commit_projections_filter_by_type_and_survive_a_failing_neighbour(runtime):
    calls: list[str] = []

    def broken(event):
        raise ValueError("broken projection")

    async def calls_only(event):
        calls.append(event.type)

    runtime.projections.after_commit("broken", broken)
    unsubscribe = runtime.projections.after_commit("calls", calls_only, events=("call.*",))
    async with runtime.write() as uow:
        for event_type in ("call.state", "user.updated", "call.dtmf"):
            uow.emit(event_type, "acct", "/x", None, runtime.now_iso())
    assert calls == ["call.state", "call.dtmf"]
    unsubscribe()
    async with runtime.write() as uow:
        uow.emit("call.state", "acct", "/x", None, runtime.now_iso())
    assert calls == ["call.state", "call.dtmf"]


async def test_the_event_log_reads_back_in_commit_order_by_account_and_type(runtime):
    async with runtime.write() as uow:
        uow.emit("call.state", "a", "/1", {"n": 1}, runtime.now_iso())
        uow.emit("user.updated", "b", "/2", None, runtime.now_iso())
    async with runtime.write() as uow:
        uow.emit("call.dtmf", "a", "/3", {"n": 3}, runtime.now_iso())
    everything = await runtime.store.read_events(0, 10)
    assert [(s.seq, s.event.type) for s in everything] == [(1, "call.state"), (2, "user.updated"), (3, "call.dtmf")]
    assert [s.seq for s in await runtime.store.read_events(1, 10)] == [2, 3]
    assert [s.seq for s in await runtime.store.read_events(0, 10, {"a"}, ("call.*",))] == [1, 3]
    assert [s.seq for s in await runtime.store.read_events(0, 1)] == [1]
