"""Call history: the ``call_record`` documents, with who may see them and the per-user hide flag.

A record is a projection of the engine's ``call.state`` events: when a leg of an extension or a group
completes, the in-transaction projection here writes its record from the event's snapshot, so the record
commits with the call's last change (and is undone with it). The engine itself writes no history."""
from __future__ import annotations

import builtins  # annotations below the method named list
from typing import Any

from callyard.core.errors import NotFound
from callyard.core.principal import Principal
from callyard.core.runtime import Runtime
from callyard.core.state import UnitOfWork
from callyard.events.event import Event
from callyard.events.projections import DERIVE


RECORD_FIELDS = ("legId", "endpointId", "accountId", "callId", "principalId", "from", "fromName", "fromPrincipalId",
                 "to", "toName", "toPrincipalId", "state", "cause", "direction", "createdOn", "endTime", "completed",
                 "ringTime", "billingTime", "queueId", "terminal")
RECORDED_ENDPOINTS = ("extension", "group")   # outside numbers and the voicemail system keep no history


class CallHistory:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        runtime.projections.in_transaction("call records", self.record_completed_legs, events=("call.state",),
                                           order=DERIVE)

    def record_completed_legs(self, uow: UnitOfWork, events: builtins.list[Event]) -> None:
        """The projection: one record per completed leg of an extension or group."""
        for event in events:
            leg = event.data
            if not leg or leg["state"] != "completed" or leg["endpointKind"] not in RECORDED_ENDPOINTS:
                continue
            record = {key: leg[key] for key in RECORD_FIELDS}
            record.update(recordId=f"{leg['accountId']}:{leg['legId']}", hidden=False,
                          fromNumberE164=leg["from"].startswith("+"), toNumberE164=leg["to"].startswith("+"))
            uow.put("call_record", record["recordId"], record)

    def _visible(self, actor: Principal, record: dict[str, Any]) -> bool:
        if record["accountId"] != actor.account_id and not actor.at_least("GLOBAL_ADMIN"):
            return False
        if actor.at_least("ACCOUNT_ADMIN") or actor.kind == "client":
            return True
        return record.get("principalId") in (actor.user_id, actor.principal_id)

    def list(self, actor: Principal, include_hidden: bool = False) -> builtins.list[dict[str, Any]]:
        """Newest first."""
        found = [r for r in self.rt.state.all("call_record")
                 if self._visible(actor, r) and (include_hidden or not r.get("hidden"))]
        return sorted(found, key=lambda r: (r["createdOn"], r["legId"]), reverse=True)

    def of_call(self, actor: Principal, call_id: str) -> builtins.list[dict[str, Any]]:
        """The records of one callId: a leg id, or the call (tracking) id joining several legs."""
        found = [r for r in self.list(actor, include_hidden=True) if call_id in (r["legId"], r["callId"])]
        if not found:
            raise NotFound("CallRecordNotFound", f"no call record for call {call_id}")
        return found

    async def hide(self, actor: Principal, record_ids: builtins.list[str], hide: bool) -> int:
        async with self.rt.write() as uow:
            changed = 0
            for record_id in record_ids:
                record = self.rt.state.get("call_record", record_id)
                if record is None or not self._visible(actor, record) or bool(record.get("hidden")) == hide:
                    continue
                uow.update("call_record", record_id, hidden=hide)
                uow.emit("call_record.updated", record["accountId"], f"/calls/{record['legId']}/records",
                         {**record, "hidden": hide}, self.rt.now_iso())
                changed += 1
            return changed
