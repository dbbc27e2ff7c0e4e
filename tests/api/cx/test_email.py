"""E-mail in the contact center through its real interfaces: a customer's message over SMTP (``smtplib``, and
``callyard email``) to the Email queue's address, offered to carol (pushed on her employeeHub), answered through
the CX API (Accept with a reply mode, Save, Send, Forward), the reply in the mail outbox (``/_callyard/mail``)
and through a relay (an aiosmtpd server of the test) with the right Message-ID, In-Reply-To and References; the
Email operations (seed 004) and their errors; the SMTP listener's refusals (550 unknown recipient, 552 too
large); tenants kept apart (Globex's address never reaches Acme)."""
from __future__ import annotations

import asyncio
import base64
import json
import smtplib
import subprocess
import sys
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from aiosmtpd.controller import Controller

from callyard.core.directory.tenant import DEMO_TENANT
from tests.api.cx.conftest import API, CAROL, LOGIN, cx_token
from tests.conftest import OPERATOR_HEADERS, auth, free_port, start_server, token

SUPPORT_ADDRESS = "support@acme.example"
GLOBEX_ADDRESS = "help@globex.example"
EMAIL_QUEUE = "ac3e0000-0000-4000-8000-0000cc00c702"
CUSTOMER = "pat@customer.example"
MAX_BYTES = 64 * 1024
ROOT = Path(__file__).resolve().parents[3]


class Relay:
    """The SMTP relay the twin sends agents' replies through (``--smtp``): keeps what it receives."""

    def __init__(self) -> None:
        self.received: list[tuple[list[str], bytes]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if any("refuse" in r for r in envelope.rcpt_tos):
            return "550 5.1.1 refused by the relay"
        self.received.append((list(envelope.rcpt_tos), bytes(envelope.original_content or envelope.content)))
        return "250 OK"


@pytest.fixture(scope="module")
def relay() -> Iterator[tuple[Relay, int]]:
    handler = Relay()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    yield handler, port
    controller.stop()


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory, relay: tuple[Relay, int]) -> Iterator[Any]:
    """A twin listening for SMTP on a free port, sending through the test's relay; Globex gets a contact center
    with an Email queue of its own."""
    tenant = json.loads(DEMO_TENANT.read_text())
    pending = list(tenant["accounts"])
    while pending:
        account = pending.pop()
        pending.extend(account.get("customers", []))
        if account["name"] == "Globex":
            account["contactCenter"] = {
                "employees": [{"user": "erin@globex.example", "reporting": "1000", "role": "Agent",
                               "agents": {"Email": {"reporting": "3200"}}}],
                "agentGroups": [{"name": "Mail Agents", "media": ["Email"], "members": ["erin@globex.example"]}],
                "queues": [{"name": "Globex Mail", "mediaType": "Email", "reporting": "7200",
                            "agentGroups": ["Mail Agents"], "emailAddress": GLOBEX_ADDRESS}]}
    path = tmp_path_factory.mktemp("tenant") / "tenant.json"
    path.write_text(json.dumps(tenant))
    with start_server(clock="manual", tenant_file=path, smtp_listen=f"127.0.0.1:{free_port()}",
                      smtp_max_bytes=MAX_BYTES, smtp=f"127.0.0.1:{relay[1]}") as live:
        yield live


@pytest.fixture
def http(twin: Any) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=twin.url, timeout=10) as client:
        assert client.post("/_callyard/reset", headers=OPERATOR_HEADERS).status_code == 200
        yield client


def smtp_port(twin: Any) -> int:
    return int(twin.app.state.twin.smtp_inbound.port)


def customer_mail(to: str = SUPPORT_ADDRESS, subject: str = "Order 1234", body: str = "Where is my order?",
                  **headers: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = f"Pat Customer <{CUSTOMER}>"
    message["To"] = to
    message["Subject"] = subject
    for key, value in headers.items():
        message[key.replace("_", "-")] = value
    message.set_content(body)
    return message


def send(twin: Any, message: EmailMessage, recipients: list[str] | None = None) -> tuple[int, bytes]:
    with smtplib.SMTP("127.0.0.1", smtp_port(twin), timeout=10) as client:
        client.ehlo()
        client.mail(CUSTOMER)
        for recipient in recipients or [str(message["To"])]:
            code, reply = client.rcpt(recipient)
            assert code == 250, reply
        return client.data(message.as_bytes(policy=SMTP_POLICY))


# ---------------------------------------------------------------------------- the SMTP listener's refusals
def test_an_unknown_recipient_is_refused_with_550(twin: Any, http: httpx.Client) -> None:
    with smtplib.SMTP("127.0.0.1", smtp_port(twin), timeout=10) as client:
        client.ehlo()
        client.mail(CUSTOMER)
        code, reply = client.rcpt("nobody@acme.example")
        assert code == 550 and b"no such mailbox" in reply
        client.rset()
        with pytest.raises(smtplib.SMTPRecipientsRefused):
            client.sendmail(CUSTOMER, ["nobody@acme.example"], customer_mail("nobody@acme.example").as_bytes())


def test_a_message_over_the_size_limit_is_refused_with_552(twin: Any) -> None:
    big = customer_mail(body=("x" * 70 + "\n") * (MAX_BYTES // 70 + 10))
    with smtplib.SMTP("127.0.0.1", smtp_port(twin), timeout=10) as client:
        client.ehlo()
        assert client.has_extn("size") and int(client.esmtp_features["size"]) == MAX_BYTES
        with pytest.raises(smtplib.SMTPException) as refused:   # declared SIZE: refused at MAIL FROM
            client.sendmail(CUSTOMER, [SUPPORT_ADDRESS], big.as_bytes(policy=SMTP_POLICY))
        assert "552" in str(refused.value)
    with smtplib.SMTP("127.0.0.1", smtp_port(twin), timeout=10) as client:   # undeclared: refused after DATA
        client.ehlo()
        client.mail(CUSTOMER)
        client.rcpt(SUPPORT_ADDRESS)
        code, reply = client.data(big.as_bytes(policy=SMTP_POLICY))
        assert code == 552, reply
