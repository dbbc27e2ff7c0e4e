"""Crash safety: the server is killed with SIGKILL in the middle of a concurrent write load and started again
on the same store (SQLite, and PostgreSQL). Every write it acknowledged with a 2xx is there afterwards, and
every publication it accepted for a webhook subscription is delivered (the outbox is written with the change).

The load, from several threads at once: users created, chat messages posted, calls placed through the
simulator then answered and hung up, subscriptions created. Live calls are memory only by design (a restart
drops them, docs/compatibility.md), so for calls the test holds what is durable: the call records of every
call whose hang-up was acknowledged.
"""
from __future__ import annotations

import itertools
import json
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterator

import httpx
import pytest

from tests.conftest import ACME, auth, token
from tests.support.receiver import Receiver
from tests.support.server_process import ServerProcess, postgres_database

B = "/2017-09-01"
SIM = {"account": ACME}
EXTENSIONS = ("2880", "2881", "2882")
# Enough acknowledged writes of each kind before the kill, so that it lands in the middle of all of them.
BEFORE_KILL = {"users": 15, "messages": 40, "calls": 5, "subscriptions": 10}


@dataclass
class Load:
    acked: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    unacknowledged: int = 0
    server_errors: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    stop: threading.Event = field(default_factory=threading.Event)

    def ack(self, kind: str, value: str) -> None:
        with self.lock:
            self.acked[kind].append(value)

    def counts(self) -> dict[str, int]:
        with self.lock:
            return {kind: len(self.acked[kind]) for kind in BEFORE_KILL}


@pytest.fixture(params=["sqlite", "postgresql"])
def crashable(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ServerProcess]:
    log = tmp_path / "server.log"
    if request.param == "sqlite":
        process = ServerProcess(log, data=tmp_path / "data")
        yield process
        process.stop()
    else:
        with postgres_database("callyard_crash") as url:
            process = ServerProcess(log, database_url=url)
            yield process
            process.stop()


def worker(load: Load, url: str, headers: dict[str, str], step: Callable[[httpx.Client, int], None]) -> None:
    """Repeat ``step`` until told to stop or the server goes away (the request in flight is then unanswered)."""
    with httpx.Client(base_url=url, headers=headers, timeout=10) as client:
        for i in itertools.count():
            if load.stop.is_set():
                return
            try:
                step(client, i)
            except httpx.HTTPError:
                with load.lock:
                    load.unacknowledged += 1
                return


def checked(load: Load, response: httpx.Response) -> bool:
    """True for a 2xx; a 5xx is recorded (a write load must never produce one)."""
    if response.status_code >= 500:
        with load.lock:
            load.server_errors.append(f"{response.request.method} {response.request.url.path}: "
                                      f"{response.status_code} {response.text[:200]}")
    return 200 <= response.status_code < 300


def steps(load: Load, conversation: str, receiver_url: str) -> list[Callable[[httpx.Client, int], None]]:
    def user(c: httpx.Client, i: int) -> None:
        r = c.post(f"{B}/accounts/{ACME}/users", json={"email": f"load-{i}@acme.example", "name": f"Load {i}"})
        if checked(load, r):
            load.ack("users", r.json()["userId"])

    def message(tag: str) -> Callable[[httpx.Client, int], None]:
        def post(c: httpx.Client, i: int) -> None:
            r = c.post(f"{B}/conversations/{conversation}/messages", json={"body": f"{tag} {i}"})
            if checked(load, r):
                load.ack("messages", r.json()["messageId"])
        return post

    def calls(extension: str, first: int) -> Callable[[httpx.Client, int], None]:
        def call(c: httpx.Client, i: int) -> None:
            placed = c.post("/_callyard/sim/calls", params=SIM, json={"from": f"+1613555{first + i:04d}",
                                                                       "to": extension})
            if not checked(load, placed):
                return
            if not checked(load, c.post(f"/_callyard/sim/endpoints/{extension}/answer", params=SIM)):
                return
            if checked(load, c.post(f"/_callyard/sim/endpoints/{extension}/hangup", params=SIM)):
                load.ack("calls", placed.json()["callId"])
        return call

    def subscription(c: httpx.Client, i: int) -> None:
        r = c.post(f"{B}/subscriptions", json={"applicationId": f"load-{i}", "deviceId": receiver_url,
                                               "topic": "platform-api-presence", "subjectFilter": "^/never$"})
        if checked(load, r):
            load.ack("subscriptions", r.json()["subscriptionId"])

    return [user, message("a"), message("b"), subscription,
            *(calls(ext, 1000 * n) for n, ext in enumerate(EXTENSIONS))]


def flap(receiver: Receiver, stop: threading.Event) -> None:
    while not stop.wait(0.02):
        receiver.status = 503 if receiver.status == 200 else 200


def delivered_content(receiver: Receiver, subscription_id: str, key: str) -> set[str]:
    return {p["content"].get(key) for p in receiver.publications()
            if p["subscription"]["subscriptionId"] == subscription_id}


def test_acknowledged_writes_and_accepted_publications_survive_sigkill(crashable: ServerProcess) -> None:
    server = crashable
    with Receiver() as receiver:
        server.start()
        with httpx.Client(base_url=server.url, timeout=10) as c:
            admin = auth(token(c, "admin@acme.example"))
            conversation = c.post(f"{B}/conversations", headers=admin, json={"stream": True, "name": "Load"})
            assert conversation.status_code == 201, conversation.text
            conversation_id = conversation.json()["conversationId"]
            subscriptions = {}
            for topic, subject in (("platform-api-conversations", "/messages/"), ("platform-api-admin", "/users/")):
                created = c.post(f"{B}/subscriptions", headers=admin, json={
                    "applicationId": "crash-safety", "deviceId": receiver.url, "topic": topic,
                    "methodFilter": "POST", "subjectFilter": subject})
                assert created.status_code == 201, created.text
                subscriptions[topic] = created.json()["subscriptionId"]

        load = Load()
        threads = [threading.Thread(target=worker, args=(load, server.url, admin, step), daemon=True)
                   for step in steps(load, conversation_id, receiver.url)]
        # The receiver fails about half the time during the load, so that at the kill some publications are
        # delivered, some are waiting for a retry and some were never tried.
        threads.append(threading.Thread(target=flap, args=(receiver, load.stop), daemon=True))
        for thread in threads:
            thread.start()
        deadline = time.monotonic() + 60
        while any(n < BEFORE_KILL[k] for k, n in load.counts().items()):
            assert time.monotonic() < deadline, f"the load did not get going: {load.counts()}\n{server.output()}"
            assert all(t.is_alive() for t in threads), f"a worker stopped early: {load.server_errors}"
            time.sleep(0.01)
        server.kill()  # mid-load: every worker has a request in flight or about to be
        load.stop.set()
        for thread in threads:
            thread.join(15)
        receiver.status = 200
        assert load.server_errors == []
        acked = {kind: list(values) for kind, values in load.acked.items()}

        server.start()
        with httpx.Client(base_url=server.url, headers=admin, timeout=10) as c:  # the old token: the key persisted
            for user_id in acked["users"]:
                r = c.get(f"{B}/accounts/{ACME}/users/{user_id}")
                assert r.status_code == 200, f"acknowledged user {user_id}: {r.status_code} {r.text}"
            for message_id in acked["messages"]:
                r = c.get(f"{B}/conversations/{conversation_id}/messages/{message_id}")
                assert r.status_code == 200, f"acknowledged message {message_id}: {r.status_code} {r.text}"
            for subscription_id in acked["subscriptions"]:
                r = c.get(f"{B}/subscriptions/{subscription_id}")
                assert r.status_code == 200, f"acknowledged subscription {subscription_id}: {r.text}"
            for call_id in acked["calls"]:
                r = c.get(f"{B}/calls/{call_id}/records")
                assert r.status_code == 200, f"records of hung-up call {call_id}: {r.status_code} {r.text}"
                records = r.json()["_embedded"]["items"]
                assert records and all(record.get("endTime") for record in records), records
                assert any(record["completed"] and record["to"] in EXTENSIONS for record in records), records

            # Every publication of an acknowledged write reaches the receiver, even those still in the outbox
            # when the process died; nothing in the outbox stays undelivered.
            deadline = time.monotonic() + 30
            wanted = {"messages": (subscriptions["platform-api-conversations"], "messageId"),
                      "users": (subscriptions["platform-api-admin"], "userId")}
            while True:
                missing = {kind: set(acked[kind]) - delivered_content(receiver, sub, key)
                           for kind, (sub, key) in wanted.items()}
                pending = c.get("/_callyard/deliveries", params={"status": "pending"}).json()["count"]
                if not any(missing.values()) and pending == 0:
                    break
                assert time.monotonic() < deadline, f"undelivered after the restart: {missing}, {pending} pending"
                time.sleep(0.1)
            log = c.get("/_callyard/deliveries").json()["_embedded"]["items"]
            assert {d["status"] for d in log} == {"delivered"}, {d["deliveryId"]: d["status"] for d in log}
            assert {d["deliveryId"] for d in log} <= {r["headers"]["webhook-id"] for r in receiver.accepted()}

        # A publication delivered more than once carries the same webhook-id and the same body each time, and
        # one publication of one subscription has one webhook-id.
        bodies: dict[str, bytes] = {}
        ids_of: dict[tuple[str, str], set[str]] = defaultdict(set)
        for request in receiver.requests:
            webhook_id = request["headers"]["webhook-id"]
            assert bodies.setdefault(webhook_id, request["body"]) == request["body"]
            publication = json.loads(request["body"])
            ids_of[(publication["subscription"]["subscriptionId"], publication["publicationId"])].add(webhook_id)
        assert all(len(ids) == 1 for ids in ids_of.values()), ids_of
