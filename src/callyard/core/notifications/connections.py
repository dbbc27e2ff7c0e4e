"""Notification *connections*: what a client creates before a websocket subscription.

The real platform's flow (reference/cloudlink-apis.md §5): create a connection with ``{"transport":
"websocket"}`` → it answers with the WebSocket URL → create a subscription naming that ``connectionId`` →
connect an MQTT client to the URL and subscribe to the topic named by the ``subscriptionId``. A connection
is a document of kind ``connection`` owned by the caller's principal and account; it expires like a
subscription (``expiryDateTime``, 24 h by default). The URL is not stored: the façade builds it from the
host the request came to.

Deleting (or outliving) a connection stops its delivery: the live transports check the connection a
subscription names before they send, and a deletion emits ``connection.deleted``: the transports' after-commit
projections close the sessions bound to it at once.
"""
from __future__ import annotations

from typing import Any

from callyard.core.directory.access import Access
from callyard.core.errors import Forbidden, Invalid
from callyard.core.notifications.owned import OwnedExpiring
from callyard.core.principal import Principal
from callyard.core.quotas import check_quota
from callyard.core.runtime import Runtime
from callyard.events.event import Event

TRANSPORTS = ("websocket",)
FIELDS = {"transport", "expiryDateTime"}
CONNECTION_DELETED = "connection.deleted"


def deleted_connection_id(event: Event) -> str:
    """The id of the connection a ``connection.deleted`` event reports."""
    return event.subject.rsplit("/", 1)[-1]


class Connections(OwnedExpiring):
    kind, id_field, not_found = "connection", "connectionId", "ConnectionNotFound"

    def __init__(self, runtime: Runtime, access: Access) -> None:
        self.rt = runtime
        self.access = access
        self.quota = 0   # live connections per account (Core.set_quotas)

    # ------------------------------------------------------------------ rules
    def live(self, connection_id: str, now: str | None = None) -> dict[str, Any] | None:
        """The connection if it exists and has not expired (what the transports check before sending;
        ``now``, the twin clock's ISO time, saves formatting it once per call in a sweep)."""
        doc = self.rt.state.get("connection", connection_id)
        return doc if doc is not None and self._live(doc, now) else None

    def owned(self, connection_id: str, account_id: str, principal_id: str) -> dict[str, Any] | None:
        """The live connection if the principal ``principal_id`` of account ``account_id`` owns it (a websocket
        subscription must name one; the transports check it on connect). Both must match: a principal id alone
        is not an identity across accounts."""
        doc = self.live(connection_id)
        return (doc if doc is not None and doc["accountId"] == account_id and doc["principalId"] == principal_id
                else None)

    def _validate(self, fields: dict[str, Any]) -> dict[str, Any]:
        unknown = set(fields) - FIELDS
        if unknown:
            raise Invalid("ValidationError", f"data should NOT have additional properties: {sorted(unknown)}")
        transport = fields.get("transport", "websocket")
        if transport not in TRANSPORTS:
            raise Invalid("ValidationError", f"transport must be one of {', '.join(TRANSPORTS)}")
        return {"transport": transport, "expiryDateTime": self._expiry(fields.get("expiryDateTime"))}

    # ------------------------------------------------------------------ operations
    async def create(self, actor: Principal, fields: dict[str, Any]) -> dict[str, Any]:
        if self.rt.state.get("account", actor.account_id) is None:
            raise Forbidden("InsufficientPermissions", "connections belong to an account")
        doc = self._validate(fields)
        now = self.rt.now_iso()
        doc.update(connectionId=self.rt.ids.uuid(), accountId=actor.account_id, principalId=actor.principal_id,
                   createdOn=now)
        async with self.rt.write() as uow:
            live = sum(1 for c in self.rt.state.all("connection") if c["accountId"] == actor.account_id
                       and self._live(c, now))
            check_quota(live, self.quota, "live connections")
            uow.put("connection", doc["connectionId"], doc)
        return doc

    async def delete(self, actor: Principal, connection_id: str) -> dict[str, Any]:
        async with self.rt.write() as uow:
            doc = self.get(actor, connection_id)
            uow.delete("connection", connection_id)
            uow.emit(CONNECTION_DELETED, doc["accountId"], f"/connections/{connection_id}", None, self.rt.now_iso())
            return doc
