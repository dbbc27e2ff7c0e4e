"""The engine's live objects: endpoints, legs and calls (the Asterisk ARI channel/bridge idea).

* An **endpoint** is a dialable thing of one account: a user's extension (with its terminals: desk phone,
  softphone, mobile), an ACD/hunt group number, the voicemail system, or an external number reached
  through the simulated trunk. Account A's 2880 and account B's 2880 are different endpoints.
* A **leg** is one endpoint's part in a call. Its id is what the Media API calls ``callId``
  (``/endpoints/{endpointId}/calls/{callId}``): a redirected or transferred call gets a new leg on the new
  endpoint, exactly as the real platform gives a new callId.
* A **call** joins legs (two for a plain call, more for a conference). It carries the per-call event
  sequence number and the recording. Legs move between calls on transfer and conference; a leg belongs
  to at most one call at a time.

Live legs and calls are memory only (a PBX restart drops calls too); what outlives them is written
through the unit of work: recordings, voicemail, endpoint settings and agent state; call records are a
projection of the ``call.state`` events (history.py).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from callyard.core.scheduler import Timer

AVAILABILITY = ("available", "busy", "dnd", "away")
# Endpoint kinds.
EXTENSION, GROUP, VOICEMAIL, EXTERNAL = "extension", "group", "voicemail", "external"

DEFAULT_SETTINGS: dict[str, Any] = {
    "dnd": False, "messageWaiting": False, "userAvailability": "available", "pstnRouting": False,
    "outOfService": False, "callWaiting": False, "voicemail": True,
    "forwardAlways": None, "forwardBusy": None, "forwardNoAnswer": None, "forwardDnd": None,
    "noAnswerSeconds": 15,
    # The UC diversions beyond CloudLink's (docs/compatibility.md, UC): forward while in a call (even with call
    # waiting), forward when out of service (unreachable), and the active diversion number (activity-driven).
    "forwardBusyInCall": None, "forwardUnreachable": None, "forwardActivity": None, "forwardActivityScoped": False,
}


@dataclass(eq=False, slots=True)
class Endpoint:
    account_id: str
    number: str
    kind: str
    name: str = ""
    user_id: str | None = None
    group_id: str | None = None
    terminals: list[dict[str, str]] = field(default_factory=list)
    legs: list["Leg"] = field(default_factory=list)
    line_states: dict[str, "LineState"] = field(default_factory=dict)  # busy marks set by outside systems

    @property
    def key(self) -> tuple[str, str]:
        return (self.account_id, self.number)

    @property
    def principal_id(self) -> str | None:
        return self.user_id or self.group_id

    def in_call(self) -> bool:
        """Busy for a new inbound call: talking, holding, already ringing, or marked busy by an outside system
        (a UC line state)."""
        return bool(self.line_states) or any(leg.state in ("connected", "held", "ringing") for leg in self.legs)


@dataclass(eq=False, slots=True)
class LineState:
    """An outside system's mark that a user is busy (the UC Line State API), until ``expires_on``."""
    external_id: str
    expires_on: datetime
    timer: Timer | None = None


@dataclass(eq=False, slots=True)
class Leg:
    leg_id: str
    endpoint: Endpoint
    direction: str                     # inbound | outbound, from this endpoint's point of view
    state: str
    cause: str                         # the Media swagger's causes: newCall, busy, callForward*, transfer, …
    created_on: datetime
    from_number: str
    to_number: str
    from_name: str = ""
    to_name: str = ""
    from_principal: str | None = None
    to_principal: str | None = None
    call: "Call | None" = None
    answered_on: datetime | None = None   # this party talking (for the caller: the far end answered)
    ended_on: datetime | None = None
    terminal: str | None = None            # the device that answered (desk phone, softphone, mobile)
    dtmf: str = ""
    consult_for: "Leg | None" = None       # a consultation leg: the held leg it was made from
    timer: Timer | None = None
    queue_id: str | None = None            # an ACD offer of this queue's call
    origin: dict[str, Any] = field(default_factory=dict)  # originate options (timeout, bridge on answer)
    token: int = 0                         # the engine tick of this leg's last event (see CallTable.tick)
    muted: bool = False                    # the party's microphone is muted (the others do not hear it)
    intrusion: str | None = None           # BARGE | WHISPER | MONITOR: this leg intruded into the call

    @property
    def account_id(self) -> str:
        return self.endpoint.account_id

    def cancel_timer(self) -> None:
        if self.timer is not None:
            self.timer.cancel()
            self.timer = None


@dataclass(eq=False, slots=True)
class Recording:
    started_on: datetime
    seconds: float = 0.0
    running_since: datetime | None = None
    tags: dict[str, Any] = field(default_factory=dict)
    principal_ids: set[str] = field(default_factory=set)  # parties who talked on it and have left the call
    keep: bool = True   # stored when it stops; a discarded on-demand recording (UC) is dropped unless saved again

    @property
    def paused(self) -> bool:
        return self.running_since is None


@dataclass(eq=False, slots=True)
class Call:
    call_id: str
    account_id: str
    created_on: datetime
    legs: list[Leg] = field(default_factory=list)
    seq: int = 0
    token: int = 0                     # the engine tick of the last event on any of its legs
    recording: Recording | None = None
    queue_id: str | None = None        # waiting in (or answered from) this ACD queue; park:<orbit> when parked
    priority: int = 0                  # routing attributes a queue entry takes over
    skill: str | None = None
    voicemail_box: str | None = None   # the extension whose mailbox is recording this call
    declined: set[tuple[str, str]] = field(default_factory=set)  # group members who rejected this call

    def live_legs(self) -> list[Leg]:
        return [leg for leg in self.legs if leg.state != "completed"]
