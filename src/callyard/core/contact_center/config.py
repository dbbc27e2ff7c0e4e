"""The contact center's configuration in the core's state: sites, employees (each with one agent per media),
agent groups, queues, reason codes, warning reasons, DNIS numbers and the clients registered with the
contact center's authorization server. All are documents loaded from the tenant file (``contactCenter`` of an
account); look-ups take an id, a name, a reporting number or (employees) a username, regardless of case.

A Voice queue is an ACD group of the PBX (its id and number are the group's): the engine routes its calls.
A Voice agent group is backed by that group's membership, so there is one list of who answers the queue.
"""
from __future__ import annotations

import re
from typing import Any, Iterable

from callyard.core.contact_center.model import MEDIA
from callyard.core.directory.indexes import Lazy
from callyard.core.errors import NotFound
from callyard.core.runtime import Runtime

SITE, EMPLOYEE, AGENT_GROUP, QUEUE = "cc_site", "cc_employee", "cc_agent_group", "cc_queue"
REASON, WARNING, DNIS, CLIENT, DIRECTORY = "cc_reason", "cc_warning", "cc_dnis", "cc_client", "cc_directory"
INTERACTION = "cc_interaction"   # a non-voice interaction (chat, email, SMS, open media): part 2
STATE = "cc_state"               # the last employee state announced (what changed is announced once)
KINDS = (SITE, EMPLOYEE, AGENT_GROUP, QUEUE, REASON, WARNING, DNIS, CLIENT, DIRECTORY, INTERACTION, STATE)


def _matches(doc: dict[str, Any], ref: str, keys: Iterable[str]) -> bool:
    wanted = ref.strip().lower()
    return any(isinstance(doc.get(k), str) and doc[k].lower() == wanted for k in keys)


class Config:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        # The documents of each kind by account, in order, rebuilt when the kind changes (never stale).
        self._sorted: dict[str, Lazy[dict[str, list[dict[str, Any]]]]] = {}

    def _by_account(self, kind: str) -> dict[str, list[dict[str, Any]]]:
        by_account: dict[str, list[dict[str, Any]]] = {}
        for doc in sorted(self.rt.state.all(kind),
                          key=lambda d: (str(d.get("reporting") or ""), str(d.get("name") or ""))):
            by_account.setdefault(doc["accountId"], []).append(doc)
        return by_account

    def _all(self, kind: str, account_id: str) -> list[dict[str, Any]]:
        lazy = self._sorted.get(kind)
        if lazy is None:
            lazy = self._sorted[kind] = Lazy(self.rt.state, kind, lambda: self._by_account(kind))
        return list(lazy.get().get(account_id, ()))

    def _find(self, kind: str, account_id: str, ref: str, keys: tuple[str, ...], what: str) -> dict[str, Any]:
        found = [d for d in self._all(kind, account_id) if _matches(d, ref, keys)]
        if len(found) != 1:  # several matches answer nothing, as the real API does for ambiguous names
            words = re.sub(r"(?<!^)(?=[A-Z])", " ", what).lower()
            raise NotFound(f"{what}NotFound", f"{words} {ref} was not found")
        return found[0]

    # ------------------------------------------------------------------ employees and their agents
    def employees(self, account_id: str) -> list[dict[str, Any]]:
        return self._all(EMPLOYEE, account_id)

    def employee(self, account_id: str, ref: str) -> dict[str, Any]:
        return self._find(EMPLOYEE, account_id, ref, ("id", "username", "login", "reporting", "userId"), "Employee")

    def employee_of_user(self, account_id: str, user_id: str | None) -> dict[str, Any] | None:
        return next((e for e in self.employees(account_id) if e["userId"] == user_id), None)

    def agents(self, account_id: str) -> list[dict[str, Any]]:
        """Every agent (one per employee and media) as ``{id, reporting, mediaType, employee}``."""
        out = []
        for employee in self.employees(account_id):
            for media in MEDIA:
                agent = employee["agents"].get(media)
                if agent:
                    out.append({**agent, "mediaType": media, "employee": employee})
        return out

    def agent(self, account_id: str, ref: str) -> dict[str, Any]:
        found = [a for a in self.agents(account_id) if _matches(a, ref, ("id", "reporting"))
                 or (ref.lower() in (a["employee"]["username"].lower(), a["employee"]["login"].lower())
                     and len(a["employee"]["agents"]) == 1)]
        if len(found) != 1:
            raise NotFound("AgentNotFound", f"agent {ref} was not found")
        return found[0]

    # ------------------------------------------------------------------ agent groups and queues
    def agent_groups(self, account_id: str) -> list[dict[str, Any]]:
        return self._all(AGENT_GROUP, account_id)

    def agent_group(self, account_id: str, ref: str) -> dict[str, Any]:
        return self._find(AGENT_GROUP, account_id, ref, ("id", "name", "reporting"), "AgentGroup")

    def members(self, group: dict[str, Any]) -> list[str]:
        """The user ids of an agent group's members (a Voice group: its PBX group's accepted members)."""
        if group.get("groupId"):
            pbx = self.rt.state.get("group", group["groupId"]) or {}
            return [m["memberId"] for m in pbx.get("members", []) if m.get("status", "ACCEPTED") == "ACCEPTED"]
        return list(group.get("members", []))

    def agent_groups_of(self, employee: dict[str, Any]) -> list[dict[str, Any]]:
        return [g for g in self.agent_groups(employee["accountId"]) if employee["userId"] in self.members(g)]

    def queues(self, account_id: str) -> list[dict[str, Any]]:
        return self._all(QUEUE, account_id)

    def queue(self, account_id: str, ref: str) -> dict[str, Any]:
        return self._find(QUEUE, account_id, ref, ("id", "name", "reporting"), "Queue")

    def queue_of_group(self, account_id: str, group_id: str | None) -> dict[str, Any] | None:
        return next((q for q in self.queues(account_id) if q.get("groupId") == group_id and group_id), None)

    def queues_of(self, employee: dict[str, Any]) -> list[dict[str, Any]]:
        """The queues the employee's agent groups answer."""
        mine = {g["id"] for g in self.agent_groups_of(employee)}
        return [q for q in self.queues(employee["accountId"]) if mine & set(q.get("agentGroups", []))]

    # ------------------------------------------------------------------ the rest of the configuration
    def sites(self, account_id: str) -> list[dict[str, Any]]:
        return self._all(SITE, account_id)

    def site(self, account_id: str, ref: str) -> dict[str, Any]:
        return self._find(SITE, account_id, ref, ("id", "name"), "Site")

    def reason_codes(self, account_id: str) -> list[dict[str, Any]]:
        return self._all(REASON, account_id)

    def reason_code(self, account_id: str, ref: str) -> dict[str, Any]:
        return self._find(REASON, account_id, ref, ("id", "name", "reporting"), "ReasonCode")

    def warning_reasons(self, account_id: str) -> list[dict[str, Any]]:
        return self._all(WARNING, account_id)

    def warning_reason(self, account_id: str, ref: str) -> dict[str, Any]:
        return self._find(WARNING, account_id, ref, ("id", "name"), "WarningReason")

    def dnis_numbers(self, account_id: str) -> list[dict[str, Any]]:
        return self._all(DNIS, account_id)

    def dnis(self, account_id: str, ref: str) -> dict[str, Any]:
        return self._find(DNIS, account_id, ref, ("id", "name", "reporting", "phoneNumber"), "Dnis")

    def client(self, client_id: str) -> dict[str, Any] | None:
        wanted = client_id.strip().lower()
        return next((c for c in self.rt.state.all(CLIENT) if c["clientId"].lower() == wanted), None)
