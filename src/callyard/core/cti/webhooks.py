"""CTI webhook registrations: a client asks to be told about one call (per call: each new state token) or
about a user's new and deleted calls (per user, for an hour; registering again renews it).

A registration is a ``cti_webhook`` document: its owner (account and user), its scope (``call`` with the
leg id, or ``user``), the client's ``targetId`` (unique per owner and scope: registering the same id again
replaces it), ``targetUrl``, ``publicTarget``, a signing secret (Standard Webhooks signatures, an addition of
the twin) and for the user scope an expiry on the twin's clock. The outbox's sender reads ``active`` and
``signingSecret`` from it. Per-call registrations end with their call.
"""
from __future__ import annotations

import base64
import secrets
from datetime import datetime, timezone
from typing import Any, Callable
from urllib.parse import urlparse

from callyard.core.errors import Invalid, NotFound
from callyard.core.runtime import Runtime
from callyard.core.state import UnitOfWork

KIND = "cti_webhook"
USER_TTL_SECONDS = 3600
SWEEP_SECONDS = 600
RETENTION_SECONDS = 24 * 3600     # an expired per-user registration is kept a day (its deliveries may retry)
MAX_TARGET_ID = 128


def _check(target_url: object, target_id: object) -> tuple[str, str]:
    if not isinstance(target_url, str) or urlparse(target_url).scheme not in ("http", "https") \
            or not urlparse(target_url).netloc:
        raise Invalid("targetUrl.not.valid", "targetUrl is an http or https URL", field="targetUrl",
                      value=str(target_url or ""))
    if not isinstance(target_id, str) or not target_id.strip() or len(target_id) > MAX_TARGET_ID:
        raise Invalid("targetId.required", f"targetId is a non-empty id of at most {MAX_TARGET_ID} characters",
                      field="targetId", value=str(target_id or ""))
    return target_url, target_id


def check_target(target_url: object, target_id: object) -> None:
    """Validate a registration before the operation it rides on (answer, make call, …) changes anything."""
    _check(target_url, target_id)


class CtiWebhooks:
    def __init__(self, runtime: Runtime, call_is_live: Callable[[str, str], bool]) -> None:
        """``call_is_live(account_id, leg_id)``: whether the engine still has that call (per-call
        registrations go once it has ended and nothing is left to deliver)."""
        self.rt = runtime
        self.call_is_live = call_is_live
        # Registrations by (account, scope key), rebuilt when a registration changed: every call event looks here.
        self._index: tuple[object, dict[tuple[str, str], list[dict[str, Any]]]] = (None, {})

    def _id(self, account_id: str, user_id: str, scope: str, leg_id: str | None, target_id: str) -> str:
        return f"{account_id}:{user_id}:{scope}:{leg_id or ''}:{target_id}"

    async def register(self, account_id: str, user_id: str, *, target_url: object, target_id: object,
                       public_target: bool = True, leg_id: str | None = None) -> dict[str, Any]:
        """Register (or renew) a webhook for the call ``leg_id`` of the user, or for the user's calls."""
        async with self.rt.write() as uow:
            return self.register_in(uow, account_id, user_id, target_url=target_url, target_id=target_id,
                                    public_target=public_target, leg_id=leg_id)

    def register_in(self, uow: UnitOfWork, account_id: str, user_id: str, *, target_url: object, target_id: object,
                    public_target: bool = True, leg_id: str | None = None) -> dict[str, Any]:
        """``register`` inside the caller's transaction (a webhook registered with the call it rides on)."""
        url, tid = _check(target_url, target_id)
        scope = "call" if leg_id else "user"
        doc_id = self._id(account_id, user_id, scope, leg_id, tid)
        now = self.rt.clock.now()
        existing = self.rt.state.get(KIND, doc_id)
        doc = {"webhookId": doc_id, "accountId": account_id, "userId": user_id, "scope": scope, "legId": leg_id,
               "targetId": tid, "targetUrl": url, "publicTarget": bool(public_target), "active": True,
               "signingSecret": existing["signingSecret"] if existing else
               "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
               "createdOn": existing["createdOn"] if existing else self.rt.now_iso(),
               "modifiedOn": self.rt.now_iso(),
               "expiresAt": now.timestamp() + USER_TTL_SECONDS if scope == "user" else None}
        uow.put(KIND, doc_id, doc)
        uow.emit("cti.webhook.registered", account_id, f"/cti/webhooks/{doc_id}", _public(doc), self.rt.now_iso())
        return doc

    async def unregister(self, account_id: str, user_id: str, target_id: str, leg_id: str | None = None) -> None:
        doc_id = self._id(account_id, user_id, "call" if leg_id else "user", leg_id, target_id)
        doc = self.rt.state.get(KIND, doc_id)
        if doc is None:
            raise NotFound("webhook.does.not.exist", "no webhook is registered with that targetId",
                           field="targetId", value=target_id)
        async with self.rt.write() as uow:
            self.drop(uow, doc)

    def drop(self, uow: UnitOfWork, doc: dict[str, Any]) -> None:
        uow.delete(KIND, doc["webhookId"])
        uow.emit("cti.webhook.unregistered", doc["accountId"], f"/cti/webhooks/{doc['webhookId']}", _public(doc),
                 self.rt.now_iso())

    # ------------------------------------------------------------------ retention
    def keep_tidy(self, scheduler: Any) -> None:
        """Sweep every ``SWEEP_SECONDS`` of the twin's clock (call again after the scheduler was cleared)."""
        async def sweep() -> None:
            try:
                await self.purge()
            finally:
                scheduler.after(SWEEP_SECONDS, sweep, "CTI webhook retention")
        scheduler.after(SWEEP_SECONDS, sweep, "CTI webhook retention")

    async def purge(self) -> int:
        """Delete the per-call registrations of ended calls and the per-user ones expired a day ago, unless a
        delivery for them is still pending. Returns how many went."""
        pending = {d["subscriptionId"] for d in self.rt.state.all("delivery")
                   if d["status"] == "pending" and d.get("registrationKind") == KIND}
        cutoff = self.rt.clock.now().timestamp() - RETENTION_SECONDS
        gone = [d for d in self.rt.state.all(KIND) if d["webhookId"] not in pending and (
            (d["scope"] == "call" and not self.call_is_live(d["accountId"], d["legId"]))
            or (d["scope"] == "user" and (d["expiresAt"] or 0) < cutoff))]
        if gone:
            async with self.rt.write() as uow:
                for doc in gone:
                    if self.rt.state.get(KIND, doc["webhookId"]) is not None:
                        self.drop(uow, doc)
        return len(gone)

    # ------------------------------------------------------------------ matching (inside a transaction)
    def _by_key(self) -> dict[tuple[str, str], list[dict[str, Any]]]:
        generation = self.rt.state.generation(KIND)
        if self._index[0] != generation:
            index: dict[tuple[str, str], list[dict[str, Any]]] = {}
            for doc in self.rt.state.all(KIND):
                key = doc["legId"] if doc["scope"] == "call" else f"user:{doc['userId']}"
                index.setdefault((doc["accountId"], key), []).append(doc)
            self._index = (generation, index)
        return self._index[1]

    def for_call(self, account_id: str, leg_id: str) -> list[dict[str, Any]]:
        return [d for d in self._by_key().get((account_id, leg_id), ()) if d.get("active", True)]

    def for_user(self, account_id: str, user_id: str) -> list[dict[str, Any]]:
        now = self.rt.clock.now().timestamp()
        return [d for d in self._by_key().get((account_id, f"user:{user_id}"), ())
                if d.get("active", True) and (d["expiresAt"] or 0) > now]

    def expires_in(self, doc: dict[str, Any]) -> int:
        if not doc.get("expiresAt"):
            return 0
        left = doc["expiresAt"] - self.rt.clock.now().timestamp()
        return max(0, int(round(left)))


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "signingSecret"}


def expiry_iso(doc: dict[str, Any]) -> str | None:
    at = doc.get("expiresAt")
    return None if not at else datetime.fromtimestamp(at, timezone.utc).isoformat()
