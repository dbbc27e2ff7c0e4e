"""Employee and agent state, computed from the agent documents and the PBX.

Each agent (one per media) has a presence ``{state, acdState, reason}``:

* ``state``: Offline (logged out), DoNotDisturb (a Dnd reason code), Away, Busy (a Busy reason code, or the
  ACD made the agent not ready after a ring-no-answer or a rejected offer, or the work timer after an ACD
  conversation runs), Available.
* ``acdState``: what the agent is doing: Offline, Idle, Offered (an ACD offer rings), Acd (on an ACD
  conversation), NonAcd (on another inbound call), Outbound (on a call they placed), Held, WorkTimer.

The employee's aggregate is the most engaged of their logged-in agents (DoNotDisturb, Busy, Away, Available;
Offline when none is logged in); its acdState is the first busy acdState, Voice first.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Callable

from callyard.core.clock import iso
from callyard.core.contact_center.agents import Agents
from callyard.core.contact_center.config import Config
from callyard.core.contact_center.model import AWAY, MEDIA, MEDIA_KEYS
from callyard.core.engine.model import Endpoint
from callyard.core.engine.service import Engine

_ORDER = ("DoNotDisturb", "Busy", "Away", "Available")
_IDLE = ("Idle", "Offline")
DURATIONS = ("loggedIn", "makeBusy", "doNotDisturb", "workTimer", "acd", "held", "nonAcd", "outbound")


def categories(entry: list[Any]) -> list[str]:
    """What time spent in an announced agent presence ``[state, acdState, reasonId, reasonName]`` counts as."""
    state, activity = entry[0], entry[1]
    found = []
    if state != "Offline":
        found.append("loggedIn")
    if state == "Busy" and activity != "WorkTimer":
        found.append("makeBusy")
    if state == "DoNotDisturb":
        found.append("doNotDisturb")
    found += {"WorkTimer": ["workTimer"], "Acd": ["acd"], "Held": ["held"], "NonAcd": ["nonAcd"],
              "Outbound": ["outbound"]}.get(activity, [])
    return found


def add_interval(durations: dict[str, Any], entry: list[Any], start: str, end: str) -> dict[str, Any]:
    """Today's seconds per category with the interval ``start``-``end`` spent in ``entry`` added (only the
    part of it since midnight of ``end``'s day; another day's totals start again from zero)."""
    day = end[:10]
    totals: dict[str, Any] = dict(durations) if durations.get("day") == day else {"day": day}
    begin = max(start, day + "T00:00:00")
    seconds = max(0.0, (_parse(end) - _parse(begin)).total_seconds()) if begin < end else 0.0
    for name in categories(entry):
        totals[name] = round(float(totals.get(name, 0.0)) + seconds, 3)
    return totals


def _parse(value: str) -> datetime:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class EmployeeStates:
    def __init__(self, engine: Engine, agents: Agents, config: Config) -> None:
        self.engine = engine
        self.agents = agents
        self.config = config
        # The acdState of an employee's non-voice interactions of a media (the contact center's Multimedia)
        self.media_activity: Callable[[dict[str, Any], str], str] | None = None
        self._today: tuple[Any, dict[str, dict[str, int]]] | None = None   # answered today per user and media

    def phone(self, employee: dict[str, Any]) -> Endpoint | None:
        """The extension the employee's Voice agent works at: the hot-desk extension, else their own."""
        account_id = employee["accountId"]
        agent = self.agents.agent(account_id, employee["userId"])
        number = agent.get("hotDeskExtension") or self.engine.dialplan.user_extension(account_id, employee["userId"])
        return self.engine.endpoint(account_id, number) if number else None

    def voice_activity(self, endpoint: Endpoint | None) -> str:
        """The acdState the calls on the agent's phone make: Offered, Acd, Held, Outbound, NonAcd or Idle."""
        if endpoint is None:
            return "Idle"
        states = []
        for leg in endpoint.legs:
            if leg.state == "completed":
                continue
            if leg.state == "held":
                states.append("Held")
            elif leg.state == "ringing":
                states.append("Offered" if leg.queue_id else "NonAcd")
            elif leg.queue_id:
                states.append("Acd")
            else:
                states.append("Outbound" if leg.direction == "outbound" else "NonAcd")
        for wanted in ("Acd", "Held", "Outbound", "NonAcd", "Offered"):
            if wanted in states:
                return wanted
        return "Idle"

    def agent_presence(self, employee: dict[str, Any], media: str) -> dict[str, Any]:
        doc = self.agents.agent(employee["accountId"], employee["userId"], media)
        reason = doc.get("reason")
        code = None
        if reason:
            # the Desk stores a code's id; the PBX-level agent change (control plane, UC) may give its name
            code = next((r for r in self.config.reason_codes(employee["accountId"])
                         if reason in (r["id"], r["name"]) or str(reason).lower() == r["name"].lower()), None)
        wrapping = bool(doc.get("wrapUntil") and doc["wrapUntil"] > iso(self.engine.now()))
        if media == "Voice":
            activity = self.voice_activity(self.phone(employee))
        else:
            activity = self.media_activity(employee, media) if self.media_activity is not None else "Idle"
        if not doc["loggedIn"]:
            state, activity = "Offline", "Offline"
        elif code is not None and code["type"] == "Dnd":
            state = "DoNotDisturb"
        elif reason == AWAY:
            state = "Away"
        elif not doc["ready"]:
            state = "Busy"
        elif wrapping and activity == "Idle":
            state, activity = "Busy", "WorkTimer"
        else:
            state = "Available"
        return {"state": state, "acdState": activity, "reasonId": code["id"] if code else None,
                "reasonName": code["name"] if code else (reason or None), "mediaType": media,
                "loggedIn": bool(doc["loggedIn"]), "enteredStateOn": doc.get("changedOn"),
                "hotDeskExtension": doc.get("hotDeskExtension"), "workTimerUntil": doc.get("wrapUntil")
                if wrapping else None, "lastLogin": doc.get("lastLogin"), "lastLogout": doc.get("lastLogout"),
                "firstLoginToday": doc.get("firstLoginToday"), "presentIn": doc.get("presence", {})}

    def presence(self, employee: dict[str, Any]) -> dict[str, Any]:
        """``{aggregate, voice: [...], chat, email, sms, openMedia}``: each media the employee has an agent for."""
        out: dict[str, Any] = {}
        logged: list[dict[str, Any]] = []
        for media in MEDIA:
            agent = employee["agents"].get(media)
            if not agent:
                continue
            entry = {**self.agent_presence(employee, media), "agentId": agent["id"], "reporting": agent["reporting"]}
            out[MEDIA_KEYS[media]] = [entry] if media == "Voice" else entry
            if entry["state"] != "Offline":
                logged.append(entry)
        if logged:
            state = min((e["state"] for e in logged), key=_ORDER.index)
            busy = [e["acdState"] for e in logged if e["acdState"] not in _IDLE]
            aggregate = {"state": state, "acdState": busy[0] if busy else "Idle",
                         "reasonId": next((e["reasonId"] for e in logged if e["reasonId"]), None),
                         "reasonName": next((e["reasonName"] for e in logged if e["reasonName"]), None)}
        else:
            aggregate = {"state": "Offline", "acdState": "Offline", "reasonId": None, "reasonName": None}
        out["aggregate"] = aggregate
        return out

    def today(self, employee: dict[str, Any]) -> dict[str, int]:
        """ACD conversations the employee answered today, per media (from the queue records)."""
        now = self.engine.now()
        state = self.engine.rt.state
        key = (state.generation("queue_call"), now.date(), now.tzinfo)   # the day decides midnight
        if self._today is None or self._today[0] != key:   # one pass over the records per change, for everyone
            midnight = iso(now.replace(hour=0, minute=0, second=0, microsecond=0))
            by_user: dict[str, dict[str, int]] = {}
            for r in state.all("queue_call"):
                if r["outcome"] == "answered" and r["queuedOn"] >= midnight and r.get("agentUserId"):
                    counts = by_user.setdefault(r["agentUserId"], {m: 0 for m in MEDIA})
                    media = r.get("mediaType") or "Voice"   # a call's record names no media
                    counts[media] = counts.get(media, 0) + 1
            self._today = (key, by_user)
        return dict(self._today[1].get(employee["userId"]) or {media: 0 for media in MEDIA})

    def view(self, employee: dict[str, Any], entered: str | None = None,
             presence: dict[str, Any] | None = None) -> dict[str, Any]:
        """The employee's state: identity, presence per media and aggregate, today's counters (``presence``:
        ``self.presence(employee)`` when the caller has just computed it, nothing having changed since)."""
        if presence is None:
            presence = self.presence(employee)
        agents = [self.agents.agent(employee["accountId"], employee["userId"], m) for m in employee["agents"]]
        logins = [a["firstLoginToday"] for a in agents if a.get("firstLoginToday")]
        logouts = [a["lastLogout"] for a in agents if a.get("lastLogout")]
        return {"employeeId": employee["id"], "userId": employee["userId"], "accountId": employee["accountId"],
                "name": f"{employee['firstName']} {employee['lastName']}".strip(),
                "firstName": employee["firstName"], "lastName": employee["lastName"],
                "reporting": employee["reporting"], "presence": presence, "today": self.today(employee),
                "firstLoginToday": min(logins) if logins else None,
                "lastLogoutToday": max(logouts) if logouts else None,
                "enteredStateOn": entered}

    def durations_today(self, employee: dict[str, Any], media: str, presence: dict[str, Any]) -> dict[str, float]:
        """Seconds today per category (logged in, make busy, DND, work timer, ACD, held, non-ACD, outbound):
        the intervals between the announced changes of this agent's presence, plus the one running now."""
        announced = self.engine.rt.state.get("cc_state", employee["id"]) or {}
        key = MEDIA_KEYS[media]
        now = self.engine.rt.now_iso()
        totals = dict(announced.get("durations", {}).get(key, {}))
        since = announced.get("since", {}).get(key)
        if since:
            entry = [presence["state"], presence["acdState"], presence["reasonId"], presence["reasonName"]]
            totals = add_interval(totals, entry, since, now)
        if totals.get("day") != now[:10]:
            totals = {}
        return {name: float(totals.get(name, 0.0)) for name in DURATIONS}

    def agent_view(self, employee: dict[str, Any], media: str, presence: dict[str, Any] | None = None
                   ) -> dict[str, Any]:
        """One agent's state (``AgentState``): its presence and the agent groups it is present in (``presence``:
        the media's entry of ``self.presence(employee)`` when the caller has just computed it)."""
        agent = employee["agents"][media]
        if presence is None:
            presence = self.agent_presence(employee, media)
        groups = []
        for group in self.config.agent_groups_of(employee):
            if media not in group.get("media", []):
                continue
            if presence["loggedIn"] and presence["presentIn"].get(group.get("groupId") or group["id"]) is not False:
                groups.append(group["id"])
        counts = self.today(employee)
        return {"durationsToday": self.durations_today(employee, media, presence),
                "agentId": agent["id"], "reporting": agent["reporting"], "mediaType": media,
                "employeeId": employee["id"], "userId": employee["userId"], "accountId": employee["accountId"],
                "firstName": employee["firstName"], "lastName": employee["lastName"],
                "presentInAgentGroups": groups, "acdConversationsToday": counts[media], **presence}
