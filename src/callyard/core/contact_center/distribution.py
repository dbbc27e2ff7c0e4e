"""Distribution: which agents may take a queue entry now, and which of them is offered it."""
from __future__ import annotations

from typing import Any

from callyard.core.clock import iso
from callyard.core.contact_center.agents import Agents
from callyard.core.contact_center.queues import QueueEntry
from callyard.core.engine.model import EXTENSION, Endpoint
from callyard.core.engine.service import Engine

Candidate = tuple[Endpoint, dict[str, Any]]   # an agent's phone and agent document


def eligible(engine: Engine, agents: Agents, group: dict[str, Any], settings: dict[str, Any],
             entry: QueueEntry | None) -> list[Candidate]:
    """Members who may be offered ``entry`` now, in member order (``entry`` None: any entry, for the
    statistics' free agents). A member is idle on an extension in service and not on DND; in an ACD queue
    also logged in, ready, present in the queue, out of wrap-up and, for skills distribution, skilled."""
    account_id = group["accountId"]
    now = engine.now()
    acd = group.get("type") == "ACD"
    found: list[Candidate] = []
    for member in group.get("members", []):
        if member.get("status", "ACCEPTED") != "ACCEPTED":
            continue
        agent = agents.agent(account_id, member["memberId"])
        # A hot-desked agent takes calls at the extension they logged in at, not their own.
        number = (agent.get("hotDeskExtension") if acd else None) or engine.dialplan.user_extension(
            account_id, member["memberId"])
        if number is None:
            continue
        endpoint = engine.endpoint(account_id, number)
        if endpoint is None or endpoint.kind != EXTENSION or endpoint.in_call():
            continue
        if entry is not None and endpoint.key in entry.declined:
            continue
        endpoint_settings = engine.settings(endpoint)
        if endpoint_settings["outOfService"] or endpoint_settings["dnd"]:
            continue
        if acd:
            if not (agent["loggedIn"] and agent["ready"]) or agent["presence"].get(group["groupId"]) is False:
                continue
            if agent.get("wrapUntil") and agent["wrapUntil"] > iso(now):
                continue
            skill = entry.skill if entry is not None else None
            if skill and settings["distribution"] == "skills" and skill not in agent["skills"]:
                continue
        found.append((endpoint, agent))
    return found


def choose(settings: dict[str, Any], candidates: list[Candidate], entry: QueueEntry) -> list[Endpoint]:
    """The phones to offer ``entry`` to: all of them (ringAll), the first member (priority), or the
    longest idle (longestIdle; skills: highest level in the entry's skill first)."""
    if not candidates:
        return []
    mode = settings["distribution"]
    if mode == "ringAll":
        return [endpoint for endpoint, _ in candidates]
    if mode == "priority":
        return [candidates[0][0]]
    idle = sorted(candidates, key=lambda c: c[1].get("idleSince") or "")
    skill = entry.skill
    if mode == "skills" and skill:
        idle.sort(key=lambda c: -int(c[1]["skills"].get(skill, 0)))
    return [idle[0][0]]
