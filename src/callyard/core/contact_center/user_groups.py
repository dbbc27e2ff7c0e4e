"""The contact center as an end user sees it (the UC User API's ACD/Attendant Group, Distribution Group and
Queue Statistics groups): the numbered groups a user belongs to, logging in and out of each, the agents of a
group, queue statistics and the group call log.

Nothing here has its own agent state: logging in to a group is the contact center's agent login plus the
agent's presence in that group (``ContactCenter.set_agent``), the same state the CloudLink simulator and the
CX family read. A user is logged in to an ACD group while their agent is logged in and present in it; to a
hunt group (``ACD_LIGHT``) while present in it.

The **group call log** is a projection: when a call leaves a queue, the contact center writes its
``queue_call`` record and emits ``queue.updated`` in the same transaction; the projection here turns each new
record into a ``group_call_item`` (``ANSWERED``, ``MISSED`` when the caller gave up, ``FORWARDED`` when it
overflowed or was redirected) with the caller taken from the call's legs, and fills in the talk time when the
answering agent's leg completes. Items are ``UNHANDLED`` until a member assigns one (``INPROGRESS``,
``HANDLED``, with a note).

Groups are addressed by their function number (the group's extension, an int64 as the API wants).
"""
from __future__ import annotations

import builtins
from datetime import timedelta
from typing import Any, Iterable

from callyard.core.clock import iso
from callyard.core.contact_center.distribution import eligible
from callyard.core.contact_center.queues import queue_settings
from callyard.core.contact_center.service import ContactCenter
from callyard.core.engine.lines import function_number_id, group_line_type
from callyard.core.errors import Forbidden, Invalid, NotFound
from callyard.core.principal import SYSTEM, Principal
from callyard.core.state import UnitOfWork
from callyard.events.event import Event
from callyard.events.projections import DERIVE

GROUP_LOG_TYPES = ("ALL", "ANSWERED", "FORWARDED", "MISSED")
HANDLED_STATES = ("UNHANDLED", "INPROGRESS", "HANDLED")
OUTCOME_TYPES = {"answered": "ANSWERED", "abandoned": "MISSED", "overflow": "FORWARDED", "redirected": "FORWARDED"}
SUPERVISOR_LICENCE = "SUPERVISOR"


def is_member(group: dict[str, Any], user_id: str) -> bool:
    return any(m["memberId"] == user_id and m.get("status", "ACCEPTED") == "ACCEPTED"
               for m in group.get("members", []))


class UserGroups:
    def __init__(self, contact_center: ContactCenter) -> None:
        self.cc = contact_center
        self.engine = contact_center.engine
        self.rt = contact_center.rt
        self.rt.projections.in_transaction("group call log", self.project, events=("queue.updated", "call.state"),
                                           order=DERIVE)

    # ================================================================== look-ups and access
    def _user(self, account_id: str, user_id: str) -> dict[str, Any]:
        user = self.rt.state.get("user", user_id)
        if user is None or user["accountId"] != account_id:
            raise NotFound("user.does.not.exist", f"user {user_id} was not found", field="user", value=user_id)
        return user

    def _privileged(self, actor: Principal, account_id: str) -> bool:
        """An administrator of the account (or an application/the control plane acting for it)."""
        if actor.kind == "control":
            return True
        return actor.account_id == account_id and (actor.kind == "client" or actor.at_least("ACCOUNT_ADMIN"))

    def _supervisor(self, actor: Principal, account_id: str) -> bool:
        if self._privileged(actor, account_id):
            return True
        user = self.rt.state.get("user", actor.user_id or "")
        return bool(user and user["accountId"] == account_id
                    and SUPERVISOR_LICENCE in (user.get("ucLicences") or ()))

    def _acting_for(self, actor: Principal, account_id: str, user_id: str) -> dict[str, Any]:
        user = self._user(account_id, user_id)
        if actor.user_id != user_id and not self._privileged(actor, account_id):
            if actor.account_id != account_id:
                raise NotFound("user.does.not.exist", f"user {user_id} was not found", field="user", value=user_id)
            raise Forbidden("access.denied", "a user acts for themself only", field="user", value=user_id)
        return user

    def groups(self, account_id: str) -> builtins.list[dict[str, Any]]:
        """The account's numbered groups (ACD queues and hunt groups), by function number."""
        found = [g for g in self.rt.state.all("group")
                 if g["accountId"] == account_id and function_number_id(g) is not None]
        return sorted(found, key=lambda g: function_number_id(g) or 0)

    def group(self, account_id: str, group_number: object) -> dict[str, Any]:
        for group in self.groups(account_id):
            if str(function_number_id(group)) == str(group_number).strip():
                return group
        raise NotFound("group.does.not.exist", f"group {group_number} was not found", field="group",
                       value=str(group_number))

    def member_group(self, account_id: str, user_id: str, group_number: object) -> dict[str, Any]:
        """A group of which ``user_id`` is a member (another group is not found)."""
        group = self.group(account_id, group_number)
        if not is_member(group, user_id):
            raise NotFound("group.does.not.exist", f"the user is not a member of group {group_number}",
                           field="group", value=str(group_number))
        return group

    def logged_in(self, group: dict[str, Any], user_id: str) -> bool:
        agent = self.cc.agent(group["accountId"], user_id)
        present = agent["presence"].get(group["groupId"]) is not False
        if group.get("type") == "ACD":
            return bool(agent["loggedIn"]) and present
        return present

    # ================================================================== views
    def _domain(self, account_id: str) -> str:
        return str((self.rt.state.get("account", account_id) or {}).get("domain") or "")

    def summary(self, group: dict[str, Any], user_id: str) -> dict[str, Any]:
        stats = self.cc.stats_of(group)
        return {"id": function_number_id(group), "domain": self._domain(group["accountId"]),
                "name": group.get("name", ""), "type": group_line_type(group),
                "loggedIn": self.logged_in(group, user_id), "nightMode": bool(group.get("nightMode", False)),
                "loggedInAgents": stats["agentsLoggedIn"], "freeAgents": stats["agentsFree"],
                "callsWaiting": stats["waiting"]}

    def agents_of(self, group: dict[str, Any]) -> builtins.list[dict[str, Any]]:
        """The members as agents: name, number, login and availability, activity and skill level."""
        account_id = group["accountId"]
        free = {a["userId"] for a in self._free_agents(group)}
        out = []
        for member in group.get("members", []):
            user = self.rt.state.get("user", member["memberId"])
            if user is None:
                continue
            agent = self.cc.agent(account_id, user["userId"])
            logged_in = self.logged_in(group, user["userId"])
            available = user["userId"] in free
            first, _, last = str(user.get("name") or "").partition(" ")
            out.append({"userId": user["userId"], "login": user.get("email", ""), "name": user.get("name", ""),
                        "firstName": first, "lastName": last, "number": str(user.get("extension") or ""),
                        "isLoggedIn": logged_in, "isAvailable": available,
                        "activity": self._activity(group, user["userId"], agent, logged_in, available),
                        "skillLevel": int(agent["skills"].get(group.get("name", ""), 0) or 0)})
        return out

    def _activity(self, group: dict[str, Any], user_id: str, agent: dict[str, Any], logged_in: bool,
                  available: bool) -> str:
        if not logged_in:
            return "LoggedOut"
        if available:
            return "Available"
        number = self.engine.dialplan.user_extension(group["accountId"], user_id)
        endpoint = self.engine.endpoint(group["accountId"], number) if number else None
        if endpoint is not None and endpoint.in_call():
            return "Busy"
        if agent.get("wrapUntil") and agent["wrapUntil"] > self.rt.now_iso():
            return "WrapUp"
        return "NotReady" if group.get("type") == "ACD" and not agent["ready"] else "Unavailable"

    def _free_agents(self, group: dict[str, Any]) -> builtins.list[dict[str, Any]]:
        found = eligible(self.engine, self.cc.agents, group, queue_settings(group), None)
        return [agent for endpoint, agent in found if self.logged_in(group, agent["userId"])]

    def detail(self, group: dict[str, Any], user_id: str, *, statistics: bool = True,
               agents: bool = True) -> dict[str, Any]:
        summary = self.summary(group, user_id)
        out: dict[str, Any] = {
            "id": summary["id"], "domain": summary["domain"], "name": summary["name"], "type": summary["type"],
            "loggedIn": summary["loggedIn"], "nightMode": summary["nightMode"],
            "agents": self.agents_of(group) if agents else [], "roles": [{"type": "AGENT"}],
            "allowUsingFunctionNumber": True,
            "distributionType": "SKILLS" if self.cc.stats_of(group).get("distribution") == "skills" else "PRIORITY",
            "phoneNumber": str(group.get("extension") or "")}
        if statistics:
            out["statistic"] = {"numberOfLoggedInAgents": summary["loggedInAgents"],
                                "numberOfFreeAgents": summary["freeAgents"],
                                "numberOfCallsInQueue": summary["callsWaiting"]}
        return out

    # ================================================================== the user's groups
    def list(self, actor: Principal, account_id: str, user_id: str) -> builtins.list[dict[str, Any]]:
        self._acting_for(actor, account_id, user_id)
        return [g for g in self.groups(account_id) if is_member(g, user_id)]

    def get(self, actor: Principal, account_id: str, user_id: str, group_number: object) -> dict[str, Any]:
        self._acting_for(actor, account_id, user_id)
        return self.member_group(account_id, user_id, group_number)

    async def set_login(self, actor: Principal, account_id: str, user_id: str, group_number: object,
                        login: bool) -> dict[str, Any]:
        """Log ``user_id`` in to (or out of) one group. Logging in to an ACD group logs the agent in; logging
        out of the last ACD group the agent is present in logs the agent out."""
        self._acting_for(actor, account_id, user_id)
        group = self.member_group(account_id, user_id, group_number)
        agent = self.cc.agent(account_id, user_id)
        presence = {group["groupId"]: login}
        if login:
            logged_in = True if group.get("type") == "ACD" and not agent["loggedIn"] else None
        else:
            still = [g for g in self.groups(account_id) if g.get("type") == "ACD" and g["groupId"] != group["groupId"]
                     and is_member(g, user_id) and agent["presence"].get(g["groupId"]) is not False]
            logged_in = False if group.get("type") == "ACD" and agent["loggedIn"] and not still else None
        # The caller's right to act for the user was checked above; the agent change itself is the contact
        # center's (the same state the CloudLink simulator and the CX family change).
        await self.cc.set_agent(SYSTEM, user_id, logged_in=logged_in, presence=presence, account_ref=account_id)
        return group

    # ================================================================== queue statistics
    def queue_stat(self, group: dict[str, Any]) -> dict[str, Any]:
        """The seed's QueueStat of one group: now (queue length, agents, longest wait), the period (today,
        from midnight on the twin's clock) and the last 24 hours, and the agents by activity."""
        stats = self.cc.stats_of(group)
        now = self.engine.now()
        day_ago = iso(now - timedelta(hours=24))
        records = sorted((r for r in self.rt.state.all("queue_call") if r["groupId"] == group["groupId"]),
                         key=lambda r: r["leftOn"])
        last_day = [r for r in records if r["queuedOn"] >= day_ago]
        answered = [r for r in records if r["outcome"] == "answered"]
        presence: dict[str, int] = {}
        for agent in self.agents_of(group):
            presence[agent["activity"]] = presence.get(agent["activity"], 0) + 1
        return {"name": group.get("name", ""), "domain": self._domain(group["accountId"]),
                "number": str(group.get("extension") or ""), "id": function_number_id(group),
                "queueLength": stats["waiting"], "availableAgents": stats["agentsFree"],
                "loggedInAgents": stats["agentsLoggedIn"], "longestWaiting": int(round(stats["longestWaitSeconds"])),
                "lastWait": int(round(answered[-1]["waitSeconds"])) if answered else 0,
                "averageWait": int(round(stats["averageWaitSeconds"])),
                "droppedCallsForPeriod": stats["abandonedToday"], "totalCallsForPeriod": stats["offeredToday"],
                "answeredCallsForPeriod": stats["answeredToday"],
                "totalCallsLast24h": len(last_day) + stats["waiting"],
                "droppedCallsLast24h": sum(1 for r in last_day if r["outcome"] == "abandoned"),
                "answeredCallsLast24h": sum(1 for r in last_day if r["outcome"] == "answered"),
                "current-agent-presence": [{"name": k, "count": v} for k, v in sorted(presence.items())]}

    def organisation_stats(self, actor: Principal, account_id: str) -> builtins.list[dict[str, Any]]:
        """Every group of the organisation: a supervisor (SUPERVISOR licence) or an administrator."""
        if not self._supervisor(actor, account_id):
            if actor.account_id != account_id and actor.kind != "control":
                raise NotFound("domain.does.not.exist", "no such organisation", field="domain")
            raise Forbidden("license.missing", "queue statistics of the organisation need a Supervisor licence",
                            field="domain")
        return [self.queue_stat(g) for g in self.groups(account_id)]

    def supervised(self, actor: Principal, account_id: str, user_id: str) -> builtins.list[dict[str, Any]]:
        """The groups ``user_id`` may supervise: every group for a supervisor or an administrator, else the
        groups they are a member of."""
        self._acting_for(actor, account_id, user_id)
        user = self._user(account_id, user_id)
        everything = SUPERVISOR_LICENCE in (user.get("ucLicences") or ()) or user.get("role") in (
            "ACCOUNT_ADMIN", "PARTNER_ADMIN", "GLOBAL_ADMIN")
        return [self.queue_stat(g) for g in self.groups(account_id) if everything or is_member(g, user_id)]

    def group_stat(self, actor: Principal, account_id: str, group_number: object) -> dict[str, Any]:
        group = self.group(account_id, group_number)
        if not (self._supervisor(actor, account_id) or (actor.account_id == account_id
                                                        and is_member(group, actor.user_id or ""))):
            raise Forbidden("access.denied", "the statistics of this group need a Supervisor licence or "
                            "membership", field="queueId", value=str(group_number))
        return self.queue_stat(group)

    def stream_groups(self, actor: Principal, account_id: str, user_id: str) -> set[str]:
        """The groupIds whose statistics ``user_id``'s stream carries (the groups they are a member of)."""
        return {g["groupId"] for g in self.list(actor, account_id, user_id)}

    # ================================================================== the group call log (projection)
    def project(self, uow: UnitOfWork, events: builtins.list[Event]) -> None:
        legs = [e.data for e in events if e.type == "call.state" and e.data]
        if any(e.type == "queue.updated" for e in events):
            for (kind, _), record in list(uow.changes.upserts.items()):
                if kind == "queue_call" and not self._logged(record["recordId"]):
                    self._new_item(uow, record, legs)
        for leg in legs:  # an answering agent hung up: the talk time of the ANSWERED item
            if leg["state"] == "completed" and leg.get("queueId") and leg.get("answeredOn") \
                    and leg.get("endpointKind") == "extension":
                for item in self.rt.state.all("group_call_item"):
                    if item["callId"] == leg["callId"] and item["itemType"] == "ANSWERED" \
                            and item["agentUserId"] == leg.get("principalId") and not item["callDuration"]:
                        uow.update("group_call_item", item["itemKey"], callDuration=int(round(leg["billingTime"])))

    def _logged(self, record_id: str) -> bool:
        return any(i["recordId"] == record_id for i in self.rt.state.all("group_call_item"))

    def _caller(self, record: dict[str, Any], legs: builtins.list[dict[str, Any]]) -> tuple[str, str]:
        """The number and name of the party who called the group."""
        for leg in reversed(legs):
            if leg.get("callId") == record["callId"] and leg["direction"] == "outbound":
                return leg["from"], leg.get("fromName") or ""
        call = self.engine.calls.get(record["callId"])
        for live in (call.legs if call is not None else []):
            if live.direction == "outbound" and live.queue_id is None:
                return live.from_number, live.from_name
        return "", ""

    def _new_item(self, uow: UnitOfWork, record: dict[str, Any], legs: builtins.list[dict[str, Any]]) -> None:
        group = self.rt.state.get("group", record["groupId"])
        if group is None:
            return
        account_id = record["accountId"]
        counter = self.rt.state.get("group_call_counter", account_id) or {"accountId": account_id, "last": 0}
        item_id = int(counter["last"]) + 1
        uow.put("group_call_counter", account_id, {**counter, "last": item_id})
        number, name = self._caller(record, legs)
        item_type = OUTCOME_TYPES.get(record["outcome"], "MISSED")
        agent = self._agent_ref(account_id, record.get("agentUserId")) if item_type == "ANSWERED" else None
        forward_reason = None
        if item_type == "FORWARDED":
            forward_reason = "NO_AGENTS" if self.cc.stats_of(group)["agentsLoggedIn"] == 0 else (
                "TIMEOUT" if record["outcome"] == "overflow" else "REDIRECTED")
        overflow = (group.get("acd") or {}).get("overflow") if record["outcome"] == "overflow" else None
        item = {"itemKey": f"{account_id}:{item_id}", "recordId": record["recordId"], "accountId": account_id,
                "groupUuid": group["groupId"], "callId": record["callId"], "agentUserId": record.get("agentUserId"),
                "itemId": item_id, "groupId": function_number_id(group), "groupOrgId": 0, "itemType": item_type,
                "forwardReason": forward_reason, "startTime": record["queuedOn"], "callDuration": 0,
                "queueDuration": int(round(record["waitSeconds"])), "callMetaData": "",
                "diversionNumber": str(group.get("extension") or ""), "callerNumber": number, "callerName": name,
                "callbackToNumber": number, "agent": agent,
                "forwardedTo": {"name": "Voicemail" if overflow == "voicemail" else "", "number": str(overflow)}
                if overflow else None,
                "handledStatus": {"state": "UNHANDLED", "agent": None, "timeStamp": None, "note": ""},
                "noteIncluded": False}
        uow.put("group_call_item", item["itemKey"], item)
        uow.emit("group_call_log.created", account_id, f"/groups/{group['groupId']}/calllog/{item_id}",
                 public_group_item(item), self.rt.now_iso())

    def _agent_ref(self, account_id: str, user_id: str | None) -> dict[str, Any] | None:
        user = self.rt.state.get("user", user_id or "")
        if user is None or user["accountId"] != account_id:
            return None
        return {"name": user.get("name", ""), "number": str(user.get("extension") or ""), "userId": user["userId"]}

    # ================================================================== the group call log (reads, assign)
    def call_log(self, actor: Principal, account_id: str, user_id: str, *, group_number: object = None,
                 caller_number: str | None = None, item_types: Iterable[str] = (), since: int | None = None,
                 older_than: int | None = None, limit: int | None = None, assigned: bool = False) -> dict[str, Any]:
        """The call log of one group or of every group the user is a member of. Items are aggregated per
        group, caller and type (``callCount``, the newest item shown) unless ``caller_number`` and one item
        type are given. ``assigned``: only the items assigned to the user."""
        self._acting_for(actor, account_id, user_id)
        types = set(item_types) - {"ALL"}
        if set(item_types) - set(GROUP_LOG_TYPES):
            raise Invalid("item.type.not.valid", f"itemType must be one of {', '.join(GROUP_LOG_TYPES)}",
                          field="itemType")
        groups = ([self.member_group(account_id, user_id, group_number)] if group_number is not None
                  else [g for g in self.groups(account_id) if is_member(g, user_id)])
        uuids = {g["groupId"] for g in groups}
        items = sorted((i for i in self.rt.state.all("group_call_item")
                        if i["accountId"] == account_id and i["groupUuid"] in uuids), key=lambda i: i["itemId"])
        if assigned:
            items = [i for i in items if (i["handledStatus"].get("agent") or {}).get("userId") == user_id]
        counts = {t: sum(1 for i in items if i["itemType"] == t) for t in ("ANSWERED", "FORWARDED", "MISSED")}
        items = [i for i in items if (not types or i["itemType"] in types)
                 and (not caller_number or i["callerNumber"] == caller_number)
                 and (since is None or i["itemId"] > since) and (older_than is None or i["itemId"] < older_than)]
        if not (caller_number and len(types) == 1) and not assigned:
            grouped: dict[tuple[str, str, str], dict[str, Any]] = {}
            for item in items:
                key = (item["groupUuid"], item["callerNumber"], item["itemType"])
                count = grouped[key]["callCount"] + 1 if key in grouped else 1
                grouped[key] = {**item, "callCount": count}
            shown = sorted(grouped.values(), key=lambda i: i["itemId"])
        else:
            shown = [{**i, "callCount": 1} for i in items]
        hint = len(shown)
        if limit is not None:
            shown = shown[-limit:] if limit > 0 else []
        return {"generatedAt": self.rt.now_iso(), "flushCache": since is None, "hintCount": hint,
                "callCountAnswered": counts["ANSWERED"], "callCountForwarded": counts["FORWARDED"],
                "callCountMissed": counts["MISSED"], "callLogItem": [public_group_item(i) for i in shown]}

    async def assign(self, actor: Principal, account_id: str, user_id: str, item_id: int, state: object,
                     note: object) -> dict[str, Any]:
        """Assign a group call log item to ``user_id`` with a handled state and an optional note."""
        if state is not None and state not in HANDLED_STATES:
            raise Invalid("state.not.valid", f"state must be one of {', '.join(HANDLED_STATES)}", field="state",
                          value=str(state))
        if note is not None and not isinstance(note, str):
            raise Invalid("note.not.valid", "note is a string", field="note")
        async with self.rt.write() as uow:
            self._acting_for(actor, account_id, user_id)
            item = self.rt.state.get("group_call_item", f"{account_id}:{item_id}")
            group = self.rt.state.get("group", item["groupUuid"]) if item is not None else None
            if item is None or group is None or not is_member(group, user_id):
                raise NotFound("item.does.not.exist", f"group call log item {item_id} was not found",
                               field="itemid", value=str(item_id))
            status = {"state": state or "INPROGRESS", "agent": self._agent_ref(account_id, user_id),
                      "timeStamp": self.rt.now_iso(), "note": note or ""}
            new = uow.update("group_call_item", item["itemKey"], handledStatus=status, noteIncluded=bool(note))
            uow.emit("group_call_log.updated", account_id, f"/groups/{group['groupId']}/calllog/{item_id}",
                     public_group_item(new), self.rt.now_iso())
            return public_group_item({**new, "callCount": 1})


def public_group_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items()
            if k not in ("itemKey", "recordId", "accountId", "groupUuid", "callId", "agentUserId", "callerName")}
