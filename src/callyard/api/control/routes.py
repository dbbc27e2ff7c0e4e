"""``/_callyard``: health, reset, state export/import, request journal, event log, mail outbox, clock, photos.

Needs an ACCOUNT_ADMIN (or higher) token unless the server runs with ``--open-control``; health and the
photo files (embedded in ``<img>`` by apps) need none.
"""
from __future__ import annotations

import re
import time
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from callyard.api.common.errors import ERROR_RESPONSES
from callyard.api.common.security import principal
from callyard.api.control.edge import items_page, read_json
from callyard.api.deps import AuditDep, CoreDep, FaultsDep, JournalDep, TwinDep, twin_of
from callyard.core.errors import Invalid
from callyard.core.principal import SYSTEM, Principal

EVENT_TYPE = re.compile(r"^[a-z][a-zA-Z]*(\.[a-z][a-zA-Z]*)*(\.\*)?$")
router = APIRouter(prefix="/_callyard", tags=["control"], responses=ERROR_RESPONSES)


async def controller(request: Request, twin: TwinDep) -> Principal:
    if twin.settings.open_control:
        return SYSTEM
    actor = await principal(request)
    twin.core.directory.access.require_role(actor, "ACCOUNT_ADMIN")
    return actor


def visible_accounts(request: Request, actor: Principal) -> set[str] | None:
    """The accounts whose traffic ``actor`` may see in the journal and the audit; None: all (open control,
    GLOBAL_ADMIN)."""
    if actor is SYSTEM or actor.at_least("GLOBAL_ADMIN"):
        return None
    return {a["accountId"] for a in twin_of(request).core.directory.access.visible_accounts(actor)}


@router.get("/health", summary="200 once the server is ready")
async def health(twin: TwinDep) -> dict[str, Any]:
    rt = twin.core.rt
    return {"status": "ok", "version": twin.version, "store": rt.store.description,
            "clock": "manual" if rt.clock.manual else "real", "now": rt.now_iso(),
            "uptimeSeconds": round(time.monotonic() - twin.started, 3)}


@router.post("/reset", summary="Back to the tenant baseline")
async def reset(request: Request, core: CoreDep, journal: JournalDep, faults: FaultsDep, audit: AuditDep,
                _actor: Principal = Depends(controller)) -> dict[str, Any]:
    await core.reset()
    journal.entries.clear()
    faults.clear()
    audit.clear()
    return {"status": "reset", "tenant": core.tenant_name()}


@router.get("/state", summary="Export a versioned JSON snapshot of the whole twin")
async def export_state(request: Request, core: CoreDep, _actor: Principal = Depends(controller)) -> dict[str, Any]:
    return core.export_state()


@router.post("/state", summary="Replace the whole twin with a snapshot")
async def import_state(request: Request, core: CoreDep, _actor: Principal = Depends(controller)) -> dict[str, Any]:
    snapshot = await read_json(request, "the snapshot")
    counts = await core.import_state(snapshot)
    return {"status": "imported", "documents": counts}


@router.get("/journal", summary="Recent requests, newest last")
async def journal(request: Request, journal: JournalDep, limit: int = 200,
                  actor: Principal = Depends(controller)) -> dict[str, Any]:
    if limit < 1 or limit > 2000:
        raise Invalid("InvalidQueryParameter", "limit must be between 1 and 2000")
    accounts = visible_accounts(request, actor)
    entries = [e for e in journal.entries
               if accounts is None or e["principal"] is None or e["principal"]["accountId"] in accounts][-limit:]
    return items_page(entries)


@router.get("/events", summary="The event log, oldest first: every state change the core committed")
async def events(request: Request, core: CoreDep, after: int = 0, limit: int = 200, type: str | None = None,
                 actor: Principal = Depends(controller)) -> dict[str, Any]:
    """Page with ``after`` = the last ``seq`` seen (``next`` in the answer). ``type`` is a comma-separated
    list of event types (``call.state``) or kinds (``call.*``). An account admin sees its accounts' events."""
    if limit < 1 or limit > 2000:
        raise Invalid("InvalidQueryParameter", "limit must be between 1 and 2000")
    if after < 0:
        raise Invalid("InvalidQueryParameter", "after is a sequence number (0 or more)")
    types = tuple(t.strip() for t in (type or "").split(",") if t.strip())
    if any(not EVENT_TYPE.match(t) for t in types):
        raise Invalid("InvalidQueryParameter", "type is a comma-separated list of event types (call.state) "
                                               "or kinds (call.*)")
    found = await core.rt.store.read_events(after, limit, visible_accounts(request, actor), types)
    items = [{"seq": s.seq, "type": s.event.type, "accountId": s.event.account_id, "subject": s.event.subject,
              "occurredAt": s.event.occurred_at, "correlationId": s.event.correlation_id, "data": s.event.data}
             for s in found]
    return {"count": len(items), "next": found[-1].seq if found else after, "_embedded": {"items": items}}


@router.get("/mail", summary="The captured mail outbox")
async def mail(request: Request, core: CoreDep, actor: Principal = Depends(controller)) -> dict[str, Any]:
    items = core.directory.list_mail(actor)
    items = [{k: v for k, v in m.items()} for m in items]
    return items_page(items)


class Advance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = Field(ge=0, le=10 * 365 * 86400)


@router.get("/clock")
async def get_clock(request: Request, core: CoreDep) -> dict[str, Any]:
    clock = core.rt.clock
    return {"mode": "manual" if clock.manual else "real", "now": core.rt.now_iso()}


@router.post("/clock/advance", summary="Move the virtual clock forward (server started with --clock manual)")
async def advance_clock(body: Advance, request: Request, core: CoreDep,
                        _actor: Principal = Depends(controller)) -> dict[str, Any]:
    try:
        await core.scheduler.advance(body.seconds)
    except ValueError as exc:
        raise Invalid("ClockNotManual", str(exc)) from None
    return {"mode": "manual", "now": core.rt.now_iso()}


@router.get("/photos/{photoId}/{size}", summary="A stored photo or one of its avatars", response_class=Response,
            responses={200: {"description": "The image", "content": {"image/png": {}, "image/jpeg": {}}}})
async def photo(photoId: str, size: str, request: Request, core: CoreDep) -> Response:
    content_type, data = core.directory.photo_blob(photoId, size)
    return Response(content=data, media_type=content_type, headers={"cache-control": "public, max-age=3600"})
