"""Loading a tenant fixture (the demo tenant by default, or ``--tenant FILE``) into an empty state."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from callyard.core.auth.passwords import hash_fixture_password, hash_password
from callyard.core.clock import iso
from callyard.core.contact_center.tenant import load_contact_center
from callyard.core.directory import domains
from callyard.core.directory.applications import record_id
from callyard.core.directory.service import new_account
from callyard.core.errors import Invalid
from callyard.core.runtime import Runtime
from callyard.core.state import State

DEMO_TENANT = Path(__file__).resolve().parents[2] / "fixtures" / "demo-tenant.json"


def read_tenant(path: Path | None) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads((path or DEMO_TENANT).read_text())
    except (OSError, ValueError) as exc:
        raise Invalid("InvalidTenant", f"cannot read tenant file {path}: {exc}") from None
    if data.get("format") != "callyard-tenant" or data.get("version") != 1:
        raise Invalid("InvalidTenant", "a tenant file has format callyard-tenant, version 1")
    return data


def build_state(rt: Runtime, tenant: dict[str, Any]) -> State:
    """The baseline state described by a tenant file."""
    state = State()
    now = iso(rt.clock.now())
    default_password = tenant.get("password")
    by_name: dict[str, dict[str, Any]] = {}
    pending_apps: list[tuple[dict[str, Any], dict[str, Any]]] = []
    taken = _declared_domains(tenant)

    def add_account(spec: dict[str, Any], partner: dict[str, Any] | None) -> None:
        if spec.get("domain") is not None:
            domain = spec["domain"].lower()
        else:
            domain = domains.derive(spec["name"], taken)
            taken.add(domain)
        account = new_account(rt, spec["name"], partner, spec.get("accountId"), spec.get("accountNumber"), domain)
        for key, value in spec.items():
            if key not in ("users", "customers", "applications", "accountId", "accountNumber", "name", "groups",
                           "agents", "domain", "contactCenter"):
                account[key] = value
        account.update(createdOn=now, modifiedOn=now, createdBy="callyard", modifiedBy="callyard")
        state.load("account", account["accountId"], account)
        by_name[account["name"]] = account
        for user_spec in spec.get("users", []):
            add_user(account, user_spec)
        for app_spec in spec.get("applications", []):
            pending_apps.append((account, app_spec))
        for group_spec in spec.get("groups", []):
            add_group(account, group_spec)
        for agent_spec in spec.get("agents", []):
            add_agent(account, agent_spec)
        if spec.get("contactCenter"):
            load_contact_center(state, rt, account, spec["contactCenter"], user_ref)
        for customer in spec.get("customers", []):
            add_account(customer, account)

    def add_user(account: dict[str, Any], spec: dict[str, Any]) -> None:
        spec = dict(spec)
        password = spec.pop("password", default_password)
        user_id = spec.pop("userId", None) or rt.ids.uuid()
        user = {"userId": user_id, "uniqueUserId": spec.pop("uniqueUserId", user_id), "accountId": account["accountId"],
                "role": "USER", "emailVerified": True, "extensionVerified": bool(spec.get("extension")),
                "mobileVerified": bool(spec.get("mobile")), "phoneVerified": False, "userVerified": True,
                "languageCode": account["languageCode"], "source": "CLOUDLINK", "active": True, "tags": {},
                "domain": domains.sip_domain(account), "sipAddress": f"{user_id}@{domains.sip_domain(account)}",
                "createdOn": now, "modifiedOn": now, "createdBy": "callyard", "modifiedBy": "callyard", **spec}
        if password:
            user["passwordHash"] = hash_fixture_password(password)
        state.load("user", user_id, user)

    def user_ref(account: dict[str, Any], ref: str) -> str:
        for user in state.all("user"):
            if user["accountId"] == account["accountId"] and ref in (user["userId"], user.get("email")):
                found: str = user["userId"]
                return found
        raise Invalid("InvalidTenant", f"{ref} is not a user of account {account['name']}")

    def add_group(account: dict[str, Any], spec: dict[str, Any]) -> None:
        """A group; with an ``extension`` it is a hunt group or (type ACD) a queue, ``acd`` its settings."""
        spec = dict(spec)
        group_id = spec.pop("groupId", None) or rt.ids.uuid()
        members = [{"memberId": user_ref(account, ref), "status": "ACCEPTED", "type": "USER"}
                   for ref in spec.pop("members", [])]
        state.load("group", group_id, {
            "groupId": group_id, "accountId": account["accountId"], "visibility": "PUBLIC", "type": "USER",
            **spec, "members": members, "createdOn": now, "modifiedOn": now, "createdBy": "callyard",
            "modifiedBy": "callyard"})

    def add_agent(account: dict[str, Any], spec: dict[str, Any]) -> None:
        """Initial contact-center agent state: ``{"user": email, "loggedIn": bool, "skills": {...}}``."""
        user_id = user_ref(account, spec["user"])
        logged_in = bool(spec.get("loggedIn"))
        key = f"{account['accountId']}:{user_id}"
        state.load("agent", key, {
            "agentKey": key, "accountId": account["accountId"], "userId": user_id, "loggedIn": logged_in,
            "ready": bool(spec.get("ready", logged_in)), "reason": None, "skills": spec.get("skills", {}),
            "presence": {}, "idleSince": now if logged_in else None, "wrapUntil": None, "changedOn": now})

    for spec in tenant.get("accounts", []):
        add_account(spec, None)
    for owner, spec in pending_apps:
        app_id = spec["applicationId"]
        base = {"applicationId": app_id, "partnerId": owner["partnerId"], "name": spec["name"],
                "description": spec.get("description", ""), "active": True, "tags": {},
                "redirectUris": spec.get("redirectUris", []), "rules": {"enforceRedirectUris": True},
                "createdOn": now, "modifiedOn": now, "createdBy": "callyard", "modifiedBy": "callyard"}
        state.load("application", record_id(app_id, owner["accountId"]), {
            **base, "recordId": record_id(app_id, owner["accountId"]), "accountId": owner["accountId"],
            "registration": True, "role": spec.get("role", "USER"),
            "resource": f"https://mitel.io/auth/3pa-{app_id}",
            "clientSecretHash": hash_fixture_password(spec["clientSecret"]) if spec.get("clientSecret")
            else hash_password(rt.ids.secret())})
        for name in spec.get("enabledOn", []):
            target = by_name[name]
            state.load("application", record_id(app_id, target["accountId"]), {
                **base, "recordId": record_id(app_id, target["accountId"]), "accountId": target["accountId"],
                "partnerId": target["partnerId"], "registration": False})
    return state


def _declared_domains(tenant: dict[str, Any]) -> set[str]:
    """The domains the tenant file sets, validated and unique regardless of case."""
    seen: dict[str, str] = {}
    pending = list(tenant.get("accounts", []))
    while pending:
        spec = pending.pop(0)
        pending.extend(spec.get("customers", []))
        if spec.get("domain") is None:
            continue
        name = spec.get("name", "?")
        if not domains.is_domain(spec["domain"]):
            raise Invalid("InvalidTenant", f"account {name}: domain {spec['domain']!r} is not a valid DNS name "
                                           f"(such as acme.example)")
        domain = spec["domain"].lower()
        if domain in seen:
            raise Invalid("InvalidTenant", f"accounts {seen[domain]} and {name} both have the domain {domain}; "
                                           f"account domains are unique (regardless of case)")
        seen[domain] = name
    return set(seen)
