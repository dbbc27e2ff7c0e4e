"""The webhook sender records outcomes off the key's path (delivery/webhooks.py, "Recording"): the next delivery
of a key is sent once the previous one is answered, without waiting for the previous outcome's write; queued
outcomes are written together, on stop too; an outcome write that fails sends its deliveries again, first."""
from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any, AsyncIterator

import pytest

from callyard.app import FAMILIES
from callyard.config import Settings
from callyard.container import Twin, build_twin
from callyard.core.state import Changes
from tests.support.receiver import Receiver

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


@pytest.fixture
async def twin(tmp_path: Path) -> AsyncIterator[Twin]:
    twin = build_twin(Settings(ephemeral=True, data_dir=tmp_path / "d", port=1, id_seed=7), FAMILIES)
    await twin.start()
    async with twin.core.rt.write() as uow:
        uow.put("subscription", "sub-1", {"subscriptionId": "sub-1", "accountId": "acct", "active": True,
                                          "signingSecret": SECRET})
    try:
        yield twin
    finally:
        await twin.stop()


async def _enqueue(twin: Twin, url: str, count: int, key: str = "call-1") -> list[str]:
    async with twin.core.rt.write() as uow:
        return [twin.core.outbox.enqueue(uow, registration_id="sub-1", account_id="acct", url=url, order_key=key,
                                         publication={"n": n}) for n in range(count)]


async def _until(check: Any, seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def _docs(twin: Twin, ids: list[str]) -> list[dict[str, Any]]:
    return [twin.core.rt.state.get("delivery", i) for i in ids]


async def test_the_next_delivery_of_a_key_does_not_wait_for_the_previous_outcome_write(twin: Twin) -> None:
    rt = twin.core.rt
    with Receiver() as receiver:
        ids = await _enqueue(twin, receiver.url, 3)
        await rt.write_lock.acquire()   # no unit of work can commit: the outcomes cannot be written
        try:
            await _until(lambda: len(receiver.requests) == 3)
            assert [json.loads(r["body"])["n"] for r in receiver.requests] == [0, 1, 2]   # in order
            assert [r["headers"]["webhook-id"] for r in receiver.requests] == ids
            assert all(d["status"] == "pending" for d in _docs(twin, ids))   # answered, not yet written
        finally:
            rt.write_lock.release()
        await _until(lambda: all(d["status"] == "delivered" for d in _docs(twin, ids)))
    for doc in _docs(twin, ids):
        assert doc["attempts"] == 1 and doc["lastStatus"] == 200 and [h["status"] for h in doc["history"]] == [200]
    assert len(receiver.requests) == 3


async def test_stop_writes_the_outcomes_already_answered(twin: Twin) -> None:
    rt = twin.core.rt
    with Receiver() as receiver:
        ids = await _enqueue(twin, receiver.url, 2)
        await rt.write_lock.acquire()
        try:
            await _until(lambda: len(receiver.requests) == 2)
            stopping = asyncio.create_task(twin.webhooks.stop())
            await asyncio.sleep(0.05)
        finally:
            rt.write_lock.release()
        await stopping
    assert [d["status"] for d in _docs(twin, ids)] == ["delivered", "delivered"]


async def test_a_failed_outcome_write_sends_its_deliveries_again_before_the_rest(twin: Twin,
                                                                                monkeypatch: Any) -> None:
    store = twin.core.rt.store
    stage = store.stage
    failed: list[int] = []

    def failing_once(changes: Changes, meta: dict[str, str] | None = None) -> Any:
        if not failed and any(k[0] == "delivery" and d["status"] == "delivered" for k, d in changes.upserts.items()):
            failed.append(len(changes.upserts))
            raise OSError("disk full")
        return stage(changes, meta)

    monkeypatch.setattr(store, "stage", failing_once)
    with Receiver() as receiver:
        first = await _enqueue(twin, receiver.url, 1)
        await _until(lambda: failed and all(d["status"] == "delivered" for d in _docs(twin, first)))
        later = await _enqueue(twin, receiver.url, 1)
        await _until(lambda: all(d["status"] == "delivered" for d in _docs(twin, later)))
    sent = [r["headers"]["webhook-id"] for r in receiver.requests]
    assert sent == [first[0], first[0], later[0]]   # sent again, same webhook-id, before what came after
    [doc] = _docs(twin, first)
    assert doc["attempts"] == 1   # the outcome that was not written is not counted


async def test_a_replay_during_an_attempt_is_sent_again(twin: Twin) -> None:
    """A replay accepted while the delivery's attempt waits for its answer is not undone by that attempt's
    outcome: the delivery goes out again, with the same webhook-id."""
    from callyard.core.principal import SYSTEM

    with Receiver() as receiver:
        receiver.hold = threading.Event()
        [delivery_id] = await _enqueue(twin, receiver.url, 1)
        await _until(lambda: len(receiver.requests) == 1)
        await twin.core.outbox.replay(SYSTEM, delivery_id)
        receiver.hold.set()
        await _until(lambda: len(receiver.requests) == 2)
        await _until(lambda: _docs(twin, [delivery_id])[0]["status"] == "delivered")
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [delivery_id, delivery_id]
    [doc] = _docs(twin, [delivery_id])
    assert doc["attempts"] == 1 and len(doc["history"]) == 2 and doc["replayedOn"]


async def test_a_replay_between_the_answer_and_its_outcome_write_is_sent_again(twin: Twin, monkeypatch: Any) -> None:
    """The outcome of an answered attempt is written in a batch, a moment later; a replay that commits in
    between stands: the outcome joins the history without marking the replayed delivery delivered."""
    from callyard.core.principal import SYSTEM

    sender = twin.webhooks
    write = sender._write_outcomes
    replayed: list[str] = []

    async def replay_first() -> None:
        if not replayed:
            replayed.append(sender._outcomes[0][0])
            await twin.core.outbox.replay(SYSTEM, replayed[0])
        await write()

    monkeypatch.setattr(sender, "_write_outcomes", replay_first)
    with Receiver() as receiver:
        [delivery_id] = await _enqueue(twin, receiver.url, 1)
        await _until(lambda: len(receiver.requests) == 2)
        await _until(lambda: _docs(twin, [delivery_id])[0]["status"] == "delivered")
    assert replayed == [delivery_id]
    assert [r["headers"]["webhook-id"] for r in receiver.requests] == [delivery_id, delivery_id]
    [doc] = _docs(twin, [delivery_id])
    assert doc["attempts"] == 1 and len(doc["history"]) == 2



async def test_an_account_keeps_its_newest_finished_deliveries_and_every_pending_one(
        twin: Twin, monkeypatch: pytest.MonkeyPatch) -> None:
    """The delivery log is bounded per account (events/outbox.py, FINISHED_KEPT): once an account has more
    finished deliveries than that, the longest finished go with the outcome write that finished the newest. A
    replayed delivery counts from its new finish; pending deliveries and other accounts' deliveries stay."""
    from callyard.core.principal import SYSTEM
    from callyard.events import outbox

    monkeypatch.setattr(outbox, "FINISHED_KEPT", 3)
    rt = twin.core.rt
    async with rt.write() as uow:
        for doc_id, account, status in (("other-1", "other", "delivered"), ("pending-1", "acct", "pending")):
            uow.put("delivery", doc_id, {"deliveryId": doc_id, "subscriptionId": "sub-x", "accountId": account,
                                         "status": status, "createdOn": "2000-01-01T00:00:00.000Z",
                                         "deliveredOn": "2000-01-01T00:00:00.000Z", "history": []})

    def delivered(ids: list[str], attempts: int = 1) -> bool:
        return all(d is not None and d["status"] == "delivered" and d["attempts"] == attempts
                   for d in _docs(twin, ids))

    with Receiver() as receiver:
        first = await _enqueue(twin, receiver.url, 2)
        await _until(lambda: delivered(first))
        await twin.core.outbox.replay(SYSTEM, first[0])   # finishes again: now the newer of the two
        await _until(lambda: len(receiver.requests) == 3 and delivered(first[:1]))
        later = await _enqueue(twin, receiver.url, 2, key="call-2")
        await _until(lambda: delivered(later) and rt.state.get("delivery", first[1]) is None)
    acct = sorted(d["deliveryId"] for d in rt.state.all("delivery") if d["accountId"] == "acct")
    assert acct == sorted([first[0], *later, "pending-1"])   # three finished, the newest; the pending one
    assert rt.state.get("delivery", "other-1") is not None   # another account's log is its own
