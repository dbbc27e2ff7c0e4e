"""Mail delivery. Every mail is captured in the outbox (``/_callyard/mail``); with ``--smtp HOST:PORT`` it
is also sent through that SMTP server (standard library smtplib, in a worker thread)."""
from __future__ import annotations

import asyncio
import logging
import smtplib
from email.message import EmailMessage
from typing import Any

from callyard.core.directory.service import Directory

log = logging.getLogger("callyard.mail")


class Mailer:
    def __init__(self, directory: Directory, smtp: str | None) -> None:
        self.directory = directory
        self.smtp = smtp
        self._tasks: set[asyncio.Task[None]] = set()

    def deliver(self, mail: dict[str, Any]) -> None:
        if not self.smtp:
            return
        task = asyncio.get_running_loop().create_task(self._send(mail))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, mail: dict[str, Any]) -> None:
        host, _, port = self.smtp.partition(":") if self.smtp else ("", "", "")
        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = mail["from"], mail["to"], mail["subject"]
        message.set_content(mail["body"])

        def send() -> None:
            with smtplib.SMTP(host, int(port or 25), timeout=10) as client:
                client.send_message(message)

        try:
            await asyncio.to_thread(send)
            await self.directory.mark_mail(mail["mailId"], "smtp")
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("SMTP delivery of %s failed: %s", mail["mailId"], exc)
            await self.directory.mark_mail(mail["mailId"], f"smtp-failed: {exc}")
