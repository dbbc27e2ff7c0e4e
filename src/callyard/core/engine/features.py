"""Call features: what a party does to a call it is in.

Answer, end (hang up, or reject a ringing call: the caller meets the endpoint's busy handling), hold and
retrieve (retrieving swaps: the other talking call goes on hold), redirect a ringing call, blind transfer,
consult, supervised transfer and conference (joining the endpoint's held call with its consultation call),
DTMF, and park (the party leaves, the other side waits on hold in an orbit).

Every function validates before it changes anything, so a rejected feature changes nothing. They run
inside the caller's :class:`CallTransaction`; the engine façade opens it and renders the result.
"""
from __future__ import annotations

import re

from callyard.core.engine.call_recording import CallRecording
from callyard.core.engine.calls import CallListener, CallTable, CallTransaction, partners, presented, require_state
from callyard.core.engine.dialplan import normalise
from callyard.core.engine.model import EXTENSION, Call, Endpoint, Leg
from callyard.core.engine.routing import Routing
from callyard.core.engine.terminals import find_terminal
from callyard.core.errors import Conflict, Invalid, NotFound

DTMF = re.compile(r"^[0-9*#A-Da-d]{1,64}$")
DTMF_KEPT = 256   # the digits a leg remembers (its latest): a long call's digits do not grow without bound


class Features(CallListener):
    def __init__(self, table: CallTable, routing: Routing, recording: CallRecording) -> None:
        self.table = table
        self.routing = routing
        self.recording = recording
        self.parked: set[str] = set()   # ids of calls waiting in a park orbit

    def reset(self) -> None:
        self.parked.clear()

    # ------------------------------------------------------------------ call listener: parked calls wait
    def keeps_waiting(self, call: Call) -> bool:
        return call.call_id in self.parked

    def call_finished(self, tx: CallTransaction, call: Call) -> None:
        self.parked.discard(call.call_id)

    # ------------------------------------------------------------------ answer and end
    def answer(self, tx: CallTransaction, leg: Leg, terminal: str | None = None) -> None:
        require_state(leg, "ringing", action="answer")
        if terminal is not None:
            device = find_terminal(leg.endpoint.terminals, terminal)
            if device is None:
                raise Invalid("InvalidDevice", f"{terminal} is not a device of endpoint {leg.endpoint.number}")
            terminal = device["deviceId"]
        for other in leg.endpoint.legs:
            if other is not leg and other.state == "connected":
                self.table.set_state(tx, other, state="held")  # answering a waiting call holds the current one
        self._connect(tx, leg, terminal)

    def _connect(self, tx: CallTransaction, leg: Leg, terminal: str | None) -> None:
        """``leg`` (ringing) is answered."""
        call = leg.call
        assert call is not None
        leg.cancel_timer()
        leg.answered_on = self.table.now()
        leg.terminal = terminal or (leg.endpoint.terminals[0]["deviceId"] if leg.endpoint.terminals else None)
        self.table.set_state(tx, leg, state="connected")
        for other in partners(leg):
            if other.state == "ringing" and other.direction == "inbound":
                self.table.complete(tx, other, "callCancelled")  # another member of a ring-all group answered first
            else:
                self.routing.answered(tx, other)
        self.routing.offer_answered(tx, leg)
        if call.recording is None and any(o.origin.get("record") for o in call.live_legs()):
            self.recording.start(call)
        for other in list(call.live_legs()):
            associated = other.origin.pop("bridge_with", None)
            if associated is not None and self._joinable(associated, other):
                self._join(tx, held=associated, consult=other)  # Make Call with executeOnAnswer=bridge
                break

    def end(self, tx: CallTransaction, leg: Leg) -> None:
        require_state(leg, "ringing", "connected", "held", action="end")
        if leg.state == "ringing" and leg.direction == "inbound" and not leg.queue_id:
            # Rejecting a ringing call: the caller meets this endpoint's busy handling.
            call = leg.call
            assert call is not None
            callers = partners(leg)
            self.table.complete(tx, leg, "busy")
            if callers and len(callers) == 1 and callers[0].answered_on is None:
                self.routing.busy(tx, call, callers[0], leg.endpoint, 0)
            else:
                self.table.settle(tx, call)
            return
        self.table.hang_up(tx, leg, "busy" if leg.state == "ringing" else None)

    # ------------------------------------------------------------------ hold and retrieve
    def hold(self, tx: CallTransaction, leg: Leg) -> None:
        require_state(leg, "connected", action="hold")
        self.table.set_state(tx, leg, state="held")

    def retrieve(self, tx: CallTransaction, leg: Leg) -> None:
        require_state(leg, "held", action="retrieve")
        for other in leg.endpoint.legs:
            if other is not leg and other.state == "connected" and other.call is not leg.call:
                self.table.set_state(tx, other, state="held")  # swap: the other call goes on hold
        self.table.set_state(tx, leg, state="connected")

    # ------------------------------------------------------------------ redirect and transfer
    def redirect(self, tx: CallTransaction, leg: Leg, destination: str, route: str = "basic") -> None:
        require_state(leg, "ringing", action="redirect")
        if leg.direction != "inbound":
            raise Conflict("InvalidCallState", "only an incoming ringing call can be redirected")
        target = self.routing.dial_target(leg.account_id, destination)
        callers = partners(leg)
        if not callers:
            raise Conflict("InvalidCallState", "the caller has already gone")
        if target is leg.endpoint:
            raise Invalid("InvalidDestination", "a call cannot be redirected to the endpoint it rings on")
        call = leg.call
        assert call is not None
        self.routing.offer_redirected(tx, leg)
        self.table.complete(tx, leg, "redirected")
        self.routing.offer(tx, call, callers[0], target, "redirected", dialled=normalise(destination),
                           sent_by=leg.endpoint, route=route)

    def blind_transfer(self, tx: CallTransaction, leg: Leg, destination: str, route: str = "basic") -> None:
        """Send the other party to ``destination`` and leave; a ringing call is redirected instead."""
        if leg.state == "ringing":
            return self.redirect(tx, leg, destination, route)
        require_state(leg, "connected", "held", action="blindTransfer")
        target = self.routing.dial_target(leg.account_id, destination)
        others = partners(leg)
        if len(others) != 1:
            raise Conflict("InvalidCallState", "only a two-party call can be transferred "
                           f"(call {leg.leg_id} has {len(others)} other parties)")
        partner = others[0]
        if target is leg.endpoint or target is partner.endpoint:
            raise Invalid("InvalidDestination", "a call cannot be transferred to a party already in it")
        call = leg.call
        assert call is not None
        self.table.complete(tx, leg, "transfer")
        self.table.set_state(tx, partner, state="connected" if partner.state == "held" else None, cause="transfer")
        self.routing.offer(tx, call, partner, target, "transfer", dialled=normalise(destination),
                           sent_by=leg.endpoint, route=route)
        return None

    def consult(self, tx: CallTransaction, leg: Leg, destination: str, route: str = "basic",
                transfer_on_answer: bool = False) -> Leg:
        """Hold ``leg`` and call ``destination`` from the same endpoint. Returns the consultation leg.
        ``transfer_on_answer``: when the destination answers, the held party is joined with it and this
        endpoint drops (a transfer that waits for the answer)."""
        require_state(leg, "connected", "held", action="consult")
        target = self.routing.dial_target(leg.account_id, destination)
        if target is leg.endpoint:
            raise Invalid("InvalidDestination", "an endpoint cannot consult itself")
        if any(other.consult_for is leg and other.state != "completed" for other in leg.endpoint.legs):
            raise Conflict("InvalidCallState", f"call {leg.leg_id} already has a consultation call")
        if transfer_on_answer and not partners(leg):
            raise Conflict("InvalidCallState", f"call {leg.leg_id} has no other party to transfer")
        if leg.state == "connected":
            self.table.set_state(tx, leg, state="held")
        endpoint = leg.endpoint
        call = self.table.new_call(endpoint.account_id)
        consultation = self.table.add_leg(tx, call, endpoint, direction="outbound", state="connected",
                                          cause="newCall", from_number=endpoint.number, from_name=endpoint.name,
                                          from_principal=endpoint.principal_id, to_number=normalise(destination),
                                          to_name=target.name, to_principal=target.principal_id)
        consultation.consult_for = leg
        if transfer_on_answer:
            consultation.origin["bridge_with"] = leg
        self.routing.offer(tx, call, consultation, target, "newCall", dialled=normalise(destination), route=route)
        return consultation

    def _pair(self, leg: Leg, other_id: str | None, action: str) -> tuple[Leg, Leg]:
        """(held, consultation) for a supervised transfer or conference: ``other_id`` names the endpoint's
        other call; either may be the one the action was sent on."""
        endpoint = leg.endpoint
        if other_id in (None, ""):
            candidates = [o for o in endpoint.legs if o is not leg and o.state == "held" and o.call is not leg.call]
            if len(candidates) != 1:
                raise Invalid("InvalidArgs", f"{action} needs args: the callId of the endpoint's other call")
            other = candidates[0]
        else:
            if not isinstance(other_id, str):
                raise Invalid("InvalidArgs", f"{action} args must be a callId")
            found = self.table.leg(leg.account_id, other_id)
            if found is None or found.endpoint is not endpoint:
                raise NotFound("CallNotFound", f"call {other_id} was not found on endpoint {endpoint.number}")
            other = found
        if other is leg or other.call is leg.call:
            raise Invalid("InvalidArgs", f"{action} joins two different calls of the endpoint")
        held, consultation = (other, leg) if other.state == "held" else (leg, other)
        if held.state != "held":
            raise Conflict("InvalidCallState", f"{action} needs one of the two calls on hold")
        if consultation.state not in ("connected", "held"):
            raise Conflict("InvalidCallState", f"call {consultation.leg_id} is {consultation.state}")
        for one in (held, consultation):
            if not partners(one):
                raise Conflict("InvalidCallState", f"call {one.leg_id} has no other party")
        if _share_a_party(held, consultation):
            raise Conflict("InvalidCallState", f"{action}: the two calls already share a party")
        return held, consultation

    def supervised_transfer(self, tx: CallTransaction, leg: Leg, other_leg_id: str | None) -> Leg:
        """Join the endpoint's held call with its consultation call and leave. Returns the held call's party."""
        held, consultation = self._pair(leg, other_leg_id, "supervisedTransfer")
        if len(partners(held)) != 1 or len(partners(consultation)) != 1:
            raise Conflict("InvalidCallState", "a supervised transfer joins two two-party calls")
        return self._join(tx, held=held, consult=consultation)

    def connect_when_answered(self, tx: CallTransaction, leg: Leg, other_leg_id: str | None) -> Leg:
        """A supervised transfer that waits: while the consulted party has not answered, the two calls are
        joined when it does (the endpoint drops then); once answered, at once. Returns ``leg``."""
        held, consultation = self._pair(leg, other_leg_id, "supervisedTransfer")
        if len(partners(held)) != 1 or len(partners(consultation)) != 1:
            raise Conflict("InvalidCallState", "a supervised transfer joins two two-party calls")
        if consultation.answered_on is None and consultation.direction == "outbound":
            consultation.origin["bridge_with"] = held
            self.table.emit_state(tx, consultation)   # its state token moves: the transfer is now pending
            return leg
        self._join(tx, held=held, consult=consultation)
        return leg

    @staticmethod
    def _joinable(held: Leg, consult: Leg) -> bool:
        """Whether a transfer pending on answer can still join ``held``'s party with ``consult``'s: both calls
        live and apart, each with another party, none shared. When it cannot (the held party left, or the
        held call never had one, as a caller waiting in a queue), the pending transfer lapses and the answered
        call stays an ordinary call."""
        if held.state not in ("held", "connected") or held.call is None or consult.call in (None, held.call):
            return False
        return bool(partners(held) and partners(consult)) and not _share_a_party(held, consult)

    def _join(self, tx: CallTransaction, held: Leg, consult: Leg) -> Leg:
        """The transferor drops: the held call's party is joined with the consulted party."""
        target_call = held.call
        moving_call = consult.call
        assert target_call is not None and moving_call is not None
        kept = partners(held)[0]
        moving = partners(consult)
        self.table.complete(tx, consult, "transfer")
        self.table.complete(tx, held, "transfer")
        self.table.move_legs(moving, moving_call, target_call)
        self.recording.hand_over(moving_call, target_call)
        self.table.finish_call(tx, moving_call)
        for other in moving:
            self._now_talks_to(other, kept)
            if other.state == "held":
                other.state = "connected"
            other.cause = "transfer"
            self.table.emit_state(tx, other)
        self._now_talks_to(kept, moving[0])
        kept.state = "connected" if kept.state == "held" else kept.state
        kept.cause = "transfer"
        if moving[0].answered_on is not None:
            self.routing.answered(tx, kept)
        self.table.emit_state(tx, kept)
        return kept

    @staticmethod
    def _now_talks_to(leg: Leg, party: Leg) -> None:
        """``leg``'s remote side becomes ``party`` (after a transfer): from for inbound, to for outbound."""
        number, name, principal_id = presented(party)
        if leg.direction == "inbound":
            leg.from_number, leg.from_name, leg.from_principal = number, name, principal_id
        else:
            leg.to_number, leg.to_name, leg.to_principal = number, name, principal_id

    def conference(self, tx: CallTransaction, leg: Leg, other_leg_id: str | None, keep_acted: bool = False) -> Leg:
        """Join the endpoint's held call and its consultation call into one call. Returns the held leg, or
        with ``keep_acted`` the leg acted on (its call becomes the conference whichever of the two is held)."""
        held, consultation = self._pair(leg, other_leg_id, "conference")
        if keep_acted and leg is consultation:
            held, consultation = consultation, held
        target_call = held.call
        moving_call = consultation.call
        assert target_call is not None and moving_call is not None
        moving = partners(consultation)
        self.table.complete(tx, consultation, "transfer")
        self.table.move_legs(moving, moving_call, target_call)
        self.table.finish_call(tx, moving_call)
        self.table.set_state(tx, held, state="connected")
        for other in moving:
            self.table.emit_state(tx, other)
        return held

    # ------------------------------------------------------------------ DTMF and park
    def send_dtmf(self, tx: CallTransaction, leg: Leg, digits: str) -> None:
        require_state(leg, "connected", action="dtmf")
        if not isinstance(digits, str) or not DTMF.match(digits):
            raise Invalid("InvalidArgs", "dtmf args are 1 to 64 digits from 0-9, *, #, A-D")
        leg.dtmf = (leg.dtmf + digits.upper())[-DTMF_KEPT:]
        self.table.emit_dtmf(tx, leg, digits.upper())

    def park(self, tx: CallTransaction, leg: Leg, orbit: str | None = None) -> None:
        """The party leaves; the other side waits on hold in ``orbit`` (default: the endpoint's number)."""
        require_state(leg, "connected", "held", action="park")
        others = partners(leg)
        if len(others) != 1:
            raise Conflict("InvalidCallState", "only a two-party call can be parked")
        call = leg.call
        assert call is not None
        orbit = str(orbit) if orbit else leg.endpoint.number
        if any(c.queue_id == f"park:{orbit}" for c in self.table.calls.values() if c.account_id == leg.account_id):
            raise Conflict("OrbitInUse", f"park orbit {orbit} already holds a call")
        call.queue_id = f"park:{orbit}"
        self.parked.add(call.call_id)
        self.table.complete(tx, leg, "transfer")
        self.table.set_state(tx, others[0], state="held")

    # ------------------------------------------------------------------ mute, move, alternate
    def mute(self, tx: CallTransaction, leg: Leg, muted: bool) -> None:
        """The party's microphone is muted (the others stop hearing it) or unmuted."""
        require_state(leg, "connected", "held", action="mute" if muted else "unmute")
        if leg.muted == muted:
            raise Conflict("InvalidCallState", f"call {leg.leg_id} is already {'muted' if muted else 'unmuted'}")
        leg.muted = muted
        self.table.emit_state(tx, leg)

    def move(self, tx: CallTransaction, leg: Leg, terminal: str) -> None:
        """The established call continues on another device (terminal) of the same endpoint."""
        require_state(leg, "connected", "held", action="move")
        device = find_terminal(leg.endpoint.terminals, terminal)
        if device is None:
            raise Invalid("InvalidDevice", f"{terminal} is not a device of endpoint {leg.endpoint.number}")
        terminal = device["deviceId"]   # an alias (2880-soft) names the same device
        if terminal == leg.terminal:
            raise Conflict("InvalidCallState", f"call {leg.leg_id} is already on device {terminal}")
        leg.terminal = terminal
        self.table.emit_state(tx, leg)

    def alternate(self, tx: CallTransaction, leg: Leg, other_id: str) -> Leg:
        """Hold ``leg`` and take the endpoint's other call ``other_id``: retrieve it when held, answer it when
        ringing. Returns that other call's leg."""
        require_state(leg, "connected", action="alternate")
        other = self.table.leg(leg.account_id, other_id)
        if other is None or other.endpoint is not leg.endpoint or other is leg:
            raise NotFound("CallNotFound", f"call {other_id} is not another call of endpoint {leg.endpoint.number}")
        if other.state == "held":
            self.retrieve(tx, other)          # retrieving swaps: ``leg`` goes on hold
        elif other.state == "ringing" and other.direction == "inbound":
            self.answer(tx, other)            # answering a waiting call holds the current one
        else:
            raise Conflict("InvalidCallState", f"call {other_id} is {other.state}; alternate takes a held or "
                           "ringing call")
        return other

    # ------------------------------------------------------------------ conferences
    def leave(self, tx: CallTransaction, leg: Leg) -> None:
        """Leave a conference: the other parties talk on."""
        require_state(leg, "connected", "held", action="leave")
        if len(partners(leg)) < 2:
            raise Conflict("NotAConference", f"call {leg.leg_id} is not a conference")
        self.table.hang_up(tx, leg, "leftConference")

    def drop_participant(self, tx: CallTransaction, leg: Leg, participant_id: str) -> None:
        """Remove another party from the conference ``leg`` is in."""
        require_state(leg, "connected", "held", action="removeParticipant")
        others = partners(leg)
        if len(others) < 2:
            raise Conflict("NotAConference", f"call {leg.leg_id} is not a conference")
        participant = next((o for o in others if o.leg_id == participant_id), None)
        if participant is None:
            raise NotFound("ParticipantNotFound", f"{participant_id} is not a participant of call {leg.leg_id}")
        self.table.hang_up(tx, participant, "removedFromConference")

    # ------------------------------------------------------------------ pickup and intrusion
    def pickup(self, tx: CallTransaction, endpoint: Endpoint, target: Leg, terminal: str | None,
               early_only: bool = True) -> Leg:
        """``endpoint`` takes over the call ``target`` rings with (a ringing extension's call) or the parked
        call whose waiting party is ``target``. Returns the new, talking leg of ``endpoint``."""
        call = target.call
        if call is None or target.account_id != endpoint.account_id:
            raise NotFound("CallNotFound", f"call {target.leg_id} was not found")
        if target.endpoint is endpoint:
            raise Conflict("InvalidCallState", "a call ringing on this endpoint is answered, not picked up")
        if terminal is not None:
            device = find_terminal(endpoint.terminals, terminal)
            if device is None:
                raise Invalid("InvalidDevice", f"{terminal} is not a device of endpoint {endpoint.number}")
            terminal = device["deviceId"]
        parked = call.call_id in self.parked and target.state == "held"
        if not parked:
            if target.state != "ringing" or target.direction != "inbound":
                raise Conflict("InvalidCallState", f"call {target.leg_id} is {target.state}; only a ringing or "
                               "parked call can be picked up" if early_only else
                               f"call {target.leg_id} is {target.state}; it cannot be picked up")
            if target.queue_id:
                raise Conflict("InvalidCallState", "a queue offer is answered by its agent")
            if target.endpoint.kind != EXTENSION:
                raise Conflict("InvalidCallState", "only a call ringing on an extension can be picked up")
        if any(leg.endpoint is endpoint for leg in call.live_legs()):
            raise Conflict("InvalidCallState", "the endpoint is already in that call")
        waiting = target if parked else next(iter(partners(target)), None)
        if waiting is None:
            raise Conflict("InvalidCallState", "the caller has already gone")
        number, name, principal_id = presented(waiting)
        if parked:
            self.parked.discard(call.call_id)
            call.queue_id = None
        else:
            self.table.complete(tx, target, "callPickedUp")
        leg = self.table.add_leg(tx, call, endpoint, direction="inbound", state="ringing", cause="callPickup",
                                 from_number=number, from_name=name, from_principal=principal_id,
                                 to_number=endpoint.number, to_name=endpoint.name,
                                 to_principal=endpoint.principal_id)
        if waiting.state == "held":
            waiting.state = "connected"
        self._now_talks_to(waiting, leg)
        self._connect(tx, leg, terminal)
        self.table.emit_state(tx, waiting)
        return leg

    def intrude(self, tx: CallTransaction, endpoint: Endpoint, target: Endpoint, mode: str) -> Leg:
        """``endpoint`` joins the call ``target`` is talking in: BARGE/INTRUSION as a full party, WHISPER
        heard by ``target`` only, MONITOR listening only (muted). Returns the intruding leg."""
        if mode not in INTRUSIONS:
            raise Invalid("InvalidArgs", f"an intrusion is one of {', '.join(INTRUSIONS)}")
        if target is endpoint:
            raise Invalid("InvalidDestination", "an endpoint cannot intrude into its own call")
        talking = [leg for leg in target.legs if leg.state == "connected" and leg.call is not None]
        if len(talking) != 1:
            raise Conflict("NotInCall", f"{target.number} is not talking in a call")
        victim = talking[0]
        call = victim.call
        assert call is not None
        if any(leg.endpoint is endpoint for leg in call.live_legs()):
            raise Conflict("InvalidCallState", "the endpoint is already in that call")
        leg = self.table.add_leg(tx, call, endpoint, direction="outbound", state="connected", cause="newCall",
                                 from_number=endpoint.number, from_name=endpoint.name,
                                 from_principal=endpoint.principal_id, to_number=target.number,
                                 to_name=target.name, to_principal=target.principal_id)
        leg.answered_on = self.table.now()
        leg.intrusion = mode
        leg.muted = mode == "MONITOR"
        leg.terminal = endpoint.terminals[0]["deviceId"] if endpoint.terminals else None
        self.table.emit_state(tx, leg)
        return leg


INTRUSIONS = ("INTRUSION", "BARGE", "WHISPER", "MONITOR")


def _share_a_party(one: Leg, other: Leg) -> bool:
    """Whether the calls of two legs of an endpoint have another party's endpoint in common."""
    theirs = {party.endpoint.key for party in partners(one)}
    return any(party.endpoint.key in theirs for party in partners(other))
