"""The family's response and error schemas, for its OpenAPI document (the models of seed 004 as the table in
cx-api-operations.md §5.2 lists them, camelCase as clients read them). They document; the wire functions in
``wire.py`` build the bodies (each model allows the fields it does not list)."""
from __future__ import annotations

from typing import Any, Optional

from pydantic import BaseModel, ConfigDict, Field, create_model

Text = Optional[str]


class _Model(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)


Model = _Model   # the base of the family's schemas, for its other schema modules (admin_schemas.py)


class Resource(_Model):
    links: dict[str, Any] = Field(alias="_links")
    embedded: dict[str, Any] = Field(alias="_embedded")


class CxError(_Model):
    """An error: ASP.NET Web API's HttpError, camelCase (``modelState`` on an invalid body)."""
    message: str
    errorCode: str
    messageDetail: Text = None
    modelState: Optional[dict[str, list[str]]] = None


class OAuthError(_Model):
    error: str
    error_description: str


class TokenResponse(_Model):
    access_token: str
    token_type: str
    expires_in: int


class Presence(_Model):
    state: str
    acdState: str
    reason: Text = None
    reasonId: Text = None


class EmployeeModel(Resource):
    id: str
    name: str
    firstName: str
    lastName: str
    reporting: str
    email: Text = None
    username: str
    securityRoleRefId: str
    isEnabledForVoice: bool
    isEnabledForEmail: bool
    isEnabledForChat: bool
    isEnabledForSMS: bool
    isEnabledForOpenMedia: bool


class EmployeeStateModel(Resource):
    id: str
    name: str
    reporting: str
    presence: dict[str, Any]
    acdVoiceConversationsToday: int
    acdChatConversationsToday: int
    acdEmailConversationsToday: int
    acdSmsConversationsToday: int
    acdOpenMediaConversationsToday: int
    enteredStateOn: Text = None


class AgentModel(Resource):
    id: str
    reporting: str
    mediaType: str
    employeeRefId: str


class AgentStateModel(Resource):
    id: str
    reporting: str
    mediaType: str
    currentState: str
    availableState: str
    employeeRefId: str
    presentInAgentGroups: list[str]
    acdConversationsToday: int


class AgentGroupModel(Resource):
    id: str
    name: str
    reporting: Text = None
    isVoiceEnabled: bool


class EmployeeAgentGroupStatus(_Model):
    id: str
    type: str
    status: str


class EmployeeAgentGroup(_Model):
    id: str
    name: str
    reporting: Text = None
    statuses: list[EmployeeAgentGroupStatus]


class QueueModel(Resource):
    id: str
    name: str
    reporting: str
    mediaType: str
    serviceLevel: str


class QueueStateModel(Resource):
    id: str
    name: str
    reporting: str
    mediaType: str
    waitingConversations: int
    longestWaitingConversationDuration: str
    estimatedWaitTimeForNewConversations: str
    serviceLevelPercentageToday: float
    offeredConversationsToday: int
    answeredConversationsToday: int
    abandonedConversationsToday: int
    agentsAvailable: int
    agentsIdle: int
    agentsUnavailable: int


class ConversationModel(Resource):
    conversationId: str
    mediaType: str
    conversationState: str
    direction: Text = None
    fromAddress: Text = None
    toAddress: Text = None
    queueId: Text = None
    agentId: Text = None


class OpenMediaConversation(Resource):
    id: str
    conversationState: str
    positionInQueue: int
    queueId: Text = None
    queueName: Text = None
    agentId: Text = None
    timeOfferedToSystem: Text = None


class CaseModel(Resource):
    id: str
    state: str
    subject: str
    lastMediaType: Text = None
    monthYearCreated: str
    createdOn: str
    mediaTypes: list[str]
    queues: list[str]
    agents: list[str]


class OpenMediaQueue(Resource):
    id: str
    name: str
    reporting: str
    mediaType: str
    conversations: list[dict[str, Any]]


class TranscriptModel(_Model):
    body: str


class ReasonCodeModel(Resource):
    id: str
    name: str
    reporting: Text = None
    type: str


class WarningReasonModel(Resource):
    id: str
    name: str


class SiteModel(Resource):
    id: str
    name: str


class DnisModel(Resource):
    id: str
    name: str
    phoneNumber: Text = None


class ExtensionModel(Resource):
    id: str
    reporting: str
    mediaType: str
    acdEnabled: bool


class DirectoryEntryModel(Resource):
    id: str
    type: str
    name: Text = None


class StatusModel(_Model):
    serverUpTime: str
    serverTime: str
    applicationUpTime: str
    isReady: bool
    isRealtimeConnected: bool
    isDataAccessConnected: bool


class LicenseInfo(_Model):
    activeVoiceAgents: int
    maximumVoiceAgents: int
    activeMultimediaAgents: int
    maximumMultimediaAgents: int


class IntegratedSoftphoneInfo(_Model):
    gatewayMediaServerType: Text = None
    gatewayMediaServerConsumerId: Text = None


class GreetingsModel(_Model):
    isDefault: bool
    defaultGreeting: Text = None
    greetings: list[Any]
    queueGreetings: list[Any]


class CallDetailsDataModel(_Model):
    variables: list[dict[str, Any]]


class Account(_Model):
    claims: list[dict[str, Any]]
    userName: Text = None


_collections: dict[type, type] = {}


def collection(item: type[BaseModel]) -> type[BaseModel]:
    """``{_links, count, _embedded: {items: [item]}}``."""
    if item not in _collections:
        embedded = create_model(f"{item.__name__}Items", __base__=_Model, items=(list[item], ...))  # type: ignore[valid-type]
        _collections[item] = create_model(
            f"{item.__name__}Collection", __base__=_Model,
            links=(dict[str, Any], Field(alias="_links")), count=(Optional[int], None),
            embedded=(embedded, Field(alias="_embedded")))
    return _collections[item]


def ok(model: Any, description: str = "OK") -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route answering ``model`` with 200."""
    return {200: {"model": model, "description": description}}


ERRORS: dict[int | str, dict[str, Any]] = {
    "4XX": {"model": CxError, "description": "Client error (`{message, errorCode}`)"},
    501: {"model": CxError, "description": "Not available in the twin"}}


# ---------------------------------------------------------------------- request bodies (documented; the routes
# read them regardless of property case and accept enum names or the seed's numbers)
_ENUM: dict[str, Any] = {"oneOf": [{"type": "string"}, {"type": "integer"}]}
_TEXT: dict[str, Any] = {"type": ["string", "null"]}
STATE_UPDATE: dict[str, Any] = {"type": "object", "required": ["state"], "properties": {
    "state": {**_ENUM, "description": "PresenceAvailability: 1 Available, 2 Busy, 3 DoNotDisturb, 4 Away, 5 Offline"},
    "reason": _TEXT, "availableReason": {**_ENUM, "description": "0 Available, 1 ClearWorkTimer, 2 ClearBusy, "
                                                                 "3 ClearDoNotDisturb, 4 Login"},
    "deviceId": _TEXT, "hotDeskBaseExtension": _TEXT, "hotDeskPin": _TEXT, "isHotDeskExternal": {"type": "boolean"},
    "hotDeskAgentReporting": _TEXT, "isCloudlinkAuthenticated": {"type": "boolean"}}}
STATE_UPDATES: dict[str, Any] = {"type": "array", "items": {**STATE_UPDATE, "required": ["id", "state"],
                                            "properties": {**STATE_UPDATE["properties"], "id": {"type": "string"}}}}
CONVERSATION_UPDATE: dict[str, Any] = {"type": "object", "required": ["conversationAction"], "properties": {
    "id": _TEXT, "conversationAction": {**_ENUM, "description": "ConversationActionType (1 Accept, 3 Decline, "
                                                                "6 Hold, 7 RemoveHold, 8 Transfer, 9 Pick, 10 End, …)"},
    "transferDestinationType": _ENUM, "transferDestination": _TEXT, "dtmfDigit": _TEXT,
    "tags": {"type": "array", "items": {"type": "object", "properties": {"key": {"type": "string"}, "value": {}}},
             "description": "e.g. {key: emailAcceptType, value: Reply | ReplyAll | Forward}; the e-mail fields "
                           "below are also read as tags"},
    # an e-mail's draft (Save, Send, Forward, Delete): the twin's; see docs/compatibility.md
    "emailAcceptType": {"type": "string", "enum": ["Reply", "ReplyAll", "Forward", "None"]},
    "draftType": {"type": "string", "enum": ["ReplyDraft", "ForwardDraft", "NewDraft", "FailedSendDraft",
                                             "BounceDetectedDraft"]},
    "to": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
    "cc": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
    "bcc": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}]},
    "subject": _TEXT, "body": _TEXT, "htmlBody": _TEXT,
    "attachments": {"type": "array", "items": {"type": "object", "required": ["fileName", "content"], "properties": {
        "fileName": {"type": "string"}, "contentType": {"type": "string"},
        "content": {"type": "string", "description": "base64"}, "inline": {"type": "boolean"},
        "contentId": {"type": "string"}}}},
    "removeAttachments": {"type": "array", "items": {"type": "string"}}}}
CONVERSATION_UPDATES: dict[str, Any] = {"type": "array", "items": {
    **CONVERSATION_UPDATE, "required": ["id", "conversationAction"]}}
CONVERSATION_REQUEST: dict[str, Any] = {"type": "object", "required": ["type"], "properties": {
    "type": {**_ENUM, "description": "ConversationRequestType (4 Voice, …)"}, "to": _TEXT, "from": _TEXT,
    "fromName": _TEXT, "subject": _TEXT, "relatedConversationId": _TEXT}}
OPEN_MEDIA_REQUEST: dict[str, Any] = {"type": "object", "properties": {
    "targetUri": _TEXT, "targetUriEmbedded": {"type": "boolean"}, "previewUrl": _TEXT, "id": _TEXT, "historyUrl": _TEXT,
    "tenant": _TEXT, "queue": {**_TEXT, "description": "the open-media queue: id, name or reporting number"},
    "from": _TEXT, "to": _TEXT, "subject": _TEXT,
    "variableData": {"type": "object", "description": "routing variables; Name, Email, Phone and MobilePhone "
                                                       "identify (or create) the contact"}}}
OPEN_MEDIA_UPDATE: dict[str, Any] = {"type": "object", "required": ["action"], "properties": {
    "action": {**_ENUM, "description": "0 Complete, 1 Reroute"},
    "queue": {**_TEXT, "description": "Reroute: another open-media queue (default: the item's own)"}}}
DIRECTORY_ENTRY: dict[str, Any] = {"type": "object", "properties": {
    "name": _TEXT, "email": _TEXT, "phone": _TEXT, "mobilePhone": _TEXT, "extension": _TEXT,
    "custom": {"type": "object"}}}
GROUP_PRESENCE: dict[str, Any] = {"type": "object", "properties": {"id": _TEXT, "statuses": {"type": "array", "items": {
    "type": "object", "properties": {"id": _TEXT, "type": _TEXT, "status": {"type": "string",
                                                                           "enum": ["Present", "NotPresent"]}}}}}}
GROUP_PRESENCES: dict[str, Any] = {"oneOf": [
    {"type": "array", "items": GROUP_PRESENCE},
    {"type": "object", "properties": {"_embedded": {"type": "object", "properties": {
        "items": {"type": "array", "items": GROUP_PRESENCE}}}}}]}
PHOTO: dict[str, Any] = {"type": "object", "required": ["base64String"], "properties": {
    "base64String": {"type": "string"}, "config": {"type": "object"}}}
GREETING_RECORDING: dict[str, Any] = {"type": "object", "required": ["isDefault"], "properties": {
    "recordingName": _TEXT, "isDefault": {"type": "boolean"}}}
GREETINGS: dict[str, Any] = {"type": "object", "required": ["isDefault"], "properties": {
    "isDefault": {"type": "boolean"}, "defaultGreeting": _TEXT, "greetings": {"type": "array"},
    "queueGreetings": {"type": "array"}}}
CALL_DETAILS: dict[str, Any] = {"type": "object", "properties": {"variables": {"type": "array", "items": {
    "type": "object", "required": ["key"], "properties": {"key": {"type": "string"}, "value": {}}}}}}
TOKEN_FORM: dict[str, Any] = {"type": "object", "required": ["grant_type"], "properties": {
    "grant_type": {"type": "string", "enum": ["password", "client_credentials"]}, "username": {"type": "string"},
    "password": {"type": "string"}, "client_id": {"type": "string"}, "client_secret": {"type": "string"}}}


def body(schema: dict[str, Any], media: str = "application/json") -> dict[str, Any]:
    """``openapi_extra`` of a route reading ``schema`` as its request body."""
    return {"requestBody": {"required": True, "content": {media: {"schema": schema}}}}


# ---------------------------------------------------------------------- e-mail
class EmailAttachment(_Model):
    id: str
    fileName: str
    contentType: str
    size: int
    isInline: bool
    href: str


class EmailModel(Resource):
    """One e-mail of a conversation: ConversationModel's e-mail fields, and the message's own."""
    id: str
    conversationId: str
    emailType: str
    direction: str
    messageId: Text = None
    fromAddress: str
    toAddress: str
    cc: str
    bcc: str
    subject: str
    body: str
    attachments: list[EmailAttachment]
    originalMessageIdReplyingTo: Text = None
    originalMessageIdForwardingFrom: Text = None
    monthYearCreated: str


class QueueEmailModel(Resource):
    id: str
    queueId: str
    name: str
    emailAddress: str
    isDefault: bool


def binary(*media: str, description: str = "The file") -> dict[int | str, dict[str, Any]]:
    """``responses=`` of a route answering the bytes of a file."""
    return {200: {"description": description, "content": {m: {"schema": {"type": "string", "format": "binary"}}
                                                          for m in media}}}
