"""Who may see and change which account. One place, so every family enforces the same isolation."""
from __future__ import annotations

from typing import Any

from callyard.core.errors import Forbidden, NotFound
from callyard.core.principal import Principal
from callyard.core.state import State


class Access:
    def __init__(self, state: State) -> None:
        self.state = state

    def find_account(self, ref: str) -> dict[str, Any] | None:
        """An account by accountId or by accountNumber (both are accepted wherever CloudLink takes one)."""
        account = self.state.get("account", ref)
        if account is not None:
            return account
        for candidate in self.state.all("account"):
            if candidate.get("accountNumber") == ref:
                return candidate
        return None

    def can_see(self, actor: Principal, account: dict[str, Any]) -> bool:
        if actor.at_least("GLOBAL_ADMIN") or actor.account_id == account["accountId"]:
            return True
        return actor.at_least("PARTNER_ADMIN") and account.get("parentAccountId") == actor.account_id

    def account(self, actor: Principal, ref: str, min_role: str = "USER") -> dict[str, Any]:
        account = self.find_account(ref)
        if account is None:
            raise NotFound("AccountNotFound", f"account {ref} was not found")
        if not self.can_see(actor, account):
            raise Forbidden("InsufficientPermissions", f"the caller has no access to account {ref}")
        self.require_role(actor, min_role)
        return account

    @staticmethod
    def require_role(actor: Principal, min_role: str) -> None:
        if not actor.at_least(min_role):
            raise Forbidden("InsufficientPermissions", f"this operation needs the {min_role} role or higher")

    def visible_accounts(self, actor: Principal) -> list[dict[str, Any]]:
        return [a for a in self.state.all("account") if self.can_see(actor, a)]
