"""What subscriptions and connections share: documents a principal owns within its account, that expire.

The owner and the account's administrators see them; once expired (or, for a subscription, disabled by a
410) they answer as not found."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from callyard.core.clock import iso
from callyard.core.errors import Invalid, NotFound
from callyard.core.principal import Principal
from callyard.core.runtime import Runtime


DEFAULT_LIFETIME = timedelta(hours=24)
MAX_LIFETIME = timedelta(days=365)


def _parse_time(value: Any, field: str) -> datetime:
    if not isinstance(value, str):
        raise Invalid("ValidationError", f"{field} must be an ISO 8601 date-time")
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise Invalid("ValidationError", f"{field} must be an ISO 8601 date-time") from None
    if parsed.tzinfo is None:
        raise Invalid("ValidationError", f"{field} needs a time zone (e.g. Z)")
    return parsed.astimezone(timezone.utc)


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
        return bool(doc.get("active", True)) and str(doc["expiryDateTime"]) > (now or self.rt.now_iso())

    def _expiry(self, value: Any) -> str:
        """``expiryDateTime`` as given (in the future, at most a year ahead) or the default 24 hours."""
        now = self.rt.clock.now()
        expiry = _parse_time(value, "expiryDateTime") if value else now + DEFAULT_LIFETIME
        if expiry <= now:
            raise Invalid("InvalidExpiryDateTime", "expiryDateTime must be in the future")
        if expiry > now + MAX_LIFETIME:
            raise Invalid("InvalidExpiryDateTime", "expiryDateTime is at most one year ahead")
        return iso(expiry)

    def list(self, actor: Principal) -> list[dict[str, Any]]:
        return sorted((d for d in self.rt.state.all(self.kind) if self._visible(actor, d) and self._live(d)),
                      key=lambda d: (d["createdOn"], d[self.id_field]))

    def get(self, actor: Principal, doc_id: str) -> dict[str, Any]:
        doc = self.rt.state.get(self.kind, doc_id)
        if doc is None or not self._visible(actor, doc) or not self._live(doc):
            raise NotFound(self.not_found, f"{self.kind} {doc_id} was not found")
        return doc
