"""The twin's inbound SMTP server (``callyard serve --smtp-listen HOST:PORT``; off by default): aiosmtpd's SMTP
protocol on the application's own event loop, started and stopped with the twin. Mail to an Email queue's
address becomes an e-mail interaction of that queue's account (``core/contact_center/mailroom.py``).

* ``RCPT TO`` an address no Email queue has → ``550 5.1.1`` (nothing is read or stored for it);
* a message larger than ``--smtp-max-bytes`` (10 MiB by default) → ``552`` (aiosmtpd's data size limit, also
  announced as the ESMTP ``SIZE`` and enforced on ``MAIL FROM … SIZE=``);
* a message the contact center cannot take (no From address, …) → ``554 5.6.0`` with the reason;
* accepted → ``250 2.0.0`` naming the conversation(s) it went to.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from aiosmtpd.smtp import SMTP, Envelope, Session

from callyard.core.contact_center.mailroom import Mailroom
from callyard.core.errors import CoreError

log = logging.getLogger("callyard.smtp")
MAX_RECIPIENTS = 100


class _Handler:
    def __init__(self, mailroom: Mailroom) -> None:
        self.mailroom = mailroom

    async def handle_RCPT(self, server: SMTP, session: Session, envelope: Envelope, address: str,
                          rcpt_options: list[str]) -> str:
        if len(envelope.rcpt_tos) >= MAX_RECIPIENTS:
            return f"452 4.5.3 Too many recipients (at most {MAX_RECIPIENTS})"
        if self.mailroom.queue_for_address(address) is None:
            return f"550 5.1.1 <{address}>: no such mailbox (no Email queue has this address)"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        raw = envelope.original_content or b""
        if isinstance(envelope.content, bytes) and not raw:
            raw = envelope.content
        try:
            conversations = await self.mailroom.receive(bytes(raw), list(envelope.rcpt_tos),
                                                        str(envelope.mail_from or ""))
        except CoreError as exc:
            return f"554 5.6.0 {exc.message}"
        except Exception:   # never a dropped connection: the client hears a temporary failure
            log.exception("inbound e-mail from %s could not be stored", envelope.mail_from)
            return "451 4.3.0 The message could not be stored; try again later"
        log.info("e-mail from %s to %s → conversation(s) %s", envelope.mail_from, ", ".join(envelope.rcpt_tos),
                 ", ".join(conversations))
        return f"250 2.0.0 OK: queued as {' '.join(conversations)}"


class SmtpInbound:
    """The listening server; ``address`` is ``HOST:PORT`` (port 0: any free port, see :attr:`port`)."""

    def __init__(self, mailroom: Mailroom, address: str, max_bytes: int) -> None:
        host, _, port = address.rpartition(":")
        self.host = host or "127.0.0.1"
        self.port = int(port)
        self.max_bytes = max_bytes
        self.handler = _Handler(mailroom)
        self._server: asyncio.base_events.Server | None = None

    def _protocol(self) -> Any:
        return SMTP(self.handler, data_size_limit=self.max_bytes, hostname="callyard", ident="callyard ESMTP",
                    enable_SMTPUTF8=True, timeout=60)

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(self._protocol, self.host, self.port)
        self.port = self._server.sockets[0].getsockname()[1]
        log.info("SMTP listening on %s:%s", self.host, self.port)

    async def stop(self) -> None:
        if self._server is not None:
            server, self._server = self._server, None
            server.close()
            if hasattr(server, "close_clients"):   # Python 3.13: end the sessions still open
                server.close_clients()
            try:
                await asyncio.wait_for(server.wait_closed(), 5)
            except asyncio.TimeoutError:
                log.warning("SMTP sessions still open at stop")
