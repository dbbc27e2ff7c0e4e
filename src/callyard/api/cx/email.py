"""Email (seed 004): the e-mails of a conversation by GetEmailType (the thread, the agent's drafts, what was
sent), their inline images and attachments, the queue addresses a reply may be sent from, and sent e-mails
reusable for a recipient. The core is the contact center's mail room (``core/contact_center/mailroom.py``);
the agent's reply, reply-all, forward, save and send are ConversationUpdates on the inbox (employees.py).

The personal reply-template operations of the Email tag (``/email/replytemplates/…``) are the reply-template
module's, with those of Chat and Sms."""
from __future__ import annotations

from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Request, Response

from callyard.api.cx import schemas, wire
from callyard.api.cx.common import Caller, DeskDep, page
from callyard.api.cx.edge import enum_name, field, offset_of
from callyard.core.contact_center.mailroom import ACCEPT_TYPES, DRAFT_FIELDS, DRAFTS, GET_EMAIL_TYPES
from callyard.core.errors import Invalid

router = APIRouter(tags=["Email"], responses=schemas.ERRORS)


def email_update(body: dict[str, Any], tags: list[dict[str, Any]]) -> dict[str, Any]:
    """The e-mail parts of a ConversationUpdate (read in any property case, top-level or as ``tags``, the
    update's ``[{key, value}]``): the reply mode of an Accept (``emailAcceptType``), the draft a Send/Delete
    means (``draftType``) and the draft's fields (to, cc, bcc, subject, body, htmlBody, attachments,
    removeAttachments)."""

    def given(name: str) -> Any:
        value = field(body, name)
        return value if value is not None else next(
            (t["value"] for t in tags if str(t["key"]).lower() == name.lower()), None)

    out: dict[str, Any] = {"draft": {k: given(k) for k in DRAFT_FIELDS if given(k) is not None}}
    for name, names in (("emailAcceptType", ACCEPT_TYPES), ("draftType", DRAFTS)):
        value = given(name)
        if value not in (None, ""):
            out[name] = enum_name(value, names, name)
    return out


def _file(doc: dict[str, Any], content_type: str, data: bytes, disposition: str) -> Response:
    name = doc["fileName"]
    return Response(content=data, media_type=content_type, headers={
        "Content-Disposition": f"{disposition}; filename*=UTF-8''{quote(name)}",
        # a customer's file, served from the twin's origin: never run as a page (an HTML or SVG attachment)
        "X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox; default-src 'none'"})


@router.get("/email/reusable", responses=schemas.ok(schemas.collection(schemas.EmailModel)),
            summary="Get a reusable email for the given to")
async def reusable(request: Request, caller: Caller, desk: DeskDep, to: str | None = None) -> Any:
    if not to:
        raise Invalid("InvalidEmailAddress", "to (the recipient) is required")
    offset = offset_of(request)
    return page(request, [wire.email(e, offset) for e in desk.center.mailroom.reusable(caller, to)])


@router.get("/email/{conversationId}/images/{resourceId}",
            responses=schemas.binary("image/*", description="The inline image"), summary="Get an email's image.")
async def image(conversationId: str, resourceId: str, caller: Caller, desk: DeskDep) -> Response:
    doc, content_type, data = desk.center.mailroom.image(caller, conversationId, resourceId)
    return _file(doc, content_type, data, "inline")


@router.get("/email/{conversationId}/attachments", responses=schemas.binary("*/*", description="The attachment"),
            summary="Get an email's attachment.")
async def attachment(conversationId: str, caller: Caller, desk: DeskDep, fileName: str | None = None) -> Response:
    doc, content_type, data = desk.center.mailroom.attachment(caller, conversationId, fileName or "")
    return _file(doc, content_type, data, "attachment")


@router.get("/email/{conversationId}/fromaddresses",
            responses=schemas.ok(schemas.collection(schemas.QueueEmailModel)),
            summary="Get queue emails that can be used for setting the from address")
async def from_addresses(conversationId: str, request: Request, caller: Caller, desk: DeskDep) -> Any:
    return page(request, [wire.queue_email(q) for q in desk.center.mailroom.from_addresses(caller, conversationId)])


@router.get("/email/{conversationId}/{getEmailType}/{monthYearCreated}",
            responses=schemas.ok(schemas.collection(schemas.EmailModel)), summary="Get an email.")
async def email(conversationId: str, getEmailType: str, monthYearCreated: str, request: Request, caller: Caller,
                desk: DeskDep) -> Any:
    kind = next((t for t in GET_EMAIL_TYPES if t.lower() == getEmailType.lower()), getEmailType)
    offset = offset_of(request)
    found = desk.center.mailroom.email_views(caller, conversationId, kind, monthYearCreated)
    return page(request, [wire.email(e, offset) for e in found])
