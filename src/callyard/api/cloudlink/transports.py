"""The WebSocket endpoints of CloudLink notifications: MQTT over WebSocket at ``MQTT_PATH/{connectionId}`` (the
``url`` of a connection) and the plain JSON stream at ``STREAM_PATH``. The transports themselves live in
``callyard.delivery``; these routes hand them the socket."""
from __future__ import annotations

from fastapi import APIRouter, WebSocket

from callyard.api.cloudlink.notifications import MQTT_PATH, STREAM_PATH
from callyard.api.deps import twin_of

router = APIRouter()


async def mqtt(websocket: WebSocket) -> None:
    await twin_of(websocket).mqtt.serve(websocket)


async def stream(websocket: WebSocket) -> None:
    await twin_of(websocket).stream.serve(websocket)


router.add_websocket_route(f"{MQTT_PATH}/{{connectionId}}", mqtt)
router.add_websocket_route(STREAM_PATH, stream)
