"""ACD: groups with a number become queues; their members are agents.

* A group of type ``ACD`` is a contact-center queue: only agents who are logged in, present in the group,
  ready (not in a not-ready/"make busy" state with a reason code), idle on their phone and out of wrap-up
  are offered calls. Distribution is ``longestIdle`` by default; ``priority`` (member order), ``skills``
  (highest level in the call's skill, then longest idle) and ``ringAll`` are options.
* Any other group with a number (``HUNT``, …) rings its members who are idle and not on DND, all at once.
* Calls wait in FIFO order within priority. An agent who does not answer within ``ringTimeoutSeconds`` is
  made not ready with reason ``RONA`` and the call goes back to the head of the queue.
* Queue statistics (waiting, longest wait, agents logged in and free, offered/answered/abandoned today)
  are derived from the live queue and the ``queue_call`` records written as calls leave the queue.

Queue settings live in the group document's ``acd`` object; agent state in ``agent`` documents.
"""
from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from callyard.core.clock import iso
from callyard.core.engine.model import EXTENSION, Call, Endpoint, Leg
from callyard.core.errors import Conflict, Forbidden, Invalid, NotFound
from callyard.core.principal import Principal
from callyard.core.state import UnitOfWork

if TYPE_CHECKING:
    from callyard.core.engine.service import Engine

DISTRIBUTIONS = ("longestIdle", "priority", "skills", "ringAll")
QUEUE_DEFAULTS: dict[str, Any] = {"distribution": "longestIdle", "ringTimeoutSeconds": 15, "wrapUpSeconds": 0,
                                  "maxWaitSeconds": None, "overflow": None}


class Acd:
    def __init__(self, engine: "Engine") -> None:
        self.engine = engine
        self.rt = engine.rt
        self.waiting: dict[tuple[str, str], list[Call]] = {}   # (account, group) → calls in order
        self.offered: dict[str, list[Leg]] = {}                # call id → ringing agent legs
        self.parked: set[str] = set()

    def reset(self) -> None:
        self.waiting.clear()
        self.offered.clear()
        self.parked.clear()

    # ------------------------------------------------------------------ configuration
    def group(self, endpoint: Endpoint) -> dict[str, Any]:
        group = self.rt.state.get("group", endpoint.group_id or "")
        if group is None:
            raise NotFound("QueueNotFound", f"queue {endpoint.number} was not found")
        return group

    def settings(self, group: dict[str, Any]) -> dict[str, Any]:
        defaults = dict(QUEUE_DEFAULTS)
        if group.get("type") != "ACD":
            defaults["distribution"] = "ringAll"
        return {**defaults, **(group.get("acd") or {})}

    def is_member(self, endpoint: Endpoint, user_id: str | None) -> bool:
        group = self.rt.state.get("group", endpoint.group_id or "")
        return bool(group and user_id and any(m["memberId"] == user_id for m in group.get("members", [])))

    def agent(self, account_id: str, user_id: str) -> dict[str, Any]:
        doc = self.rt.state.get("agent", f"{account_id}:{user_id}")
        return doc or {"agentKey": f"{account_id}:{user_id}", "accountId": account_id, "userId": user_id,
                       "loggedIn": False, "ready": False, "reason": None, "skills": {}, "presence": {},
                       "idleSince": None, "wrapUntil": None, "changedOn": None}

    # ------------------------------------------------------------------ queueing
    def is_waiting(self, call: Call) -> bool:
        """Parked, or still queued for an agent (a call answered from the queue has left it, so when the
        agent hangs up the caller's call ends)."""
        return call.call_id in self.parked or (
            call.queue_id is not None and call in self.waiting.get((call.account_id, call.queue_id), []))

    def enqueue(self, uow: UnitOfWork, call: Call, caller: Leg, group_ep: Endpoint, cause: str) -> Leg:
        group = self.group(group_ep)
        call.queue_id = group["groupId"]
        call.queued_on = self.engine.now()
        queue = self.waiting.setdefault((call.account_id, group["groupId"]), [])
        position = len(queue)
        while position > 0 and queue[position - 1].priority < call.priority:
            position -= 1
        queue.insert(position, call)
        settings = self.settings(group)
        if settings["maxWaitSeconds"]:
            self.engine.scheduler.after(float(settings["maxWaitSeconds"]), self._max_wait(call, group_ep),
                                        f"max-wait {call.call_id}")
        self._queue_event(uow, group)
        self.distribute(uow, group_ep)
        return caller

    def _queue_event(self, uow: UnitOfWork, group: dict[str, Any]) -> None:
        uow.emit("queue.updated", group["accountId"], f"/queues/{group['groupId']}",
                 self.stats_of(group), self.rt.now_iso())

    def _max_wait(self, call: Call, group_ep: Endpoint) -> Any:
        async def fire() -> None:
            async with self.engine._write() as uow:
                key = (call.account_id, call.queue_id or "")
                if call not in self.waiting.get(key, []) or call.call_id in self.offered:
                    return
                group = self.group(group_ep)
                overflow = self.settings(group)["overflow"]
                callers = call.live_legs()
                if not callers:
                    return
                self._leave(uow, call, "overflow")
                if overflow:
                    self.engine._divert(uow, call, callers[0], group_ep, overflow, "callForward", 0)
                else:
                    self.engine._fail(uow, callers[0], "resourcesNotAvailable")
        return fire

    def _leave(self, uow: UnitOfWork, call: Call, outcome: str, agent_leg: Leg | None = None) -> None:
        """The call leaves its queue (answered, abandoned, overflowed, redirected): write its queue record."""
        group_id = call.queue_id
        if group_id is None or group_id.startswith("park:"):
            return
        queue = self.waiting.get((call.account_id, group_id), [])
        if call in queue:
            queue.remove(call)
        for leg in self.offered.pop(call.call_id, []):
            if leg is not agent_leg and leg.state == "ringing":
                leg.queue_id = None
                self.engine._complete(uow, leg, "callCancelled")
        now = self.engine.now()
        record_id = f"{call.call_id}:{group_id}"
        if self.rt.state.get("queue_call", record_id) is None:
            uow.put("queue_call", record_id, {
                "recordId": record_id, "accountId": call.account_id, "groupId": group_id, "callId": call.call_id,
                "queuedOn": iso(call.queued_on or now), "leftOn": iso(now), "outcome": outcome,
                "waitSeconds": round((now - (call.queued_on or now)).total_seconds(), 3),
                "agentUserId": agent_leg.endpoint.user_id if agent_leg else None})
        group = self.rt.state.get("group", group_id)
        if outcome != "answered":
            call.queue_id = None
        if group is not None:
            self._queue_event(uow, group)

    def leave_queue(self, uow: UnitOfWork, leg: Leg) -> None:
        """The ringing offer ``leg`` redirects the call: the call leaves the queue and the other offers are
        cancelled; ``leg`` itself is completed by the redirect (cause ``redirected``)."""
        if leg.call is not None:
            leg.queue_id = None
            self._leave(uow, leg.call, "redirected", agent_leg=leg)

    def call_gone(self, uow: UnitOfWork, call: Call) -> None:
        self.parked.discard(call.call_id)
        if call.queue_id and not call.queue_id.startswith("park:"):
            queue = self.waiting.get((call.account_id, call.queue_id), [])
            if call in queue or call.call_id in self.offered:
                self._leave(uow, call, "abandoned")
        self.offered.pop(call.call_id, None)

    # ------------------------------------------------------------------ distribution
    def _eligible(self, group: dict[str, Any], settings: dict[str, Any], call: Call) -> list[tuple[Endpoint, dict]]:
        account_id = group["accountId"]
        now = self.engine.now()
        acd = group.get("type") == "ACD"
        found = []
        for member in group.get("members", []):
            if member.get("status", "ACCEPTED") != "ACCEPTED":
                continue
            number = self.engine.dialplan.user_extension(account_id, member["memberId"])
            if number is None:
                continue
            endpoint = self.engine.endpoint(account_id, number)
            if endpoint is None or endpoint.kind != EXTENSION or endpoint.in_call() or endpoint.key in call.declined:
                continue
            endpoint_settings = self.engine.settings(endpoint)
            if endpoint_settings["outOfService"] or endpoint_settings["dnd"]:
                continue
            agent = self.agent(account_id, member["memberId"])
            if acd:
                if not (agent["loggedIn"] and agent["ready"]) or agent["presence"].get(group["groupId"]) is False:
                    continue
                if agent.get("wrapUntil") and agent["wrapUntil"] > iso(now):
                    continue
                if call.skill and settings["distribution"] == "skills" and call.skill not in agent["skills"]:
                    continue
            found.append((endpoint, agent))
        return found

    def _choose(self, settings: dict[str, Any], candidates: list[tuple[Endpoint, dict]], call: Call) -> list[Endpoint]:
        if not candidates:
            return []
        mode = settings["distribution"]
        if mode == "ringAll":
            return [endpoint for endpoint, _ in candidates]
        if mode == "priority":
            return [candidates[0][0]]
        idle = sorted(candidates, key=lambda c: c[1].get("idleSince") or "")
        if mode == "skills" and call.skill:
            idle.sort(key=lambda c: -int(c[1]["skills"].get(call.skill, 0)))
        return [idle[0][0]]

    def distribute(self, uow: UnitOfWork, group_ep: Endpoint) -> None:
        group = self.rt.state.get("group", group_ep.group_id or "")
        if group is None:
            return
        settings = self.settings(group)
        for call in list(self.waiting.get((group["accountId"], group["groupId"]), [])):
            if call.call_id in self.offered:
                continue
            callers = [leg for leg in call.live_legs() if leg.state != "ringing"]
            if not callers:
                continue
            chosen = self._choose(settings, self._eligible(group, settings, call), call)
            if not chosen:
                if settings["distribution"] != "ringAll":
                    break
                continue
            caller = callers[0]
            offers = []
            for endpoint in chosen:
                leg = self.engine._add_leg(
                    uow, call, endpoint, direction="inbound", state="ringing", cause="newCall",
                    from_number=caller.endpoint.number, from_name=caller.endpoint.name,
                    from_principal=caller.endpoint.principal_id, to_number=group_ep.number, to_name=group_ep.name,
                    to_principal=group["groupId"])
                leg.queue_id = group["groupId"]
                leg.timer = self.engine.scheduler.after(float(settings["ringTimeoutSeconds"]),
                                                        self.engine._timer(leg, self.engine._no_answer),
                                                        f"acd-offer {leg.leg_id}")
                offers.append(leg)
            self.offered[call.call_id] = offers

    def _groups_of(self, account_id: str, user_id: str | None) -> list[Endpoint]:
        out = []
        for group in self.rt.state.all("group"):
            if group["accountId"] == account_id and group.get("extension") and user_id and any(
                    m["memberId"] == user_id for m in group.get("members", [])):
                endpoint = self.engine.endpoint(account_id, group["extension"])
                if endpoint is not None:
                    out.append(endpoint)
        return out

    def endpoint_freed(self, uow: UnitOfWork, endpoint: Endpoint) -> None:
        """An endpoint dropped a leg: if it is idle now, an agent may take the next waiting call."""
        if endpoint.kind != EXTENSION or endpoint.legs or not any(
                calls for (account, _), calls in self.waiting.items() if account == endpoint.account_id):
            return
        for group_ep in self._groups_of(endpoint.account_id, endpoint.user_id):
            self.distribute(uow, group_ep)

    def answered(self, uow: UnitOfWork, leg: Leg) -> None:
        call = leg.call
        assert call is not None
        self.offered[call.call_id] = [o for o in self.offered.get(call.call_id, []) if o is leg]
        self._leave(uow, call, "answered", agent_leg=leg)
        self.offered.pop(call.call_id, None)

    def offer_ended(self, uow: UnitOfWork, leg: Leg) -> None:
        """An agent's leg of a queue call ended: after talking, wrap-up; unanswered, the call goes back."""
        call = leg.call
        group = self.rt.state.get("group", leg.queue_id or "")
        if leg.answered_on is not None:
            if group is not None and group.get("type") == "ACD" and leg.endpoint.user_id:
                wrap = float(self.settings(group)["wrapUpSeconds"] or 0)
                agent = self.agent(leg.account_id, leg.endpoint.user_id)
                now = self.engine.now()
                changes = {"idleSince": iso(now)}
                if wrap > 0:
                    changes["wrapUntil"] = iso(now + timedelta(seconds=wrap))
                    group_ep = self.engine.endpoint(leg.account_id, group["extension"])
                    if group_ep is not None:
                        self.engine.scheduler.after(wrap, self._redistribute(group_ep), f"wrap-up {leg.leg_id}")
                self._save_agent(uow, {**agent, **changes})
            return
        if call is None:
            return
        if group is not None and group.get("type") == "ACD" and leg.endpoint.user_id:
            agent = self.agent(leg.account_id, leg.endpoint.user_id)
            if agent["ready"]:  # an agent who rejects an offer goes not ready, as with RONA
                self._save_agent(uow, {**agent, "ready": False, "reason": "Rejected"})
        else:
            call.declined.add(leg.endpoint.key)  # a hunt member who rejected is not offered it again
        offers = self.offered.get(call.call_id, [])
        if leg in offers:
            offers.remove(leg)
        if not offers:
            self.offered.pop(call.call_id, None)

    def _redistribute(self, group_ep: Endpoint) -> Any:
        async def fire() -> None:
            async with self.engine._write() as uow:
                self.distribute(uow, group_ep)
        return fire

    def ring_no_answer(self, uow: UnitOfWork, leg: Leg) -> None:
        """RONA: the agent is made not ready and the call goes back to the head of the queue."""
        group = self.rt.state.get("group", leg.queue_id or "")
        if group is not None and group.get("type") == "ACD" and leg.endpoint.user_id:
            agent = self.agent(leg.account_id, leg.endpoint.user_id)
            self._save_agent(uow, {**agent, "ready": False, "reason": "RONA"})
        self.engine._complete(uow, leg, "callNotAnswer")
        if group is not None:
            group_ep = self.engine.endpoint(leg.account_id, group["extension"])
            if group_ep is not None:
                self.distribute(uow, group_ep)

    # ------------------------------------------------------------------ agents
    def _save_agent(self, uow: UnitOfWork, doc: dict[str, Any]) -> dict[str, Any]:
        doc = {**doc, "changedOn": self.rt.now_iso()}
        uow.put("agent", doc["agentKey"], doc)
        uow.emit("agent.updated", doc["accountId"], f"/agents/{doc['userId']}", doc, self.rt.now_iso())
        return doc

    def _agent_target(self, actor: Principal, user_id: str | None, account_ref: str | None) -> tuple[str, str]:
        account_id = self.engine._account_of(actor, account_ref)
        user_id = user_id if user_id not in (None, "me") else actor.user_id
        if not user_id:
            raise Invalid("UserRequired", "name the agent's userId")
        user = self.rt.state.get("user", user_id)
        if user is None or user["accountId"] != account_id:
            raise NotFound("AgentNotFound", f"agent {user_id} was not found")
        if user_id != actor.user_id and not (actor.at_least("ACCOUNT_ADMIN") or actor.kind in ("client", "control")):
            raise Forbidden("InsufficientPermissions", "only an administrator changes another agent's state")
        return account_id, user_id

    async def set_agent(self, actor: Principal, user_id: str | None, *, logged_in: bool | None = None,
                        ready: bool | None = None, reason: str | None = None, skills: dict[str, int] | None = None,
                        presence: dict[str, bool] | None = None, account_ref: str | None = None) -> dict[str, Any]:
        """Login/logout, ready/not ready (with a reason code), skills and per-group presence."""
        if skills is not None and (not isinstance(skills, dict) or not all(
                isinstance(k, str) and isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= 100
                for k, v in skills.items())):
            raise Invalid("InvalidSkills", "skills map a skill name to a level from 0 to 100")
        if presence is not None and (not isinstance(presence, dict) or not all(
                isinstance(v, bool) for v in presence.values())):
            raise Invalid("InvalidPresence", "presence maps a groupId to true or false")
        async with self.engine._write() as uow:
            account_id, user_id = self._agent_target(actor, user_id, account_ref)
            agent = dict(self.agent(account_id, user_id))
            now = self.rt.now_iso()
            if logged_in is not None:
                if logged_in and not agent["loggedIn"]:
                    agent.update(loggedIn=True, ready=True if ready is None else ready, reason=None,
                                 idleSince=now, lastLogin=now)
                elif not logged_in:
                    agent.update(loggedIn=False, ready=False, reason=None, lastLogout=now)
            if ready is not None and agent["loggedIn"]:
                if ready and not agent["ready"]:
                    agent["idleSince"] = now
                agent.update(ready=ready, reason=None if ready else reason)
            elif ready is not None and not agent["loggedIn"] and logged_in is None:
                raise Conflict("AgentLoggedOut", "the agent is logged out; log in first")
            if skills is not None:
                agent["skills"] = skills
            if presence is not None:
                agent["presence"] = {**agent["presence"], **presence}
            saved = self._save_agent(uow, agent)
            for group_ep in self._groups_of(account_id, user_id):
                group = self.rt.state.get("group", group_ep.group_id or "")
                if group is not None:
                    self._queue_event(uow, group)
                self.distribute(uow, group_ep)
            return saved

    # ------------------------------------------------------------------ statistics
    def stats_of(self, group: dict[str, Any]) -> dict[str, Any]:
        now = self.engine.now()
        account_id = group["accountId"]
        queue = self.waiting.get((account_id, group["groupId"]), [])
        waiting = list(queue)  # calls being offered to an agent still count as waiting
        longest = max(((now - c.queued_on).total_seconds() for c in waiting if c.queued_on), default=0.0)
        logged_in = free = 0
        settings = self.settings(group)
        probe = Call("probe", account_id, now)
        free_eps = {e.number for e, _ in self._eligible(group, settings, probe)}
        for member in group.get("members", []):
            agent = self.agent(account_id, member["memberId"])
            if agent["loggedIn"] or group.get("type") != "ACD":
                logged_in += 1
            number = self.engine.dialplan.user_extension(account_id, member["memberId"])
            if number in free_eps:
                free += 1
        midnight = iso(now.replace(hour=0, minute=0, second=0, microsecond=0))
        records = [r for r in self.rt.state.all("queue_call")
                   if r["groupId"] == group["groupId"] and r["queuedOn"] >= midnight]
        answered = [r for r in records if r["outcome"] == "answered"]
        return {"groupId": group["groupId"], "accountId": account_id, "name": group.get("name", ""),
                "number": group.get("extension"), "type": group.get("type"),
                "distribution": settings["distribution"], "waiting": len(waiting),
                "longestWaitSeconds": round(longest, 3), "agentsLoggedIn": logged_in, "agentsFree": free,
                "offeredToday": len(records) + len(waiting), "answeredToday": len(answered),
                "abandonedToday": sum(1 for r in records if r["outcome"] == "abandoned"),
                "averageWaitSeconds": round(sum(r["waitSeconds"] for r in answered) / len(answered), 3)
                if answered else 0.0}

    def queue_stats(self, actor: Principal, account_ref: str | None = None) -> list[dict[str, Any]]:
        account_id = self.engine._account_of(actor, account_ref)
        return [self.stats_of(g) for g in self.rt.state.all("group")
                if g["accountId"] == account_id and g.get("extension")]
