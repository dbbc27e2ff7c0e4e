"""E-mail as the contact center reads and writes it, with the standard library's ``email`` package
(``policy=default``): :func:`parse` turns a received message (RFC 5322 bytes, as SMTP delivered it) into a
:class:`ParsedMail` — addresses, subject, the text and HTML bodies, inline images and attachments, the
threading headers (Message-ID, In-Reply-To, References) and, for a delivery status notification (RFC 3464), the
Message-ID of the message that bounced; :func:`build` writes an outgoing one with the same headers.

Pure functions: no state, no I/O.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.headerregistry import Address
from email.message import EmailMessage, Message
from email.utils import format_datetime, getaddresses, parseaddr
from datetime import datetime
from typing import Any

_MSGID = re.compile(r"<[^<>\s]+>")


@dataclass
class Part:
    """An attachment or an inline image."""

    file_name: str
    content_type: str
    data: bytes
    inline: bool = False
    content_id: str | None = None   # without the angle brackets


@dataclass
class ParsedMail:
    message_id: str | None
    in_reply_to: str | None
    references: list[str]
    from_address: str
    from_name: str
    to: list[str]
    cc: list[str]
    subject: str
    text: str
    html: str | None
    parts: list[Part] = field(default_factory=list)
    date: str | None = None
    bounced_message_id: str | None = None   # a delivery status notification: the Message-ID that bounced
    bounce_reason: str | None = None


def message_ids(value: str | None) -> list[str]:
    """The Message-IDs (``<…>``) of a References or In-Reply-To header, in order."""
    return _MSGID.findall(value or "")


def addresses(values: list[str]) -> list[str]:
    """Bare addresses (``local@domain``) of header values, lower-cased domain, without names or duplicates."""
    out: list[str] = []
    for _name, address in getaddresses(values):
        address = normalise(address)
        if address and address not in out:
            out.append(address)
    return out


def normalise(address: str) -> str:
    """``Name <Local@Example.COM>`` → ``Local@example.com`` (domains are case-insensitive; local parts kept)."""
    _name, bare = parseaddr(address)
    local, at, domain = bare.strip().rpartition("@")
    return f"{local}@{domain.lower()}" if at and local and domain else ""


def _text(part: Message) -> str:
    payload = part.get_payload(decode=True)
    if not isinstance(payload, bytes):
        return ""
    charset = part.get_content_charset() or "utf-8"
    try:
        return payload.decode(charset, errors="replace")
    except LookupError:
        return payload.decode("utf-8", errors="replace")


def _bounce(message: EmailMessage) -> tuple[str | None, str | None]:
    """(the Message-ID of the returned message, the failure) of a multipart/report delivery-status message."""
    if message.get_content_type() != "multipart/report" or message.get_param("report-type") != "delivery-status":
        return None, None
    original: str | None = None
    reason: str | None = None
    for part in message.walk():
        kind = part.get_content_type()
        if kind in ("message/rfc822", "text/rfc822-headers"):
            inner = part.get_payload()
            if isinstance(inner, list) and inner and isinstance(inner[0], Message):
                found = message_ids(str(inner[0].get("Message-ID", "")))
            else:
                found = message_ids(_text(part))
            original = original or (found[0] if found else None)
        elif kind == "message/delivery-status":
            blocks = part.get_payload()
            for block in blocks if isinstance(blocks, list) else []:
                if not isinstance(block, Message):
                    continue
                diagnostic = block.get("Diagnostic-Code") or block.get("Status")
                if diagnostic and reason is None:
                    reason = str(diagnostic).strip()
    return original, reason


def parse(raw: bytes) -> ParsedMail:
    """A received message. Bodies: the first ``text/plain`` and ``text/html`` that are not attachments.
    Images with a Content-ID that are not attachments, or that the HTML body shows (``cid:``), are inline
    images; the other non-body parts are attachments (their file names stripped of any directory)."""
    message = message_from_bytes(raw, policy=policy.default)
    assert isinstance(message, EmailMessage)
    text: str | None = None
    html: str | None = None
    parts: list[Part] = []
    referenced: list[bool] = []   # an image with a Content-ID, inline if the HTML body shows it (cid:)
    bounced, reason = _bounce(message)
    for part in message.walk():
        if part.is_multipart():
            continue
        kind = part.get_content_type()
        disposition = part.get_content_disposition()
        if kind.startswith("message/") or (bounced and kind == "text/rfc822-headers"):
            continue
        if disposition != "attachment" and kind == "text/plain" and text is None:
            text = _text(part)
            continue
        if disposition != "attachment" and kind == "text/html" and html is None:
            html = _text(part)
            continue
        data = part.get_payload(decode=True)
        if not isinstance(data, bytes):
            continue
        found_ids = message_ids(str(part.get("Content-ID", "")))
        content_id = found_ids[0][1:-1] if found_ids else None
        inline = bool(content_id) and kind.startswith("image/") and disposition != "attachment"
        referenced.append(not inline and bool(content_id) and kind.startswith("image/"))
        name = part.get_filename() or (content_id or f"part-{len(parts) + 1}")
        parts.append(Part(file_name=safe_name(name), content_type=kind, data=data, inline=inline,
                          content_id=content_id))
    for found, maybe in zip(parts, referenced, strict=True):
        if maybe and html and f"cid:{found.content_id}" in html:
            found.inline = True
    from_name, from_address = parseaddr(str(message.get("From", "")))

    def first_id(header: str) -> str | None:
        found = message_ids(str(message.get(header, "")))
        return found[0] if found else None

    date = message.get("Date")
    return ParsedMail(
        message_id=first_id("Message-ID"), in_reply_to=first_id("In-Reply-To"),
        references=message_ids(str(message.get("References", ""))),
        from_address=normalise(from_address), from_name=from_name,
        to=addresses([str(v) for v in message.get_all("To", [])]),
        cc=addresses([str(v) for v in message.get_all("Cc", [])]),
        subject=str(message.get("Subject", "")), text=text or "", html=html, parts=parts,
        date=str(date) if date else None, bounced_message_id=bounced, bounce_reason=reason)


def safe_name(name: str) -> str:
    """A file name without directories or control characters (it names a download, never a path)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:200] or "attachment"


def build(mail: dict[str, Any], files: list[tuple[dict[str, Any], bytes]], when: datetime) -> EmailMessage:
    """An outgoing message from an outbox entry: From, To, Cc (Bcc only in the envelope), Subject, Date,
    Message-ID, In-Reply-To and References; the text body with the HTML body as its alternative, inline images
    (``cid:`` of the HTML) related to the HTML, and the attachments. ``files``: (the file's description
    ``{fileName, contentType, inline, contentId}``, its bytes)."""
    message = EmailMessage(policy=policy.SMTP)
    from_address = mail["from"]
    if mail.get("fromName"):
        local, _, domain = from_address.partition("@")
        message["From"] = Address(display_name=mail["fromName"], username=local, domain=domain)
    else:
        message["From"] = from_address
    message["To"] = mail["to"]
    if mail.get("cc"):
        message["Cc"] = mail["cc"]
    message["Subject"] = mail.get("subject") or ""
    message["Date"] = format_datetime(when)
    if mail.get("messageId"):
        message["Message-ID"] = mail["messageId"]
    if mail.get("inReplyTo"):
        message["In-Reply-To"] = mail["inReplyTo"]
    if mail.get("references"):
        message["References"] = " ".join(mail["references"])
    message.set_content(mail.get("body") or "")
    inline = [(desc, data) for desc, data in files if desc.get("inline")]
    attached = [(desc, data) for desc, data in files if not desc.get("inline")]
    if mail.get("html"):
        message.add_alternative(mail["html"], subtype="html")
        payload = message.get_payload()
        html_part = payload[-1] if isinstance(payload, list) else None
        for desc, data in inline if isinstance(html_part, EmailMessage) else []:
            assert isinstance(html_part, EmailMessage)
            maintype, _, subtype = desc["contentType"].partition("/")
            html_part.add_related(data, maintype=maintype, subtype=subtype or "octet-stream",
                                  cid=f"<{desc['contentId']}>", filename=desc["fileName"], disposition="inline")
    else:
        attached = attached + inline
    for desc, data in attached:
        maintype, _, subtype = desc["contentType"].partition("/")
        message.add_attachment(data, maintype=maintype or "application", subtype=subtype or "octet-stream",
                               filename=desc["fileName"])
    return message
