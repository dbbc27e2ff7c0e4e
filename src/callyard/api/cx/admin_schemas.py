"""Response and request schemas of the contact center's configuration and diagnostics operations (global and
personal reply templates, OSCMS webhooks, diagnostics, media and mail servers, application profiles, prompts,
variables) for the family's OpenAPI document; the models of seed 004 (cx-api-operations.md §5.2), camelCase.
``admin_wire.py`` builds the bodies."""
from __future__ import annotations

from typing import Any, Optional

from callyard.api.cx.schemas import Model, Resource, Text


class GlobalReplyTemplateModel(Resource):
    id: str
    siteId: Text = None
    createdOn: str
    modifiedOn: str
    customerText: str
    template: str
    templateText: str
    media: str
    tags: list[str]
    queues: list[str]


class Tag(Model):
    name: str
    count: int


class ReplyTemplateFolder(Model):
    label: str
    path: str
    children: list["ReplyTemplateFolder"]
    noLeaf: bool
    data: dict[str, Any]


class ReplyTemplateFile(Model):
    path: str
    template: str
    templateName: str


class StringModel(Model):
    string: str


class WebhookModel(Model):
    id: str
    name: Text = None
    url: str
    token: Text = None


class WebhookList(Model):
    webhookList: list[WebhookModel]


class OscmsExtension(Model):
    extension: str
    name: Text = None
    employeeId: str
    oscmsIds: list[str]


class Recording(Resource):
    id: str
    callId: str
    caseId: Text = None
    createdOn: str
    durationInSeconds: float
    contentType: str


class MediaServerModel(Resource):
    id: str
    name: str
    mediaType: str
    mediaServerType: str
    cloudlinkEnabled: bool
    mailServers: list[str]
    username: Text = None
    password: Text = None


class MailServerModel(Resource):
    id: str
    name: str
    smtpServer: Text = None
    smtpPort: Optional[int] = None
    incommingServerName: Text = None
    incommingPort: Optional[int] = None
    incomingEmailAliases: Text = None


class ApplicationProfileModel(Resource):
    id: str
    name: str
    application: str
    site: Text = None


class PromptModel(Resource):
    id: str
    name: str
    durationInSeconds: float


class VariableModel(Resource):
    id: str
    name: str
    type: str


_TEXT: dict[str, Any] = {"type": ["string", "null"]}
GLOBAL_REPLY_TEMPLATE: dict[str, Any] = {"type": "object", "properties": {
    "customerText": _TEXT, "template": {"type": "string"}, "templateText": _TEXT,
    "media": {"oneOf": [{"type": "string", "enum": ["Unspecified", "Email", "Chat", "Sms"]},
                        {"type": "integer", "minimum": 0, "maximum": 3}]},
    "tags": {"type": "array", "items": {"type": "string"}},
    "queues": {"type": "array", "items": {"type": "string"}}}}
REPLY_TEMPLATE_FILE: dict[str, Any] = {"type": "object", "required": ["template"], "properties": {
    "template": {"type": "string"}}}
WEBHOOK: dict[str, Any] = {"type": "object", "required": ["id", "url"], "properties": {
    "id": {"type": "string"}, "name": _TEXT, "url": {"type": "string", "format": "uri"}, "token": _TEXT}}
ROUTER_COMMAND: dict[str, Any] = {"type": "object", "required": ["commandName"], "properties": {
    "commandName": {"type": "string", "description": "Help, Queues, Queue, Agents, Agent, Cache or Services"},
    "value": _TEXT}}
PROBLEM_REPORT: dict[str, Any] = {"type": "object", "required": ["application"], "properties": {
    "application": {"type": "string"}, "description": _TEXT, "logs": {"type": "array", "items": {"type": "string"}}}}
