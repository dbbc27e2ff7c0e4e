"""CloudLink service hosts and prefixes.

``HostRouting`` maps a CloudLink service host (``authentication.api.mitel.io``, ``media.us-west-2.us.api.mitel.io``,
``authentication.us.dev.api.mitel.io`` …) onto the service's prefix, so an unmodified client pointed at the
twin through /etc/hosts reaches the right service. It runs before the owning family is chosen (it changes the
path), and only rewrites requests that came to a service host.
"""
from __future__ import annotations

import re
from typing import Any, MutableMapping

from callyard.api.cloudlink.edge import SERVICES
from callyard.api.family import ASGIApp, Receive, Scope, Send
from callyard.api.common.middleware import header

_SERVICE_PREFIX = re.compile(rf"^/({'|'.join(SERVICES)})(?=/)")
_HOST = re.compile(r"^(?P<service>[a-z]+)(\.[a-z0-9-]+)*\.api\.mitel\.(io|com)$")


def service_for_host(host: str) -> str | None:
    found = _HOST.match(host.split(":")[0].lower())
    if found and found.group("service") in SERVICES:
        return found.group("service")
    return None


class HostRouting:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket"):
            host = header(scope, b"host")
            service = service_for_host(host) if host else None
            path = scope["path"]
            if service and not path.startswith(("/_callyard", f"/{service}/")):
                scope = dict(scope, path=f"/{service}{path}", raw_path=f"/{service}{path}".encode())
                scope[HOST_PREFIX] = f"/{service}"
        await self.app(scope, receive, send)


HOST_PREFIX = "callyard.host_prefix"   # the scope key: the service prefix HostRouting added to the path


def arrived_path(scope: MutableMapping[str, Any]) -> str:
    """The request's path as the client sent it: under Host-header routing, without the service prefix that
    ``HostRouting`` added (``admin.api.mitel.io`` serves ``/2017-09-01/users``, not ``/admin/2017-09-01/…``);
    at the root and under an explicit prefix, unchanged. Links in answers are built from it."""
    path: str = scope["path"]
    prefix = scope.get(HOST_PREFIX)
    if prefix and path.startswith(prefix + "/"):
        return path[len(prefix):]
    return path


def strip_service(path: str) -> str:
    """``/admin/2017-09-01/users`` → ``/2017-09-01/users``: the path as the root mount serves it."""
    return _SERVICE_PREFIX.sub("", path, count=1)
