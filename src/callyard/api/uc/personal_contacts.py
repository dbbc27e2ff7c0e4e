"""Personal Contacts (seed 003, 16 operations): the contact lists of a user (``/user/{user}``), a user group
(``/group/{groupId}``, the group's name) and the organisation (``/api/personalcontacts/{domain}``, an
administrator's), and the localized phone labels. The rules (owners, unique speed dials and abbreviated
numbers, what dialling them reaches) are the core's (``core/personal_contacts``); this module translates.
A ticket with the USER or CONTACT_SEARCH API may use them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel, ConfigDict, Field

from callyard.api.deps import CoreDep
from callyard.api.uc.edge.auth import UcCaller
from callyard.api.uc.edge.errors import ERROR_RESPONSES
from callyard.api.uc.queue_statistics import own_domain
from callyard.api.uc.user_access import caller_any
from callyard.core.personal_contacts.service import PHONE_TYPES, STATUSES, TEXT_FIELDS

router = APIRouter(prefix="/api/personalcontacts/{domain}", tags=["Personal Contacts"], responses=ERROR_RESPONSES)
UserCaller = Annotated[UcCaller, Depends(caller_any("USER", "CONTACT_SEARCH"))]
OrgCaller = Annotated[UcCaller, Depends(caller_any("USER", "CONTACT_SEARCH", user=None))]
Cid = Annotated[str, Path(description="The ID of the contact (e.g. 167271@internal)", max_length=64)]
Text = Annotated[str | None, Field(default=None, max_length=64)]


@dataclass(frozen=True)
class Owner:
    """The caller and the owner of the list the path names (resolved before the body is read, so a caller
    who may not reach the list is refused whatever they send)."""
    who: UcCaller
    account_id: str
    owner_type: str
    owner_ref: str

    @property
    def args(self) -> tuple[Any, str, str, str]:
        return self.who.principal, self.account_id, self.owner_type, self.owner_ref


async def _organisation(domain: str, core: CoreDep,
                        who: OrgCaller) -> Owner:
    account_id = own_domain(core, who, domain)
    core.personal_contacts.owner(who.principal, account_id, "ORG", account_id)
    return Owner(who, account_id, "ORG", account_id)


async def _group(domain: str, core: CoreDep,
                 groupId: Annotated[str, Path(description="The name of the user group that owns the contacts",
                                              max_length=128)],
                 who: OrgCaller) -> Owner:
    account_id = own_domain(core, who, domain)
    core.personal_contacts.owner(who.principal, account_id, "GROUP", groupId)
    return Owner(who, account_id, "GROUP", groupId)


async def _user(who: UserCaller) -> Owner:
    return Owner(who, who.account_id, "USER", str(who.user["userId"]))


OfUser = Annotated[Owner, Depends(_user)]
OfGroup = Annotated[Owner, Depends(_group)]
OfOrganisation = Annotated[Owner, Depends(_organisation)]


class PhoneNumber(BaseModel):
    """PhoneNumberDto."""
    model_config = ConfigDict(extra="forbid")
    type: Literal[PHONE_TYPES] | None = None  # type: ignore[valid-type]
    phoneNumber: str = Field(max_length=40)
    preferredNumber: bool = False
    abbreviatednumber: str | None = Field(default=None, max_length=10)


class ContactFields(BaseModel):
    """The writable fields of a personal contact (a PUT replaces them all)."""
    model_config = ConfigDict(extra="forbid")
    cid: str | None = Field(default=None, max_length=64, description="Required when updating: the path's cid")
    company: Text
    department: Text
    firstname: Text
    lastname: Text
    shortname: Text
    email: Text
    street: Text
    city: Text
    postalcode: Text
    country: Text
    speeddial: int | None = Field(default=None, ge=1, le=10, description="Speed dial 1–10, unique per owner")
    showInDefaultContactList: bool = False
    contactStatus: Literal[STATUSES] = "CONTACT"  # type: ignore[valid-type]
    phoneNumbers: list[PhoneNumber] = Field(default_factory=list, max_length=20)


class PersonalContact(BaseModel):
    cid: str
    company: str | None = None
    department: str | None = None
    firstname: str | None = None
    lastname: str | None = None
    shortname: str | None = None
    email: str | None = None
    street: str | None = None
    city: str | None = None
    postalcode: str | None = None
    country: str | None = None
    speeddial: int | None = None
    showInDefaultContactList: bool
    contactStatus: Literal[STATUSES]  # type: ignore[valid-type]
    ownerType: Literal["USER", "GROUP", "ORG"]
    phoneNumbers: list[PhoneNumber]


class PersonalContacts(BaseModel):
    personal_contact: list[PersonalContact]


class PhoneLabel(BaseModel):
    labelValue: str
    labelName: str


class PhoneLabels(BaseModel):
    phoneLabels: list[PhoneLabel]


def wire(contact: dict[str, Any]) -> dict[str, Any]:
    out = {"cid": contact["cid"], **{k: contact[k] for k in TEXT_FIELDS if k in contact}}
    if contact.get("speeddial") is not None:
        out["speeddial"] = contact["speeddial"]
    out.update(showInDefaultContactList=contact["showInDefaultContactList"], contactStatus=contact["contactStatus"],
               ownerType=contact["ownerType"], phoneNumbers=contact["phoneNumbers"])
    return out


def _fields(body: ContactFields) -> dict[str, Any]:
    fields = body.model_dump(exclude_unset=True)
    if "phoneNumbers" in fields:
        fields["phoneNumbers"] = [p.model_dump(exclude_none=True) for p in body.phoneNumbers]
    return fields


# ---------------------------------------------------------------------- a user's contacts
@router.get("/user/{user}", response_model=PersonalContacts, response_model_exclude_none=True,
            operation_id="getUserPersonalContacts", summary="List all contacts of a user")
async def list_user(owner: OfUser, core: CoreDep) -> dict[str, Any]:
    return {"personal_contact": [wire(c) for c in core.personal_contacts.list(*owner.args)]}


@router.post("/user/{user}", response_model=PersonalContact, response_model_exclude_none=True,
             operation_id="createUserPersonalContact", summary="Create a contact for a user")
async def create_user(body: ContactFields, owner: OfUser, core: CoreDep) -> dict[str, Any]:
    return wire(await core.personal_contacts.create(*owner.args, _fields(body)))


@router.get("/user/{user}/{cid}", response_model=PersonalContact, response_model_exclude_none=True,
            operation_id="getUserPersonalContact", summary="Retrieve a contact of a user")
async def get_user(cid: Cid, owner: OfUser, core: CoreDep) -> dict[str, Any]:
    return wire(core.personal_contacts.get(*owner.args, cid))


@router.put("/user/{user}/{cid}", response_model=PersonalContact, response_model_exclude_none=True,
            operation_id="updateUserPersonalContact", summary="Update a contact of a user (replaces its fields)")
async def update_user(cid: Cid, body: ContactFields, owner: OfUser, core: CoreDep) -> dict[str, Any]:
    return wire(await core.personal_contacts.update(*owner.args, cid, _fields(body)))


@router.delete("/user/{user}/{cid}", response_model=str, operation_id="deleteUserPersonalContact",
               summary="Delete a contact of a user (answers the deleted contact's cid)")
async def delete_user(cid: Cid, owner: OfUser, core: CoreDep) -> str:
    return str((await core.personal_contacts.delete(*owner.args, cid))["cid"])


# ---------------------------------------------------------------------- a user group's contacts
@router.get("/group/{groupId}", response_model=PersonalContacts, response_model_exclude_none=True,
            operation_id="getGroupPersonalContacts", summary="List all contacts of a user group")
async def list_group(owner: OfGroup, core: CoreDep) -> dict[str, Any]:
    return {"personal_contact": [wire(c) for c in core.personal_contacts.list(*owner.args)]}


@router.post("/group/{groupId}", response_model=PersonalContact, response_model_exclude_none=True,
             operation_id="createGroupPersonalContact", summary="Create a contact for a user group")
async def create_group(body: ContactFields, owner: OfGroup, core: CoreDep) -> dict[str, Any]:
    return wire(await core.personal_contacts.create(*owner.args, _fields(body)))


@router.get("/group/{groupId}/{cid}", response_model=PersonalContact, response_model_exclude_none=True,
            operation_id="getGroupPersonalContact", summary="Retrieve a contact of a user group")
async def get_group(cid: Cid, owner: OfGroup, core: CoreDep) -> dict[str, Any]:
    return wire(core.personal_contacts.get(*owner.args, cid))


@router.put("/group/{groupId}/{cid}", response_model=PersonalContact, response_model_exclude_none=True,
            operation_id="updateGroupPersonalContact", summary="Update a contact of a user group (replaces its fields)")
async def update_group(cid: Cid, body: ContactFields, owner: OfGroup, core: CoreDep) -> dict[str, Any]:
    return wire(await core.personal_contacts.update(*owner.args, cid, _fields(body)))


@router.delete("/group/{groupId}/{cid}", response_model=str, operation_id="deleteGroupPersonalContact",
               summary="Delete a contact of a user group (answers the deleted contact's cid)")
async def delete_group(cid: Cid, owner: OfGroup, core: CoreDep) -> str:
    return str((await core.personal_contacts.delete(*owner.args, cid))["cid"])


# ---------------------------------------------------------------------- phone labels
@router.get("/phonelabels/{locale}", response_model=PhoneLabels, operation_id="getPhoneLabels",
            summary="Retrieve localized phone labels")
async def phone_labels(domain: str, core: CoreDep,
                       locale: Annotated[str, Path(max_length=16, description="e.g. en, sv-SE")],
                       who: OrgCaller) -> dict[str, Any]:
    own_domain(core, who, domain)
    return {"phoneLabels": core.personal_contacts.labels(locale)}


# ---------------------------------------------------------------------- the organisation's contacts (administrator)
@router.get("", response_model=PersonalContacts, response_model_exclude_none=True,
            operation_id="getOrganisationPersonalContacts",
            summary="List all contacts of the organisation (administrator)")
async def list_org(owner: OfOrganisation, core: CoreDep) -> dict[str, Any]:
    return {"personal_contact": [wire(c) for c in core.personal_contacts.list(*owner.args)]}


@router.post("", response_model=PersonalContact, response_model_exclude_none=True,
             operation_id="createOrganisationPersonalContact",
             summary="Create a contact for the organisation (administrator)")
async def create_org(body: ContactFields, owner: OfOrganisation, core: CoreDep) -> dict[str, Any]:
    return wire(await core.personal_contacts.create(*owner.args, _fields(body)))


@router.get("/{cid}", response_model=PersonalContact, response_model_exclude_none=True,
            operation_id="getOrganisationPersonalContact",
            summary="Retrieve a contact of the organisation (administrator)")
async def get_org(cid: Cid, owner: OfOrganisation, core: CoreDep) -> dict[str, Any]:
    return wire(core.personal_contacts.get(*owner.args, cid))


@router.put("/{cid}", response_model=PersonalContact, response_model_exclude_none=True,
            operation_id="updateOrganisationPersonalContact",
            summary="Update a contact of the organisation (administrator; replaces its fields)")
async def update_org(cid: Cid, body: ContactFields, owner: OfOrganisation, core: CoreDep) -> dict[str, Any]:
    return wire(await core.personal_contacts.update(*owner.args, cid, _fields(body)))


@router.delete("/{cid}", response_model=str, operation_id="deleteOrganisationPersonalContact",
               summary="Delete a contact of the organisation (administrator; answers the deleted cid)")
async def delete_org(cid: Cid, owner: OfOrganisation, core: CoreDep) -> str:
    return str((await core.personal_contacts.delete(*owner.args, cid))["cid"])
