"""Diagnostics of the contact center (seed 004, experimental), answered from the live state.

* **Monitors per employee.** The real server keeps a "monitor manager": an employee state monitor, agent
  state monitors and agent inbox monitors per employee, which the SignalR hubs subscribe to. In the twin a
  monitor's subscriptions are (1) the live SignalR connections whose groups hear it: ``employeeHub``'s
  ``addSelfMonitor`` (state, agent state and inbox of the employee) and ``agentHub``'s ``addStateMonitor``
  of one of the employee's agents (agent state) — reported by the hub layer through :class:`LiveSource` —
  and (2) the monitors added through the diagnostics operations, which are documents of kind ``cc_monitor``
  (``{id, accountId, employeeId, monitor, count}``) so they survive a restart and are reset with the account.
  Adding with ``skipIfContained`` adds nothing when the manager already has a subscription; removing drops
  the added ones (a hub subscription ends with its connection or its ``remove…Monitor`` call).
* **SignalR connections by id**: the live connection ids of an employee (or of a registered client).
* **Router commands**: the contact center's router (queues, distribution, agents) and the twin's cache and
  services, as text, each line derived from the live state (``Help`` lists the commands).
* **Problem reports**: kept as ``cc_problem_report`` documents and announced (``cc.problemreport.created``).

Who: an employee reads and changes their own monitors; a supervisor anyone's; a registered client reads
(third party requests that change something are denied). Router commands are for supervisors and clients.
"""
from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any, Protocol

from callyard.core.contact_center.desk_access import Caller
from callyard.core.errors import Forbidden, Invalid, NotFound
from callyard.core.principal import Principal

if TYPE_CHECKING:
    from callyard.core.contact_center.desk import Desk

MONITOR = "cc_monitor"
PROBLEM_REPORT = "cc_problem_report"
MONITORS = ("state", "agentState", "agentInbox")
TEXT_MAX = 64 * 1024
LOGS_MAX = 100


class LiveSource(Protocol):
    """What the delivery side (the CX hubs) knows: the live connections and what they monitor."""

    def subscribers(self, account_id: str, monitor: str, employee: dict[str, Any]) -> list[str]:
        """Ids of the live connections subscribed to ``monitor`` of ``employee``."""
        ...

    def connections_of(self, account_id: str, principal_id: str) -> list[str]:
        """Ids of the live connections of a principal (a user's id or a client's id)."""
        ...

    def services(self) -> dict[str, Any]:
        """The state of the services behind the hubs (name → a flat dict of facts)."""
        ...


class _NoLive:
    def subscribers(self, account_id: str, monitor: str, employee: dict[str, Any]) -> list[str]:
        return []

    def connections_of(self, account_id: str, principal_id: str) -> list[str]:
        return []

    def services(self) -> dict[str, Any]:
        return {}


class Diagnostics:
    def __init__(self, desk: "Desk") -> None:
        self.desk = desk
        self.rt = desk.rt
        self.config = desk.config
        self.live: LiveSource = _NoLive()

    def attach(self, live: LiveSource) -> None:
        self.live = live

    # ------------------------------------------------------------------ monitors
    def _employee(self, actor: Principal, ref: str, change: bool) -> tuple[Caller, dict[str, Any]]:
        caller = self.desk.caller(actor)
        employee = self.desk.employee(actor, ref)   # "me", visibility as everywhere
        if change:
            if caller.third_party:
                raise Forbidden("ThirdPartyDenied", "a client may not change monitors; impersonate an employee")
            if not caller.supervisor and employee["id"] != (caller.employee or {}).get("id"):
                raise Forbidden("InsufficientPermissions", "another employee's monitors need the supervisor role")
        return caller, employee

    @staticmethod
    def _key(employee: dict[str, Any], monitor: str) -> str:
        if monitor not in MONITORS:
            raise NotFound("MonitorNotFound", f"monitors are {', '.join(MONITORS)}")
        return f"{employee['id']}:{monitor}"

    def _count(self, employee: dict[str, Any], monitor: str) -> dict[str, Any]:
        added = self.rt.state.get(MONITOR, self._key(employee, monitor))
        live = self.live.subscribers(employee["accountId"], monitor, employee)
        count = int(added["count"]) if added else 0
        return {"employeeId": employee["id"], "monitor": monitor, "connections": live, "added": count,
                "subscriptions": len(live) + count}

    def monitor(self, actor: Principal, ref: str, monitor: str) -> dict[str, Any]:
        _caller, employee = self._employee(actor, ref, change=False)
        return self._count(employee, monitor)

    async def add_monitor(self, actor: Principal, ref: str, monitor: str, skip_if_contained: bool
                          ) -> dict[str, Any]:
        async with self.rt.write() as uow:
            _caller, employee = self._employee(actor, ref, change=True)
            key = self._key(employee, monitor)
            current = self._count(employee, monitor)
            if skip_if_contained and current["subscriptions"]:
                return {**current, "skipped": True}
            count = current["added"] + 1
            uow.put(MONITOR, key, {"id": key, "accountId": employee["accountId"], "employeeId": employee["id"],
                                   "monitor": monitor, "count": count})
            uow.emit("cc.monitor.added", employee["accountId"], f"/diagnostics/employees/{employee['id']}/{monitor}",
                     {"monitor": monitor, "count": count}, self.rt.now_iso())
        return {**self._count(employee, monitor), "skipped": False}

    async def remove_monitor(self, actor: Principal, ref: str, monitor: str) -> dict[str, Any]:
        async with self.rt.write() as uow:
            _caller, employee = self._employee(actor, ref, change=True)
            key = self._key(employee, monitor)
            if self.rt.state.get(MONITOR, key) is None:
                raise NotFound("MonitorNotFound", f"no {monitor} monitor was added for employee {ref}")
            uow.delete(MONITOR, key)
            uow.emit("cc.monitor.removed", employee["accountId"],
                     f"/diagnostics/employees/{employee['id']}/{monitor}", {"monitor": monitor}, self.rt.now_iso())
        return self._count(employee, monitor)

    # ------------------------------------------------------------------ SignalR connections
    def connections(self, actor: Principal, ref: str) -> list[str]:
        """The live SignalR connection ids of an employee (id, username, reporting or ``me``) or of a client
        registered with the contact center (its client id)."""
        caller = self.desk.caller(actor)
        client = self.config.client(ref)
        if client is not None and client["accountId"] == caller.account_id and ref.lower() != "me":
            if not caller.sees_all:
                raise Forbidden("InsufficientPermissions", "a client's connections need the supervisor role")
            return sorted(self.live.connections_of(caller.account_id, client["clientId"]))
        employee = self.desk.employee(actor, ref)
        return sorted(self.live.connections_of(caller.account_id, employee["userId"]))

    # ------------------------------------------------------------------ router commands
    def router(self, actor: Principal, command: str, value: str | None) -> str:
        caller = self.desk.caller(actor)
        if not caller.sees_all:
            raise Forbidden("InsufficientPermissions", "router diagnostics need the supervisor role")
        commands = {
            "help": (self._help, "this list"),
            "queues": (self._queues, "every queue: media, waiting, longest wait, agents logged in and available"),
            "queue": (self._queue, "one queue (Value: id, name or reporting): its waiting conversations in order"),
            "agents": (self._agents, "every agent: media, state and activity"),
            "agent": (self._agent, "one employee's agents (Value: id, username or reporting)"),
            "cache": (self._cache, "the account's documents held in memory, by kind"),
            "services": (self._services, "the services behind the API and the hubs"),
        }
        name = (command or "").strip().lower()
        if name not in commands:
            raise Invalid("UnknownCommand", f"unknown router command {command!r}; send Help for the list")
        handler, _ = commands[name]
        if name == "help":
            return "\n".join(f"{key.capitalize()}: {text}" for key, (_h, text) in commands.items())
        return handler(caller, actor, value)

    def _help(self, caller: Caller, actor: Principal, value: str | None) -> str:
        return ""

    def _queues(self, caller: Caller, actor: Principal, value: str | None) -> str:
        lines = []
        for state in self.desk.queue_states(actor):
            lines.append(f"{state['name']} ({state['reporting']}, {state['mediaType']}): waiting {state['waiting']}, "
                         f"longest wait {round(state['longestWaitSeconds'])} s, agents logged in "
                         f"{state['agentsLoggedIn']}, available {state['agentsAvailable']}, idle "
                         f"{state['agentsIdle']}, offered today {state['offeredToday']}, answered "
                         f"{state['answeredToday']}, abandoned {state['abandonedToday']}")
        return "\n".join(lines) or "no queues"

    def _queue(self, caller: Caller, actor: Principal, value: str | None) -> str:
        if not value:
            raise Invalid("MissingValue", "Queue needs Value: a queue id, name or reporting number")
        queue = self.desk.queue(actor, value)
        waiting = self.desk.queue_conversations(actor, queue["id"])
        lines = [f"{queue['name']} ({queue['reporting']}, {queue['mediaType']}): {len(waiting)} waiting"]
        for position, item in enumerate(waiting, start=1):
            lines.append(f"{position}. {item['conversationId']} {item['mediaType']} from {item.get('fromAddress')} "
                         f"{item['conversationState']} since {item.get('timeOfferedToQueue')}")
        return "\n".join(lines)

    def _agent_lines(self, employee: dict[str, Any]) -> list[str]:
        lines = []
        for media in employee["agents"]:
            view = self.desk.states.agent_view(employee, media)
            reason = f" reason {view['reasonName']}" if view.get("reasonName") else ""
            lines.append(f"{employee['username']} {media} agent {view['reporting']}: {view['state']} "
                         f"({view['acdState']}){reason}")
        return lines

    def _agents(self, caller: Caller, actor: Principal, value: str | None) -> str:
        lines: list[str] = []
        for employee in self.config.employees(caller.account_id):
            lines += self._agent_lines(employee)
        return "\n".join(lines) or "no agents"

    def _agent(self, caller: Caller, actor: Principal, value: str | None) -> str:
        if not value:
            raise Invalid("MissingValue", "Agent needs Value: an employee id, username or reporting number")
        return "\n".join(self._agent_lines(self.desk.employee(actor, value))) or "the employee has no agents"

    def _cache(self, caller: Caller, actor: Principal, value: str | None) -> str:
        counts: Counter[str] = Counter()
        blobs = 0
        for kind, docs in self.rt.state.docs.items():
            for doc in docs.values():
                if doc.get("accountId") == caller.account_id:
                    counts[kind] += 1
                    blob = doc.get("blobId")
                    if isinstance(blob, str) and blob in self.rt.state.blobs:
                        blobs += 1
        lines = [f"{kind}: {counts[kind]}" for kind in sorted(counts)]
        lines.append(f"blobs: {blobs}")
        return "\n".join(lines)

    def _services(self, caller: Caller, actor: Principal, value: str | None) -> str:
        lines = []
        for name, facts in sorted(self.live.services().items()):
            lines.append(f"{name}: " + ", ".join(f"{k} {v}" for k, v in facts.items()))
        waiting = sum(len(self.desk.center.queues.waiting(caller.account_id, q.get("groupId") or ""))
                      for q in self.config.queues(caller.account_id) if q.get("groupId"))
        lines.append(f"router: queues {len(self.config.queues(caller.account_id))}, voice calls waiting {waiting}, "
                     f"non-voice interactions active {len(self.desk.center.media.active(caller.account_id))}")
        lines.append(f"status: server time {self.rt.now_iso()}, up since {self.desk.started_on}")
        return "\n".join(lines)

    # ------------------------------------------------------------------ problem reports
    async def problem_report(self, actor: Principal, body: dict[str, Any]) -> dict[str, Any]:
        caller = self.desk.caller(actor)
        application = body.get("application")
        description = body.get("description")
        logs = body.get("logs") if body.get("logs") is not None else []
        if not isinstance(application, str) or not application.strip() or len(application) > 256:
            raise Invalid("InvalidProblemReport", "application is required (at most 256 characters)")
        if description is not None and (not isinstance(description, str) or len(description) > TEXT_MAX):
            raise Invalid("InvalidProblemReport", f"description is a string of at most {TEXT_MAX} characters")
        if not isinstance(logs, list) or len(logs) > LOGS_MAX or not all(
                isinstance(line, str) and len(line) <= TEXT_MAX for line in logs):
            raise Invalid("InvalidProblemReport", f"logs is an array of at most {LOGS_MAX} strings")
        async with self.rt.write() as uow:
            now = self.rt.now_iso()
            doc: dict[str, Any] = {
                "id": self.rt.ids.uuid(), "accountId": caller.account_id, "application": application.strip(),
                "description": description or "", "logs": logs, "reportedBy": actor.principal_id,
                "employeeId": (caller.employee or {}).get("id"), "createdOn": now}
            uow.put(PROBLEM_REPORT, doc["id"], doc)
            uow.emit("cc.problemreport.created", caller.account_id, f"/diagnostics/problemreports/{doc['id']}",
                     {k: v for k, v in doc.items() if k != "logs"}, now)
            return doc

