"""Wire models of the contact groups (seed 003: Buddy List, Contacts, Contacts Information and its V1): the
ContactDTO, ContactList, Presence, directory fields, the vCard ``Desc`` and the scheduled presence. They
document the family's OpenAPI; the routers build plain dictionaries of these fields."""
from __future__ import annotations

from typing import Literal, Optional

from pydantic import BaseModel, ConfigDict, Field

from callyard.api.uc.presence_schemas import ActivityBody, ExpiresBody, Presence, PresenceChange

Access = Literal["NONE", "WRITE"]
__all__ = ["ActivityBody", "ExpiresBody", "Presence"]
ContactStatus = Literal["FAVORITE", "CONTACT", "VIP", "BLOCKED"]


class PresenceIn(PresenceChange):
    """A presence change (role, note, activity) as the legacy presence update takes it."""


class PresenceResult(BaseModel):
    presence: Presence
    forbidden: list[Literal["role", "activity", "note"]]


class PresenceResultIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    presence: PresenceIn


class ContactPhoneNumber(BaseModel):
    number: str
    type: str


class FieldValue(BaseModel):
    id: str
    label: Optional[str] = None
    value: Optional[str] = None


class FieldValues(BaseModel):
    fields: list[FieldValue]


class Contact(BaseModel):
    """ContactDTO."""
    firstname: Optional[str] = None
    lastname: Optional[str] = None
    company: Optional[str] = None
    presence: Optional[Presence] = None
    incall: Optional[bool] = None
    inlist: bool
    diversionAccess: Optional[Access] = None
    type: Literal["DIRECTORY", "EXTERNAL", "FUNCTION_NUMBER", "NUMBER", "SHORTCUT"]
    image: Optional[int] = Field(None, description="The image version (absent without an image)")
    vcard: Optional[int] = Field(None, description="The vCard version")
    contactStatus: Optional[ContactStatus] = None
    preferredNumber: Optional[str] = None
    collaboration: Optional[bool] = None
    email: Optional[str] = None
    contactEntryId: str
    cid: str = Field(description="The contact id (userid@domain, number@domain)")
    phonenumbers: Optional[list[ContactPhoneNumber]] = None
    faxNumber: Optional[str] = None
    fields: Optional[FieldValues] = None


class ContactList(BaseModel):
    query: Optional[str] = None
    contact: list[Contact]


class ContactRef(BaseModel):
    """A contact of a ContactList sent to be added: its id (``cid`` or ``contactEntryId``)."""
    model_config = ConfigDict(extra="ignore")
    cid: Optional[str] = None
    contactEntryId: Optional[str] = None


class ContactListIn(BaseModel):
    model_config = ConfigDict(extra="ignore")
    query: Optional[str] = None
    contact: list[ContactRef]


class ContactStatusBody(BaseModel):
    contactStatus: ContactStatus


# ---------------------------------------------------------------------- directory fields
class LegacyField(BaseModel):
    id: str
    label: Optional[str] = None
    currentValue: Optional[str] = None
    editable: Optional[bool] = None
    requestedValue: Optional[str] = None


class LegacyFields(BaseModel):
    field: list[LegacyField]


class LegacyFieldIn(BaseModel):
    id: str
    currentValue: Optional[str] = None
    requestedValue: Optional[str] = None


class LegacyFieldsIn(BaseModel):
    field: list[LegacyFieldIn] = Field(max_length=64)


class DirectoryField(BaseModel):
    id: str
    label: str
    value: Optional[str] = None
    editable: bool


class DirectoryFields(BaseModel):
    fields: list[DirectoryField]


class DirectoryFieldIn(BaseModel):
    id: str
    requestedValue: Optional[str] = Field(None, description="The new value; omitted deletes the value")


class DirectoryFieldsIn(BaseModel):
    fields: list[DirectoryFieldIn] = Field(max_length=64)


# ---------------------------------------------------------------------- vCard (the seed's Desc)
class Resource(BaseModel):
    model_config = ConfigDict(extra="ignore")
    value: str
    parseType: Optional[str] = None
    type: Optional[list[str]] = None


class Name(BaseModel):
    model_config = ConfigDict(extra="ignore")
    parseType: Optional[str] = None
    Family: Optional[str] = None
    Given: Optional[str] = None


class Address(BaseModel):
    model_config = ConfigDict(extra="ignore")
    parseType: Optional[str] = None
    Street: Optional[str] = None
    Locality: Optional[str] = None
    Pcode: Optional[str] = None
    Country: Optional[str] = None


class Org(BaseModel):
    model_config = ConfigDict(extra="ignore")
    parseType: Optional[str] = None
    Orgname: Optional[str] = None
    Orgunit: Optional[str] = None


class Email(BaseModel):
    model_config = ConfigDict(extra="ignore")
    parseType: Optional[str] = None
    value: Optional[str] = None


class VcardField(BaseModel):
    id: str
    value: Optional[str] = None


class Description(BaseModel):
    model_config = ConfigDict(extra="ignore")
    TEL: Optional[list[Resource]] = None
    group: Optional[list[Resource]] = None
    field: Optional[list[VcardField]] = None
    FN: Optional[str] = None
    N: Optional[Name] = None
    ADR: Optional[Address] = None
    ORG: Optional[Org] = None
    EMAIL: Optional[Email] = None
    TITLE: Optional[str] = None


class Desc(BaseModel):
    model_config = ConfigDict(extra="ignore")
    Description: Description


# ---------------------------------------------------------------------- scheduled presence, time zones
class Recurrence(BaseModel):
    freq: Literal["DAILY", "WEEKLY", "MONTHLY", "YEARLY"]
    byday: Optional[str] = Field(None, description="Days as MO,TU,WE,TH,FR,SA,SU")
    bymonthday: Optional[int] = None
    interval: Optional[int] = None
    count: Optional[int] = None
    until: Optional[str] = None


class PresenceInstance(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    deleted: bool
    dt_start: str = Field(alias="dt-start")
    dt_end: str = Field(alias="dt-end")
    instanceId: str


class FuturePresenceIn(BaseModel):
    model_config = ConfigDict(populate_by_name=True, extra="ignore")
    role: Optional[str] = None
    note: Optional[str] = None
    presenceId: Optional[str] = None
    activity: Optional[str] = None
    priority: Optional[int] = None
    name: Optional[str] = None
    busyType: Optional[Literal["FREE", "TENTATIVE", "BUSY", "OOF", "WORKING_ELSEWHERE"]] = None
    source: Optional[Literal["INTERNAL", "CALENDAR"]] = None
    modifiable: Optional[bool] = None
    deleted: Optional[bool] = None
    private: Optional[bool] = None
    dt_start: Optional[str] = Field(None, alias="dt-start")
    dt_end: Optional[str] = Field(None, alias="dt-end")
    tzid: Optional[str] = None
    recur: Optional[Recurrence] = None


class FuturePresence(FuturePresenceIn):
    presenceId: str  # type: ignore[assignment]
    futurePresenceAccess: Access
    activityAccess: Access
    roleAccess: Access
    noteAccess: Access
    instances: Optional[list[PresenceInstance]] = None


class FuturePresences(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    presence: list[FuturePresence]
    calendar_sync_status: str = Field(alias="calendar-sync-status")


class TimeZone(BaseModel):
    region: str
    city: str
    offset: str = Field(description="The UTC offset in milliseconds")
    tzid: str


class TimeZones(BaseModel):
    timezone: list[TimeZone]


# ---------------------------------------------------------------------- single values (query or JSON body)
class NoteBody(BaseModel):
    note: Optional[str] = None


class RoleBody(BaseModel):
    role: str
