"""The contact center's MIME reading and writing (``core/contact_center/mime.py``): bodies, inline images and
attachments, threading headers, delivery status notifications, and a written reply read back."""
from __future__ import annotations

from datetime import datetime, timezone
from email.message import EmailMessage

from hypothesis import given, strategies as st

from callyard.core.contact_center import mime


def customer_message() -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Pat Customer <pat@Customer.EXAMPLE>"
    message["To"] = "support@acme.example, Other <other@x.example>"
    message["Cc"] = "boss@customer.example"
    message["Subject"] = "Order 1234"
    message["Message-ID"] = "<abc@customer.example>"
    message["References"] = "<r1@x> <r2@x>"
    message["In-Reply-To"] = "<r2@x>"
    message.set_content("Where is it?\nThanks")
    message.add_alternative('<p>Where is it?<img src="cid:logo1"></p>', subtype="html")
    message.get_payload()[1].add_related(b"\x89PNG", maintype="image", subtype="png", cid="<logo1>",
                                         filename="logo.png")
    message.add_attachment(b"%PDF-1.4", maintype="application", subtype="pdf", filename="../../etc/invoice.pdf")
    return message


def test_a_customer_message_is_read_whole() -> None:
    parsed = mime.parse(customer_message().as_bytes())
    assert (parsed.message_id, parsed.in_reply_to, parsed.references) == ("<abc@customer.example>", "<r2@x>",
                                                                          ["<r1@x>", "<r2@x>"])
    assert (parsed.from_address, parsed.from_name) == ("pat@customer.example", "Pat Customer")
    assert parsed.to == ["support@acme.example", "other@x.example"] and parsed.cc == ["boss@customer.example"]
    assert parsed.text == "Where is it?\nThanks\n" and "cid:logo1" in (parsed.html or "")
    image, pdf = parsed.parts
    assert (image.file_name, image.inline, image.content_id, image.data) == ("logo.png", True, "logo1", b"\x89PNG")
    assert (pdf.file_name, pdf.inline, pdf.content_type) == ("invoice.pdf", False, "application/pdf")
    assert parsed.bounced_message_id is None


def test_a_reply_written_and_read_back_keeps_its_threading_and_files() -> None:
    written = mime.build({"from": "support@acme.example", "fromName": "Acme Support", "to": "pat@customer.example",
                          "cc": "boss@customer.example", "subject": "RE: Order 1234", "body": "On its way",
                          "html": "<p>On its way <img src='cid:logo1'></p>", "messageId": "<m1@acme.example>",
                          "inReplyTo": "<abc@customer.example>", "references": ["<r1@x>", "<abc@customer.example>"]},
                         [({"fileName": "logo.png", "contentType": "image/png", "inline": True, "contentId": "logo1"},
                           b"png"), ({"fileName": "a.txt", "contentType": "text/plain", "inline": False}, b"hi")],
                         datetime(2026, 12, 3, tzinfo=timezone.utc))
    assert "Bcc" not in written and written["Message-ID"] == "<m1@acme.example>"
    read = mime.parse(written.as_bytes())
    assert (read.in_reply_to, read.references) == ("<abc@customer.example>", ["<r1@x>", "<abc@customer.example>"])
    assert (read.from_name, read.from_address, read.cc) == ("Acme Support", "support@acme.example",
                                                            ["boss@customer.example"])
    assert [(p.file_name, p.inline) for p in read.parts] == [("logo.png", True), ("a.txt", False)]
    assert read.text.strip() == "On its way"


def test_a_delivery_status_notification_names_the_bounced_message() -> None:
    raw = ("From: MAILER-DAEMON@x.example\r\nTo: support@acme.example\r\nSubject: Returned\r\nMIME-Version: 1.0\r\n"
           'Content-Type: multipart/report; report-type=delivery-status; boundary="b"\r\n\r\n'
           "--b\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n"
           "--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; x.example\r\n\r\n"
           "Final-Recipient: rfc822; pat@x.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
           "Diagnostic-Code: smtp; 550 no such user\r\n\r\n"
           "--b\r\nContent-Type: message/rfc822\r\n\r\nMessage-ID: <m1@acme.example>\r\nSubject: RE: x\r\n\r\nbody\r\n"
           "--b--\r\n").encode()
    parsed = mime.parse(raw)
    assert parsed.bounced_message_id == "<m1@acme.example>" and "550" in (parsed.bounce_reason or "")
    assert parsed.text.startswith("Not delivered")


@given(st.binary(max_size=2000))
def test_any_bytes_parse_without_raising(raw: bytes) -> None:
    parsed = mime.parse(raw)
    assert isinstance(parsed.subject, str) and all("/" not in p.file_name for p in parsed.parts)
