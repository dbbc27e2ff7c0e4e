"""Call Control (CTI), 19 operations: make, answer, hang up, hold, resume, alternate, consultation, connect,
transfer, conference add/remove/leave, move, mute/unmute, DTMF, park and pickup, under
``/api/cti/{domain}/{userId}``. Each maps to one engine verb on the user's extension; every mutating request
may carry ``stateToken``/``targetStateToken`` (a stale one is 409 ``state.token.mismatch`` and changes
nothing)."""
from __future__ import annotations

from typing import Any, Awaitable, Callable, get_args

from fastapi import APIRouter, Response
from pydantic import TypeAdapter
from pydantic_core import to_json

from callyard.api.hot import Decline, HotEndpoint, HotRequest, HotRoute
from callyard.api.family import header
from callyard.api.uc.edge.auth import UcCaller, bearer_ticket, grant

from callyard.api.uc.cti.common import Cti, CtiDep, inline_webhook, register_inline, tokens
from callyard.api.uc.cti.devices import terminal_of, user_extension
from callyard.api.uc.cti.schemas import (Action, CallState, Connect, Consultation, DialogPickup, Dtmf, InlineWebhook,
                                         MakeCall, StateToken, TargetCall, Transfer)
from callyard.api.uc.edge import CALL_CONTROL, ERROR_RESPONSES, invalid, not_found
from callyard.core.auth.tickets import Grant, has_cti_licence

router = APIRouter(prefix="/api/cti/{domain}/{userId}", tags=["Call Control (CTI)"], responses=ERROR_RESPONSES)

# Make-call and transfer types → the engine's routes (intrusions are their own verb).
_ROUTES = {"BASIC": "basic", "DIVERSION_BYPASS": "bypass", "VOICEMAIL": "voicemail", "INTERCOM": "intercom",
           "CAMP_ON": "camp_on"}
_INTRUSIONS = {"INTRUSION": "INTRUSION", "BARGE": "BARGE", "WHISPER": "WHISPER", "MONITOR": "MONITOR"}


def _token(body: StateToken | None) -> int | None:
    return body.stateToken if body is not None else None


@router.post("/devices/{deviceId}/calls", response_model=CallState, operation_id="makeCall",
             summary="Set up a call from a device of the user")
async def make_call(deviceId: str, body: MakeCall, ctx: CtiDep) -> dict[str, Any]:
    terminal = terminal_of(ctx.endpoint, deviceId)
    hook = inline_webhook(body)
    destination = ctx.destination(body.destination)
    engine = ctx.core.engine
    if body.type in _INTRUSIONS:
        view = await engine.intrude(ctx.caller.principal, ctx.number, destination, _INTRUSIONS[body.type],
                                    terminal=terminal, then=register_inline(ctx, hook))
    else:
        line = (body.userLine.type, body.userLine.groupId) if body.userLine is not None else None
        view = await engine.originate(ctx.caller.principal, ctx.number, destination, route=_ROUTES[body.type],
                                      terminal=terminal, then=register_inline(ctx, hook), line=line)
    return ctx.render(view)


@router.post("/calls/{callId}/answer/{deviceId}", response_model=CallState, operation_id="answerCall",
             summary="Answer a ringing call on a device")
async def answer(callId: str, deviceId: str, ctx: CtiDep, body: InlineWebhook | None = None) -> dict[str, Any]:
    terminal = terminal_of(ctx.endpoint, deviceId)
    hook = inline_webhook(body)
    view = await ctx.core.engine.answer(ctx.caller.principal, ctx.number, callId, terminal=terminal,
                                        then=register_inline(ctx, hook))
    return ctx.render(view)


@router.delete("/calls/{callId}", status_code=204, response_class=Response, operation_id="deleteCall",
               summary="Hang up an established call, reject a ringing one or cancel an outgoing one")
async def hang_up(callId: str, ctx: CtiDep) -> Response:
    await ctx.core.engine.end(ctx.caller.principal, ctx.number, callId)
    return Response(status_code=204)


@router.post("/calls/{callId}/hold", response_model=CallState, operation_id="holdCall", summary="Hold a call")
async def hold(callId: str, ctx: CtiDep, body: StateToken | None = None) -> dict[str, Any]:
    return ctx.render(await ctx.core.engine.hold(ctx.caller.principal, ctx.number, callId,
                                                 expect=tokens(callId, _token(body))))


@router.post("/calls/{callId}/resume", response_model=CallState, operation_id="resumeCall",
             summary="Resume a held call")
async def resume(callId: str, ctx: CtiDep, body: StateToken | None = None) -> dict[str, Any]:
    return ctx.render(await ctx.core.engine.retrieve(ctx.caller.principal, ctx.number, callId,
                                                     expect=tokens(callId, _token(body))))


@router.post("/calls/{callId}/alternate", response_model=CallState, operation_id="alternateCall",
             summary="Hold the call and retrieve (or answer) another call on the same device")
async def alternate(callId: str, body: TargetCall, ctx: CtiDep) -> dict[str, Any]:
    view = await ctx.core.engine.alternate(ctx.caller.principal, ctx.number, callId, body.targetCallId,
                                           expect=tokens(callId, body.stateToken, body.targetCallId,
                                                         body.targetStateToken))
    return ctx.render(view)


@router.post("/calls/{callId}/consultation", response_model=CallState, operation_id="consultationCall",
             summary="Make a consultation call (the call goes on hold)")
async def consultation(callId: str, body: Consultation, ctx: CtiDep) -> dict[str, Any]:
    hook = inline_webhook(body)
    if body.type not in _ROUTES:
        invalid("type", "type.not.supported", "a consultation call is BASIC, DIVERSION_BYPASS, VOICEMAIL or "
                "INTERCOM", body.type)
    view = await ctx.core.engine.consult(ctx.caller.principal, ctx.number, callId, ctx.destination(body.destination),
                                         route=_ROUTES[body.type], expect=tokens(callId, body.stateToken),
                                         then=register_inline(ctx, hook))
    return ctx.render(view)


@router.post("/calls/{callId}/connect", response_model=CallState, operation_id="connectCalls",
             summary="Connect two of the user's calls (attended transfer) and leave")
async def connect(callId: str, body: Connect, ctx: CtiDep) -> dict[str, Any]:
    expect = tokens(callId, body.stateToken, body.targetCallId, body.targetStateToken)
    engine = ctx.core.engine
    if body.waitForAnswer:
        view = await engine.connect_when_answered(ctx.caller.principal, ctx.number, callId, body.targetCallId,
                                                  expect=expect)
    else:
        view = await engine.supervised_transfer(ctx.caller.principal, ctx.number, callId, body.targetCallId,
                                                expect=expect, acted=True)
    return ctx.render(view)


@router.post("/calls/{callId}/transfer", response_model=CallState, operation_id="transferCall",
             summary="Transfer the call to a new destination")
async def transfer(callId: str, body: Transfer, ctx: CtiDep) -> dict[str, Any]:
    destination = ctx.destination(body.destination)
    engine = ctx.core.engine
    expect = tokens(callId, body.stateToken)
    if body.blind or body.type == "VOICEMAIL":
        # A transfer to voicemail never waits: the mailbox answers at once.
        view = await engine.blind_transfer(ctx.caller.principal, ctx.number, callId, destination,
                                           route=_ROUTES[body.type], expect=expect)
    else:
        # Not blind: the destination is called (the call waits on hold) and the call is handed over when it
        # answers.
        consultation = await engine.consult(ctx.caller.principal, ctx.number, callId, destination,
                                            route=_ROUTES[body.type], transfer_on_answer=True, expect=expect)
        view = engine.snapshot_of(ctx.endpoint.account_id, callId) or consultation
    return ctx.render(view)


@router.post("/calls/{callId}/conference", response_model=CallState, operation_id="conferenceCall",
             summary="Make the call an ad-hoc conference and add another call of the user to it")
async def conference(callId: str, body: TargetCall, ctx: CtiDep) -> dict[str, Any]:
    view = await ctx.core.engine.conference(ctx.caller.principal, ctx.number, callId, body.targetCallId,
                                            keep_acted=True, expect=tokens(callId, body.stateToken, body.targetCallId,
                                                          body.targetStateToken))
    return ctx.render(view, event="PARTICIPANT_ADDED")


@router.delete("/calls/{callId}/participants/{participantId}", response_model=CallState,
               operation_id="removeParticipant", summary="Remove a participant from an ad-hoc conference")
async def remove_participant(callId: str, participantId: str, ctx: CtiDep,
                             body: StateToken | None = None) -> dict[str, Any]:
    view = await ctx.core.engine.drop_participant(ctx.caller.principal, ctx.number, callId, participantId,
                                                  expect=tokens(callId, _token(body)))
    return ctx.render(view, event="PARTICIPANT_LEFT")


@router.post("/calls/{callId}/leave", response_model=CallState, operation_id="leaveConference",
             summary="Leave an ad-hoc conference; the others talk on")
async def leave(callId: str, ctx: CtiDep, body: StateToken | None = None) -> dict[str, Any]:
    view = await ctx.core.engine.leave(ctx.caller.principal, ctx.number, callId, expect=tokens(callId, _token(body)))
    return ctx.render(view, event="LEFT_CONFERENCE")


@router.post("/calls/{callId}/move/{deviceId}", response_model=CallState, operation_id="moveCall",
             summary="Move the established call to another device of the user")
async def move(callId: str, deviceId: str, ctx: CtiDep, body: StateToken | None = None) -> dict[str, Any]:
    terminal = terminal_of(ctx.endpoint, deviceId)
    return ctx.render(await ctx.core.engine.move(ctx.caller.principal, ctx.number, callId, terminal,
                                                 expect=tokens(callId, _token(body))))


@router.post("/calls/{callId}/mute", response_model=CallState, operation_id="muteCall", summary="Mute the call")
async def mute(callId: str, ctx: CtiDep, body: StateToken | None = None) -> dict[str, Any]:
    view = await ctx.core.engine.mute(ctx.caller.principal, ctx.number, callId, True,
                                      expect=tokens(callId, _token(body)))
    return ctx.render(view, event="MUTED")


@router.post("/calls/{callId}/unmute", response_model=CallState, operation_id="unmuteCall",
             summary="Unmute the call")
async def unmute(callId: str, ctx: CtiDep, body: StateToken | None = None) -> dict[str, Any]:
    view = await ctx.core.engine.mute(ctx.caller.principal, ctx.number, callId, False,
                                      expect=tokens(callId, _token(body)))
    return ctx.render(view, event="UNMUTED")


@router.post("/calls/{callId}/dtmf", response_model=CallState, operation_id="sendDtmf",
             summary="Send DTMF digits (0-9, A-D, #, *) in the call")
async def dtmf(callId: str, body: Dtmf, ctx: CtiDep) -> dict[str, Any]:
    return ctx.render(await ctx.core.engine.send_dtmf(ctx.caller.principal, ctx.number, callId, body.digits,
                                                      expect=tokens(callId, body.stateToken)))


@router.post("/calls/{callId}/park", response_model=CallState, operation_id="parkCall",
             summary="Park the call (it waits on hold for a pickup; it leaves the user's state)")
async def park(callId: str, ctx: CtiDep, body: StateToken | None = None) -> dict[str, Any]:
    return ctx.render(await ctx.core.engine.park(ctx.caller.principal, ctx.number, callId,
                                                 expect=tokens(callId, _token(body))))


@router.post("/devices/{deviceId}/pickup/{callId}", response_model=CallState, operation_id="pickupCall",
             summary="Pick up a call ringing for another user (or a parked call) on a device")
async def pickup(deviceId: str, callId: str, ctx: CtiDep, body: InlineWebhook | None = None) -> dict[str, Any]:
    terminal = terminal_of(ctx.endpoint, deviceId)
    hook = inline_webhook(body)
    view = await ctx.core.engine.pickup(ctx.caller.principal, ctx.number, callId, terminal=terminal,
                                        then=register_inline(ctx, hook))
    return ctx.render(view)


@router.post("/devices/{deviceId}/pickup", response_model=CallState, operation_id="pickupDialog",
             summary="Pick up a call by its SIP dialog identifiers (Call-ID, to-tag, from-tag)")
async def pickup_dialog(deviceId: str, body: DialogPickup, ctx: CtiDep) -> dict[str, Any]:
    terminal = terminal_of(ctx.endpoint, deviceId)
    hook = inline_webhook(body)
    engine = ctx.core.engine
    leg = engine.dialog_leg(ctx.endpoint.account_id, body.callId, body.toTag, body.fromTag)
    if leg is None:
        not_found("callId", "dialog.does.not.exist", "no dialog has that Call-ID, to-tag and from-tag", body.callId)
    view = await engine.pickup(ctx.caller.principal, ctx.number, leg.leg_id, terminal=terminal,
                               early_only=body.earlyOnly, then=register_inline(ctx, hook))
    return ctx.render(view)


# ---------------------------------------------------------------------------- hot (callyard.api.hot)
# The call verbs a CTI client sends most (hold, resume, answer, hang up, mute, unmute, DTMF, leave, park) are
# served hot: the same dependencies (ticket, path user, CTI licence) resolved without a Starlette request and
# the same handler; a body that is not plainly well formed goes to the FastAPI route (``Decline``), so every
# refusal stays FastAPI's own.
_CALL_STATE = TypeAdapter(CallState)
_INT64 = (-2**63, 2**63)


def _hot_body(request: HotRequest, allowed: frozenset[str]) -> dict[str, Any] | None:
    """The optional JSON object body, with only ``allowed`` members and a ``stateToken`` (when present) that is
    an int64 or null; None for no body. Anything else declines."""
    if not request.body.strip():
        return None
    body = request.json_object()
    if not allowed.issuperset(body):
        raise Decline()
    token = body.get("stateToken")
    if not (token is None or (type(token) is int and _INT64[0] <= token < _INT64[1])):
        raise Decline()
    return body


_STATE_TOKEN = frozenset({"stateToken"})
_DTMF = frozenset({"stateToken", "digits"})
_NOTHING: frozenset[str] = frozenset()


async def _hot_cti(request: HotRequest) -> Cti:
    """``cti`` over ``cti_caller`` over ``grant``, as FastAPI resolves them for the CTI routes (and with what
    they leave in the request state: the grant, the principal the journal attributes the request to)."""
    scope = request.scope
    scope["path_params"] = request.params
    core = request.twin.core
    state = scope["state"]
    ticket: Grant | None = state.get("uc_grant")
    if ticket is None:
        token = bearer_ticket(header(scope, b"authorization"))
        if token is None:
            ticket = await grant(request.request)   # the query's ticket, or none: its refusal
        else:
            ticket = core.tickets.verify(token)
            state["uc_grant"] = ticket
            state["principal"] = ticket.principal
    params = request.params
    target = core.tickets.authorize(ticket, CALL_CONTROL, params["domain"], params["userId"],
                                    licence=has_cti_licence)
    return Cti(core, UcCaller(ticket, target), user_extension(core.engine, target))


def _encoded(answer: dict[str, Any]) -> bytes:
    """A CallState as FastAPI's response model sends it (validated, then pydantic-core's JSON).

    ``wire.call_state`` builds every member in the model's order and of the model's type but for the values it
    passes on from the engine's view; when those are of the declared types (``_plain``), the model's dump is
    the dict's own JSON once each party has its ``intrusionType`` (the one member the model adds, as null).
    Validating builds some twenty model objects per answer, the dearest part of it; any answer that is not
    plainly of the model's types is still validated and dumped through the model (and refused alike)."""
    if _plain(answer):
        return to_json({**answer, "remoteParty": _party(answer["remoteParty"]),
                        "participants": [{"id": p["id"], "remoteParty": _party(p["remoteParty"]),
                                          "historyInfo": p["historyInfo"]} for p in answer["participants"]],
                        "historyInfo": {**answer["historyInfo"],
                                        "initialParty": _party(answer["historyInfo"]["initialParty"])}})
    return _CALL_STATE.dump_json(_CALL_STATE.validate_python(answer), by_alias=True)


_INTRUSIONS_SEEN = frozenset(_INTRUSIONS.values()) | {None}
_ACTIONS = frozenset(get_args(Action.model_fields["action"].annotation))


def _party(party: dict[str, Any]) -> dict[str, Any]:
    return party if "intrusionType" in party else {**party, "intrusionType": None}


def _plain_party(party: dict[str, Any]) -> bool:
    return (type(party["displayName"]) is str and type(party["displayNumber"]) is str
            and party.get("intrusionType") in _INTRUSIONS_SEEN)


def _plain(answer: dict[str, Any]) -> bool:
    """The members ``wire.call_state`` passes on from the engine's view are of the model's types (the others it
    builds so: ``tests/api/uc/test_hot_routes.py`` compares both encodings)."""
    description = answer["eventDescription"]
    if not (type(answer["stateToken"]) is int and type(answer["callId"]) is str
            and type(answer["correlationId"]) is str and (description is None or type(description) is str)
            and _plain_party(answer["remoteParty"]) and _plain_party(answer["historyInfo"]["initialParty"])):
        return False
    for participant in answer["participants"]:
        if type(participant["id"]) is not str or not _plain_party(participant["remoteParty"]):
            return False
    for device in answer["deviceIds"]:
        if type(device) is not str:
            return False
    for action in answer["actions"]:
        if action["action"] not in _ACTIONS:
            return False
        for device in action["deviceIds"]:
            if type(device) is not str:
                return False
    return True


def _state_token_verb(verb: Callable[[str, Cti, StateToken | None], Awaitable[dict[str, Any]]]) -> HotEndpoint:
    """A verb whose body is the optional ``StateToken`` (hold, resume, mute, unmute, leave, park)."""
    async def endpoint(request: HotRequest) -> bytes:
        body = _hot_body(request, _STATE_TOKEN)
        token = None if body is None else StateToken(stateToken=body.get("stateToken"))
        ctx = await _hot_cti(request)
        return _encoded(await verb(request.params["callId"], ctx, token))
    return endpoint


async def _hot_dtmf(request: HotRequest) -> bytes:
    body = _hot_body(request, _DTMF)
    if body is None or type(body.get("digits")) is not str:
        raise Decline()
    ctx = await _hot_cti(request)
    return _encoded(await dtmf(request.params["callId"], Dtmf(**body), ctx))


async def _hot_answer(request: HotRequest) -> bytes:
    """Answer without an inline webhook (no body, or ``{}``; a webhook's fields go to the FastAPI route)."""
    body = _hot_body(request, _NOTHING)
    ctx = await _hot_cti(request)
    params = request.params
    return _encoded(await answer(params["callId"], params["deviceId"], ctx,
                                 None if body is None else InlineWebhook()))


async def _hot_hang_up(request: HotRequest) -> Response:
    ctx = await _hot_cti(request)
    return await hang_up(request.params["callId"], ctx)


_CALL = "/api/cti/{domain}/{userId}/calls/{callId}"
HOT_ROUTES = (HotRoute("POST", f"{_CALL}/hold", _state_token_verb(hold)),
              HotRoute("POST", f"{_CALL}/resume", _state_token_verb(resume)),
              HotRoute("POST", f"{_CALL}/mute", _state_token_verb(mute)),
              HotRoute("POST", f"{_CALL}/unmute", _state_token_verb(unmute)),
              HotRoute("POST", f"{_CALL}/leave", _state_token_verb(leave)),
              HotRoute("POST", f"{_CALL}/park", _state_token_verb(park)),
              HotRoute("POST", f"{_CALL}/dtmf", _hot_dtmf),
              HotRoute("POST", f"{_CALL}/answer/{{deviceId}}", _hot_answer),
              HotRoute("DELETE", _CALL, _hot_hang_up))
