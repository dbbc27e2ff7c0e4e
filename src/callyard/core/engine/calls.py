"""The call table: the live legs and calls of every account, and the only code that changes their membership.

It adds legs to calls, changes leg states, completes legs, settles and finishes calls, and emits one
``call.state`` event per change carrying the call's next sequence number. Everything else (routing,
features, recording, the contact center) changes calls through these functions.

Work happens inside a :class:`CallTransaction`: the runtime's unit of work plus the calls the operation
touched. When the transaction closes, every touched call is settled (a call left with no talking party
ends, an empty call is dropped) before the commit.

Other parts of the core learn about legs and calls ending through :class:`CallListener` hooks, called in
the order the listeners were added.
"""
from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from callyard.core.clock import iso
from callyard.core.engine.dialplan import DialPlan
from callyard.core.engine.model import EXTERNAL, Call, Endpoint, Leg
from callyard.core.errors import Conflict
from callyard.core.runtime import Runtime
from callyard.core.state import UnitOfWork


def seconds_between(start: datetime | None, end: datetime | None) -> float:
    """Elapsed seconds, rounded to the millisecond; 0 when either end is unknown."""
    if start is None or end is None:
        return 0.0
    return round(max(0.0, (end - start).total_seconds()), 3)


_SNAPSHOT_TIMES = ("createdOn", "answeredOn", "endTime")   # the datetimes of a leg's snapshot


def jsonable(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A snapshot with its datetimes as ISO strings (event payloads and stored records)."""
    return {k: (iso(v) if isinstance(v, datetime) else v) for k, v in snapshot.items()}


def require_state(leg: Leg, *states: str, action: str) -> None:
    """Reject ``action`` unless ``leg`` is in one of ``states`` (before anything changes)."""
    if leg.state not in states:
        raise Conflict("InvalidCallState", f"cannot {action} call {leg.leg_id}: it is {leg.state}, "
                       f"and {action} needs it {' or '.join(states)}")


def state_token(leg: Leg) -> int:
    """What a party last saw change on its call: the later of its own last event and its call's."""
    return max(leg.token, leg.call.token if leg.call is not None else 0)


def allowed_actions(leg: Leg) -> list[dict[str, Any]]:
    """What the party of ``leg`` may do now, each with the terminals (devices) it applies to: the verbs'
    own state rules, in the UC vocabulary (ANSWER, MOVE, TRANSFER, HOLD, RESUME, PARK, MUTE, UNMUTE and the
    recording actions)."""
    terminals = [t["deviceId"] for t in leg.endpoint.terminals]
    here = [leg.terminal] if leg.terminal else terminals[:1]
    call = leg.call
    if leg.state == "completed" or call is None:
        return []
    if leg.state == "ringing":
        return [{"action": "ANSWER", "terminals": terminals}] + (
            [{"action": "TRANSFER", "terminals": terminals}] if leg.direction == "inbound" else [])
    if leg.direction == "outbound" and leg.answered_on is None and leg.intrusion is None:
        return []   # still calling: only hanging up (the DELETE) applies
    names = ["HOLD"] if leg.state == "connected" else ["RESUME"]
    names.append("TRANSFER")
    if len(partners(leg)) == 1:
        names.append("PARK")
    names.append("UNMUTE" if leg.muted else "MUTE")
    recording = call.recording
    if recording is None:
        names.append("START_REC")
    else:
        names += ["STOP_REC", "RESUME_REC" if recording.paused else "PAUSE_REC",
                  "DISCARD_REC" if recording.keep else "SAVE_REC"]
    actions = [{"action": name, "terminals": here} for name in names]
    others = [t for t in terminals if t != leg.terminal]
    if others:
        actions.insert(0, {"action": "MOVE", "terminals": others})
    return actions


def partners(leg: Leg) -> list[Leg]:
    """The other live legs of ``leg``'s call."""
    return [other for other in (leg.call.live_legs() if leg.call else []) if other is not leg]


def presented(leg: Leg) -> tuple[str, str, str | None]:
    """How ``leg``'s endpoint is presented to the other side: number, name, principal. A call a user placed
    shows the caller id of their active line (``origin["callerId"]``, set when the call is made)."""
    endpoint = leg.endpoint
    shown = leg.origin.get("callerId")
    if shown is not None:
        return shown[0], shown[1], endpoint.principal_id
    return endpoint.number, endpoint.name, endpoint.principal_id


class CallTransaction:
    """One engine write transaction: the unit of work and the calls the operation touched (settled at the
    end). Per-transaction state lives here, never on the engine."""

    __slots__ = ("uow", "touched")

    def __init__(self, uow: UnitOfWork) -> None:
        self.uow = uow
        self.touched: dict[Call, None] = {}  # insertion-ordered set: calls are settled in the order touched

    def touch(self, call: Call) -> None:
        self.touched[call] = None


class CallListener:
    """Hooks into the life of legs and calls. The default of each hook does nothing."""

    def leg_ended(self, tx: CallTransaction, leg: Leg) -> None:
        """``leg`` completed: its event is emitted; it is still in its call."""

    def leg_leaving_call(self, call: Call, leg: Leg) -> None:
        """``leg`` is about to leave ``call`` (completed, or moved to another call by a transfer)."""

    def leg_left(self, tx: CallTransaction, leg: Leg) -> None:
        """``leg`` completed and has left its endpoint and call."""

    def keeps_waiting(self, call: Call) -> bool:
        """Whether ``call``'s one remaining party waits on purpose (queued, parked): it does not end."""
        return False

    def call_ending(self, tx: CallTransaction, call: Call) -> None:
        """``call`` has no talking pair left: its remaining legs are about to be completed."""

    def call_finished(self, tx: CallTransaction, call: Call) -> None:
        """``call`` has no live leg left and is about to be dropped."""


class CallTable:
    def __init__(self, runtime: Runtime, dialplan: DialPlan) -> None:
        self.rt = runtime
        self.dialplan = dialplan
        self.endpoints: dict[tuple[str, str], Endpoint] = {}
        self.legs: dict[tuple[str, str], Leg] = {}
        self.calls: dict[str, Call] = {}
        self.listeners: list[CallListener] = []
        # A counter over every call event of the engine: a leg's state token is the tick of the last event on
        # it or its call, so it changes with whatever a party sees change and never repeats (UC stateToken).
        self.tick = 0

    def clear(self) -> None:
        self.endpoints.clear()
        self.legs.clear()
        self.calls.clear()

    def add_listener(self, listener: CallListener) -> None:
        self.listeners.append(listener)

    def now(self) -> datetime:
        return self.rt.clock.now()

    # ------------------------------------------------------------------ transactions
    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[CallTransaction]:
        """The runtime's write transaction, closed by a sweep: every call the operation touched is settled
        before the commit."""
        async with self.rt.write() as uow:
            tx = CallTransaction(uow)
            yield tx
            for call in list(tx.touched):
                if call.live_legs():
                    self.settle(tx, call)
                else:
                    self.finish_call(tx, call)

    def on_timer(self, leg: Leg, action: Callable[[CallTransaction, Leg], None]) -> Callable[[], Awaitable[None]]:
        """A scheduler callback that runs ``action`` on ``leg`` in its own transaction, unless the leg
        ended or its timer was cancelled meanwhile."""
        async def fire() -> None:
            async with self.transaction() as tx:
                if leg.state == "completed" or leg.timer is None:
                    return
                leg.timer = None
                action(tx, leg)
        return fire

    # ------------------------------------------------------------------ lookups
    def endpoint(self, account_id: str, number: str) -> Endpoint | None:
        return self.dialplan.resolve(account_id, number, self.endpoints)

    def leg(self, account_id: str, leg_id: str) -> Leg | None:
        return self.legs.get((account_id, leg_id))

    # ------------------------------------------------------------------ snapshots and events
    def snapshot(self, leg: Leg) -> dict[str, Any]:
        now = self.now()
        end = leg.ended_on or now
        talking = leg.answered_on
        ring_until = talking or end
        call = leg.call
        others = [other for other in call.legs if other is not leg and other.state != "completed"] if call else []
        return {
            "legId": leg.leg_id, "endpointId": leg.endpoint.number, "accountId": leg.account_id,
            "callId": call.call_id if call else None, "sequence": call.seq if call else 0,
            "principalId": leg.endpoint.principal_id, "endpointKind": leg.endpoint.kind,
            "state": leg.state, "cause": leg.cause, "direction": leg.direction,
            "from": leg.from_number, "fromName": leg.from_name, "fromPrincipalId": leg.from_principal,
            "to": leg.to_number, "toName": leg.to_name, "toPrincipalId": leg.to_principal,
            "createdOn": leg.created_on, "answeredOn": leg.answered_on, "endTime": leg.ended_on,
            "completed": leg.state == "completed" and leg.answered_on is not None,
            "ringTime": seconds_between(leg.created_on, ring_until) if leg.direction == "inbound" or talking
            else seconds_between(leg.created_on, end),
            "billingTime": seconds_between(talking, end) if talking else 0.0,
            "terminal": leg.terminal, "dtmf": leg.dtmf, "queueId": leg.queue_id or (call.queue_id if call else None),
            "recording": bool(call and call.recording and not call.recording.paused),
            "consultFor": leg.consult_for.leg_id if leg.consult_for else None,
            "parties": [other.endpoint.number for other in others],
            "stateToken": state_token(leg), "muted": leg.muted, "intrusion": leg.intrusion,
            "participants": [{"legId": other.leg_id, "number": other.endpoint.number, "name": other.endpoint.name,
                              "principalId": other.endpoint.principal_id, "kind": other.endpoint.kind,
                              "state": other.state, "intrusion": other.intrusion}
                             for other in others],
            "recordingInfo": None if call is None or call.recording is None else {
                "paused": call.recording.paused, "keep": call.recording.keep,
                "seconds": call.recording.seconds + (seconds_between(call.recording.running_since, now)
                                                     if call.recording.running_since else 0.0)},
            "actions": allowed_actions(leg),
        }

    def event_snapshot(self, leg: Leg) -> dict[str, Any]:
        """``jsonable(self.snapshot(leg))``: its three datetimes as ISO text (event payloads)."""
        snap = self.snapshot(leg)
        for key in _SNAPSHOT_TIMES:
            value = snap[key]
            if value is not None:
                snap[key] = iso(value)
        return snap

    def _tick(self, leg: Leg) -> None:
        self.tick += 1
        leg.token = self.tick
        if leg.call is not None:
            leg.call.token = self.tick

    def emit_state(self, tx: CallTransaction, leg: Leg) -> None:
        """One ``call.state`` event for ``leg`` with its call's next sequence number."""
        call = leg.call
        if call is not None:
            call.seq += 1
        self._tick(leg)
        tx.uow.emit("call.state", leg.account_id, f"/endpoints/{leg.endpoint.number}/calls/{leg.leg_id}",
                    self.event_snapshot(leg), self.rt.now_iso(), fresh=True)

    def emit_dtmf(self, tx: CallTransaction, leg: Leg, digits: str) -> None:
        """A ``call.dtmf`` event (the call's sequence moves on, as for a state change)."""
        call = leg.call
        assert call is not None
        call.seq += 1
        self._tick(leg)
        tx.uow.emit("call.dtmf", leg.account_id, f"/endpoints/{leg.endpoint.number}/calls/{leg.leg_id}",
                    {**self.event_snapshot(leg), "digits": digits}, self.rt.now_iso(), fresh=True)

    # ------------------------------------------------------------------ building calls
    def new_leg_id(self, account_id: str) -> str:
        while True:
            leg_id = self.rt.ids.digits(8)
            if (account_id, leg_id) not in self.legs and self.rt.state.get(
                    "call_record", f"{account_id}:{leg_id}") is None:
                return leg_id

    def new_call(self, account_id: str) -> Call:
        call = Call(self.rt.ids.uuid(), account_id, self.now())
        self.calls[call.call_id] = call
        return call

    def add_leg(self, tx: CallTransaction, call: Call, endpoint: Endpoint, *, direction: str, state: str, cause: str,
                from_number: str, to_number: str, from_name: str = "", to_name: str = "",
                from_principal: str | None = None, to_principal: str | None = None) -> Leg:
        leg = Leg(self.new_leg_id(endpoint.account_id), endpoint, direction, state, cause, self.now(),
                  from_number, to_number, from_name, to_name, from_principal, to_principal)
        leg.call = call
        call.legs.append(leg)
        endpoint.legs.append(leg)
        tx.touch(call)
        self.legs[(endpoint.account_id, leg.leg_id)] = leg
        if state == "connected" and direction == "inbound":
            leg.answered_on = self.now()
        self.emit_state(tx, leg)
        return leg

    def set_state(self, tx: CallTransaction, leg: Leg, state: str | None = None, cause: str | None = None) -> None:
        """Change ``leg``'s state and/or cause; one event if anything changed."""
        changed = False
        if state is not None and state != leg.state:
            leg.state = state
            changed = True
        if cause is not None and cause != leg.cause:
            leg.cause = cause
            changed = True
        if changed:
            self.emit_state(tx, leg)

    def move_legs(self, legs: list[Leg], source: Call, target: Call) -> None:
        """Legs change calls (transfer, conference)."""
        for other in legs:
            for listener in self.listeners:
                listener.leg_leaving_call(source, other)
            source.legs.remove(other)
            other.call = target
            target.legs.append(other)

    # ------------------------------------------------------------------ ending legs and calls
    def complete(self, tx: CallTransaction, leg: Leg, cause: str | None = None) -> None:
        """Finish one leg: its event is emitted and it leaves its call and endpoint."""
        if leg.state == "completed":
            return
        leg.cancel_timer()
        leg.ended_on = self.now()
        leg.state = "completed"
        if cause is not None:
            leg.cause = cause
        self.emit_state(tx, leg)   # the call record is a projection of this event (history.py)
        call = leg.call
        if call is not None:
            tx.touch(call)
        for listener in self.listeners:
            listener.leg_ended(tx, leg)
        if leg in leg.endpoint.legs:
            leg.endpoint.legs.remove(leg)
        if leg.endpoint.kind == EXTERNAL and not leg.endpoint.legs:
            self.endpoints.pop(leg.endpoint.key, None)  # outside numbers live only while they are in a call
        self.legs.pop((leg.account_id, leg.leg_id), None)
        if call is not None and leg in call.legs:
            for listener in self.listeners:
                listener.leg_leaving_call(call, leg)
            call.legs.remove(leg)
        for listener in self.listeners:
            listener.leg_left(tx, leg)

    def settle(self, tx: CallTransaction, call: Call | None) -> None:
        """After a party left: a call with one party left ends, unless that party is waiting on purpose
        (queued for an agent, parked)."""
        if call is None:
            return
        live = call.live_legs()
        if len(live) == 1 and live[0].state != "ringing" and any(
                listener.keeps_waiting(call) for listener in self.listeners):
            return  # the caller waits on purpose: queued for an agent, or parked
        if len(live) >= 2 and any(leg.state != "ringing" for leg in live):
            return
        # Fewer than two parties, or only phones still ringing for a caller who is gone: the call is over.
        # It leaves its queue first, so freed agents are not offered it again while it is torn down.
        for listener in self.listeners:
            listener.call_ending(tx, call)
        for leg in call.live_legs():
            self.complete(tx, leg, "callCancelled" if leg.state == "ringing" else None)
        self.finish_call(tx, call)

    def finish_call(self, tx: CallTransaction, call: Call) -> None:
        """Drop a call that has no live leg left."""
        if call.live_legs():
            return
        for listener in self.listeners:
            listener.call_finished(tx, call)
        self.calls.pop(call.call_id, None)

    def hang_up(self, tx: CallTransaction, leg: Leg, cause: str | None = None) -> None:
        """``leg`` ends and its call settles."""
        call = leg.call
        self.complete(tx, leg, cause)
        self.settle(tx, call)
