"""A user's terminals (devices) on their extension: desk phone, softphone and, when the user has a mobile
number, the mobile.

Device ids are shaped like the real platform's (Dstny Core): ``<n>.<identifier>``, ``0.+16135550101`` for a
mobile, ``2.<uuid>`` for a softphone; the desk phone gets ``1.<uuid>`` (its prefix is not public). The uuids
derive from the userId, so a terminal keeps its id across restarts, resets and renumbering. Each terminal
also answers to a short alias (``2880-desk``, ``2880-soft``, ``2880-mobile``) that the simulator and the CLI
accept."""
from __future__ import annotations

import uuid
from typing import Any

DESKPHONE, SOFTPHONE, MOBILE = "DESKPHONE", "SOFTPHONE", "MOBILE"
TERMINAL_TYPES = (DESKPHONE, SOFTPHONE, MOBILE)
_NAMESPACE = uuid.UUID("6f1c2b9e-3c1d-4c5e-9a0b-ca11ad0e7e5a")


def _derived(user_id: str, kind: str) -> str:
    return str(uuid.uuid5(_NAMESPACE, f"{user_id}:{kind}"))


def user_terminals(number: str, user: dict[str, Any]) -> list[dict[str, Any]]:
    """The terminals of ``user``'s extension ``number``, in the order a call is answered on by default."""
    user_id = user["userId"]
    terminals: list[dict[str, Any]] = [
        {"deviceId": f"1.{_derived(user_id, 'desk')}", "alias": f"{number}-desk", "type": DESKPHONE,
         "name": f"Desk phone {number}", "userAgent": "Callyard DeskPhone/2.1 (SIP)"},
        {"deviceId": f"2.{_derived(user_id, 'soft')}", "alias": f"{number}-soft", "type": SOFTPHONE,
         "name": "Softphone", "userAgent": "Callyard Softphone/Mac/5.4.0.1001"}]
    if user.get("mobile"):
        terminals.append({"deviceId": f"0.{user['mobile']}", "alias": f"{number}-mobile", "type": MOBILE,
                          "name": str(user["mobile"]), "number": user["mobile"], "userAgent": "GSM"})
    return terminals


def find_terminal(terminals: list[dict[str, Any]], ref: str) -> dict[str, Any] | None:
    """The terminal ``ref`` names: its device id or its alias."""
    for terminal in terminals:
        if ref in (terminal["deviceId"], terminal.get("alias")):
            return terminal
    return None
