"""The user's devices: the engine's terminals of their extension, with what the user sets on them.

A device is a terminal of the user's extension (``Endpoint.terminals``): its id, type and user agent come
from the engine. What the user changes — the display name (at most 32 characters) and the icon
(``DEFAULT``, ``TYPE_1``, ``TYPE_2``) — is kept in ``device`` documents, one per device, and every change
emits ``device.updated``. A device is ``INACTIVE`` while the extension is out of service or the device is
marked unreachable (``status``), else ``ACTIVE``.

The active caller-id line is set through here too (the engine reads it when the user places a call).
"""
from __future__ import annotations

import builtins  # annotations below the method named list
from typing import Any

from callyard.core.engine.line_states import parse_expiry
from callyard.core.engine.lines import Lines
from callyard.core.engine.model import Endpoint
from callyard.core.engine.service import Engine
from callyard.core.engine.terminals import TERMINAL_TYPES, find_terminal
from callyard.core.errors import Forbidden, Invalid, NotFound
from callyard.core.principal import Principal
from callyard.core.runtime import Runtime

DEVICE_TYPES = ("MOBILE", "TABLET", "SOFTPHONE", "DESKPHONE", "PBX", "DECT", "THIRD_PARTY", "WEB_SOFTPHONE",
                "TEAMS")
ICONS = ("DEFAULT", "TYPE_1", "TYPE_2")
TYPE_NAMES = {"DESKPHONE": "Desk phone", "SOFTPHONE": "Softphone", "MOBILE": "Mobile"}
MAX_NAME = 32


def acting_for(rt: Runtime, actor: Principal, account_id: str, user_id: str) -> dict[str, Any]:
    """The user ``user_id`` of ``account_id`` that ``actor`` acts for: themself, or any user of the account
    for its ACCOUNT_ADMIN (a partner's admin for its customers), a client application or the control plane.
    Another account's users are not found."""
    user = rt.state.get("user", user_id)
    if user is None or user["accountId"] != account_id:
        raise NotFound("user.does.not.exist", f"user {user_id} was not found", field="user", value=user_id)
    if actor.kind == "control" or actor.user_id == user_id:
        return user
    if actor.account_id == account_id and (actor.kind == "client" or actor.at_least("ACCOUNT_ADMIN")):
        return user
    account = rt.state.get("account", account_id) or {}
    if actor.at_least("PARTNER_ADMIN") and account.get("parentAccountId") == actor.account_id:
        return user
    if actor.at_least("GLOBAL_ADMIN"):
        return user
    if actor.account_id != account_id:
        raise NotFound("user.does.not.exist", f"user {user_id} was not found", field="user", value=user_id)
    raise Forbidden("access.denied", "a user acts for themself only", field="user", value=user_id)


class Devices:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.rt = engine.rt

    @property
    def lines(self) -> Lines:
        return self.engine.lines

    # ------------------------------------------------------------------ look-ups
    def extension(self, account_id: str, user_id: str) -> Endpoint | None:
        number = self.engine.dialplan.user_extension(account_id, user_id)
        return self.engine.endpoint(account_id, number) if number else None

    def _terminals(self, account_id: str, user_id: str) -> tuple[Endpoint | None, builtins.list[dict[str, Any]]]:
        endpoint = self.extension(account_id, user_id)
        return endpoint, (endpoint.terminals if endpoint is not None else [])

    def _doc(self, account_id: str, user_id: str, device_id: str) -> dict[str, Any]:
        return self.rt.state.get("device", f"{account_id}:{user_id}:{device_id}") or {}

    def _view(self, endpoint: Endpoint | None, terminal: dict[str, Any], user_id: str) -> dict[str, Any]:
        account_id = endpoint.account_id if endpoint is not None else ""
        doc = self._doc(account_id, user_id, terminal["deviceId"])
        out_of_service = endpoint is not None and self.engine.settings(endpoint)["outOfService"]
        status = "INACTIVE" if out_of_service or doc.get("status") == "INACTIVE" else "ACTIVE"
        return {"deviceId": terminal["deviceId"], "deviceType": terminal["type"],
                "deviceName": doc.get("name") or terminal["name"], "deviceIcon": doc.get("icon") or "DEFAULT",
                "deviceTypeName": TYPE_NAMES.get(terminal["type"], terminal["type"].title()),
                "deviceStatus": status, "revocable": terminal["type"] != "DESKPHONE",
                "hasAttributes": bool(terminal.get("userAgent"))}

    def _find(self, account_id: str, user_id: str, device_id: str) -> tuple[Endpoint, dict[str, Any]]:
        endpoint, terminals = self._terminals(account_id, user_id)
        terminal = find_terminal(terminals, device_id)
        if endpoint is None or terminal is None:
            raise NotFound("device.does.not.exist", f"device {device_id} was not found",
                           field="deviceId", value=device_id)
        return endpoint, terminal

    # ------------------------------------------------------------------ reads
    def list(self, actor: Principal, account_id: str, user_id: str,
             device_type: str | None = None) -> builtins.list[dict[str, Any]]:
        """Every device of the user (``device_type``: only that type)."""
        acting_for(self.rt, actor, account_id, user_id)
        if device_type is not None and device_type not in DEVICE_TYPES:
            raise Invalid("InvalidDeviceType", f"type must be one of {', '.join(DEVICE_TYPES)}", field="type")
        endpoint, terminals = self._terminals(account_id, user_id)
        views = [self._view(endpoint, t, user_id) for t in terminals]
        return [v for v in views if device_type is None or v["deviceType"] == device_type]

    def shortlist(self, actor: Principal, account_id: str, user_id: str) -> builtins.list[dict[str, Any]]:
        """The active devices, compact: ``{deviceId, deviceType, deviceName, deviceIcon}``."""
        return [{k: v[k] for k in ("deviceId", "deviceType", "deviceName", "deviceIcon")}
                for v in self.list(actor, account_id, user_id) if v["deviceStatus"] == "ACTIVE"]

    def get(self, actor: Principal, account_id: str, user_id: str, device_id: str) -> dict[str, Any]:
        acting_for(self.rt, actor, account_id, user_id)
        endpoint, terminal = self._find(account_id, user_id, device_id)
        return self._view(endpoint, terminal, user_id)

    def name(self, actor: Principal, account_id: str, user_id: str, device_id: str, fallback: bool = True) -> str:
        """The name the user gave the device; without one, the default name (``fallback``) or ``""``."""
        acting_for(self.rt, actor, account_id, user_id)
        _, terminal = self._find(account_id, user_id, device_id)
        own = self._doc(account_id, user_id, terminal["deviceId"]).get("name")
        return str(own or (terminal["name"] if fallback else ""))

    def icon(self, actor: Principal, account_id: str, user_id: str, device_id: str, fallback: bool = True) -> str:
        """The icon's display name, ``<TYPE>_<ICON>`` (``DESKPHONE_TYPE_2``); without a chosen icon the
        type's default icon (``fallback``) or ``""``."""
        acting_for(self.rt, actor, account_id, user_id)
        _, terminal = self._find(account_id, user_id, device_id)
        own = self._doc(account_id, user_id, terminal["deviceId"]).get("icon")
        if own is None and not fallback:
            return ""
        return f"{terminal['type']}_{own or 'DEFAULT'}"

    def attributes(self, actor: Principal, account_id: str, user_id: str,
                   device_id: str) -> builtins.list[dict[str, str]]:
        acting_for(self.rt, actor, account_id, user_id)
        _, terminal = self._find(account_id, user_id, device_id)
        out = []
        if terminal.get("userAgent"):
            out.append({"name": "USER_AGENT", "value": str(terminal["userAgent"])})
        if terminal.get("number"):
            out.append({"name": "NUMBER", "value": str(terminal["number"])})
        return out

    # ------------------------------------------------------------------ changes
    async def set_name(self, actor: Principal, account_id: str, user_id: str, device_id: str,
                       name: object) -> dict[str, Any]:
        if not isinstance(name, str) or not name.strip():
            raise Invalid("InvalidDeviceName", "name is required", field="name")
        if len(name) > MAX_NAME:
            raise Invalid("DeviceNameTooLong", f"name is at most {MAX_NAME} characters", field="name")
        return await self._change(actor, account_id, user_id, device_id, name=name.strip())

    async def set_icon(self, actor: Principal, account_id: str, user_id: str, device_id: str,
                       icon: object) -> dict[str, Any]:
        if icon not in ICONS:
            raise Invalid("InvalidDeviceIcon", f"name must be one of {', '.join(ICONS)}", field="name")
        return await self._change(actor, account_id, user_id, device_id, icon=icon)

    async def set_status(self, actor: Principal, account_id: str, user_id: str, device_id: str,
                         reachable: bool) -> dict[str, Any]:
        """Mark a device reachable or known-unreachable (the simulator: a softphone quits, a phone unplugs)."""
        return await self._change(actor, account_id, user_id, device_id,
                                  status="ACTIVE" if reachable else "INACTIVE")

    async def _change(self, actor: Principal, account_id: str, user_id: str, device_id: str,
                      **fields: Any) -> dict[str, Any]:
        async with self.rt.write() as uow:
            acting_for(self.rt, actor, account_id, user_id)
            endpoint, terminal = self._find(account_id, user_id, device_id)
            key = f"{account_id}:{user_id}:{terminal['deviceId']}"
            doc = {**(self.rt.state.get("device", key) or {"deviceKey": key, "accountId": account_id,
                                                            "userId": user_id, "deviceId": terminal["deviceId"]}),
                   **fields}
            uow.put("device", key, doc)
            view = self._view(endpoint, terminal, user_id)
            uow.emit("device.updated", account_id, f"/users/{user_id}/devices/{terminal['deviceId']}",
                     {**view, "userId": user_id, "changedField": "DEVICE_INFO"}, self.rt.now_iso())
            return view

    # ------------------------------------------------------------------ line states (busy marks)
    def _user_extension(self, actor: Principal, account_id: str, user_id: str) -> Endpoint:
        acting_for(self.rt, actor, account_id, user_id)
        endpoint = self.extension(account_id, user_id)
        if endpoint is None:
            raise NotFound("user.has.no.extension", f"user {user_id} has no extension", field="userId",
                           value=user_id)
        return endpoint

    def line_state(self, actor: Principal, account_id: str, user_id: str, external_id: str) -> dict[str, Any]:
        return self.engine.line_states.get(self._user_extension(actor, account_id, user_id), external_id)

    async def put_line_state(self, actor: Principal, account_id: str, user_id: str, external_id: str,
                             expires_on: object) -> tuple[dict[str, Any], bool]:
        """Create or update a line state (both verbs do both); returns it and whether it is new."""
        expiry = parse_expiry(expires_on)
        async with self.engine.transaction() as tx:
            endpoint = self._user_extension(actor, account_id, user_id)
            existed = external_id in endpoint.line_states
            return self.engine.line_states.put(tx, endpoint, external_id, expiry), not existed

    async def delete_line_state(self, actor: Principal, account_id: str, user_id: str,
                                external_id: str) -> dict[str, Any]:
        async with self.engine.transaction() as tx:
            return self.engine.line_states.remove(tx, self._user_extension(actor, account_id, user_id),
                                                  external_id)

    # ------------------------------------------------------------------ caller-id lines
    def user_lines(self, actor: Principal, account_id: str, user_id: str) -> builtins.list[dict[str, Any]]:
        acting_for(self.rt, actor, account_id, user_id)
        return self.lines.lines(account_id, user_id)

    def active_line(self, actor: Principal, account_id: str, user_id: str) -> dict[str, Any]:
        acting_for(self.rt, actor, account_id, user_id)
        line = self.lines.active(account_id, user_id)
        if line is None:
            raise NotFound("line.does.not.exist", "the user has no line")
        return line

    async def set_active_line(self, actor: Principal, account_id: str, user_id: str, line_type: object,
                              group_id: object) -> dict[str, Any]:
        async with self.rt.write() as uow:
            acting_for(self.rt, actor, account_id, user_id)
            return self.lines.set_active(uow, account_id, user_id, line_type, group_id)


__all__ = ["Devices", "acting_for", "DEVICE_TYPES", "ICONS", "TERMINAL_TYPES"]
