"""``/_callyard``: health, reset, state export/import, request journal, event log, mail and SMS
outboxes, clock, photos.

Two kinds of caller (``controller``): the *operator* — the operator token of the start banner
(``--operator-token``, ``CALLYARD_OPERATOR_TOKEN``) as ``Authorization: Bearer``, or anyone with
``--open-control`` — acts on the whole twin; an *administrator* (an ACCOUNT_ADMIN or higher token of the
platform) acts on the accounts they administer only (``scope``): reset, export and import of those accounts,
their journal, events, mail, faults and audit. The virtual clock is the whole twin's: the operator's alone.
Health, the clock's reading and the photo files (embedded in ``<img>`` by apps) need no token.
"""
from __future__ import annotations

import hmac
import re
import time
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from callyard.api.common.errors import ERROR_RESPONSES
from callyard.api.common.security import bearer_token, principal
from callyard.api.control.edge import items_page, read_json
from callyard.api.deps import AuditDep, CoreDep, FaultsDep, JournalDep, TwinDep, twin_of
from callyard.core.errors import Forbidden, Invalid
from callyard.config import Settings
from callyard.core.principal import SYSTEM, Principal

EVENT_TYPE = re.compile(r"^[a-z][a-zA-Z]*(\.[a-z][a-zA-Z]*)*(\.\*)?$")
router = APIRouter(prefix="/_callyard", tags=["control"], responses=ERROR_RESPONSES)


def is_operator(settings: Settings, presented: str | None) -> bool:
    """Open control, or ``presented`` (the request's token) is the operator token."""
    if settings.open_control:
        return True
    expected = settings.operator_token
    return bool(presented and expected and hmac.compare_digest(presented.encode(), expected.encode()))


async def controller(request: Request, twin: TwinDep) -> Principal:
    """The operator (``SYSTEM``: the operator token, or open control) or an ACCOUNT_ADMIN-or-higher principal."""
    if is_operator(twin.settings, bearer_token(request)):
        return SYSTEM
    actor = await principal(request)
    twin.core.directory.access.require_role(actor, "ACCOUNT_ADMIN")
    return actor


async def operator(actor: Principal = Depends(controller)) -> Principal:
    """Twin-wide operations: the operator only."""
    if actor is not SYSTEM:
        raise Forbidden("OperatorRequired", "this acts on the whole twin: it needs the operator token (printed in "
                                            "the start banner; --operator-token or CALLYARD_OPERATOR_TOKEN)")
    return actor


def scope(request: Request, actor: Principal) -> set[str] | None:
    """The accounts a control operation acts on: None (the whole twin) for the operator, else exactly the
    accounts the administrator administers (a partner's: its own and its customers')."""
    if actor is SYSTEM:
        return None
    return {a["accountId"] for a in twin_of(request).core.directory.access.visible_accounts(actor)}


def visible_accounts(request: Request, actor: Principal) -> set[str] | None:
    """The accounts whose traffic ``actor`` may see in the journal and the audit; None: all (open control,
    GLOBAL_ADMIN)."""
    if actor is SYSTEM or actor.at_least("GLOBAL_ADMIN"):
        return None
    return {a["accountId"] for a in twin_of(request).core.directory.access.visible_accounts(actor)}


@router.get("/health", summary="200 once the server is ready")
async def health(twin: TwinDep) -> dict[str, Any]:
    rt = twin.core.rt
    body: dict[str, Any] = {"status": "ok", "version": twin.version, "store": rt.store.description,
                            "clock": "manual" if rt.clock.manual else "real", "now": rt.now_iso(),
                            "uptimeSeconds": round(time.monotonic() - twin.started, 3)}
    committer = getattr(rt.store, "committer", None)
    if committer is not None:   # group commit: transactions (one durability wait each) and what they carried
        body["storeWrites"] = {"transactions": committer.batches, "changeSets": committer.change_sets}
    return body


@router.post("/reset", summary="Back to the tenant baseline: the whole twin (operator) or the caller's accounts")
async def reset(request: Request, core: CoreDep, journal: JournalDep, faults: FaultsDep, audit: AuditDep,
                actor: Principal = Depends(controller)) -> dict[str, Any]:
    accounts = scope(request, actor)
    if accounts is None:
        await core.reset()
    else:
        await core.reset_accounts(accounts)
    journal.clear(accounts)
    faults.clear(accounts)
    audit.clear(accounts)
    out: dict[str, Any] = {"status": "reset", "tenant": core.tenant_name()}
    if accounts is not None:
        out["accounts"] = sorted(accounts)
    return out


@router.get("/state", summary="Export a versioned JSON snapshot: the whole twin (operator) or the caller's "
            "accounts; secrets sealed")
async def export_state(request: Request, core: CoreDep, actor: Principal = Depends(controller)) -> dict[str, Any]:
    return core.export_state(scope(request, actor))


@router.post("/state", summary="Replace the whole twin (operator) or the caller's accounts with a snapshot")
async def import_state(request: Request, core: CoreDep, actor: Principal = Depends(controller)) -> dict[str, Any]:
    snapshot = await read_json(request, "the snapshot")
    counts = await core.import_state(snapshot, actor, scope(request, actor))
    return {"status": "imported", "documents": counts}


@router.get("/journal", summary="Recent requests, newest last")
async def journal(request: Request, journal: JournalDep, limit: int = 200,
                  actor: Principal = Depends(controller)) -> dict[str, Any]:
    if limit < 1 or limit > 2000:
        raise Invalid("InvalidQueryParameter", "limit must be between 1 and 2000")
    entries = journal.readable(journal.visible(visible_accounts(request, actor))[-limit:])
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


@router.get("/sms", summary="The captured SMS outbox: every text message any family sent, oldest first")
async def sms(request: Request, core: CoreDep, actor: Principal = Depends(controller)) -> dict[str, Any]:
    """An account admin sees its accounts' messages; the operator all. ``to`` is the number after the sending
    account's number-plan expansion, ``dialled`` as given; ``source`` the family that sent it (uc, cx…)."""
    return items_page(core.sms.list(actor))


class Advance(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: float = Field(ge=0, le=10 * 365 * 86400)


@router.get("/clock")
async def get_clock(request: Request, core: CoreDep) -> dict[str, Any]:
    clock = core.rt.clock
    return {"mode": "manual" if clock.manual else "real", "now": core.rt.now_iso()}


@router.post("/clock/advance", summary="Move the virtual clock forward (server started with --clock manual)")
async def advance_clock(body: Advance, request: Request, core: CoreDep,
                        _actor: Principal = Depends(operator)) -> dict[str, Any]:
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
