"""The PBX engine: call control over endpoints, legs and calls, with the rules of a real PBX.

Every public operation validates first and only then changes the live objects, inside one write
transaction, so a rejected action changes nothing. Every leg state change emits exactly one ``call.state``
event carrying the call's next sequence number; call records, voicemail and recordings are written in the
same transaction as the change that produced them.

The façades (Media today; UC and CX later) call these operations with a ``Principal`` and render the
plain dictionaries of ``snapshot()`` / ``endpoint_view()`` in their own wire shapes.
"""
from __future__ import annotations

import json
import re
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, AsyncIterator, Callable

from callyard.core.clock import iso
from callyard.core.directory.access import Access
from callyard.core.engine import acd as acd_module
from callyard.core.engine.dialplan import DialPlan, is_dialable, is_external, normalise
from callyard.core.engine.model import (AVAILABILITY, DEFAULT_SETTINGS, EXTENSION, EXTERNAL, GROUP, VOICEMAIL, Call,
                                        Endpoint, Leg, Recording)
from callyard.core.engine.recordings import CONTENT_TYPE, Recordings, synthesise_wav
from callyard.core.errors import Conflict, Forbidden, Invalid, NotFound
from callyard.core.principal import Principal
from callyard.core.runtime import Runtime
from callyard.core.scheduler import Scheduler
from callyard.core.state import UnitOfWork
from callyard.events.event import Event

DTMF = re.compile(r"^[0-9*#A-Da-d]{1,64}$")
MAX_DIVERSIONS = 5
VOICEMAIL_MAX_SECONDS = 120
SETTING_TYPES: dict[str, Any] = {
    "dnd": bool, "messageWaiting": bool, "pstnRouting": bool, "outOfService": bool, "callWaiting": bool,
    "voicemail": bool, "userAvailability": str, "forwardAlways": (str, type(None)),
    "forwardBusy": (str, type(None)), "forwardNoAnswer": (str, type(None)), "forwardDnd": (str, type(None)),
    "noAnswerSeconds": (int, float)}


def _seconds(start: datetime | None, end: datetime | None) -> float:
    if start is None or end is None:
        return 0.0
    return round(max(0.0, (end - start).total_seconds()), 3)


class Engine:
    def __init__(self, runtime: Runtime, access: Access, recordings: Recordings, scheduler: Scheduler) -> None:
        self.rt = runtime
        self.access = access
        self.recordings = recordings
        self.scheduler = scheduler
        self.dialplan = DialPlan(runtime.state)
        self.endpoints: dict[tuple[str, str], Endpoint] = {}
        self.legs: dict[tuple[str, str], Leg] = {}
        self.calls: dict[str, Call] = {}
        self.acd = acd_module.Acd(self)
        self._touched: set[Call] = set()
        runtime.projections.after_commit("dial plan follows the directory", self._on_directory_event,
                                         events=("user.*", "group.*", "account.*"))

    # ================================================================== lifecycle
    def reset(self) -> None:
        """Drop every live call (reset, snapshot import): the PBX restarts with the new configuration."""
        self.scheduler.clear()
        self.endpoints.clear()
        self.legs.clear()
        self.calls.clear()
        self.dialplan.invalidate()
        self.acd.reset()

    def _on_directory_event(self, event: Event) -> None:
        if event.type.split(".")[0] in ("user", "group", "account"):
            self.dialplan.invalidate(event.account_id)

    @asynccontextmanager
    async def _write(self) -> AsyncIterator[UnitOfWork]:
        """The runtime's write transaction, closed by a sweep: every call the operation touched is settled
        (a call left with no talking party ends, an empty call is dropped) before the commit."""
        async with self.rt.write() as uow:
            self._touched: set[Call] = set()
            yield uow
            for call in list(self._touched):
                if call.live_legs():
                    self._settle(uow, call)
                else:
                    self._finish_call(uow, call)

    # ================================================================== lookups and access
    def now(self) -> datetime:
        return self.rt.clock.now()

    def endpoint(self, account_id: str, number: str) -> Endpoint | None:
        return self.dialplan.resolve(account_id, number, self.endpoints)

    def _account_of(self, actor: Principal, account_ref: str | None) -> str:
        if account_ref:
            return self.access.account(actor, account_ref)["accountId"]
        if self.rt.state.get("account", actor.account_id) is None:
            raise Invalid("AccountRequired", "this caller belongs to no account; name the account")
        return actor.account_id

    def _controllable(self, actor: Principal, number: str, account_ref: str | None = None) -> Endpoint:
        """An endpoint of the caller's account that the caller may control: their own extension, or any
        endpoint for an ACCOUNT_ADMIN, a client application or the control plane."""
        account_id = self._account_of(actor, account_ref)
        found = self.dialplan.internal(account_id, number)
        if found is None:
            endpoint = self.endpoints.get((account_id, normalise(number)))
            if endpoint is None or endpoint.kind != EXTERNAL or actor.kind != "control":
                raise NotFound("EndpointNotFound", f"endpoint {number} was not found")
        else:
            endpoint = self.endpoint(account_id, number)
            assert endpoint is not None
        if actor.kind in ("client", "control") or actor.at_least("ACCOUNT_ADMIN"):
            return endpoint
        if endpoint.user_id is not None and endpoint.user_id == actor.user_id:
            return endpoint
        if endpoint.kind == GROUP and endpoint.group_id and self.acd.is_member(endpoint, actor.user_id):
            return endpoint
        raise Forbidden("InsufficientPermissions", f"the caller may not control endpoint {number}")

    def sim_endpoint(self, actor: Principal, number: str, account_ref: str | None = None) -> Endpoint:
        """What the simulator may act on: any endpoint of the account, external numbers included."""
        account_id = self._account_of(actor, account_ref)
        endpoint = self.endpoint(account_id, number)
        if endpoint is None:
            raise NotFound("EndpointNotFound", f"endpoint {number} was not found")
        return endpoint

    def _leg(self, endpoint: Endpoint, leg_id: str) -> Leg:
        leg = self.legs.get((endpoint.account_id, leg_id))
        if leg is None or leg.endpoint is not endpoint:
            raise NotFound("CallNotFound", f"call {leg_id} was not found on endpoint {endpoint.number}")
        return leg

    def settings(self, endpoint: Endpoint) -> dict[str, Any]:
        doc = self.rt.state.get("endpoint", f"{endpoint.account_id}:{endpoint.number}")
        return {**DEFAULT_SETTINGS, **((doc or {}).get("settings") or {})}

    def profile(self, endpoint: Endpoint) -> dict[str, Any] | None:
        doc = self.rt.state.get("endpoint", f"{endpoint.account_id}:{endpoint.number}")
        return (doc or {}).get("profile")

    # ================================================================== views (plain dicts for façades)
    def endpoint_state(self, endpoint: Endpoint) -> str:
        if self.settings(endpoint)["outOfService"]:
            return "outOfService"
        states = {leg.state for leg in endpoint.legs}
        if "connected" in states:
            return "connected"
        if "held" in states:
            return "held"
        if "ringing" in states:
            return "ringing"
        return "idle"

    def endpoint_view(self, endpoint: Endpoint) -> dict[str, Any]:
        settings = self.settings(endpoint)
        availability = "dnd" if settings["dnd"] else settings["userAvailability"]
        if availability == "available" and endpoint.in_call():
            availability = "busy"
        return {"endpointId": endpoint.number, "accountId": endpoint.account_id, "kind": endpoint.kind,
                "name": endpoint.name, "userId": endpoint.user_id, "groupId": endpoint.group_id,
                "state": self.endpoint_state(endpoint), "userAvailability": availability,
                "dnd": settings["dnd"], "messageWaiting": settings["messageWaiting"],
                "pstnRouting": settings["pstnRouting"], "settings": settings, "terminals": endpoint.terminals,
                "profile": self.profile(endpoint), "activeCalls": len(endpoint.legs)}

    def snapshot(self, leg: Leg) -> dict[str, Any]:
        now = self.now()
        end = leg.ended_on or now
        talking = leg.answered_on
        ring_until = talking or end
        call = leg.call
        return {
            "legId": leg.leg_id, "endpointId": leg.endpoint.number, "accountId": leg.account_id,
            "callId": call.call_id if call else None, "sequence": call.seq if call else 0,
            "principalId": leg.endpoint.principal_id, "endpointKind": leg.endpoint.kind,
            "state": leg.state, "cause": leg.cause, "direction": leg.direction,
            "from": leg.from_number, "fromName": leg.from_name, "fromPrincipalId": leg.from_principal,
            "to": leg.to_number, "toName": leg.to_name, "toPrincipalId": leg.to_principal,
            "createdOn": leg.created_on, "answeredOn": leg.answered_on, "endTime": leg.ended_on,
            "completed": leg.state == "completed" and leg.answered_on is not None,
            "ringTime": _seconds(leg.created_on, ring_until) if leg.direction == "inbound" or talking
            else _seconds(leg.created_on, end),
            "billingTime": _seconds(talking, end) if talking else 0.0,
            "terminal": leg.terminal, "dtmf": leg.dtmf, "queueId": leg.queue_id or (call.queue_id if call else None),
            "recording": bool(call and call.recording and not call.recording.paused),
            "consultFor": leg.consult_for.leg_id if leg.consult_for else None,
            "parties": [other.endpoint.number for other in (call.live_legs() if call else []) if other is not leg],
        }

    def get_endpoint(self, actor: Principal, number: str) -> dict[str, Any]:
        return self.endpoint_view(self._controllable(actor, number))

    def list_calls(self, actor: Principal, number: str) -> list[dict[str, Any]]:
        endpoint = self._controllable(actor, number)
        return [self.snapshot(leg) for leg in endpoint.legs]

    def get_call(self, actor: Principal, number: str, leg_id: str) -> dict[str, Any]:
        endpoint = self._controllable(actor, number)
        return self.snapshot(self._leg(endpoint, leg_id))

    def live_calls(self, account_id: str | None = None) -> list[dict[str, Any]]:
        """Every live call with its legs (the CLI's live table, the control plane)."""
        out = []
        for call in self.calls.values():
            if account_id and call.account_id != account_id:
                continue
            out.append({"callId": call.call_id, "accountId": call.account_id, "createdOn": call.created_on,
                        "queueId": call.queue_id, "recording": call.recording is not None,
                        "legs": [self.snapshot(leg) for leg in call.live_legs()]})
        return out

    # ================================================================== internal building blocks
    def _new_leg_id(self, account_id: str) -> str:
        while True:
            leg_id = self.rt.ids.digits(8)
            if (account_id, leg_id) not in self.legs and self.rt.state.get(
                    "call_record", f"{account_id}:{leg_id}") is None:
                return leg_id

    def _new_call(self, account_id: str) -> Call:
        call = Call(self.rt.ids.uuid(), account_id, self.now())
        self.calls[call.call_id] = call
        return call

    def _emit(self, uow: UnitOfWork, leg: Leg) -> None:
        call = leg.call
        if call is not None:
            call.seq += 1
        uow.emit("call.state", leg.account_id, f"/endpoints/{leg.endpoint.number}/calls/{leg.leg_id}",
                 _jsonable(self.snapshot(leg)), self.rt.now_iso(), fresh=True)

    def _add_leg(self, uow: UnitOfWork, call: Call, endpoint: Endpoint, *, direction: str, state: str, cause: str,
                 from_number: str, to_number: str, from_name: str = "", to_name: str = "",
                 from_principal: str | None = None, to_principal: str | None = None) -> Leg:
        leg = Leg(self._new_leg_id(endpoint.account_id), endpoint, direction, state, cause, self.now(),
                  from_number, to_number, from_name, to_name, from_principal, to_principal)
        leg.call = call
        call.legs.append(leg)
        endpoint.legs.append(leg)
        self._touched.add(call)
        self.legs[(endpoint.account_id, leg.leg_id)] = leg
        if state == "connected" and direction == "inbound":
            leg.answered_on = self.now()
        self._emit(uow, leg)
        return leg

    def _set(self, uow: UnitOfWork, leg: Leg, state: str | None = None, cause: str | None = None) -> None:
        changed = False
        if state is not None and state != leg.state:
            leg.state = state
            changed = True
        if cause is not None and cause != leg.cause:
            leg.cause = cause
            changed = True
        if changed:
            self._emit(uow, leg)

    def _complete(self, uow: UnitOfWork, leg: Leg, cause: str | None = None) -> None:
        """Finish one leg: it leaves its call and endpoint, its record is written, its event emitted."""
        if leg.state == "completed":
            return
        leg.cancel_timer()
        now = self.now()
        leg.ended_on = now
        leg.state = "completed"
        if cause is not None:
            leg.cause = cause
        self._emit(uow, leg)
        self._write_record(uow, leg)
        if leg.answered_on is None:
            self._originate_result(uow, leg, success=False)
        call = leg.call
        if call is not None:
            self._touched.add(call)
        if leg.endpoint.kind == VOICEMAIL and call is not None and call.voicemail_box:
            self._deposit_voicemail(uow, call, leg)
        if leg in leg.endpoint.legs:
            leg.endpoint.legs.remove(leg)
        if leg.endpoint.kind == EXTERNAL and not leg.endpoint.legs:
            self.endpoints.pop(leg.endpoint.key, None)  # outside numbers live only while they are in a call
        self.legs.pop((leg.account_id, leg.leg_id), None)
        if call is not None and leg in call.legs:
            self._note_party(call, leg)
            call.legs.remove(leg)
        if leg.queue_id:
            self.acd.offer_ended(uow, leg)
        self.acd.endpoint_freed(uow, leg.endpoint)

    def _write_record(self, uow: UnitOfWork, leg: Leg) -> None:
        if leg.endpoint.kind not in (EXTENSION, GROUP):
            return
        snap = _jsonable(self.snapshot(leg))
        record = {key: snap[key] for key in ("legId", "endpointId", "accountId", "callId", "principalId", "from",
                                             "fromName", "fromPrincipalId", "to", "toName", "toPrincipalId",
                                             "state", "cause", "direction", "createdOn", "endTime", "completed",
                                             "ringTime", "billingTime", "queueId", "terminal")}
        record.update(recordId=f"{leg.account_id}:{leg.leg_id}", hidden=False,
                      fromNumberE164=leg.from_number.startswith("+"), toNumberE164=leg.to_number.startswith("+"))
        uow.put("call_record", record["recordId"], record)

    def _settle(self, uow: UnitOfWork, call: Call | None) -> None:
        """After a party left: a call with one party left ends, unless that party is waiting on purpose
        (queued for an agent, parked)."""
        if call is None:
            return
        live = call.live_legs()
        if len(live) == 1 and live[0].state != "ringing" and self.acd.is_waiting(call):
            return  # the caller waits on purpose: queued for an agent, or parked
        if len(live) >= 2 and any(leg.state != "ringing" for leg in live):
            return
        # Fewer than two parties, or only phones still ringing for a caller who is gone: the call is over.
        # It leaves its queue first, so freed agents are not offered it again while it is torn down.
        self.acd.call_gone(uow, call)
        for leg in call.live_legs():
            self._complete(uow, leg, "callCancelled" if leg.state == "ringing" else None)
        self._finish_call(uow, call)

    def _finish_call(self, uow: UnitOfWork, call: Call) -> None:
        if call.live_legs():
            return
        self._stop_recording(uow, call)
        self.acd.call_gone(uow, call)
        self.calls.pop(call.call_id, None)

    def _hangup(self, uow: UnitOfWork, leg: Leg, cause: str | None = None) -> None:
        call = leg.call
        self._complete(uow, leg, cause)
        self._settle(uow, call)

    def _partner(self, leg: Leg) -> list[Leg]:
        return [other for other in (leg.call.live_legs() if leg.call else []) if other is not leg]

    def _presented(self, leg: Leg) -> tuple[str, str, str | None]:
        """How ``leg``'s endpoint is presented to the other side: number, name, principal."""
        endpoint = leg.endpoint
        return endpoint.number, endpoint.name, endpoint.principal_id

    # ------------------------------------------------------------------ offering a call to an endpoint
    def _offer(self, uow: UnitOfWork, call: Call, caller: Leg, target: Endpoint, cause: str, depth: int = 0,
               dialled: str | None = None) -> Leg | None:
        """Present ``call`` (whose waiting party is ``caller``) to ``target``, applying its diversions. Returns
        the ringing (or voicemail/queue) leg, or None when the caller was turned away (its leg completed)."""
        number, name, principal_id = self._presented(caller)
        if any(leg.endpoint is target for leg in call.live_legs()):
            self._fail(uow, caller, "busy")  # already in this call: a device never talks to itself
            return None
        if depth > MAX_DIVERSIONS:
            self._fail(uow, caller, "destNotObtainable")
            return None
        if target.kind == GROUP:
            return self.acd.enqueue(uow, call, caller, target, cause)
        if target.kind == VOICEMAIL:
            return self._to_voicemail(uow, call, caller, None, cause)
        if target.kind == EXTENSION:
            settings = self.settings(target)
            if settings["outOfService"]:
                self._fail(uow, caller, "destNotObtainable")
                return None
            if settings["forwardAlways"]:
                return self._divert(uow, call, caller, target, settings["forwardAlways"], "callForwardAlways", depth)
            if settings["dnd"]:
                if settings["forwardDnd"]:
                    return self._divert(uow, call, caller, target, settings["forwardDnd"], "doNotDisturb", depth)
                if settings["voicemail"]:
                    return self._to_voicemail(uow, call, caller, target, "doNotDisturb")
                self._fail(uow, caller, "doNotDisturb")
                return None
            if target.in_call() and not settings["callWaiting"]:
                return self._busy(uow, call, caller, target, depth)
        elif target.kind == EXTERNAL and target.in_call():
            self._fail(uow, caller, "busy")
            return None
        leg = self._add_leg(uow, call, target, direction="inbound", state="ringing", cause=cause,
                            from_number=number, from_name=name, from_principal=principal_id,
                            to_number=dialled or target.number, to_name=target.name, to_principal=target.principal_id)
        caller.to_number = target.number
        caller.to_name = target.name
        caller.to_principal = target.principal_id
        if target.kind == EXTENSION:
            seconds = float(self.settings(target)["noAnswerSeconds"])
            leg.timer = self.scheduler.after(seconds, self._timer(leg, self._no_answer), f"no-answer {leg.leg_id}")
        return leg

    def _busy(self, uow: UnitOfWork, call: Call, caller: Leg, target: Endpoint, depth: int) -> Leg | None:
        settings = self.settings(target)
        if settings["forwardBusy"]:
            return self._divert(uow, call, caller, target, settings["forwardBusy"], "callForwardBusy", depth)
        if settings["voicemail"] and target.kind == EXTENSION:
            return self._to_voicemail(uow, call, caller, target, "busy")
        self._fail(uow, caller, "busy")
        return None

    def _divert(self, uow: UnitOfWork, call: Call, caller: Leg, source: Endpoint, destination: str, cause: str,
                depth: int) -> Leg | None:
        if normalise(destination) in ("voicemail", self.dialplan.voicemail_pilot(source.account_id)):
            return self._to_voicemail(uow, call, caller, source, cause)
        target = self.endpoint(source.account_id, destination)
        if target is None:
            self._fail(uow, caller, "destNotObtainable")
            return None
        return self._offer(uow, call, caller, target, cause, depth + 1)

    def _fail(self, uow: UnitOfWork, caller: Leg, cause: str) -> None:
        """The caller is turned away (busy, DND, unobtainable): its leg ends with the cause."""
        call = caller.call
        self._complete(uow, caller, cause)
        self._settle(uow, call)

    def _timer(self, leg: Leg, action: Callable[[UnitOfWork, Leg], None]) -> Callable[[], Any]:
        async def fire() -> None:
            async with self._write() as uow:
                if leg.state == "completed" or leg.timer is None:
                    return
                leg.timer = None
                action(uow, leg)
        return fire

    def _no_answer(self, uow: UnitOfWork, leg: Leg) -> None:
        if leg.state != "ringing":
            return
        call = leg.call
        assert call is not None
        callers = [other for other in self._partner(leg) if other.state != "ringing"]
        if leg.queue_id:
            self.acd.ring_no_answer(uow, leg)
            return
        settings = self.settings(leg.endpoint)
        caller = callers[0] if callers else None
        if caller is None:
            self._hangup(uow, leg, "callNotAnswer")
            return
        if len(callers) > 1:
            self._complete(uow, leg, "callNotAnswer")  # added to a conference and not answering: just stop
        elif settings["forwardNoAnswer"]:
            self._complete(uow, leg, "callForwardNoAnswer")
            self._divert(uow, call, caller, leg.endpoint, settings["forwardNoAnswer"], "callForwardNoAnswer", 0)
        elif settings["voicemail"] and leg.endpoint.kind == EXTENSION:
            self._complete(uow, leg, "callNotAnswer")
            self._to_voicemail(uow, call, caller, leg.endpoint, "callNotAnswer")
        # otherwise it rings on until the caller gives up, as an unforwarded phone does

    # ------------------------------------------------------------------ voicemail
    def _to_voicemail(self, uow: UnitOfWork, call: Call, caller: Leg, mailbox: Endpoint | None,
                      cause: str) -> Leg | None:
        pilot = self.dialplan.voicemail_pilot(caller.account_id)
        system = self.endpoint(caller.account_id, pilot)
        assert system is not None and system.kind == VOICEMAIL
        if any(leg.endpoint is system for leg in call.live_legs()):
            self._fail(uow, caller, "busy")
            return None
        call.voicemail_box = mailbox.number if mailbox is not None else None
        number, name, principal_id = self._presented(caller)
        leg = self._add_leg(uow, call, system, direction="inbound", state="connected", cause=cause,
                            from_number=number, from_name=name, from_principal=principal_id,
                            to_number=mailbox.number if mailbox else pilot, to_name="Voicemail")
        self._answered(uow, caller)
        leg.timer = self.scheduler.after(VOICEMAIL_MAX_SECONDS, self._timer(leg, self._voicemail_full),
                                         f"voicemail {leg.leg_id}")
        return leg

    def _voicemail_full(self, uow: UnitOfWork, leg: Leg) -> None:
        self._hangup(uow, leg)

    def _deposit_voicemail(self, uow: UnitOfWork, call: Call, leg: Leg) -> None:
        box = call.voicemail_box
        call.voicemail_box = None
        mailbox = self.endpoints.get((call.account_id, box or ""))
        if mailbox is None:
            return
        seconds = _seconds(leg.answered_on, leg.ended_on)
        message_id = self.rt.ids.uuid()
        blob_id = f"voicemail:{message_id}"
        uow.put_blob(blob_id, CONTENT_TYPE, synthesise_wav(seconds))
        doc = {"voicemailId": message_id, "accountId": call.account_id, "endpointId": mailbox.number,
               "userId": mailbox.user_id, "from": leg.from_number, "fromName": leg.from_name,
               "createdOn": self.rt.now_iso(), "durationInSeconds": seconds, "contentType": CONTENT_TYPE,
               "blobId": blob_id, "heard": False, "callId": call.call_id, "reason": leg.cause}
        uow.put("voicemail", message_id, doc)
        uow.emit("voicemail.created", call.account_id, f"/endpoints/{mailbox.number}/voicemails/{message_id}",
                 {k: v for k, v in doc.items() if k != "blobId"}, self.rt.now_iso())
        if not self.settings(mailbox)["messageWaiting"]:
            self._save_settings(uow, mailbox, {"messageWaiting": True})

    # ------------------------------------------------------------------ answer bookkeeping
    def _answered(self, uow: UnitOfWork, leg: Leg) -> None:
        """The far end answered ``leg``'s call: its talk time starts (its state was already connected)."""
        if leg.answered_on is None:
            leg.answered_on = self.now()
            if leg.origin.get("timer") is not None:
                leg.origin.pop("timer").cancel()
            self._emit(uow, leg)
            self._originate_result(uow, leg, success=True)

    def _originate_result(self, uow: UnitOfWork, leg: Leg, success: bool) -> None:
        """A Make Call request's successUrl/failureUrl callback is due (delivery/callbacks.py posts it)."""
        callbacks = leg.origin.pop("callbacks", None)
        if not callbacks or not callbacks[0 if success else 1]:
            return
        uow.emit("call.originate.result", leg.account_id, f"/endpoints/{leg.endpoint.number}/calls/{leg.leg_id}",
                 {"url": callbacks[0 if success else 1], "success": success, "call": _jsonable(self.snapshot(leg))},
                 self.rt.now_iso())

    def _connect(self, uow: UnitOfWork, leg: Leg, terminal: str | None) -> None:
        """``leg`` (ringing) is answered."""
        call = leg.call
        assert call is not None
        leg.cancel_timer()
        leg.answered_on = self.now()
        leg.terminal = terminal or (leg.endpoint.terminals[0]["deviceId"] if leg.endpoint.terminals else None)
        self._set(uow, leg, state="connected")
        for other in self._partner(leg):
            if other.state == "ringing" and other.direction == "inbound":
                self._complete(uow, other, "callCancelled")  # another member of a ring-all group answered first
            else:
                self._answered(uow, other)
        if leg.queue_id:
            self.acd.answered(uow, leg)
        if call.recording is None and any(o.origin.get("record") for o in call.live_legs()):
            self._start_recording(call)
        for other in list(call.live_legs()):
            associated = other.origin.pop("bridge_with", None)
            if associated is not None and associated.state in ("held", "connected") and associated.call:
                consultant = other
                self._join(uow, held=associated, consult=consultant)
                break

    # ------------------------------------------------------------------ settings
    def _save_settings(self, uow: UnitOfWork, endpoint: Endpoint, changes: dict[str, Any],
                       profile: Any = ..., ) -> dict[str, Any]:
        key = f"{endpoint.account_id}:{endpoint.number}"
        doc = dict(self.rt.state.get("endpoint", key) or {"endpointKey": key, "accountId": endpoint.account_id,
                                                            "endpointId": endpoint.number})
        doc["settings"] = {**(doc.get("settings") or {}), **changes}
        if profile is not ...:
            doc["profile"] = profile
        uow.put("endpoint", key, doc)
        uow.emit("endpoint.updated", endpoint.account_id, f"/endpoints/{endpoint.number}",
                 _jsonable(self.endpoint_view(endpoint)), self.rt.now_iso())
        return doc

    def set_dnd(self, uow: UnitOfWork, endpoint: Endpoint, enabled: bool) -> bool:
        """DND on a user's extension inside the caller's transaction (presence keeps its ``dnd`` status and
        the extension's DND one setting). Returns whether it changed."""
        if endpoint.kind != EXTENSION or self.settings(endpoint)["dnd"] == enabled:
            return False
        self._save_settings(uow, endpoint, {"dnd": enabled})
        return True

    # ================================================================== public operations
    async def update_endpoint(self, actor: Principal, number: str, action: str, availability: str,
                              enabled: bool) -> dict[str, Any]:
        """Media ``PUT /endpoints/{id}``: DND, message waiting or PSTN routing, plus the app's availability."""
        if availability not in AVAILABILITY:
            raise Invalid("InvalidUserAvailability", f"userAvailability must be one of {', '.join(AVAILABILITY)}")
        async with self._write() as uow:
            endpoint = self._controllable(actor, number)
            if endpoint.kind != EXTENSION:
                raise Invalid("UnsupportedEndpoint", f"endpoint {number} is not a user's extension")
            changes: dict[str, Any] = {action: bool(enabled)}
            if availability != "dnd":  # the swagger: "If dnd, do nothing"
                changes["userAvailability"] = availability
            self._save_settings(uow, endpoint, changes)
            return self.endpoint_view(endpoint)

    async def configure_endpoint(self, actor: Principal, number: str, settings: dict[str, Any],
                                 profile: Any = ..., account_ref: str | None = None,
                                 sim: bool = False) -> dict[str, Any]:
        """Diversion, call waiting, voicemail, out-of-service and the simulated person's behaviour profile.
        The simulator (``sim``) may also configure outside numbers, e.g. a caller's profile before it dials."""
        unknown = set(settings) - set(SETTING_TYPES)
        if unknown:
            raise Invalid("InvalidSetting", f"unknown endpoint settings: {', '.join(sorted(unknown))}")
        for key, value in settings.items():
            if not isinstance(value, SETTING_TYPES[key]) or (SETTING_TYPES[key] == (int, float) and isinstance(value, bool)):
                raise Invalid("InvalidSetting", f"{key} has the wrong type")
        if "userAvailability" in settings and settings["userAvailability"] not in AVAILABILITY:
            raise Invalid("InvalidSetting", f"userAvailability must be one of {', '.join(AVAILABILITY)}")
        if "noAnswerSeconds" in settings and not 1 <= settings["noAnswerSeconds"] <= 600:
            raise Invalid("InvalidSetting", "noAnswerSeconds must be between 1 and 600")
        async with self._write() as uow:
            endpoint = (self.sim_endpoint(actor, number, account_ref) if sim
                        else self._controllable(actor, number, account_ref))
            for key in ("forwardAlways", "forwardBusy", "forwardNoAnswer", "forwardDnd"):
                target = settings.get(key)
                if target and normalise(target) not in ("voicemail",) and self.endpoint(endpoint.account_id, target) is None:
                    raise Invalid("InvalidDestination", f"{key} destination {target} is not a dialable number")
                if target and normalise(target) == endpoint.number:
                    raise Invalid("InvalidDestination", f"{key} cannot point an endpoint at itself")
            self._save_settings(uow, endpoint, settings, profile)
            return self.endpoint_view(endpoint)

    def _dial_target(self, account_id: str, destination: Any) -> Endpoint:
        if not isinstance(destination, str) or not is_dialable(destination):
            raise Invalid("InvalidDestination", "a destination is a dialable number (digits, *, #, +)")
        target = self.endpoint(account_id, destination)
        if target is None:
            raise Invalid("DestinationNotObtainable", f"{destination} is not a number this PBX can reach")
        return target

    async def originate(self, actor: Principal, number: str, to: str, *, from_number: str | None = None,
                        from_name: str | None = None, timeout: float | None = None, record: bool = False,
                        associated_leg: str | None = None, bridge_on_answer: bool = False,
                        success_url: str | None = None, failure_url: str | None = None) -> dict[str, Any]:
        """Make a call from ``number``: its phone goes off-hook (leg connected, cause newCall, outbound) and
        dials ``to``."""
        async with self._write() as uow:
            endpoint = self._controllable(actor, number)
            if endpoint.kind != EXTENSION:
                raise Invalid("UnsupportedEndpoint", f"endpoint {number} cannot place calls")
            if from_number is not None and normalise(from_number) not in (endpoint.number, *[
                    normalise(t.get("number", "")) for t in endpoint.terminals if t.get("number")]):
                raise Invalid("InvalidFrom", f"from {from_number} is not a number registered to endpoint {number}")
            target = self._dial_target(endpoint.account_id, to)
            if target is endpoint:
                raise Invalid("InvalidDestination", "an endpoint cannot call itself")
            if self.settings(endpoint)["outOfService"]:
                raise Conflict("EndpointOutOfService", f"endpoint {number} is out of service")
            associated = None
            if associated_leg is not None:
                associated = self._leg(endpoint, associated_leg)
                if associated.state not in ("connected", "held"):
                    raise Conflict("InvalidCallState", f"call {associated_leg} is {associated.state}; it must be "
                                   "connected or held to be associated")
            elif bridge_on_answer:
                raise Invalid("InvalidArgs", "executeOnAnswer=bridge needs associatedCallId")
            if associated is not None and associated.state == "connected":
                self._set(uow, associated, state="held")
            call = self._new_call(endpoint.account_id)
            leg = self._add_leg(uow, call, endpoint, direction="outbound", state="connected", cause="newCall",
                                from_number=endpoint.number, from_name=from_name or endpoint.name,
                                from_principal=endpoint.principal_id, to_number=normalise(to),
                                to_name=target.name, to_principal=target.principal_id)
            leg.origin = {"record": bool(record)}
            if success_url or failure_url:
                leg.origin["callbacks"] = (success_url, failure_url or success_url)
            if associated is not None:
                leg.consult_for = associated
                if bridge_on_answer:
                    leg.origin["bridge_with"] = associated
            if timeout:
                leg.origin["timer"] = self.scheduler.after(timeout, self._originate_timeout(leg),
                                                           f"originate-timeout {leg.leg_id}")
            self._offer(uow, call, leg, target, "newCall", dialled=normalise(to))
            return self.snapshot(leg)

    def _originate_timeout(self, leg: Leg) -> Callable[[], Any]:
        async def fire() -> None:
            async with self._write() as uow:
                if leg.state != "completed" and leg.answered_on is None:
                    self._hangup(uow, leg, "callNotAnswer")
        return fire

    async def inbound(self, actor: Principal, from_number: str, to: str, *, from_name: str = "",
                      account_ref: str | None = None, priority: int = 0, skill: str | None = None) -> dict[str, Any]:
        """The simulator: an outside caller (through the trunk) dials an extension, group or DID."""
        if not is_external(from_number):
            raise Invalid("InvalidFrom", "from is an outside number: 7 to 15 digits, optionally with a leading +")
        async with self._write() as uow:
            account_id = self._account_of(actor, account_ref)
            known = self.endpoint(account_id, from_number)
            if known is not None and known.kind != EXTERNAL:  # an extension, or a DID the account owns
                raise Invalid("InvalidFrom", f"{from_number} is a number of this account, not an outside number")
            target = self._dial_target(account_id, to)
            if target.kind == EXTERNAL:
                raise Invalid("InvalidDestination", f"{to} is not a number of this account")
            caller_ep = self.endpoint(account_id, from_number)
            assert caller_ep is not None
            caller_ep.name = from_name or caller_ep.name
            call = self._new_call(account_id)
            call.priority = priority
            call.skill = skill
            caller = self._add_leg(uow, call, caller_ep, direction="outbound", state="connected", cause="newCall",
                                   from_number=caller_ep.number, from_name=caller_ep.name,
                                   to_number=normalise(to), to_name=target.name, to_principal=target.principal_id)
            self._offer(uow, call, caller, target, "newCall", dialled=normalise(to))
            return self.snapshot(caller)

    async def act(self, actor: Principal, number: str, leg_id: str, action: str, args: Any = None,
                  *, terminal: str | None = None, sim: bool = False, account_ref: str | None = None) -> dict[str, Any]:
        """One call-control action on the leg ``leg_id`` of endpoint ``number``. Returns the affected leg
        (for ``consult``, the new consultation leg)."""
        handler = self._actions.get(action)
        if handler is None:
            raise Invalid("InvalidAction", f"unknown action {action!r}")
        async with self._write() as uow:
            endpoint = (self.sim_endpoint(actor, number, account_ref) if sim
                        else self._controllable(actor, number))
            leg = self._leg(endpoint, leg_id)
            result = handler(self, uow, leg, args, terminal)
            return self.snapshot(result or leg)

    # ------------------------------------------------------------------ the actions
    def _require(self, leg: Leg, *states: str, action: str) -> None:
        if leg.state not in states:
            raise Conflict("InvalidCallState", f"cannot {action} call {leg.leg_id}: it is {leg.state}, "
                           f"and {action} needs it {' or '.join(states)}")

    def _answer(self, uow: UnitOfWork, leg: Leg, args: Any, terminal: str | None) -> None:
        self._require(leg, "ringing", action="answer")
        if terminal is not None and terminal not in [t["deviceId"] for t in leg.endpoint.terminals]:
            raise Invalid("InvalidDevice", f"{terminal} is not a device of endpoint {leg.endpoint.number}")
        for other in leg.endpoint.legs:
            if other is not leg and other.state == "connected":
                self._set(uow, other, state="held")  # answering a waiting call holds the current one
        self._connect(uow, leg, terminal)

    def _end(self, uow: UnitOfWork, leg: Leg, args: Any, terminal: str | None) -> None:
        self._require(leg, "ringing", "connected", "held", action="end")
        if leg.state == "ringing" and leg.direction == "inbound" and not leg.queue_id:
            # Rejecting a ringing call: the caller meets this endpoint's busy handling.
            call = leg.call
            assert call is not None
            callers = self._partner(leg)
            self._complete(uow, leg, "busy")
            if callers and len(callers) == 1 and callers[0].answered_on is None:
                self._busy(uow, call, callers[0], leg.endpoint, 0)
            else:
                self._settle(uow, call)
            return
        self._hangup(uow, leg, "busy" if leg.state == "ringing" else None)

    def _hold(self, uow: UnitOfWork, leg: Leg, args: Any, terminal: str | None) -> None:
        self._require(leg, "connected", action="hold")
        self._set(uow, leg, state="held")

    def _retrieve(self, uow: UnitOfWork, leg: Leg, args: Any, terminal: str | None) -> None:
        self._require(leg, "held", action="retrieve")
        for other in leg.endpoint.legs:
            if other is not leg and other.state == "connected" and other.call is not leg.call:
                self._set(uow, other, state="held")  # swap: the other call goes on hold
        self._set(uow, leg, state="connected")

    def _redirect(self, uow: UnitOfWork, leg: Leg, destination: Any, terminal: str | None) -> None:
        self._require(leg, "ringing", action="redirect")
        if leg.direction != "inbound":
            raise Conflict("InvalidCallState", "only an incoming ringing call can be redirected")
        target = self._dial_target(leg.account_id, destination)
        callers = self._partner(leg)
        if not callers:
            raise Conflict("InvalidCallState", "the caller has already gone")
        if target is leg.endpoint:
            raise Invalid("InvalidDestination", "a call cannot be redirected to the endpoint it rings on")
        call = leg.call
        assert call is not None
        if leg.queue_id:
            self.acd.leave_queue(uow, leg)
        self._complete(uow, leg, "redirected")
        self._offer(uow, call, callers[0], target, "redirected", dialled=normalise(destination))

    def _blind_transfer(self, uow: UnitOfWork, leg: Leg, destination: Any, terminal: str | None) -> None:
        if leg.state == "ringing":
            return self._redirect(uow, leg, destination, terminal)
        self._require(leg, "connected", "held", action="blindTransfer")
        target = self._dial_target(leg.account_id, destination)
        partners = self._partner(leg)
        if len(partners) != 1:
            raise Conflict("InvalidCallState", "only a two-party call can be transferred "
                           f"(call {leg.leg_id} has {len(partners)} other parties)")
        partner = partners[0]
        if target is leg.endpoint or target is partner.endpoint:
            raise Invalid("InvalidDestination", "a call cannot be transferred to a party already in it")
        call = leg.call
        assert call is not None
        self._complete(uow, leg, "transfer")
        self._set(uow, partner, state="connected" if partner.state == "held" else None, cause="transfer")
        self._offer(uow, call, partner, target, "transfer", dialled=normalise(destination))
        return None

    def _consult(self, uow: UnitOfWork, leg: Leg, destination: Any, terminal: str | None) -> Leg:
        self._require(leg, "connected", "held", action="consult")
        target = self._dial_target(leg.account_id, destination)
        if target is leg.endpoint:
            raise Invalid("InvalidDestination", "an endpoint cannot consult itself")
        if any(other.consult_for is leg and other.state != "completed" for other in leg.endpoint.legs):
            raise Conflict("InvalidCallState", f"call {leg.leg_id} already has a consultation call")
        if leg.state == "connected":
            self._set(uow, leg, state="held")
        endpoint = leg.endpoint
        call = self._new_call(endpoint.account_id)
        consult = self._add_leg(uow, call, endpoint, direction="outbound", state="connected", cause="newCall",
                                from_number=endpoint.number, from_name=endpoint.name,
                                from_principal=endpoint.principal_id, to_number=normalise(destination),
                                to_name=target.name, to_principal=target.principal_id)
        consult.consult_for = leg
        self._offer(uow, call, consult, target, "newCall", dialled=normalise(destination))
        return consult

    def _pair(self, leg: Leg, other_id: Any, action: str) -> tuple[Leg, Leg]:
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
            other = self.legs.get((leg.account_id, other_id))
            if other is None or other.endpoint is not endpoint:
                raise NotFound("CallNotFound", f"call {other_id} was not found on endpoint {endpoint.number}")
        if other is leg or other.call is leg.call:
            raise Invalid("InvalidArgs", f"{action} joins two different calls of the endpoint")
        held, consult = (other, leg) if other.state == "held" else (leg, other)
        if held.state != "held":
            raise Conflict("InvalidCallState", f"{action} needs one of the two calls on hold")
        if consult.state not in ("connected", "held"):
            raise Conflict("InvalidCallState", f"call {consult.leg_id} is {consult.state}")
        for one in (held, consult):
            if not self._partner(one):
                raise Conflict("InvalidCallState", f"call {one.leg_id} has no other party")
        held_parties = {other.endpoint.key for other in self._partner(held)}
        if any(other.endpoint.key in held_parties for other in self._partner(consult)):
            raise Conflict("InvalidCallState", f"{action}: the two calls already share a party")
        return held, consult

    def _supervised_transfer(self, uow: UnitOfWork, leg: Leg, args: Any, terminal: str | None) -> Leg:
        held, consult = self._pair(leg, args, "supervisedTransfer")
        if len(self._partner(held)) != 1 or len(self._partner(consult)) != 1:
            raise Conflict("InvalidCallState", "a supervised transfer joins two two-party calls")
        return self._join(uow, held=held, consult=consult)

    def _join(self, uow: UnitOfWork, held: Leg, consult: Leg) -> Leg:
        """The transferor drops: the held call's party is joined with the consulted party."""
        target_call = held.call
        moving_call = consult.call
        assert target_call is not None and moving_call is not None
        kept = self._partner(held)[0]
        moving = self._partner(consult)
        self._complete(uow, consult, "transfer")
        self._complete(uow, held, "transfer")
        self._move(moving, moving_call, target_call)
        if moving_call.recording and not target_call.recording:
            target_call.recording, moving_call.recording = moving_call.recording, None
        self._finish_call(uow, moving_call)
        for other in moving:
            self._now_talks_to(other, kept)
            if other.state == "held":
                other.state = "connected"
            other.cause = "transfer"
            self._emit(uow, other)
        self._now_talks_to(kept, moving[0])
        kept.state = "connected" if kept.state == "held" else kept.state
        kept.cause = "transfer"
        if moving[0].answered_on is not None:
            self._answered(uow, kept)
        self._emit(uow, kept)
        return kept

    def _move(self, legs: list[Leg], source: Call, target: Call) -> None:
        """Legs change calls (transfer, conference); ``source`` remembers them as parties for its recording."""
        for other in legs:
            self._note_party(source, other)
            source.legs.remove(other)
            other.call = target
            target.legs.append(other)

    def _now_talks_to(self, leg: Leg, party: Leg) -> None:
        """``leg``'s remote side becomes ``party`` (after a transfer): from for inbound, to for outbound."""
        number, name, principal_id = self._presented(party)
        if leg.direction == "inbound":
            leg.from_number, leg.from_name, leg.from_principal = number, name, principal_id
        else:
            leg.to_number, leg.to_name, leg.to_principal = number, name, principal_id

    def _conference(self, uow: UnitOfWork, leg: Leg, args: Any, terminal: str | None) -> Leg:
        held, consult = self._pair(leg, args, "conference")
        target_call = held.call
        moving_call = consult.call
        assert target_call is not None and moving_call is not None
        moving = self._partner(consult)
        self._complete(uow, consult, "transfer")
        self._move(moving, moving_call, target_call)
        self._finish_call(uow, moving_call)
        self._set(uow, held, state="connected")
        for other in moving:
            self._emit(uow, other)
        return held

    def _dtmf(self, uow: UnitOfWork, leg: Leg, digits: Any, terminal: str | None) -> None:
        self._require(leg, "connected", action="dtmf")
        if not isinstance(digits, str) or not DTMF.match(digits):
            raise Invalid("InvalidArgs", "dtmf args are 1 to 64 digits from 0-9, *, #, A-D")
        leg.dtmf += digits.upper()
        call = leg.call
        assert call is not None
        call.seq += 1
        uow.emit("call.dtmf", leg.account_id, f"/endpoints/{leg.endpoint.number}/calls/{leg.leg_id}",
                 {**_jsonable(self.snapshot(leg)), "digits": digits.upper()}, self.rt.now_iso())

    # ------------------------------------------------------------------ recording
    def _start_recording(self, call: Call) -> None:
        now = self.now()
        call.recording = Recording(started_on=now, running_since=now)

    def _stop_recording(self, uow: UnitOfWork, call: Call) -> None:
        recording = call.recording
        if recording is None:
            return
        call.recording = None
        if recording.running_since is not None:
            recording.seconds += _seconds(recording.running_since, self.now())
        principals = recording.principal_ids | {
            leg.endpoint.principal_id for leg in call.live_legs() if leg.endpoint.principal_id}
        label = json.dumps(recording.tags, sort_keys=True) if recording.tags else None
        self.recordings.create(uow, account_id=call.account_id, call_id=call.call_id,
                               started_on=iso(recording.started_on), seconds=recording.seconds,
                               principal_ids=sorted(principals), label=label)

    def _note_party(self, call: Call, leg: Leg) -> None:
        """``leg`` leaves ``call``: if it talked while the call was recorded, it is one of the recording's
        parties (who may read it besides the account's admins)."""
        if call.recording is not None and leg.answered_on is not None and leg.endpoint.principal_id:
            call.recording.principal_ids.add(leg.endpoint.principal_id)

    def _recording_of(self, leg: Leg, action: str) -> Recording:
        if leg.call is None or leg.call.recording is None:
            raise Conflict("NotRecording", f"cannot {action}: call {leg.leg_id} is not being recorded")
        return leg.call.recording

    def _record_control(self, uow: UnitOfWork, leg: Leg, action: str) -> None:
        self._require(leg, "connected", "held", action=action)
        call = leg.call
        assert call is not None
        now = self.now()
        if action == "startRecording":
            if call.recording is not None:
                raise Conflict("AlreadyRecording", f"call {leg.leg_id} is already being recorded")
            self._start_recording(call)
        elif action == "stopRecording":
            self._recording_of(leg, action)
            self._stop_recording(uow, call)
        elif action == "pauseRecording":
            recording = self._recording_of(leg, action)
            if recording.paused:
                raise Conflict("RecordingPaused", "the recording is already paused")
            recording.seconds += _seconds(recording.running_since, now)
            recording.running_since = None
        elif action == "resumeRecording":
            recording = self._recording_of(leg, action)
            if not recording.paused:
                raise Conflict("RecordingNotPaused", "the recording is not paused")
            recording.running_since = now
        self._emit(uow, leg)

    def _tag_recording(self, uow: UnitOfWork, leg: Leg, args: Any, terminal: str | None) -> None:
        self._require(leg, "connected", "held", action="tagRecording")
        try:
            tags = json.loads(args) if isinstance(args, str) else args
        except ValueError:
            tags = None
        if not isinstance(tags, dict) or not tags:
            raise Invalid("InvalidArgs", 'tagRecording args are a JSON object, e.g. {"CustomP100": "Queue Name"}')
        self._recording_of(leg, "tagRecording").tags.update(tags)
        self._emit(uow, leg)

    # ------------------------------------------------------------------ park and pickup
    def _park(self, uow: UnitOfWork, leg: Leg, args: Any, terminal: str | None) -> None:
        self._require(leg, "connected", "held", action="park")
        partners = self._partner(leg)
        if len(partners) != 1:
            raise Conflict("InvalidCallState", "only a two-party call can be parked")
        call = leg.call
        assert call is not None
        orbit = str(args) if args else leg.endpoint.number
        if any(c.queue_id == f"park:{orbit}" for c in self.calls.values() if c.account_id == leg.account_id):
            raise Conflict("OrbitInUse", f"park orbit {orbit} already holds a call")
        call.queue_id = f"park:{orbit}"
        self.acd.parked.add(call.call_id)
        self._complete(uow, leg, "transfer")
        self._set(uow, partners[0], state="held")

    _actions: dict[str, Callable[..., Any]] = {}


def _jsonable(snapshot: dict[str, Any]) -> dict[str, Any]:
    return {k: (iso(v) if isinstance(v, datetime) else v) for k, v in snapshot.items()}


Engine._actions = {
    "answer": Engine._answer, "end": Engine._end, "hold": Engine._hold, "retrieve": Engine._retrieve,
    "redirect": Engine._redirect, "blindTransfer": Engine._blind_transfer, "consult": Engine._consult,
    "supervisedTransfer": Engine._supervised_transfer, "conference": Engine._conference, "dtmf": Engine._dtmf,
    "pauseRecording": lambda self, uow, leg, args, t: self._record_control(uow, leg, "pauseRecording"),
    "resumeRecording": lambda self, uow, leg, args, t: self._record_control(uow, leg, "resumeRecording"),
    "startRecording": lambda self, uow, leg, args, t: self._record_control(uow, leg, "startRecording"),
    "stopRecording": lambda self, uow, leg, args, t: self._record_control(uow, leg, "stopRecording"),
    "tagRecording": Engine._tag_recording, "park": Engine._park,
}
ACTIONS = tuple(Engine._actions)
