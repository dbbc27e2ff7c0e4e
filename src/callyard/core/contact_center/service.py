"""The contact center joined to the engine: it routes calls to group numbers into queues, offers them to
agents by ringing their phones, and follows the offers (answered, rejected, not answered, redirected) and
the calls (abandoned, finished) through the engine's call listener hooks. It uses only the engine's public
API."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from callyard.core.clock import iso
from callyard.core.contact_center.agents import Agents, check_agent_change
from callyard.core.contact_center.administration import Administration
from callyard.core.contact_center.announcements import Announcements
from callyard.core.contact_center.config import Config
from callyard.core.contact_center.desk import Desk
from callyard.core.contact_center.employees import EmployeeStates
from callyard.core.contact_center.interactions import Interactions
from callyard.core.contact_center.mailroom import Mailroom
from callyard.core.contact_center.media import UPDATED as MEDIA_UPDATED, Multimedia
from callyard.events.projections import DERIVE
from callyard.core.contact_center.distribution import choose, eligible
from callyard.core.contact_center.queues import QueueEntry, Queues, queue_settings
from callyard.core.contact_center.statistics import queue_figures, queue_records, queue_statistics
from callyard.core.engine.calls import CallTransaction
from callyard.core.engine.model import EXTENSION, Call, Endpoint, Leg
from callyard.core.engine.routing import QueueRouter
from callyard.core.engine.service import Engine
from callyard.core.errors import Conflict, NotFound
from callyard.core.principal import Principal


class ContactCenter(QueueRouter):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.rt = engine.rt
        self.table = engine.call_table
        self.queues = Queues()
        self.agents = Agents(engine.rt)
        self.config = Config(engine.rt)
        self.states = EmployeeStates(engine, self.agents, self.config)
        self.interactions = Interactions(engine, self.queues, self.config)
        self.media = Multimedia(self)
        self.states.media_activity = self.media.activity
        self.desk = Desk(self)
        self.mailroom = Mailroom(self)   # e-mail: inbound messages, threads, drafts, outgoing mail
        self.administration = Administration(self.desk)   # templates, OSCMS, diagnostics, platform
        self.administration.register(engine.rt.projections)
        engine.attach_queue_router(self)
        self.projection = Announcements(self)
        engine.rt.projections.in_transaction("contact center: employee, agent, queue and conversation state",
                                             self.projection.run, order=DERIVE + 1,
                                             events=("call.state", "agent.updated", "queue.updated", MEDIA_UPDATED))

    def reset(self) -> None:
        """Every queue empties (the core calls it with the engine's reset: the calls they held are gone)."""
        self.queues.clear()

    # ------------------------------------------------------------------ configuration
    def group(self, endpoint: Endpoint) -> dict[str, Any]:
        group = self.rt.state.get("group", endpoint.group_id or "")
        if group is None:
            raise NotFound("QueueNotFound", f"queue {endpoint.number} was not found")
        return group

    def agent(self, account_id: str, user_id: str) -> dict[str, Any]:
        return self.agents.agent(account_id, user_id)

    def agent_user(self, leg: Leg) -> str | None:
        """The user whose Voice agent a leg on an extension belongs to (a hot-desked agent, else the owner)."""
        employee = self.interactions.employee_at(leg.account_id, leg.endpoint.number)
        return employee["userId"] if employee is not None else leg.endpoint.user_id

    def _groups_of(self, account_id: str, user_id: str | None) -> list[Endpoint]:
        """The numbered groups ``user_id`` is a member of."""
        out = []
        for group in self.rt.state.all("group"):
            if group["accountId"] == account_id and group.get("extension") and user_id and any(
                    m["memberId"] == user_id for m in group.get("members", [])):
                endpoint = self.engine.endpoint(account_id, group["extension"])
                if endpoint is not None:
                    out.append(endpoint)
        return out

    # ------------------------------------------------------------------ queueing (engine queue router)
    def enqueue(self, tx: CallTransaction, call: Call, caller: Leg, group: Endpoint, cause: str) -> Leg:
        doc = self.group(group)
        call.queue_id = doc["groupId"]
        entry = QueueEntry(call, doc["groupId"], self.engine.now(), priority=call.priority, skill=call.skill)
        self.queues.add(entry)
        settings = queue_settings(doc)
        if settings["maxWaitSeconds"]:
            self.engine.scheduler.after(float(settings["maxWaitSeconds"]), self._max_wait(call, group),
                                        f"max-wait {call.call_id}")
        self._queue_event(tx, doc)
        self.distribute(tx, group)
        return caller

    def _queue_event(self, tx: CallTransaction, group: dict[str, Any]) -> None:
        tx.uow.emit("queue.updated", group["accountId"], f"/queues/{group['groupId']}",
                    self.stats_of(group), self.rt.now_iso(), fresh=True)   # built for this event alone

    def _max_wait(self, call: Call, group_ep: Endpoint) -> Callable[[], Awaitable[None]]:
        async def fire() -> None:
            async with self.engine.transaction() as tx:
                entry = self.queues.entry_of(call)
                if entry is None or entry.offered:
                    return
                overflow = queue_settings(self.group(group_ep))["overflow"]
                callers = call.live_legs()
                if not callers:
                    return
                self._leave(tx, call, "overflow")
                if overflow:
                    self.engine.routing.divert(tx, call, callers[0], group_ep, overflow, "callForward", 0)
                else:
                    self.engine.routing.fail(tx, callers[0], "resourcesNotAvailable")
        return fire

    def _leave(self, tx: CallTransaction, call: Call, outcome: str, agent_leg: Leg | None = None) -> None:
        """The call leaves its queue (answered, abandoned, overflowed, redirected): write its queue record."""
        group_id = call.queue_id
        if group_id is None or group_id.startswith("park:"):
            return
        entry = self.queues.entry_of(call)
        offers: list[Leg] = []
        if entry is not None:
            self.queues.remove(entry)
            offers, entry.offers = entry.offers, []
        for leg in offers:
            if leg is not agent_leg and leg.state == "ringing":
                leg.queue_id = None
                self.table.complete(tx, leg, "callCancelled")
        now = self.engine.now()
        queued_on = entry.queued_on if entry is not None else now
        record_id = f"{call.call_id}:{group_id}"
        if self.rt.state.get("queue_call", record_id) is None:
            tx.uow.put("queue_call", record_id, {
                "recordId": record_id, "accountId": call.account_id, "groupId": group_id, "callId": call.call_id,
                "queuedOn": iso(queued_on), "leftOn": iso(now), "outcome": outcome,
                "waitSeconds": round((now - queued_on).total_seconds(), 3),
                "agentUserId": self.agent_user(agent_leg) if agent_leg else None})
        group = self.rt.state.get("group", group_id)
        if outcome != "answered":
            call.queue_id = None
        if group is not None:
            self._queue_event(tx, group)

    def offer_answered(self, tx: CallTransaction, leg: Leg) -> None:
        call = leg.call
        assert call is not None
        entry = self.queues.entry_of(call)
        if entry is not None:
            entry.offers = [o for o in entry.offers if o is leg]
        self._leave(tx, call, "answered", agent_leg=leg)

    def offer_redirected(self, tx: CallTransaction, leg: Leg) -> None:
        """The ringing offer ``leg`` redirects the call: the call leaves the queue and the other offers are
        cancelled; ``leg`` itself is completed by the redirect (cause ``redirected``)."""
        if leg.call is not None:
            leg.queue_id = None
            self._leave(tx, leg.call, "redirected", agent_leg=leg)

    def offer_not_answered(self, tx: CallTransaction, leg: Leg) -> None:
        """RONA: the agent is made not ready and the call goes back to the head of the queue."""
        group = self.rt.state.get("group", leg.queue_id or "")
        user_id = self.agent_user(leg)
        if group is not None and group.get("type") == "ACD" and user_id:
            agent = self.agents.agent(leg.account_id, user_id)
            self.agents.save(tx.uow, {**agent, "ready": False, "reason": "RONA"})
        self.table.complete(tx, leg, "callNotAnswer")
        if group is not None:
            group_ep = self.engine.endpoint(leg.account_id, group["extension"])
            if group_ep is not None:
                self.distribute(tx, group_ep)

    # ------------------------------------------------------------------ call listener
    def keeps_waiting(self, call: Call) -> bool:
        """Still queued for an agent (a call answered from the queue has left it, so when the agent hangs
        up the caller's call ends)."""
        return call.queue_id is not None and self.queues.entry_of(call) is not None

    def call_ending(self, tx: CallTransaction, call: Call) -> None:
        self._abandon(tx, call)

    def call_finished(self, tx: CallTransaction, call: Call) -> None:
        self._abandon(tx, call)

    def _abandon(self, tx: CallTransaction, call: Call) -> None:
        if call.queue_id and not call.queue_id.startswith("park:") and self.queues.entry_of(call) is not None:
            self._leave(tx, call, "abandoned")

    def leg_left(self, tx: CallTransaction, leg: Leg) -> None:
        if leg.queue_id:
            self._offer_ended(tx, leg)
        self._endpoint_freed(tx, leg.endpoint)

    def _offer_ended(self, tx: CallTransaction, leg: Leg) -> None:
        """An agent's leg of a queue call ended: after talking, wrap-up; unanswered, the call goes back."""
        call = leg.call
        group = self.rt.state.get("group", leg.queue_id or "")
        user_id = self.agent_user(leg)
        if leg.answered_on is not None:
            if group is not None and group.get("type") == "ACD" and user_id:
                wrap = float(queue_settings(group)["wrapUpSeconds"] or 0)
                agent = self.agents.agent(leg.account_id, user_id)
                now = self.engine.now()
                changes = {"idleSince": iso(now)}
                if wrap > 0:
                    changes["wrapUntil"] = iso(now + timedelta(seconds=wrap))
                    group_ep = self.engine.endpoint(leg.account_id, group["extension"])
                    if group_ep is not None:
                        self.engine.scheduler.after(wrap, self._wrap_up_ends(leg.account_id, user_id, group_ep),
                                                    f"wrap-up {leg.leg_id}")
                self.agents.save(tx.uow, {**agent, **changes})
            return
        if call is None:
            return
        if group is not None and group.get("type") == "ACD" and user_id:
            agent = self.agents.agent(leg.account_id, user_id)
            if agent["ready"]:  # an agent who rejects an offer goes not ready, as with RONA
                self.agents.save(tx.uow, {**agent, "ready": False, "reason": "Rejected"})
        else:
            call.declined.add(leg.endpoint.key)  # a hunt member who rejected is not offered it again
        entry = self.queues.entry_of(call)
        if entry is not None and leg in entry.offers:
            entry.offers.remove(leg)

    def _endpoint_freed(self, tx: CallTransaction, endpoint: Endpoint) -> None:
        """An endpoint dropped a leg: if it is idle now, an agent may take the next waiting call."""
        if endpoint.kind != EXTENSION or endpoint.legs or not self.queues.any_waiting(endpoint.account_id):
            return
        employee = self.interactions.employee_at(endpoint.account_id, endpoint.number)
        user_id = employee["userId"] if employee is not None else endpoint.user_id
        for group_ep in self._groups_of(endpoint.account_id, user_id):
            self.distribute(tx, group_ep)

    def _wrap_up_ends(self, account_id: str, user_id: str, group_ep: Endpoint) -> Callable[[], Awaitable[None]]:
        """The work timer runs out: the agent is free again (an ``agent.updated`` says so) and may be offered
        the next waiting call. A wrap-up cleared or restarted meanwhile is left alone."""
        async def fire() -> None:
            async with self.engine.transaction() as tx:
                agent = self.agents.agent(account_id, user_id)
                if agent.get("wrapUntil") and agent["wrapUntil"] <= iso(self.engine.now()):
                    self.agents.save(tx.uow, {**agent, "wrapUntil": None})
                self.distribute(tx, group_ep)
        return fire

    # ------------------------------------------------------------------ distribution
    def distribute(self, tx: CallTransaction, group_ep: Endpoint) -> None:
        """Offer the queue's waiting entries, in order, to the agents who may take them."""
        group = self.rt.state.get("group", group_ep.group_id or "")
        if group is None:
            return
        settings = queue_settings(group)
        for entry in self.queues.waiting(group["accountId"], group["groupId"]):
            if entry.offered:
                continue
            call = entry.call
            callers = [leg for leg in call.live_legs() if leg.state != "ringing"]
            if not callers:
                continue
            chosen = choose(settings, eligible(self.engine, self.agents, group, settings, entry), entry)
            if not chosen:
                if settings["distribution"] != "ringAll":
                    break
                continue
            entry.offers = [self._offer(tx, entry, callers[0], group_ep, group, settings, endpoint)
                            for endpoint in chosen]

    def _offer(self, tx: CallTransaction, entry: QueueEntry, caller: Leg, group_ep: Endpoint, group: dict[str, Any],
               settings: dict[str, Any], endpoint: Endpoint) -> Leg:
        """Ring ``endpoint`` with the waiting ``entry`` (one ACD offer)."""
        leg = self.table.add_leg(
            tx, entry.call, endpoint, direction="inbound", state="ringing", cause="newCall",
            from_number=caller.endpoint.number, from_name=caller.endpoint.name,
            from_principal=caller.endpoint.principal_id, to_number=group_ep.number, to_name=group_ep.name,
            to_principal=group["groupId"])
        leg.queue_id = group["groupId"]
        self.engine.routing.arm_no_answer(leg, float(settings["ringTimeoutSeconds"]), "acd-offer")
        return leg

    async def pick(self, phone: Endpoint, conversation_id: str) -> None:
        """An agent picks a waiting call: it is offered to their ``phone`` now, ahead of distribution."""
        async with self.engine.transaction() as tx:
            call = self.engine.calls.get(conversation_id)
            entry = self.queues.entry_of(call) if call is not None else None
            if call is None or entry is None:
                raise NotFound("ConversationNotFound", f"conversation {conversation_id} is not waiting in a queue")
            if entry.offered:
                raise Conflict("ConversationOffered", "the conversation is being offered to an agent")
            if phone.in_call():
                raise Conflict("AgentBusy", "the agent's phone is busy")
            callers = [leg for leg in call.live_legs() if leg.state != "ringing"]
            group = self.rt.state.get("group", entry.group_id)
            group_ep = self.engine.endpoint(call.account_id, (group or {}).get("extension") or "")
            if not callers or group is None or group_ep is None:
                raise Conflict("ConversationNotWaiting", "the conversation has no caller waiting")
            entry.offers = [self._offer(tx, entry, callers[0], group_ep, group, queue_settings(group), phone)]

    def employee_changed(self, tx: CallTransaction, employee: dict[str, Any],
                         phones: list[Endpoint | None] | None = None) -> None:
        """An employee's agents changed (login, logout, ready, busy, presence): an ACD offer ringing at their
        phone (``phones``: where it may ring, e.g. the hot-desk extension they just left) that they may no
        longer take is withdrawn and goes to the next agent; their Voice queues may offer them a call now, and
        the queues' numbers change."""
        self._withdraw(tx, employee["accountId"], employee["userId"], [*(phones or []), self.states.phone(employee)])
        for group_ep in self._groups_of(employee["accountId"], employee["userId"]):
            group = self.rt.state.get("group", group_ep.group_id or "")
            if group is not None:
                self._queue_event(tx, group)
            self.distribute(tx, group_ep)
        self.media.distribute_for(tx.uow, employee)

    def _withdraw(self, tx: CallTransaction, account_id: str, user_id: str, phones: list[Endpoint | None]) -> None:
        """Withdraw the ACD offers ringing at ``phones`` that the agent may no longer take (logged out, not
        ready, left the queue); they go back to the head of their queue."""
        agent = self.agents.agent(account_id, user_id)
        for phone in {id(p): p for p in phones if p is not None}.values():
            for leg in list(phone.legs):
                if leg.state != "ringing" or not leg.queue_id or leg.call is None:
                    continue
                if agent["loggedIn"] and agent["ready"] and agent["presence"].get(leg.queue_id) is not False:
                    continue
                entry = self.queues.entry_of(leg.call)
                if entry is not None and leg in entry.offers:
                    entry.offers.remove(leg)
                leg.queue_id = None  # withdrawn, not rejected: the agent is not made busy for it
                self.table.complete(tx, leg, "callCancelled")

    # ------------------------------------------------------------------ agents
    def agent_state(self, actor: Principal, user_id: str | None, account_ref: str | None = None) -> dict[str, Any]:
        """An agent's state as ``set_agent`` leaves it: logged in, ready (with the reason), skills, presence,
        idle since, wrap-up, and the queues the user belongs to. Who may change it may read it."""
        account_id = self.engine.account_of(actor, account_ref)
        user_id = self.agents.target(actor, account_id, user_id)
        agent = self.agents.agent(account_id, user_id)
        queues = [{"groupId": ep.group_id, "number": ep.number, "name": ep.name}
                  for ep in self._groups_of(account_id, user_id)]
        return {**{k: v for k, v in agent.items() if k != "agentKey"}, "queues": queues}

    async def set_agent(self, actor: Principal, user_id: str | None, *, logged_in: bool | None = None,
                        ready: bool | None = None, reason: str | None = None, skills: dict[str, int] | None = None,
                        presence: dict[str, bool] | None = None, account_ref: str | None = None) -> dict[str, Any]:
        """Login/logout, ready/not ready (with a reason code), skills and per-group presence."""
        check_agent_change(skills, presence)
        async with self.engine.transaction() as tx:
            account_id = self.engine.account_of(actor, account_ref)
            user_id = self.agents.target(actor, account_id, user_id)
            agent = self.agents.changed(self.agents.agent(account_id, user_id), logged_in=logged_in, ready=ready,
                                        reason=reason, skills=skills, presence=presence)
            phone = self.engine.endpoint(account_id, agent.get("hotDeskExtension") or "") or self.engine.endpoint(
                account_id, self.engine.dialplan.user_extension(account_id, user_id) or "")
            saved = self.agents.save(tx.uow, agent)
            self._withdraw(tx, account_id, user_id, [phone])
            for group_ep in self._groups_of(account_id, user_id):
                group = self.rt.state.get("group", group_ep.group_id or "")
                if group is not None:
                    self._queue_event(tx, group)
                self.distribute(tx, group_ep)
            return saved

    # ------------------------------------------------------------------ statistics
    def stats_of(self, group: dict[str, Any], service_level_seconds: float = 20.0) -> dict[str, Any]:
        return queue_statistics(self.engine, self.queues, self.agents, group, service_level_seconds)

    def queue_state_view(self, queue: dict[str, Any]) -> dict[str, Any]:
        """A contact-center queue's real-time numbers ("Queue Now"): the interactions (a Voice queue's from
        its ACD group's statistics) and the agents of its agent groups for its media."""
        account_id = queue["accountId"]
        media = queue["mediaType"]
        sl = float(queue.get("serviceLevelSeconds") or 20)
        counts = {"agentsLoggedIn": 0, "agentsAvailable": 0, "agentsIdle": 0, "agentsOnAcd": 0, "agentsOnNonAcd": 0,
                  "agentsOnOutbound": 0, "agentsUnavailable": 0}
        members: set[str] = set()
        for group_id in queue.get("agentGroups", []):
            agent_group = self.rt.state.get("cc_agent_group", group_id)
            if agent_group is not None and media in agent_group.get("media", []):
                members.update(self.config.members(agent_group))
        for employee in self.config.employees(account_id):
            if employee["userId"] not in members or media not in employee["agents"]:
                continue
            presence = self.states.agent_presence(employee, media)
            if presence["state"] == "Offline":
                continue
            counts["agentsLoggedIn"] += 1
            activity = presence["acdState"]
            if presence["state"] == "Available":
                counts["agentsAvailable"] += 1
                if activity == "Idle":
                    counts["agentsIdle"] += 1
            else:
                counts["agentsUnavailable"] += 1
            if activity in ("Acd", "Held"):
                counts["agentsOnAcd"] += 1
            elif activity == "NonAcd":
                counts["agentsOnNonAcd"] += 1
            elif activity == "Outbound":
                counts["agentsOnOutbound"] += 1
        group = self.rt.state.get("group", queue.get("groupId") or "")
        if group is not None:
            stats = self.stats_of(group, sl)
        else:  # the other media: their interactions waiting now and the records of those that left
            waiting = [datetime.fromisoformat(d["timeOfferedToQueue"].replace("Z", "+00:00"))
                       for d in self.media.waiting(queue)]
            records = queue_records(self.rt.state, queue["id"])
            stats = queue_figures(self.engine.now(), waiting, records, self.media.free_agents(queue),
                                  counts["agentsLoggedIn"], sl)
        return {"queueId": queue["id"], "accountId": account_id, "name": queue["name"],
                "reporting": queue["reporting"], "mediaType": media, "waiting": stats["waiting"],
                "longestWaitSeconds": stats["longestWaitSeconds"], "longestWaitingStartedTime": stats["oldestQueuedOn"],
                "estimatedWaitSeconds": stats["estimatedWaitSeconds"], "offeredToday": stats["offeredToday"],
                "answeredToday": stats["answeredToday"], "abandonedToday": stats["abandonedToday"],
                "answeredWithinServiceLevelToday": stats["answeredWithinServiceLevelToday"],
                "serviceLevelPercentToday": stats["serviceLevelPercentToday"],
                "serviceLevelGoal": queue.get("serviceLevelGoal", 80), "windows": stats["windows"], **counts,
                "updatedOn": self.rt.now_iso()}

    def queue_stats(self, actor: Principal, account_ref: str | None = None) -> list[dict[str, Any]]:
        account_id = self.engine.account_of(actor, account_ref)
        return [self.stats_of(g) for g in self.rt.state.all("group")
                if g["accountId"] == account_id and g.get("extension")]
