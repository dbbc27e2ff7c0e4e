"""``callyard email``: a customer sends one e-mail to the twin over SMTP (the server started with
``--smtp-listen HOST:PORT``), as any mail client would: standard library ``email`` and ``smtplib``.

    callyard email --to support@acme.example --from pat@customer.example --subject "Order 1234" \\
        --body "Where is my order?" [--html FILE] [--attach FILE …] [--in-reply-to "<id@host>"]

Prints the message's Message-ID (quote it with ``--in-reply-to`` to answer the agent's reply in the same
thread) and the server's answer. Exits 1 when the server refuses the message (an unknown recipient: 550,
too large: 552), 2 when it cannot be reached.
"""
from __future__ import annotations

import argparse
import mimetypes
import os
import smtplib
import sys
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any

DEFAULT_SMTP = "127.0.0.1:2525"


def add_command(sub: Any) -> None:
    email = sub.add_parser("email", help="send an e-mail to the twin's SMTP listener (as a customer)")
    email.add_argument("--smtp-server", default=os.environ.get("CALLYARD_SMTP", DEFAULT_SMTP), metavar="HOST:PORT",
                       help=f"the twin's SMTP listener (default: $CALLYARD_SMTP or {DEFAULT_SMTP}; see "
                            "callyard serve --smtp-listen)")
    email.add_argument("--to", required=True, action="append", help="recipient, e.g. support@acme.example "
                                                                      "(repeatable)")
    email.add_argument("--cc", action="append", default=[], help="a Cc recipient (repeatable)")
    email.add_argument("--from", dest="sender", required=True, help="the customer, e.g. 'Pat <pat@example.com>'")
    email.add_argument("--subject", default="")
    body = email.add_mutually_exclusive_group()
    body.add_argument("--body", default="", help="the text body")
    body.add_argument("--body-file", type=Path, help="the text body from a file ('-': standard input)")
    email.add_argument("--html", type=Path, help="an HTML body (alternative to the text) from a file")
    email.add_argument("--attach", type=Path, action="append", default=[], help="attach a file (repeatable)")
    email.add_argument("--in-reply-to", help="the Message-ID this answers (threads it with the conversation)")


def build(args: argparse.Namespace) -> EmailMessage:
    message = EmailMessage()
    message["From"] = args.sender
    message["To"] = ", ".join(args.to)
    if args.cc:
        message["Cc"] = ", ".join(args.cc)
    message["Subject"] = args.subject
    message["Date"] = formatdate(localtime=True)
    message["Message-ID"] = make_msgid(domain=args.sender.rpartition("@")[2].strip("> ") or "localhost")
    if args.in_reply_to:
        message["In-Reply-To"] = args.in_reply_to
        message["References"] = args.in_reply_to
    if args.body_file is not None:
        text = sys.stdin.read() if str(args.body_file) == "-" else args.body_file.read_text()
    else:
        text = args.body
    message.set_content(text)
    if args.html is not None:
        message.add_alternative(args.html.read_text(), subtype="html")
    for path in args.attach:
        kind = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        maintype, _, subtype = kind.partition("/")
        message.add_attachment(path.read_bytes(), maintype=maintype, subtype=subtype, filename=path.name)
    return message


def run(args: argparse.Namespace) -> int:
    host, _, port = args.smtp_server.rpartition(":")
    try:
        message = build(args)
    except OSError as exc:
        print(f"callyard: {exc}", file=sys.stderr)
        return 2
    recipients = [*args.to, *args.cc]
    try:
        with smtplib.SMTP(host or "127.0.0.1", int(port), timeout=30) as client:
            client.ehlo()
            client.mail(args.sender.rpartition("<")[2].strip(">") if "<" in args.sender else args.sender)
            refused = []
            for recipient in recipients:
                code, reply = client.rcpt(recipient.rpartition("<")[2].strip(">") if "<" in recipient else recipient)
                if code >= 400:
                    refused.append(f"{recipient}: {code} {reply.decode(errors='replace')}")
            if len(refused) == len(recipients):
                client.rset()
                print("callyard: every recipient was refused:\n  " + "\n  ".join(refused), file=sys.stderr)
                return 1
            code, reply = client.data(message.as_bytes(policy=SMTP_POLICY))
    except (OSError, ValueError) as exc:
        print(f"callyard: cannot reach the SMTP listener at {args.smtp_server} ({exc}); start the server with "
              "--smtp-listen HOST:PORT", file=sys.stderr)
        return 2
    except smtplib.SMTPException as exc:
        print(f"callyard: the server refused the message: {exc}", file=sys.stderr)
        return 1
    for line in refused:
        print(f"refused {line}", file=sys.stderr)
    print(message["Message-ID"])
    print(f"{code} {reply.decode(errors='replace')}")
    return 0 if code < 400 else 1
