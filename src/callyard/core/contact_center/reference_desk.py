"""The Desk's reference data: reason codes, warning reasons, DNIS, sites, extensions, the service status and
the directory (employees, queues and the contacts added to it).
"""
from __future__ import annotations

import uuid
from typing import Any

from callyard.core.contact_center import config as cfg
from callyard.core.contact_center.employee_desk import EmployeeDesk
from callyard.core.errors import Conflict, Invalid, NotFound
from callyard.core.principal import Principal

EXTENSION_NAMESPACE = uuid.UUID("6f1c0d3e-2b7a-4e0c-9a51-cc0000000e71")


class ReferenceDesk(EmployeeDesk):
    # ================================================================== reference data
    def reason_codes(self, actor: Principal) -> list[dict[str, Any]]:
        return self.config.reason_codes(self.caller(actor).account_id)

    def reason_code(self, actor: Principal, ref: str) -> dict[str, Any]:
        return self.config.reason_code(self.caller(actor).account_id, ref)

    def warning_reasons(self, actor: Principal) -> list[dict[str, Any]]:
        return self.config.warning_reasons(self.caller(actor).account_id)

    def warning_reason(self, actor: Principal, ref: str) -> dict[str, Any]:
        return self.config.warning_reason(self.caller(actor).account_id, ref)

    def dnis_numbers(self, actor: Principal) -> list[dict[str, Any]]:
        return self.config.dnis_numbers(self.caller(actor).account_id)

    def dnis(self, actor: Principal, ref: str) -> dict[str, Any]:
        return self.config.dnis(self.caller(actor).account_id, ref)

    def sites(self, actor: Principal) -> list[dict[str, Any]]:
        return self.config.sites(self.caller(actor).account_id)

    def site(self, actor: Principal, ref: str) -> dict[str, Any]:
        return self.config.site(self.caller(actor).account_id, ref)

    def employee_extensions(self, actor: Principal, ref: str) -> list[dict[str, Any]]:
        employee = self._visible_employee(self.caller(actor), ref)
        phone = self.states.phone(employee)
        numbers = [n for n in (self.engine.dialplan.user_extension(employee["accountId"], employee["userId"]),
                               phone.number if phone else None) if n]
        return [self._extension_view(employee["accountId"], n) for n in dict.fromkeys(numbers)]


    def _extension_view(self, account_id: str, number: str) -> dict[str, Any]:
        endpoint = self.engine.endpoint(account_id, number)
        employee = self.center.interactions.employee_at(account_id, number)
        return {"id": str(uuid.uuid5(EXTENSION_NAMESPACE, f"{account_id}:{number}")), "accountId": account_id,
                "reporting": number, "name": endpoint.name if endpoint else "", "mediaType": "Voice",
                "acdEnabled": bool(employee and "Voice" in employee["agents"]),
                "employeeId": employee["id"] if employee else None}

    def extensions(self, actor: Principal) -> list[dict[str, Any]]:
        caller = self.caller(actor)
        numbers = sorted(u["extension"] for u in self.rt.state.all("user")
                         if u["accountId"] == caller.account_id and u.get("extension"))
        views = [self._extension_view(caller.account_id, n) for n in numbers]
        if caller.sees_all:
            return views
        mine = {(caller.employee or {}).get("id")}
        return [v for v in views if v["employeeId"] in mine]

    def extension(self, actor: Principal, ref: str) -> dict[str, Any]:
        wanted = ref.strip().lower()
        found = [e for e in self.extensions(actor) if wanted in (e["id"], e["reporting"].lower(), e["name"].lower())]
        if len(found) != 1:
            raise NotFound("ExtensionNotFound", f"extension {ref} was not found")
        return found[0]

    def status(self) -> dict[str, Any]:
        return {"serverTime": self.rt.now_iso(), "startedOn": self.started_on, "isReady": True,
                "isRealtimeConnected": True, "isDataAccessConnected": True}

    # ------------------------------------------------------------------ directory
    def directory(self, actor: Principal) -> list[dict[str, Any]]:
        """Employees, queues and the contacts added through the directory, as directory entries."""
        caller = self.caller(actor)
        entries: list[dict[str, Any]] = []
        for employee in self.config.employees(caller.account_id):
            user = self.rt.state.get("user", employee["userId"]) or {}
            entries.append({"id": employee["id"], "accountId": caller.account_id, "type": "Employee",
                            "name": user.get("name", ""), "email": user.get("email"),
                            "phone": self.engine.dialplan.user_extension(caller.account_id, employee["userId"]),
                            "mobilePhone": user.get("mobile"), "extension": self.engine.dialplan.user_extension(
                                caller.account_id, employee["userId"]),
                            "presence": self.state_of(employee)["presence"]["aggregate"]})
        for queue in self.config.queues(caller.account_id):
            entries.append({"id": queue["id"], "accountId": caller.account_id, "type": "Queue", "name": queue["name"],
                            "phone": queue["reporting"] if queue["mediaType"] == "Voice" else None,
                            "extension": queue["reporting"]})
        entries += [d for d in self.rt.state.all(cfg.DIRECTORY) if d["accountId"] == caller.account_id]
        return entries

    def directory_entry(self, actor: Principal, ref: str) -> dict[str, Any]:
        wanted = ref.strip().lower()
        found = [e for e in self.directory(actor) if wanted in (e["id"], str(e.get("name") or "").lower())]
        if len(found) != 1:  # several matches: nothing is returned
            raise NotFound("DirectoryEntryNotFound", f"directory entry {ref} was not found")
        return found[0]

    @staticmethod
    def _entry_fields(body: dict[str, Any]) -> dict[str, Any]:
        fields: dict[str, Any] = {k: body.get(k) for k in ("name", "email", "phone", "mobilePhone", "extension")
                                  if k in body}
        for key, value in fields.items():
            if value is not None and not isinstance(value, str):
                raise Invalid("InvalidDirectoryEntry", f"{key} is a string")
        if "custom" in body:
            if not isinstance(body["custom"], dict):
                raise Invalid("InvalidDirectoryEntry", "custom is an object")
            fields["custom"] = body["custom"]
        return fields

    async def create_directory_entry(self, actor: Principal, body: dict[str, Any]) -> dict[str, Any]:
        caller = self.caller(actor)
        fields = self._entry_fields(body)
        if not (fields.get("name") or "").strip():
            raise Invalid("InvalidDirectoryEntry", "name is required")
        async with self.rt.write() as uow:
            now = self.rt.now_iso()
            doc = {"id": self.rt.ids.uuid(), "accountId": caller.account_id, "type": "ElasticContact",
                   "createdOn": now, "modifiedOn": now, "custom": {}, **fields}
            uow.put(cfg.DIRECTORY, doc["id"], doc)
            uow.emit("cc.directory.created", caller.account_id, f"/directory/{doc['id']}", doc, now)
            return doc

    async def update_directory_entry(self, actor: Principal, ref: str, body: dict[str, Any]) -> dict[str, Any]:
        caller = self.caller(actor)
        fields = self._entry_fields(body)
        async with self.rt.write() as uow:
            entry = self.directory_entry(actor, ref)
            if entry["type"] != "ElasticContact":
                raise Conflict("ReadOnlyEntry", f"a {entry['type']} entry changes where it is configured")
            if "name" in fields and not (fields["name"] or "").strip():
                raise Invalid("InvalidDirectoryEntry", "name cannot be empty")
            doc = {**entry, **fields, "modifiedOn": self.rt.now_iso()}
            uow.put(cfg.DIRECTORY, doc["id"], doc)
            uow.emit("cc.directory.updated", caller.account_id, f"/directory/{doc['id']}", doc, self.rt.now_iso())
            return doc
