"""The durable outbox: family-neutral webhook deliveries.

A family that publishes to webhooks (CloudLink subscriptions today; UC webhook registrations and CX webhooks
next) calls ``enqueue`` from its in-transaction projection: the ``delivery`` document is written in the same
transaction as the change it reports, so nothing accepted is ever lost. Once the transaction is durable the
outbox hands the new delivery ids to its sender (``delivery.webhooks.WebhookSender``, attached by the
composition root), which posts, signs, retries and records every attempt on the document.

A delivery names the *registration* that asked for it (``subscriptionId``: the document whose signing secret
and ``active`` flag the sender checks), its target ``url``, an ``orderKey`` (deliveries of one registration
with the same key are sent one after another) and the ``publication``: the body exactly as the family's wire
wants it. The outbox never looks inside the publication.

Also here: the delivery log (list, get), replay (same ``deliveryId``, so receivers de-duplicate) and the
retention rules: finished deliveries are purged a day after they finished, and an account keeps at most its
newest ``FINISHED_KEPT`` finished ones (under sustained traffic a day's deliveries would not fit in memory:
about 7 KB each, 12 GB an hour at 500 a second); pending ones are never touched.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Any, Callable

from callyard.core.errors import NotFound
from callyard.core.principal import Principal
from callyard.core.runtime import Runtime
from callyard.core.state import UnitOfWork

KIND = "delivery"
STATUSES = ("pending", "delivered", "failed", "cancelled", "dropped")
FINISHED = ("delivered", "failed", "cancelled", "dropped")

FINISHED_KEPT = 50_000   # finished deliveries an account keeps (the newest); older ones go before their day

Sender = Callable[[list[str]], None]


class Outbox:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        self._sender: Sender | None = None
        # Per account, its finished deliveries' ids, the longest finished first; built from the documents when
        # first needed, and again after the state is replaced (reset, snapshot import)
        self._finished: dict[str, OrderedDict[str, None]] | None = None

    def attach(self, sender: Sender) -> None:
        """The one sender that posts deliveries (the composition root attaches the webhook sender)."""
        self._sender = sender

    # ------------------------------------------------------------------ writing (inside a transaction)
    def enqueue(self, uow: UnitOfWork, *, registration_id: str, account_id: str, url: str, order_key: str,
                publication: dict[str, Any], application_id: str | None = None, now: str | None = None,
                registration_kind: str = "subscription") -> str:
        """Write one pending delivery in the caller's transaction; the sender hears of it after the commit.
        ``registration_kind``: the document kind of the registration (CloudLink ``subscription``, UC
        ``cti_webhook``, …); it holds ``signingSecret`` and ``active``."""
        now = now or self.rt.now_iso()
        delivery_id = self.rt.ids.uuid()
        uow.put(KIND, delivery_id, {
            "deliveryId": delivery_id, "subscriptionId": registration_id, "registrationKind": registration_kind,
            "accountId": account_id,
            "applicationId": application_id, "url": url, "orderKey": order_key, "publication": publication,
            "status": "pending", "attempts": 0, "createdOn": now, "nextAttemptOn": now, "history": []})
        self._notify_after_commit(uow, delivery_id)
        return str(delivery_id)

    def _notify_after_commit(self, uow: UnitOfWork, delivery_id: str) -> None:
        # One callback per transaction, however many deliveries it queued.
        queued: list[str] | None = uow.scratch.get("outbox.queued")
        if queued is None:
            queued = uow.scratch["outbox.queued"] = []
            uow.after_commit.append(lambda: self._hand_over(queued))
        queued.append(delivery_id)

    def _hand_over(self, delivery_ids: list[str]) -> None:
        if self._sender is not None and delivery_ids:
            self._sender(list(delivery_ids))

    def pending(self) -> list[str]:
        """Every pending delivery, oldest first (what the sender resumes after a restart)."""
        docs = sorted((d for d in self.rt.state.all(KIND) if d["status"] == "pending"),
                      key=lambda d: (d["createdOn"], d["deliveryId"]))
        return [d["deliveryId"] for d in docs]

    # ------------------------------------------------------------------ the delivery log
    def deliveries(self, actor: Principal, registration_id: str | None = None,
                   status: str | None = None) -> list[dict[str, Any]]:
        found = [d for d in self.rt.state.all(KIND)
                 if (actor.account_id == d["accountId"] or actor.at_least("GLOBAL_ADMIN"))
                 and (registration_id is None or d["subscriptionId"] == registration_id)
                 and (status is None or d["status"] == status)]
        return sorted(found, key=lambda d: (d["createdOn"], d["deliveryId"]))

    def delivery(self, actor: Principal, delivery_id: str) -> dict[str, Any]:
        doc = self.rt.state.get(KIND, delivery_id)
        if doc is None or not (actor.account_id == doc["accountId"] or actor.at_least("GLOBAL_ADMIN")):
            raise NotFound("DeliveryNotFound", f"delivery {delivery_id} was not found")
        return dict(doc)

    async def replay(self, actor: Principal, delivery_id: str) -> dict[str, Any]:
        """Send a delivery again (same webhook-id: receivers de-duplicate on it)."""
        async with self.rt.write() as uow:
            self.delivery(actor, delivery_id)
            now = self.rt.now_iso()
            doc: dict[str, Any] = uow.update(KIND, delivery_id, status="pending", nextAttemptOn=now, attempts=0,
                                             replayedOn=now)
            self._notify_after_commit(uow, delivery_id)
            return doc

    def registration(self, delivery: dict[str, Any]) -> dict[str, Any] | None:
        """The registration a delivery was queued for (None when it is gone)."""
        return self.rt.state.get(delivery.get("registrationKind") or "subscription", delivery["subscriptionId"])

    async def disable_registration(self, delivery: dict[str, Any], reason: str) -> None:
        """The receiver answered 410 Gone: the registration stops (any kind that has ``active``)."""
        kind = delivery.get("registrationKind") or "subscription"
        async with self.rt.write() as uow:
            if self.rt.state.get(kind, delivery["subscriptionId"]) is not None:
                uow.update(kind, delivery["subscriptionId"], active=False, disabledReason=reason,
                           modifiedOn=self.rt.now_iso())

    # ------------------------------------------------------------------ retention
    def forget_finished(self) -> None:
        """The documents were replaced wholesale: the finished deliveries are looked up again when next needed."""
        self._finished = None

    def finished(self, uow: UnitOfWork, delivery_ids: list[str]) -> None:
        """These deliveries have just finished in ``uow`` (oldest first): each account keeps its newest
        ``FINISHED_KEPT`` finished deliveries, and the ones beyond that are deleted in the same unit of work."""
        if self._finished is None:
            self._finished = self._finished_by_account()
        by_account = self._finished
        changed: list[tuple[OrderedDict[str, None], str, bool]] = []   # (log, id, added) to undo on rollback
        for delivery_id in delivery_ids:
            doc = self.rt.state.get(KIND, delivery_id)
            if doc is None or doc["status"] not in FINISHED:
                continue
            kept = by_account.setdefault(doc["accountId"], OrderedDict())
            kept.pop(delivery_id, None)   # finished again after a replay: it is among the newest now
            kept[delivery_id] = None
            changed.append((kept, delivery_id, True))
            while len(kept) > FINISHED_KEPT:
                oldest, _ = kept.popitem(last=False)
                changed.append((kept, oldest, False))
                old = self.rt.state.get(KIND, oldest)
                if old is not None and old["status"] in FINISHED:
                    uow.delete(KIND, oldest)
        if changed:
            uow.on_rollback.append(lambda: self._undo_finished(changed))

    def _undo_finished(self, changed: list[tuple[OrderedDict[str, None], str, bool]]) -> None:
        for kept, delivery_id, added in reversed(changed):
            if added:
                kept.pop(delivery_id, None)
            else:
                kept[delivery_id] = None
                kept.move_to_end(delivery_id, last=False)

    def _finished_by_account(self) -> dict[str, OrderedDict[str, None]]:
        done = sorted((finished_on(d), d["deliveryId"], d["accountId"]) for d in self.rt.state.all(KIND)
                      if d["status"] in FINISHED)
        by_account: dict[str, OrderedDict[str, None]] = {}
        for _, delivery_id, account_id in done:
            by_account.setdefault(account_id, OrderedDict())[delivery_id] = None
        return by_account

    def finished_before(self, cutoff: str) -> tuple[list[str], set[str]]:
        """(deliveries finished before ``cutoff``, registrations that still have a pending delivery), in one
        pass over the log: a registration with pending deliveries must outlive them."""
        pending: set[str] = set()
        gone: list[str] = []
        for d in self.rt.state.all(KIND):
            if d["status"] == "pending":
                pending.add(d["subscriptionId"])
            elif d["status"] in FINISHED and finished_on(d) < cutoff:
                gone.append(d["deliveryId"])
        return gone, pending


def finished_on(delivery: dict[str, Any]) -> str:
    history = delivery.get("history") or []
    return str(delivery.get("deliveredOn") or (history[-1]["at"] if history else delivery["createdOn"]))
