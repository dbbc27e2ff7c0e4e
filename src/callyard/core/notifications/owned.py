"""What subscriptions and connections share: documents a principal owns within its account, that expire.

The owner and the account's administrators see them; once expired (or, for a subscription, disabled by a
410) they answer as not found."""
from __future__ import annotations

from typing import Any

from callyard.core.errors import NotFound
from callyard.core.principal import Principal
from callyard.core.runtime import Runtime


class OwnedExpiring:
    kind: str = ""
    id_field: str = ""
    not_found: str = ""
    rt: Runtime

    def _visible(self, actor: Principal, doc: dict[str, Any]) -> bool:
        if doc["accountId"] != actor.account_id and not actor.at_least("GLOBAL_ADMIN"):
            return False
        return actor.at_least("ACCOUNT_ADMIN") or doc["principalId"] == actor.principal_id

    def _live(self, doc: dict[str, Any], now: str | None = None) -> bool:
        return doc.get("active", True) and doc["expiryDateTime"] > (now or self.rt.now_iso())

    def list(self, actor: Principal) -> list[dict[str, Any]]:
        return sorted((d for d in self.rt.state.all(self.kind) if self._visible(actor, d) and self._live(d)),
                      key=lambda d: (d["createdOn"], d[self.id_field]))

    def get(self, actor: Principal, doc_id: str) -> dict[str, Any]:
        doc = self.rt.state.get(self.kind, doc_id)
        if doc is None or not self._visible(actor, doc) or not self._live(doc):
            raise NotFound(self.not_found, f"{self.kind} {doc_id} was not found")
        return doc
