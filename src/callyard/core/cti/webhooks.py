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
from typing import Any
from urllib.parse import urlparse

from callyard.core.errors import Invalid, NotFound
from callyard.core.runtime import Runtime
from callyard.core.state import UnitOfWork

KIND = "cti_webhook"
USER_TTL_SECONDS = 3600
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
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    def _id(self, account_id: str, user_id: str, scope: str, leg_id: str | None, target_id: str) -> str:
        return f"{account_id}:{user_id}:{scope}:{leg_id or ''}:{target_id}"

    async def register(self, account_id: str, user_id: str, *, target_url: object, target_id: object,
                       public_target: bool = True, leg_id: str | None = None) -> dict[str, Any]:
        """Register (or renew) a webhook for the call ``leg_id`` of the user, or for the user's calls."""
        url, tid = _check(target_url, target_id)
        scope = "call" if leg_id else "user"
        doc_id = self._id(account_id, user_id, scope, leg_id, tid)
        now = self.rt.clock.now()
        async with self.rt.write() as uow:
            existing = self.rt.state.get(KIND, doc_id)
            doc = {"webhookId": doc_id, "accountId": account_id, "userId": user_id, "scope": scope, "legId": leg_id,
                   "targetId": tid, "targetUrl": url, "publicTarget": bool(public_target), "active": True,
                   "signingSecret": existing["signingSecret"] if existing else
                   "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
                   "createdOn": existing["createdOn"] if existing else self.rt.now_iso(),
                   "modifiedOn": self.rt.now_iso(),
                   "expiresAt": now.timestamp() + USER_TTL_SECONDS if scope == "user" else None}
            uow.put(KIND, doc_id, doc)
            uow.emit("cti.webhook.registered", account_id, f"/cti/webhooks/{doc_id}", _public(doc),
                     self.rt.now_iso())
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

    # ------------------------------------------------------------------ matching (inside a transaction)
    def for_call(self, account_id: str, leg_id: str) -> list[dict[str, Any]]:
        return [d for d in self.rt.state.all(KIND) if d["scope"] == "call" and d["accountId"] == account_id
                and d["legId"] == leg_id and d.get("active", True)]

    def for_user(self, account_id: str, user_id: str) -> list[dict[str, Any]]:
        now = self.rt.clock.now().timestamp()
        return [d for d in self.rt.state.all(KIND) if d["scope"] == "user" and d["accountId"] == account_id
                and d["userId"] == user_id and d.get("active", True) and (d["expiresAt"] or 0) > now]

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
