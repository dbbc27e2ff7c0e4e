"""Routing and diversion: presenting a call to an endpoint with that endpoint's rules.

* An extension rings, unless it is out of service (forward when unreachable, else turned away), forwards
  always (or to its active diversion number), is on DND (forward, voicemail or turned away), is in a call and
  forwards when busy in a call, or is busy without call waiting (forward on busy, voicemail or busy).
* A ringing extension that is not answered within ``noAnswerSeconds`` forwards on no answer or goes to
  voicemail; otherwise it rings on until the caller gives up.
* A group number is handed to the queue router (the contact center), which queues the call for its agents.
* Voicemail answers at once, records at most ``VOICEMAIL_MAX_SECONDS`` and, when the caller hangs up,
  deposits the message in the mailbox and lights its message-waiting lamp.
* Diversion chains stop after ``MAX_DIVERSIONS`` hops (destNotObtainable).

It also keeps the bookkeeping of Make Call requests: the far end answering, the originate timeout and the
successUrl/failureUrl callbacks.
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Awaitable, Callable

from callyard.core.engine.calls import (CallListener, CallTable, CallTransaction, partners, presented,
                                        seconds_between)
from callyard.core.engine.dialplan import is_dialable, normalise
from callyard.core.engine.endpoints import EndpointSettings
from callyard.core.engine.model import EXTENSION, EXTERNAL, GROUP, VOICEMAIL, Call, Endpoint, Leg
from callyard.core.engine.recordings import CONTENT_TYPE, synthesise_wav
from callyard.core.errors import Invalid
from callyard.core.scheduler import Scheduler

MAX_DIVERSIONS = 5
ROUTES = ("basic", "bypass", "voicemail", "camp_on", "intercom")
VOICEMAIL_MAX_SECONDS = 120


class QueueRouter(CallListener, ABC):
    """Where calls to a group number go (the contact center). It also follows legs and calls as a
    call listener."""

    @abstractmethod
    def enqueue(self, tx: CallTransaction, call: Call, caller: Leg, group: Endpoint, cause: str) -> Leg:
        """Queue ``call`` (whose waiting party is ``caller``) for the group's agents."""

    @abstractmethod
    def offer_answered(self, tx: CallTransaction, leg: Leg) -> None:
        """An agent answered the queue offer ``leg``."""

    @abstractmethod
    def offer_redirected(self, tx: CallTransaction, leg: Leg) -> None:
        """The queue offer ``leg`` redirects the call elsewhere (``leg`` is completed by the caller)."""

    @abstractmethod
    def offer_not_answered(self, tx: CallTransaction, leg: Leg) -> None:
        """The queue offer ``leg`` rang out (ring-no-answer)."""


class Routing(CallListener):
    def __init__(self, table: CallTable, settings: EndpointSettings, scheduler: Scheduler) -> None:
        self.table = table
        self.settings = settings
        self.scheduler = scheduler
        self.rt = table.rt
        self.queues: QueueRouter | None = None

    def dial_target(self, account_id: str, destination: object) -> Endpoint:
        """The endpoint a dialled ``destination`` reaches, or InvalidDestination/DestinationNotObtainable."""
        if not isinstance(destination, str) or not is_dialable(destination):
            raise Invalid("InvalidDestination", "a destination is a dialable number (digits, *, #, +)")
        target = self.table.endpoint(account_id, destination)
        if target is None:
            raise Invalid("DestinationNotObtainable", f"{destination} is not a number this PBX can reach")
        return target

    # ------------------------------------------------------------------ offering a call to an endpoint
    def offer(self, tx: CallTransaction, call: Call, caller: Leg, target: Endpoint, cause: str, depth: int = 0,
              dialled: str | None = None, sent_by: Endpoint | None = None, route: str = "basic") -> Leg | None:
        """Present ``call`` (whose waiting party is ``caller``) to ``target``, applying its diversions. Returns
        the ringing (or voicemail/queue) leg, or None when the caller was turned away (its leg completed).
        ``sent_by``: the extension that transferred or redirected the call here (whose mailbox takes a message
        when ``target`` is the voicemail system). ``route`` (one of ``ROUTES``): ``bypass`` ignores an
        extension's forwarding and DND, ``voicemail`` goes straight to its mailbox, ``camp_on`` rings a busy
        extension anyway (as call waiting does), ``intercom`` is answered by the extension at once."""
        if route not in ROUTES:
            raise Invalid("InvalidRoute", f"route is one of {', '.join(ROUTES)}")
        number, name, principal_id = presented(caller)
        if any(leg.endpoint is target for leg in call.live_legs()):
            self.fail(tx, caller, "busy")  # already in this call: a device never talks to itself
            return None
        if depth > MAX_DIVERSIONS:
            self.fail(tx, caller, "destNotObtainable")
            return None
        if target.kind == GROUP:
            if self.queues is None:
                self.fail(tx, caller, "destNotObtainable")
                return None
            return self.queues.enqueue(tx, call, caller, target, cause)
        if target.kind == VOICEMAIL:
            return self.to_voicemail(tx, call, caller, self._mailbox_for(caller, target, sent_by), cause)
        if target.kind == EXTENSION and route == "voicemail":
            return self.to_voicemail(tx, call, caller, target, cause)
        if target.kind == EXTENSION:
            settings = self.settings.settings(target)
            if settings["outOfService"]:
                if settings["forwardUnreachable"]:   # the UC CFWD_UNREACHABLE rules
                    return self.divert(tx, call, caller, target, settings["forwardUnreachable"], "callForward",
                                       depth)
                self.fail(tx, caller, "destNotObtainable")
                return None
            if route == "bypass":
                pass   # diversion bypass: the extension rings whatever its forwarding and DND say
            elif settings["forwardAlways"]:
                return self.divert(tx, call, caller, target, settings["forwardAlways"], "callForwardAlways", depth)
            elif settings["forwardActivity"]:   # the UC active diversion number (set by hand or by the activity)
                return self.divert(tx, call, caller, target, settings["forwardActivity"], "callForward", depth)
            if settings["dnd"]:
                if settings["forwardDnd"]:
                    return self.divert(tx, call, caller, target, settings["forwardDnd"], "doNotDisturb", depth)
                if settings["voicemail"]:
                    return self.to_voicemail(tx, call, caller, target, "doNotDisturb")
                self.fail(tx, caller, "doNotDisturb")
                return None
            if target.in_call() and settings["forwardBusyInCall"] and route not in ("camp_on", "bypass"):
                # the UC CFWD_ON_BUSY_IN_CALL rules: in a call (even with call waiting) forwards
                return self.divert(tx, call, caller, target, settings["forwardBusyInCall"], "callForwardBusy", depth)
            if target.in_call() and not settings["callWaiting"] and route not in ("camp_on", "bypass"):
                return self.busy(tx, call, caller, target, depth)
        elif target.kind == EXTERNAL and target.in_call():
            self.fail(tx, caller, "busy")
            return None
        intercom = target.kind == EXTENSION and route == "intercom" and not target.in_call()
        leg = self.table.add_leg(tx, call, target, direction="inbound", state="ringing", cause=cause,
                                 from_number=number, from_name=name, from_principal=principal_id,
                                 to_number=dialled or target.number, to_name=target.name,
                                 to_principal=target.principal_id)
        caller.to_number = target.number
        caller.to_name = target.name
        caller.to_principal = target.principal_id
        if intercom:
            leg.answered_on = self.table.now()   # an intercom call is answered by the phone's speaker at once
            leg.terminal = target.terminals[0]["deviceId"] if target.terminals else None
            self.table.set_state(tx, leg, state="connected")
            self.answered(tx, caller)
        elif target.kind == EXTENSION:
            self.arm_no_answer(leg, float(self.settings.settings(target)["noAnswerSeconds"]), "no-answer")
        return leg

    def busy(self, tx: CallTransaction, call: Call, caller: Leg, target: Endpoint, depth: int) -> Leg | None:
        """``target`` is busy (or rejected the call): forward on busy, voicemail, or the caller hears busy."""
        settings = self.settings.settings(target)
        if settings["forwardBusy"]:
            return self.divert(tx, call, caller, target, settings["forwardBusy"], "callForwardBusy", depth)
        if settings["voicemail"] and target.kind == EXTENSION:
            return self.to_voicemail(tx, call, caller, target, "busy")
        self.fail(tx, caller, "busy")
        return None

    def divert(self, tx: CallTransaction, call: Call, caller: Leg, source: Endpoint, destination: str, cause: str,
               depth: int) -> Leg | None:
        """Send the call on from ``source`` to ``destination`` (a number, or ``voicemail``)."""
        if normalise(destination) in ("voicemail", self.table.dialplan.voicemail_pilot(source.account_id)):
            return self.to_voicemail(tx, call, caller, source if source.kind in (EXTENSION, GROUP) else None, cause)
        target = self.table.endpoint(source.account_id, destination)
        if target is None:
            self.fail(tx, caller, "destNotObtainable")
            return None
        return self.offer(tx, call, caller, target, cause, depth + 1)

    def fail(self, tx: CallTransaction, caller: Leg, cause: str) -> None:
        """The caller is turned away (busy, DND, unobtainable): its leg ends with the cause."""
        self.table.hang_up(tx, caller, cause)

    # ------------------------------------------------------------------ ring no answer
    def arm_no_answer(self, leg: Leg, seconds: float, label: str) -> None:
        """Ring ``leg`` for at most ``seconds``; then its no-answer handling runs (for a queue offer, the
        contact center's ring-no-answer)."""
        leg.timer = self.scheduler.after(seconds, self.table.on_timer(leg, self.no_answer), f"{label} {leg.leg_id}")

    def no_answer(self, tx: CallTransaction, leg: Leg) -> None:
        if leg.state != "ringing":
            return
        call = leg.call
        assert call is not None
        callers = [other for other in partners(leg) if other.state != "ringing"]
        if leg.queue_id and self.queues is not None:
            self.queues.offer_not_answered(tx, leg)
            return
        settings = self.settings.settings(leg.endpoint)
        caller = callers[0] if callers else None
        if caller is None:
            self.table.hang_up(tx, leg, "callNotAnswer")
            return
        if len(callers) > 1:
            self.table.complete(tx, leg, "callNotAnswer")  # added to a conference and not answering: just stop
        elif settings["forwardNoAnswer"]:
            self.table.complete(tx, leg, "callForwardNoAnswer")
            self.divert(tx, call, caller, leg.endpoint, settings["forwardNoAnswer"], "callForwardNoAnswer", 0)
        elif settings["voicemail"] and leg.endpoint.kind == EXTENSION:
            self.table.complete(tx, leg, "callNotAnswer")
            self.to_voicemail(tx, call, caller, leg.endpoint, "callNotAnswer")
        # otherwise it rings on until the caller gives up, as an unforwarded phone does

    # ------------------------------------------------------------------ queue offers
    def offer_answered(self, tx: CallTransaction, leg: Leg) -> None:
        if leg.queue_id and self.queues is not None:
            self.queues.offer_answered(tx, leg)

    def offer_redirected(self, tx: CallTransaction, leg: Leg) -> None:
        if leg.queue_id and self.queues is not None:
            self.queues.offer_redirected(tx, leg)

    # ------------------------------------------------------------------ voicemail
    @staticmethod
    def _mailbox_for(caller: Leg, system: Endpoint, sent_by: Endpoint | None) -> Endpoint | None:
        """Whose mailbox a call that reaches the voicemail system directly leaves its message in: the extension
        that transferred or redirected it there; for a caller who dialled the pilot, the pilot's general
        mailbox — except an extension dialling it, which is its user checking messages (no deposit)."""
        if sent_by is not None and sent_by.kind == EXTENSION:
            return sent_by
        if caller.endpoint.kind == EXTENSION:
            return caller.endpoint
        return system

    def to_voicemail(self, tx: CallTransaction, call: Call, caller: Leg, mailbox: Endpoint | None,
                     cause: str) -> Leg | None:
        """The voicemail system answers ``call``; the message goes to ``mailbox`` (None or the voicemail system
        itself: the pilot's general mailbox). A caller who dialled their own mailbox is listening, not
        leaving a message."""
        pilot = self.table.dialplan.voicemail_pilot(caller.account_id)
        system = self.table.endpoint(caller.account_id, pilot)
        assert system is not None and system.kind == VOICEMAIL
        if any(leg.endpoint is system for leg in call.live_legs()):
            self.fail(tx, caller, "busy")
            return None
        if mailbox is None:
            mailbox = system
        # The caller's own mailbox (its user checking messages) takes no message.
        call.voicemail_box = None if mailbox is caller.endpoint else mailbox.number
        number, name, principal_id = presented(caller)
        leg = self.table.add_leg(tx, call, system, direction="inbound", state="connected", cause=cause,
                                 from_number=number, from_name=name, from_principal=principal_id,
                                 to_number=mailbox.number if mailbox else pilot, to_name="Voicemail")
        self.answered(tx, caller)
        leg.timer = self.scheduler.after(VOICEMAIL_MAX_SECONDS, self.table.on_timer(leg, self.table.hang_up),
                                         f"voicemail {leg.leg_id}")
        return leg

    def _deposit_voicemail(self, tx: CallTransaction, call: Call, leg: Leg) -> None:
        box = call.voicemail_box
        call.voicemail_box = None
        mailbox = self.table.endpoints.get((call.account_id, box or ""))
        if mailbox is None:
            return
        seconds = seconds_between(leg.answered_on, leg.ended_on)
        message_id = self.rt.ids.uuid()
        blob_id = f"voicemail:{message_id}"
        uow = tx.uow
        uow.put_blob(blob_id, CONTENT_TYPE, synthesise_wav(seconds))
        doc = {"voicemailId": message_id, "accountId": call.account_id, "endpointId": mailbox.number,
               "userId": mailbox.user_id, "from": leg.from_number, "fromName": leg.from_name,
               "createdOn": self.rt.now_iso(), "durationInSeconds": seconds, "contentType": CONTENT_TYPE,
               "blobId": blob_id, "heard": False, "callId": call.call_id, "reason": leg.cause}
        uow.put("voicemail", message_id, doc)
        uow.emit("voicemail.created", call.account_id, f"/endpoints/{mailbox.number}/voicemails/{message_id}",
                 {k: v for k, v in doc.items() if k != "blobId"}, self.rt.now_iso())
        if mailbox.kind == EXTENSION and not self.settings.settings(mailbox)["messageWaiting"]:
            self.settings.save(uow, mailbox, {"messageWaiting": True})

    # ------------------------------------------------------------------ answer bookkeeping, Make Call
    def answered(self, tx: CallTransaction, leg: Leg) -> None:
        """The far end answered ``leg``'s call: its talk time starts (its state was already connected)."""
        if leg.answered_on is None:
            leg.answered_on = self.table.now()
            timer = leg.origin.pop("timer", None)
            if timer is not None:
                timer.cancel()
            self.table.emit_state(tx, leg)
            self._originate_result(tx, leg, success=True)

    def _originate_result(self, tx: CallTransaction, leg: Leg, success: bool) -> None:
        """A Make Call request's successUrl/failureUrl callback is due (delivery/callbacks.py posts it)."""
        callbacks = leg.origin.pop("callbacks", None)
        if not callbacks or not callbacks[0 if success else 1]:
            return
        tx.uow.emit("call.originate.result", leg.account_id, f"/endpoints/{leg.endpoint.number}/calls/{leg.leg_id}",
                    {"url": callbacks[0 if success else 1], "success": success,
                     "call": self.table.event_snapshot(leg)}, self.rt.now_iso())

    def originate_timeout(self, leg: Leg) -> Callable[[], Awaitable[None]]:
        """A scheduler callback: a Make Call still unanswered gives up (callNotAnswer)."""
        async def fire() -> None:
            async with self.table.transaction() as tx:
                if leg.state != "completed" and leg.answered_on is None:
                    self.table.hang_up(tx, leg, "callNotAnswer")
        return fire

    # ------------------------------------------------------------------ call listener
    def leg_ended(self, tx: CallTransaction, leg: Leg) -> None:
        if leg.answered_on is None:
            self._originate_result(tx, leg, success=False)
        call = leg.call
        if leg.endpoint.kind == VOICEMAIL and call is not None and call.voicemail_box:
            self._deposit_voicemail(tx, call, leg)
