"""Who is acting: the verified claims of a token, reduced to what rules need. Roles are ordered."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

ROLES = ("GUEST", "USER", "ACCOUNT_ADMIN", "PARTNER_ADMIN", "GLOBAL_ADMIN")
ROLE_RANK = {role: rank for rank, role in enumerate(ROLES)}


def role_at_least(role: str, minimum: str) -> bool:
    return ROLE_RANK.get(role, -1) >= ROLE_RANK[minimum]


@dataclass(frozen=True)
class Principal:
    principal_id: str
    account_id: str
    role: str
    user_id: str | None = None
    client_id: str | None = None
    kind: str = "user"  # user | client | anonymous | guest | control
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    def at_least(self, minimum: str) -> bool:
        return role_at_least(self.role, minimum)


# The identity the developer control plane acts as with --open-control and when loading fixtures.
SYSTEM = Principal(principal_id="callyard", account_id="*", role="GLOBAL_ADMIN", kind="control")
