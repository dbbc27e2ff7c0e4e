"""Non-voice interactions (Chat, Email, Sms, OpenMedia) routed through the contact center's queues to agents,
exactly as calls are: a queue of the interaction's media, the agents of that media in the queue's agent groups
(logged in, ready, present in the group, out of their work timer and under their workload limit), the
queue's distribution (``longestIdle`` by default, or ``priority``: member order), an offer that the agent
accepts or declines, and the ``queue_call`` records queue statistics are derived from.

An interaction is a ``cc_interaction`` document (id = ``conversationId``) with the fields of a Voice
interaction's view (``interactions.py``) plus ``subject``, ``caseId``, ``contactId``, ``monthYearCreated``,
``mediaFolder``, ``payload`` (what its media keeps: a chat's CloudLink conversation, an e-mail's parts…),
``variables`` and the routing state (``waiting``: it is in its queue; ``queueVisits``; ``declinedBy``).

States (``conversationState``)::

    InQueue --offer--> Offered --Accept--> Acd <--Hold/RemoveHold--> Held
       ^                 |  Decline / ring timeout (agent made not ready: Rejected / RONA)
       +-----------------+
    Acd/Held --End--> Handled (mediaFolder Handled; the agent's work timer runs)
    Acd/Held --Transfer--> InQueue (another queue of the media) | Offered (another employee)
    InQueue/Offered/Acd/Held --Junk/NoReply--> Handled (mediaFolder Junk / No Reply)
    InQueue/Offered --complete (third party)--> Abandoned;  Acd/Held --complete--> Handled
    InQueue --max wait--> Failed --Reroute--> InQueue

Every change emits ``cc.interaction.updated`` (data ``{interaction, before}``), from which the contact
center's announcements derive the same ``cc.conversation.changed/removed``, ``cc.employee.state``,
``cc.agent.state`` and ``cc.queue.state`` events a call makes (so the SignalR hubs and the queue statistics
cover every media).

The API other media build on (:class:`Multimedia`, ``ContactCenter.media``):

* ``await create(account_id, media, queue_ref, customer={name, email, phone, mobilePhone}, subject=…,
  payload={…}, to_address=…, variables={…}, case_id=None)`` → the interaction (routed at once); ``create_in(uow,
  …)`` does the same inside a caller's transaction. The customer is identified as a directory contact (or
  created) and the interaction joins the customer's case (``cases.py``).
* ``await act(actor, employee, conversation_id, update)`` — the ConversationAction of an employee's inbox
  (``Accept``/``AutoAnswer``, ``Decline``, ``Hold``, ``RemoveHold``, ``Transfer`` with
  ``transferDestinationType`` Queue/Employee and ``transferDestination``, ``Junk``, ``NoReply``, ``End``,
  ``Send`` with a ``tags`` entry ``body`` (an agent's reply), ``Tag`` (``tags`` kept on the interaction),
  ``Reroute``); ``await queue_act(employee, queue,
  conversation_id, action)`` — ``Pick``, ``Junk``, ``NoReply`` on a waiting one.
* ``await complete(account_id, conversation_id)`` and ``await reroute(account_id, conversation_id, queue_ref)`` —
  what a third party does (OpenMedia ``{"action": "Complete" | "Reroute"}``).
* ``on_agent_reply(media, hook)``: ``hook(uow, interaction, employee, reply)`` runs in the transaction of an
  agent's reply on that medium (``agent_replied(uow, …)``, called by ``Send`` and by a medium's own channel,
  e.g. a CloudLink chat message); ``customer_replied(uow, interaction)`` notes the customer's side.
* ``on_ended(media, hook)``: ``hook(uow, interaction)`` when an interaction of that medium stops being active.
* ``get(account_id, id)``, ``active(account_id)``, ``of_employee(employee)``, ``waiting(queue)``,
  ``activity(employee, media)``, ``view(doc)`` and ``history(account_id)``.
"""
from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from callyard.core.clock import iso
from callyard.core.contact_center import cases
from callyard.core.contact_center.config import AGENT_GROUP, INTERACTION
from callyard.core.contact_center.model import (ABANDONED, ACD, FAILED, HANDLED, HELD, IN_QUEUE, MEDIA,
                                                OFFERED, REJECTED, RONA)
from callyard.core.errors import Conflict, Forbidden, Invalid, NotFound
from callyard.core.state import UnitOfWork

if TYPE_CHECKING:
    from callyard.core.contact_center.service import ContactCenter

NON_VOICE = tuple(m for m in MEDIA if m != "Voice")
ACTIVE = (IN_QUEUE, OFFERED, ACD, HELD)
AT_AGENT = (OFFERED, ACD, HELD)
FOLDERS = {"End": "Handled", "Junk": "Junk", "NoReply": "No Reply"}
INBOX_ACTIONS = ("Accept", "AutoAnswer", "Decline", "Hold", "RemoveHold", "Transfer", "Junk", "NoReply", "End",
                 "Send", "Tag", "Reroute")
QUEUE_ACTIONS = ("Pick", "Junk", "NoReply")
DEFAULT_RING_SECONDS = 60.0
UPDATED = "cc.interaction.updated"

ReplyHook = Callable[[UnitOfWork, dict[str, Any], dict[str, Any], dict[str, Any]], None]
EndHook = Callable[[UnitOfWork, dict[str, Any]], None]


def _seconds(start: str | None, end: str) -> float:
    if not start:
        return 0.0
    begin = datetime.fromisoformat(start.replace("Z", "+00:00"))
    finish = datetime.fromisoformat(end.replace("Z", "+00:00"))
    return round(max(0.0, (finish - begin).total_seconds()), 3)


class Multimedia:
    def __init__(self, center: "ContactCenter") -> None:
        self.center = center
        self.rt = center.rt
        self.config = center.config
        self.agents = center.agents
        self._seq = itertools.count(1)
        self._reply_hooks: dict[str, list[ReplyHook]] = {}
        self._end_hooks: dict[str, list[EndHook]] = {}
        # The ids of the interactions that may be active: a derived index (every read checks the document),
        # rebuilt when the state is replaced (start, reset, import) or a transaction rolls back.
        self._active: set[str] = set()
        self._indexed: Any = None

    # ================================================================== hooks of the media
    def on_agent_reply(self, media: str, hook: ReplyHook) -> None:
        self._reply_hooks.setdefault(media, []).append(hook)

    def on_ended(self, media: str, hook: EndHook) -> None:
        self._end_hooks.setdefault(media, []).append(hook)

    # ================================================================== reading
    def _active_docs(self) -> list[dict[str, Any]]:
        if self._indexed is not self.rt.state.docs:
            self._active = {d["id"] for d in self.rt.state.all(INTERACTION) if d["conversationState"] in ACTIVE}
            self._indexed = self.rt.state.docs
        found = []
        for conversation_id in list(self._active):
            doc = self.rt.state.get(INTERACTION, conversation_id)
            if doc is None or doc["conversationState"] not in ACTIVE:
                self._active.discard(conversation_id)
            else:
                found.append(doc)
        return found

    def _forget(self) -> None:
        self._indexed = None

    def get(self, account_id: str, conversation_id: str) -> dict[str, Any]:
        doc = self.rt.state.get(INTERACTION, conversation_id)
        if doc is None or doc["accountId"] != account_id:
            raise NotFound("ConversationNotFound", f"conversation {conversation_id} was not found")
        return doc

    def find(self, conversation_id: str) -> dict[str, Any] | None:
        return self.rt.state.get(INTERACTION, conversation_id)

    def active(self, account_id: str) -> list[dict[str, Any]]:
        return [self.view(d) for d in self._active_docs() if d["accountId"] == account_id]

    def of_employee(self, employee: dict[str, Any], media: str | None = None) -> list[dict[str, Any]]:
        """The interactions at the employee now (offered, accepted or held), oldest first."""
        found = [d for d in self._active_docs()
                 if d.get("employeeId") == employee["id"] and d["conversationState"] in AT_AGENT
                 and (media is None or d["mediaType"] == media)]
        return sorted(found, key=lambda d: (d.get("timeOfferedToAgent") or "", d["conversationId"]))

    def waiting(self, queue: dict[str, Any]) -> list[dict[str, Any]]:
        """The interactions waiting in ``queue`` (being offered ones included, as with calls), in order."""
        found = [d for d in self._active_docs() if d.get("queueId") == queue["id"] and d.get("waiting")]
        return sorted(found, key=lambda d: (-int(d.get("priority") or 0), d["timeOfferedToQueue"],
                                            int(d.get("queueSeq") or 0)))

    def activity(self, employee: dict[str, Any], media: str) -> str:
        """The acdState the employee's interactions of ``media`` make: Acd, Held, Offered or Idle."""
        states = {d["conversationState"] for d in self.of_employee(employee, media)}
        return next((s for s in (ACD, HELD, OFFERED) if s in states), "Idle")

    def view(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The interaction as the families see it (its position in the queue while it waits)."""
        position = 0
        if doc["conversationState"] == IN_QUEUE and doc.get("queueId"):
            queue = self.rt.state.get("cc_queue", doc["queueId"])
            if queue is not None:
                ids = [d["conversationId"] for d in self.waiting(queue)]
                position = ids.index(doc["conversationId"]) + 1 if doc["conversationId"] in ids else 0
        return {**doc, "positionInQueue": position}

    def history(self, account_id: str) -> list[dict[str, Any]]:
        """Every interaction of the account, active or ended."""
        return [self.view(d) for d in self.rt.state.all(INTERACTION) if d["accountId"] == account_id]

    # ================================================================== creating
    async def create(self, account_id: str, media: str, queue_ref: str, **details: Any) -> dict[str, Any]:
        async with self.center.engine.transaction() as tx:
            return self.create_in(tx.uow, account_id, media, queue_ref, **details)

    def create_in(self, uow: UnitOfWork, account_id: str, media: str, queue_ref: str, *,
                  customer: dict[str, Any] | None = None, subject: str | None = None,
                  payload: dict[str, Any] | None = None, to_address: str | None = None,
                  from_address: str | None = None, variables: dict[str, Any] | None = None,
                  case_id: str | None = None, priority: int = 0, direction: str = "Inbound",
                  conversation_id: str | None = None, routed: bool = True) -> dict[str, Any]:
        """A new interaction of ``media`` from ``customer`` in the queue ``queue_ref`` (id, name or reporting
        number; a queue of that media), routed at once."""
        if media not in NON_VOICE:
            raise Invalid("InvalidMedia", f"media is one of {', '.join(NON_VOICE)}")
        queue = self.config.queue(account_id, queue_ref)
        if queue["mediaType"] != media:
            raise Invalid("InvalidQueue", f"queue {queue['name']} is a {queue['mediaType']} queue, not {media}")
        customer = {k: v for k, v in (customer or {}).items() if v not in (None, "")}
        conversation_id = conversation_id or self.rt.ids.uuid()
        if self.rt.state.get(INTERACTION, conversation_id) is not None:
            raise Conflict("ConversationExists", f"conversation {conversation_id} exists")
        now = self.rt.now_iso()
        contact = cases.identify_contact(self.rt, uow, account_id, customer)
        address = customer.get("email") or customer.get("phone") or customer.get("mobilePhone") or from_address
        doc: dict[str, Any] = {
            "id": conversation_id, "conversationId": conversation_id, "accountId": account_id, "mediaType": media,
            "conversationState": IN_QUEUE, "mediaFolder": "InQueue", "direction": direction,
            "fromAddress": address, "fromName": customer.get("name") or (contact or {}).get("name"),
            "toAddress": to_address or queue["reporting"], "toName": queue["name"], "subject": subject,
            "contactId": contact["id"] if contact else None, "priority": int(priority),
            "queueId": None, "queueName": None, "queueReporting": None, "employeeId": None, "agentId": None,
            "agentReporting": None, "agentFirstName": None, "agentLastName": None,
            "timeOfferedToSystem": now, "timeOfferedToQueue": None, "timeOfferedToAgent": None,
            "timeOfLastAgentResponse": None, "timeOfLastCustomerResponse": now, "acceptedOn": None,
            "endedOn": None, "transferCount": 0, "queueVisits": 0, "declinedBy": [], "waiting": False,
            "lastAgentAction": None, "lastAgentActionDate": None, "failedRouteReason": None,
            "monthYearCreated": cases.month_year(now), "variables": dict(variables or {}),
            "payload": dict(payload or {}), "isRecording": False, "createdOn": now, "modifiedOn": now}
        case = cases.join_case(self.rt, uow, doc, case_id)
        doc["caseId"] = case["id"]
        if not routed:   # the caller places it (an outbound interaction)
            uow.put(INTERACTION, doc["id"], doc)
            return doc
        self._enqueue(uow, doc, queue, None)
        return self.view(self._doc(doc["conversationId"]))

    async def start_outbound(self, employee: dict[str, Any], media: str, queue: dict[str, Any], to: str, *,
                             subject: Any = None, customer: dict[str, Any] | None = None,
                             from_address: str | None = None) -> dict[str, Any]:
        """An interaction the employee starts with a customer at ``to`` on behalf of ``queue`` (an outbound SMS,
        an e-mail: ``customer`` identifies them, default their phone ``to``; ``from_address`` is the queue's,
        default its number): at the employee at once (Acd), never waiting in the queue."""
        if media not in employee["agents"]:
            raise Conflict("NoAgent", f"the employee has no {media} agent")
        if not self.agents.agent(employee["accountId"], employee["userId"], media)["loggedIn"]:
            raise Conflict("EmployeeLoggedOut", f"log in for {media} first")
        if subject is not None and not isinstance(subject, str):
            raise Invalid("InvalidSubject", "subject is text")
        async with self.center.engine.transaction() as tx:
            doc = self.create_in(tx.uow, employee["accountId"], media, queue["id"], customer=customer or {"phone": to},
                                 subject=subject, direction="Outbound", payload={"customerAddress": to},
                                 routed=False)
            agent = employee["agents"][media]
            now = self.rt.now_iso()
            started = {**self._doc(doc["id"]), "conversationState": ACD, "mediaFolder": "Sent",
                       "fromAddress": from_address or queue.get("phoneNumber") or queue["reporting"], "toAddress": to,
                       "queueId": queue["id"], "queueName": queue["name"], "queueReporting": queue["reporting"],
                       "employeeId": employee["id"], "agentId": agent["id"], "agentReporting": agent["reporting"],
                       "agentFirstName": employee["firstName"], "agentLastName": employee["lastName"],
                       "agentsInvolved": [agent["id"]], "timeOfferedToAgent": now, "acceptedOn": now}
            return self.view(self._save(tx.uow, started, self._doc(doc["id"])))

    # ================================================================== routing
    def _doc(self, conversation_id: str) -> dict[str, Any]:
        doc = self.rt.state.get(INTERACTION, conversation_id)
        assert doc is not None
        return doc

    def _save(self, uow: UnitOfWork, doc: dict[str, Any], before: dict[str, Any] | None) -> dict[str, Any]:
        now = self.rt.now_iso()
        doc = {**doc, "modifiedOn": now}
        self._active_docs()   # the index is current before it learns of this one
        uow.put(INTERACTION, doc["id"], doc)
        if doc["conversationState"] in ACTIVE:
            self._active.add(doc["id"])
        uow.on_rollback.append(self._forget)
        previous = {k: (before or {}).get(k) for k in ("conversationState", "employeeId", "queueId", "waiting")}
        uow.emit(UPDATED, doc["accountId"], f"/conversations/{doc['id']}", {"interaction": doc, "before": previous},
                 now)
        if doc.get("caseId"):
            case = self.rt.state.get(cases.CASE, doc["caseId"])
            if case is not None:
                cases.follow(self.rt, uow, case, doc)
        if doc["conversationState"] not in ACTIVE and (before or {}).get("conversationState") in ACTIVE:
            for hook in self._end_hooks.get(doc["mediaType"], []):
                hook(uow, doc)
            active = {d["conversationId"] for d in self._active_docs()}
            cases.settle(self.rt, uow, doc.get("caseId"), active)
        return doc

    def _enqueue(self, uow: UnitOfWork, doc: dict[str, Any], queue: dict[str, Any],
                 before: dict[str, Any] | None) -> dict[str, Any]:
        """``doc`` waits in ``queue`` (a new visit: its own queue record when it leaves), then distribution."""
        now = self.rt.now_iso()
        visits = int(doc.get("queueVisits") or 0) + 1
        doc = {**doc, "conversationState": IN_QUEUE, "mediaFolder": "InQueue", "waiting": True,
               "queueId": queue["id"], "queueName": queue["name"], "queueReporting": queue["reporting"],
               "timeOfferedToQueue": now, "queueVisits": visits, "queueSeq": next(self._seq),
               "employeeId": None, "agentId": None, "agentReporting": None, "agentFirstName": None,
               "agentLastName": None, "timeOfferedToAgent": None, "failedRouteReason": None}
        doc = self._save(uow, doc, before)
        max_wait = queue.get("maxWaitSeconds")
        if max_wait:
            self.center.engine.scheduler.after(float(max_wait), self._max_wait(doc["id"], visits),
                                               f"max-wait {doc['id']}")
        self.distribute(uow, queue)
        return self._doc(doc["id"])

    def _leave(self, uow: UnitOfWork, doc: dict[str, Any], outcome: str, employee: dict[str, Any] | None = None
               ) -> dict[str, Any]:
        """``doc`` leaves its queue (answered, abandoned, failed, junk, noReply): its queue record."""
        if not doc.get("waiting") or not doc.get("queueId"):
            return doc
        now = self.rt.now_iso()
        record_id = f"{doc['id']}:{doc['queueId']}:{doc.get('queueVisits') or 1}"
        uow.put("queue_call", record_id, {
            "recordId": record_id, "accountId": doc["accountId"], "groupId": doc["queueId"], "callId": doc["id"],
            "mediaType": doc["mediaType"], "queuedOn": doc["timeOfferedToQueue"], "leftOn": now,
            "outcome": outcome, "waitSeconds": _seconds(doc["timeOfferedToQueue"], now),
            "agentUserId": employee["userId"] if employee else None})
        return {**doc, "waiting": False}

    def _candidates(self, queue: dict[str, Any], doc: dict[str, Any] | None) -> list[tuple[dict[str, Any],
                                                                                          dict[str, Any]]]:
        """The employees who may be offered an interaction of ``queue`` now, in member order, with the agent
        document of the queue's media."""
        media, account_id = queue["mediaType"], queue["accountId"]
        now = self.rt.now_iso()
        found: list[tuple[dict[str, Any], dict[str, Any]]] = []
        seen: set[str] = set()
        for group_id in queue.get("agentGroups", []):
            group = self.rt.state.get(AGENT_GROUP, group_id)
            if group is None or media not in group.get("media", []):
                continue
            key = group.get("groupId") or group["id"]
            for user_id in self.config.members(group):
                employee = self.config.employee_of_user(account_id, user_id)
                if employee is None or employee["id"] in seen or media not in employee["agents"]:
                    continue
                agent = self.agents.agent(account_id, user_id, media)
                if not (agent["loggedIn"] and agent["ready"]) or agent["presence"].get(key) is False:
                    continue
                if agent.get("wrapUntil") and agent["wrapUntil"] > now:
                    continue
                limit = int(employee["agents"][media].get("workload") or 1)
                if len(self.of_employee(employee, media)) >= limit:
                    continue
                seen.add(employee["id"])
                found.append((employee, agent))
        return found

    def free_agents(self, queue: dict[str, Any]) -> int:
        return len(self._candidates(queue, None))

    def distribute(self, uow: UnitOfWork, queue: dict[str, Any]) -> None:
        """Offer the queue's waiting interactions, in order, to the agents who may take them."""
        if queue["mediaType"] not in NON_VOICE:
            return
        for doc in self.waiting(queue):
            if doc["conversationState"] != IN_QUEUE:
                continue
            candidates = self._candidates(queue, doc)
            if not candidates:
                break
            if queue.get("distribution") == "priority":
                employee = candidates[0][0]
            else:
                employee = min(candidates, key=lambda c: c[1].get("idleSince") or "")[0]
            self._offer(uow, doc, employee, queue)

    def distribute_for(self, uow: UnitOfWork, employee: dict[str, Any]) -> None:
        """The employee may take interactions now (logged in, ready, work timer over…): their media queues
        distribute, and offers they may no longer take go back to their queues."""
        self.withdraw(uow, employee)
        for queue in self.config.queues_of(employee):
            if queue["mediaType"] in NON_VOICE and queue["mediaType"] in employee["agents"]:
                self.distribute(uow, queue)

    def withdraw(self, uow: UnitOfWork, employee: dict[str, Any]) -> None:
        """Offers the employee may no longer take (logged out, not ready) go back to the head of their queue."""
        for doc in self.of_employee(employee):
            if doc["conversationState"] != OFFERED:
                continue
            agent = self.agents.agent(employee["accountId"], employee["userId"], doc["mediaType"])
            if agent["loggedIn"] and agent["ready"]:
                continue
            self._requeue(uow, doc)

    def _offer(self, uow: UnitOfWork, doc: dict[str, Any], employee: dict[str, Any],
               queue: dict[str, Any] | None) -> dict[str, Any]:
        media = doc["mediaType"]
        agent = employee["agents"][media]
        now = self.rt.now_iso()
        involved = [*(doc.get("agentsInvolved") or []), *([agent["id"]] if agent["id"] not in (
            doc.get("agentsInvolved") or []) else [])]
        offered = {**doc, "conversationState": OFFERED, "employeeId": employee["id"], "agentId": agent["id"],
                   "agentsInvolved": involved,
                   "agentReporting": agent["reporting"], "agentFirstName": employee["firstName"],
                   "agentLastName": employee["lastName"], "timeOfferedToAgent": now}
        offered = self._save(uow, offered, doc)
        ring = float((queue or {}).get("ringTimeoutSeconds") or DEFAULT_RING_SECONDS)
        self.center.engine.scheduler.after(ring, self._ring_timeout(doc["id"], employee["id"], now),
                                           f"offer {doc['id']}")
        return offered

    def _requeue(self, uow: UnitOfWork, doc: dict[str, Any]) -> None:
        """An offer not taken: back to its queue (the same visit, so it keeps its place), redistributed."""
        queue = self.rt.state.get("cc_queue", doc.get("queueId") or "")
        back = {**doc, "conversationState": IN_QUEUE, "mediaFolder": "InQueue", "employeeId": None,
                "agentId": None, "agentReporting": None, "agentFirstName": None, "agentLastName": None,
                "timeOfferedToAgent": None}
        if queue is None:
            self._save(uow, {**back, "conversationState": FAILED, "mediaFolder": "Failed", "waiting": False,
                             "failedRouteReason": "QueueNotFound"}, doc)
            return
        if not doc.get("waiting"):  # accepted before (a transfer to an employee): a new queue visit
            self._enqueue(uow, back, queue, doc)
            return
        self._save(uow, back, doc)
        self.distribute(uow, queue)

    def _not_ready(self, uow: UnitOfWork, employee: dict[str, Any], media: str, reason: str) -> None:
        agent = self.agents.agent(employee["accountId"], employee["userId"], media)
        if agent["loggedIn"] and agent["ready"]:
            self.agents.save(uow, {**agent, "ready": False, "reason": reason})

    def _ring_timeout(self, conversation_id: str, employee_id: str, offered_on: str
                      ) -> Callable[[], Awaitable[None]]:
        async def fire() -> None:
            async with self.center.engine.transaction() as tx:
                doc = self.find(conversation_id)
                if doc is None or doc["conversationState"] != OFFERED or doc.get("employeeId") != employee_id \
                        or doc.get("timeOfferedToAgent") != offered_on:
                    return
                employee = self.rt.state.get("cc_employee", employee_id)
                if employee is not None:
                    self._not_ready(tx.uow, employee, doc["mediaType"], RONA)
                self._requeue(tx.uow, doc)
        return fire

    def _max_wait(self, conversation_id: str, visit: int) -> Callable[[], Awaitable[None]]:
        async def fire() -> None:
            async with self.center.engine.transaction() as tx:
                doc = self.find(conversation_id)
                if doc is None or doc["conversationState"] != IN_QUEUE or doc.get("queueVisits") != visit:
                    return
                left = self._leave(tx.uow, doc, "failed")
                self._save(tx.uow, {**left, "conversationState": FAILED, "mediaFolder": "Failed",
                                    "failedRouteReason": "MaxWaitExceeded", "endedOn": self.rt.now_iso()}, doc)
        return fire

    def _work_timer(self, uow: UnitOfWork, employee: dict[str, Any], doc: dict[str, Any]) -> None:
        """The agent is free again (longest idle from now), after the queue's work timer when it has one."""
        queue = self.rt.state.get("cc_queue", doc.get("queueId") or "") or {}
        wrap = float(queue.get("wrapUpSeconds") or 0)
        media = doc["mediaType"]
        agent = self.agents.agent(employee["accountId"], employee["userId"], media)
        now = self.center.engine.now()
        changes: dict[str, Any] = {"idleSince": iso(now)}
        if wrap > 0:
            changes["wrapUntil"] = iso(now + timedelta(seconds=wrap))
            self.center.engine.scheduler.after(wrap, self._work_timer_ends(employee["id"], media),
                                               f"work timer {doc['id']}")
        self.agents.save(uow, {**agent, **changes})

    def _work_timer_ends(self, employee_id: str, media: str) -> Callable[[], Awaitable[None]]:
        async def fire() -> None:
            async with self.center.engine.transaction() as tx:
                employee = self.rt.state.get("cc_employee", employee_id)
                if employee is None:
                    return
                agent = self.agents.agent(employee["accountId"], employee["userId"], media)
                if agent.get("wrapUntil") and agent["wrapUntil"] <= self.rt.now_iso():
                    self.agents.save(tx.uow, {**agent, "wrapUntil": None})
                self.distribute_for(tx.uow, employee)
        return fire

    # ================================================================== what agents do
    def _acted(self, doc: dict[str, Any], action: str) -> dict[str, Any]:
        return {**doc, "lastAgentAction": action, "lastAgentActionDate": self.rt.now_iso()}

    def _finish(self, uow: UnitOfWork, doc: dict[str, Any], state: str, folder: str, outcome: str | None,
                employee: dict[str, Any] | None, action: str | None = None) -> dict[str, Any]:
        """``doc`` ends (``state`` Handled or Abandoned): out of its queue (``outcome`` for the record) and
        off the agent (whose work timer starts when they had accepted it)."""
        before = doc
        if outcome is not None:
            doc = self._leave(uow, doc, outcome, employee)
        doc = {**doc, "conversationState": state, "mediaFolder": folder, "waiting": False,
               "endedOn": self.rt.now_iso()}
        if action:
            doc = self._acted(doc, action)
        saved = self._save(uow, doc, before)
        holder = self.rt.state.get("cc_employee", before.get("employeeId") or "")
        if holder is not None and before["conversationState"] in AT_AGENT:
            if before["conversationState"] in (ACD, HELD):
                self._work_timer(uow, holder, before)
            self.distribute_for(uow, holder)
        queue = self.rt.state.get("cc_queue", before.get("queueId") or "")
        if queue is not None:
            self.distribute(uow, queue)
        return saved

    def _mine(self, caller_employee: dict[str, Any], conversation_id: str) -> dict[str, Any]:
        doc = self.rt.state.get(INTERACTION, conversation_id)
        if doc is None or doc.get("employeeId") != caller_employee["id"] or doc["conversationState"] not in AT_AGENT:
            raise NotFound("ConversationNotFound", f"conversation {conversation_id} is not in the employee's inbox")
        return doc

    async def act(self, employee: dict[str, Any], conversation_id: str, update: dict[str, Any]) -> dict[str, Any]:
        """An action on a non-voice interaction in ``employee``'s inbox (the caller's right to act for the
        employee is checked before)."""
        action = update.get("action")
        if action not in INBOX_ACTIONS:
            raise Invalid("UnsupportedAction", f"{action} is not supported for a non-voice conversation; "
                                               f"supported: {', '.join(INBOX_ACTIONS)}")
        async with self.center.engine.transaction() as tx:
            uow = tx.uow
            if action == "Reroute":
                doc = self.get(employee["accountId"], conversation_id)
                return self._reroute(uow, doc, update.get("transferDestination"))
            doc = self._mine(employee, conversation_id)
            state = doc["conversationState"]
            if action in ("Accept", "AutoAnswer"):
                if state != OFFERED:
                    raise Conflict("InvalidConversationState", "only an offered conversation can be accepted")
                now = self.rt.now_iso()
                left = self._leave(uow, doc, "answered", employee)
                return self._save(uow, self._acted({**left, "conversationState": ACD, "acceptedOn": now,
                                                    "mediaFolder": "InQueue"}, "Accept"), doc)
            if action == "Decline":
                if state != OFFERED:
                    raise Conflict("InvalidConversationState", "only an offered conversation can be declined")
                self._not_ready(uow, employee, doc["mediaType"], REJECTED)
                declined = self._acted({**doc, "declinedBy": [*doc.get("declinedBy", []), employee["id"]]},
                                       "Decline")
                uow.put(INTERACTION, doc["id"], declined)
                self._requeue(uow, declined)
                return self._doc(doc["id"])
            if action == "Hold":
                if state != ACD:
                    raise Conflict("InvalidConversationState", "only an accepted conversation can be held")
                return self._save(uow, self._acted({**doc, "conversationState": HELD}, "Hold"), doc)
            if action == "RemoveHold":
                if state != HELD:
                    raise Conflict("InvalidConversationState", "the conversation is not on hold")
                return self._save(uow, self._acted({**doc, "conversationState": ACD}, "RemoveHold"), doc)
            if action == "Tag":
                tags = update.get("tags")
                if not isinstance(tags, list) or not tags or not all(
                        isinstance(t, dict) and isinstance(t.get("key"), str) and t["key"] for t in tags):
                    raise Invalid("InvalidTags", "Tag needs tags: a list of {key, value}")
                kept = [t for t in doc.get("tags") or [] if t["key"] not in {n["key"] for n in tags}]
                return self._save(uow, self._acted({**doc, "tags": kept + [
                    {"key": t["key"], "value": t.get("value")} for t in tags]}, "Tag"), doc)
            if action == "Send":
                if state not in (ACD, HELD):
                    raise Conflict("InvalidConversationState", "accept the conversation before replying")
                reply = update.get("reply") or {}
                if not isinstance(reply.get("body"), str) or not reply["body"].strip():
                    raise Invalid("InvalidReply", "Send needs the reply's text: a tag {key: 'body', value: '…'}")
                return self.agent_replied(uow, doc, employee, reply)
            if action == "Transfer":
                if state not in (ACD, HELD):
                    raise Conflict("InvalidConversationState", "only an accepted conversation can be transferred")
                return self._transfer(uow, doc, employee, update)
            if action == "End":
                if state not in (ACD, HELD):
                    raise Conflict("InvalidConversationState", "only an accepted conversation can be ended; "
                                                               "decline an offered one")
                return self._finish(uow, doc, HANDLED, FOLDERS["End"], None, employee, "End")
            # Junk / NoReply: handled without a reply, from the inbox (offered or accepted)
            outcome = "junk" if action == "Junk" else "noReply"
            return self._finish(uow, doc, HANDLED, FOLDERS[str(action)], outcome if state == OFFERED else None,
                                employee, str(action))

    def _transfer(self, uow: UnitOfWork, doc: dict[str, Any], employee: dict[str, Any],
                  update: dict[str, Any]) -> dict[str, Any]:
        kind = update.get("transferDestinationType") or "Queue"
        target = update.get("transferDestination")
        if not isinstance(target, str) or not target:
            raise Invalid("InvalidTransferDestination", "transferDestination is required for Transfer")
        media = doc["mediaType"]
        moved = self._acted({**doc, "transferCount": int(doc.get("transferCount") or 0) + 1}, "Transfer")
        if kind == "Queue":
            queue = self.config.queue(doc["accountId"], target)
            if queue["mediaType"] != media:
                raise Invalid("InvalidTransferDestination", f"queue {queue['name']} is not a {media} queue")
            uow.put(INTERACTION, doc["id"], moved)
            self._work_timer(uow, employee, doc)
            result = self._enqueue(uow, moved, queue, doc)
            self.distribute_for(uow, employee)
            return result
        if kind == "Employee":
            other = self.config.employee(doc["accountId"], target)
            if media not in other["agents"]:
                raise Invalid("InvalidTransferDestination", f"employee {target} has no {media} agent")
            if other["id"] == employee["id"]:
                raise Invalid("InvalidTransferDestination", "the conversation is the employee's already")
            agent = self.agents.agent(other["accountId"], other["userId"], media)
            if not agent["loggedIn"]:
                raise Conflict("EmployeeLoggedOut", f"employee {target} is not logged in for {media}")
            last_queue = self.rt.state.get("cc_queue", doc.get("queueId") or "")
            self._work_timer(uow, employee, doc)
            result = self._offer(uow, {**moved, "conversationState": IN_QUEUE}, other, last_queue)
            self.distribute_for(uow, employee)
            return result
        raise Invalid("InvalidTransferDestination", f"a {media} conversation is transferred to a Queue or an "
                                                    "Employee")

    async def queue_act(self, employee: dict[str, Any] | None, queue: dict[str, Any], conversation_id: str,
                        action: str) -> dict[str, Any]:
        """``Pick`` (offered to ``employee`` now), ``Junk`` or ``NoReply`` on an interaction waiting in ``queue``."""
        if action not in QUEUE_ACTIONS:
            raise Invalid("UnsupportedAction", f"{action} is not supported for a conversation in a queue; "
                                               f"supported: {', '.join(QUEUE_ACTIONS)}")
        async with self.center.engine.transaction() as tx:
            doc = self.rt.state.get(INTERACTION, conversation_id)
            if doc is None or doc.get("queueId") != queue["id"] or not doc.get("waiting"):
                raise NotFound("ConversationNotFound",
                               f"conversation {conversation_id} is not waiting in queue {queue['name']}")
            if action == "Pick":
                if employee is None:
                    raise Forbidden("NotAnEmployee", "only an employee picks a conversation")
                media = doc["mediaType"]
                if media not in employee["agents"]:
                    raise Conflict("NoAgent", f"the employee has no {media} agent to take the conversation")
                if doc["conversationState"] == OFFERED:
                    raise Conflict("ConversationOffered", "the conversation is being offered to an agent")
                agent = self.agents.agent(employee["accountId"], employee["userId"], media)
                if not agent["loggedIn"]:
                    raise Conflict("EmployeeLoggedOut", f"log in for {media} first")
                if not agent["ready"]:
                    raise Conflict("EmployeeNotReady", f"the employee's {media} agent is not ready (busy or DND)")
                limit = int(employee["agents"][media].get("workload") or 1)
                if len(self.of_employee(employee, media)) >= limit:
                    raise Conflict("AgentBusy", f"the employee's {media} agent has as many conversations as it takes")
                return self._offer(tx.uow, doc, employee, queue)
            outcome = "junk" if action == "Junk" else "noReply"
            return self._finish(tx.uow, doc, HANDLED, FOLDERS[action], outcome, employee, action)

    def agent_replied(self, uow: UnitOfWork, doc: dict[str, Any], employee: dict[str, Any],
                      reply: dict[str, Any]) -> dict[str, Any]:
        """An agent answered the customer on the interaction's medium (in the caller's transaction): the
        medium's hooks deliver it (a chat message, an SMS, an e-mail), the interaction notes the time."""
        for hook in self._reply_hooks.get(doc["mediaType"], []):
            hook(uow, doc, employee, reply)
        current = self._doc(doc["id"])
        return self._save(uow, self._acted({**current, "timeOfLastAgentResponse": self.rt.now_iso()}, "Send"),
                          current)

    def customer_replied(self, uow: UnitOfWork, doc: dict[str, Any]) -> dict[str, Any]:
        """The customer wrote again on the interaction (a chat message, an SMS, an e-mail of the thread)."""
        return self._save(uow, {**doc, "timeOfLastCustomerResponse": self.rt.now_iso()}, doc)

    # ================================================================== what third parties do
    async def complete(self, account_id: str, conversation_id: str) -> dict[str, Any]:
        """Complete an interaction from outside: waiting or offered, it is abandoned (the queue is credited
        with an abandon); accepted, it is handled."""
        async with self.center.engine.transaction() as tx:
            doc = self.get(account_id, conversation_id)
            return self.complete_in(tx.uow, doc)

    def complete_in(self, uow: UnitOfWork, doc: dict[str, Any]) -> dict[str, Any]:
        state = doc["conversationState"]
        if state not in ACTIVE:
            raise NotFound("ConversationNotFound", f"conversation {doc['id']} is not active")
        holder = self.rt.state.get("cc_employee", doc.get("employeeId") or "")
        if state in (IN_QUEUE, OFFERED):
            return self._finish(uow, doc, ABANDONED, "Handled", "abandoned", None)
        return self._finish(uow, doc, HANDLED, "Handled", None, holder)

    async def reroute(self, account_id: str, conversation_id: str, queue_ref: str | None = None) -> dict[str, Any]:
        async with self.center.engine.transaction() as tx:
            return self._reroute(tx.uow, self.get(account_id, conversation_id), queue_ref)

    def _reroute(self, uow: UnitOfWork, doc: dict[str, Any], queue_ref: Any) -> dict[str, Any]:
        """A failed interaction is routed again: into its queue, or ``queue_ref`` (a queue of its media)."""
        if doc["conversationState"] != FAILED:
            raise Conflict("InvalidConversationState", "only a failed conversation can be rerouted")
        if queue_ref not in (None, ""):
            queue = self.config.queue(doc["accountId"], str(queue_ref))
        else:
            found = self.rt.state.get("cc_queue", doc.get("queueId") or "")
            if found is None:
                raise Conflict("QueueNotFound", "the conversation's queue is gone; name another queue")
            queue = found
        if queue["mediaType"] != doc["mediaType"]:
            raise Invalid("InvalidQueue", f"queue {queue['name']} is not a {doc['mediaType']} queue")
        return self._enqueue(uow, self._acted({**doc, "endedOn": None}, "Reroute"), queue, doc)
