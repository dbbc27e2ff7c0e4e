"""The UC presence vocabulary of an organisation: its activities and roles, and how an activity shows in the
one presence (the CloudLink ``status`` and ``reason`` of the user's presentity).

The seed's activities (available, busy, lunch, meeting, out_of_office, working) are every organisation's; an
account adds its own in its ``uc`` settings (tenant file: ``"uc": {"activities": [{"id": "17", "name":
"Support shift", "available": false, "status": "busy"}], "roles": [{"id": "support", "name": "Support"}]}``).
An activity is ``{id, name, available, status, reason, default}``: ``status`` is the CloudLink status it
shows as and ``reason`` the reason text (its name unless given; none for ``available`` and ``busy``).

A presentity whose status was set through CloudLink carries no UC activity: the activity it shows is derived
from the status and reason (the activity with that status and reason, else the first with that status, else
``available`` for ``available``, ``busy`` for ``busy``/``dnd`` and ``out_of_office`` for ``away``/``offline``).
"""
from __future__ import annotations

from typing import Any

DEFAULT_ACTIVITY = "available"
DEFAULT_ROLE = "business"
ACTIVITIES: tuple[dict[str, Any], ...] = (
    {"id": "available", "name": "Available", "available": True, "status": "available", "reason": None},
    {"id": "busy", "name": "Busy", "available": False, "status": "busy", "reason": None},
    {"id": "lunch", "name": "Lunch", "available": False, "status": "away", "reason": "Lunch"},
    {"id": "meeting", "name": "Meeting", "available": False, "status": "busy", "reason": "Meeting"},
    {"id": "out_of_office", "name": "Out of office", "available": False, "status": "away",
     "reason": "Out of office"},
    {"id": "working", "name": "Working elsewhere", "available": True, "status": "available", "reason": "Working"},
)
ROLES: tuple[dict[str, Any], ...] = (
    {"id": "business", "name": "Business"},
    {"id": "private", "name": "Private"},
)
_FALLBACK = {"available": "available", "busy": "busy", "dnd": "busy", "away": "out_of_office",
             "offline": "out_of_office"}
STATUSES = ("available", "busy", "away", "offline")


def _settings(account: dict[str, Any] | None) -> dict[str, Any]:
    uc = (account or {}).get("uc")
    return uc if isinstance(uc, dict) else {}


def activities(account: dict[str, Any] | None) -> list[dict[str, Any]]:
    """The organisation's activities: the seed's, then its own (an own id replaces a seed one)."""
    own = [a for a in _settings(account).get("activities") or [] if isinstance(a, dict) and a.get("id")]
    ids = {str(a["id"]) for a in own}
    out = [dict(a, default=a["id"] == DEFAULT_ACTIVITY) for a in ACTIVITIES if a["id"] not in ids]
    for spec in own:
        status = spec.get("status") if spec.get("status") in STATUSES else (
            "available" if spec.get("available") else "busy")
        out.append({"id": str(spec["id"]), "name": str(spec.get("name") or spec["id"]),
                    "available": bool(spec.get("available", False)), "status": status,
                    "reason": spec.get("reason", spec.get("name") or str(spec["id"])), "default": False})
    return out


def roles(account: dict[str, Any] | None) -> list[dict[str, Any]]:
    own = [{"id": str(r["id"]), "name": str(r.get("name") or r["id"])}
           for r in _settings(account).get("roles") or [] if isinstance(r, dict) and r.get("id")]
    ids = {r["id"] for r in own}
    return [dict(r) for r in ROLES if r["id"] not in ids] + own


def find(account: dict[str, Any] | None, activity_id: str) -> dict[str, Any] | None:
    return next((a for a in activities(account) if a["id"] == activity_id), None)


def derive(account: dict[str, Any] | None, status: str, reason: str | None) -> str:
    """The activity a presentity without a UC activity shows (see the module's docstring)."""
    known = activities(account)
    exact = next((a for a in known if a["status"] == status and (a["reason"] or None) == (reason or None)), None)
    if exact is not None:
        return str(exact["id"])
    return _FALLBACK.get(status, DEFAULT_ACTIVITY)


def setting(account: dict[str, Any] | None, key: str, default: Any = None) -> Any:
    """Another of the account's ``uc`` settings (``webClientUrl``, ``language``, ``smsAllowed``…)."""
    return _settings(account).get(key, default)
