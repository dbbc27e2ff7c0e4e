"""CloudLink publications: how core events look on the platform's notification topics, and the projection
that publishes them.

``publication_of`` maps a core event to a publication ``{topic, method, subject, content, publisher}`` (or
None when no topic carries it). ``Publisher`` is an in-transaction projection (events/projections.py): for
each event of a committing transaction it builds the publication, matches it against the account's live
subscriptions (the core's rule, core/notifications), wraps it in CloudLink's notification envelope and
either writes a webhook delivery to the durable outbox in the same transaction or, for a websocket
subscription, hands the envelope to the live transports once the transaction is durable.
"""
from __future__ import annotations

import uuid
from datetime import datetime
from functools import lru_cache
from typing import Any, Callable

from callyard.api.cloudlink.edge import BASE_PATH
from callyard.api.cloudlink.wire import (ACCOUNT_FIELDS, CONTACT_FIELDS, MESSAGE_FIELDS, USER_FIELDS, account_fields,
                                         conversation_fields, group_fields, pick, presentity_fields)
from callyard.core.ids import Ids, uuid5
from callyard.core.notifications.service import Notifications
from callyard.core.state import UnitOfWork
from callyard.events.event import Event
from callyard.events.outbox import Outbox
from callyard.events.projections import PUBLISH, Projections

BASE = BASE_PATH
# The platform's notification topics (reference/cloudlink-apis.md §5), in the order its error names them.
TOPICS = ("platform-api-media", "platform-api-presence", "platform-api-conversations", "platform-api-admin")
LiveDispatch = Callable[[list[tuple[dict[str, Any], dict[str, Any]]]], None]
# The content of an admin publication: the resource's CloudLink fields (an account's publication also names
# its parent account).
_ADMIN_CONTENT = {
    "user": lambda doc: pick(doc, USER_FIELDS),
    "contact": lambda doc: pick(doc, CONTACT_FIELDS),
    "group": group_fields,
    "account": lambda doc: account_fields(doc, ACCOUNT_FIELDS | {"parentAccountId"}),
}
# What the real platform reports as the CSTA event behind a call state (extraPbxData.eventType).
_CSTA = {"ringing": "deliveredEvent", "connected": "establishedEvent", "held": "heldEvent",
         "completed": "connectionClearedEvent", "idle": "connectionClearedEvent"}


# The media service instance that publishes (the platform names its region's instance here), and the
# namespaces of the per-account site id and the per-event id (stable: the same event has the same id).
MEDIA_DEVICE_ID = "platform-api-mediaservice-callyard"
_SITES = uuid.UUID("4f1c6b0e-2d7a-5c1e-9a43-63616c6c7961")
_EVENTS = uuid.UUID("8e2b1d5c-7a3f-5b60-8c11-63616c6c7962")


@lru_cache(maxsize=4096)
def _site(account_id: str) -> str:
    return uuid5(_SITES, account_id)


def _millis(iso_time: str) -> int:
    return int(datetime.fromisoformat(iso_time.replace("Z", "+00:00")).timestamp() * 1000)


def _media(event: Event) -> dict[str, Any] | None:
    """A call-state publication, field for field as Mitel's published webhook payload
    (reference/cloudlink-webhook-example.json); the extras are ``extraPbxData.sequence`` (the call's event
    number, for ordering) and, when the leg has ended, its outcome and timing (``completed``, ``endTime``,
    ``ringTime``, ``billingTime``). ``callTrackingID`` is the twin's call id (docs/compatibility.md)."""
    leg = event.data
    if not leg or leg.get("endpointKind") not in ("extension", "group"):
        return None  # outside numbers and the voicemail system are not CloudLink endpoints
    endpoint, leg_id, account_id = leg["endpointId"], leg["legId"], leg["accountId"]
    pbx = {"alertingDevice": endpoint if leg["state"] == "ringing" else None, "calledDevice": leg["to"],
           "eventType": _CSTA.get(leg["state"], "unknownEvent"), "callTrackingID": leg["callId"],
           "sequence": leg["sequence"]}
    at = _millis(event.occurred_at)
    content: dict[str, Any] = {
        "from": leg["from"], "fromName": leg["fromName"] or "", "to": leg["to"], "toName": leg["toName"] or "",
        "state": leg["state"], "cause": leg["cause"], "direction": leg["direction"],
        "extraPbxData": {k: v for k, v in pbx.items() if v is not None},
        "createdOn": leg["createdOn"], "callId": f"endpoints/{endpoint}/calls/{leg_id}", "endpointId": endpoint,
        "siteId": _site(account_id), "accountId": account_id, "timestamp": at,
        # One id per event (the same for every subscriber and every retry), a plain UUID as the platform's.
        "eventId": uuid5(_EVENTS, f"{account_id}/{leg['callId']}/{leg_id}/{leg['sequence']}"),
        "mediaReceivedTimestamp": at, "_links": {"self": f"{BASE}/endpoints/{endpoint}/calls/{leg_id}"},
        "isCtiEvent": True}
    if leg.get("principalId"):
        content.update(principalId=leg["principalId"], callLegOwner=leg["principalId"])
    content.update(mediaEventProcessedTimestamp=at, eventType="CallStateNotification", deviceId=MEDIA_DEVICE_ID)
    if leg.get("principalId"):
        content["userId"] = leg["principalId"]
    if leg["state"] == "completed":
        # Extras of the ended leg only (the published example is a ringing event; what the platform adds at
        # the end is not public): its outcome and timing, as the REST call has them.
        content.update(completed=leg["completed"], endTime=leg.get("endTime"), ringTime=leg["ringTime"],
                       billingTime=leg["billingTime"])
    return {"topic": "platform-api-media", "method": "PUT", "subject": f"{BASE}/endpoints/{endpoint}/calls/{leg_id}",
            "content": content, "publisher": {"accountId": account_id, "principalId": leg.get("principalId")},
            "orderKey": leg["callId"]}


def _admin(event: Event) -> dict[str, Any]:
    verb = event.type.rsplit(".", 1)[1]
    method = {"created": "POST", "deleted": "DELETE"}.get(verb, "PUT")
    kind = event.type.split(".", 1)[0]
    content = _ADMIN_CONTENT[kind](event.data) if event.data else {}
    return {"topic": "platform-api-admin", "method": method, "subject": f"{BASE}{event.subject}",
            "content": content, "publisher": {"accountId": event.account_id}}


def _conversation_publisher(data: dict[str, Any]) -> str | None:
    who = data.get("deletedBy") or data.get("modifiedBy")
    return None if who == "system" else who


def publication_of(event: Event) -> dict[str, Any] | None:
    """A core event as a CloudLink publication, or None when no topic carries it."""
    kind = event.type.split(".", 1)[0]
    if event.type == "call.state":
        return _media(event)
    if event.type == "presence.updated":
        data = event.data or {}
        return {"topic": "platform-api-presence", "method": "PUT", "subject": event.subject,
                "content": presentity_fields(data),
                "publisher": {"accountId": event.account_id, "principalId": data.get("principalId")}}
    if kind in ("conversation", "message"):
        # Conversation subjects carry no version prefix: /conversations/{id}[/messages/{messageId}] (§4, §5)
        verb = event.type.rsplit(".", 1)[1]
        data = event.data or {}
        return {"topic": "platform-api-conversations",
                "method": {"created": "POST", "deleted": "DELETE"}.get(verb, "PUT"),
                "subject": event.subject,
                "content": conversation_fields(data) if kind == "conversation" else pick(data, MESSAGE_FIELDS),
                "publisher": {"accountId": event.account_id, "principalId": _conversation_publisher(data)}}
    if kind in ("user", "group", "account", "contact"):
        return _admin(event)
    return None


class Publisher:
    """The CloudLink publishing projection (registered by the composition root)."""

    def __init__(self, notifications: Notifications, outbox: Outbox, ids: Ids, now_iso: Callable[[], str],
                 live: LiveDispatch) -> None:
        self.notifications = notifications
        self.outbox = outbox
        self.ids = ids
        self.now_iso = now_iso
        self.live = live

    def register(self, projections: Projections) -> None:
        self.notifications.register_topics(TOPICS)
        projections.in_transaction("CloudLink publications (webhook outbox, live transports)", self.project,
                                   order=PUBLISH)

    def project(self, uow: UnitOfWork, events: list[Event]) -> None:
        subs_by_account: dict[str, list[dict[str, Any]]] = {}
        live: list[tuple[dict[str, Any], dict[str, Any]]] = []
        now = self.now_iso()
        for event in events:
            if event.account_id is None:
                continue
            subs = subs_by_account.get(event.account_id)
            if subs is None:
                subs = subs_by_account[event.account_id] = self.notifications.live_subscriptions(event.account_id,
                                                                                                  now)
            if not subs:
                continue  # nobody listens in this account: no publication to build
            publication = publication_of(event)
            if publication is None:
                continue
            order_key = publication.pop("orderKey", None) or publication["subject"]
            publication_id = self.ids.uuid()
            for sub in subs:
                if not self.notifications.matches(sub, publication) or not self.notifications.may_receive(sub, event):
                    continue
                envelope = {"publicationId": publication_id, **publication,
                            "subscription": {"subscriptionId": sub["subscriptionId"]},
                            "notification": {"createdOn": now, "correlationId": event.correlation_id or
                                             self.ids.uuid()}}
                if sub["transport"] == "webhook":
                    self.outbox.enqueue(uow, registration_id=sub["subscriptionId"], account_id=sub["accountId"],
                                        application_id=sub.get("applicationId"), url=sub["deviceId"],
                                        order_key=order_key, publication=envelope, now=now)
                else:
                    live.append((sub, envelope))
        if live:
            uow.after_commit.append(lambda: self.live(live))
