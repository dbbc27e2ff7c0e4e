"""A directory contact's presence in the UC shape (``Presence``: access fields, role, note, activity, idle,
available, capabilities), read from and written to the ONE presence of the core (core/presence).

This is the only place the contact groups touch presence: the reads and writes of another user's presence
(with the caller's ``*Access``) translate here, so the contact groups and the user's own presence (User
Information) stay one presence."""
from __future__ import annotations

from typing import Any

from callyard.core.errors import Invalid, NotImplementedRoute
from callyard.core.principal import Principal
from callyard.core.service import Core

NEVER = "never"
ROLE = "business"
# The seed's activities and the presentity status each shows as (the UC presence's catalogue).
ACTIVITIES: dict[str, tuple[str, str | None, bool]] = {
    "available": ("available", None, True), "busy": ("busy", None, False), "lunch": ("away", "Lunch", False),
    "meeting": ("busy", "Meeting", False), "out_of_office": ("away", "Out of office", False),
    "working": ("available", "Working", True)}
_FALLBACK = {"available": "available", "busy": "busy", "dnd": "busy", "away": "out_of_office",
             "offline": "out_of_office"}


def _activity_of(status: str, reason: str | None) -> str:
    exact = next((a for a, (s, r, _) in ACTIVITIES.items() if s == status and r == (reason or None)), None)
    return exact or _FALLBACK.get(status, "available")


def capabilities(user: dict[str, Any]) -> list[str]:
    return ["MESSAGE", "FULL_COLLABORATION", *(["SMS"] if user.get("mobile") else [])]


def view(core: Core, actor: Principal, user: dict[str, Any]) -> dict[str, Any]:
    """The contact's presence as the caller sees it."""
    access = core.contacts.access(actor, user)
    presentity = core.presence.get(actor, user["userId"])
    activity = _activity_of(presentity["principal"]["status"], presentity.get("reason"))
    activity_available = ACTIVITIES.get(activity, ("", None, True))[2]
    return {**access, "role": ROLE, "note": presentity.get("note") or "",
            "activity": {"id": activity, "expiration": NEVER, "available": activity_available},
            "idle": False,
            "available": activity_available and presentity["status"] not in ("dnd", "busy", "offline"),
            "capabilities": capabilities(user)}


async def update(core: Core, actor: Principal, user: dict[str, Any], *, role: object = ..., note: object = ...,
                 activity: object = ..., expiration: object = ..., available: object = ...,
                 force_diversion: bool = False) -> dict[str, Any]:
    """Set any of role, note, activity (its expiration, availability) of the contact; the caller must have
    WRITE access (checked by the caller of this function)."""
    fields: dict[str, Any] = {}
    if note is not ...:
        fields["note"] = note
    if activity is not ...:
        if not isinstance(activity, str) or activity not in ACTIVITIES:
            raise Invalid("activity.not.valid", f"{activity} is not an activity of the organisation",
                          field="activity", value=str(activity))
        status, reason, _ = ACTIVITIES[activity]
        fields.update(status=status, reason=reason)
    if role is not ... or expiration is not ...:
        raise NotImplementedRoute("presence.role.not.supported", "role and activity expiration come with the "
                                   "UC presence of the user")
    if not fields:
        raise Invalid("presence.empty", "give a role, a note or an activity", field="activity")
    await core.presence.update(actor, user["userId"], fields)
    return view(core, actor, user)


async def set_expiration(core: Core, actor: Principal, user: dict[str, Any], expires: object) -> str:
    await update(core, actor, user, expiration=expires)
    return NEVER


def expiration(core: Core, actor: Principal, user: dict[str, Any]) -> str:
    return str(view(core, actor, user)["activity"]["expiration"])


__all__ = ["capabilities", "expiration", "set_expiration", "update", "view"]
