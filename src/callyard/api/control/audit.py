"""``/_callyard/audit``: the best-practice report — per client application, every way it breaks the rules of
seeds 001 and 002, with the rule's text, the evidence and a fix."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from callyard.api.common.errors import ERROR_RESPONSES
from callyard.api.control.edge import items_page
from callyard.api.control.routes import controller, scope, visible_accounts
from callyard.api.deps import AuditDep
from callyard.audit.rules import RULES
from callyard.core.principal import Principal

router = APIRouter(prefix="/_callyard", tags=["control"], responses=ERROR_RESPONSES)


@router.get("/audit", summary="Best-practice findings per client application")
async def audit_report(request: Request, audit: AuditDep, session: str | None = None, app: str | None = None,
                       findingsOnly: bool = False, actor: Principal = Depends(controller)) -> dict[str, Any]:
    """Applications seen acting in the caller's accounts (all of them with open control), and those that
    never signed in."""
    return audit.report(session=session, name=app, only_findings=findingsOnly,
                                          accounts=visible_accounts(request, actor))


@router.get("/audit/rules", summary="The rules the audit checks")
async def audit_rules(_actor: Principal = Depends(controller)) -> dict[str, Any]:
    items = [rule.wire() for rule in RULES.values()]
    return items_page(items)


@router.delete("/audit", summary="Forget every observation (an administrator's: of applications seen only in "
               "their accounts)")
async def clear_audit(request: Request, audit: AuditDep, actor: Principal = Depends(controller)) -> dict[str, Any]:
    audit.clear(scope(request, actor))
    return {"status": "cleared"}
