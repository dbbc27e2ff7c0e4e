"""Device-set webhooks (the UC User Device Information group): a client asks to be told when the user's
device set changes (a device renamed, its icon changed, a device becoming reachable or not). A registration
lives an hour (``expiresOn: 3600``); registering the same ``targetId`` again renews it.

A registration is a ``device_webhook`` document with what the webhook outbox's sender reads (``active``,
``signingSecret``: Standard Webhooks signatures, an addition of the twin). The UC family's projection turns
each ``device.updated`` event into an outbox delivery in the same transaction."""
from __future__ import annotations

import base64
import secrets
from typing import Any

from callyard.core.cti.webhooks import check_target
from callyard.core.devices.service import acting_for
from callyard.core.errors import NotFound
from callyard.core.principal import Principal
from callyard.core.runtime import Runtime

KIND = "device_webhook"
TTL_SECONDS = 3600


class DeviceWebhooks:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    @staticmethod
    def _id(account_id: str, user_id: str, target_id: str) -> str:
        return f"{account_id}:{user_id}:{target_id}"

    async def register(self, actor: Principal, account_id: str, user_id: str, *, target_url: object,
                       target_id: object, public_target: bool = True) -> dict[str, Any]:
        check_target(target_url, target_id)
        acting_for(self.rt, actor, account_id, user_id)
        doc_id = self._id(account_id, user_id, str(target_id))
        async with self.rt.write() as uow:
            existing = self.rt.state.get(KIND, doc_id)
            doc = {"webhookId": doc_id, "accountId": account_id, "userId": user_id, "targetId": target_id,
                   "targetUrl": target_url, "publicTarget": bool(public_target), "active": True,
                   "signingSecret": existing["signingSecret"] if existing else
                   "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode(),
                   "createdOn": existing["createdOn"] if existing else self.rt.now_iso(),
                   "modifiedOn": self.rt.now_iso(), "expiresAt": self.rt.clock.now().timestamp() + TTL_SECONDS}
            uow.put(KIND, doc_id, doc)
            uow.emit("device.webhook.registered", account_id, f"/users/{user_id}/devices/webhooks/{target_id}",
                     _public(doc), self.rt.now_iso())
        return {"expiresOn": TTL_SECONDS, **_public(doc)}

    async def unregister(self, actor: Principal, account_id: str, user_id: str, target_id: str) -> None:
        acting_for(self.rt, actor, account_id, user_id)
        doc = self.rt.state.get(KIND, self._id(account_id, user_id, target_id))
        if doc is None:
            raise NotFound("webhook.does.not.exist", "no webhook is registered with that targetId",
                           field="targetId", value=target_id)
        async with self.rt.write() as uow:
            uow.delete(KIND, doc["webhookId"])
            uow.emit("device.webhook.unregistered", account_id, f"/users/{user_id}/devices/webhooks/{target_id}",
                     _public(doc), self.rt.now_iso())

    def for_user(self, account_id: str, user_id: str) -> list[dict[str, Any]]:
        """The live registrations of a user (inside a transaction: the projection)."""
        now = self.rt.clock.now().timestamp()
        return [d for d in self.rt.state.all(KIND) if d["accountId"] == account_id and d["userId"] == user_id
                and d.get("active", True) and d["expiresAt"] > now]


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "signingSecret"}
