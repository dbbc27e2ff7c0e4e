"""Hubs: what a client may invoke, and the dispatch of one invocation to a hub method.

A hub is a ``Hub`` subclass whose public ``async`` methods are what clients call (hub and method names are
matched without regard to case, as ASP.NET SignalR does). A new instance serves each invocation, built by the
factory the family registered (the class itself, or a callable that injects the family's dependencies), with a
``HubContext``: the connection, its owner (the principal ``authenticate`` returned), the round-tripped hub
state, and the connection's groups of this hub. Groups are how monitors work: ``addStateMonitor(ids)`` adds
the connection to one group per id, and the family's projection pushes to those groups.
"""
from __future__ import annotations

import inspect
import logging
from typing import TYPE_CHECKING, Any, Callable, Iterator, Mapping

from callyard.delivery.signalr.connections import Connection
from callyard.delivery.signalr.protocol import Invocation, dumps, hub_result

if TYPE_CHECKING:
    from callyard.delivery.signalr.server import SignalRServer

log = logging.getLogger("callyard.delivery.signalr")


class HubError(Exception):
    """Raised by a hub method to send the client ``message`` (and ``data``) as a hub error (``"H": true``),
    as a HubException does. Any other exception reaches the client only as the generic error."""

    def __init__(self, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.message = message
        self.data = data


class Groups:
    """The connection's groups of one hub: ``add``, ``discard``, ``in``, iteration (bare group names)."""

    def __init__(self, connection: Connection, hub: str) -> None:
        self._connection = connection
        self._prefix = hub.lower() + "."

    def add(self, *names: str) -> None:
        self._connection.set_groups(self._connection.groups | {self._prefix + n for n in names})

    def discard(self, *names: str) -> None:
        self._connection.set_groups(self._connection.groups - {self._prefix + n for n in names})

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and self._prefix + name in self._connection.groups

    def __iter__(self) -> Iterator[str]:
        n = len(self._prefix)
        return iter(sorted(g[n:] for g in self._connection.groups if g.startswith(self._prefix)))


class HubContext:
    """What a hub method knows of its call."""

    def __init__(self, server: SignalRServer, connection: Connection, hub: str, state: dict[str, Any]) -> None:
        self.server = server
        self.connection_id = connection.id
        self.principal: Any = connection.principal
        self.identity = connection.identity
        self.hub = hub
        self.state = state                      # the client's hub state ("S"); what a method changes goes back
        self.groups = Groups(connection, hub)   # the connection's monitors of this hub

    def caller(self, method: str, *args: Any) -> None:
        """Call ``method`` on this connection's client proxy of this hub (``Clients.Caller``)."""
        self.server.push(self.hub, method, list(args), connection_ids=[self.connection_id])


class Hub:
    """Base class of a hub. Public ``async`` methods of a subclass are client-invokable."""

    def __init__(self, context: HubContext) -> None:
        self.context = context


HubFactory = Callable[[HubContext], Hub]
_BASE = frozenset(dir(Hub))


def _methods(cls: type) -> dict[str, str]:
    found: dict[str, str] = {}
    for name in dir(cls):
        if name.startswith("_") or name in _BASE:
            continue
        if inspect.iscoroutinefunction(getattr(cls, name, None)):
            found[name.lower()] = name
    return found


class HubRegistry:
    def __init__(self, hubs: Mapping[str, HubFactory]) -> None:
        self._hubs = {name.lower(): (name, factory) for name, factory in hubs.items()}
        self._methods: dict[type, dict[str, str]] = {}

    def resolve(self, name: str) -> tuple[str, HubFactory] | None:
        return self._hubs.get(name.lower())

    def names(self) -> list[str]:
        return [name for name, _ in self._hubs.values()]

    def methods(self, cls: type) -> dict[str, str]:
        if cls not in self._methods:
            self._methods[cls] = _methods(cls)
        return self._methods[cls]


def generic_error(hub: str, method: str) -> str:
    return f"There was an error invoking Hub method '{hub}.{method}'."


def _changes(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any] | None:
    """The hub state a result carries: the keys the method set or changed (StateChangeTracker.GetChanges);
    ``None`` when nothing changed."""
    changed = {k: v for k, v in after.items() if k not in before or before[k] != v}
    return changed or None


async def invoke(server: SignalRServer, registry: HubRegistry, connection: Connection, call: Invocation) -> str:
    """Run one invocation and encode its result (``{"I","R"}``) or error (``{"I","E"}``), with the hub state
    the method changed (``S``). Unknown hubs and methods, wrong arguments and failures all answer the generic
    error text; only a ``HubError`` says more."""
    before = dict(call.state or {})
    failed = hub_result(call.id, error=generic_error(call.hub, call.method))
    resolved = registry.resolve(call.hub)
    if resolved is None:
        return failed
    hub_name, factory = resolved
    context = HubContext(server, connection, hub_name, dict(before))
    try:
        hub = factory(context)
        name = registry.methods(type(hub)).get(call.method.lower())
        if name is None:
            return failed
        method = getattr(hub, name)
        try:
            inspect.signature(method).bind(*call.args)
        except TypeError:
            return failed
        result = await method(*call.args)
        dumps(result)   # the result must be JSON: a hub returning something else is a bug, not the client's
        state = _changes(before, context.state)
        dumps(state)
    except HubError as error:
        return hub_result(call.id, error=error.message, hub_exception=True, error_data=error.data,
                          state=_changes(before, context.state))
    except Exception:  # noqa: BLE001 - a failing hub method answers the generic error, never its internals
        log.exception("hub method %s.%s failed", call.hub, call.method)
        return failed
    return hub_result(call.id, result=result, state=state)
