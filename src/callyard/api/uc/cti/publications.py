"""What the UC family derives from the engine's call events:

* per-call webhooks: each new ``stateToken`` of a registered call, ``{callId, stateToken}``;
* per-user webhooks: when a call of the user's devices is new or deleted, the user's state
  ``{fullState, calls}``;
* the SSE streams' hub (after the commit).

Deliveries go to the family-neutral outbox in the same transaction as the call change (retries, Standard
Webhooks signatures, the control plane's delivery log and replay). Only the last state of each leg in one
transaction is posted.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from callyard.api.uc.cti.devices import device_ids
from callyard.api.uc.cti.streams import CallStreams
from callyard.api.uc.cti.wire import call_state
from callyard.core.cti.webhooks import KIND
from callyard.core.engine.calls import state_token
from callyard.core.state import UnitOfWork
from callyard.events.event import TWIN_RESET, Event
from callyard.events.projections import PUBLISH

if TYPE_CHECKING:
    from callyard.container import Twin

STREAMS = "uc.streams"


class CtiPublisher:
    def __init__(self, twin: "Twin") -> None:
        self.core = twin.core
        self.known: set[tuple[str, str]] = set()   # (account, leg) of calls already announced to user webhooks

    def reset(self, _event: Event) -> None:
        self.known.clear()

    def __call__(self, uow: UnitOfWork, events: list[Event]) -> None:
        engine = self.core.engine
        # Every party of a changed call has a new state token (a leg's token follows its call's), so each of
        # them is told; a leg that ended is told the token of its last event.
        latest: dict[tuple[str, str], dict[str, Any]] = {}
        tokens: dict[tuple[str, str], int] = {}
        for event in events:
            data = event.data
            if not data or "legId" not in data:
                continue
            account_id = data["accountId"]
            if data.get("endpointKind") == "extension":
                latest[(account_id, data["legId"])] = data
            tokens[(account_id, data["legId"])] = data["stateToken"]
            call = engine.calls.get(data["callId"] or "")
            for leg in call.live_legs() if call is not None else []:
                tokens[(account_id, leg.leg_id)] = state_token(leg)
        hooks = self.core.cti_webhooks
        for (account_id, leg_id), token in tokens.items():
            live = engine.call_table.leg(account_id, leg_id)
            current = state_token(live) if live is not None else token
            for reg in hooks.for_call(account_id, leg_id):
                self.core.outbox.enqueue(uow, registration_id=reg["webhookId"], registration_kind=KIND,
                                         account_id=account_id, url=reg["targetUrl"], order_key=leg_id,
                                         publication={"callId": leg_id, "stateToken": current})
        changed_users: dict[tuple[str, str], dict[str, Any]] = {}
        for (account_id, leg_id), view in latest.items():
            key = (account_id, leg_id)
            new = key not in self.known and view["state"] != "completed"
            gone = view["state"] == "completed"
            if new:
                self.known.add(key)
            if gone:
                self.known.discard(key)
            if (new or gone) and view.get("principalId"):
                changed_users[(account_id, view["principalId"])] = view
        for (account_id, user_id), view in changed_users.items():
            registrations = hooks.for_user(account_id, user_id)
            if not registrations:
                continue
            state = self._user_state(account_id, view["endpointId"])
            for reg in registrations:
                self.core.outbox.enqueue(uow, registration_id=reg["webhookId"], registration_kind=KIND,
                                         account_id=account_id, url=reg["targetUrl"], order_key=user_id,
                                         publication=state)

    def _user_state(self, account_id: str, number: str) -> dict[str, Any]:
        engine = self.core.engine
        endpoint = engine.endpoint(account_id, number)
        if endpoint is None:
            return {"fullState": True, "calls": []}
        account = self.core.rt.state.get("account", account_id) or {}
        devices = device_ids(endpoint)
        now = self.core.rt.clock.now()
        return {"fullState": True,
                "calls": [call_state(engine.snapshot(leg), devices, str(account.get("domain", "")), now)
                          for leg in list(endpoint.legs)]}


def register(twin: "Twin") -> None:
    """The family's projections: webhooks in the committing transaction, the SSE hub after it."""
    publisher = CtiPublisher(twin)
    projections = twin.core.projections
    projections.in_transaction("UC CTI webhooks → outbox", publisher, events=("call.state",), order=PUBLISH)
    projections.after_commit("UC CTI webhooks forget calls after a reset", publisher.reset, events=(TWIN_RESET,))
    hub = CallStreams()
    twin.family_state[STREAMS] = hub
    projections.after_commit("UC SSE streams", hub.publish, events=("call.state", "call.dtmf"))
