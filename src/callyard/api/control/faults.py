"""``/_callyard/faults``: inject the failures the real platform has — error statuses with or without
Retry-After, latency, dropped or duplicated webhooks, forced token expiry — to drive a client's error paths
(and let the audit judge how it handles them)."""
from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from email.utils import parsedate_to_datetime

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

from callyard.api.common.errors import ERROR_RESPONSES
from callyard.api.control.edge import items_page
from callyard.api.control.routes import controller, scope
from callyard.api.deps import CoreDep, FaultsDep
from callyard.core.principal import Principal
from callyard.faults.service import DISTRIBUTIONS, KINDS

router = APIRouter(prefix="/_callyard", tags=["control"], responses=ERROR_RESPONSES)


class Latency(BaseModel):
    model_config = ConfigDict(extra="forbid")
    distribution: Literal["fixed", "uniform", "normal", "exponential"] = "fixed"
    ms: float | None = Field(default=None, ge=0, le=60_000)
    minMs: float | None = Field(default=None, ge=0, le=60_000)
    maxMs: float | None = Field(default=None, ge=0, le=60_000)
    meanMs: float | None = Field(default=None, ge=0, le=60_000)
    stddevMs: float | None = Field(default=None, ge=0, le=60_000)

    @model_validator(mode="after")
    def _needs(self) -> "Latency":
        needed = {"fixed": ("ms",), "uniform": ("minMs", "maxMs"), "normal": ("meanMs",),
                  "exponential": ("meanMs",)}[self.distribution]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.distribution} latency needs {', '.join(missing)}")
        if self.distribution == "uniform" and self.minMs > self.maxMs:   # type: ignore[operator]
            raise ValueError("minMs must not exceed maxMs")
        return self


class FaultSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["http", "webhook.drop", "webhook.duplicate", "token.expire"] = "http"
    route: str | None = Field(default=None, max_length=500, description="path, {param} = one segment, * = any")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "get", "post", "put", "patch", "delete"] | None = None
    status: int | None = Field(default=None, ge=400, le=599)
    retryAfter: StrictInt | StrictStr | None = Field(default=None, description="seconds, or an HTTP-date")
    retryAfterFormat: Literal["seconds", "http-date"] | None = Field(
        default=None, description="how seconds are written in Retry-After (default: the twin's --retry-after-format)")
    ratio: float = Field(default=1.0, gt=0, le=1)
    count: int | None = Field(default=None, ge=1, le=1_000_000_000)
    latency: Latency | None = None
    body: dict[str, Any] | None = None
    subscriptionId: str | None = None
    principalId: str | None = None

    @model_validator(mode="after")
    def _retry_after(self) -> "FaultSpec":
        value = self.retryAfter
        if isinstance(value, str) and value.strip().isdigit():
            value = self.retryAfter = int(value)
        if isinstance(value, int) and not 0 <= value <= 86_400:
            raise ValueError("retryAfter must be between 0 and 86400 seconds")
        if isinstance(value, str):
            try:
                parsedate_to_datetime(value)
            except (TypeError, ValueError):
                raise ValueError("retryAfter must be seconds or an HTTP-date (Wed, 21 Oct 2026 07:28:00 GMT)") from None
        return self


assert set(KINDS) == set(FaultSpec.model_fields["kind"].annotation.__args__)  # type: ignore[union-attr]
assert set(DISTRIBUTIONS) == set(Latency.model_fields["distribution"].annotation.__args__)  # type: ignore[union-attr]


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
