"""Call State, 8 operations: the state of a call and of the user (snapshots), per-call and per-user webhooks,
and two SSE streams (call state of one call; the user's SIP dialogs as RFC 4235 dialog-info XML)."""
from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from callyard.api.common import sse
from callyard.api.deps import twin_of
from callyard.api.uc.cti import streams
from callyard.api.uc.cti.common import CtiDep
from callyard.api.uc.cti.schemas import CallState, UserState, Webhook, WebhookExpiry
from callyard.api.uc.cti.streams import RETRY, CallStreams, dialog_info, dialog_stream
from callyard.api.uc.edge import ERROR_RESPONSES

router = APIRouter(prefix="/api/cti/{domain}/{userId}", tags=["Call State"], responses=ERROR_RESPONSES)
STREAMS = "uc.streams"


def user_state(ctx: Any) -> dict[str, Any]:
    engine = ctx.core.engine
    return {"fullState": True, "calls": [ctx.render(engine.snapshot(leg)) for leg in list(ctx.endpoint.legs)]}


@router.get("/calls", response_model=UserState, operation_id="getUserState",
            summary="A snapshot of the state of the user (all the user's calls)")
async def get_user_state(ctx: CtiDep) -> dict[str, Any]:
    return user_state(ctx)


@router.get("/calls/{callId}", response_model=CallState, operation_id="getCallState",
            summary="A snapshot of the state of one call")
async def get_call_state(callId: str, ctx: CtiDep) -> dict[str, Any]:
    leg = ctx.core.engine.leg_on(ctx.endpoint, callId)
    return ctx.render(ctx.core.engine.snapshot(leg))


@router.post("/calls/{callId}/webhooks", response_model=CallState, operation_id="registerCallWebhook",
             summary="Register a webhook told each new stateToken of the call")
async def register_call_webhook(callId: str, body: Webhook, ctx: CtiDep) -> dict[str, Any]:
    leg = ctx.core.engine.leg_on(ctx.endpoint, callId)
    await ctx.core.cti_webhooks.register(ctx.caller.account_id, ctx.caller.user["userId"], target_url=body.targetUrl,
                                         target_id=body.targetId, public_target=body.publicTarget, leg_id=callId)
    return ctx.render(ctx.core.engine.snapshot(leg))


@router.delete("/calls/{callId}/webhooks/{targetId}", status_code=204, response_class=Response,
               operation_id="unregisterCallWebhook", summary="Unregister a webhook of a call")
async def unregister_call_webhook(callId: str, targetId: str, ctx: CtiDep) -> Response:
    await ctx.core.cti_webhooks.unregister(ctx.caller.account_id, ctx.caller.user["userId"], targetId, leg_id=callId)
    return Response(status_code=204)


@router.post("/webhooks", response_model=WebhookExpiry, operation_id="registerUserWebhook",
             summary="Register a webhook told of the user's new and deleted calls (an hour; register again to renew)")
async def register_user_webhook(body: Webhook, ctx: CtiDep) -> dict[str, Any]:
    doc = await ctx.core.cti_webhooks.register(ctx.caller.account_id, ctx.caller.user["userId"],
                                               target_url=body.targetUrl, target_id=body.targetId,
                                               public_target=body.publicTarget)
    return {"expiresOn": ctx.core.cti_webhooks.expires_in(doc)}


@router.delete("/webhooks/{targetId}", status_code=204, response_class=Response,
               operation_id="unregisterUserWebhook", summary="Unregister a webhook of the user")
async def unregister_user_webhook(targetId: str, ctx: CtiDep) -> Response:
    await ctx.core.cti_webhooks.unregister(ctx.caller.account_id, ctx.caller.user["userId"], targetId)
    return Response(status_code=204)


_SSE = {200: {"content": {"text/event-stream": {"schema": {"type": "string"}}},
              "description": "A text/event-stream"}}


def _hub(request: Request) -> CallStreams:
    hub: CallStreams = twin_of(request).family_state[STREAMS]
    return hub


@router.get("/calls/{callId}/stream", response_class=StreamingResponse, responses=_SSE,  # type: ignore[arg-type]
            operation_id="streamCallState", summary="SSE stream of the call's CallState objects")
async def stream_call_state(callId: str, request: Request, ctx: CtiDep) -> StreamingResponse:
    leg = ctx.core.engine.leg_on(ctx.endpoint, callId)
    first = ctx.core.engine.snapshot(leg)
    last_seen = request.headers.get("last-event-id")
    hub = _hub(request)
    sent = str(first["stateToken"])

    def callstate(view: dict[str, Any]) -> str:
        return sse.message(json.dumps(ctx.render(view)), event="callstate", event_id=view["stateToken"])

    def respond(item: Any) -> sse.Reply:
        nonlocal sent
        if item is sse.START:
            text = callstate(first) if last_seen != sent else None
            return sse.End(text) if first["state"] == "completed" else text
        # An event of this call or of another party of it: send this call's state as it is now.
        view = ctx.core.engine.snapshot_of(ctx.endpoint.account_id, callId)
        if view is None:
            if item["legId"] != callId:
                return None
            view = item   # this call ended: its last event
        if str(view["stateToken"]) == sent:
            return None
        sent = str(view["stateToken"])
        return sse.End(callstate(view)) if view["state"] == "completed" else callstate(view)

    return sse.sse_response(hub.subscribe(("leg", ctx.endpoint.account_id, callId)), respond, opening=[RETRY],
                            keepalive=streams.KEEP_ALIVE_SECONDS, closed=hub.closed)


@router.get("/dialogs/stream", response_class=StreamingResponse, responses=_SSE,  # type: ignore[arg-type]
            operation_id="streamDialogs", summary="SSE stream of the user's SIP dialogs (RFC 4235 dialog-info XML)")
async def stream_dialogs(request: Request, ctx: CtiDep) -> StreamingResponse:
    engine = ctx.core.engine
    endpoint = ctx.endpoint
    entity = f"sip:{ctx.caller.user.get('email', endpoint.number)}"
    hub = _hub(request)

    def document(version: int, ended: list[dict[str, Any]] | None = None) -> str:
        views = [engine.snapshot(leg) for leg in list(endpoint.legs)]
        return dialog_info(views, entity, ctx.domain, version, ended)

    return sse.sse_response(hub.subscribe(("endpoint", endpoint.account_id, endpoint.number)),
                            dialog_stream(document), opening=[RETRY], keepalive=streams.KEEP_ALIVE_SECONDS,
                            closed=hub.closed)
