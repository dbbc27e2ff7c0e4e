"""Core documents → CloudLink wire shapes (field selection, photo URLs, ``_links``).

Every shape is built from an explicit allow-list of the fields CloudLink defines for that resource: core
documents also carry fields other families need (and secrets), and none of those may reach a CloudLink
response or publication. Fields keep the order they have in the document.
"""
from __future__ import annotations

from typing import Any
from collections.abc import Collection

from fastapi import Request

from callyard.core.directory.domains import sip_domain

from callyard.api.cloudlink.edge import BASE_PATH as BASE

_STAMPS = ("createdOn", "createdBy", "modifiedOn", "modifiedBy")
# The CloudLink user object (reference/cloudlink-apis.md, "User object fields"). photoUrl and avatars are
# computed from the stored photo.
USER_FIELDS = frozenset((
    "userId", "uniqueUserId", "accountId", "role", "email", "emailValid", "emailVerified", "extension",
    "extensionVerified", "mobile", "mobileVerified", "phone", "phoneVerified", "userVerified", "name",
    "firstName", "lastName", "displayName", "loginId", "languageCode", "siteId", "source", "active", "tags",
    "domain", "sipAddress", "sipPassword", "profileHeaderUrl", "description", "title", "department", *_STAMPS))
CONTACT_FIELDS = frozenset((
    "contactId", "accountId", "contactType", "name", "firstName", "lastName", "email", "phone", "mobile",
    "company", "title", "description", "tags", *_STAMPS))
# The CloudLink account object; its ``domain`` is the account's SIP (platform) domain, not the account domain
# the UC and CX families address it by.
ACCOUNT_FIELDS = frozenset((
    "accountId", "accountNumber", "name", "type", "partnerId", "active", "state", "source", "languageCode",
    "domain", "accessTokenExpiryHours", "refreshTokenExpiryHours", "userLimit", "policy", "policyId", "location",
    "topLevelDomain", "contacts", "tags", "description", *_STAMPS))
GROUP_FIELDS = frozenset((
    "groupId", "accountId", "name", "description", "visibility", "type", "extension", "email", "members",
    "tags", *_STAMPS))
MEMBER_FIELDS = ("memberId", "status", "type")
APPLICATION_FIELDS = frozenset((
    "applicationId", "accountId", "partnerId", "name", "description", "active", "redirectUris", "rules", "role",
    "resource", "logoUrl", "theme", "appLinks", "passwordRules", "requiredAttributes", "optionalAttributes",
    "supportedCountries", "providers", *_STAMPS))


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def service_url(request: Request, service: str) -> str:
    """The URL of a service as the caller reached this one: by service host, or by prefix on the twin's own
    host."""
    host = request.headers.get("host", "")
    if ".api.mitel." in host:
        return f"{request.url.scheme}://{service}.{host.split('.', 1)[1]}{BASE}"
    return f"{base_url(request)}/{service}{BASE}"
# Conversations (reference/cloudlink-apis.md §4): a deleted conversation or message is published with
# deletedOn/deletedBy.
CONVERSATION_FIELDS = frozenset((
    "conversationId", "accountId", "name", "languageCode", "thumbnailUrl", "stream", "visibility", "hidden",
    "generateSystemMessages", "participants", *_STAMPS, "deletedOn", "deletedBy"))
PARTICIPANT_FIELDS = frozenset(("participantId", "type", "userId", "status", "addedBy", "createdOn", "modifiedOn"))
MESSAGE_FIELDS = frozenset((
    "messageId", "conversationId", "accountId", "type", "senderId", "sequence", "contentType", "body",
    "fallbackText", "tag", "attachments", *_STAMPS, "deletedOn", "deletedBy"))
PRESENTITY_FIELDS = frozenset((
    "principalId", "accountId", "status", "reason", "note", "workMode", "enteredOn", "principal", "aggregate"))
PRESENCE_LAYER_FIELDS = frozenset(("status", "enteredOn"))


def pick(doc: dict[str, Any], allowed: Collection[str]) -> dict[str, Any]:
    """The allowed fields of ``doc``, in the document's order."""
    return {k: v for k, v in doc.items() if k in allowed}


def member_fields(member: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in member.items() if k in MEMBER_FIELDS}


def account_fields(account: dict[str, Any], allowed: Collection[str] = ACCOUNT_FIELDS) -> dict[str, Any]:
    out = pick(account, allowed)
    if "domain" in out:
        out["domain"] = sip_domain(account)
    return out


def group_fields(group: dict[str, Any]) -> dict[str, Any]:
    out = pick(group, GROUP_FIELDS)
    if isinstance(out.get("members"), list):
        out["members"] = [member_fields(m) if isinstance(m, dict) else m for m in out["members"]]
    return out


def conversation_fields(conversation: dict[str, Any]) -> dict[str, Any]:
    out = pick(conversation, CONVERSATION_FIELDS)
    if isinstance(out.get("participants"), list):
        out["participants"] = [pick(p, PARTICIPANT_FIELDS) if isinstance(p, dict) else p
                               for p in out["participants"]]
    return out


def presentity_fields(view: dict[str, Any]) -> dict[str, Any]:
    out = pick(view, PRESENTITY_FIELDS)
    for layer in ("principal", "aggregate"):
        if isinstance(out.get(layer), dict):
            out[layer] = pick(out[layer], PRESENCE_LAYER_FIELDS)
    return out


def _photo(out: dict[str, Any], doc: dict[str, Any], request: Request) -> None:
    photo = doc.get("photo")
    if photo:
        root = f"{base_url(request)}/_callyard/photos/{photo['photoId']}"
        out["photoUrl"] = f"{root}/original"
        out["avatars"] = {size: f"{root}/{size}" for size in ("50", "150", "300", "scaled")}


def user_wire(user: dict[str, Any], request: Request) -> dict[str, Any]:
    out = pick(user, USER_FIELDS)
    _photo(out, user, request)
    out["_links"] = {"self": f"{BASE}/accounts/{user['accountId']}/users/{user['userId']}"}
    return out


def contact_wire(contact: dict[str, Any], request: Request) -> dict[str, Any]:
    out = pick(contact, CONTACT_FIELDS)
    _photo(out, contact, request)
    out["_links"] = {"self": f"{BASE}/accounts/{contact['accountId']}/contacts/{contact['contactId']}"}
    return out


def account_wire(account: dict[str, Any]) -> dict[str, Any]:
    out = account_fields(account)
    out["_links"] = {"self": f"{BASE}/accounts/{account['accountId']}"}
    return out


def group_wire(group: dict[str, Any]) -> dict[str, Any]:
    out = group_fields(group)
    out["_links"] = {"self": f"{BASE}/accounts/{group['accountId']}/groups/{group['groupId']}"}
    return out


def member_wire(group: dict[str, Any], member: dict[str, Any]) -> dict[str, Any]:
    return {**member_fields(member), "groupId": group["groupId"], "accountId": group["accountId"],
            "_links": {"self": f"{BASE}/accounts/{group['accountId']}/groups/{group['groupId']}"
                               f"/members/{member['memberId']}"}}


def application_wire(record: dict[str, Any]) -> dict[str, Any]:
    out = pick(record, APPLICATION_FIELDS)
    out["_links"] = {"self": f"{BASE}/applications/{record['applicationId']}"}
    return out


def client_wire(record: dict[str, Any]) -> dict[str, Any]:
    out = application_wire(record)
    out["clientId"] = record["applicationId"]
    out["_links"] = {"self": f"{BASE}/accounts/{record['accountId']}/clients/{record['applicationId']}"}
    return out
