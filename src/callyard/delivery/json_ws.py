"""A plain JSON WebSocket stream of publications, for browsers and quick scripts (not a CloudLink API: the
platform delivers over MQTT, see mqtt_ws.py).

``GET ws://…/_callyard/stream?token=…&subscriptionId=…`` (or ``connectionId=…`` for every subscription that
names that connection; the token may come as ``Authorization: Bearer`` instead, which browsers cannot set)
sends each publication envelope — the body a webhook receives — as one JSON text message, in commit order.
Anything the client sends is ignored. The stream is refused, or later ended, with a close code a browser
can read: 4400 neither id given, 4401 no token, an invalid one or one that expired (on the twin's clock),
4404 the subscription or connection is not the caller's, is gone or has expired.
"""
from __future__ import annotations

import logging
from typing import Any

from starlette.websockets import WebSocket

from callyard.core.errors import CoreError
from callyard.delivery.live import EnvelopeEncoder, Link, Sweeper, bearer

log = logging.getLogger("callyard.delivery.stream")

Key = tuple[str, str]   # ("subscription" | "connection", id)


class JsonStream:
    def __init__(self, core: Any) -> None:
        self.core = core
        self.rt = core.rt
        self.streams: dict[Key, set[Link]] = {}
        self.sweeper = Sweeper(self.sweep)
        self.encoder = EnvelopeEncoder()

    async def start(self) -> None:
        self.sweeper.start()

    async def stop(self) -> None:
        await self.sweeper.stop()
        for links in list(self.streams.values()):
            for link in list(links):
                link.close(1001, "the server is shutting down")

    # ------------------------------------------------------------------ delivery (the live transport)
    def transport(self, sub: dict[str, Any], envelope: dict[str, Any]) -> None:
        by_sub = self.streams.get(("subscription", sub["subscriptionId"]))
        by_conn = self.streams.get(("connection", sub["connectionId"])) if sub.get("connectionId") else None
        if not by_sub and not by_conn:
            return
        if sub.get("connectionId") and self.core.connections.live(sub["connectionId"]) is None:
            return
        text = self.encoder.encode(envelope)
        now = self.rt.clock.timestamp()
        for links in (by_sub, by_conn):
            for link in list(links or ()):
                if link.expired(now):
                    link.close(4401, "TokenExpired: the access token has expired")
                else:
                    link.send(text)

    def connection_closed(self, connection_id: str) -> None:
        for link in list(self.streams.get(("connection", connection_id), ())):
            link.close(4404, "ConnectionGone: the connection was deleted")

    def sweep(self) -> None:
        now, now_iso = self.rt.clock.timestamp(), self.rt.now_iso()
        for (kind, item_id), links in list(self.streams.items()):
            gone = self._target(kind, item_id, now_iso=now_iso) is None
            for link in list(links):
                if gone:
                    link.close(4404, f"{kind.capitalize()}Gone: the {kind} was deleted or has expired")
                elif link.expired(now):
                    link.close(4401, "TokenExpired: the access token has expired")

    def _target(self, kind: str, item_id: str, owner: tuple[str, str] | None = None,
                now_iso: str | None = None) -> dict[str, Any] | None:
        now_iso = now_iso or self.rt.now_iso()
        if kind == "connection":
            doc = self.core.connections.live(item_id, now_iso)
        else:
            doc = self.rt.state.get("subscription", item_id)
            if doc is not None and (doc.get("transport") != "websocket" or not doc.get("active", True)
                                    or doc["expiryDateTime"] <= now_iso):
                doc = None
        if doc is not None and owner is not None and (doc["accountId"], doc["principalId"]) != owner:
            return None  # the account and the principal must both be the caller's
        return doc

    # ------------------------------------------------------------------ the WebSocket endpoint
    async def serve(self, websocket: WebSocket) -> None:
        await websocket.accept()
        params = websocket.query_params
        token = params.get("token") or params.get("access_token") or bearer(websocket.headers.get("authorization"))
        if not token:
            await websocket.close(4401, "MissingAuthToken: ?token=… or Authorization: Bearer …")
            return
        try:
            actor = self.core.auth.principal(token)
        except CoreError as exc:
            await websocket.close(4401, f"{exc.name}: {exc.message}"[:120])
            return
        if params.get("subscriptionId"):
            key: Key = ("subscription", params["subscriptionId"])
        elif params.get("connectionId"):
            key = ("connection", params["connectionId"])
        else:
            await websocket.close(4400, "ValidationError: subscriptionId or connectionId is required")
            return
        if self._target(*key, owner=(actor.account_id, actor.principal_id)) is None:
            reason = f"{key[0].capitalize()}NotFound: no live websocket {key[0]} {key[1]} of the caller"
            await websocket.close(4404, reason[:120])
            return
        link = Link(websocket)
        link.expire_at(float(actor.claims["exp"]), self.core.scheduler, self.rt.clock.timestamp(),
                       revoked=lambda: self.core.auth.refused(token))
        self.streams.setdefault(key, set()).add(link)

        async def reader() -> None:
            while (await websocket.receive())["type"] != "websocket.disconnect":
                pass  # what the client sends is ignored

        try:
            await link.run(reader)
        finally:
            links = self.streams.get(key)
            if links is not None:
                links.discard(link)
                if not links:
                    del self.streams[key]
