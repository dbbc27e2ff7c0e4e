"""Webhook delivery from the durable outbox (events/outbox.py: ``delivery`` documents written with the change
itself); the composition root attaches ``kick`` to the outbox.

* At least once: a delivery stays ``pending`` until the receiver answers 2xx; after a restart every
  pending delivery is sent again. Its ``deliveryId`` is the ``webhook-id`` header, stable across retries
  and replays, so receivers de-duplicate on it.
* Signed per Standard Webhooks (the ``standardwebhooks`` library): ``webhook-id``, ``webhook-timestamp``,
  ``webhook-signature`` with the subscription's ``signingSecret``; the applicationId rides in
  ``x-mitel-application-id``.
* Retries on timeouts, connection errors, 429 and 5xx, with exponential backoff and full jitter on the
  twin's scheduler — so with ``--clock manual`` advancing the clock runs the retry schedule at once. 410
  disables the subscription; other 4xx fail the delivery.
* Fault injection (``/_callyard/faults``) may drop an attempt (the delivery ends ``dropped``, replayable) or
  send it twice with the same ``webhook-id``.
* Ordering: deliveries of one subscription with the same ``orderKey`` (a call's subject) are sent one after
  another, in commit order; different calls and subscribers proceed independently.
* Recording: the outcome of an attempt is written to the delivery document after the answer. A finished
  delivery (delivered, failed, cancelled, dropped) does not hold up the next one of its key while that write is
  made durable: outcomes are queued and written together, one unit of work for all those answered meanwhile
  (``_write_outcomes``), so a busy sender makes one store transaction per batch, not per delivery, and waits
  behind the request path's commits only off the key's path. Until its outcome is durable a delivery is still
  ``pending`` in the store: a crash in between sends it again (at least once, same ``webhook-id``), as a crash
  between the answer and the write always could. A retry's outcome (the next attempt's time) is written before
  the key goes on, as the head must wait for it. A replay accepted while an attempt is out, or before its
  outcome is written, stands: that outcome only joins the history and the delivery is sent again.
* Targets (targets.py): the target policy is checked again before each attempt and on every address the
  resolver returns; redirects are never followed (a 3xx fails the delivery); at most ``MAX_RESPONSE_BYTES`` of
  the answer are read; credentials in the URL are never sent; a connection that fails for any reason is
  logged as ``connection failed`` only (the delivery log is not a port scanner).
"""
from __future__ import annotations

import asyncio
import json
import logging
import random
from datetime import datetime, timezone
from typing import Any, Callable

import aiohttp
from standardwebhooks.webhooks import Webhook
from yarl import URL

from callyard.core.clock import iso
from callyard.core.notifications.service import Notifications
from callyard.core.runtime import Runtime
from callyard.core.scheduler import Scheduler
from callyard.core.state import UnitOfWork
from callyard.delivery.targets import PolicyResolver, TargetPolicy

log = logging.getLogger("callyard.delivery.webhooks")

DEFAULT_SCHEDULE = (1, 2, 4, 8, 16, 32, 64, 120, 300, 600)  # seconds before attempt 2, 3, …
TIMEOUT = 5.0
MAX_RESPONSE_BYTES = 64 * 1024   # of a receiver's answer, read and discarded
CONNECTION_FAILED = "connection failed"


class WebhookSender:
    def __init__(self, runtime: Runtime, notifications: Notifications, scheduler: Scheduler,
                 schedule: tuple[float, ...] = DEFAULT_SCHEDULE, seed: int | None = None,
                 fault_of: Callable[[str, str | None], str | None] | None = None,
                 policy: TargetPolicy | None = None) -> None:
        self.rt = runtime
        self.notifications = notifications
        self.scheduler = scheduler
        self.schedule = schedule
        self.rng = random.Random(seed)
        self.fault_of = fault_of   # (subscriptionId, accountId) → "drop" | "duplicate" | None
        self._busy: set[tuple[str, str]] = set()      # (subscription, orderKey) with a request in flight
        self._queues: dict[tuple[str, str], list[str]] = {}  # pending delivery ids per key, commit order
        self._tasks: set[asyncio.Task[None]] = set()
        # Finished deliveries whose outcome is not written yet (deliveryId, fields), in answer order; one task
        # writes them, as many as were answered meanwhile in each unit of work.
        self._outcomes: list[tuple[str, dict[str, Any]]] = []
        self._writer: asyncio.Task[None] | None = None
        self._signers: dict[str, Webhook] = {}   # signingSecret → its decoded key (decoded once, not per attempt)
        self._client: aiohttp.ClientSession | None = None
        self.policy = policy

    async def start(self) -> None:
        # aiohttp rather than httpx here: at hundreds of deliveries a second the client's own CPU per request
        # is what limits throughput, and aiohttp's is a fraction of httpx's (bench/run.py, Notifications).
        resolver = PolicyResolver(self.policy) if self.policy is not None else None
        self._client = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=TIMEOUT),
                                             connector=aiohttp.TCPConnector(limit=100, resolver=resolver))
        self.kick(self.notifications.outbox.pending())

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        # The outcomes already answered are written before the sender goes (else they would be sent again).
        if self._writer is not None:
            await asyncio.gather(self._writer, return_exceptions=True)
        if self._outcomes:
            await self._write_outcomes()
        if self._client is not None:
            await self._client.close()
            self._client = None

    def kick(self, delivery_ids: list[str]) -> None:
        """Start whatever is sendable now among these deliveries (and their order queues)."""
        keys: list[tuple[str, str]] = []
        for delivery_id in delivery_ids:
            doc = self.rt.state.get("delivery", delivery_id)
            if doc is not None:
                key = (doc["subscriptionId"], doc["orderKey"])
                queue = self._queues.setdefault(key, [])
                if delivery_id not in queue:
                    queue.append(delivery_id)
                if key not in keys:
                    keys.append(key)
        for key in keys:
            self._spawn(key)

    def _spawn(self, key: tuple[str, str]) -> None:
        if key in self._busy or self._client is None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return
        self._busy.add(key)
        task = loop.create_task(self._drain(key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _next(self, key: tuple[str, str]) -> dict[str, Any] | None:
        queue = self._queues.get(key, [])
        while queue:
            doc = self.rt.state.get("delivery", queue[0])
            if doc is not None and doc["status"] == "pending":
                return doc
            queue.pop(0)
        self._queues.pop(key, None)
        return None

    async def _drain(self, key: tuple[str, str]) -> None:
        """Send the queue of one (subscription, orderKey) in order; park it when the head must wait."""
        try:
            while True:
                doc = self._next(key)
                if doc is None:
                    return
                if doc["nextAttemptOn"] > self.rt.now_iso():
                    due = datetime.fromisoformat(doc["nextAttemptOn"].replace("Z", "+00:00"))
                    delay = max(0.0, (due - self.rt.clock.now()).total_seconds())
                    self.scheduler.after(delay, self._resume(key), f"webhook retry {doc['deliveryId']}")
                    return
                if await self._attempt(doc):
                    # Finished: its outcome is queued for writing, so the document may still say pending; the
                    # key goes on with the next delivery at once — unless the delivery was replayed while the
                    # attempt was out: then it stays at the head and goes again.
                    current = self.rt.state.get("delivery", doc["deliveryId"])
                    if current is not None and current.get("replayedOn") != doc.get("replayedOn"):
                        continue
                    queue = self._queues.get(key)
                    if queue and doc["deliveryId"] in queue:
                        queue.remove(doc["deliveryId"])
        finally:
            self._busy.discard(key)

    def _resume(self, key: tuple[str, str]) -> Any:
        async def fire() -> None:
            self._spawn(key)
        return fire

    def _signer(self, secret: str) -> Webhook:
        signer = self._signers.get(secret)
        if signer is None:
            if len(self._signers) >= 1024:
                self._signers.clear()
            signer = self._signers[secret] = Webhook(secret)
        return signer

    async def _attempt(self, doc: dict[str, Any]) -> bool:
        """One attempt at the delivery; True when it is finished (its outcome queued for writing), False when
        it waits for a retry (written before this returns)."""
        sub = self.notifications.outbox.registration(doc)
        if sub is None or not sub.get("active", True):
            self._finish(doc, "cancelled", None, "the subscription is gone or disabled")
            return True
        body = json.dumps(doc["publication"], separators=(",", ":"))
        # The one place that reads the wall clock, not the twin's: receivers check webhook-timestamp against
        # their own clock (Standard Webhooks allows 5 minutes), and the virtual clock may be days ahead.
        sent_at = datetime.now(timezone.utc)
        signature = self._signer(sub["signingSecret"]).sign(doc["deliveryId"], sent_at, body)
        headers = {"content-type": "application/json", "webhook-id": doc["deliveryId"],
                   "webhook-timestamp": str(int(sent_at.timestamp())), "webhook-signature": signature,
                   "x-mitel-application-id": doc.get("applicationId") or "",
                   "user-agent": "callyard-notifications"}
        fault = self.fault_of(doc["subscriptionId"], doc.get("accountId")) if self.fault_of else None
        if fault == "drop":
            self._finish(doc, "dropped", None, "dropped by an injected fault (replay it to send it)")
            return True
        if self.policy is not None:
            refusal = await self.policy.check_url(doc["url"])
            if refusal is not None:
                self._finish(doc, "failed", None, f"refused by the webhook target policy: {refusal}")
                return True
        status: int | None = None
        error = None
        assert self._client is not None
        url = URL(doc["url"]).with_user(None)   # credentials in the URL are never sent (no Basic auth)
        for _copy in range(2 if fault == "duplicate" else 1):
            try:
                async with self._client.post(url, data=body.encode(), headers=headers,
                                             allow_redirects=False) as response:
                    status = response.status
                    await response.content.read(MAX_RESPONSE_BYTES)
            except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as exc:
                log.debug("webhook %s: %s: %s", doc["deliveryId"], type(exc).__name__, exc)
                error = CONNECTION_FAILED
        if status is not None and 300 <= status < 400:
            self._finish(doc, "failed", status, f"the webhook answered {status}; redirects are not followed")
        elif status is not None and 200 <= status < 300:
            self._finish(doc, "delivered", status, None)
        elif status == 410:
            self._finish(doc, "failed", status, "410 Gone: the subscription was disabled")
            if (doc.get("registrationKind") or "subscription") == "subscription":
                await self.notifications.disable(doc["subscriptionId"], "the webhook answered 410 Gone")
            else:
                await self.notifications.outbox.disable_registration(doc, "the webhook answered 410 Gone")
        elif status is not None and status < 500 and status != 429:
            self._finish(doc, "failed", status, f"the webhook answered {status}")
        else:
            return await self._retry(doc, status, error or f"the webhook answered {status}")
        return True

    def _apply(self, uow: UnitOfWork, delivery_id: str, fields: dict[str, Any]) -> None:
        """One attempt's outcome on the delivery document, as it is now. A replay accepted since the attempt
        began (``_replayed`` is what the document said then) stands: the attempt joins the history, and the
        status and count stay the replay's, so the delivery is sent again."""
        current = self.rt.state.get("delivery", delivery_id)
        if current is None:
            return
        fields = dict(fields)
        attempt = {"at": fields.pop("_at"), "status": fields.pop("_status"), "error": fields.pop("_error")}
        history = (current.get("history") or [])[-19:] + [attempt]
        if current.get("replayedOn") != fields.pop("_replayed", current.get("replayedOn")):
            uow.put("delivery", delivery_id, {**current, "history": history})
            return
        # A shallow copy: the publication inside never changes after it was queued.
        uow.put("delivery", delivery_id, {**current, "attempts": current["attempts"] + 1, "history": history,
                                          **fields})

    async def _record(self, doc: dict[str, Any], **fields: Any) -> None:
        """Write one outcome now (a retry's: the key waits for it)."""
        async with self.rt.write() as uow:
            self._apply(uow, doc["deliveryId"], {"_at": self.rt.now_iso(), "_replayed": doc.get("replayedOn"),
                                                 **fields})

    def _queue_outcome(self, delivery_id: str, fields: dict[str, Any]) -> None:
        self._outcomes.append((delivery_id, {"_at": self.rt.now_iso(), **fields}))
        if self._writer is None or self._writer.done():
            try:
                loop = asyncio.get_running_loop()
            except RuntimeError:
                return
            self._writer = loop.create_task(self._write_outcomes())

    async def _write_outcomes(self) -> None:
        """Write the queued outcomes, all those answered meanwhile in one unit of work, until none is left. A
        write that fails leaves its deliveries pending: they go back to the head of their keys, to be sent
        again (same ``webhook-id``) before anything queued after them."""
        while self._outcomes:
            batch, self._outcomes = self._outcomes, []
            try:
                async with self.rt.write() as uow:
                    for delivery_id, fields in batch:
                        self._apply(uow, delivery_id, fields)
                    self.notifications.outbox.finished(uow, [delivery_id for delivery_id, _ in batch])
            except Exception:  # noqa: BLE001 - the store refused the batch; the deliveries stay pending
                log.exception("could not record the outcome of %d webhook deliveries; they will be sent again",
                              len(batch))
                self._requeue([delivery_id for delivery_id, _ in batch])

    def _requeue(self, delivery_ids: list[str]) -> None:
        keys: list[tuple[str, str]] = []
        for delivery_id in reversed(delivery_ids):
            doc = self.rt.state.get("delivery", delivery_id)
            if doc is None or doc["status"] != "pending":
                continue
            key = (doc["subscriptionId"], doc["orderKey"])
            queue = self._queues.setdefault(key, [])
            if delivery_id in queue:
                queue.remove(delivery_id)
            queue.insert(0, delivery_id)
            if key not in keys:
                keys.append(key)
        for key in keys:
            self._spawn(key)

    def _finish(self, doc: dict[str, Any], outcome: str, status: int | None, error: str | None) -> None:
        facts = {"deliveryId": doc["deliveryId"], "subscriptionId": doc["subscriptionId"], "url": doc["url"],
                 "status": status, "outcome": outcome, "attempt": doc["attempts"] + 1}
        if outcome == "delivered":
            log.info("webhook %s delivered to %s (%s, attempt %d, subscription %s)", doc["deliveryId"], doc["url"],
                     status, doc["attempts"] + 1, doc["subscriptionId"], extra=facts)
        else:
            log.info("webhook %s %s: %s (subscription %s)", doc["deliveryId"], outcome, error,
                     doc["subscriptionId"], extra=facts)
        fields: dict[str, Any] = {"status": outcome, "_status": status, "_error": error, "lastStatus": status,
                                  "lastError": error, "_replayed": doc.get("replayedOn")}
        if outcome == "delivered":
            fields["deliveredOn"] = self.rt.now_iso()
        self._queue_outcome(doc["deliveryId"], fields)

    async def _retry(self, doc: dict[str, Any], status: int | None, error: str) -> bool:
        attempts = doc["attempts"] + 1
        if attempts > len(self.schedule):
            self._finish(doc, "failed", status, f"gave up after {attempts} attempts: {error}")
            return True
        base = float(self.schedule[attempts - 1])
        delay = base / 2 + self.rng.uniform(0, base / 2)   # exponential, with jitter
        due = datetime.fromtimestamp(self.rt.clock.now().timestamp() + delay, timezone.utc)
        log.info("webhook %s to %s failed (%s), retry %d in %.0f s", doc["deliveryId"], doc["url"], error, attempts,
                 delay, extra={"deliveryId": doc["deliveryId"], "subscriptionId": doc["subscriptionId"],
                               "url": doc["url"], "status": status, "outcome": "retrying", "attempt": attempts})
        await self._record(doc, status="pending", nextAttemptOn=iso(due), _status=status, _error=error,
                           lastStatus=status, lastError=error)
        return False
