"""What each console screen shows, read from the one core (and the twin's journal, faults, audit and
outboxes) for one viewer and one account. Plain dicts for the templates; nothing here changes state.

Every read goes through the account the viewer may see (``Viewer.account``) or the viewer's scope
(``Viewer.scope``: None for the operator), the same filters the control plane applies."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from callyard.api.console.session import Viewer
from callyard.core.errors import CoreError
from callyard.core.principal import Principal
from callyard.delivery.signalr import SignalRServer

if TYPE_CHECKING:
    from callyard.container import Twin

JOURNAL_ROWS = 200
EVENT_ROWS = 100


@dataclass(frozen=True)
class Screen:
    twin: "Twin"
    viewer: Viewer
    account: dict[str, Any]

    @property
    def account_id(self) -> str:
        return str(self.account["accountId"])

    @property
    def desk_actor(self) -> Principal:
        """The contact center's view of the account for a viewer who may see it: a supervisor's (the control
        plane acts as one, ``Desk.caller``), bound to this account."""
        return Principal(principal_id=self.viewer.principal.principal_id, account_id=self.account_id,
                         role="ACCOUNT_ADMIN", kind="control")


def phone_state(view: dict[str, Any]) -> str:
    """The switchboard's word for an endpoint: out of service, a call state, else DND or forwarded, else idle."""
    state = view["state"]
    if state != "idle":
        return str(state)
    settings = view.get("settings") or {}
    if view.get("dnd"):
        return "dnd"
    if settings.get("forwardAlways"):
        return "forwarded"
    return "idle"


def switchboard(screen: Screen) -> dict[str, Any]:
    board = screen.twin.core.engine.switchboard(screen.account_id)
    for view in board["extensions"] + board["groups"]:
        view["phoneState"] = phone_state(view)
        view["forward"] = (view.get("settings") or {}).get("forwardAlways")
    waiting = {q["groupId"]: q["waiting"] for q in
               screen.twin.core.contact_center.queue_stats(screen.viewer.principal, screen.account_id)}
    for view in board["groups"]:
        view["waiting"] = waiting.get(view.get("groupId"), 0)
    names = {v["endpointId"]: v["name"] for v in board["extensions"] + board["groups"]}
    for call in board["calls"]:
        for leg in call["legs"]:
            leg["label"] = names.get(leg["endpointId"]) or leg.get("fromName") or ""
    return board


def contact_center(screen: Screen) -> dict[str, Any]:
    center = screen.twin.core.contact_center
    queues: list[dict[str, Any]] = []
    employees: list[dict[str, Any]] = []
    try:
        desk = center.desk
        actor = screen.desk_actor
        for queue in desk.queue_states(actor):
            queues.append({**queue, "items": desk.queue_conversations(actor, queue["queueId"])})
        for employee in desk.employees(actor):
            employees.append(desk.state_of(employee))
    except CoreError:
        pass   # an account without a contact center: the ACD groups below still show
    acd = center.queue_stats(screen.viewer.principal, screen.account_id)
    agents = []
    users = {u["userId"]: u for u in screen.twin.core.directory.list_users(screen.viewer.principal,
                                                                           screen.account_id)}
    members = sorted({m["memberId"] for g in screen.twin.core.directory.list_groups(screen.viewer.principal,
                                                                                   screen.account_id)
                      if g.get("type") == "ACD" for m in g.get("members", [])})
    for user_id in members:
        try:
            state = center.agent_state(screen.viewer.principal, user_id, screen.account_id)
        except CoreError:
            continue
        user = users.get(user_id, {})
        agents.append({**state, "userId": user_id, "name": user.get("name") or user.get("email") or user_id,
                       "extension": user.get("extension")})
    reasons = []
    try:
        reasons = screen.twin.core.contact_center.desk.reason_codes(screen.desk_actor)
    except CoreError:
        pass
    return {"queues": queues, "employees": employees, "acd": acd, "agents": agents, "reasons": reasons}


def events(screen: Screen, recent: list[Any]) -> dict[str, Any]:
    outbox = screen.twin.core.outbox
    deliveries = [d for d in outbox.deliveries(screen.viewer.principal) if d["accountId"] == screen.account_id]
    state = screen.twin.core.rt.state
    subscriptions = [s for s in state.all("subscription") if s.get("accountId") == screen.account_id]
    connections = [c for c in state.all("connection") if c.get("accountId") == screen.account_id]
    items = [{"seq": seq if seq > 0 else "", "type": e.type, "subject": e.subject, "occurredAt": e.occurred_at,
              "correlationId": e.correlation_id, "data": e.data} for seq, e in reversed(recent)]
    return {"events": items, "deliveries": list(reversed(deliveries))[:100], "connections": connections,
            "subscriptions": subscriptions, "live": live_transports(screen)}


def live_transports(screen: Screen) -> list[dict[str, Any]]:
    """The account's clients on the live transports now: MQTT over WebSocket sessions with the subscriptions
    (topics) each subscribed to, and JSON streams of a subscription or a connection."""
    twin, account_id = screen.twin, screen.account_id
    out: list[dict[str, Any]] = []
    for (account, principal_id, client_id), session in list(twin.mqtt.sessions.items()):
        if account == account_id:
            out.append({"transport": "MQTT over WebSocket", "client": client_id, "principalId": principal_id,
                        "connectionId": session.connection_id, "online": session.link is not None,
                        "subscribed": sorted(session.topics)})
    state = twin.core.rt.state
    for (kind, ident), links in list(twin.stream.streams.items()):
        doc = state.get(kind, ident)
        if links and doc is not None and doc.get("accountId") == account_id:
            out.append({"transport": "JSON stream (/_callyard/stream)", "client": f"{len(links)} socket(s)",
                        "principalId": doc.get("principalId") or doc.get("ownerId") or "",
                        "connectionId": ident if kind == "connection" else doc.get("connectionId"),
                        "online": True, "subscribed": [ident] if kind == "subscription" else []})
    out.extend(signalr_clients(twin, account_id))
    return out


def signalr_clients(twin: "Twin", account_id: str) -> list[dict[str, Any]]:
    """The account's SignalR connections (the CX hubs, when the twin serves them: the CX family keeps its server
    in ``family_state["cx.signalr"]``) with the monitors each joined (its groups)."""
    server = getattr(twin.family_state.get("cx.signalr"), "server", None)
    if not isinstance(server, SignalRServer):
        return []
    out = []
    for info in server.connections():
        owner = getattr(info.principal, "principal", info.principal)
        if getattr(owner, "account_id", None) != account_id:
            continue
        out.append({"transport": "SignalR 2" + (f" ({info.transport})" if info.transport else ""),
                    "client": info.connection_id,
                    "principalId": getattr(owner, "principal_id", ""), "connectionId": info.connection_id,
                    "online": info.started, "subscribed": sorted(info.groups)})
    return out


def journal_entries(screen: Screen, family: str = "", status: str = "", principal: str = "",
                    app: str = "") -> list[dict[str, Any]]:
    entries = screen.twin.journal.visible(screen.viewer.scope)
    out = []
    families = screen.twin.families
    for entry in reversed(entries):
        owner = families.for_path(entry["path"])
        name = owner.name if owner is not None else ""
        if name == "console":
            continue   # the console's own page loads would drown the journal
        if family and name != family:
            continue
        if status and not str(entry.get("status", "")).startswith(status.rstrip("x")):
            continue
        who = (entry.get("principal") or {}).get("principalId") or ""
        if principal and principal not in who:
            continue
        header = entry.get("appHeader") or {}
        if app and app.lower() not in str(header.get("appName") or header.get("app") or header).lower():
            continue
        out.append(entry)
        if len(out) >= JOURNAL_ROWS:
            break
    return [{**e, "family": families.for_path(e["path"]).name} for e in screen.twin.journal.readable(out)]


def audit(screen: Screen) -> dict[str, Any]:
    return screen.twin.audit.report(accounts=screen.viewer.scope)


def control(screen: Screen, has_sms: bool) -> dict[str, Any]:
    rt = screen.twin.core.rt
    faults = [f.wire() for f in screen.twin.faults.all(screen.viewer.scope)]
    mail = [m for m in screen.twin.core.directory.list_mail(screen.viewer.principal)
            if m.get("accountId") == screen.account_id]
    return {"clock": {"mode": "manual" if rt.clock.manual else "real", "now": rt.now_iso()}, "faults": faults,
            "mail": list(reversed(mail))[:50], "sms": {"href": "/_callyard/sms"} if has_sms else None}


def directory(screen: Screen) -> dict[str, Any]:
    core = screen.twin.core
    actor = screen.viewer.principal
    users = core.directory.list_users(actor, screen.account_id)
    groups = core.directory.list_groups(actor, screen.account_id)
    apps = []
    for record in core.applications.in_account(screen.account_id):
        registration = core.applications.registration(record.get("applicationId", "")) or {}
        apps.append({**registration, **record})
    return {"accounts": list(screen.viewer.accounts), "users": users, "groups": groups, "applications": apps}
