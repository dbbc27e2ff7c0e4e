"""Subscriptions and how a publication matches them.

A subscription is a principal's standing request for the publications of one topic, narrowed by
``subjectFilter`` (a regular expression search, so a plain prefix works too), ``methodFilter`` and
``publicationFilter`` (RFC 9535 JSONPath evaluated against ``{"publications": [publication]}``, matching when it
selects anything). Both are compiled once per subscription, with RE2 and size limits (``filters.py``).
Delivery goes to a webhook (``deviceId``) or to a live connection of the same principal.

The core keeps the subscriptions and the matching rule; it holds no wire shape and knows no topic: the
publishing family registers its topics (``register_topics``). Turning core events into
publications is the publishing family's in-transaction projection (``api/cloudlink/publications.py``): it
asks ``live_subscriptions`` and ``matches`` here, writes webhook deliveries to the durable outbox
(``events/outbox.py``) in the same transaction, and hands websocket envelopes to the live transports after
the commit. Retention: expired subscriptions go a day after they expired, with the outbox's finished
deliveries, in one sweep on the twin's clock.
"""
from __future__ import annotations

import base64
import logging
import secrets
from datetime import datetime, timezone
from typing import Any, Awaitable, Callable
from urllib.parse import urlsplit

from callyard.core.clock import iso
from callyard.core.directory.access import Access
from callyard.core.errors import CoreError, Forbidden, Invalid
from callyard.core.notifications.filters import compile_publication, compile_subject
from callyard.core.notifications.owned import OwnedExpiring
from callyard.core.principal import Principal
from callyard.core.quotas import check_quota
from callyard.core.runtime import Runtime
from callyard.core.notifications.connections import Connections
from callyard.events.event import Event
from callyard.events.outbox import Outbox

TRANSPORTS = ("webhook", "websocket")
METHODS = ("GET", "PUT", "POST", "PATCH", "DELETE")
FIELDS = {"applicationId", "deviceId", "transport", "topic", "subjectFilter", "methodFilter",
          "publicationFilter", "expiryDateTime", "connectionId"}

# Retention: finished deliveries and subscriptions expired this long ago are purged by a sweep on the twin's
# clock, so a twin under hours of load does not keep every delivery it ever made.
RETENTION_SECONDS = 24 * 3600
SWEEP_SECONDS = 3600
PURGE_BATCH = 5000

log = logging.getLogger("callyard.core.notifications")
# Whether a principal may read what an event is about: the owning package's REST read rule, registered here.
Reader = Callable[[Principal, Event], bool]
_BROKEN = object()   # a stored filter that no longer compiles: the subscription matches nothing


class Notifications(OwnedExpiring):
    kind, id_field, not_found = "subscription", "subscriptionId", "SubscriptionNotFound"

    def __init__(self, runtime: Runtime, access: Access, outbox: Outbox, connections: Connections) -> None:
        self.rt = runtime
        self.access = access
        self.outbox = outbox
        self.connections = connections
        self.topics: tuple[str, ...] = ()
        self._compiled: dict[str, tuple[Any, Any]] = {}
        self._readers: dict[str, Reader] = {}
        self.quota = 0   # live subscriptions per account (Core.set_quotas)
        # Why a webhook URL may not be a target (the deployment's policy, set by the composition root), or None.
        self.target_refusal: Callable[[str], Awaitable[str | None]] | None = None

    def register_topics(self, topics: tuple[str, ...]) -> None:
        """The topics a publishing family offers (its projection decides which events go on which topic); a
        subscription names one of them."""
        self.topics = tuple(dict.fromkeys((*self.topics, *topics)))

    def register_reader(self, event_kind: str, reader: Reader) -> None:
        """``reader`` decides who may read the subject of events ``<event_kind>.*`` — the very rule the owning
        package applies to its REST reads, so a subscription never delivers what its owner could not GET.
        Events of a kind with no reader are readable by every principal of their account (the directory and
        presence: any user of an account reads them)."""
        self._readers[event_kind] = reader

    def subscriber(self, sub: dict[str, Any]) -> Principal | None:
        """The subscription's owner as a principal, as of now: a user with their current role (None once the
        user is gone); another principal (an application, an anonymous or guest principal) with the kind and
        role its token had when it subscribed."""
        principal_id, account_id = sub["principalId"], sub["accountId"]
        user = self.rt.state.get("user", principal_id)
        if user is not None and user["accountId"] == account_id:
            if not user.get("active", True):
                return None
            return Principal(principal_id=principal_id, account_id=account_id, role=str(user.get("role", "USER")),
                             user_id=principal_id, kind="user")
        kind = str(sub.get("principalType") or "anonymous")
        if kind == "user":
            return None  # the user was deleted
        return Principal(principal_id=principal_id, account_id=account_id,
                         role=str(sub.get("principalRole") or "USER"), kind=kind, client_id=sub.get("applicationId"))

    def may_receive(self, sub: dict[str, Any], event: Event) -> bool:
        """Whether the subscription's owner may read ``event``'s subject under the REST read rule."""
        if event.account_id != sub["accountId"]:
            return False
        actor = self.subscriber(sub)
        if actor is None:
            return False
        reader = self._readers.get(event.type.split(".", 1)[0])
        return True if reader is None else reader(actor, event)

    # ------------------------------------------------------------------ validation
    def _compile(self, sub: dict[str, Any]) -> tuple[Any, Any]:
        """The subscription's compiled filters, built once per subscription (and again only when a filter
        changes), never per publication."""
        key = sub["subscriptionId"]
        cached = self._compiled.get(key)
        marker = (sub.get("subjectFilter"), sub.get("publicationFilter"))
        if cached is None or cached[0] != marker:
            try:
                compiled = self._filters(sub)
            except CoreError:
                compiled = (_BROKEN, _BROKEN)
            cached = (marker, compiled)
            self._compiled[key] = cached
        return cached[1]

    @staticmethod
    def _filters(fields: dict[str, Any]) -> tuple[Any, Any]:
        subject = compile_subject(fields["subjectFilter"]) if fields.get("subjectFilter") else None
        path = compile_publication(fields["publicationFilter"]) if fields.get("publicationFilter") else None
        return subject, path

    def _validate(self, fields: dict[str, Any], creating: bool, current: dict[str, Any] | None = None,
                  owner: tuple[str, str] | None = None) -> dict[str, Any]:
        unknown = set(fields) - FIELDS
        if unknown:
            raise Invalid("ValidationError", f"data should NOT have additional properties: {sorted(unknown)}")
        for key, value in fields.items():
            if key != "expiryDateTime" and value is not None and not isinstance(value, str):
                raise Invalid("ValidationError", f"{key} should be string")
        merged = {**(current or {}), **fields}
        if creating:
            for key in ("topic",):
                if not merged.get(key):
                    raise Invalid("ValidationError", f"data should have required property '{key}'")
        if merged.get("topic") not in self.topics:
            raise Invalid("InvalidTopic", f"topic must be one of {', '.join(self.topics)}")
        transport = merged.setdefault("transport", "webhook")
        if transport not in TRANSPORTS:
            raise Invalid("ValidationError", f"transport must be one of {', '.join(TRANSPORTS)}")
        if transport == "webhook":
            url = merged.get("deviceId") or ""
            parts = urlsplit(url)
            if parts.scheme not in ("http", "https") or not parts.hostname:
                raise Invalid("InvalidDeviceId", "deviceId must be the webhook's http(s) URL for transport webhook")
            if parts.username is not None or parts.password is not None:
                raise Invalid("InvalidDeviceId", "deviceId must not carry credentials (user:password@); receivers "
                                                 "verify the webhook-signature instead")
            if not merged.get("applicationId"):
                raise Invalid("ValidationError", "applicationId is required for webhooks")
        elif not merged.get("connectionId") or owner is None \
                or self.connections.owned(merged["connectionId"], *owner) is None:
            raise Invalid("InvalidConnectionId", "a websocket subscription names a live connectionId of the same "
                                                 "principal (POST /connections {\"transport\": \"websocket\"})")
        self._filters(merged)  # InvalidSubjectFilter / InvalidPublicationFilter, before anything is stored
        if merged.get("methodFilter") and merged["methodFilter"].upper() not in METHODS:
            raise Invalid("ValidationError", f"methodFilter must be one of {', '.join(METHODS)}")
        if "expiryDateTime" in fields or creating:
            merged["expiryDateTime"] = self._expiry(fields.get("expiryDateTime"))
        return merged

    # ------------------------------------------------------------------ subscriptions
    async def create(self, actor: Principal, fields: dict[str, Any]) -> dict[str, Any]:
        if self.rt.state.get("account", actor.account_id) is None:
            raise Forbidden("InsufficientPermissions", "subscriptions belong to an account")
        sub = self._validate(fields, creating=True, owner=(actor.account_id, actor.principal_id))
        await self._check_target(sub)
        now = self.rt.now_iso()
        sub.update(subscriptionId=self.rt.ids.hex32(), accountId=actor.account_id, principalId=actor.principal_id,
                   principalType=actor.kind, principalRole=actor.role,
                   createdOn=now, modifiedOn=now, active=True, signingSecret=_secret())
        if sub.get("methodFilter"):
            sub["methodFilter"] = sub["methodFilter"].upper()
        async with self.rt.write() as uow:
            check_quota(len(self.live_subscriptions(actor.account_id, now)), self.quota, "live subscriptions")
            uow.put("subscription", sub["subscriptionId"], sub)
        return sub

    async def update(self, actor: Principal, subscription_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        if isinstance(fields.get("deviceId"), str):
            await self._check_target({"transport": "webhook", "deviceId": fields["deviceId"]})
        async with self.rt.write() as uow:
            current = self.get(actor, subscription_id)
            sub = self._validate(fields, creating=False, current=current,
                                 owner=(current["accountId"], current["principalId"]))
            if sub.get("methodFilter"):
                sub["methodFilter"] = sub["methodFilter"].upper()
            sub["modifiedOn"] = self.rt.now_iso()
            return uow.put("subscription", subscription_id, sub)

    async def _check_target(self, sub: dict[str, Any]) -> None:
        if sub.get("transport") != "webhook" or self.target_refusal is None:
            return
        refusal = await self.target_refusal(str(sub.get("deviceId") or ""))
        if refusal is not None:
            raise Invalid("InvalidDeviceId", f"deviceId is not an allowed webhook target: {refusal}")

    async def delete(self, actor: Principal, subscription_id: str) -> dict[str, Any]:
        async with self.rt.write() as uow:
            sub = self.get(actor, subscription_id)
            uow.delete("subscription", subscription_id)
            self._compiled.pop(subscription_id, None)
            return sub

    async def disable(self, subscription_id: str, reason: str) -> None:
        """The receiver answered 410 Gone: the subscription stops."""
        async with self.rt.write() as uow:
            if self.rt.state.get("subscription", subscription_id) is not None:
                uow.update("subscription", subscription_id, active=False, disabledReason=reason,
                           modifiedOn=self.rt.now_iso())

    # ------------------------------------------------------------------ matching (inside the commit)
    def matches(self, sub: dict[str, Any], publication: dict[str, Any]) -> bool:
        if sub["topic"] != publication["topic"]:
            return False
        if sub.get("methodFilter") and sub["methodFilter"] != publication["method"]:
            return False
        subject_re, path = self._compile(sub)
        if subject_re is _BROKEN:
            return False
        if subject_re is not None and not subject_re.search(publication["subject"]):
            return False
        if path is not None and not path.find({"publications": [publication]}):
            return False
        return True

    def live_subscriptions(self, account_id: str, now: str) -> list[dict[str, Any]]:
        """The account's active, unexpired subscriptions (a publishing projection matches against these)."""
        return [s for s in self.rt.state.all("subscription") if s["accountId"] == account_id
                and s.get("active", True) and s["expiryDateTime"] > now]

    async def disable_unmatchable(self) -> list[str]:
        """Disable the active subscriptions whose stored filters no longer compile (stored before the filters
        ran on RE2 with size limits, or imported): each gets ``disabledReason`` and stops matching, instead of
        failing every publication or stalling delivery. Run at start-up and after a reset or an import."""
        broken: list[tuple[str, str]] = []
        for sub in self.rt.state.all("subscription"):
            if not sub.get("active", True):
                continue
            try:
                self._filters(sub)
            except CoreError as exc:
                broken.append((sub["subscriptionId"], f"{exc.name}: {exc.message}"))
        if broken:
            async with self.rt.write() as uow:
                for subscription_id, reason in broken:
                    uow.update("subscription", subscription_id, active=False, disabledReason=reason,
                               modifiedOn=self.rt.now_iso())
                    self._compiled.pop(subscription_id, None)
            log.warning("disabled %d subscription(s) whose filters do not compile: %s", len(broken),
                        ", ".join(sub_id for sub_id, _ in broken))
        return [subscription_id for subscription_id, _ in broken]

    # ------------------------------------------------------------------ retention
    def keep_tidy(self, scheduler: Any) -> None:
        """Sweep every ``SWEEP_SECONDS`` of the twin's clock (call again after the scheduler was cleared)."""
        async def sweep() -> None:
            try:
                await self.purge()
            finally:
                scheduler.after(SWEEP_SECONDS, sweep, "notifications retention")
        scheduler.after(SWEEP_SECONDS, sweep, "notifications retention")

    async def purge(self) -> int:
        """Delete the deliveries finished, and the subscriptions expired, more than ``RETENTION_SECONDS``
        ago; pending deliveries are never touched. Returns how many documents went."""
        cutoff = iso(datetime.fromtimestamp(self.rt.clock.timestamp() - RETENTION_SECONDS, timezone.utc))
        deliveries, pending = self.outbox.finished_before(cutoff)
        gone: list[tuple[str, str]] = [("delivery", delivery_id) for delivery_id in deliveries]
        gone += [("subscription", s["subscriptionId"]) for s in self.rt.state.all("subscription")
                 if s["expiryDateTime"] < cutoff and s["subscriptionId"] not in pending]
        for start in range(0, len(gone), PURGE_BATCH):
            async with self.rt.write() as uow:
                for kind, doc_id in gone[start:start + PURGE_BATCH]:
                    if self.rt.state.get(kind, doc_id) is not None:
                        uow.delete(kind, doc_id)
        return len(gone)


def _secret() -> str:
    """A Standard Webhooks signing secret (``whsec_`` + base64), always from the OS randomness."""
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()
