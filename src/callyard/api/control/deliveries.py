"""``/_callyard/deliveries``: the webhook delivery log (every attempt, status, next attempt) and replay."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request

from callyard.api.common.errors import ERROR_RESPONSES
from callyard.api.control.edge import items_page
from callyard.api.control.routes import controller
from callyard.api.deps import OutboxDep
from callyard.core.errors import Invalid
from callyard.core.principal import Principal
from callyard.events.outbox import STATUSES

router = APIRouter(prefix="/_callyard/deliveries", tags=["control"], responses=ERROR_RESPONSES)


@router.get("", summary="Webhook deliveries, oldest first (?subscriptionId=, ?status=)")
async def list_deliveries(request: Request, outbox: OutboxDep, subscriptionId: str | None = None,
                          status: str | None = None,
                          actor: Principal = Depends(controller)) -> dict[str, Any]:
    if status is not None and status not in STATUSES:
        raise Invalid("InvalidQueryParameter", f"status is one of {', '.join(STATUSES)}")
    items = outbox.deliveries(actor, subscriptionId, status)
    return items_page(items)


@router.get("/{deliveryId}", summary="One delivery with its attempts")
async def get_delivery(deliveryId: str, request: Request, outbox: OutboxDep,
                       actor: Principal = Depends(controller)) -> dict[str, Any]:
    return outbox.delivery(actor, deliveryId)


@router.post("/{deliveryId}/replay", summary="Send a delivery again (same webhook-id)")
async def replay(deliveryId: str, request: Request, outbox: OutboxDep,
                 actor: Principal = Depends(controller)) -> dict[str, Any]:
    return await outbox.replay(actor, deliveryId)
