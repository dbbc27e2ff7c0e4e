"""The Desk's employees: who they are, their state (log in at a desk or hot-desk extension, busy, DND, Away,
log out), their greetings, their presence in agent groups and the reason codes they may use.
"""
from __future__ import annotations

from typing import Any

from callyard.core.contact_center import config as cfg
from callyard.core.contact_center.desk_access import DeskBase
from callyard.core.contact_center.model import AVAILABLE_REASONS, AWAY, MEDIA, PRESENCE
from callyard.core.engine.model import EXTENSION
from callyard.core.errors import Conflict, Forbidden, Invalid, NotFound
from callyard.core.principal import Principal


class EmployeeDesk(DeskBase):
    # ================================================================== employees
    def employees(self, actor: Principal) -> list[dict[str, Any]]:
        caller = self.caller(actor)
        if caller.sees_all:
            return self.config.employees(caller.account_id)
        return [caller.employee] if caller.employee else []

    def employee(self, actor: Principal, ref: str) -> dict[str, Any]:
        return self._visible_employee(self.caller(actor), ref)

    def employee_state(self, actor: Principal, ref: str) -> dict[str, Any]:
        employee = self._visible_employee(self.caller(actor), ref)
        return self.state_of(employee)

    def state_of(self, employee: dict[str, Any]) -> dict[str, Any]:
        announced = self.rt.state.get(cfg.STATE, employee["id"])
        return self.states.view(employee, announced["enteredStateOn"] if announced else employee["createdOn"])

    def employee_agent_groups(self, actor: Principal, ref: str) -> list[dict[str, Any]]:
        return self.config.agent_groups_of(self._visible_employee(self.caller(actor), ref))

    def employee_queues(self, actor: Principal, ref: str) -> list[dict[str, Any]]:
        return self.config.queues_of(self._visible_employee(self.caller(actor), ref))

    def photo_owner(self, actor: Principal, ref: str) -> dict[str, Any]:
        """The user whose photo the caller may set: their own ("me" is always allowed), or as a supervisor."""
        caller = self.caller(actor)
        employee = self._employee(caller, ref)
        if not caller.supervisor and employee["id"] != (caller.employee or {}).get("id"):
            raise Forbidden("InsufficientPermissions", "another employee's photo needs the supervisor role")
        user = self.rt.state.get("user", employee["userId"])
        if user is None:
            raise NotFound("EmployeeNotFound", f"employee {ref} has no user")
        return user

    # ------------------------------------------------------------------ greetings
    def greetings(self, actor: Principal, ref: str) -> dict[str, Any]:
        """The employee's agent greetings (names of recordings; by default none)."""
        employee = self._visible_employee(self.caller(actor), ref)
        doc = self.rt.state.get("cc_greetings", employee["id"]) or {}
        return {"isDefault": doc.get("isDefault", True), "defaultGreeting": doc.get("defaultGreeting", ""),
                "greetings": list(doc.get("greetings", [])), "queueGreetings": list(doc.get("queueGreetings", []))}

    async def update_greetings(self, actor: Principal, ref: str, action: str, file_to_delete: str,
                               change: dict[str, Any]) -> dict[str, Any]:
        """``update``: which greeting plays (isDefault, defaultGreeting, per-queue greetings); ``delete``: remove
        the greeting ``file_to_delete``. "me" is always allowed; third party requests are denied."""
        caller = self.caller(actor)
        employee = self._changeable_employee(caller, ref)
        current = self.greetings(actor, employee["id"])
        if action.lower() == "delete":
            if file_to_delete not in current["greetings"]:
                raise NotFound("GreetingNotFound", f"greeting {file_to_delete} was not found")
            current["greetings"].remove(file_to_delete)
            if current["defaultGreeting"] == file_to_delete:
                current.update(defaultGreeting="", isDefault=True)
        elif action.lower() == "update":
            if not isinstance(change.get("isDefault"), bool):
                raise Invalid("InvalidGreetings", "isDefault is required (true or false)")
            current["isDefault"] = change["isDefault"]
            for key in ("defaultGreeting",):
                if change.get(key) is not None:
                    if not isinstance(change[key], str):
                        raise Invalid("InvalidGreetings", f"{key} is a greeting name")
                    current[key] = change[key]
            for key in ("greetings", "queueGreetings"):
                if change.get(key) is not None:
                    if not isinstance(change[key], list):
                        raise Invalid("InvalidGreetings", f"{key} is a list")
                    current[key] = change[key]
        else:
            raise Invalid("InvalidGreetingAction", "actionName is update or delete")
        async with self.rt.write() as uow:
            uow.put("cc_greetings", employee["id"], {"id": employee["id"], "accountId": employee["accountId"],
                                                      **current})
            uow.emit("cc.greetings.updated", employee["accountId"], f"/employees/{employee['id']}/greetings",
                     current, self.rt.now_iso())
        return current

    def busy_reason_codes(self, actor: Principal, ref: str) -> list[dict[str, Any]]:
        employee = self._visible_employee(self.caller(actor), ref)
        return self.config.reason_codes(employee["accountId"])

    # ------------------------------------------------------------------ employee state
    def _check_state(self, employee: dict[str, Any], change: dict[str, Any]) -> dict[str, Any]:
        """Validate one EmployeeStateUpdate (names already) before anything changes; returns it normalised."""
        state = change.get("state")
        if state not in PRESENCE or state == "Unknown":
            raise Invalid("InvalidState", f"state must be one of {', '.join(PRESENCE[1:])}")
        available_reason = change.get("availableReason") or "Available"
        if available_reason not in AVAILABLE_REASONS:
            raise Invalid("InvalidAvailableReason", f"availableReason must be one of {', '.join(AVAILABLE_REASONS)}")
        reason = None
        if change.get("reason") not in (None, ""):
            if state not in ("Busy", "DoNotDisturb"):
                raise Invalid("InvalidReason", "a reason code goes with state Busy or DoNotDisturb")
            code = self.config.reason_code(employee["accountId"], str(change["reason"]))
            wanted = "Busy" if state == "Busy" else "Dnd"
            if code["type"] != wanted:
                raise Invalid("InvalidReason", f"reason code {code['name']} is a {code['type']} code, not {wanted}")
            reason = code["id"]
        hot_desk = change.get("hotDeskBaseExtension") or None
        if hot_desk is not None:
            if state != "Available" or "Voice" not in employee["agents"]:
                raise Invalid("InvalidHotDesk", "hot desking is a Voice agent's login (state Available)")
            endpoint = self.engine.endpoint(employee["accountId"], str(hot_desk))
            if endpoint is None or endpoint.kind != EXTENSION:
                raise Invalid("InvalidHotDesk", f"hotDeskBaseExtension {hot_desk} is not an extension")
            for other in self.config.employees(employee["accountId"]):
                doc = self.center.agents.agent(employee["accountId"], other["userId"])
                if other["id"] != employee["id"] and doc.get("hotDeskExtension") == endpoint.number:
                    raise Conflict("HotDeskInUse", f"extension {endpoint.number} is in use by another agent")
            hot_desk = endpoint.number
        logged_in = any(self.center.agents.agent(employee["accountId"], employee["userId"], m)["loggedIn"]
                        for m in employee["agents"])
        if state in ("Busy", "DoNotDisturb", "Away") and not logged_in:
            raise Conflict("EmployeeLoggedOut", "the employee is logged out; log in (state Available) first")
        if not employee["agents"]:
            raise Conflict("NoAgents", "the employee has no agents to log in")
        return {"state": state, "availableReason": available_reason, "reason": reason, "hotDesk": hot_desk}

    def _apply_state(self, uow: Any, employee: dict[str, Any], change: dict[str, Any]) -> None:
        agents = self.center.agents
        state = change["state"]
        for media in employee["agents"]:
            agent = agents.agent(employee["accountId"], employee["userId"], media)
            if state == "Offline":
                updated = agents.changed(agent, logged_in=False, ready=None, reason=None, skills=None, presence=None)
            elif state == "Available":
                updated = agents.changed(agent, logged_in=True, ready=True, reason=None, skills=None, presence=None)
                updated["wrapUntil"] = None
                if not agent["loggedIn"]:
                    updated["presence"] = {}  # a login joins every agent group of the employee
                if media == "Voice" and (change["hotDesk"] or change["availableReason"] == "Login"):
                    updated["hotDeskExtension"] = change["hotDesk"]
            else:
                reason = change["reason"] or (AWAY if state == "Away" else None)
                if not agent["loggedIn"]:
                    continue
                updated = {**agent, "ready": False, "reason": reason}
            if updated != agent:
                agents.save(uow, updated)

    async def set_employee_state(self, actor: Principal, ref: str, change: dict[str, Any]) -> dict[str, Any]:
        """Log in (Available, AvailableReason Login, optionally at a hot-desk extension), clear busy, DND or
        the work timer (Available), make busy or DND with a reason code, Away, or log out (Offline)."""
        return (await self.set_employee_states(actor, [(ref, change)]))[0]

    async def change_employee_state(self, actor: Principal, ref: str, change: dict[str, Any]) -> None:
        """``set_employee_state`` for a caller that needs no state back (the CX API answers "OK")."""
        await self.set_employee_states(actor, [(ref, change)], answer=False)

    async def set_employee_states(self, actor: Principal, changes: list[tuple[str, dict[str, Any]]], *,
                                  answer: bool = True) -> list[dict[str, Any]]:
        """Several employees' states in one transaction: all change or none. Returns their states (none when
        ``answer`` is false)."""
        caller = self.caller(actor)
        async with self.engine.transaction() as tx:
            checked = []
            for ref, change in changes:
                employee = self._changeable_employee(caller, ref)
                checked.append((employee, self._check_state(employee, change)))
            for employee, change in checked:
                phone = self.states.phone(employee)
                self._apply_state(tx.uow, employee, change)
                self.center.employee_changed(tx, employee, [phone])
            return [self.state_of(employee) for employee, _ in checked] if answer else []

    # ------------------------------------------------------------------ agent-group presence
    def agent_group_presence(self, actor: Principal, ref: str, group_ref: str | None = None) -> list[dict[str, Any]]:
        employee = self._visible_employee(self.caller(actor), ref)
        groups = self.config.agent_groups_of(employee)
        if group_ref is not None:
            wanted = self.config.agent_group(employee["accountId"], group_ref)
            groups = [g for g in groups if g["id"] == wanted["id"]]
            if not groups:
                raise NotFound("AgentGroupNotFound", f"the employee is not a member of agent group {group_ref}")
        return [self._group_presence(employee, g) for g in groups]

    def _group_presence(self, employee: dict[str, Any], group: dict[str, Any]) -> dict[str, Any]:
        statuses = []
        key = group.get("groupId") or group["id"]
        for media in MEDIA:
            agent = employee["agents"].get(media)
            if agent and media in group.get("media", []):
                doc = self.center.agents.agent(employee["accountId"], employee["userId"], media)
                present = doc["presence"].get(key) is not False
                statuses.append({"id": agent["id"], "type": media, "status": "Present" if present else "NotPresent"})
        return {"id": group["id"], "name": group["name"], "reporting": group.get("reporting"), "statuses": statuses}

    async def set_agent_group_presence(self, actor: Principal, ref: str, groups: list[dict[str, Any]]
                                       ) -> list[dict[str, Any]]:
        """Join or leave agent groups, per media: ``[{id, statuses: [{type|id, status: Present|NotPresent}]}]``."""
        caller = self.caller(actor)
        async with self.engine.transaction() as tx:
            employee = self._changeable_employee(caller, ref)
            mine = {g["id"]: g for g in self.config.agent_groups_of(employee)}
            changes: dict[str, dict[str, bool]] = {}
            for item in groups:
                group = self.config.agent_group(employee["accountId"], str(item.get("id") or ""))
                if group["id"] not in mine:
                    raise Invalid("NotAMember", f"the employee is not a member of agent group {group['name']}")
                key = group.get("groupId") or group["id"]
                for status in item.get("statuses") or []:
                    media = status.get("type")
                    if media is None and status.get("id"):
                        media = next((m for m, a in employee["agents"].items() if a["id"] == status["id"]), None)
                    if media not in group.get("media", []) or media not in employee["agents"]:
                        raise Invalid("InvalidStatus", f"status type must be a media of agent group {group['name']} "
                                                       "and of the employee")
                    if status.get("status") not in ("Present", "NotPresent"):
                        raise Invalid("InvalidStatus", "status is Present or NotPresent")
                    changes.setdefault(media, {})[key] = status["status"] == "Present"
            for media, presence in changes.items():
                agent = self.center.agents.agent(employee["accountId"], employee["userId"], media)
                self.center.agents.save(tx.uow, {**agent, "presence": {**agent["presence"], **presence}})
            self.center.employee_changed(tx, employee)
            return [self._group_presence(employee, g) for g in mine.values()]
