"""Wire models of the UC groups on the user's presence and settings (seed 003: User Information, Presence
Shortcuts, Activity Diversion Mapping, Diversion, End-user Configuration, Voicemail Settings, Mobile
Subscriber). They document requests and responses in the family's OpenAPI; the routers build plain
dictionaries of exactly these fields."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

RuleType = Literal["CFWD_ALL", "CFWD_ON_BUSY_IN_CALL", "CFWD_ON_BUSY", "CFWD_NO_ANSWER", "CFWD_UNREACHABLE",
                   "CFWD_NO_ANSWER_OR_UNREACHABLE", "CFWD_ON_BUSY_OR_UNREACHABLE",
                   "CFWD_ON_BUSY_IN_CALL_OR_UNREACHABLE"]
LineOrder = Literal["PRIMARY", "SECONDARY"]
Access = Literal["NONE", "WRITE"]


class Activity(BaseModel):
    id: str = Field(description="available, busy, lunch, meeting, out_of_office, working or an own activity")
    expiration: str = Field(description="When the activity ends (ISO 8601, UTC) or 'never'")
    available: bool


class Presence(BaseModel):
    futurePresenceAccess: Access
    activityAccess: Access
    roleAccess: Access
    noteAccess: Access
    role: str
    note: str
    activity: Activity
    idle: bool
    available: bool = Field(description="Callers reach the user: the activity is available, no DND, not in a call")
    capabilities: list[Literal["MESSAGE", "PARTIAL_COLLABORATION", "FULL_COLLABORATION", "SMS"]]


class ActivityChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: str = Field(min_length=1, max_length=64)
    expiration: str | None = Field(default=None, description="ISO 8601 with an offset, or 'never'")
    available: bool | None = None


class PresenceChange(BaseModel):
    """The JSON body of a presence update (``application/pidf+xml`` is accepted too)."""
    model_config = ConfigDict(extra="ignore")
    role: str | None = None
    note: str | None = Field(default=None, max_length=1024)
    activity: ActivityChange | None = None
    available: bool | None = None


class ActivityBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    activity: str | None = Field(default=None, max_length=64)
    available: bool | None = None


class ExpiresBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    expires: str | None = Field(default=None, max_length=64)


class PresenceShortcut(BaseModel):
    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=64)
    activityId: str = Field(min_length=1, max_length=64)
    available: bool
    durationType: Literal["NO_END_TIME", "UNTIL_NEXT_WORKING_DAY", "MINUTES"]
    durationMinutes: int | None = None
    order: int
    imageId: Literal["ic_shortcut_big_green", "ic_shortcut_big_red", "ic_shortcut_car", "ic_shortcut_coffee",
                     "ic_shortcut_home", "ic_shortcut_office", "ic_shortcut_pizza", "ic_shortcut_plane",
                     "ic_shortcut_watch"]
    diversionPhoneNumber: str | None = Field(default=None, max_length=32)
    applyDiversionNumber: bool = False


class PresenceShortcuts(BaseModel):
    presenceShortcut: list[PresenceShortcut]


# ---------------------------------------------------------------------------- diversion
class DiversionMappingItem(BaseModel):
    activityId: str = Field(min_length=1, max_length=64)
    phoneNumber: str = Field(min_length=1, max_length=32)


class DiversionMappingPatch(BaseModel):
    activityId: str | None = Field(default=None, max_length=64)
    phoneNumber: str = Field(min_length=1, max_length=32)


class DiversionMapping(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    diversion_mapping: list[DiversionMappingItem] = Field(alias="diversion-mapping")


class DiversionRule(BaseModel):
    phoneNumber: str | None = Field(default=None, max_length=32)
    diversionRoutingRulesType: RuleType | Literal["NONE"]


class LineRules(BaseModel):
    lineNumber: str | None = None
    lineOrderType: LineOrder | None = None
    lineType: str | None = None
    userDiversionRules: list[DiversionRule]


class UserIdentity(BaseModel):
    domain: str
    userid: str


class DiversionRules(BaseModel):
    user: UserIdentity
    userDiversionLineRules: list[LineRules]


class DiversionRulesChange(BaseModel):
    user: UserIdentity | None = None
    userDiversionLineRules: list[LineRules] = Field(min_length=1)


class OneRule(BaseModel):
    lineOrderType: LineOrder
    phoneNumber: str | None = None
    diversionRoutingRulesType: RuleType


class OneRuleChange(BaseModel):
    lineOrderType: LineOrder | None = None
    phoneNumber: str | None = Field(default=None, max_length=32)
    diversionRoutingRulesType: RuleType | Literal["NONE"] | None = None


class DiversionNumber(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    diversion_number: str = Field(alias="diversion-number", description="The active diversion number ('' = none)")
    activityScoped: bool = Field(description="Cleared on the next activity change")


class DiversionNumberBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    phoneNumber: str | None = Field(default=None, max_length=32)
    activityScoped: bool | None = None


# ---------------------------------------------------------------------------- end-user configuration
class AnswerPlace(BaseModel):
    id: str
    name: str


class AnswerPlaces(BaseModel):
    answerplace: list[AnswerPlace]


class Role(BaseModel):
    id: str
    name: str
    stateName: str


class Roles(BaseModel):
    role: list[Role]


class ConfigActivity(BaseModel):
    id: str
    name: str
    available: bool
    default: bool
    stateName: str


class Activities(BaseModel):
    activity: list[ConfigActivity]


class ConfigField(BaseModel):
    id: str
    label: str
    currentValue: str
    requestedValue: str | None = None
    editable: bool
    dateRequested: str | None = None


class ConfigFields(BaseModel):
    field: list[ConfigField]


class UserConfig(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    activities: Activities
    roles: Roles
    answerplaces: AnswerPlaces
    topics_enabled: bool = Field(alias="topics-enabled")
    sms_allowed: bool = Field(alias="sms-allowed")
    fallbackToDefaultPresenceState: bool
    defaultPresenceState: str
    callrouting_enabled: bool = Field(alias="callrouting-enabled")
    language: str
    fields: ConfigFields


class WebClient(BaseModel):
    url: str


# ---------------------------------------------------------------------------- voicemail, mobile subscriber
class VoicemailSettings(BaseModel):
    playActivity: bool
    playMergedUnavailableEndTime: bool
    playHumanAssistance: bool
    humanAssistanceNumber: str
    smsNotification: bool
    emailNotification: bool
    fileAttached: bool
    voicemailInboxFullSmsNotification: bool
    voicemailInboxFullEmailNotification: bool
    allowDownload: bool
    allowVoicemail: bool
    bypassVoicemail: bool
    voicemailCallbackEnabled: bool


class VoicemailSettingsChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    playActivity: bool | None = None
    playMergedUnavailableEndTime: bool | None = None
    playHumanAssistance: bool | None = None
    humanAssistanceNumber: str | None = Field(default=None, max_length=32)
    smsNotification: bool | None = None
    emailNotification: bool | None = None
    fileAttached: bool | None = None
    voicemailInboxFullSmsNotification: bool | None = None
    voicemailInboxFullEmailNotification: bool | None = None
    allowDownload: bool | None = None
    allowVoicemail: bool | None = None
    bypassVoicemail: bool | None = None
    voicemailCallbackEnabled: bool | None = None
