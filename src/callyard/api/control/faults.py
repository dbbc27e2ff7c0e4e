"""``/_callyard/faults``: inject the failures the real platform has — error statuses with or without
Retry-After, latency, dropped or duplicated webhooks, forced token expiry — to drive a client's error paths
(and let the audit judge how it handles them). The body's model is ``callyard.faults.spec.FaultSpec``."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse

from callyard.api.common.errors import ERROR_RESPONSES
from callyard.api.control.edge import items_page
from callyard.api.control.routes import controller, scope
from callyard.api.deps import CoreDep, FaultsDep
from callyard.core.principal import Principal
from callyard.faults.spec import FaultSpec, Latency

__all__ = ["FaultSpec", "Latency", "router"]

router = APIRouter(prefix="/_callyard", tags=["control"], responses=ERROR_RESPONSES)


@router.post("/faults", status_code=201, summary="Inject a fault: into the whole twin (operator) or into the "
             "traffic of the caller's accounts only")
async def create_fault(spec: FaultSpec, request: Request, faults: FaultsDep, core: CoreDep,
                       actor: Principal = Depends(controller)) -> JSONResponse:
    accounts = scope(request, actor)
    if accounts is not None and spec.subscriptionId is not None:
        core.notifications.get(actor, spec.subscriptionId)   # 404 unless the administrator may see it
    fault = faults.add(spec.model_dump(exclude_none=True), None if accounts is None else frozenset(accounts))
    return JSONResponse(fault.wire(), status_code=201)


@router.get("/faults", summary="The active faults (an administrator's: those of their accounts), with their hits")
async def list_faults(request: Request, faults: FaultsDep, actor: Principal = Depends(controller)) -> dict[str, Any]:
    items = [f.wire() for f in faults.all(scope(request, actor))]
    return items_page(items)


@router.get("/faults/{faultId}", summary="One active fault")
async def get_fault(faultId: str, request: Request, faults: FaultsDep,
                    actor: Principal = Depends(controller)) -> dict[str, Any]:
    return faults.get(faultId, scope(request, actor)).wire()


@router.delete("/faults", summary="Remove every fault (an administrator's: those of their accounts)")
async def clear_faults(request: Request, faults: FaultsDep, actor: Principal = Depends(controller)) -> dict[str, Any]:
    return {"removed": faults.clear(scope(request, actor))}


@router.delete("/faults/{faultId}", summary="Remove one fault")
async def delete_fault(faultId: str, request: Request, faults: FaultsDep,
                       actor: Principal = Depends(controller)) -> dict[str, Any]:
    return faults.remove(faultId, scope(request, actor)).wire()
