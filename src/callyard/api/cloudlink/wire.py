"""Core documents → CloudLink wire shapes (field selection, photo URLs, ``_links``)."""
from __future__ import annotations

from typing import Any

from fastapi import Request

BASE = "/2017-09-01"
_HIDDEN = {"passwordHash", "clientSecretHash", "photo", "activationToken", "registration", "recordId", "pbx", "acd"}


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def service_url(request: Request, service: str) -> str:
    """The URL of a service as the caller reached this one: by service host, or by prefix on the twin's own
    host."""
    host = request.headers.get("host", "")
    if ".api.mitel." in host:
        return f"{request.url.scheme}://{service}.{host.split('.', 1)[1]}{BASE}"
    return f"{base_url(request)}/{service}{BASE}"


def _strip(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k not in _HIDDEN}


def _photo(out: dict[str, Any], doc: dict[str, Any], request: Request) -> None:
    photo = doc.get("photo")
    if photo:
        root = f"{base_url(request)}/_callyard/photos/{photo['photoId']}"
        out["photoUrl"] = f"{root}/original"
        out["avatars"] = {size: f"{root}/{size}" for size in ("50", "150", "300", "scaled")}


def user_wire(user: dict[str, Any], request: Request) -> dict[str, Any]:
    out = _strip(user)
    _photo(out, user, request)
    out["_links"] = {"self": f"{BASE}/accounts/{user['accountId']}/users/{user['userId']}"}
    return out


def contact_wire(contact: dict[str, Any], request: Request) -> dict[str, Any]:
    out = _strip(contact)
    _photo(out, contact, request)
    out["_links"] = {"self": f"{BASE}/accounts/{contact['accountId']}/contacts/{contact['contactId']}"}
    return out


def account_wire(account: dict[str, Any]) -> dict[str, Any]:
    out = _strip(account)
    out.pop("parentAccountId", None)
    out["_links"] = {"self": f"{BASE}/accounts/{account['accountId']}"}
    return out


def group_wire(group: dict[str, Any]) -> dict[str, Any]:
    out = _strip(group)
    out["_links"] = {"self": f"{BASE}/accounts/{group['accountId']}/groups/{group['groupId']}"}
    return out


def member_wire(group: dict[str, Any], member: dict[str, Any]) -> dict[str, Any]:
    return {**member, "groupId": group["groupId"], "accountId": group["accountId"],
            "_links": {"self": f"{BASE}/accounts/{group['accountId']}/groups/{group['groupId']}/members/{member['memberId']}"}}


def application_wire(record: dict[str, Any]) -> dict[str, Any]:
    out = _strip(record)
    out.pop("tags", None)
    out["_links"] = {"self": f"{BASE}/applications/{record['applicationId']}"}
    return out


def client_wire(record: dict[str, Any]) -> dict[str, Any]:
    out = application_wire(record)
    out["clientId"] = record["applicationId"]
    out["_links"] = {"self": f"{BASE}/accounts/{record['accountId']}/clients/{record['applicationId']}"}
    return out
