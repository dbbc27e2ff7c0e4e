"""Wire models of the CTI groups (the OpenAPI document's request and response schemas)."""
from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

MAKE_CALL_TYPES = ("BASIC", "DIVERSION_BYPASS", "INTRUSION", "INTERCOM", "VOICEMAIL", "BARGE", "WHISPER", "MONITOR")
TRANSFER_TYPES = ("BASIC", "VOICEMAIL", "CAMP_ON", "DIVERSION_BYPASS")
Int64 = Field(default=None, ge=-(2**63), le=2**63 - 1)


class RemoteParty(BaseModel):
    type: Literal["USER_ID", "SERVICE_ID", "FUNCTION_NUMBER_ID"]
    telUri: str
    displayName: str
    displayNumber: str
    intrusionType: Literal["INTRUSION", "BARGE", "WHISPER", "MONITOR"] | None = None


class HistoryInfo(BaseModel):
    subject: str | None = None
    acdSupport: str | None = None
    campOn: bool = False
    initialParty: RemoteParty | None = None
    previousParty: RemoteParty | None = None
    previousRetargetReason: Literal["DISTRIBUTED", "TRANSFERRED"] | None = None


class Participant(BaseModel):
    id: str
    remoteParty: RemoteParty
    historyInfo: HistoryInfo


class Action(BaseModel):
    action: Literal["ANSWER", "MOVE", "TRANSFER", "HOLD", "RESUME", "PARK", "MUTE", "UNMUTE", "START_REC",
                    "STOP_REC", "SAVE_REC", "DISCARD_REC", "PAUSE_REC", "RESUME_REC"]
    deviceIds: list[str]


class CallState(BaseModel):
    stateToken: int
    callId: str
    correlationId: str | None = None
    remoteParty: RemoteParty
    participants: list[Participant]
    conference: bool
    conferenceId: str | None = None
    historyInfo: HistoryInfo
    inbound: bool
    intruded: bool
    status: Literal["INITIATED", "RINGING", "ACTIVE", "HELD", "TERMINATED"]
    event: Literal["PARTICIPANT_ADDED", "PARTICIPANT_LEFT", "LEFT_CONFERENCE", "MUTED", "UNMUTED",
                   "FAILED"] | None = None
    eventDescription: str | None = None
    muted: bool
    duration: int
    recordable: bool
    recording: bool
    recordingDuration: int
    externalRecording: bool
    externalRecordingDuration: int
    externalRecordingPaused: bool
    deviceIds: list[str]
    actions: list[Action]


class UserState(BaseModel):
    fullState: bool
    calls: list[CallState]


class StateToken(BaseModel):
    stateToken: int | None = Int64


class TargetCall(BaseModel):
    stateToken: int | None = Int64
    targetCallId: str
    targetStateToken: int | None = Int64


class Connect(TargetCall):
    waitForAnswer: bool = False


class Webhook(BaseModel):
    targetUrl: str
    targetId: str
    publicTarget: bool


class InlineWebhook(BaseModel):
    targetUrl: str | None = None
    targetId: str | None = None
    publicTarget: bool = True


class UserLine(BaseModel):
    type: str | None = None
    groupId: int | None = Int64


class MakeCall(InlineWebhook):
    destination: str
    role: str | None = None
    userLine: UserLine | None = None
    type: Literal["BASIC", "DIVERSION_BYPASS", "INTRUSION", "INTERCOM", "VOICEMAIL", "BARGE", "WHISPER",
                  "MONITOR"] = "BASIC"


class Consultation(MakeCall):
    stateToken: int | None = Int64


class Transfer(BaseModel):
    stateToken: int | None = Int64
    blind: bool = False
    type: Literal["BASIC", "VOICEMAIL", "CAMP_ON", "DIVERSION_BYPASS"] = "BASIC"
    destination: str


class Dtmf(BaseModel):
    stateToken: int | None = Int64
    digits: str


class DialogPickup(InlineWebhook):
    callId: str
    toTag: str
    fromTag: str
    earlyOnly: bool


class WebhookExpiry(BaseModel):
    expiresOn: int
