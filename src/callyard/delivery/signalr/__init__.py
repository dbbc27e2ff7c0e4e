"""A classic ASP.NET SignalR 2 server transport (not ASP.NET Core SignalR), family-neutral.

Written by hand: no maintained Python server for the classic SignalR 2 protocol exists (PyPI and public code
have only clients, and the Core hub protocol servers speak a different wire format; see
shared/reference/signalr2-protocol.md §3.3). It speaks what Microsoft's own JavaScript client
(jquery.signalR 2.0-2.4) and the Python clients send: negotiate, connect, reconnect, start, send, poll, abort
and ping over WebSockets, Server-Sent Events and long polling, protocol versions 1.2-2.0.

* ``protocol``: versions, the signed connection and groups tokens, message framing.
* ``connections``: a connection, its groups and its bounded message buffer with cursors.
* ``hubs``: ``Hub``, ``HubContext``, ``HubError`` and the dispatch of one invocation.
* ``transports``: WebSockets, Server-Sent Events, long polling.
* ``server``: ``SignalRServer``, the route a family mounts and the API its projections call.

A family builds one ``SignalRServer(base_path, authenticate, hubs)``, adds ``server.route()`` to its routes and
pushes hub events from its projections with ``server.push(hub, method, args, group=…)``.
"""
from callyard.delivery.signalr.connections import ConnectionInfo
from callyard.delivery.signalr.hubs import Groups, Hub, HubContext, HubError, HubFactory
from callyard.delivery.signalr.server import Options, SignalRRoute, SignalRServer, credential, default_identify

__all__ = ["ConnectionInfo", "Groups", "Hub", "HubContext", "HubError", "HubFactory", "Options", "SignalRRoute",
           "SignalRServer", "credential", "default_identify"]
