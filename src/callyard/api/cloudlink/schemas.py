"""Request bodies of the Admin API, as pydantic models: they document the routes in the OpenAPI and reject
wrong types and unknown properties at the edge (the real API validates with additionalProperties:false)."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

Role = Literal["GUEST", "USER", "ACCOUNT_ADMIN", "PARTNER_ADMIN", "GLOBAL_ADMIN"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class UserCreate(Strict):
    email: str
    name: str | None = None
    firstName: str | None = None
    lastName: str | None = None
    role: Role | None = None
    extension: str | None = None
    mobile: str | None = None
    phone: str | None = None
    loginId: str | None = None
    languageCode: str | None = None
    siteId: str | None = None
    displayName: str | None = None
    password: str | None = None
    userId: str | None = None
    uniqueUserId: str | None = None
    description: str | None = None
    title: str | None = None
    department: str | None = None
    accountId: str | None = None


class UserUpdate(Strict):
    email: str | None = None
    name: str | None = None
    firstName: str | None = None
    lastName: str | None = None
    role: Role | None = None
    extension: str | None = None
    mobile: str | None = None
    phone: str | None = None
    loginId: str | None = None
    languageCode: str | None = None
    siteId: str | None = None
    displayName: str | None = None
    password: str | None = None
    userId: str | None = None
    uniqueUserId: str | None = None
    description: str | None = None
    title: str | None = None
    department: str | None = None
    active: bool | None = None


class BulkOperation(Strict):
    op: Literal["create", "add", "update", "replace", "delete", "remove"]
    id: str | None = None
    body: dict[str, Any] | None = None


class BulkRequest(Strict):
    operations: list[BulkOperation]


class WelcomeRequest(BaseModel):
    # Most parameters are specific to Mitel applications (seed 000); languageCode is the one honoured.
    model_config = ConfigDict(extra="allow")
    languageCode: str | None = None


class Member(Strict):
    memberId: str
    status: Literal["ACCEPTED", "INVITED", "DECLINED"] | None = None
    type: Literal["USER"] | None = None


class GroupCreate(Strict):
    name: str
    description: str | None = None
    visibility: Literal["PUBLIC", "PRIVATE"] | None = None
    type: Literal["USER", "APP", "HUNT", "ACD", "PAGING", "PICKUP"] | None = None
    members: list[Member] | None = None
    extension: str | None = None
    email: str | None = None


class GroupUpdate(Strict):
    name: str | None = None
    description: str | None = None
    visibility: Literal["PUBLIC", "PRIVATE"] | None = None
    type: Literal["USER", "APP", "HUNT", "ACD", "PAGING", "PICKUP"] | None = None
    members: list[Member] | None = None
    extension: str | None = None
    email: str | None = None


class AccountCreate(Strict):
    name: str
    languageCode: str | None = None
    location: dict[str, Any] | None = None
    policy: dict[str, Any] | None = None
    accessTokenExpiryHours: float | None = None
    refreshTokenExpiryHours: float | None = None
    userLimit: int | None = None
    description: str | None = None


class AccountUpdate(Strict):
    name: str | None = None
    languageCode: str | None = None
    location: dict[str, Any] | None = None
    policy: dict[str, Any] | None = None
    accessTokenExpiryHours: float | None = None
    refreshTokenExpiryHours: float | None = None
    userLimit: int | None = None
    active: bool | None = None
    contacts: list[Any] | None = None
    description: str | None = None


class ContactCreate(Strict):
    name: str
    firstName: str | None = None
    lastName: str | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    company: str | None = None
    contactType: str | None = None
    title: str | None = None
    description: str | None = None


class ContactUpdate(Strict):
    name: str | None = None
    firstName: str | None = None
    lastName: str | None = None
    email: str | None = None
    phone: str | None = None
    mobile: str | None = None
    company: str | None = None
    contactType: str | None = None
    title: str | None = None
    description: str | None = None


class ClientCreate(Strict):
    name: str
    description: str | None = None
    role: Role | None = None
    active: bool | None = None
    redirectUris: list[str] | None = None


def fields(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(exclude_unset=True)
