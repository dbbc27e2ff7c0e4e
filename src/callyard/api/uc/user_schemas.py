"""Wire models of the UC groups built on the user's devices, lines, communication log and distribution groups
(seed 003: User Device Information, User Line, Calls, Line State, Communication Log, ACD/Attendant Group,
Distribution Group, Queue Statistics, Call Recording Control). They document the responses in the family's
OpenAPI; the routers build plain dictionaries of exactly these fields."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Device(BaseModel):
    deviceId: str
    deviceType: str
    deviceName: str
    deviceIcon: str
    deviceTypeName: str
    deviceStatus: Literal["ACTIVE", "INACTIVE"]
    revocable: bool
    hasAttributes: bool


class DeviceShort(BaseModel):
    deviceId: str
    deviceType: str
    deviceName: str
    deviceIcon: str


class DeviceAttribute(BaseModel):
    name: str
    value: str


class DeviceName(BaseModel):
    name: str = Field(description="The display name (at most 32 characters)")


class DeviceIcon(BaseModel):
    name: Literal["DEFAULT", "TYPE_1", "TYPE_2"]


class WebhookExpiry(BaseModel):
    expiresOn: int = Field(description="Seconds the registration lives; register again to renew")


class UserLine(BaseModel):
    groupId: int
    type: str
    number: str
    name: str
    active: bool


class UserLines(BaseModel):
    line: list[UserLine]


class ActiveLine(BaseModel):
    number: str
    type: str
    name: str
    groupId: int


class ActiveLineChange(BaseModel):
    type: Literal["ANONYMOUS", "ACD", "ACD_LIGHT", "ATTENDANT", "SWITCHBOARD", "OFFICE_FIXED", "PRIVATE_FIXED",
                  "OFFICE_MOBILE", "PRIVATE_MOBILE"]
    groupId: int


class LineStateBody(BaseModel):
    expiresOn: str = Field(description="ISO 8601 with an offset, e.g. 2020-03-10T11:05:00+01")


class TransferStatusDetail(BaseModel):
    transferStartTime: int
    type: str
    id: str
    destination: str


class TransferStatus(BaseModel):
    transferId: TransferStatusDetail | None


class TransferStartedDetail(BaseModel):
    transferStartTime: int
    id: str


class TransferStarted(BaseModel):
    transferId: TransferStartedDetail


class FieldMessage(BaseModel):
    fieldName: str
    code: str
    description: str
    name: str


class ValidationResultOk(BaseModel):
    """The seed's ValidationResult, empty on success (its ``generated-id`` names what was created)."""
    model_config = ConfigDict(populate_by_name=True)
    field: list[FieldMessage]
    warning: list[FieldMessage]
    generated_id: str = Field(alias="generated-id")


class RemoteParty(BaseModel):
    number: str
    displayName: str


class CallItem(BaseModel):
    itemId: int
    startTime: str
    remoteParty: RemoteParty
    itemType: Literal["OUTGOING_CALL", "MISSED_CALL", "INCOMING_CALL", "VOICEMAIL", "RECORDING", "FAX"]
    isSeen: bool
    duration: int
    isPlayed: bool | None = None
    callItemId: int | None = None
    deletionTime: str | None = None
    deleted: bool | None = None


class CallDTO(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    call: CallItem = Field(alias=".CallDTO")


class GroupInboxItem(BaseModel):
    itemId: int
    startTime: str
    remoteParty: RemoteParty
    itemType: Literal["VOICEMAIL"]
    isSeen: bool
    callItemId: int
    isPlayed: bool
    inboxName: str


class GroupInboxDTO(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    voicemail: GroupInboxItem = Field(alias=".GroupInboxVoiceMailDTO")


class HistoryList(BaseModel):
    historyItems: list[CallDTO]
    flushCache: bool
    generatedAt: str
    hintCount: int


class GroupInboxList(BaseModel):
    historyItems: list[GroupInboxDTO]
    flushCache: bool
    generatedAt: str
    hintCount: int


class HistoryCount(BaseModel):
    count: int


class AgentRef(BaseModel):
    name: str
    number: str
    userId: str


class HandledStatus(BaseModel):
    state: Literal["UNHANDLED", "INPROGRESS", "HANDLED"]
    agent: AgentRef | None
    timeStamp: str | None
    note: str


class ForwardedTo(BaseModel):
    name: str
    number: str


class GroupCallLogItem(BaseModel):
    itemId: int
    groupId: int
    groupOrgId: int
    callCount: int
    itemType: Literal["ANSWERED", "FORWARDED", "MISSED"]
    forwardReason: str | None
    startTime: str
    callDuration: int
    queueDuration: int
    callMetaData: str
    diversionNumber: str
    callerNumber: str
    callbackToNumber: str
    agent: AgentRef | None
    forwardedTo: ForwardedTo | None
    handledStatus: HandledStatus
    noteIncluded: bool


class GroupCallLog(BaseModel):
    generatedAt: str
    flushCache: bool
    hintCount: int
    callCountAnswered: int
    callCountForwarded: int
    callCountMissed: int
    callLogItem: list[GroupCallLogItem]


class Assignment(BaseModel):
    state: Literal["UNHANDLED", "INPROGRESS", "HANDLED"] | None = None
    note: str | None = None


class GroupSummary(BaseModel):
    id: int
    domain: str
    name: str
    type: str
    loggedIn: bool
    nightMode: bool
    loggedInAgents: int
    freeAgents: int
    callsWaiting: int


class GroupSummaries(BaseModel):
    group: list[GroupSummary]


class Statistic(BaseModel):
    numberOfLoggedInAgents: int
    numberOfFreeAgents: int
    numberOfCallsInQueue: int


class Role(BaseModel):
    type: str


class DetailAgent(BaseModel):
    firstName: str
    lastName: str
    activity: str
    skillLevel: int
    isLoggedIn: bool
    isAvailable: bool


class GroupDetail(BaseModel):
    id: int
    domain: str
    name: str
    type: str
    loggedIn: bool
    nightMode: bool
    agents: list[DetailAgent]
    roles: list[Role]
    statistic: Statistic | None = None
    allowUsingFunctionNumber: bool
    distributionType: str | None = None


class GroupDetails(BaseModel):
    groups: list[GroupDetail]


class LegacyAgent(BaseModel):
    name: str
    number: str
    userId: str


class GroupLegacy(BaseModel):
    id: int
    domain: str
    name: str
    type: str
    isLoggedIn: bool
    isNightMode: bool
    agents: list[LegacyAgent]
    roles: list[Role]
    statistic: Statistic
    isAllowUsingFunctionNumber: bool
    distributionType: str
    phoneNumber: str


class AgentPresenceCount(BaseModel):
    name: str
    count: int


class QueueStat(BaseModel):
    model_config = ConfigDict(populate_by_name=True)
    name: str
    domain: str
    number: str
    id: int
    queueLength: int
    availableAgents: int
    loggedInAgents: int
    longestWaiting: int
    lastWait: int
    averageWait: int
    droppedCallsForPeriod: int
    totalCallsForPeriod: int
    answeredCallsForPeriod: int
    totalCallsLast24h: int
    droppedCallsLast24h: int
    answeredCallsLast24h: int
    current_agent_presence: list[AgentPresenceCount] = Field(alias="current-agent-presence")


class QueueStats(BaseModel):
    queue: list[QueueStat]


class RecordingState(BaseModel):
    id: str
    deviceType: str
    mobileNumber: str
    isLocalDevice: bool
    displayName: str
    number: str
    calledNumber: str
    isSaved: bool
    isPaused: bool
    allowedActions: list[Literal["SAVE", "DISCARD", "PAUSE", "RESUME"]]
    duration: int
    recordDuration: int
    callId: str
