"""Interactions (conversations) of the contact center, media-neutral.

An interaction has an id, a media type, a state (InQueue, Offered, Acd, NonAcd, Outbound, Held, Ended), the
customer's and the target's addresses, the queue it came through and the agent handling it, and the times it
reached the system, the queue and the agent. A Voice interaction is an engine call (its id is the call's id;
the agent's leg carries the agent-side state); the other media are ``cc_interaction`` documents with the same
fields, routed through the same queues and agent state by ``media`` (:class:`~callyard.core.contact_center.
media.Multimedia`). Views here are core dictionaries; a family shapes them for its wire.
"""
from __future__ import annotations

from typing import Any

from callyard.core.clock import iso
from callyard.core.contact_center.config import EMPLOYEE, Config
from callyard.core.contact_center.model import ACD, HELD, IN_QUEUE, NON_ACD, OFFERED, OUTBOUND
from callyard.core.contact_center.queues import Queues
from callyard.core.directory.indexes import Lazy
from callyard.core.engine.model import EXTENSION, Call, Leg
from callyard.core.engine.service import Engine


def _at(value: Any) -> str | None:
    return iso(value) if value is not None else None


class Interactions:
    def __init__(self, engine: Engine, queues: Queues, config: Config) -> None:
        self.engine = engine
        self.queues = queues
        self.config = config
        # per account, while no agent or employee changes: hot-desk extension → employee and user → employee,
        # in the configuration's order (every call event of an extension asks)
        self._desks: Lazy[dict[str, tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]]] = Lazy(
            engine.rt.state, ("agent", EMPLOYEE), dict)

    def agent_state(self, leg: Leg) -> str:
        """The state of a Voice interaction as the agent on ``leg`` sees it."""
        if leg.state == "ringing":
            return OFFERED if leg.queue_id else NON_ACD
        if leg.state == "held":
            return HELD
        if leg.queue_id:
            return ACD
        return OUTBOUND if leg.direction == "outbound" else NON_ACD

    def voice(self, call: Call, agent_leg: Leg | None = None,
              agent_employee: dict[str, Any] | None = None) -> dict[str, Any]:
        """A Voice interaction: from the agent's side when ``agent_leg`` is given (``agent_employee``: the
        employee at its extension, when the caller has just looked it up), else from the queue's."""
        account_id = call.account_id
        first = call.legs[0] if call.legs else None
        queue = self.config.queue_of_group(account_id, call.queue_id) if call.queue_id else None
        entry = self.queues.entry_of(call)
        if agent_leg is not None:
            state = self.agent_state(agent_leg)
        elif entry is not None:
            state = OFFERED if entry.offered else IN_QUEUE
        else:
            live = [leg for leg in call.live_legs() if leg is not first]
            state = HELD if any(leg.state == "held" for leg in live) else (ACD if call.queue_id else NON_ACD)
        agent = agent_leg
        if agent is None and entry is not None and entry.offers:
            agent = entry.offers[0]
        if agent is None:
            agent = next((leg for leg in call.live_legs() if leg.queue_id and leg.state != "ringing"), None)
        employee = None
        if agent_employee is not None and agent is agent_leg:
            employee = agent_employee
        elif agent is not None and agent.endpoint.kind == EXTENSION:
            employee = self.employee_at(account_id, agent.endpoint.number)
        inbound = first is not None and first.endpoint.kind != EXTENSION
        if agent_leg is not None and not inbound:
            inbound = agent_leg.direction == "inbound"
        return {
            "conversationId": call.call_id, "accountId": account_id, "mediaType": "Voice",
            "conversationState": state, "direction": "Inbound" if inbound else "Outbound",
            "fromAddress": first.from_number if first else None, "fromName": first.from_name if first else None,
            "toAddress": first.to_number if first else None, "toName": first.to_name if first else None,
            "queueId": queue["id"] if queue else None, "queueName": queue["name"] if queue else None,
            "queueReporting": queue["reporting"] if queue else None,
            "employeeId": employee["id"] if employee else None,
            "agentId": employee["agents"]["Voice"]["id"] if employee and "Voice" in employee["agents"] else None,
            "agentReporting": employee["agents"]["Voice"]["reporting"]
            if employee and "Voice" in employee["agents"] else None,
            "agentFirstName": employee["firstName"] if employee else None,
            "agentLastName": employee["lastName"] if employee else None,
            "timeOfferedToSystem": _at(call.created_on), "timeOfferedToQueue": _at(entry.queued_on) if entry else None,
            "timeOfferedToAgent": _at(agent.created_on) if agent is not None else None,
            "timeOfLastAgentResponse": _at(agent.answered_on) if agent is not None else None,
            "positionInQueue": self._position(call) if entry is not None else 0,
            "isRecording": bool(call.recording and not call.recording.paused),
            "legId": agent_leg.leg_id if agent_leg else None,
            "endpoint": agent_leg.endpoint.number if agent_leg else None,
            "modifiedOn": self.engine.rt.now_iso(),
        }

    def _position(self, call: Call) -> int:
        entries = self.queues.waiting(call.account_id, call.queue_id or "")
        return next((i + 1 for i, e in enumerate(entries) if e.call is call), 0)

    def _desk(self, account_id: str) -> tuple[dict[str, dict[str, Any]], dict[str, dict[str, Any]]]:
        desks = self._desks.get()
        known = desks.get(account_id)
        if known is None:
            state = self.engine.rt.state
            hot_desks: dict[str, dict[str, Any]] = {}
            owners: dict[str, dict[str, Any]] = {}
            for employee in self.config.employees(account_id):
                doc = state.get("agent", f"{account_id}:{employee['userId']}") or {}
                if doc.get("hotDeskExtension"):
                    hot_desks.setdefault(doc["hotDeskExtension"], employee)
                owners.setdefault(employee["userId"], employee)
            known = desks[account_id] = (hot_desks, owners)
        return known

    def employee_at(self, account_id: str, number: str) -> dict[str, Any] | None:
        """The employee whose Voice agent works at extension ``number`` (hot-desked there, or their own)."""
        hot_desks, owners = self._desk(account_id)
        if number in hot_desks:
            return hot_desks[number]
        endpoint = self.engine.endpoint(account_id, number)
        if endpoint is None or endpoint.user_id is None:
            return None
        owner = owners.get(endpoint.user_id)
        if owner is not None:
            doc = self.engine.rt.state.get("agent", f"{account_id}:{owner['userId']}") or {}
            if doc.get("hotDeskExtension") not in (None, number):
                return None  # hot-desked elsewhere: their own phone is not theirs as an agent now
        return owner
