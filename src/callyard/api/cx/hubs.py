"""The CX SDK's SignalR 2 hubs at ``/miccsdk/signalr``: the family-neutral server of ``delivery/signalr``,
authenticated with the family's own tokens (``sessionid=Bearer <token>``), fed by an after-commit projection
of the contact center's ``cc.*`` events.

* ``employeeHub``: ``addSelfMonitor()`` → ``employeeStateChanged`` (EmployeeState),
  ``employeeConversationChanged`` ([Conversation]), ``employeeConversationRemoved`` ([conversation id]).
* ``agentHub``: ``onAgentStateChanged`` (AgentState) of the caller's own agents once ``addSelfMonitor()`` ran,
  and of the agents named to the twin's (inferred) ``addStateMonitor(ids)`` / ``removeStateMonitor(ids)``.
* ``queueHub``: ``addStateMonitor(ids)``, ``removeStateMonitor(ids)``, ``addConversationMonitor(ids)``,
  ``removeConversationMonitor(ids)`` → ``queueStateChanged`` (QueueState), ``queueConversationChanged``
  ([Conversation]), ``queueConversationRemoved`` ([conversation id]).

A monitor is a group of the connection (``employee:{id}``, ``agent:{id}``, ``state:{queueId}``,
``conversations:{queueId}``);
the projection pushes each event to the groups it concerns, and only to connections of the event's account
whose caller may still see it (the contact center's ``Desk`` decides, as it does for REST). What the caller may
not see is a hub error carrying the REST status (``D: {statusCode, errorCode}``) and changes nothing.

One ``SignalRServer`` per twin (``HubsOfTwin``), built when the family registers its projections; the route the
family mounts finds it on the request's twin. It stops with the twin; a connection ends when its token expires
or stops being valid (its user, employee or account removed), on the twin's clock.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from fastapi import APIRouter
from starlette.requests import HTTPConnection
from starlette.responses import PlainTextResponse
from starlette.routing import Match, Mount
from starlette.types import Receive, Scope, Send

from callyard.api.cx import wire
from callyard.api.cx.edge import STATUSES
from callyard.core.contact_center.desk import Desk
from callyard.core.errors import CoreError, Invalid, NotFound
from callyard.core.principal import Principal
from callyard.delivery.signalr import ConnectionInfo, Hub, HubContext, HubError, SignalRServer, credential
from callyard.events.event import Event

if TYPE_CHECKING:
    from callyard.container import Twin

log = logging.getLogger("callyard.api.cx.hubs")

HUBS_PATH = "/miccsdk/signalr"
SERVICE = "cx.signalr"   # its key in the twin's family_state
EVENTS = ("cc.employee.state", "cc.agent.state", "cc.queue.state", "cc.conversation.changed",
          "cc.conversation.removed")


@dataclass(frozen=True)
class HubCaller:
    """Who owns a connection: the principal of a CX token, and the token (re-checked while the connection
    lives, so that one that stops being valid ends it)."""
    principal: Principal
    token: str

    @property
    def principal_id(self) -> str:
        return self.principal.principal_id


def _hub_error(error: CoreError) -> HubError:
    return HubError(error.message, {"statusCode": STATUSES[error.kind], "errorCode": error.name})


class _CxHub(Hub):
    def __init__(self, context: HubContext, desk: Desk) -> None:
        super().__init__(context)
        self.desk = desk

    @property
    def actor(self) -> Principal:
        caller: HubCaller = self.context.principal
        return caller.principal


class EmployeeHub(_CxHub):
    async def addSelfMonitor(self) -> None:
        """Monitor the caller's own employee state and inbox (an employee's token; a client must impersonate)."""
        try:
            employee = self.desk.employee(self.actor, "me")
        except CoreError as error:
            raise _hub_error(error) from None
        self.context.groups.add(f"employee:{employee['id']}")

    async def removeSelfMonitor(self) -> None:
        """Stop monitoring the caller's own state and inbox (not in Mitel's samples; the inverse of the above)."""
        for group in list(self.context.groups):
            if group.startswith("employee:"):
                self.context.groups.discard(group)


class AgentHub(_CxHub):
    """Mitel's samples call nothing here: ``employeeHub.addSelfMonitor()`` also monitors the caller's own agents
    (the real server's per-employee "agent state monitors"). ``addStateMonitor(ids)`` / ``removeStateMonitor(ids)``
    (agents by id or reporting number, or employees by id, username or reporting: all their agents) are the
    twin's inferred addition, so that a supervisor or a wallboard can hear other agents; an agent may monitor
    only their own."""

    def _agent_ids(self, ids: Any) -> list[str]:
        found: list[str] = []
        try:
            for ref in _refs(ids, "agent or employee"):
                try:
                    found.append(self.desk.agent(self.actor, ref)["id"])
                except (NotFound, Invalid):   # an employee (``me`` of several agents included): all their agents
                    employee = self.desk.employee(self.actor, ref)
                    found.extend(a["id"] for a in employee["agents"].values())
        except CoreError as error:
            raise _hub_error(error) from None
        return found

    async def addStateMonitor(self, ids: Any) -> None:
        self.context.groups.add(*(f"agent:{a}" for a in self._agent_ids(ids)))

    async def removeStateMonitor(self, ids: Any) -> None:
        self.context.groups.discard(*(f"agent:{a}" for a in self._agent_ids(ids)))


def _refs(ids: Any, what: str) -> list[str]:
    """The ids of a monitor call: an array of strings (or numbers), or one alone."""
    refs = [ids] if isinstance(ids, (str, int)) and not isinstance(ids, bool) else ids
    if not isinstance(refs, list) or not all(isinstance(r, (str, int)) and not isinstance(r, bool) for r in refs):
        raise _hub_error(Invalid("InvalidRequest", f"ids must be an array of {what} ids, names or reporting numbers"))
    return [str(r) for r in refs]


class QueueHub(_CxHub):
    def _queue_ids(self, ids: Any) -> list[str]:
        """The queues named (id, name or reporting number, as the REST ``id``), each visible to the caller;
        all or none (a refusal changes no monitor)."""
        found: list[str] = []
        try:
            for ref in _refs(ids, "queue"):
                found.append(self.desk.queue(self.actor, ref)["id"])
        except CoreError as error:
            raise _hub_error(error) from None
        return found

    async def addStateMonitor(self, ids: Any) -> None:
        self.context.groups.add(*(f"state:{q}" for q in self._queue_ids(ids)))

    async def removeStateMonitor(self, ids: Any) -> None:
        self.context.groups.discard(*(f"state:{q}" for q in self._queue_ids(ids)))

    async def addConversationMonitor(self, ids: Any) -> None:
        self.context.groups.add(*(f"conversations:{q}" for q in self._queue_ids(ids)))

    async def removeConversationMonitor(self, ids: Any) -> None:
        self.context.groups.discard(*(f"conversations:{q}" for q in self._queue_ids(ids)))


# ---------------------------------------------------------------------- one server per twin
class HubsOfTwin:
    """The twin's SignalR server with the CX hubs, and the projection that feeds it."""

    def __init__(self, twin: "Twin") -> None:
        core = twin.core
        self.desk: Desk = core.contact_center.desk
        self.authorization = core.cc_authorization
        desk = self.desk
        hubs: dict[str, Callable[[HubContext], Hub]] = {
            "employeeHub": lambda context: EmployeeHub(context, desk),
            "agentHub": lambda context: AgentHub(context, desk),
            "queueHub": lambda context: QueueHub(context, desk),
        }
        self.server = SignalRServer(HUBS_PATH, self.authenticate, hubs, new_id=core.rt.ids.uuid,
                                    expires=self.expires, now=twin.clock.timestamp)

    def authenticate(self, connection: HTTPConnection) -> HubCaller | None:
        """The caller of a CX token in ``sessionid`` (or the Authorization header); any other token is none."""
        token = credential(connection)
        if token is None:
            return None
        try:
            return HubCaller(self.authorization.principal(token), token)
        except CoreError:
            return None

    def expires(self, caller: HubCaller) -> float | None:
        """When the connection's token expires: its ``exp``, or now if it no longer verifies."""
        try:
            principal = self.authorization.principal(caller.token)
        except CoreError:
            return 0.0
        exp = principal.claims.get("exp")
        return float(exp) if exp is not None else None

    # ------------------------------------------------------------------ who may hear what
    def _same_account(self, event: Event) -> Callable[[ConnectionInfo], bool]:
        return lambda info: info.principal.principal.account_id == event.account_id

    def _sees_queue(self, event: Event, queue_id: str) -> Callable[[ConnectionInfo], bool]:
        def sees(info: ConnectionInfo) -> bool:
            if info.principal.principal.account_id != event.account_id:
                return False
            try:
                self.desk.queue(info.principal.principal, queue_id)
            except CoreError:
                return False
            return True
        return sees

    def _monitors_agent(self, event: Event, agent_id: str, employee_id: str | None
                        ) -> Callable[[ConnectionInfo], bool]:
        """Connections monitoring the agent (``agentHub.addStateMonitor``) or its employee themselves
        (``employeeHub.addSelfMonitor``), whose caller may still see it."""
        own, other = f"employeehub.employee:{employee_id}", f"agenthub.agent:{agent_id}"

        def sees(info: ConnectionInfo) -> bool:
            if info.principal.principal.account_id != event.account_id:
                return False
            if own not in info.groups and other not in info.groups:
                return False
            try:
                self.desk.agent(info.principal.principal, agent_id)
            except CoreError:
                return False
            return True
        return sees

    def _sees_employee(self, event: Event, employee_id: str) -> Callable[[ConnectionInfo], bool]:
        def sees(info: ConnectionInfo) -> bool:
            if info.principal.principal.account_id != event.account_id:
                return False
            try:
                return bool(self.desk.employee(info.principal.principal, "me")["id"] == employee_id)
            except CoreError:
                return False
        return sees

    # ------------------------------------------------------------------ the projection
    def project(self, event: Event) -> None:
        """Push what a ``cc.*`` event means to the connections monitoring it (after commit, once per event)."""
        if not self.server.connected():
            return
        audience = wire.hub_audience(event)
        for hub, method, build in wire.lazy_hub_messages(event):
            args = lambda build=build: [build()]  # noqa: E731 - shaped only for a connection that takes it
            if hub == "employeeHub" and audience["employeeId"]:
                employee_id = audience["employeeId"]
                self.server.push(hub, method, args, group=f"employee:{employee_id}",
                                 where=self._sees_employee(event, employee_id))
            elif hub == "agentHub" and audience["agentId"]:
                self.server.push(hub, method, args,
                                 where=self._monitors_agent(event, audience["agentId"], audience["employeeId"]))
            elif hub == "queueHub" and audience["queueId"]:
                kind = "state" if method == "queueStateChanged" else "conversations"
                queue_id = audience["queueId"]
                self.server.push(hub, method, args, group=f"{kind}:{queue_id}",
                                 where=self._sees_queue(event, queue_id))


def register(twin: "Twin") -> None:
    """Build the twin's hubs, feed them from the event path and stop them with the twin."""
    hubs = HubsOfTwin(twin)
    twin.family_state[SERVICE] = hubs
    twin.stoppers.append(hubs.server.stop)

    def project(event: Event) -> None:
        try:
            hubs.project(event)
        except Exception:  # noqa: BLE001 - a push that fails must not fail the event path
            log.exception("cx hubs: pushing %s failed", event.type)
    twin.core.projections.after_commit("cx SignalR hubs", project, events=EVENTS)


def hubs_of(scope: Scope) -> HubsOfTwin | None:
    app = scope.get("app")
    twin = getattr(getattr(app, "state", None), "twin", None)
    state = getattr(twin, "family_state", None)
    return state.get(SERVICE) if state is not None else None


class TwinHubsRoute(Mount):
    """The route the family mounts: every endpoint under ``/miccsdk/signalr`` (any case, doubled slashes),
    HTTP and WebSocket, served by the request's twin's server. A ``Mount`` so that ``include_router`` keeps it."""

    def __init__(self) -> None:
        super().__init__(HUBS_PATH, app=self._unknown, name="cx-signalr")

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        if scope["type"] in ("http", "websocket"):
            hubs = hubs_of(scope)
            if hubs is not None and hubs.server.endpoint(scope) is not None:
                return Match.FULL, {}
        return Match.NONE, {}

    async def handle(self, scope: Scope, receive: Receive, send: Send) -> None:
        hubs = hubs_of(scope)
        endpoint = hubs.server.endpoint(scope) if hubs is not None else None
        if hubs is None or endpoint is None:
            await self._unknown(scope, receive, send)
            return
        await hubs.server.handle(endpoint, scope, receive, send)

    @staticmethod
    async def _unknown(scope: Scope, receive: Receive, send: Send) -> None:
        await PlainTextResponse("Not Found", 404)(scope, receive, send)


router = APIRouter()
router.routes.append(TwinHubsRoute())
