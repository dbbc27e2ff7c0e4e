"""The ``contactCenter`` section of an account in a tenant file: the site, employees and their agents, agent
groups, queues, reason codes, warning reasons, DNIS numbers and registered clients (see
``src/callyard/fixtures/demo-tenant.json``). Employees start logged out."""
from __future__ import annotations

from typing import Any, Callable

from callyard.core.auth.passwords import hash_fixture_password
from callyard.core.contact_center import config
from callyard.core.contact_center.platform import load_platform
from callyard.core.contact_center.model import MEDIA, REASON_TYPES, SECURITY_ROLES
from callyard.core.errors import Invalid
from callyard.core.runtime import Runtime
from callyard.core.state import State


def load_contact_center(state: State, rt: Runtime, account: dict[str, Any], spec: dict[str, Any],
                        user_ref: Callable[[dict[str, Any], str], str]) -> None:
    account_id = account["accountId"]
    now = rt.now_iso()

    def put(kind: str, doc: dict[str, Any]) -> dict[str, Any]:
        doc = {**doc, "id": doc.get("id") or rt.ids.uuid(), "accountId": account_id, "createdOn": now,
               "modifiedOn": now}
        state.load(kind, doc["id"], doc)
        return doc

    def bad(message: str) -> Invalid:
        return Invalid("InvalidTenant", f"account {account['name']}, contactCenter: {message}")

    site = put(config.SITE, {"name": account["name"], "timeZone": "UTC", "language": "en-US",
                             **spec.get("site", {})})
    for reason in spec.get("reasonCodes", []):
        if reason.get("type") not in REASON_TYPES:
            raise bad(f"reason code {reason.get('name')}: type is one of {', '.join(REASON_TYPES)}")
        put(config.REASON, {"siteId": site["id"], **reason})
    for warning in spec.get("warningReasons", []):
        put(config.WARNING, warning)
    for dnis in spec.get("dnis", []):
        put(config.DNIS, {"serviceLevel": 20, "shortAbandon": 5, **dnis})
    for client in spec.get("clients", []):
        put(config.CLIENT, {"id": client.get("id"), "clientId": client["clientId"], "name": client.get("name", ""),
                            "secretHash": hash_fixture_password(client["secret"])})
    for employee in spec.get("employees", []):
        user_id = user_ref(account, employee["user"])
        user = state.get("user", user_id) or {}
        role = employee.get("role", "Agent")
        if role not in SECURITY_ROLES:
            raise bad(f"employee {employee['user']}: role is one of {', '.join(SECURITY_ROLES)}")
        agents = {}
        for media, agent in (employee.get("agents") or {}).items():
            if media not in MEDIA:
                raise bad(f"employee {employee['user']}: agent media is one of {', '.join(MEDIA)}")
            agents[media] = {"id": agent.get("id") or rt.ids.uuid(), "reporting": agent["reporting"]}
        first, _, last = (user.get("name") or "").partition(" ")
        login = user.get("email") or ""
        put(config.EMPLOYEE, {"id": employee.get("id"), "userId": user_id, "login": login,
                              "username": login.split("@")[0], "firstName": first, "lastName": last,
                              "reporting": employee["reporting"], "securityRole": role, "siteId": site["id"],
                              "agents": agents})
    groups_by_name: dict[str, dict[str, Any]] = {}
    for group in spec.get("agentGroups", []):
        doc = dict(group)
        if "group" in doc:  # a Voice agent group: the PBX group's members answer
            pbx = next((g for g in state.all("group") if g["accountId"] == account_id
                        and g.get("name") == doc["group"]), None)
            if pbx is None:
                raise bad(f"agent group {group['name']}: no PBX group {doc['group']}")
            doc = {**{k: v for k, v in doc.items() if k != "group"}, "groupId": pbx["groupId"], "media": ["Voice"]}
        else:
            doc["members"] = [user_ref(account, m) for m in doc.get("members", [])]
        groups_by_name[group["name"]] = put(config.AGENT_GROUP, doc)
    for queue in spec.get("queues", []):
        doc = dict(queue)
        if doc.get("mediaType") not in MEDIA:
            raise bad(f"queue {queue.get('name')}: mediaType is one of {', '.join(MEDIA)}")
        try:
            doc["agentGroups"] = [groups_by_name[name]["id"] for name in doc.get("agentGroups", [])]
        except KeyError as missing:
            raise bad(f"queue {queue['name']}: no agent group {missing}") from None
        if "group" in doc:  # a Voice queue is the PBX's ACD group: same id, its number is the reporting number
            pbx = next((g for g in state.all("group") if g["accountId"] == account_id
                        and g.get("name") == doc["group"]), None)
            if pbx is None or pbx.get("type") != "ACD" or doc["mediaType"] != "Voice":
                raise bad(f"queue {queue['name']}: {doc['group']} is not an ACD group of the PBX")
            doc = {**{k: v for k, v in doc.items() if k != "group"}, "id": pbx["groupId"],
                   "groupId": pbx["groupId"], "reporting": pbx["extension"]}
        addresses = [doc.get("emailAddress"), *(doc.get("emailAliases") or [])]
        if any(a is not None for a in addresses):
            if doc["mediaType"] != "Email" or not all(isinstance(a, str) and "@" in a for a in addresses):
                raise bad(f"queue {queue['name']}: emailAddress and emailAliases are the addresses of an Email "
                          "queue")
            taken = {a.lower() for q in state.all(config.QUEUE) for a in [q.get("emailAddress"),
                                                                           *(q.get("emailAliases") or [])] if a}
            if taken & {a.lower() for a in addresses}:
                raise bad(f"queue {queue['name']}: its e-mail address is another queue's")
        put(config.QUEUE, {"serviceLevelSeconds": 20, "serviceLevelGoal": 80, "siteId": site["id"], **doc})
    load_platform(state, account, spec, put, site["id"])   # application profiles, prompts, variables
