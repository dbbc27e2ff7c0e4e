"""Caller-id lines: the numbers a user may present on outgoing calls, and the one that is active.

A user's lines are their own (``OFFICE_FIXED``: the extension; ``OFFICE_MOBILE``: the mobile number, when
they have one), ``ANONYMOUS`` (no number shown) and one per numbered group they are a member of (``ACD`` for
an ACD queue, ``ACD_LIGHT`` for a hunt group), whose ``groupId`` is the group's function number. The active
line is stored per user (``user_line`` documents) and read by the engine when the user places a call: the
far end sees that number and name. A line that stops being valid (the user left the group, the mobile was
removed) falls back to ``OFFICE_FIXED``."""
from __future__ import annotations

from typing import Any

from callyard.core.errors import Invalid
from callyard.core.runtime import Runtime
from callyard.core.state import UnitOfWork

LINE_TYPES = ("ANONYMOUS", "ACD", "ACD_LIGHT", "ATTENDANT", "SWITCHBOARD", "OFFICE_FIXED", "PRIVATE_FIXED",
              "OFFICE_MOBILE", "PRIVATE_MOBILE")
ANONYMOUS_NUMBER = "anonymous"


def group_line_type(group: dict[str, Any]) -> str:
    return "ACD" if group.get("type") == "ACD" else "ACD_LIGHT"


def function_number_id(group: dict[str, Any]) -> int | None:
    """A group's id as the UC API shows it: its function number (int64), or None when it has no number."""
    number = str(group.get("extension") or "")
    return int(number) if number.isdigit() else None


def member_groups(rt: Runtime, account_id: str, user_id: str) -> list[dict[str, Any]]:
    """The numbered groups of ``account_id`` whose member ``user_id`` is, by function number."""
    found = [g for g in rt.state.all("group")
             if g["accountId"] == account_id and function_number_id(g) is not None
             and any(m["memberId"] == user_id and m.get("status", "ACCEPTED") == "ACCEPTED"
                     for m in g.get("members", []))]
    return sorted(found, key=lambda g: function_number_id(g) or 0)


class Lines:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    def lines(self, account_id: str, user_id: str) -> list[dict[str, Any]]:
        """Every line ``user_id`` may use, each ``{groupId, type, number, name, active}``."""
        user = self.rt.state.get("user", user_id)
        if user is None or user["accountId"] != account_id:
            return []
        name = str(user.get("name") or user.get("email") or "")
        out: list[dict[str, Any]] = []
        if user.get("extension"):
            out.append({"groupId": 0, "type": "OFFICE_FIXED", "number": str(user["extension"]), "name": name})
        if user.get("mobile"):
            out.append({"groupId": 0, "type": "OFFICE_MOBILE", "number": str(user["mobile"]), "name": name})
        out.append({"groupId": 0, "type": "ANONYMOUS", "number": "", "name": "Anonymous"})
        for group in member_groups(self.rt, account_id, user_id):
            out.append({"groupId": function_number_id(group), "type": group_line_type(group),
                        "number": str(group["extension"]), "name": str(group.get("name") or "")})
        chosen = self._chosen(account_id, user_id, out)
        return [{**line, "active": line is chosen} for line in out]

    def _chosen(self, account_id: str, user_id: str, lines: list[dict[str, Any]]) -> dict[str, Any] | None:
        stored = self.rt.state.get("user_line", f"{account_id}:{user_id}") or {}
        for line in lines:
            if (line["type"], line["groupId"]) == (stored.get("type"), stored.get("groupId")):
                return line
        return lines[0] if lines else None

    def active(self, account_id: str, user_id: str) -> dict[str, Any] | None:
        return next((line for line in self.lines(account_id, user_id) if line["active"]), None)

    def set_active(self, uow: UnitOfWork, account_id: str, user_id: str, line_type: object,
                   group_id: object) -> dict[str, Any]:
        """Make the line (``line_type``, ``group_id``) active; it must be one of the user's lines."""
        match = self.line(account_id, user_id, line_type, group_id)
        key = f"{account_id}:{user_id}"
        doc = {"lineKey": key, "accountId": account_id, "userId": user_id, "type": line_type, "groupId": group_id}
        uow.put("user_line", key, doc)
        uow.emit("user_line.updated", account_id, f"/users/{user_id}/line", doc, self.rt.now_iso())
        return {**match, "active": True}

    def line(self, account_id: str, user_id: str, line_type: object, group_id: object) -> dict[str, Any]:
        """The user's line (``line_type``, ``group_id``), or 400 when it is not one of theirs."""
        if line_type not in LINE_TYPES:
            raise Invalid("InvalidLineType", f"type must be one of {', '.join(LINE_TYPES)}", field="type")
        if isinstance(group_id, bool) or not isinstance(group_id, int):
            raise Invalid("InvalidGroupId", "groupId is an integer", field="groupId")
        match = next((line for line in self.lines(account_id, user_id)
                      if (line["type"], line["groupId"]) == (line_type, group_id)), None)
        if match is None:
            raise Invalid("line.does.not.exist", f"the user has no {line_type} line with groupId {group_id}",
                          field="groupId")
        return match

    def caller_id(self, account_id: str, user_id: str | None,
                  chosen: tuple[object, object] | None = None) -> tuple[str, str] | None:
        """What the far end sees when ``user_id`` calls: (number, name) of the active line, or of ``chosen``
        (type, groupId) for one call; None for the extension itself (the engine's default)."""
        if user_id is None:
            if chosen is not None:
                raise Invalid("line.does.not.exist", "only a user's extension has caller-id lines", field="userLine")
            return None
        line = self.active(account_id, user_id) if chosen is None else self.line(account_id, user_id, *chosen)
        if line is None or line["type"] == "OFFICE_FIXED":
            return None
        if line["type"] == "ANONYMOUS":
            return ANONYMOUS_NUMBER, "Anonymous"
        return line["number"], line["name"]
