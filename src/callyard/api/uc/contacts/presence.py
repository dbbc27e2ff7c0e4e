"""A directory contact's presence in the UC shape (``Presence``: access fields, role, note, activity, idle,
available, capabilities): the UC view of the ONE presence (core/presence/uc.py), with the caller's access.

A colleague reads a contact's presence as the contact has it (activity, role, note, availability) with the
access fields NONE; the contact and an administrator of the organisation read and write it with WRITE (the
core's ``acting_for`` rule, the seed's presence authorization)."""
from __future__ import annotations

from typing import Any

from callyard.core.auth.tickets import principal_of
from callyard.core.principal import Principal
from callyard.core.service import Core


def view(core: Core, actor: Principal, user: dict[str, Any]) -> dict[str, Any]:
    """The contact's presence as the caller sees it."""
    seen = core.uc_presence.view(principal_of(user), user["accountId"], user["userId"])
    return {**seen, **core.contacts.access(actor, user)}


async def update(core: Core, actor: Principal, user: dict[str, Any], *, force_diversion: bool = False,
                 **changes: Any) -> dict[str, Any]:
    """Set any of role, note, activity (with expiration and availability) of the contact as ``actor`` (the
    core refuses a caller without WRITE access)."""
    await core.uc_presence.update(actor, user["accountId"], user["userId"], force_diversion=force_diversion,
                                  **changes)
    return view(core, actor, user)


async def set_expiration(core: Core, actor: Principal, user: dict[str, Any], expires: object) -> str:
    return await core.uc_presence.set_expiration(actor, user["accountId"], user["userId"], expires)
