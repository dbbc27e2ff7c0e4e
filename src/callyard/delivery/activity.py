"""What happens in the twin, one readable log line per thing: calls ringing, answered, held and ended (with
their ids), agent state, voicemail left. An after-commit projection of the core's events onto the
``callyard.activity`` logger at INFO (webhook deliveries log on ``callyard.delivery.webhooks``).

Each line is readable as text (``callyard serve``) and carries the same facts as ``extra`` fields, so the
JSON format (``callyard serve --log-format json``) has them as keys."""
from __future__ import annotations

import logging
from typing import Any

from callyard.events.event import Event
from callyard.events.projections import Projections

log = logging.getLogger("callyard.activity")

# A leg's state → the verb of its line.
_VERBS = {"ringing": "rang", "connected": "connected", "held": "held", "completed": "ended"}


def _call_line(leg: dict[str, Any], first_answer: bool = False) -> tuple[str, dict[str, Any]]:
    state = leg["state"]
    verb = "answered" if first_answer else _VERBS.get(state, state)
    facts = {"callId": leg.get("callId"), "legId": leg["legId"], "endpoint": leg["endpointId"],
             "state": state, "cause": leg.get("cause"), "from": leg.get("from"), "to": leg.get("to"),
             "accountId": leg.get("accountId")}
    text = (f"call {leg.get('callId')} leg {leg['legId']} on {leg['endpointId']} {verb}: "
            f"{leg.get('from')} → {leg.get('to')} ({leg.get('direction')}, cause {leg.get('cause')})")
    if state == "completed":
        text += f", talked {leg.get('billingTime', 0):g} s"
        facts["billingTime"] = leg.get("billingTime")
    return text, facts


def _agent_line(agent: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    if not agent.get("loggedIn"):
        state = "logged out"
    elif agent.get("ready"):
        state = "ready"
    else:
        state = "not ready" + (f" ({agent['reason']})" if agent.get("reason") else "")
    return (f"agent {agent.get('userId')} {state}",
            {"userId": agent.get("userId"), "agentState": state, "accountId": agent.get("accountId")})


def _voicemail_line(message: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    return (f"voicemail {message.get('voicemailId')} left for {message.get('endpointId')} by {message.get('from')} "
            f"({message.get('durationInSeconds', 0):g} s)",
            {"voicemailId": message.get("voicemailId"), "endpoint": message.get("endpointId"),
             "from": message.get("from"), "accountId": message.get("accountId")})


_LINES: dict[str, Any] = {"call.state": _call_line, "agent.updated": _agent_line, "voicemail.created": _voicemail_line}


class ActivityLog:
    """The projection. It remembers which legs it has seen answered (until they end), so the first
    ``connected`` of an answered leg reads "answered" and a retrieve from hold reads "connected"."""

    def __init__(self) -> None:
        self.answered: set[tuple[str, str]] = set()

    def line(self, event: Event) -> tuple[str, dict[str, Any]] | None:
        """The log line of an event (text, facts), or None for events that make none."""
        render = _LINES.get(event.type)
        if render is None or not event.data:
            return None
        if event.type != "call.state":
            return render(event.data)
        leg = event.data
        key = (leg.get("accountId") or "", leg["legId"])
        first_answer = False
        if leg["state"] == "completed":
            self.answered.discard(key)
        elif leg["state"] == "connected" and leg.get("answeredOn") and key not in self.answered:
            self.answered.add(key)
            first_answer = leg.get("direction") == "inbound"
        return _call_line(leg, first_answer)


def register(projections: Projections) -> None:
    activity = ActivityLog()

    def on_event(event: Event) -> None:
        if not log.isEnabledFor(logging.INFO):
            return
        line = activity.line(event)
        if line is not None:
            text, facts = line
            log.info(text, extra={"event": event.type, **{k: v for k, v in facts.items() if v is not None}})

    projections.after_commit("activity log (callyard.activity)", on_event, events=tuple(_LINES))
