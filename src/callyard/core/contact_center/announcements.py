"""The contact center's own events, derived inside each transaction from what changed in it (an in-transaction
projection on ``call.state``, ``agent.updated``, ``queue.updated`` and ``cc.interaction.updated``, so calls and
the other media's interactions (``media``) make the same events):

* ``cc.employee.state`` — an employee's presence (any media or the aggregate: state, acdState, reason)
  changed; data: the employee state view. Announced once per change (the last announced presence is kept
  in a ``cc_state`` document, so a save that changes nothing visible announces nothing).
* ``cc.agent.state`` — one agent's (media's) presence changed; data: the agent state view.
* ``cc.conversation.changed`` — an interaction was offered to, or changed for, an employee or a queue; data:
  ``{conversation, employeeId, queueId}`` (one of the two set: whose view it is).
* ``cc.conversation.removed`` — it left the employee's inbox or the queue; data:
  ``{conversationId, employeeId, queueId}``.
* ``cc.queue.state`` — a queue's real-time numbers changed; data: the queue state view.

These carry everything a live projection (the SignalR hubs: employeeStateChanged, onAgentStateChanged,
employeeConversationChanged/Removed, queueStateChanged, queueConversationChanged/Removed) needs.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from callyard.core.contact_center.config import STATE
from callyard.core.contact_center.employees import add_interval
from callyard.core.contact_center.model import MEDIA, MEDIA_KEYS
from callyard.core.engine.model import EXTENSION
from callyard.events.event import Event

if TYPE_CHECKING:
    from callyard.core.contact_center.service import ContactCenter
    from callyard.core.state import UnitOfWork


def signature(presence: dict[str, Any]) -> dict[str, Any]:
    """What of a presence is announced: state, acdState and reason per media and the aggregate."""
    out = {}
    for key, value in presence.items():
        for entry in value if isinstance(value, list) else [value]:
            out[key] = [entry["state"], entry["acdState"], entry.get("reasonId"), entry.get("reasonName")]
    return out


_QUEUE_KEYS = ("waiting", "agentsLoggedIn", "agentsAvailable", "agentsIdle", "agentsOnAcd", "agentsUnavailable",
               "offeredToday", "answeredToday", "abandonedToday", "answeredWithinServiceLevelToday")


class Announcements:
    def __init__(self, center: "ContactCenter") -> None:
        self.center = center

    def run(self, uow: "UnitOfWork", events: list[Event]) -> None:
        center = self.center
        config, rt = center.config, center.rt
        employees: dict[str, dict[str, Any]] = {}
        queues: dict[str, dict[str, Any]] = {}
        conversations: dict[tuple[str, str, str], tuple[str, dict[str, Any]]] = {}
        for event in events:
            data = event.data or {}
            account_id = event.account_id or ""
            if event.type == "agent.updated":
                employee = config.employee_of_user(account_id, data.get("userId"))
                if employee is not None:
                    employees[employee["id"]] = employee
            elif event.type == "queue.updated":
                queue = config.queue_of_group(account_id, data.get("groupId"))
                if queue is not None:
                    queues[queue["id"]] = queue
            elif event.type == "call.state":
                self._call(event, employees, queues, conversations)
            elif event.type == "cc.interaction.updated":
                self._interaction(data, employees, queues, conversations)
        for (kind, _doc_id), doc in list(uow.changes.upserts.items()):
            if kind == "queue_call":  # written once, when the call leaves the queue
                queue = config.queue_of_group(doc["accountId"], doc["groupId"])
                if queue is not None:
                    queues[queue["id"]] = queue
                    conversations[("queue", queue["id"], doc["callId"])] = (
                        "cc.conversation.removed", {"conversationId": doc["callId"], "employeeId": None,
                                                    "queueId": queue["id"]})
        for employee in employees.values():
            self._employee(uow, employee, queues)
        for (_scope, _owner, conversation_id), (type_, payload) in conversations.items():
            owner = payload.get("conversation", {}).get("accountId") or self._account_of(payload)
            uow.emit(type_, owner, f"/conversations/{conversation_id}", payload, rt.now_iso(), fresh=True)
        for queue in queues.values():
            self._queue(uow, queue)

    def _account_of(self, payload: dict[str, Any]) -> str | None:
        employee_id, queue_id = payload.get("employeeId"), payload.get("queueId")
        doc = self.center.rt.state.get("cc_employee", employee_id or "") or self.center.rt.state.get(
            "cc_queue", queue_id or "")
        return doc["accountId"] if doc else None

    def _call(self, event: Event, employees: dict[str, dict[str, Any]], queues: dict[str, dict[str, Any]],
              conversations: dict[tuple[str, str, str], tuple[str, dict[str, Any]]]) -> None:
        center = self.center
        data = event.data or {}
        account_id = event.account_id or ""
        call = center.engine.calls.get(data.get("callId") or "")
        call_id = data.get("callId") or ""
        if data.get("endpointKind") == EXTENSION:
            employee = center.interactions.employee_at(account_id, data.get("endpointId", ""))
            if employee is not None:
                employees[employee["id"]] = employee
                leg = center.engine.legs.get((account_id, data.get("legId", "")))
                if data.get("state") == "completed" or call is None or leg is None:
                    conversations[("employee", employee["id"], call_id)] = (
                        "cc.conversation.removed", {"conversationId": call_id, "employeeId": employee["id"],
                                                    "queueId": None})
                else:
                    conversations[("employee", employee["id"], call_id)] = (
                        "cc.conversation.changed", {"conversation": center.interactions.voice(call, leg, employee),
                                                    "employeeId": employee["id"], "queueId": None})
        if call is not None and center.queues.entry_of(call) is not None:
            queue = center.config.queue_of_group(account_id, call.queue_id)
            if queue is not None:
                queues[queue["id"]] = queue
                conversations[("queue", queue["id"], call_id)] = (
                    "cc.conversation.changed", {"conversation": center.interactions.voice(call),
                                                "employeeId": None, "queueId": queue["id"]})

    def _interaction(self, data: dict[str, Any], employees: dict[str, dict[str, Any]],
                     queues: dict[str, dict[str, Any]],
                     conversations: dict[tuple[str, str, str], tuple[str, dict[str, Any]]]) -> None:
        """A non-voice interaction changed (``media``): the employee who has it now and the one who had it, the
        queue it waits in and the one it left."""
        center = self.center
        doc, before = data["interaction"], data.get("before") or {}
        current = center.rt.state.get("cc_interaction", doc["id"]) or doc   # the transaction's last word
        cid = current["id"]
        at_agent = current["conversationState"] in ("Offered", "Acd", "Held")
        for employee_id in [str(e) for e in {before.get("employeeId"), current.get("employeeId")} if e]:
            employee = center.rt.state.get("cc_employee", employee_id)
            if employee is None:
                continue
            employees[employee["id"]] = employee
            if at_agent and current.get("employeeId") == employee_id:
                conversations[("employee", employee_id, cid)] = (
                    "cc.conversation.changed", {"conversation": center.media.view(current),
                                                "employeeId": employee_id, "queueId": None})
            else:
                conversations[("employee", employee_id, cid)] = (
                    "cc.conversation.removed", {"conversationId": cid, "employeeId": employee_id, "queueId": None})
        for queue_id in [str(q) for q in {before.get("queueId"), current.get("queueId")} if q]:
            queue = center.rt.state.get("cc_queue", queue_id)
            if queue is None:
                continue
            queues[queue["id"]] = queue
            if current.get("waiting") and current.get("queueId") == queue_id:
                conversations[("queue", queue_id, cid)] = (
                    "cc.conversation.changed", {"conversation": center.media.view(current), "employeeId": None,
                                                "queueId": queue_id})
            elif before.get("waiting") or ("queue", queue_id, cid) in conversations:
                conversations[("queue", queue_id, cid)] = (
                    "cc.conversation.removed", {"conversationId": cid, "employeeId": None, "queueId": queue_id})

    def _employee(self, uow: "UnitOfWork", employee: dict[str, Any], queues: dict[str, dict[str, Any]]) -> None:
        center = self.center
        now = center.rt.now_iso()
        presence = center.states.presence(employee)
        current = signature(presence)
        before = center.rt.state.get(STATE, employee["id"])
        previous = before["signature"] if before else {}
        if current == previous:
            return
        since = dict(before.get("since", {})) if before else {}
        durations = {k: dict(v) for k, v in before.get("durations", {}).items()} if before else {}
        for key, entry in current.items():
            if key == "aggregate" or entry == previous.get(key):
                continue
            if key in previous and key in since:  # close the interval of the state it leaves
                durations[key] = add_interval(durations.get(key, {}), previous[key], since[key], now)
            since[key] = now
        uow.put(STATE, employee["id"], {"id": employee["id"], "accountId": employee["accountId"],
                                        "signature": current, "enteredStateOn": now, "since": since,
                                        "durations": durations})
        # The presence just computed is the views' (writing the cc_state document changes none of its inputs)
        view = center.states.view(employee, entered=now, presence=presence)
        uow.emit("cc.employee.state", employee["accountId"], f"/employees/{employee['id']}", view, now, fresh=True)
        for media in MEDIA:
            key = MEDIA_KEYS[media]
            if media in employee["agents"] and current.get(key) != previous.get(key):
                entry = presence[key]
                agent = center.states.agent_view(employee, media, entry[0] if isinstance(entry, list) else entry)
                uow.emit("cc.agent.state", employee["accountId"], f"/agents/{agent['agentId']}", agent, now,
                         fresh=True)
        for queue in center.config.queues_of(employee):
            queues[queue["id"]] = queue

    def _queue(self, uow: "UnitOfWork", queue: dict[str, Any]) -> None:
        center = self.center
        view = center.queue_state_view(queue)
        current = {k: view.get(k) for k in _QUEUE_KEYS}
        key = f"queue:{queue['id']}"
        before = center.rt.state.get(STATE, key)
        if before is not None and before["signature"] == current:
            return
        now = center.rt.now_iso()
        uow.put(STATE, key, {"id": key, "accountId": queue["accountId"], "signature": current,
                             "enteredStateOn": now})
        uow.emit("cc.queue.state", queue["accountId"], f"/queues/{queue['id']}", view, now, fresh=True)
