"""Applications (OAuth clients): registration, enabling on accounts, tags, and the Admin API's clients.

One document per (application, account): the record in the owning account is the registration (it holds
the hashed client secret and the role client_credentials tokens get); a record in another account is the
application being enabled there, with that account's name, ``active`` flag and redirect URIs — the seed 002
registration flow (``PUT /applications/{applicationId}`` by a partner admin).
"""
from __future__ import annotations

import copy
from typing import Any

from callyard.core.auth.passwords import hash_password, verify_password
from callyard.core.directory.access import Access
from callyard.core.errors import Conflict, Forbidden, Invalid, NotFound, Unauthorized
from callyard.core.principal import ROLES, Principal, role_at_least
from callyard.core.runtime import Runtime

WRITABLE = {"name", "description", "active", "redirectUris", "logoUrl", "theme", "rules", "role", "resource",
            "appLinks", "passwordRules", "requiredAttributes", "optionalAttributes", "supportedCountries",
            "providers"}


def record_id(application_id: str, account_id: str) -> str:
    return f"{application_id}:{account_id}"


class Applications:
    def __init__(self, runtime: Runtime, access: Access) -> None:
        self.rt = runtime
        self.access = access

    def registration(self, application_id: str) -> dict[str, Any] | None:
        for record in self.rt.state.all("application"):
            if record["applicationId"] == application_id and record.get("registration"):
                return record
        return None

    def record(self, application_id: str, account_id: str) -> dict[str, Any] | None:
        return self.rt.state.get("application", record_id(application_id, account_id))

    def records_of(self, application_id: str) -> list[dict[str, Any]]:
        return [r for r in self.rt.state.all("application") if r["applicationId"] == application_id]

    def in_account(self, account_id: str) -> list[dict[str, Any]]:
        return [r for r in self.rt.state.all("application") if r["accountId"] == account_id]

    def _validate(self, fields: dict[str, Any]) -> None:
        unknown = set(fields) - WRITABLE - {"applicationId", "accountId"}
        if unknown:
            raise Invalid("InvalidRequest", f"data should NOT have additional properties: {sorted(unknown)}")
        uris = fields.get("redirectUris")
        # The vendor spec types the items as plain strings (Mitel's registration collection sends ["string"]):
        # accept what the spec accepts; a redirect URI is checked when it is used (``/authorize``).
        if uris is not None and (not isinstance(uris, list) or not all(isinstance(u, str) for u in uris)):
            raise Invalid("InvalidRequest", "redirectUris must be an array of strings")
        if "role" in fields and fields["role"] not in ROLES:
            raise Invalid("InvalidRequest", f"role must be one of {', '.join(ROLES)}")
        if "active" in fields and not isinstance(fields["active"], bool):
            raise Invalid("InvalidRequest", "active must be a boolean")

    async def register(self, actor: Principal, fields: dict[str, Any], *, account_ref: str | None = None,
                       as_client: bool = False) -> tuple[dict[str, Any], str]:
        """Register an application (``POST /applications``, PARTNER_ADMIN+) or an Admin API client
        (``POST /accounts/{accountId}/clients``, ACCOUNT_ADMIN+). Returns the record and the plaintext secret,
        which is never shown again."""
        minimum = "ACCOUNT_ADMIN" if as_client else "PARTNER_ADMIN"
        if not isinstance(fields.get("accountId"), (str, type(None))):
            raise Invalid("MissingParamInRequest", "accountId must be a string")
        account = self.access.account(actor, account_ref or fields.get("accountId") or actor.account_id, minimum)
        self._validate(fields)
        if not as_client:
            for required in ("name", "description"):
                if not isinstance(fields.get(required), str):
                    raise Invalid("MissingParamInRequest", f"{required} is required")
        role = fields.get("role", "USER")
        if not role_at_least(actor.role, role):
            raise Forbidden("InsufficientPermissions",
                            f"a {actor.role} cannot register an application with role {role}")
        application_id = fields.get("applicationId") if actor.at_least("GLOBAL_ADMIN") else None
        application_id = application_id or self.rt.ids.uuid()
        if self.registration(application_id):
            raise Conflict("ConditionalCheckFailedException", f"application {application_id} already exists")
        secret = self.rt.ids.secret()
        now = self.rt.now_iso()
        record = {
            "recordId": record_id(application_id, account["accountId"]), "applicationId": application_id,
            "accountId": account["accountId"], "partnerId": account["partnerId"], "registration": True,
            "name": fields.get("name", ""), "description": fields.get("description", ""),
            # Without a Mitel review in the twin, a partner's own registration is active unless it says not.
            "active": fields.get("active", True), "redirectUris": fields.get("redirectUris", []),
            "rules": fields.get("rules", {"enforceRedirectUris": True}), "role": role,
            "resource": fields.get("resource", f"https://mitel.io/auth/3pa-{application_id}"),
            "clientSecretHash": hash_password(secret), "tags": {},
            "createdOn": now, "createdBy": actor.principal_id, "modifiedOn": now, "modifiedBy": actor.principal_id,
        }
        for key in WRITABLE - record.keys():
            if key in fields:
                record[key] = fields[key]
        async with self.rt.write() as uow:
            uow.put("application", record["recordId"], record)
            uow.emit("application.created", account["accountId"], f"/applications/{application_id}",
                     _public(record), now)
        return record, secret

    def get(self, actor: Principal, application_id: str, account_ref: str | None = None) -> dict[str, Any]:
        account = self.access.account(actor, account_ref or actor.account_id)
        record = self.record(application_id, account["accountId"])
        if record is None:
            raise NotFound("ApplicationNotFound", f"application {application_id} is not registered on this account")
        return record

    async def enable(self, actor: Principal, application_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """``PUT /applications/{applicationId}``: create or update the application's record on an account."""
        if not isinstance(fields.get("accountId"), (str, type(None))):
            raise Invalid("MissingParamInRequest", "accountId must be a string")
        account = self.access.account(actor, fields.get("accountId") or actor.account_id, "ACCOUNT_ADMIN")
        self._validate(fields)
        registration = self.registration(application_id)
        if registration is None:
            raise NotFound("ApplicationNotFound", f"application {application_id} was not found")
        changes = {k: v for k, v in fields.items() if k in {"name", "description", "active", "redirectUris", "rules"}}
        now = self.rt.now_iso()
        async with self.rt.write() as uow:
            existing = self.record(application_id, account["accountId"])
            if existing is None:
                record = {
                    "recordId": record_id(application_id, account["accountId"]), "applicationId": application_id,
                    "accountId": account["accountId"], "partnerId": account["partnerId"], "registration": False,
                    "name": registration["name"], "description": registration["description"], "active": True,
                    "redirectUris": [], "rules": copy.deepcopy(registration.get("rules", {})), "tags": {},
                    "createdOn": now, "createdBy": actor.principal_id, **changes,
                    "modifiedOn": now, "modifiedBy": actor.principal_id,
                }
                uow.put("application", record["recordId"], record)
            else:
                record = uow.update("application", existing["recordId"], **changes, modifiedOn=now,
                                    modifiedBy=actor.principal_id)
            uow.emit("application.updated", account["accountId"], f"/applications/{application_id}",
                     _public(record), now)
        return record

    async def delete(self, actor: Principal, application_id: str, account_ref: str | None) -> dict[str, Any]:
        account = self.access.account(actor, account_ref or actor.account_id, "ACCOUNT_ADMIN")
        record = self.record(application_id, account["accountId"])
        if record is None:
            raise NotFound("ApplicationNotFound", f"application {application_id} is not registered on this account")
        doomed = self.records_of(application_id) if record.get("registration") else [record]
        async with self.rt.write() as uow:
            for r in doomed:
                uow.delete("application", r["recordId"])
            uow.emit("application.deleted", account["accountId"], f"/applications/{application_id}", None,
                     self.rt.now_iso())
        return record

    async def put_tag(self, actor: Principal, application_id: str, tag_id: str | None, value: Any,
                      create: bool) -> dict[str, Any]:
        record = self.get(actor, application_id)
        self.access.require_role(actor, "ACCOUNT_ADMIN")
        if not isinstance(tag_id, str) or not tag_id or not isinstance(value, str):
            raise Invalid("MissingParamInRequest", "id and value are required strings")
        tags = copy.deepcopy(record.get("tags", {}))
        now = self.rt.now_iso()
        if create and tag_id in tags:
            raise Conflict("ConditionalCheckFailedException", f"tag {tag_id} already exists")
        if not create and tag_id not in tags:
            raise NotFound("TagNotFound", f"tag {tag_id} was not found")
        previous = tags.get(tag_id, {})
        tags[tag_id] = {"id": tag_id, "value": value, "createdOn": previous.get("createdOn", now),
                        "createdBy": previous.get("createdBy", actor.principal_id), "modifiedOn": now,
                        "modifiedBy": actor.principal_id}
        async with self.rt.write() as uow:
            uow.update("application", record["recordId"], tags=tags)
        tag: dict[str, Any] = tags[tag_id]
        return tag

    async def delete_tag(self, actor: Principal, application_id: str, tag_id: str) -> dict[str, Any]:
        record = self.get(actor, application_id)
        self.access.require_role(actor, "ACCOUNT_ADMIN")
        tags = copy.deepcopy(record.get("tags", {}))
        if tag_id not in tags:
            raise NotFound("TagNotFound", f"tag {tag_id} was not found")
        removed: dict[str, Any] = tags.pop(tag_id)
        async with self.rt.write() as uow:
            uow.update("application", record["recordId"], tags=tags)
        return removed

    def authenticate_client(self, client_id: str, client_secret: str | None) -> dict[str, Any]:
        registration = self.registration(client_id)
        if registration is None:
            raise NotFound("ClientNotFound", f"client {client_id} was not found")
        if client_secret is not None and not verify_password(client_secret, registration.get("clientSecretHash")):
            raise Unauthorized("ClientSecretMismatch", "the client secret does not match")
        return registration

    def active_record(self, client_id: str, account_id: str) -> dict[str, Any]:
        record = self.record(client_id, account_id)
        if record is None:
            raise Forbidden("InvalidClient", f"client {client_id} is not enabled on this account")
        if not record.get("active"):
            raise Unauthorized("ClientNotActive", f"client {client_id} is not active on this account")
        return record


def _public(record: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in record.items() if k != "clientSecretHash"}

