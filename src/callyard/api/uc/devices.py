"""User Device Information (seed 003, 10 operations): the user's devices (the terminals of their extension on
the engine), their names, icons and attributes, the compact list of active devices, a webhook and an SSE
stream for changes of the device set.

Paths: the real platform serves this group under ``/api/device/info/v1/{op}/{domain}/{userId}[/{deviceId}]``
(``shortlist`` is sourced, the other operation segments follow it); the operation table's
``/api/userdevices/{domain}/{userId}/…`` paths are served too, as undocumented aliases, because the project's
own reference names them (docs/compatibility.md)."""
from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.responses import StreamingResponse

from callyard.api.common import sse
from callyard.api.deps import CoreDep, twin_of
from callyard.api.uc.edge.auth import UcCaller
from callyard.api.uc.edge.errors import ERROR_RESPONSES
from callyard.api.uc.user_access import caller_any, flag
from callyard.api.uc.cti.schemas import Webhook
from callyard.api.uc.user_schemas import Device, DeviceAttribute, DeviceIcon, DeviceName, DeviceShort, WebhookExpiry
from callyard.core.devices.webhooks import KIND as WEBHOOK_KIND
from callyard.core.state import UnitOfWork
from callyard.events.event import Event
from callyard.events.projections import PUBLISH

if TYPE_CHECKING:
    from callyard.container import Twin

router = APIRouter(tags=["User Device Information"], responses=ERROR_RESPONSES)
Caller = Annotated[UcCaller, Depends(caller_any("USER", "CALL_CONTROL", user="userId"))]
BASE = "/api/device/info/v1"
ALIAS = "/api/userdevices"
KEEP_ALIVE_SECONDS = 15.0
APP_CONFIG = "application/app-config-data"


def _both(method: str, op: str, alias_suffix: str, **kwargs: Any) -> Any:
    """Declare a route at the real path (documented) and at the table's alias (not documented)."""
    def wrap(handler: Any) -> Any:
        route = getattr(router, method)
        route(f"{BASE}/{op}/{{domain}}/{{userId}}{'/{deviceId}' if '{deviceId}' in alias_suffix else ''}",
              **kwargs)(handler)
        alias_kwargs = {k: v for k, v in kwargs.items() if k not in ("operation_id",)}
        route(f"{ALIAS}/{{domain}}/{{userId}}{alias_suffix}", include_in_schema=False, **alias_kwargs)(handler)
        return handler
    return wrap


@_both("get", "list", "", response_model=list[Device], operation_id="getUserDevices",
       summary="List all of the user's devices")
async def list_devices(who: Caller, core: CoreDep,
                       type: Annotated[str | None, Query(description="MOBILE, SOFTPHONE, DESKPHONE, …")] = None
                       ) -> list[dict[str, Any]]:
    return core.devices.list(who.principal, who.account_id, who.user["userId"], type)


@_both("get", "shortlist", "/active", response_model=list[DeviceShort], operation_id="getUserDeviceShortlist",
       summary="Compact list of the user's active devices")
async def shortlist(who: Caller, core: CoreDep) -> list[dict[str, Any]]:
    return core.devices.shortlist(who.principal, who.account_id, who.user["userId"])


@_both("get", "attributes", "/{deviceId}/attributes", response_model=list[DeviceAttribute],
       operation_id="getUserDeviceAttributes", summary="Detailed attributes of a device")
async def attributes(deviceId: str, who: Caller, core: CoreDep) -> list[dict[str, str]]:
    return core.devices.attributes(who.principal, who.account_id, who.user["userId"], deviceId)


@_both("get", "name", "/{deviceId}/name", response_model=str, operation_id="getUserDeviceName",
       summary="The display name of a device")
async def get_name(deviceId: str, who: Caller, core: CoreDep,
                   fallback: Annotated[str | None, Query(description="Default name when none is set "
                                                                     "(default true)")] = None) -> str:
    return core.devices.name(who.principal, who.account_id, who.user["userId"], deviceId, flag(fallback, True))


@_both("put", "name", "/{deviceId}/name", status_code=204, operation_id="setUserDeviceName",
       summary="Set the display name of a device (at most 32 characters)")
async def set_name(deviceId: str, who: Caller, core: CoreDep,
                   name: Annotated[str | None, Query(description="The new name (or a JSON body {name})")] = None,
                   body: Annotated[DeviceName | None, Body()] = None) -> None:
    value = name if name is not None else (body.name if body is not None else None)
    await core.devices.set_name(who.principal, who.account_id, who.user["userId"], deviceId, value)


@_both("get", "icon", "/{deviceId}/icon", response_model=str, operation_id="getUserDeviceIcon",
       summary="The display icon name of a device (TYPE_ICON, e.g. DESKPHONE_TYPE_2)")
async def get_icon(deviceId: str, who: Caller, core: CoreDep,
                   fallback: Annotated[str | None, Query(description="The type's default icon when none is set "
                                                                     "(default true)")] = None) -> str:
    return core.devices.icon(who.principal, who.account_id, who.user["userId"], deviceId, flag(fallback, True))


@_both("put", "icon", "/{deviceId}/icon", status_code=204, operation_id="setUserDeviceIcon",
       summary="Set the display icon of a device (DEFAULT, TYPE_1, TYPE_2)")
async def set_icon(deviceId: str, who: Caller, core: CoreDep,
                   name: Annotated[str | None, Query(description="DEFAULT | TYPE_1 | TYPE_2 (or a JSON body "
                                                              "{name})")] = None,
                   body: Annotated[DeviceIcon | None, Body()] = None) -> None:
    value = name if name is not None else (body.name if body is not None else None)
    await core.devices.set_icon(who.principal, who.account_id, who.user["userId"], deviceId, value)


@_both("get", "stream", "/stream", response_class=StreamingResponse, operation_id="streamUserDevices",
       summary="SSE stream of device-set updates (application/app-config-data)",
       responses={200: {"content": {"text/event-stream": {}}, "description": "Device-set update events"}})
async def stream(request: Request, who: Caller, core: CoreDep) -> StreamingResponse:
    core.devices.list(who.principal, who.account_id, who.user["userId"])   # access check before streaming
    account_id, user_id = who.account_id, who.user["userId"]

    def change(event: Event) -> dict[str, Any] | None:
        data = event.data or {}
        if event.account_id == account_id and data.get("userId") == user_id:
            return {"timeStamp": event.occurred_at, "changedField": "DEVICE_INFO", "deviceId": data.get("deviceId")}
        return None

    changes = sse.after_commit(twin_of(request).core.projections, f"device stream {user_id}", ("device.updated",),
                               change, asyncio.Queue(maxsize=256))

    def respond(change: Any) -> str | None:
        return None if change is sse.START else sse.message(json.dumps(change), event=APP_CONFIG)

    return sse.sse_response(changes, respond, opening=[": device-set updates\n\n"],
                            keepalive=KEEP_ALIVE_SECONDS)


@router.post(f"{BASE}/webhooks/{{domain}}/{{userId}}", response_model=WebhookExpiry,
             operation_id="registerDeviceWebhook", summary="Register a webhook for changes in the user's device set")
@router.post(f"{ALIAS}/{{domain}}/{{userId}}/webhooks", response_model=WebhookExpiry, include_in_schema=False)
async def register_webhook(body: Webhook, who: Caller, core: CoreDep) -> dict[str, Any]:
    registered = await core.device_webhooks.register(who.principal, who.account_id, who.user["userId"],
                                                     target_url=body.targetUrl, target_id=body.targetId,
                                                     public_target=body.publicTarget)
    return {"expiresOn": registered["expiresOn"]}


@router.delete(f"{BASE}/webhooks/{{domain}}/{{userId}}/{{targetId}}", status_code=204, response_class=Response,
               operation_id="unregisterDeviceWebhook", summary="Unregister a device-set webhook")
@router.delete(f"{ALIAS}/{{domain}}/{{userId}}/webhooks/{{targetId}}", status_code=204, response_class=Response,
               include_in_schema=False)
async def unregister_webhook(targetId: str, who: Caller, core: CoreDep) -> Response:
    await core.device_webhooks.unregister(who.principal, who.account_id, who.user["userId"], targetId)
    return Response(status_code=204)


def callback_time(occurred_at: str) -> str:
    """The seed's callback time format: ``2025-03-10 20:28:32.213`` (UTC)."""
    moment = datetime.fromisoformat(occurred_at.replace("Z", "+00:00"))
    return moment.strftime("%Y-%m-%d %H:%M:%S.") + f"{moment.microsecond // 1000:03d}"


def register_publications(twin: "Twin") -> None:
    """Device-set webhooks: each ``device.updated`` becomes an outbox delivery in the same transaction."""
    core = twin.core

    def publish(uow: UnitOfWork, events: list[Event]) -> None:
        for event in events:
            data = event.data or {}
            if event.account_id is None or not data.get("userId"):
                continue
            for reg in core.device_webhooks.for_user(event.account_id, data["userId"]):
                core.outbox.enqueue(uow, registration_id=reg["webhookId"], registration_kind=WEBHOOK_KIND,
                                    account_id=event.account_id, url=reg["targetUrl"], order_key=data["userId"],
                                    publication={"timeStamp": callback_time(event.occurred_at),
                                                 "changedField": "DEVICE_INFO"})

    core.projections.in_transaction("UC device-set webhooks → outbox", publish, events=("device.updated",),
                                    order=PUBLISH)
