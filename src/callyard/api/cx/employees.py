"""Employee (23 operations): employees, their state (login/logout, busy, DND, hot desking), agent-group
presence, reason codes, queues, extensions, photo, greetings and their inbox of conversations."""
from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, Request

from callyard.api.cx import schemas, wire
from callyard.api.cx.common import Caller, DeskDep, expanded, page
from callyard.api.cx.email import email_update
from callyard.api.cx.edge import enum_name, expansions, field, json_body, offset_of
from callyard.api.deps import CoreDep
from callyard.api.hot import HotRequest, HotRoute
from callyard.core.contact_center.model import AVAILABLE_REASONS, CONVERSATION_ACTIONS, PRESENCE
from callyard.core.errors import Invalid, NotImplementedRoute

router = APIRouter(tags=["Employee"], responses=schemas.ERRORS)

# ConversationActionType as the seed numbers it.
ACTIONS = CONVERSATION_ACTIONS
REPLY_KEYS = ("body", "message", "text")   # the tag of a Send that carries the reply's text
TRANSFER_DESTINATIONS = ("Queue", "Employee", "External", "VoiceMail", "EndPoint")
REQUEST_TYPES = ("Chat", "Email", "Sms", "OpenMedia", "Voice", "VoiceNone", "VoiceSilent", "VoiceWhisper",
                 "VoiceBarge", "RequestHelp")


def state_change(body: dict[str, Any]) -> dict[str, Any]:
    """An EmployeeStateUpdate (any property case, enums as names or numbers) → the core's change."""
    reason = field(body, "reason")
    hot_desk = field(body, "hotDeskBaseExtension")
    if reason is not None and (not isinstance(reason, (str, int)) or isinstance(reason, bool)):
        raise Invalid("InvalidRequest", "reason is a reason code id, name or reporting number")
    if hot_desk is not None and (not isinstance(hot_desk, (str, int)) or isinstance(hot_desk, bool)):
        raise Invalid("InvalidRequest", "hotDeskBaseExtension is an extension number")
    return {"state": enum_name(field(body, "state"), PRESENCE, "state"),
            "availableReason": enum_name(field(body, "availableReason"), AVAILABLE_REASONS, "availableReason",
                                         required=False),
            "reason": None if reason in (None, "") else str(reason),
            "hotDeskBaseExtension": None if hot_desk in (None, "") else str(hot_desk)}


def conversation_update(body: dict[str, Any]) -> dict[str, Any]:
    """A ConversationUpdate → the core's action (``conversationAction`` must be given at a minimum)."""
    digits = field(body, "dtmfDigit")
    target = field(body, "transferDestination")
    tags = field(body, "tags")
    if tags is not None and (not isinstance(tags, list) or not all(isinstance(t, dict) for t in tags)):
        raise Invalid("InvalidRequest", "tags is a list of {key, value}")
    tags = [{"key": field(t, "key"), "value": field(t, "value")} for t in tags or []]
    body_tag = next((t["value"] for t in tags if str(t["key"]).lower() in REPLY_KEYS), None)
    return {"id": field(body, "id"), "tags": tags, "reply": {"body": body_tag} if body_tag is not None else None,
            "action": enum_name(field(body, "conversationAction"), ACTIONS, "conversationAction"),
            "transferDestinationType": enum_name(field(body, "transferDestinationType"), TRANSFER_DESTINATIONS,
                                                 "transferDestinationType", required=False),
            "transferDestination": str(target) if isinstance(target, (str, int)) and target != "" else None,
            "dtmfDigit": str(digits) if isinstance(digits, (str, int)) and digits != "" else None,
            **email_update(body, tags)}   # an e-mail's reply mode, draft and its fields (api/cx/email.py)


async def conversation_updates(request: Request) -> list[dict[str, Any]]:
    """A list of ConversationUpdates (the bulk PUTs of an inbox and of a queue), each naming its conversation."""
    body = await json_body(request, kind=list)
    updates = [conversation_update(item) if isinstance(item, dict) else {} for item in body]
    for update in updates:
        if not update or not isinstance(update.get("id"), str):
            raise Invalid("InvalidRequest", "each ConversationUpdate names its conversation (id)")
    return updates


def _employee(core: Any, doc: dict[str, Any], desk: Any, request: Request, caller: Any) -> dict[str, Any]:
    embedded = {}
    if "state" in expansions(dict(request.query_params), ("state",)):
        embedded["state"] = wire.employee_state(desk.employee_state(caller, doc["id"]))
    return wire.employee(doc, core.rt.state.get("user", doc["userId"]), embedded)


@router.get("/employees", responses=schemas.ok(schemas.collection(schemas.EmployeeModel)),
            summary="OData Get all employees")
async def employees(request: Request, caller: Caller, desk: DeskDep, core: CoreDep) -> Any:
    wanted = expanded(request, ("state",))
    items = []
    for doc in desk.employees(caller):
        embedded = {"state": wire.employee_state(desk.state_of(doc))} if wanted else {}
        items.append(wire.employee(doc, core.rt.state.get("user", doc["userId"]), embedded))
    return page(request, items, ("state",))


@router.put("/employees/states", responses=schemas.ok(str), summary="Update the state of a list of employees",
            openapi_extra=schemas.body(schemas.STATE_UPDATES))
async def put_states(request: Request, caller: Caller, desk: DeskDep) -> Any:
    body = await json_body(request, kind=list)
    changes = []
    for item in body:
        if not isinstance(item, dict):
            raise Invalid("InvalidRequest", "each item is an EmployeeStateUpdate with the employee's id")
        ref = field(item, "id") or field(item, "employeeId")
        if not isinstance(ref, str) or not ref:
            raise Invalid("InvalidRequest", "each EmployeeStateUpdate names the employee (id)")
        changes.append((ref, state_change(item)))
    await desk.set_employee_states(caller, changes, answer=False)
    return "OK"


@router.get("/employees/{id}", responses=schemas.ok(schemas.EmployeeModel), summary="OData Get an employee")
async def employee(id: str, request: Request, caller: Caller, desk: DeskDep, core: CoreDep) -> Any:
    return _employee(core, desk.employee(caller, id), desk, request, caller)


@router.post("/employees/{id}/photo", responses=schemas.ok(str), summary="Upload user profile picture",
             openapi_extra=schemas.body(schemas.PHOTO))
async def photo(id: str, request: Request, caller: Caller, desk: DeskDep, core: CoreDep) -> Any:
    body = await json_body(request)
    encoded = field(body, "base64String")
    if not isinstance(encoded, str) or not encoded:
        raise Invalid("InvalidRequest", "base64String is required")
    try:
        data = base64.b64decode(encoded.split(",", 1)[-1], validate=True)
    except (binascii.Error, ValueError):
        raise Invalid("InvalidRequest", "base64String is not base64") from None
    user = desk.photo_owner(caller, id)
    await core.directory.put_photo(caller, "user", user, data)
    return "OK"


@router.get("/employees/{id}/agentgroups", responses=schemas.ok(schemas.collection(schemas.AgentGroupModel)),
            summary="OData Get agent groups for an employee")
async def employee_agent_groups(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    return page(request, [wire.agent_group(g) for g in desk.employee_agent_groups(caller, id)])


@router.get("/employees/{id}/queues", responses=schemas.ok(schemas.collection(schemas.QueueModel)),
            summary="OData Get queues for an employee")
async def employee_queues(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    return page(request, [wire.queue(q) for q in desk.employee_queues(caller, id)])


@router.get("/employees/{id}/extensions", responses=schemas.ok(schemas.collection(schemas.ExtensionModel)),
            summary="OData Get extensions for an employee")
async def employee_extensions(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    return page(request, [wire.extension(e) for e in desk.employee_extensions(caller, id)])


@router.get("/employees/{id}/state", responses=schemas.ok(schemas.EmployeeStateModel),
            summary="Get the state of an employee")
async def get_state(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    return wire.employee_state(desk.employee_state(caller, id), offset_of(request))


@router.put("/employees/{id}/state", responses=schemas.ok(str), summary="Update the state of an employee",
            openapi_extra=schemas.body(schemas.STATE_UPDATE))
async def put_state(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    await desk.change_employee_state(caller, id, state_change(await json_body(request)))
    return "OK"


async def _hot_put_state(request: HotRequest) -> str:
    """``PUT /employees/{id}/state`` served hot (``callyard.api.hot``): the caller as the route's dependency
    resolves it (first, as FastAPI does), then the same body rules and handler. A body that is not a JSON object
    sent as ``application/json`` declines: the route answers it (``json_body``'s refusals)."""
    caller = request.caller(request.twin.core.cc_authorization.principal, "MissingToken")
    body = request.json_object()
    await request.twin.core.contact_center.desk.change_employee_state(caller, request.params["id"],
                                                                      state_change(body))
    return "OK"


HOT_ROUTES = (HotRoute("PUT", "/miccsdk/api/v1/employees/{id}/state", _hot_put_state),)


@router.get("/employees/{id}/agentgrouppresence", responses=schemas.ok(schemas.collection(schemas.EmployeeAgentGroup)),
            summary="OData Get the agent group presence of an employee")
async def get_group_presence(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    return page(request, [wire.group_presence(g) for g in desk.agent_group_presence(caller, id)])


def _groups(items: Any) -> list[dict[str, Any]]:
    if not isinstance(items, list) or not all(isinstance(i, dict) for i in items):
        raise Invalid("InvalidRequest", "agent groups are a list of {id, statuses}")
    return [{"id": field(i, "id"), "statuses": [{"id": field(s, "id"), "type": field(s, "type"),
                                                 "status": field(s, "status")}
                                                for s in (field(i, "statuses") or []) if isinstance(s, dict)]}
            for i in items]


@router.put("/employees/{id}/agentgrouppresence", responses=schemas.ok(str),
            summary="Update the agent group presence of an employee",
            openapi_extra=schemas.body(schemas.GROUP_PRESENCES))
async def put_group_presence(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    body = await json_body(request, kind=(dict, list))
    items = body if isinstance(body, list) else (field(field(body, "_embedded") or {}, "items"))
    await desk.set_agent_group_presence(caller, id, _groups(items))
    return "OK"


@router.get("/employees/{id}/agentgrouppresence/{groupid}",
            responses=schemas.ok(schemas.collection(schemas.EmployeeAgentGroup)),
            summary="OData Get the agent group presence of an employee for a particular group")
async def get_one_group_presence(id: str, groupid: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    return page(request, [wire.group_presence(g) for g in desk.agent_group_presence(caller, id, groupid)])


@router.put("/employees/{id}/agentgrouppresence/{groupid}", responses=schemas.ok(str),
            summary="Update the agent group presence of an employee for a particular group",
            openapi_extra=schemas.body(schemas.GROUP_PRESENCE))
async def put_one_group_presence(id: str, groupid: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    body = await json_body(request)
    [group] = _groups([{**body, "id": groupid}])
    await desk.set_agent_group_presence(caller, id, [group])
    return "OK"


@router.get("/employees/{id}/busyreasoncodes", responses=schemas.ok(schemas.collection(schemas.ReasonCodeModel)),
            summary='OData Get all "Busy" and "Do Not Disturb" reason codes allowed for an employee')
async def busy_reason_codes(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    return page(request, [wire.reason_code(r) for r in desk.busy_reason_codes(caller, id)])


@router.get("/employees/{id}/accountcodes", responses=schemas.ok(schemas.collection(schemas.ReasonCodeModel)),
            summary="OData Get all account codes allowed for an employee")
async def account_codes(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    desk.employee(caller, id)
    return page(request, [])  # the twin's contact center configures no account codes


@router.get("/employees/{id}/greetings", responses=schemas.ok(schemas.GreetingsModel),
            summary="Get all greetings for an employee")
async def greetings(id: str, caller: Caller, desk: DeskDep) -> Any:
    return desk.greetings(caller, id)


@router.post("/employees/{id}/greetings", responses=schemas.ok(str),
             summary="Start an outbound call to an agent to record their default greeting or a queue greeting",
             openapi_extra=schemas.body(schemas.GREETING_RECORDING))
async def record_greeting(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    body = await json_body(request)
    desk.greetings(caller, id)
    if not isinstance(field(body, "isDefault"), bool):
        raise Invalid("InvalidRequest", "isDefault is required (true or false)")
    raise NotImplementedRoute("GreetingRecordingNotAvailable",
                              "the twin records no audio: greeting recording calls are not available")


@router.put("/employees/{id}/greetings/{actionName}/{fileToDelete}", responses=schemas.ok(schemas.GreetingsModel),
            summary="Updates an employee's agent greeting",
            openapi_extra=schemas.body(schemas.GREETINGS))
async def update_greetings(id: str, actionName: str, fileToDelete: str, request: Request, caller: Caller,
                           desk: DeskDep) -> Any:
    body = await json_body(request)
    return await desk.update_greetings(caller, id, actionName, fileToDelete, {
        "isDefault": field(body, "isDefault"), "defaultGreeting": field(body, "defaultGreeting"),
        "greetings": field(body, "greetings"), "queueGreetings": field(body, "queueGreetings")})


@router.get("/employees/{id}/conversations", responses=schemas.ok(schemas.collection(schemas.ConversationModel)),
            summary="OData Get active conversations in an employee's inbox")
async def inbox(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    kind = request.query_params.get("type", "")
    if kind.lower() not in ("", "active", "drafts", "failed"):
        raise Invalid("InvalidRequest", "type is active, drafts or failed")
    refresh = request.query_params.get("refreshMonitors", "false").lower()
    if refresh not in ("true", "false"):
        raise Invalid("InvalidRequest", "refreshMonitors is true or false")
    items = desk.employee_conversations(caller, id, kind.lower() or "active")
    offset = offset_of(request)
    return page(request, [wire.conversation(c, offset) for c in items])


@router.put("/employees/{id}/conversations", responses=schemas.ok(str),
            summary="Update a list of conversations in an employees inbox",
            openapi_extra=schemas.body(schemas.CONVERSATION_UPDATES))
async def inbox_update_many(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    for update in await conversation_updates(request):
        await desk.conversation_action(caller, id, update["id"], update)
    return "OK"


@router.post("/employees/{id}/conversations", responses=schemas.ok(str),
             summary="Start a new conversation (Voice, SMS) or a silent monitor",
             openapi_extra=schemas.body(schemas.CONVERSATION_REQUEST))
async def start(id: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    body = await json_body(request)
    values = dict(enumerate(REQUEST_TYPES))
    request_type = enum_name(field(body, "type"), REQUEST_TYPES, "type", values=values)
    to, source = field(body, "to"), field(body, "from")
    return await desk.start_conversation(caller, id, {
        "type": request_type, "to": str(to) if isinstance(to, (str, int)) else None,
        "from": str(source) if isinstance(source, (str, int)) else None, "subject": field(body, "subject")})


@router.get("/employees/{id}/conversations/{conversationId}", responses=schemas.ok(schemas.ConversationModel),
            summary="Get a conversation")
async def inbox_item(id: str, conversationId: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    for name in ("waitTimeMs", "waitTimeForCallDetailsMs"):
        raw = request.query_params.get(name)
        if raw is not None and not (raw.isascii() and raw.isdigit()):
            raise Invalid("InvalidRequest", f"{name} is a number of milliseconds")
    return wire.conversation(desk.employee_conversation(caller, id, conversationId), offset_of(request))


@router.put("/employees/{id}/conversations/{conversationId}", responses=schemas.ok(str),
            summary="Update a conversation in an employees inbox",
            openapi_extra=schemas.body(schemas.CONVERSATION_UPDATE))
async def inbox_update(id: str, conversationId: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    update = conversation_update(await json_body(request))
    await desk.conversation_action(caller, id, conversationId, update)
    return "OK"
