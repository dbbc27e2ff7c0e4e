"""``CloudLinkEdge``: the middleware of CloudLink requests only (inside the family-neutral request context).

It parses ``X-Mitel-App`` (for the journal and the audit; a malformed or missing header is refused only in
strict mode) and hands each exchange — request, body, answer, caller — to the observers (the best-practice
audit). It sits outside the rate limit and the fault injection, so their answers are observed like any other.
"""
from __future__ import annotations

import logging
import time
from typing import Any, Callable

from callyard.api.cloudlink.edge import mitel_app
from callyard.api.cloudlink.edge.errors import ERRORS
from callyard.api.cloudlink.edge.hosts import HOST_PREFIX, arrived_path, strip_service
from callyard.api.common import redaction
from callyard.api.common.middleware import header
from callyard.api.family import ASGIApp, Problem, Receive, Scope, Send
from callyard.audit.service import Exchange
from callyard.core.errors import Invalid

log = logging.getLogger("callyard.api")

MAX_OBSERVED_BODY = 64 * 1024   # bytes of a request body kept for the observers (retry identity)


class CloudLinkEdge:
    def __init__(self, app: ASGIApp, *, strict_app_header: bool,
                 observers: list[Callable[[Exchange], None]] | None = None) -> None:
        self.app = app
        self.strict = strict_app_header
        self.observers = observers if observers is not None else []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        state = scope["state"]
        app_header = state["app_header"] = mitel_app.parse(header(scope, b"x-mitel-app"))
        rejection = self._reject(app_header)
        if not self.observers:
            if rejection is not None:
                await rejection.send(send)
            else:
                await self.app(scope, receive, send)
            return
        wall_started = time.time()
        answer: dict[str, Any] = {"status": 0, "retry_after": None}
        body = bytearray()

        async def receive_wrapper() -> dict[str, Any]:
            message = await receive()
            if message["type"] == "http.request" and len(body) < MAX_OBSERVED_BODY:
                body.extend(message.get("body", b"")[:MAX_OBSERVED_BODY - len(body)])
            return message

        async def send_wrapper(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                answer["status"] = message["status"]
                for key, value in message.get("headers", []):
                    if key.lower() == b"retry-after":
                        answer["retry_after"] = value.decode("latin-1")
            await send(message)

        try:
            if rejection is not None:
                await rejection.send(send_wrapper)
            else:
                await self.app(scope, receive_wrapper, send_wrapper)
        finally:
            principal = state.get("principal")
            self._observe(Exchange(
                started=wall_started, ended=time.time(), method=scope["method"],
                path=arrived_path(scope), resource=strip_service(scope["path"]),
                host=header(scope, b"host") or "" if scope.get(HOST_PREFIX) else "",
                query=redaction.query(scope.get("query_string", b"").decode("latin-1")),
                body=bytes(body), status=answer["status"], retry_after=answer["retry_after"],
                correlation_id=state["correlation_id"], app_header=app_header, token_id=state["token_id"],
                principal_id=principal.principal_id if principal else None,
                account_id=principal.account_id if principal else state.get("account_id"),
                principal_kind=principal.kind if principal else None,
                client_id=principal.client_id if principal else None,
                peer=(scope.get("client") or ("", 0))[0], user_agent=header(scope, b"user-agent") or ""))

    def _observe(self, exchange: Exchange) -> None:
        for observer in self.observers:
            try:
                observer(exchange)
            except Exception:  # an observer's bug must never cost the client its response
                log.exception("request observer failed")

    def _reject(self, app_header: mitel_app.MitelApp | None) -> Problem | None:
        if not self.strict:
            return None
        if app_header is not None and not app_header.valid:
            return ERRORS.core_error(Invalid("InvalidAppHeader",
                                             "X-Mitel-App is malformed: " + "; ".join(app_header.problems)))
        if app_header is None:
            return ERRORS.core_error(Invalid("InvalidAppHeader", "the X-Mitel-App header is required"))
        return None
