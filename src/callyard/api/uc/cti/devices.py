"""The user's devices as the CTI groups name them.

The engine's terminals of a user's extension carry the UC device ids themselves (``0.+1613…`` mobile,
``2.<uuid>`` softphone, ``1.<uuid>`` desk phone; ``core/engine/terminals.py``), the same ids the User Device
Information group lists (``core/devices``). Everything in the CTI groups goes through these functions.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from callyard.api.uc.edge import not_found
from callyard.core.engine.model import Endpoint
from callyard.core.engine.service import Engine


@dataclass(frozen=True)
class UcDevice:
    device_id: str
    terminal: str        # the engine's terminal id on the extension (the same id)
    type: str            # MOBILE | DESKPHONE | SOFTPHONE
    name: str


def user_devices(endpoint: Endpoint) -> list[UcDevice]:
    """The devices of the extension ``endpoint`` with their UC ids."""
    return [UcDevice(t["deviceId"], t["deviceId"], t.get("type", "SOFTPHONE"), t.get("name", ""))
            for t in endpoint.terminals]


def device_ids(endpoint: Endpoint) -> dict[str, str]:
    """terminal id → UC device id (the same id: ``user_devices``), built straight from the terminals as every
    CallState needs it."""
    return {t["deviceId"]: t["deviceId"] for t in endpoint.terminals}


def terminal_of(endpoint: Endpoint, device_id: str) -> str:
    """The engine terminal a UC device id names on the user's extension (404 when it is not the user's)."""
    for device in user_devices(endpoint):
        if device.device_id == device_id:
            return device.terminal
    not_found("deviceId", "device.does.not.exist", "the user has no device with that id", device_id)


def user_extension(engine: Engine, user: dict[str, Any]) -> Endpoint:
    """The extension of the user acted on (404 when the user has none: no devices, no calls)."""
    number = user.get("extension")
    endpoint = engine.endpoint(user["accountId"], number) if number else None
    if endpoint is None or endpoint.user_id != user["userId"]:
        not_found("userId", "user.has.no.devices", "the user has no extension and so no devices",
                  user.get("email", ""))
    return endpoint
