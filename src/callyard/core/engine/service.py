"""The PBX engine: call control over endpoints, legs and calls, with the rules of a real PBX.

Every public operation validates first and only then changes the live objects, inside one write
transaction, so a rejected action changes nothing. Every leg state change emits exactly one ``call.state``
event carrying the call's next sequence number; voicemail and recordings are written in the same transaction
as the change that produced them, and so are the call records, a projection of the ``call.state`` events
(history.py).

:class:`Engine` is the package's public façade. Its parts talk through public functions:

* ``calls`` — the call table (legs, calls, transactions, events, snapshots);
* ``routing`` — offering a call to an endpoint: diversions, busy, voicemail, no-answer timers;
* ``features`` — hold, retrieve, transfers, consult, conference, park, DTMF;
* ``call_recording`` — the recording of a call (the stored recordings are ``recordings``);
* ``endpoints`` — endpoint settings and views.

The façades (Media today; UC and CX later) call the named verbs (``answer``, ``hold``,
``blind_transfer``, …) with a ``Principal`` and render the plain dictionaries of ``snapshot()`` /
``endpoint_view()`` in their own wire shapes. The contact center (``callyard.core.contact_center``) attaches
itself as the engine's queue router.
"""
from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any, Mapping

from callyard.core.directory.access import Access
from callyard.core.engine.call_recording import CallRecording
from callyard.core.engine.calls import CallTable, CallTransaction, partners, state_token
from callyard.core.engine.dialplan import DialPlan, is_external, normalise
from callyard.core.engine.endpoints import EndpointSettings
from callyard.core.engine.features import Features
from callyard.core.engine.line_states import LineStates
from callyard.core.engine.lines import Lines
from callyard.core.engine.model import AVAILABILITY, EXTENSION, EXTERNAL, GROUP, Call, Endpoint, Leg
from callyard.core.engine.recordings import Recordings
from callyard.core.engine.routing import QueueRouter, Routing
from callyard.core.engine.terminals import find_terminal
from callyard.core.errors import Conflict, Forbidden, Invalid, NotFound
from callyard.core.principal import Principal
from callyard.core.runtime import Runtime
from callyard.core.scheduler import Scheduler
from callyard.core.state import UnitOfWork
from callyard.events.event import Event

SETTING_TYPES: dict[str, Any] = {
    "dnd": bool, "messageWaiting": bool, "pstnRouting": bool, "outOfService": bool, "callWaiting": bool,
    "voicemail": bool, "userAvailability": str, "forwardAlways": (str, type(None)),
    "forwardBusy": (str, type(None)), "forwardNoAnswer": (str, type(None)), "forwardDnd": (str, type(None)),
    "noAnswerSeconds": (int, float), "forwardBusyInCall": (str, type(None)),
    "forwardUnreachable": (str, type(None)), "forwardActivity": (str, type(None)), "forwardActivityScoped": bool}
FORWARDS = ("forwardAlways", "forwardBusy", "forwardNoAnswer", "forwardDnd", "forwardBusyInCall",
            "forwardUnreachable", "forwardActivity")

# What a phone's user means by a key press, and the leg states it looks for, in order of preference:
# the ringing call to answer or reject (``busy``), the talking one to hang up or hold, the held one to
# retrieve. ``target_leg`` applies these for every family (the simulator today; UC and CX later).
PHONE_INTENTS: dict[str, tuple[str, ...]] = {
    "answer": ("ringing",), "hangup": ("connected", "held", "ringing"), "hold": ("connected",),
    "retrieve": ("held",), "busy": ("ringing",)}
INBOUND_ONLY_INTENTS = ("answer", "busy")

Verb = Callable[[CallTransaction, Leg], "Leg | None"]
# Work a caller adds to an engine transaction, with the resulting leg's snapshot (a UC webhook registered with
# the call it rides on): it commits, or rolls back, with the call change.
Then = Callable[[UnitOfWork, dict[str, Any]], None]


class Engine:
    def __init__(self, runtime: Runtime, access: Access, recordings: Recordings, scheduler: Scheduler) -> None:
        self.rt = runtime
        self.access = access
        self.recordings = recordings
        self.scheduler = scheduler
        self.dialplan = DialPlan(runtime.state)
        self.endpoint_settings = EndpointSettings(runtime)
        self.call_table = CallTable(runtime, self.dialplan)
        self.routing = Routing(self.call_table, self.endpoint_settings, scheduler)
        self.recording = CallRecording(self.call_table, recordings)
        self.features = Features(self.call_table, self.routing, self.recording)
        self.lines = Lines(runtime)
        self.line_states = LineStates(self.call_table, scheduler)
        for listener in (self.routing, self.recording, self.features):
            self.call_table.add_listener(listener)
        runtime.projections.after_commit("dial plan follows the directory", self._on_directory_event,
                                         events=("user.*", "group.*", "account.*"))

    def attach_queue_router(self, router: QueueRouter) -> None:
        """Calls to group numbers go to ``router`` (the contact center), which also follows legs and calls."""
        self.routing.queues = router
        self.call_table.add_listener(router)

    # ================================================================== lifecycle
    def reset(self) -> None:
        """Drop every live call (reset, snapshot import): the PBX restarts with the new configuration."""
        self.scheduler.clear()
        self.call_table.clear()
        self.dialplan.invalidate()
        self.features.reset()

    def forget_accounts(self, accounts: set[str]) -> None:
        """After the documents of ``accounts`` were replaced (their live calls hung up first): their endpoints
        and dial plans are built again from the new documents."""
        for key in [k for k, endpoint in self.call_table.endpoints.items() if k[0] in accounts and not endpoint.legs]:
            del self.call_table.endpoints[key]
        for account_id in accounts:
            self.dialplan.invalidate(account_id)

    def _on_directory_event(self, event: Event) -> None:
        if event.type.split(".")[0] in ("user", "group", "account"):
            self.dialplan.invalidate(event.account_id)

    def transaction(self) -> AbstractAsyncContextManager[CallTransaction]:
        """One engine write transaction (see ``CallTable.transaction``)."""
        return self.call_table.transaction()

    # ================================================================== the live objects
    @property
    def endpoints(self) -> dict[tuple[str, str], Endpoint]:
        return self.call_table.endpoints

    @property
    def legs(self) -> dict[tuple[str, str], Leg]:
        return self.call_table.legs

    @property
    def calls(self) -> dict[str, Call]:
        return self.call_table.calls

    # ================================================================== lookups and access
    def now(self) -> datetime:
        return self.rt.clock.now()

    def endpoint(self, account_id: str, number: str) -> Endpoint | None:
        return self.call_table.endpoint(account_id, number)

    def account_of(self, actor: Principal, account_ref: str | None) -> str:
        """The account an operation acts in: the one named (which the actor must reach), else the actor's."""
        if account_ref:
            account_id: str = self.access.account(actor, account_ref)["accountId"]
            return account_id
        if self.rt.state.get("account", actor.account_id) is None:
            raise Invalid("AccountRequired", "this caller belongs to no account; name the account")
        return actor.account_id

    def is_group_member(self, endpoint: Endpoint, user_id: str | None) -> bool:
        group = self.rt.state.get("group", endpoint.group_id or "")
        return bool(group and user_id and any(m["memberId"] == user_id for m in group.get("members", [])))

    def controllable(self, actor: Principal, number: str, account_ref: str | None = None) -> Endpoint:
        """An endpoint of the caller's account that the caller may control: their own extension, or any
        endpoint for an ACCOUNT_ADMIN, a client application or the control plane."""
        account_id = self.account_of(actor, account_ref)
        found = self.dialplan.internal(account_id, number)
        if found is None:
            endpoint = self.endpoints.get((account_id, normalise(number)))
            if endpoint is None or endpoint.kind != EXTERNAL or actor.kind != "control":
                raise NotFound("EndpointNotFound", f"endpoint {number} was not found")
        else:
            resolved = self.endpoint(account_id, number)
            assert resolved is not None
            endpoint = resolved
        if self.may_control(actor, endpoint):
            return endpoint
        raise Forbidden("InsufficientPermissions", f"the caller may not control endpoint {number}")

    def may_control(self, actor: Principal, endpoint: Endpoint) -> bool:
        """Who may read and control an endpoint's calls (REST and notifications alike): an ACCOUNT_ADMIN, a
        client application or the control plane; a user their own extension and the groups they belong to."""
        if actor.kind in ("client", "control") or actor.at_least("ACCOUNT_ADMIN"):
            return True
        if endpoint.user_id is not None and endpoint.user_id == actor.user_id:
            return True
        return bool(endpoint.kind == GROUP and endpoint.group_id and self.is_group_member(endpoint, actor.user_id))

    def may_read(self, actor: Principal, event: Event) -> bool:
        """Whether ``actor`` may read the call an engine event (``call.*``) is about: ``may_control`` of its
        endpoint, the rule of ``GET /endpoints/{id}/calls``; the publication of a leg on an endpoint that is gone
        reaches the privileged and the leg's own user."""
        if event.account_id != actor.account_id:
            return False
        data = event.data or {}
        endpoint = self.endpoint(actor.account_id, str(data.get("endpointId", "")))
        if endpoint is not None:
            return self.may_control(actor, endpoint)
        if actor.kind in ("client", "control") or actor.at_least("ACCOUNT_ADMIN"):
            return True
        return data.get("principalId") is not None and data.get("principalId") == actor.user_id

    def sim_endpoint(self, actor: Principal, number: str, account_ref: str | None = None) -> Endpoint:
        """What the simulator may act on: any endpoint of the account, external numbers included."""
        account_id = self.account_of(actor, account_ref)
        endpoint = self.endpoint(account_id, number)
        if endpoint is None:
            raise NotFound("EndpointNotFound", f"endpoint {number} was not found")
        return endpoint

    def check_tokens(self, endpoint: Endpoint, expect: Mapping[str, int] | None) -> None:
        """Optimistic locking: each leg named in ``expect`` is a live leg of ``endpoint`` whose state token is
        the one given."""
        for leg_id, token in (expect or {}).items():
            leg = self.leg_on(endpoint, leg_id)
            if state_token(leg) != token:
                raise Conflict("StateTokenMismatch", f"call {leg_id} has changed (stateToken {state_token(leg)}, "
                               f"not {token}); fetch its state and try again", value=str(token))

    def leg_on(self, endpoint: Endpoint, leg_id: str) -> Leg:
        """The live leg ``leg_id`` of ``endpoint``, or CallNotFound."""
        leg = self.call_table.leg(endpoint.account_id, leg_id)
        if leg is None or leg.endpoint is not endpoint:
            raise NotFound("CallNotFound", f"call {leg_id} was not found on endpoint {endpoint.number}")
        return leg

    def target_leg(self, endpoint: Endpoint, intent: str, call_id: str | None = None) -> str:
        """Which call a phone's user means (``intent``: one of ``PHONE_INTENTS``): ``call_id`` when given,
        else the endpoint's first leg in the first wanted state (answer and busy: an incoming one)."""
        if call_id is not None:
            return call_id
        wanted = PHONE_INTENTS[intent]
        for state in wanted:
            for leg in endpoint.legs:
                if leg.state == state and (intent not in INBOUND_ONLY_INTENTS or leg.direction == "inbound"):
                    return leg.leg_id
        raise Conflict("NoSuchCall", f"endpoint {endpoint.number} has no call to {intent} "
                       f"(needs one {' or '.join(wanted)})")

    def settings(self, endpoint: Endpoint) -> dict[str, Any]:
        return self.endpoint_settings.settings(endpoint)

    def profile(self, endpoint: Endpoint) -> dict[str, Any] | None:
        return self.endpoint_settings.profile(endpoint)

    # ================================================================== views (plain dicts for façades)
    def endpoint_state(self, endpoint: Endpoint) -> str:
        return self.endpoint_settings.state(endpoint)

    def endpoint_view(self, endpoint: Endpoint) -> dict[str, Any]:
        return self.endpoint_settings.view(endpoint)

    def snapshot(self, leg: Leg) -> dict[str, Any]:
        return self.call_table.snapshot(leg)

    def get_endpoint(self, actor: Principal, number: str) -> dict[str, Any]:
        return self.endpoint_view(self.controllable(actor, number))

    def list_calls(self, actor: Principal, number: str) -> list[dict[str, Any]]:
        endpoint = self.controllable(actor, number)
        return [self.snapshot(leg) for leg in endpoint.legs]

    def get_call(self, actor: Principal, number: str, leg_id: str) -> dict[str, Any]:
        endpoint = self.controllable(actor, number)
        return self.snapshot(self.leg_on(endpoint, leg_id))

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

    def switchboard(self, account_id: str) -> dict[str, Any]:
        """The account's PBX as an operator's switchboard sees it: every extension and group number with its
        view (state, availability, settings), the voicemail pilot, the trunk (DIDs → internal numbers, and the
        outside numbers in a call now) and the live calls as their legs (the console)."""
        endpoints = [self.endpoint(account_id, number) for number in self.dialplan.numbers(account_id)]
        views = [self.endpoint_view(e) for e in endpoints if e is not None]
        outside = sorted({e.number for e in self.endpoints.values()
                          if e.account_id == account_id and e.kind == EXTERNAL and e.legs})
        dids = {str(k): str(v) for k, v in (self.dialplan.pbx(account_id).get("dids") or {}).items()}
        return {"accountId": account_id, "extensions": [v for v in views if v["kind"] == EXTENSION],
                "groups": [v for v in views if v["kind"] == GROUP],
                "voicemail": self.dialplan.voicemail_pilot(account_id),
                "trunk": {"dids": dids, "outsideInCall": outside}, "calls": self.live_calls(account_id)}

    # ================================================================== settings
    def set_dnd(self, uow: UnitOfWork, endpoint: Endpoint, enabled: bool) -> bool:
        """DND on a user's extension inside the caller's transaction (presence keeps its ``dnd`` status and
        the extension's DND one setting). Returns whether it changed."""
        if endpoint.kind != EXTENSION or self.settings(endpoint)["dnd"] == enabled:
            return False
        self.endpoint_settings.save(uow, endpoint, {"dnd": enabled})
        return True

    async def update_endpoint(self, actor: Principal, number: str, action: str, availability: str,
                              enabled: bool) -> dict[str, Any]:
        """Media ``PUT /endpoints/{id}``: DND, message waiting or PSTN routing, plus the app's availability."""
        if availability not in AVAILABILITY:
            raise Invalid("InvalidUserAvailability", f"userAvailability must be one of {', '.join(AVAILABILITY)}")
        async with self.transaction() as tx:
            endpoint = self.controllable(actor, number)
            if endpoint.kind != EXTENSION:
                raise Invalid("UnsupportedEndpoint", f"endpoint {number} is not a user's extension")
            changes: dict[str, Any] = {action: bool(enabled)}
            if availability != "dnd":  # the swagger: "If dnd, do nothing"
                changes["userAvailability"] = availability
            self.endpoint_settings.save(tx.uow, endpoint, changes)
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
            if not isinstance(value, SETTING_TYPES[key]) or (
                    SETTING_TYPES[key] == (int, float) and isinstance(value, bool)):
                raise Invalid("InvalidSetting", f"{key} has the wrong type")
        if "userAvailability" in settings and settings["userAvailability"] not in AVAILABILITY:
            raise Invalid("InvalidSetting", f"userAvailability must be one of {', '.join(AVAILABILITY)}")
        if "noAnswerSeconds" in settings and not 1 <= settings["noAnswerSeconds"] <= 600:
            raise Invalid("InvalidSetting", "noAnswerSeconds must be between 1 and 600")
        async with self.transaction() as tx:
            endpoint = (self.sim_endpoint(actor, number, account_ref) if sim
                        else self.controllable(actor, number, account_ref))
            self.check_forwards(endpoint, settings)
            self.endpoint_settings.save(tx.uow, endpoint, settings, profile)
            return self.endpoint_view(endpoint)

    def check_forwards(self, endpoint: Endpoint, settings: Mapping[str, Any]) -> None:
        """Every forwarding destination in ``settings`` is ``voicemail`` or a number this PBX reaches, and not
        the endpoint itself (InvalidDestination otherwise)."""
        for key in FORWARDS:
            target = settings.get(key)
            if (target and normalise(target) not in ("voicemail",)
                    and self.endpoint(endpoint.account_id, target) is None):
                raise Invalid("InvalidDestination", f"{key} destination {target} is not a dialable number")
            if target and normalise(target) == endpoint.number:
                raise Invalid("InvalidDestination", f"{key} cannot point an endpoint at itself")

    def save_settings(self, uow: UnitOfWork, endpoint: Endpoint, changes: dict[str, Any]) -> None:
        """Store settings ``changes`` of ``endpoint`` inside the caller's transaction (the UC diversions and
        voicemail settings: the same settings the Media API and the simulator set)."""
        unknown = set(changes) - set(SETTING_TYPES)
        if unknown:
            raise Invalid("InvalidSetting", f"unknown endpoint settings: {', '.join(sorted(unknown))}")
        self.check_forwards(endpoint, changes)
        self.endpoint_settings.save(uow, endpoint, changes)

    # ================================================================== placing calls
    async def originate(self, actor: Principal, number: str, to: str, *, from_number: str | None = None,
                        from_name: str | None = None, timeout: float | None = None, record: bool = False,
                        associated_leg: str | None = None, bridge_on_answer: bool = False,
                        success_url: str | None = None, failure_url: str | None = None,
                        route: str = "basic", terminal: str | None = None, then: Then | None = None,
                        line: tuple[object, object] | None = None) -> dict[str, Any]:
        """Make a call from ``number``: its phone goes off-hook (leg connected, cause newCall, outbound) and
        dials ``to``. The far end sees the user's active caller-id line, or ``line`` (type, groupId) for this
        call only."""
        async with self.transaction() as tx:
            endpoint = self.controllable(actor, number)
            if endpoint.kind != EXTENSION:
                raise Invalid("UnsupportedEndpoint", f"endpoint {number} cannot place calls")
            if from_number is not None and normalise(from_number) not in (endpoint.number, *[
                    normalise(t.get("number", "")) for t in endpoint.terminals if t.get("number")]):
                raise Invalid("InvalidFrom", f"from {from_number} is not a number registered to endpoint {number}")
            to = self.dialplan.personal_number(endpoint.account_id, endpoint.user_id, to)   # speed dials
            target = self.routing.dial_target(endpoint.account_id, to)
            if target is endpoint:
                raise Invalid("InvalidDestination", "an endpoint cannot call itself")
            if self.settings(endpoint)["outOfService"]:
                raise Conflict("EndpointOutOfService", f"endpoint {number} is out of service")
            associated = None
            if associated_leg is not None:
                associated = self.leg_on(endpoint, associated_leg)
                if associated.state not in ("connected", "held"):
                    raise Conflict("InvalidCallState", f"call {associated_leg} is {associated.state}; it must be "
                                   "connected or held to be associated")
                if bridge_on_answer and not partners(associated):
                    raise Conflict("InvalidCallState", f"call {associated_leg} has no other party to bridge")
            elif bridge_on_answer:
                raise Invalid("InvalidArgs", "executeOnAnswer=bridge needs associatedCallId")
            if associated is not None and associated.state == "connected":
                self.call_table.set_state(tx, associated, state="held")
            caller_id = self.lines.caller_id(endpoint.account_id, endpoint.user_id, line)
            call = self.call_table.new_call(endpoint.account_id)
            leg = self.call_table.add_leg(tx, call, endpoint, direction="outbound", state="connected",
                                          cause="newCall", from_number=endpoint.number,
                                          from_name=from_name or endpoint.name, from_principal=endpoint.principal_id,
                                          to_number=normalise(to), to_name=target.name,
                                          to_principal=target.principal_id)
            if terminal is not None:
                device = find_terminal(endpoint.terminals, terminal)
                if device is None:
                    raise Invalid("InvalidDevice", f"{terminal} is not a device of endpoint {number}")
                leg.terminal = device["deviceId"]
            leg.origin = {"record": bool(record)}
            if caller_id is not None and from_number is None:
                leg.origin["callerId"] = caller_id   # the far end sees the active line (UC User Line)
            if success_url or failure_url:
                leg.origin["callbacks"] = (success_url, failure_url or success_url)
            if associated is not None:
                leg.consult_for = associated
                if bridge_on_answer:
                    leg.origin["bridge_with"] = associated
            if timeout:
                leg.origin["timer"] = self.scheduler.after(timeout, self.routing.originate_timeout(leg),
                                                           f"originate-timeout {leg.leg_id}")
            self.routing.offer(tx, call, leg, target, "newCall", dialled=normalise(to), route=route)
            return self._then(tx, self.snapshot(leg), then)

    async def intrude(self, actor: Principal, number: str, destination: str, mode: str, *,
                      terminal: str | None = None, then: Then | None = None) -> dict[str, Any]:
        """``number`` joins the call ``destination`` talks in (BARGE/INTRUSION, WHISPER, MONITOR)."""
        async with self.transaction() as tx:
            endpoint = self.controllable(actor, number)
            if endpoint.kind != EXTENSION:
                raise Invalid("UnsupportedEndpoint", f"endpoint {number} cannot place calls")
            target = self.routing.dial_target(endpoint.account_id, destination)
            if target.kind != EXTENSION:
                raise Invalid("InvalidDestination", "an intrusion joins the call of an extension")
            leg = self.features.intrude(tx, endpoint, target, mode)
            if terminal is not None and terminal != leg.terminal:
                self.features.move(tx, leg, terminal)
            return self._then(tx, self.snapshot(leg), then)

    async def pickup(self, actor: Principal, number: str, target_leg_id: str, *, terminal: str | None = None,
                     early_only: bool = True, then: Then | None = None) -> dict[str, Any]:
        """``number`` picks up the call ringing (or parked) as leg ``target_leg_id`` of its account."""
        async with self.transaction() as tx:
            endpoint = self.controllable(actor, number)
            if endpoint.kind != EXTENSION:
                raise Invalid("UnsupportedEndpoint", f"endpoint {number} cannot pick up calls")
            target = self.call_table.leg(endpoint.account_id, target_leg_id)
            if target is None:
                raise NotFound("CallNotFound", f"call {target_leg_id} was not found")
            return self._then(tx, self.snapshot(self.features.pickup(tx, endpoint, target, terminal, early_only)),
                              then)

    @staticmethod
    def _then(tx: CallTransaction, snapshot: dict[str, Any], then: Then | None) -> dict[str, Any]:
        if then is not None:
            then(tx.uow, snapshot)
        return snapshot

    def snapshot_of(self, account_id: str, leg_id: str) -> dict[str, Any] | None:
        """The view of a live leg, or None when it has ended."""
        leg = self.call_table.leg(account_id, leg_id)
        return None if leg is None else self.snapshot(leg)

    def dialog_leg(self, account_id: str, call_id: str, local_tag: str, remote_tag: str) -> Leg | None:
        """The leg a SIP dialog names: its call, its own tag (the leg id) and the far end's tag."""
        call = self.calls.get(call_id)
        if call is None or call.account_id != account_id:
            return None
        leg = next((leg for leg in call.live_legs() if leg.leg_id == local_tag), None)
        if leg is None or not any(other.leg_id == remote_tag for other in call.live_legs() if other is not leg):
            return None
        return leg

    async def inbound(self, actor: Principal, from_number: str, to: str, *, from_name: str = "",
                      account_ref: str | None = None, priority: int = 0, skill: str | None = None) -> dict[str, Any]:
        """The simulator: an outside caller (through the trunk) dials an extension, group or DID."""
        if not is_external(from_number):
            raise Invalid("InvalidFrom", "from is an outside number: 7 to 15 digits, optionally with a leading +")
        async with self.transaction() as tx:
            account_id = self.account_of(actor, account_ref)
            known = self.endpoint(account_id, from_number)
            if known is not None and known.kind != EXTERNAL:  # an extension, or a DID the account owns
                raise Invalid("InvalidFrom", f"{from_number} is a number of this account, not an outside number")
            target = self.routing.dial_target(account_id, to)
            if target.kind == EXTERNAL:
                raise Invalid("InvalidDestination", f"{to} is not a number of this account")
            caller_ep = self.endpoint(account_id, from_number)
            assert caller_ep is not None
            caller_ep.name = from_name or caller_ep.name
            call = self.call_table.new_call(account_id)
            call.priority = priority
            call.skill = skill
            caller = self.call_table.add_leg(tx, call, caller_ep, direction="outbound", state="connected",
                                             cause="newCall", from_number=caller_ep.number, from_name=caller_ep.name,
                                             to_number=normalise(to), to_name=target.name,
                                             to_principal=target.principal_id)
            self.routing.offer(tx, call, caller, target, "newCall", dialled=normalise(to))
            return self.snapshot(caller)

    # ================================================================== the verbs on a call
    async def _run(self, actor: Principal, number: str, leg_id: str, verb: Verb, *, sim: bool,
                   account_ref: str | None, expect: Mapping[str, int] | None = None,
                   acted: bool = False, then: Then | None = None) -> dict[str, Any]:
        """Run one verb on the leg ``leg_id`` of endpoint ``number`` in one transaction. Returns the
        snapshot of the leg the verb returns, else of the leg acted on. ``expect``: the state token the
        caller last saw for each named leg of the endpoint (optimistic locking: a stale one fails with
        ``StateTokenMismatch`` and nothing changes)."""
        async with self.transaction() as tx:
            endpoint = (self.sim_endpoint(actor, number, account_ref) if sim
                        else self.controllable(actor, number))
            leg = self.leg_on(endpoint, leg_id)
            self.check_tokens(endpoint, expect)
            result = verb(tx, leg)
            return self._then(tx, self.snapshot(leg if acted else (result or leg)), then)

    async def answer(self, actor: Principal, number: str, leg_id: str, *, terminal: str | None = None,
                     then: Then | None = None, sim: bool = False,
            account_ref: str | None = None, expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        """Answer a ringing call, on ``terminal`` (a device of the endpoint) or its first device."""
        return await self._run(actor, number, leg_id, lambda tx, leg: self.features.answer(tx, leg, terminal),
                               sim=sim, account_ref=account_ref, expect=expect, then=then)

    async def end(self, actor: Principal, number: str, leg_id: str, *, sim: bool = False,
            account_ref: str | None = None, expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        """Hang up, or reject a ringing call."""
        return await self._run(actor, number, leg_id, self.features.end,
                               sim=sim, account_ref=account_ref, expect=expect)

    async def hold(self, actor: Principal, number: str, leg_id: str, *, sim: bool = False,
            account_ref: str | None = None, expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        return await self._run(actor, number, leg_id, self.features.hold,
                               sim=sim, account_ref=account_ref, expect=expect)

    async def retrieve(self, actor: Principal, number: str, leg_id: str, *, sim: bool = False,
            account_ref: str | None = None, expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        return await self._run(actor, number, leg_id, self.features.retrieve,
                               sim=sim, account_ref=account_ref, expect=expect)

    async def redirect(self, actor: Principal, number: str, leg_id: str, destination: str, *, sim: bool = False,
            account_ref: str | None = None, expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        """Send a ringing incoming call to ``destination`` instead."""
        return await self._run(actor, number, leg_id, lambda tx, leg: self.features.redirect(tx, leg, destination),
                               sim=sim, account_ref=account_ref, expect=expect)

    async def blind_transfer(self, actor: Principal, number: str, leg_id: str, destination: str, *,
                             route: str = "basic",
                             sim: bool = False,
            account_ref: str | None = None, expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        return await self._run(actor, number, leg_id,
                               lambda tx, leg: self.features.blind_transfer(tx, leg, destination, route),
                               sim=sim, account_ref=account_ref, expect=expect)

    async def consult(self, actor: Principal, number: str, leg_id: str, destination: str, *, route: str = "basic",
                      transfer_on_answer: bool = False, then: Then | None = None, sim: bool = False,
            account_ref: str | None = None, expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        """Hold the call and call ``destination``. Returns the new consultation leg."""
        return await self._run(actor, number, leg_id, lambda tx, leg: self.features.consult(tx, leg, destination, route,
                                                                           transfer_on_answer),
                               sim=sim, account_ref=account_ref, expect=expect, then=then)

    async def supervised_transfer(self, actor: Principal, number: str, leg_id: str, other_leg_id: str | None = None,
                                  *, acted: bool = False, sim: bool = False,
            account_ref: str | None = None, expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        """Join the endpoint's held call and its consultation call, and leave (``other_leg_id``: the other of
        the two; None when the endpoint has exactly one other held call)."""
        return await self._run(actor, number, leg_id,
                               lambda tx, leg: self.features.supervised_transfer(tx, leg, other_leg_id),
                               sim=sim, account_ref=account_ref, expect=expect, acted=acted)

    async def connect_when_answered(self, actor: Principal, number: str, leg_id: str, other_leg_id: str, *,
                                    expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        """Join the endpoint's two calls when the consulted party answers (at once if it has)."""
        return await self._run(actor, number, leg_id,
                               lambda tx, leg: self.features.connect_when_answered(tx, leg, other_leg_id),
                               sim=False, account_ref=None, expect=expect, acted=True)

    async def conference(self, actor: Principal, number: str, leg_id: str, other_leg_id: str | None = None, *,
                         keep_acted: bool = False,
                         sim: bool = False,
            account_ref: str | None = None, expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        return await self._run(actor, number, leg_id,
                               lambda tx, leg: self.features.conference(tx, leg, other_leg_id, keep_acted),
                               sim=sim, account_ref=account_ref, expect=expect)

    async def send_dtmf(self, actor: Principal, number: str, leg_id: str, digits: str, *, sim: bool = False,
            account_ref: str | None = None, expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        return await self._run(actor, number, leg_id, lambda tx, leg: self.features.send_dtmf(tx, leg, digits),
                               sim=sim, account_ref=account_ref, expect=expect)

    async def start_recording(self, actor: Principal, number: str, leg_id: str, *, sim: bool = False,
            account_ref: str | None = None, expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        return await self._run(actor, number, leg_id, self.recording.start_recording, sim=sim,
                               account_ref=account_ref, expect=expect)

    async def stop_recording(self, actor: Principal, number: str, leg_id: str, *, sim: bool = False,
            account_ref: str | None = None, expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        return await self._run(actor, number, leg_id, self.recording.stop_recording, sim=sim,
                               account_ref=account_ref, expect=expect)

    async def pause_recording(self, actor: Principal, number: str, leg_id: str, *, sim: bool = False,
            account_ref: str | None = None, expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        return await self._run(actor, number, leg_id, self.recording.pause_recording, sim=sim,
                               account_ref=account_ref, expect=expect)

    async def resume_recording(self, actor: Principal, number: str, leg_id: str, *, sim: bool = False,
            account_ref: str | None = None, expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        return await self._run(actor, number, leg_id, self.recording.resume_recording, sim=sim,
                               account_ref=account_ref, expect=expect)

    async def tag_recording(self, actor: Principal, number: str, leg_id: str, tags: dict[str, Any] | None, *,
                            sim: bool = False,
            account_ref: str | None = None, expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        """Add ``tags`` (a non-empty object) to the call's running recording."""
        return await self._run(actor, number, leg_id, lambda tx, leg: self.recording.tag_recording(tx, leg, tags),
                               sim=sim, account_ref=account_ref, expect=expect)

    async def mute(self, actor: Principal, number: str, leg_id: str, muted: bool = True, *,
                   expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        return await self._run(actor, number, leg_id, lambda tx, leg: self.features.mute(tx, leg, muted),
                               sim=False, account_ref=None, expect=expect)

    async def move(self, actor: Principal, number: str, leg_id: str, terminal: str, *,
                   expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        """Continue the call on another device (terminal) of the endpoint."""
        return await self._run(actor, number, leg_id, lambda tx, leg: self.features.move(tx, leg, terminal),
                               sim=False, account_ref=None, expect=expect)

    async def alternate(self, actor: Principal, number: str, leg_id: str, other_leg_id: str, *,
                        expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        """Hold the call and take the endpoint's other (held or ringing) call. Returns the held call."""
        async with self.transaction() as tx:
            endpoint = self.controllable(actor, number)
            leg = self.leg_on(endpoint, leg_id)
            self.check_tokens(endpoint, expect)
            self.features.alternate(tx, leg, other_leg_id)
            return self.snapshot(leg)

    async def leave(self, actor: Principal, number: str, leg_id: str, *,
                    expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        """Leave a conference; the others talk on."""
        return await self._run(actor, number, leg_id, self.features.leave, sim=False, account_ref=None,
                               expect=expect)

    async def drop_participant(self, actor: Principal, number: str, leg_id: str, participant_id: str, *,
                               expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        return await self._run(actor, number, leg_id,
                               lambda tx, leg: self.features.drop_participant(tx, leg, participant_id),
                               sim=False, account_ref=None, expect=expect)

    async def save_recording(self, actor: Principal, number: str, leg_id: str, *,
                             expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        return await self._run(actor, number, leg_id, self.recording.save_recording, sim=False, account_ref=None,
                               expect=expect)

    async def discard_recording(self, actor: Principal, number: str, leg_id: str, *,
                                expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        return await self._run(actor, number, leg_id, self.recording.discard_recording, sim=False,
                               account_ref=None, expect=expect)

    async def park(self, actor: Principal, number: str, leg_id: str, orbit: str | None = None, *,
                   sim: bool = False,
            account_ref: str | None = None, expect: Mapping[str, int] | None = None) -> dict[str, Any]:
        """Leave the call waiting on hold in ``orbit`` (default: the endpoint's own number)."""
        return await self._run(actor, number, leg_id, lambda tx, leg: self.features.park(tx, leg, orbit),
                               sim=sim, account_ref=account_ref, expect=expect)
