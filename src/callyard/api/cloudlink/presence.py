"""CloudLink Presence façade (reference/cloudlink-apis.md §6).

No REST contract is public: the paths follow the notification subject ``/presentities/{principalId}``
(``GET``/``PUT https://presence.api.mitel.io/2017-09-01/presentities/{principalId}``, an inferred guess),
plus a batch read ``GET /presentities?principalIds=a,b,c``. A presentity on the wire is the core's view
(``callyard.core.presence``) with ``_links.self``::

    {principalId, accountId, status, reason, note, workMode, enteredOn,
     principal: {status, enteredOn}, aggregate: {status, enteredOn}, _links: {self}}

``status``/``enteredOn`` at the top are the aggregate's (what others see); ``principal`` is what the user
set. The rules (who may read and set, DND on the extension, busy during calls) live in the core.
"""
from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from callyard.api.cloudlink.edge import BASE_PATH
from callyard.api.cloudlink.edge.odata import collection
from callyard.api.cloudlink.wire import presentity_fields
from callyard.api.common.errors import ERROR_RESPONSES
from callyard.api.common.security import principal
from callyard.api.deps import PresenceDep
from callyard.core.presence.service import NOTE_MAX, REASON_MAX
from callyard.core.principal import Principal
from callyard.api.cloudlink.edge.hosts import arrived_path

router = APIRouter(tags=["presence"], responses=ERROR_RESPONSES)


class PresenceUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    status: Literal["available", "busy", "dnd", "away", "offline"] | None = None
    reason: str | None = Field(default=None, max_length=REASON_MAX)
    note: str | None = Field(default=None, max_length=NOTE_MAX)
    workMode: Literal["office", "remote", "mobile"] | None = None


def presentity_wire(view: dict[str, Any]) -> dict[str, Any]:
    return {**presentity_fields(view),
            "_links": {"self": f"{BASE_PATH}/presentities/{view['principalId']}"}}


@router.get("/presentities", summary="Presentities of several principals (principalIds=a,b,c; at most 100)")
async def list_presentities(request: Request, presence: PresenceDep,
                            actor: Principal = Depends(principal)) -> dict[str, Any]:
    raw = request.query_params.get("principalIds")
    refs = raw.split(",") if raw is not None else None
    items = [presentity_wire(v) for v in presence.get_many(actor, refs)]
    body = collection(items, dict(request.query_params), arrived_path(request.scope))
    if raw is not None and "next" in body["_links"]:
        body["_links"]["next"] += "&" + urlencode({"principalIds": raw})
    return body


@router.get("/presentities/{principalId}", summary="A principal's presence (me for the caller)")
async def get_presentity(principalId: str, request: Request, presence: PresenceDep,
                         actor: Principal = Depends(principal)) -> dict[str, Any]:
    return presentity_wire(presence.get(actor, principalId))


@router.put("/presentities/{principalId}", summary="Set a principal's presence (me for the caller)")
async def put_presentity(principalId: str, body: PresenceUpdate, request: Request, presence: PresenceDep,
                         actor: Principal = Depends(principal)) -> dict[str, Any]:
    view = await presence.update(actor, principalId, body.model_dump(exclude_unset=True))
    return presentity_wire(view)
