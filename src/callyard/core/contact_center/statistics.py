"""Queue statistics: derived from the live queue and the ``queue_call`` records of the interactions that left it
(calls, and the other media's interactions, whose records carry their ``mediaType``)."""
from __future__ import annotations

import weakref
from datetime import datetime, timedelta
from typing import Any

from callyard.core.clock import iso
from callyard.core.contact_center.agents import Agents
from callyard.core.contact_center.distribution import eligible
from callyard.core.contact_center.queues import Queues, queue_settings
from callyard.core.engine.service import Engine
from callyard.core.state import State

# Queue records by queue (group id), derived from the ``queue_call`` documents and rebuilt whenever one changes
_RECORDS: "weakref.WeakKeyDictionary[State, tuple[int, dict[str, list[dict[str, Any]]]]]" = \
    weakref.WeakKeyDictionary()


def queue_records(state: State, group_id: str) -> list[dict[str, Any]]:
    """The ``queue_call`` records of one queue (a derived index: one pass over the records per change)."""
    generation = state.generation("queue_call")
    cached = _RECORDS.get(state)
    if cached is None or cached[0] != generation:
        by_group: dict[str, list[dict[str, Any]]] = {}
        for record in state.all("queue_call"):
            by_group.setdefault(record["groupId"], []).append(record)
        cached = (generation, by_group)
        _RECORDS[state] = cached
    return cached[1].get(group_id, [])


def queue_statistics(engine: Engine, queues: Queues, agents: Agents, group: dict[str, Any],
                     service_level_seconds: float = 20.0) -> dict[str, Any]:
    """Waiting now, longest wait, agents logged in and free; offered, answered and abandoned today; the
    service level today (answered within ``service_level_seconds`` over answered plus abandoned, in %) and
    the estimated wait of a new call (the average wait of today's answered calls, or the longest wait now
    when none was answered, times the calls ahead of it per logged-in agent; 0 when an agent is free)."""
    now = engine.now()
    account_id = group["accountId"]
    waiting = queues.waiting(account_id, group["groupId"])  # entries being offered to an agent still wait
    logged_in = free = 0
    settings = queue_settings(group)
    free = len(eligible(engine, agents, group, settings, None))
    for member in group.get("members", []):
        agent = agents.agent(account_id, member["memberId"])
        if agent["loggedIn"] or group.get("type") != "ACD":
            logged_in += 1
    records = queue_records(engine.rt.state, group["groupId"])
    figures = queue_figures(now, [e.queued_on for e in waiting], records, free, logged_in, service_level_seconds)
    return {"groupId": group["groupId"], "accountId": account_id, "name": group.get("name", ""),
            "number": group.get("extension"), "type": group.get("type"),
            "distribution": settings["distribution"], "agentsLoggedIn": logged_in, "agentsFree": free, **figures}


def queue_figures(now: datetime, waiting: list[datetime], records: list[dict[str, Any]], free: int, logged_in: int,
                  service_level_seconds: float = 20.0) -> dict[str, Any]:
    """A queue's numbers from when its waiting interactions were queued (``waiting``) and the records of those
    that left it (``queue_call``: queuedOn, outcome, waitSeconds), whatever their media: waiting now, longest
    wait, offered/answered/abandoned today and in the last 15 minutes and hour, the service level (answered
    within ``service_level_seconds`` over answered plus abandoned, in %) and the estimated wait of a new one."""
    longest = max(((now - queued).total_seconds() for queued in waiting), default=0.0)
    if records:
        midnight = iso(now.replace(hour=0, minute=0, second=0, microsecond=0))
        records = [r for r in records if r["queuedOn"] >= midnight]
    answered = [r for r in records if r["outcome"] == "answered"]
    abandoned = sum(1 for r in records if r["outcome"] == "abandoned")
    within = sum(1 for r in answered if r["waitSeconds"] <= service_level_seconds)
    average_wait = sum(r["waitSeconds"] for r in answered) / len(answered) if answered else longest
    estimated = 0.0 if free > len(waiting) else average_wait * (len(waiting) + 1) / max(logged_in, 1)
    queued_on = [iso(q) for q in waiting]
    return {"waiting": len(waiting), "longestWaitSeconds": round(longest, 3),
            "offeredToday": len(records) + len(waiting), "answeredToday": len(answered),
            "abandonedToday": abandoned, "answeredWithinServiceLevelToday": within,
            "serviceLevelPercentToday": round(100.0 * within / (len(answered) + abandoned), 1)
            if answered or abandoned else 100.0, "estimatedWaitSeconds": round(estimated, 3),
            "oldestQueuedOn": min(queued_on) if queued_on else None,
            "averageWaitSeconds": round(sum(r["waitSeconds"] for r in answered) / len(answered), 3)
            if answered else 0.0,
            "windows": {name: _window(records, queued_on, iso(now - timedelta(minutes=minutes)),
                                      service_level_seconds) if records or queued_on else _quiet_window()
                        for name, minutes in (("last15Minutes", 15), ("lastHour", 60))}}


def _quiet_window() -> dict[str, Any]:
    """``_window`` of a queue with nothing queued today (no record, nothing waiting)."""
    return {"offered": 0, "answered": 0, "abandoned": 0, "serviceLevelPercent": 100.0}


def _window(records: list[dict[str, Any]], waiting: list[str], since: str, service_level_seconds: float
            ) -> dict[str, Any]:
    """Offered, answered, abandoned and the service level of the calls queued since ``since``."""
    recent = [r for r in records if r["queuedOn"] >= since]
    answered = [r for r in recent if r["outcome"] == "answered"]
    abandoned = sum(1 for r in recent if r["outcome"] == "abandoned")
    within = sum(1 for r in answered if r["waitSeconds"] <= service_level_seconds)
    return {"offered": len(recent) + sum(1 for queued in waiting if queued >= since),
            "answered": len(answered), "abandoned": abandoned,
            "serviceLevelPercent": round(100.0 * within / (len(answered) + abandoned), 1)
            if answered or abandoned else 100.0}
