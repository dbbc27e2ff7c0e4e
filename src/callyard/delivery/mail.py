"""Mail delivery. Every mail is captured in the outbox (``/_callyard/mail``); with ``--smtp HOST:PORT`` it
is also sent through that SMTP server (standard library smtplib, in a worker thread).

Two kinds of mail reach it: the welcome mail (the admin route hands it over) and the contact center's
outgoing e-mail (agents' replies and forwards, ``template: cx-email``), which it picks up from the
``mail.queued`` events after commit and sends as the full MIME message the mail room builds (Message-ID,
In-Reply-To, References, HTML, inline images, attachments). A send the relay refuses is marked on the outbox
entry and handed back to the mail room (a ``FailedSendDraft``)."""
from __future__ import annotations

import asyncio
import logging
import smtplib
from email.message import EmailMessage
from typing import Any

from callyard.core.contact_center.mailroom import Mailroom
from callyard.core.directory.service import Directory
from callyard.events.event import Event
from callyard.events.projections import Projections

log = logging.getLogger("callyard.mail")


class Mailer:
    def __init__(self, directory: Directory, smtp: str | None) -> None:
        self.directory = directory
        self.smtp = smtp
        self.mailroom: Mailroom | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def follow(self, projections: Projections, mailroom: Mailroom) -> None:
        """Send the contact center's outgoing e-mail as it is committed to the outbox."""
        self.mailroom = mailroom
        projections.after_commit("contact center e-mail through SMTP", self._on_event, events=("mail.queued",))

    def _on_event(self, event: Event) -> None:
        data = event.data or {}
        if data.get("template") != "cx-email":
            return
        mail = self.directory.rt.state.get("mail", data.get("mailId") or "")
        if mail is not None:
            self.deliver(mail)

    def deliver(self, mail: dict[str, Any]) -> None:
        if not self.smtp:
            return
        task = asyncio.get_running_loop().create_task(self._send(mail))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    def _message(self, mail: dict[str, Any]) -> EmailMessage:
        if mail.get("template") == "cx-email" and self.mailroom is not None:
            built: EmailMessage = self.mailroom.outgoing(mail)
            return built
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = mail["from"], mail["to"], mail["subject"]
        message.set_content(mail["body"])
        return message

    async def _send(self, mail: dict[str, Any]) -> None:
        host, _, port = self.smtp.partition(":") if self.smtp else ("", "", "")
        message = self._message(mail)
        recipients = [a.strip() for key in ("to", "cc", "bcc") for a in (mail.get(key) or "").split(",")
                      if a.strip()]

        def send() -> None:
            with smtplib.SMTP(host, int(port or 25), timeout=10) as client:
                client.send_message(message, to_addrs=recipients)

        try:
            await asyncio.to_thread(send)
            await self.directory.mark_mail(mail["mailId"], "smtp")
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("SMTP delivery of %s failed: %s", mail["mailId"], exc)
            await self.directory.mark_mail(mail["mailId"], f"smtp-failed: {exc}")
            if self.mailroom is not None and mail.get("template") == "cx-email":
                await self.mailroom.send_failed(mail, str(exc))
