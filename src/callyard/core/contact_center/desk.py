"""The contact center as its users see it: employees and their state, agents, agent groups, queues and their
real-time numbers, the interactions in queues and in employees' inboxes, and what an employee does with them.
Every operation takes the acting ``Principal`` and applies the security roles:

* an employee with the ``Supervisor`` role sees and changes every employee, agent and queue of the account;
* an ``Agent`` sees themselves, their own agents and agent groups and the queues those groups answer, and
  changes only their own state;
* a registered client without impersonation (a wallboard, a CRM) sees everything and changes nothing;
  ``me`` is refused for it ("third party requests are denied").

Reads and changes go to the one core: the PBX (calls, via the engine's verbs) and the agent documents.
"""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from callyard.core.contact_center import config as cfg
from callyard.core.contact_center.model import (AVAILABLE_REASONS, AWAY, MEDIA, PRESENCE, SUPERVISOR)
from callyard.core.engine.model import EXTENSION, Leg
from callyard.core.errors import Conflict, Forbidden, Invalid, NotFound, NotImplementedRoute
from callyard.core.principal import Principal

if TYPE_CHECKING:
    from callyard.core.contact_center.service import ContactCenter

TRANSFER_TYPES = ("Queue", "Employee", "External", "VoiceMail", "EndPoint")
VOICE_ACTIONS = ("Accept", "Decline", "NoReply", "Hold", "RemoveHold", "Transfer", "Pick", "End", "Dtmf",
                 "StartRecord", "StopRecord")
EXTENSION_NAMESPACE = uuid.UUID("6f1c0d3e-2b7a-4e0c-9a51-cc0000000e71")


@dataclass(frozen=True)
class Caller:
    principal: Principal
    account_id: str
    employee: dict[str, Any] | None
    supervisor: bool      # sees and changes everyone
    third_party: bool     # a client without impersonation: sees everyone, changes nothing

    @property
    def sees_all(self) -> bool:
        return self.supervisor or self.third_party


class Desk:
    def __init__(self, center: "ContactCenter") -> None:
        self.center = center
        self.config = center.config
        self.states = center.states
        self.engine = center.engine
        self.rt = center.rt
        self.started_on = center.rt.now_iso()

    # ================================================================== who is asking
    def caller(self, actor: Principal) -> Caller:
        if actor.kind == "client":
            return Caller(actor, actor.account_id, None, False, True)
        if actor.kind == "control":
            return Caller(actor, actor.account_id, None, True, False)
        employee = self.config.employee_of_user(actor.account_id, actor.user_id)
        if employee is None:
            raise Forbidden("NotAnEmployee", "the caller is not an employee of the contact center")
        return Caller(actor, actor.account_id, employee, employee["securityRole"] == SUPERVISOR, False)

    def _employee(self, caller: Caller, ref: str) -> dict[str, Any]:
        if ref.lower() == "me":
            if caller.employee is None:
                raise Forbidden("ThirdPartyDenied", "'me' needs an employee's token (third party requests are "
                                                    "denied; impersonate an employee)")
            return caller.employee
        return self.config.employee(caller.account_id, ref)

    def _visible_employee(self, caller: Caller, ref: str) -> dict[str, Any]:
        employee = self._employee(caller, ref)
        if not caller.sees_all and employee["id"] != (caller.employee or {}).get("id"):
            raise Forbidden("InsufficientPermissions", "agents may view only their own real-time information")
        return employee

    def _changeable_employee(self, caller: Caller, ref: str) -> dict[str, Any]:
        employee = self._employee(caller, ref)
        if caller.third_party:
            raise Forbidden("ThirdPartyDenied", "a client may not change an employee; impersonate one")
        if not caller.supervisor and employee["id"] != (caller.employee or {}).get("id"):
            raise Forbidden("InsufficientPermissions", "changing another employee's state needs the supervisor role")
        return employee

    def _visible_queues(self, caller: Caller) -> list[dict[str, Any]]:
        if caller.sees_all:
            return self.config.queues(caller.account_id)
        assert caller.employee is not None
        return self.config.queues_of(caller.employee)

    def _queue(self, caller: Caller, ref: str) -> dict[str, Any]:
        queue = self.config.queue(caller.account_id, ref)
        if queue["id"] not in {q["id"] for q in self._visible_queues(caller)}:
            raise Forbidden("InsufficientPermissions", f"queue {ref} is not one of the caller's queues")
        return queue

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

    def employee_extensions(self, actor: Principal, ref: str) -> list[dict[str, Any]]:
        employee = self._visible_employee(self.caller(actor), ref)
        phone = self.states.phone(employee)
        numbers = [n for n in (self.engine.dialplan.user_extension(employee["accountId"], employee["userId"]),
                               phone.number if phone else None) if n]
        return [self._extension_view(employee["accountId"], n) for n in dict.fromkeys(numbers)]

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

    async def set_employee_states(self, actor: Principal, changes: list[tuple[str, dict[str, Any]]]
                                  ) -> list[dict[str, Any]]:
        """Several employees' states in one transaction: all change or none."""
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
            return [self.state_of(employee) for employee, _ in checked]

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

    # ================================================================== agents and agent groups
    def _visible_agents(self, caller: Caller) -> list[dict[str, Any]]:
        agents = self.config.agents(caller.account_id)
        if caller.sees_all:
            return agents
        return [a for a in agents if a["employee"]["id"] == (caller.employee or {}).get("id")]

    def agents(self, actor: Principal) -> list[dict[str, Any]]:
        return self._visible_agents(self.caller(actor))

    def agent(self, actor: Principal, ref: str) -> dict[str, Any]:
        caller = self.caller(actor)
        if ref.lower() == "me":
            employee = self._employee(caller, "me")
            if len(employee["agents"]) != 1:
                raise Invalid("AmbiguousAgent", "the employee has several agents; name one by id or reporting")
            media, agent = next(iter(employee["agents"].items()))
            return {**agent, "mediaType": media, "employee": employee}
        agent = self.config.agent(caller.account_id, ref)
        if not caller.sees_all and agent["employee"]["id"] != (caller.employee or {}).get("id"):
            raise Forbidden("InsufficientPermissions", "agents may view only their own real-time information")
        return agent

    def agent_state(self, actor: Principal, ref: str) -> dict[str, Any]:
        agent = self.agent(actor, ref)
        return self.states.agent_view(agent["employee"], agent["mediaType"])

    def agent_states(self, actor: Principal) -> list[dict[str, Any]]:
        return [self.states.agent_view(a["employee"], a["mediaType"]) for a in self.agents(actor)]

    def agent_groups(self, actor: Principal) -> list[dict[str, Any]]:
        caller = self.caller(actor)
        if caller.sees_all:
            return self.config.agent_groups(caller.account_id)
        assert caller.employee is not None
        return self.config.agent_groups_of(caller.employee)

    def agent_group(self, actor: Principal, ref: str) -> dict[str, Any]:
        caller = self.caller(actor)
        group = self.config.agent_group(caller.account_id, ref)
        if group["id"] not in {g["id"] for g in self.agent_groups(actor)}:
            raise Forbidden("InsufficientPermissions", f"agent group {ref} is not one of the caller's")
        return group

    def agent_group_members(self, actor: Principal, ref: str) -> list[dict[str, Any]]:
        group = self.agent_group(actor, ref)
        members = set(self.config.members(group))
        return [a for a in self.config.agents(group["accountId"])
                if a["employee"]["userId"] in members and a["mediaType"] in group.get("media", [])]

    def agent_group_states(self, actor: Principal, ref: str) -> list[dict[str, Any]]:
        return [self.states.agent_view(a["employee"], a["mediaType"]) for a in self.agent_group_members(actor, ref)]

    def licenses(self, actor: Principal) -> dict[str, Any]:
        caller = self.caller(actor)
        voice = multimedia = 0
        for agent in self.config.agents(caller.account_id):
            doc = self.center.agents.agent(caller.account_id, agent["employee"]["userId"], agent["mediaType"])
            if doc["loggedIn"]:
                if agent["mediaType"] == "Voice":
                    voice += 1
                else:
                    multimedia += 1
        employees = self.config.employees(caller.account_id)
        voice_max = sum(1 for e in employees if "Voice" in e["agents"])
        mm_max = sum(1 for e in employees if any(m != "Voice" for m in e["agents"]))
        return {"activeVoiceAgents": voice, "maximumVoiceAgents": voice_max, "activeMultimediaAgents": multimedia,
                "maximumMultimediaAgents": mm_max, "lastAlarmUpdate": None}

    # ================================================================== queues
    def queues(self, actor: Principal) -> list[dict[str, Any]]:
        return self._visible_queues(self.caller(actor))

    def queue(self, actor: Principal, ref: str) -> dict[str, Any]:
        return self._queue(self.caller(actor), ref)

    def queue_state(self, actor: Principal, ref: str) -> dict[str, Any]:
        return self.center.queue_state_view(self.queue(actor, ref))

    def queue_states(self, actor: Principal) -> list[dict[str, Any]]:
        return [self.center.queue_state_view(q) for q in self.queues(actor)]

    def queue_members(self, actor: Principal, ref: str) -> list[dict[str, Any]]:
        """The member queues of a queue group (a plain queue has none)."""
        queue = self.queue(actor, ref)
        return [self.config.queue(queue["accountId"], m) for m in queue.get("members", [])]

    def queue_group_states(self, actor: Principal) -> list[dict[str, Any]]:
        """Queue groups (queues with member queues): none unless the tenant configures them."""
        return [self.center.queue_state_view(q) for q in self.queues(actor) if q.get("members")]

    def queue_group_state(self, actor: Principal, ref: str) -> dict[str, Any]:
        queue = self.queue(actor, ref)
        if not queue.get("members"):
            raise NotFound("QueueGroupNotFound", f"{queue['name']} is a queue, not a queue group")
        return self.center.queue_state_view(queue)

    async def delete_queue(self, actor: Principal, ref: str) -> None:
        """Remove a queue from the contact center (a Voice queue's ACD group stays in the PBX)."""
        caller = self.caller(actor)
        if not caller.supervisor:
            raise Forbidden("InsufficientPermissions", "deleting a queue needs the supervisor role")
        async with self.engine.transaction() as tx:
            queue = self.config.queue(caller.account_id, ref)
            if queue.get("groupId") and self.center.queues.waiting(queue["accountId"], queue["groupId"]):
                raise Conflict("QueueNotEmpty", f"queue {queue['name']} has conversations waiting")
            tx.uow.delete(cfg.QUEUE, queue["id"])
            tx.uow.emit("cc.queue.deleted", queue["accountId"], f"/queues/{queue['id']}", queue, self.rt.now_iso())

    def queue_conversations(self, actor: Principal, ref: str) -> list[dict[str, Any]]:
        queue = self.queue(actor, ref)
        out = []
        if queue.get("groupId"):
            out = [self.center.interactions.voice(e.call)
                   for e in self.center.queues.waiting(queue["accountId"], queue["groupId"])]
        out += [self.center.media.view(d) for d in self.center.media.waiting(queue)]
        return out

    def queue_conversation(self, actor: Principal, ref: str, conversation_id: str) -> dict[str, Any]:
        found = [c for c in self.queue_conversations(actor, ref) if c["conversationId"] == conversation_id]
        if not found:
            raise NotFound("ConversationNotFound", f"conversation {conversation_id} is not waiting in queue {ref}")
        return found[0]

    async def queue_action(self, actor: Principal, ref: str, conversation_id: str, update: dict[str, Any]) -> None:
        """Act on a waiting conversation: ``Pick`` offers it to the caller now."""
        caller = self.caller(actor)
        self.queue_conversation(actor, ref, conversation_id)
        action = update.get("action")
        if self.center.media.find(conversation_id) is not None:
            if caller.third_party:
                raise Forbidden("ThirdPartyDenied", "a client may not act on a queue; impersonate an employee")
            employee = self._employee(caller, "me") if action == "Pick" else caller.employee
            await self.center.media.queue_act(employee, self.queue(actor, ref), conversation_id, str(action))
            return
        if action != "Pick":
            raise Invalid("UnsupportedAction", f"{action} is not supported for a Voice conversation in a queue; "
                                               "use Pick")
        employee = self._employee(caller, "me")
        phone = self.states.phone(employee)
        if phone is None or "Voice" not in employee["agents"]:
            raise Conflict("NoVoiceAgent", "the employee has no Voice agent to take the conversation")
        await self.center.pick(phone, conversation_id)

    # ================================================================== conversations
    def conversations(self, actor: Principal) -> list[dict[str, Any]]:
        """Active interactions: waiting in the caller's queues, or handled by agents the caller may see."""
        caller = self.caller(actor)
        queues = {q["id"] for q in self._visible_queues(caller)}
        employees = {e["id"] for e in self.employees(actor)}
        out = []
        for call in self.engine.calls.values():
            if call.account_id != caller.account_id or not call.live_legs():
                continue
            view = self.center.interactions.voice(call)
            if view["queueId"] in queues or view["employeeId"] in employees:
                out.append(view)
                continue
            for leg in call.live_legs():  # a call of an employee outside any queue (NonAcd, Outbound)
                who = self.center.interactions.employee_at(call.account_id, leg.endpoint.number) \
                    if leg.endpoint.kind == EXTENSION else None
                if who is not None and who["id"] in employees:
                    out.append(self.center.interactions.voice(call, leg))
                    break
        out += [i for i in self.center.media.active(caller.account_id)
                if i.get("queueId") in queues or i.get("employeeId") in employees]
        return out

    def conversation(self, actor: Principal, conversation_id: str) -> dict[str, Any]:
        found = [c for c in self.conversations(actor) if c["conversationId"] == conversation_id]
        if not found:
            raise NotFound("ConversationNotFound", f"conversation {conversation_id} was not found")
        return found[0]

    async def add_call_details(self, actor: Principal, conversation_id: str,
                               variables: list[dict[str, Any]]) -> dict[str, Any]:
        """Key/value variables added to an active interaction's real-time details."""
        if not isinstance(variables, list) or not all(
                isinstance(v, dict) and isinstance(v.get("key"), str) and v["key"] for v in variables):
            raise Invalid("InvalidVariables", "variables is a list of {key, value}")
        self.conversation(actor, conversation_id)
        async with self.rt.write() as uow:
            doc = self.rt.state.get("cc_call_details", conversation_id) or {
                "id": conversation_id, "accountId": actor.account_id, "variables": {}}
            doc = {**doc, "variables": {**doc["variables"], **{v["key"]: v.get("value") for v in variables}}}
            uow.put("cc_call_details", conversation_id, doc)
            uow.emit("cc.conversation.details", actor.account_id, f"/conversations/{conversation_id}", doc,
                     self.rt.now_iso())
        return {"variables": [{"key": k, "value": v} for k, v in doc["variables"].items()]}

    def _inbox(self, employee: dict[str, Any]) -> list[tuple[Leg, dict[str, Any]]]:
        phone = self.states.phone(employee)
        if phone is None or "Voice" not in employee["agents"]:
            return []
        out = []
        for leg in phone.legs:
            if leg.state != "completed" and leg.call is not None:
                out.append((leg, self.center.interactions.voice(leg.call, leg)))
        return out

    def _inbox_employee(self, caller: Caller, ref: str) -> dict[str, Any]:
        employee = self._employee(caller, ref)
        if not caller.supervisor and employee["id"] != (caller.employee or {}).get("id"):
            raise Forbidden("InsufficientPermissions", "another employee's inbox needs the supervisor role")
        return employee

    def employee_conversations(self, actor: Principal, ref: str, folder: str = "active") -> list[dict[str, Any]]:
        """The employee's inbox: ``active`` (calls and the other media's interactions at them), ``failed``
        (failed interactions of the queues they answer, to reroute) or ``drafts`` (none here)."""
        caller = self.caller(actor)
        employee = self._inbox_employee(caller, ref)
        if folder == "failed":
            queues = {q["id"] for q in self.config.queues_of(employee)}
            return [d for d in self.center.media.history(employee["accountId"])
                    if d["conversationState"] == "Failed" and d.get("queueId") in queues]
        if folder == "drafts":
            return []
        return [view for _leg, view in self._inbox(employee)] + [
            self.center.media.view(d) for d in self.center.media.of_employee(employee)]

    def employee_conversation(self, actor: Principal, ref: str, conversation_id: str) -> dict[str, Any]:
        employee = self._inbox_employee(self.caller(actor), ref)
        found = [c for c in self.employee_conversations(actor, ref) if c["conversationId"] == conversation_id]
        if found:
            return found[0]
        return self._inbox_item(employee, conversation_id)[1]

    def _inbox_item(self, employee: dict[str, Any], conversation_id: str) -> tuple[Leg, dict[str, Any]]:
        found = [(leg, view) for leg, view in self._inbox(employee) if view["conversationId"] == conversation_id]
        if not found:
            raise NotFound("ConversationNotFound", f"conversation {conversation_id} is not in the employee's inbox")
        return found[0]

    def _desk_actor(self, employee: dict[str, Any]) -> Principal:
        """Who acts on the agent's phone: the contact center on the employee's behalf (the caller's right to
        act for the employee is checked before)."""
        return Principal(principal_id=f"contact-center:{employee['id']}", account_id=employee["accountId"],
                         role="ACCOUNT_ADMIN", kind="client", client_id="contact-center")

    async def conversation_action(self, actor: Principal, ref: str, conversation_id: str,
                                  update: dict[str, Any]) -> None:
        caller = self.caller(actor)
        employee = self._inbox_employee(caller, ref)
        if caller.third_party:
            raise Forbidden("ThirdPartyDenied", "a client may not act on an inbox; impersonate the employee")
        action = update.get("action")
        if action == "Transfer" and caller.supervisor:
            pass  # supervisors may transfer any conversation
        elif employee["id"] != (caller.employee or {}).get("id") and not (action == "Reroute" and caller.supervisor):
            raise Forbidden("InsufficientPermissions", "only the employee acts on their conversations")
        interaction = self.center.media.find(conversation_id)
        if interaction is not None and interaction["mediaType"] == "Email" and action != "Reroute":
            await self.center.mailroom.act(employee, conversation_id, update)   # drafts, replies, forwards
            return
        if interaction is not None or action == "Reroute":
            await self.center.media.act(employee, conversation_id, update)
            return
        leg, _view = self._inbox_item(employee, conversation_id)
        if action not in VOICE_ACTIONS or action == "Pick":
            raise Invalid("UnsupportedAction", f"{action} is not supported for a Voice conversation; supported: "
                                               f"{', '.join(a for a in VOICE_ACTIONS if a != 'Pick')}")
        desk, number, leg_id = self._desk_actor(employee), leg.endpoint.number, leg.leg_id
        engine = self.engine
        if action == "Accept":
            if leg.state != "ringing":
                raise Conflict("InvalidConversationState", "only an offered conversation can be accepted")
            await engine.answer(desk, number, leg_id)
        elif action in ("Decline", "NoReply"):
            if leg.state != "ringing":
                raise Conflict("InvalidConversationState", f"only an offered conversation can be {action}d")
            await engine.end(desk, number, leg_id)
        elif action == "End":
            await engine.end(desk, number, leg_id)
        elif action == "Hold":
            await engine.hold(desk, number, leg_id)
        elif action == "RemoveHold":
            await engine.retrieve(desk, number, leg_id)
        elif action == "Transfer":
            await engine.blind_transfer(desk, number, leg_id, self._destination(employee, update))
        elif action == "Dtmf":
            digits = update.get("dtmfDigit")
            if not isinstance(digits, str) or not digits:
                raise Invalid("InvalidDtmf", "dtmfDigit is required for Dtmf")
            await engine.send_dtmf(desk, number, leg_id, digits)
        elif action == "StartRecord":
            await engine.start_recording(desk, number, leg_id)
        elif action == "StopRecord":
            await engine.stop_recording(desk, number, leg_id)

    def _destination(self, employee: dict[str, Any], update: dict[str, Any]) -> str:
        target = update.get("transferDestination")
        kind = update.get("transferDestinationType") or "EndPoint"
        if not isinstance(target, str) or not target:
            raise Invalid("InvalidTransferDestination", "transferDestination is required for Transfer")
        if kind not in TRANSFER_TYPES:
            raise Invalid("InvalidTransferDestination",
                          f"transferDestinationType is one of {', '.join(TRANSFER_TYPES)}")
        account_id = employee["accountId"]
        if kind == "Queue":
            queue = self.config.queue(account_id, target)
            if queue["mediaType"] != "Voice":
                raise Invalid("InvalidTransferDestination", f"queue {queue['name']} is not a Voice queue")
            return str(queue["reporting"])
        if kind == "Employee":
            other = self.config.employee(account_id, target)
            phone = self.states.phone(other)
            if phone is None:
                raise Conflict("NoExtension", f"employee {target} has no extension")
            return phone.number
        if kind == "VoiceMail":
            return "voicemail"
        return target

    async def start_conversation(self, actor: Principal, ref: str, request: dict[str, Any]) -> str:
        """Dial (Voice): the employee's phone calls ``to``. Returns the new conversation's id."""
        caller = self.caller(actor)
        employee = self._employee(caller, ref)
        if caller.third_party:
            raise Forbidden("ThirdPartyDenied", "third party requests are denied; impersonate the employee")
        if employee["id"] != (caller.employee or {}).get("id"):
            raise Forbidden("InsufficientPermissions", "an employee starts conversations only for themselves")
        kind = request.get("type")
        if kind == "Sms":
            return await self._start_sms(employee, request)
        if kind == "Email":   # a new e-mail from one of the employee's Email queues, its NewDraft to write
            return await self.center.mailroom.start_new(employee, request)
        if kind in ("Chat", "OpenMedia"):
            raise Invalid("NotStartable", f"a {kind} conversation is started by the customer (a web chat) or "
                                          "its third-party system (POST /openmedia), not by an employee")
        if kind != "Voice":
            raise NotImplementedRoute("MediaNotAvailable", f"starting a {kind} conversation is not available yet; "
                                                           "Voice, Sms and Email are")
        to = request.get("to")
        if not isinstance(to, str) or not to.strip():
            raise Invalid("InvalidTo", "to is the number to call")
        phone = self.states.phone(employee)
        if phone is None or "Voice" not in employee["agents"]:
            raise Conflict("NoVoiceAgent", "the employee has no extension to call from")
        source = request.get("from")
        if source not in (None, "", phone.number):
            raise Invalid("InvalidFrom", f"from must be the employee's device ({phone.number})")
        snapshot = await self.engine.originate(self._desk_actor(employee), phone.number, to.strip())
        return str(snapshot["callId"])

    async def _start_sms(self, employee: dict[str, Any], request: dict[str, Any]) -> str:
        """An SMS conversation the employee starts with ``to``, from one of their Sms queues (``from``: its id,
        name, reporting or phone number; default their only one): accepted at once, it waits for their text
        (ConversationAction Send)."""
        to = request.get("to")
        if not isinstance(to, str) or not to.strip().lstrip("+").isdigit():
            raise Invalid("InvalidTo", "to is the customer's phone number")
        queues = [q for q in self.config.queues_of(employee) if q["mediaType"] == "Sms"]
        source = request.get("from")
        if source not in (None, ""):
            wanted = str(source).strip().lower()
            queues = [q for q in queues if wanted in (q["id"], q["name"].lower(), q["reporting"],
                                                       str(q.get("phoneNumber") or "").lower())]
        if len(queues) != 1:
            raise Invalid("InvalidFrom", "from names one of the employee's Sms queues")
        doc = await self.center.media.start_outbound(employee, "Sms", queues[0], to.strip(),
                                                     subject=request.get("subject"))
        return str(doc["conversationId"])

    # ================================================================== the rest
    def reason_codes(self, actor: Principal) -> list[dict[str, Any]]:
        return self.config.reason_codes(self.caller(actor).account_id)

    def reason_code(self, actor: Principal, ref: str) -> dict[str, Any]:
        return self.config.reason_code(self.caller(actor).account_id, ref)

    def warning_reasons(self, actor: Principal) -> list[dict[str, Any]]:
        return self.config.warning_reasons(self.caller(actor).account_id)

    def warning_reason(self, actor: Principal, ref: str) -> dict[str, Any]:
        return self.config.warning_reason(self.caller(actor).account_id, ref)

    def dnis_numbers(self, actor: Principal) -> list[dict[str, Any]]:
        return self.config.dnis_numbers(self.caller(actor).account_id)

    def dnis(self, actor: Principal, ref: str) -> dict[str, Any]:
        return self.config.dnis(self.caller(actor).account_id, ref)

    def sites(self, actor: Principal) -> list[dict[str, Any]]:
        return self.config.sites(self.caller(actor).account_id)

    def site(self, actor: Principal, ref: str) -> dict[str, Any]:
        return self.config.site(self.caller(actor).account_id, ref)

    def _extension_view(self, account_id: str, number: str) -> dict[str, Any]:
        endpoint = self.engine.endpoint(account_id, number)
        employee = self.center.interactions.employee_at(account_id, number)
        return {"id": str(uuid.uuid5(EXTENSION_NAMESPACE, f"{account_id}:{number}")), "accountId": account_id,
                "reporting": number, "name": endpoint.name if endpoint else "", "mediaType": "Voice",
                "acdEnabled": bool(employee and "Voice" in employee["agents"]),
                "employeeId": employee["id"] if employee else None}

    def extensions(self, actor: Principal) -> list[dict[str, Any]]:
        caller = self.caller(actor)
        numbers = sorted(u["extension"] for u in self.rt.state.all("user")
                         if u["accountId"] == caller.account_id and u.get("extension"))
        views = [self._extension_view(caller.account_id, n) for n in numbers]
        if caller.sees_all:
            return views
        mine = {(caller.employee or {}).get("id")}
        return [v for v in views if v["employeeId"] in mine]

    def extension(self, actor: Principal, ref: str) -> dict[str, Any]:
        wanted = ref.strip().lower()
        found = [e for e in self.extensions(actor) if wanted in (e["id"], e["reporting"].lower(), e["name"].lower())]
        if len(found) != 1:
            raise NotFound("ExtensionNotFound", f"extension {ref} was not found")
        return found[0]

    def status(self) -> dict[str, Any]:
        return {"serverTime": self.rt.now_iso(), "startedOn": self.started_on, "isReady": True,
                "isRealtimeConnected": True, "isDataAccessConnected": True}

    # ------------------------------------------------------------------ directory
    def directory(self, actor: Principal) -> list[dict[str, Any]]:
        """Employees, queues and the contacts added through the directory, as directory entries."""
        caller = self.caller(actor)
        entries: list[dict[str, Any]] = []
        for employee in self.config.employees(caller.account_id):
            user = self.rt.state.get("user", employee["userId"]) or {}
            entries.append({"id": employee["id"], "accountId": caller.account_id, "type": "Employee",
                            "name": user.get("name", ""), "email": user.get("email"),
                            "phone": self.engine.dialplan.user_extension(caller.account_id, employee["userId"]),
                            "mobilePhone": user.get("mobile"), "extension": self.engine.dialplan.user_extension(
                                caller.account_id, employee["userId"]),
                            "presence": self.state_of(employee)["presence"]["aggregate"]})
        for queue in self.config.queues(caller.account_id):
            entries.append({"id": queue["id"], "accountId": caller.account_id, "type": "Queue", "name": queue["name"],
                            "phone": queue["reporting"] if queue["mediaType"] == "Voice" else None,
                            "extension": queue["reporting"]})
        entries += [d for d in self.rt.state.all(cfg.DIRECTORY) if d["accountId"] == caller.account_id]
        return entries

    def directory_entry(self, actor: Principal, ref: str) -> dict[str, Any]:
        wanted = ref.strip().lower()
        found = [e for e in self.directory(actor) if wanted in (e["id"], str(e.get("name") or "").lower())]
        if len(found) != 1:  # several matches: nothing is returned
            raise NotFound("DirectoryEntryNotFound", f"directory entry {ref} was not found")
        return found[0]

    @staticmethod
    def _entry_fields(body: dict[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {k: body.get(k) for k in ("name", "email", "phone", "mobilePhone", "extension")
                                  if k in body}
        for key, value in fields.items():
            if value is not None and not isinstance(value, str):
                raise Invalid("InvalidDirectoryEntry", f"{key} is a string")
        if "custom" in body:
            if not isinstance(body["custom"], dict):
                raise Invalid("InvalidDirectoryEntry", "custom is an object")
            fields["custom"] = body["custom"]
        return fields

    async def create_directory_entry(self, actor: Principal, body: dict[str, Any]) -> dict[str, Any]:
        caller = self.caller(actor)
        fields = self._entry_fields(body)
        if not (fields.get("name") or "").strip():
            raise Invalid("InvalidDirectoryEntry", "name is required")
        async with self.rt.write() as uow:
            now = self.rt.now_iso()
            doc = {"id": self.rt.ids.uuid(), "accountId": caller.account_id, "type": "ElasticContact",
                   "createdOn": now, "modifiedOn": now, "custom": {}, **fields}
            uow.put(cfg.DIRECTORY, doc["id"], doc)
            uow.emit("cc.directory.created", caller.account_id, f"/directory/{doc['id']}", doc, now)
            return doc

    async def update_directory_entry(self, actor: Principal, ref: str, body: dict[str, Any]) -> dict[str, Any]:
        caller = self.caller(actor)
        fields = self._entry_fields(body)
        async with self.rt.write() as uow:
            entry = self.directory_entry(actor, ref)
            if entry["type"] != "ElasticContact":
                raise Conflict("ReadOnlyEntry", f"a {entry['type']} entry changes where it is configured")
            if "name" in fields and not (fields["name"] or "").strip():
                raise Invalid("InvalidDirectoryEntry", "name cannot be empty")
            doc = {**entry, **fields, "modifiedOn": self.rt.now_iso()}
            uow.put(cfg.DIRECTORY, doc["id"], doc)
            uow.emit("cc.directory.updated", caller.account_id, f"/directory/{doc['id']}", doc, self.rt.now_iso())
            return doc
