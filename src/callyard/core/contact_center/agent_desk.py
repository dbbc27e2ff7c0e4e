"""The Desk's agents (one per media of an employee) and agent groups: who may see them, their states, the
members of a group and the licences in use.
"""
from __future__ import annotations

from typing import Any

from callyard.core.contact_center.desk_access import Caller, DeskBase
from callyard.core.errors import Forbidden, Invalid
from callyard.core.principal import Principal


class AgentDesk(DeskBase):
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
