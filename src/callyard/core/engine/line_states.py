"""Line states: an outside system (a CRM, a second PBX, a meeting room) marks a user busy until a time.

While a user has a line state their extension is busy like one in a call (``Endpoint.in_call``): a new call
meets their busy handling and the contact center offers them no queued call. A line state is identified by
the outside system's ``externalId``; setting it again moves its expiry, removing it ends it at once (agent
rest time is not applied, as the seed says). Like live calls, line states are live PBX state: a reset or a
restart drops them. Every change emits ``line_state.updated`` / ``line_state.deleted``."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from callyard.core.clock import iso
from callyard.core.engine.calls import CallTable, CallTransaction
from callyard.core.engine.model import Endpoint, LineState
from callyard.core.errors import Invalid, NotFound
from callyard.core.scheduler import Scheduler

MAX_EXTERNAL_ID = 128


def parse_expiry(value: object) -> datetime:
    """An ISO 8601 time with an offset (``2020-03-10T11:05:00+01``, ``…Z``)."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid("expiresOn.required", "expiresOn is an ISO 8601 time with an offset", field="expiresOn")
    text = value.strip()
    if len(text) >= 3 and text[-3] in "+-" and text[-2:].isdigit():
        text += ":00"   # the seed's example offset "+01"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid("expiresOn.not.valid", f"{value} is not an ISO 8601 time", field="expiresOn",
                      value=value) from None
    if parsed.tzinfo is None:
        raise Invalid("expiresOn.not.valid", "expiresOn needs a UTC offset", field="expiresOn", value=value)
    return parsed


def view(endpoint: Endpoint, state: LineState) -> dict[str, Any]:
    return {"externalId": state.external_id, "userId": endpoint.user_id, "endpointId": endpoint.number,
            "expiresOn": iso(state.expires_on)}


class LineStates:
    def __init__(self, table: CallTable, scheduler: Scheduler) -> None:
        self.table = table
        self.scheduler = scheduler

    @staticmethod
    def check_id(external_id: str) -> None:
        if not external_id or len(external_id) > MAX_EXTERNAL_ID:
            raise Invalid("externalId.not.valid", f"externalId is 1 to {MAX_EXTERNAL_ID} characters",
                          field="externalId", value=external_id)

    def get(self, endpoint: Endpoint, external_id: str) -> dict[str, Any]:
        state = endpoint.line_states.get(external_id)
        if state is None:
            raise NotFound("linestate.does.not.exist", f"no line state {external_id} for this user",
                           field="externalId", value=external_id)
        return view(endpoint, state)

    def put(self, tx: CallTransaction, endpoint: Endpoint, external_id: str, expires_on: datetime) -> dict[str, Any]:
        """Create or move the line state ``external_id``; it ends by itself at ``expires_on``."""
        self.check_id(external_id)
        if expires_on <= self.table.now():
            raise Invalid("expiresOn.in.past", "expiresOn must be in the future", field="expiresOn",
                          value=iso(expires_on))
        previous = endpoint.line_states.get(external_id)
        state = LineState(external_id, expires_on)
        seconds = (expires_on - self.table.now()).total_seconds()
        state.timer = self.scheduler.after(seconds, self._expire(endpoint, state), f"line-state {external_id}")
        endpoint.line_states[external_id] = state

        def undo() -> None:
            if state.timer is not None:
                state.timer.cancel()
            if previous is None:
                endpoint.line_states.pop(external_id, None)
            else:
                endpoint.line_states[external_id] = previous
        tx.uow.on_rollback.append(undo)
        if previous is not None and previous.timer is not None:
            tx.uow.after_commit.append(previous.timer.cancel)
        out = view(endpoint, state)
        tx.uow.emit("line_state.updated", endpoint.account_id, f"/endpoints/{endpoint.number}/linestates/"
                    f"{external_id}", out, self.table.rt.now_iso())
        return out

    def remove(self, tx: CallTransaction, endpoint: Endpoint, external_id: str) -> dict[str, Any]:
        state = endpoint.line_states.get(external_id)
        if state is None:
            raise NotFound("linestate.does.not.exist", f"no line state {external_id} for this user",
                           field="externalId", value=external_id)
        endpoint.line_states.pop(external_id)
        tx.uow.on_rollback.append(lambda: endpoint.line_states.__setitem__(external_id, state))
        if state.timer is not None:
            tx.uow.after_commit.append(state.timer.cancel)
        out = view(endpoint, state)
        tx.uow.emit("line_state.deleted", endpoint.account_id, f"/endpoints/{endpoint.number}/linestates/"
                    f"{external_id}", out, self.table.rt.now_iso())
        return out

    def _expire(self, endpoint: Endpoint, state: LineState) -> Callable[[], Awaitable[None]]:
        async def fire() -> None:
            async with self.table.transaction() as tx:
                if endpoint.line_states.get(state.external_id) is state:
                    state.timer = None
                    self.remove(tx, endpoint, state.external_id)
        return fire
