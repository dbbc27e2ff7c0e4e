"""Call history: the ``call_record`` documents the engine writes as each leg completes (a projection of
its ``call.state`` events), with who may see them and the per-user hide flag."""
from __future__ import annotations

import builtins  # annotations below the method named list
from typing import Any

from callyard.core.errors import NotFound
from callyard.core.principal import Principal
from callyard.core.runtime import Runtime


class CallHistory:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    def _visible(self, actor: Principal, record: dict[str, Any]) -> bool:
        if record["accountId"] != actor.account_id and not actor.at_least("GLOBAL_ADMIN"):
            return False
        if actor.at_least("ACCOUNT_ADMIN") or actor.kind == "client":
            return True
        return record.get("principalId") in (actor.user_id, actor.principal_id)

    def list(self, actor: Principal, include_hidden: bool = False) -> list[dict[str, Any]]:
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
