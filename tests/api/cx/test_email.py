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
import time
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.policy import SMTP as SMTP_POLICY
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest
from aiosmtpd.controller import Controller

from callyard.core.directory.tenant import DEMO_TENANT
from tests.api.cx.conftest import API, LOGIN, cx_token
from tests.api.cx.test_hubs import hubs
from tests.conftest import OPERATOR_HEADERS, auth, free_port, start_server, token
from tests.delivery.signalr.test_python_clients import aiohttp_writer_send  # noqa: F401 - a fixture

pytestmark = pytest.mark.usefixtures("aiohttp_writer_send")

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


# ---------------------------------------------------------------------------- end to end
def inbox(http: httpx.Client, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = http.get(f"{API}/employees/me/conversations", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["_embedded"]["items"])


def act(http: httpx.Client, headers: dict[str, str], conversation_id: str, status: int = 200,
        **body: Any) -> httpx.Response:
    response = http.put(f"{API}/employees/me/conversations/{conversation_id}", headers=headers, json=body)
    assert response.status_code == status, response.text
    return response


def emails(http: httpx.Client, headers: dict[str, str], conversation_id: str, kind: str,
           month: str | None = None) -> list[dict[str, Any]]:
    month = month or http.get("/_callyard/clock").json()["now"][5:7] + http.get("/_callyard/clock").json()["now"][:4]
    response = http.get(f"{API}/email/{conversation_id}/{kind}/{month}", headers=headers)
    assert response.status_code == 200, response.text
    return list(response.json()["_embedded"]["items"])


def outbox(http: httpx.Client) -> list[dict[str, Any]]:
    response = http.get("/_callyard/mail", headers=auth(token(http, "admin@acme.example")))
    assert response.status_code == 200, response.text
    return [m for m in response.json()["_embedded"]["items"] if m.get("template") == "cx-email"]


async def wait_for(check: Any, seconds: float = 5.0) -> Any:
    deadline = asyncio.get_running_loop().time() + seconds
    while True:
        found = check()
        if found:
            return found
        assert asyncio.get_running_loop().time() < deadline, "timed out"
        await asyncio.sleep(0.05)


async def test_an_email_over_smtp_reaches_carol_and_her_reply_goes_out(
        twin: Any, http: httpx.Client, relay: tuple[Relay, int]) -> None:
    carol = auth(cx_token(http, "carol"))
    assert http.put(f"{API}/employees/me/state", headers=carol, json=LOGIN).status_code == 200
    message = customer_mail(subject="Order 1234", Message_ID="<order-1234@customer.example>")
    message.add_alternative('<p>Where is my order? <img src="cid:photo1"></p>', subtype="html")
    message.get_payload()[1].add_related(b"\x89PNG fake", maintype="image", subtype="png", cid="<photo1>",
                                         filename="parcel.png")
    message.add_attachment(b"%PDF-1.4 receipt", maintype="application", subtype="pdf", filename="receipt.pdf")
    async with hubs(twin.url, carol["Authorization"].split()[1]) as listener:
        await listener.employee.invoke("addSelfMonitor")
        code, reply = await asyncio.to_thread(send, twin, message)
        assert code == 250, reply
        await listener.until(lambda: bool(listener.of("employeeConversationChanged")))
        [offered] = listener.of("employeeConversationChanged")[0]
    assert (offered["mediaType"], offered["conversationState"]) == ("Email", "Offered")
    assert offered["subject"] == "Order 1234" and offered["fromAddress"] == CUSTOMER
    conversation = offered["conversationId"]
    assert reply.decode().endswith(conversation)

    [preview] = emails(http, carol, conversation, "Preview")
    assert preview["messageId"] == "<order-1234@customer.example>" and preview["body"].startswith("Where is")
    assert "cid:photo1" in preview["htmlBody"] and preview["to"] == [SUPPORT_ADDRESS]
    image, receipt = sorted(preview["attachments"], key=lambda a: a["fileName"])
    assert (image["fileName"], image["isInline"], receipt["isInline"]) == ("parcel.png", True, False)
    got = http.get(f"{API}/email/{conversation}/images/{image['id']}", headers=carol)
    assert (got.status_code, got.headers["content-type"], got.content) == (200, "image/png", b"\x89PNG fake")
    assert http.get(f"{API}/email/{conversation}/images/photo1", headers=carol).content == b"\x89PNG fake"
    got = http.get(f"{API}/email/{conversation}/attachments", params={"fileName": "receipt.pdf"}, headers=carol)
    assert (got.status_code, got.content) == (200, b"%PDF-1.4 receipt")
    assert got.headers["content-disposition"].startswith("attachment;")

    act(http, carol, conversation, conversationAction="Accept", tags=[{"key": "emailAcceptType", "value": "Reply"}])
    [draft] = emails(http, carol, conversation, "ReplyDraft")
    assert draft["to"] == [CUSTOMER] and draft["subject"] == "RE: Order 1234"
    assert draft["fromAddress"] == SUPPORT_ADDRESS and "> Where is my order?" in draft["body"]
    assert draft["originalMessageIdReplyingTo"] == "<order-1234@customer.example>"
    act(http, carol, conversation, conversationAction="Save", body="It left our warehouse today.\n",
        attachments=[{"fileName": "tracking.txt", "contentType": "text/plain",
                      "content": base64.b64encode(b"TRACK-42").decode()}])
    act(http, carol, conversation, conversationAction=18)   # Send, by the seed's number
    assert not [c for c in inbox(http, carol) if c["conversationId"] == conversation]

    [sent] = outbox(http)
    assert (sent["to"], sent["inReplyTo"], sent["from"]) == (CUSTOMER, "<order-1234@customer.example>",
                                                             SUPPORT_ADDRESS)
    assert sent["references"] == ["<order-1234@customer.example>"] and sent["messageId"].endswith("@acme.example>")
    [worktimer] = emails(http, carol, conversation, "Worktimer")
    assert worktimer["messageId"] == sent["messageId"] and worktimer["emailType"] == "Sent"
    thread = emails(http, carol, conversation, "Preview")
    assert [e["emailType"] for e in thread] == ["Received", "Sent"]

    received = await wait_for(lambda: [m for r, m in relay[0].received if sent["messageId"].encode() in m])
    relayed = message_from_bytes(received[0], policy=policy.default)
    assert relayed["In-Reply-To"] == "<order-1234@customer.example>" and relayed["To"] == CUSTOMER
    assert [p.get_filename() for p in relayed.iter_attachments()] == ["tracking.txt"]
    assert relayed.get_body(("plain",)).get_content().startswith("It left our warehouse today.")
    await wait_for(lambda: outbox(http)[0]["delivery"] == "smtp")

    case_id = offered["caseId"]
    assert case_id and all(e["caseId"] == case_id for e in thread)

    # the customer answers the reply: a new e-mail in the same case
    answer = customer_mail(subject="RE: RE: Order 1234", body="Thanks!", In_Reply_To=sent["messageId"],
                           References=f"<order-1234@customer.example> {sent['messageId']}")
    code, reply = await asyncio.to_thread(send, twin, answer)
    assert code == 250, reply
    again = reply.decode().rsplit(" ", 1)[-1]
    assert again != conversation
    [follow_up] = [c for c in inbox(http, carol) if c["conversationId"] == again]
    assert follow_up["caseId"] == case_id
    # the case shows both: carol's answered e-mail (with her reply) and the customer's answer to it
    case = http.get(f"{API}/cases/{case_id}/{thread[0]['monthYearCreated']}", headers=carol)
    assert case.status_code == 200, case.text
    shown = case.json()
    assert shown["conversations"] == [conversation, again] and shown["subject"] == "Order 1234"
    assert shown["timeOfLastAgentResponse"] and shown["timeOfLastCustomerResponse"], json.dumps(shown)
    assert "Email" in shown["mediaTypes"] and shown["lastAgentName"]


async def test_the_callyard_email_command(twin: Any, http: httpx.Client) -> None:
    done = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "callyard.cli.main", "email", "--smtp-server",
                         f"127.0.0.1:{smtp_port(twin)}", "--to", SUPPORT_ADDRESS, "--from", f"Pat <{CUSTOMER}>",
                         "--subject", "From the CLI", "--body", "Hello"],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env={"PYTHONPATH": str(ROOT / "src")})
    assert done.returncode == 0, done.stderr
    message_id, answer = done.stdout.strip().splitlines()
    assert message_id.startswith("<") and answer.startswith("250")
    supervisor = auth(cx_token(http, "admin@acme.example"))
    [waiting] = http.get(f"{API}/queues/{EMAIL_QUEUE}/conversations", headers=supervisor).json()["_embedded"]["items"]
    assert waiting["subject"] == "From the CLI"
    unknown = await asyncio.to_thread(
        subprocess.run, [sys.executable, "-m", "callyard.cli.main", "email", "--smtp-server",
                         f"127.0.0.1:{smtp_port(twin)}", "--to", "nobody@acme.example", "--from", CUSTOMER],
        capture_output=True, text=True, timeout=60, cwd=ROOT, env={"PYTHONPATH": str(ROOT / "src")})
    assert unknown.returncode == 1 and "550" in unknown.stderr


# ---------------------------------------------------------------------------- the Email operations
def offered_to(http: httpx.Client, headers: dict[str, str], twin: Any, message: EmailMessage) -> str:
    code, reply = send(twin, message)
    assert code == 250, reply
    conversation = reply.decode().rsplit(" ", 1)[-1]
    assert any(c["conversationId"] == conversation for c in inbox(http, headers))
    return conversation


def test_reply_all_forward_save_delete_and_their_errors(twin: Any, http: httpx.Client,
                                                        relay: tuple[Relay, int]) -> None:
    carol = auth(cx_token(http, "carol"))
    http.put(f"{API}/employees/me/state", headers=carol, json=LOGIN)
    message = customer_mail(to=f"{SUPPORT_ADDRESS}, colleague@customer.example", subject="Invoice",
                            Cc="boss@customer.example")
    message.add_attachment(b"a,b\n1,2\n", maintype="text", subtype="csv", filename="lines.csv")
    conversation = offered_to(http, carol, twin, message)
    month = emails(http, carol, conversation, "Preview")[0]["monthYearCreated"]

    # before Accept: nothing to save or send; unknown types and months are refused
    act(http, carol, conversation, 409, conversationAction="Send")
    act(http, carol, conversation, 400, conversationAction="Accept",
        tags=[{"key": "emailAcceptType", "value": "Sideways"}])
    for path, status in ((f"/email/{conversation}/Sideways/{month}", 400), (f"/email/{conversation}/Preview/13x",
                         400), (f"/email/{conversation}/Preview/011999", 404),
                         (f"/email/no-such-conversation/Preview/{month}", 404),
                         (f"/email/{conversation}/attachments", 400),
                         (f"/email/{conversation}/attachments?fileName=none.txt", 404),
                         (f"/email/{conversation}/images/none", 404), ("/email/reusable", 400),
                         ("/email/reusable?to=not-an-address", 400)):
        response = http.get(API + path, headers=carol)
        assert response.status_code == status, (path, response.text)
        assert response.json()["errorCode"]

    act(http, carol, conversation, conversationAction="Accept",
        tags=[{"key": "emailAcceptType", "value": "ReplyAll"}])
    [draft] = emails(http, carol, conversation, "ReplyDraft", month)
    assert draft["to"] == [CUSTOMER, "colleague@customer.example"] and draft["cc"] == "boss@customer.example"
    assert emails(http, carol, conversation, "ForwardDraft", month) == []
    act(http, carol, conversation, 400, conversationAction="Save", to=["not an address"])
    act(http, carol, conversation, 400, conversationAction="Save",
        attachments=[{"fileName": "x.bin", "content": "%%%not base64"}])
    [unchanged] = emails(http, carol, conversation, "ReplyDraft", month)
    assert unchanged["to"] == draft["to"]

    act(http, carol, conversation, conversationAction="Forward", transferDestination="accounts@partner.example")
    [forward] = emails(http, carol, conversation, "ForwardDraft", month)
    assert forward["to"] == ["accounts@partner.example"] and forward["subject"] == "FW: Invoice"
    assert [a["fileName"] for a in forward["attachments"]] == ["lines.csv"]
    assert forward["originalMessageIdForwardingFrom"] == emails(http, carol, conversation, "Preview")[0]["messageId"]
    act(http, carol, conversation, conversationAction="Delete", tags=[{"key": "draftType", "value": "ForwardDraft"}])
    assert emails(http, carol, conversation, "ForwardDraft", month) == []
    act(http, carol, conversation, 404, conversationAction="Delete", draftType="ForwardDraft")

    # a relay that refuses the recipient: the outbox says so and a FailedSendDraft comes back
    act(http, carol, conversation, conversationAction="Send", to="refuse@customer.example", cc="")
    [sent] = outbox(http)
    poll(lambda: outbox(http)[0]["delivery"].startswith("smtp-failed"))
    [failed] = emails(http, carol, conversation, "FailedSendDraft", month)
    assert failed["to"] == ["refuse@customer.example"] and "550" in failed["failureReason"]
    assert sent["cc"] == "" and sent["to"] == "refuse@customer.example"

    # the queues' addresses a reply may come from; e-mails reusable for a recipient
    [queue_address] = http.get(f"{API}/email/{conversation}/fromaddresses",
                               headers=carol).json()["_embedded"]["items"]
    assert (queue_address["emailAddress"], queue_address["isDefault"]) == (SUPPORT_ADDRESS, True)
    [reusable] = http.get(f"{API}/email/reusable", params={"to": "refuse@customer.example"},
                          headers=carol).json()["_embedded"]["items"]
    assert reusable["messageId"] == sent["messageId"]


def poll(check: Any, seconds: float = 5.0) -> Any:
    deadline = time.monotonic() + seconds
    while not (found := check()):
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.05)
    return found


def test_a_bounce_marks_the_sent_email_and_leaves_a_draft(twin: Any, http: httpx.Client) -> None:
    carol = auth(cx_token(http, "carol"))
    http.put(f"{API}/employees/me/state", headers=carol, json=LOGIN)
    conversation = offered_to(http, carol, twin, customer_mail(subject="Bounce me"))
    act(http, carol, conversation, conversationAction="Accept", tags=[{"key": "emailAcceptType", "value": "Reply"}])
    act(http, carol, conversation, conversationAction="Send", body="Answer")
    [sent] = outbox(http)
    report = message_from_bytes((
        "From: MAILER-DAEMON@customer.example\r\nTo: support@acme.example\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\nMIME-Version: 1.0\r\n"
        'Content-Type: multipart/report; report-type=delivery-status; boundary="b1"\r\n\r\n'
        "--b1\r\nContent-Type: text/plain\r\n\r\nThe message could not be delivered.\r\n"
        "--b1\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.customer.example\r\n"
        "\r\nFinal-Recipient: rfc822; pat@customer.example\r\nAction: failed\r\nStatus: 5.1.1\r\n"
        "Diagnostic-Code: smtp; 550 5.1.1 user unknown\r\n\r\n"
        f"--b1\r\nContent-Type: text/rfc822-headers\r\n\r\nMessage-ID: {sent['messageId']}\r\n"
        "Subject: RE: Bounce me\r\n\r\n--b1--\r\n").encode(), policy=policy.default)
    assert isinstance(report, EmailMessage)
    code, reply = send(twin, report)
    assert code == 250, reply
    month = sent["createdOn"][5:7] + sent["createdOn"][:4]
    [bounce] = emails(http, carol, conversation, "BounceDetectedDraft", month)
    assert bounce["to"] == [CUSTOMER] and "550" in bounce["failureReason"]
    assert [e["bounced"] for e in emails(http, carol, conversation, "Preview", month) if e["emailType"] == "Sent"] \
        == [True]


# ---------------------------------------------------------------------------- tenants apart
def test_mail_to_globex_never_reaches_acme(twin: Any, http: httpx.Client) -> None:
    carol, erin = auth(cx_token(http, "carol")), auth(cx_token(http, "erin"))
    for who in (carol, erin):
        assert http.put(f"{API}/employees/me/state", headers=who, json=LOGIN).status_code == 200
    both = customer_mail(to=f"{SUPPORT_ADDRESS}, {GLOBEX_ADDRESS}", subject="To both")
    code, reply = send(twin, both, [SUPPORT_ADDRESS, GLOBEX_ADDRESS])
    assert code == 250, reply
    acme_id, globex_id = reply.decode().split()[-2:]
    [at_erin] = inbox(http, erin)
    assert at_erin["conversationId"] == globex_id
    globex_only = offered_to_queue(http, erin, twin, customer_mail(to=GLOBEX_ADDRESS, subject="Globex only"))
    assert not any(c["subject"] == "Globex only" for c in inbox(http, carol))
    month = http.get("/_callyard/clock").json()["now"]
    month = month[5:7] + month[:4]
    for path in (f"/email/{globex_id}/Preview/{month}", f"/email/{globex_id}/fromaddresses",
                 f"/conversations/{globex_only}"):
        assert http.get(API + path, headers=carol).status_code == 404, path
    assert http.get(f"{API}/email/{acme_id}/Preview/{month}", headers=erin).status_code == 404
    wallboard = http.post("/AuthorizationServer/Token", data={
        "grant_type": "client_credentials", "client_id": "AcmeWallboard", "client_secret": "acme-wallboard-secret"})
    board = auth(wallboard.json()["access_token"])
    assert http.get(f"{API}/email/{acme_id}/Preview/{month}", headers=board).status_code == 200
    assert http.get(f"{API}/email/{globex_id}/Preview/{month}", headers=board).status_code == 404
    # an agent of Acme without the Email queue (alice: Voice) does not read it
    assert http.get(f"{API}/email/{acme_id}/Preview/{month}",
                    headers=auth(cx_token(http, "alice"))).status_code == 403


def offered_to_queue(http: httpx.Client, headers: dict[str, str], twin: Any, message: EmailMessage) -> str:
    code, reply = send(twin, message)
    assert code == 250, reply
    return reply.decode().rsplit(" ", 1)[-1]


def test_a_draft_travels_with_its_email_back_to_the_queue(twin: Any, http: httpx.Client) -> None:
    """PreviewQueueDraft: carol starts a reply, then transfers the e-mail to its queue (logged out now, nobody
    takes it): the queue's viewers preview the draft with it; once an agent has it again, nothing is in the
    queue to preview."""
    carol, supervisor = auth(cx_token(http, "carol")), auth(cx_token(http, "admin@acme.example"))
    http.put(f"{API}/employees/me/state", headers=carol, json=LOGIN)
    conversation = offered_to(http, carol, twin, customer_mail(subject="Pass it on"))
    act(http, carol, conversation, conversationAction="Accept", emailAcceptType="Reply")
    act(http, carol, conversation, conversationAction="Save", tags=[{"key": "body", "value": "Half an answer"}])
    assert emails(http, carol, conversation, "PreviewQueueDraft") == []   # at carol, not in a queue
    act(http, carol, conversation, conversationAction="Transfer", transferDestinationType="Queue",
        transferDestination="Email")
    assert http.put(f"{API}/employees/me/state", headers=carol, json={"state": "Offline"}).status_code == 200
    [waiting] = http.get(f"{API}/queues/Email/conversations", headers=supervisor).json()["_embedded"]["items"]
    assert waiting["conversationId"] == conversation
    [draft] = emails(http, supervisor, conversation, "PreviewQueueDraft")
    assert (draft["emailType"], draft["body"]) == ("ReplyDraft", "Half an answer")


def test_an_emails_files_are_in_the_snapshot_and_go_with_a_reset(twin: Any, http: httpx.Client) -> None:
    message = customer_mail(subject="With a file")
    message.add_attachment(b"<script>alert(1)</script>", maintype="text", subtype="html", filename="page.html")
    code, reply = send(twin, message)
    assert code == 250, reply
    conversation = reply.decode().rsplit(" ", 1)[-1]
    supervisor = auth(cx_token(http, "admin@acme.example"))
    served = http.get(f"{API}/email/{conversation}/attachments", params={"fileName": "page.html"},
                      headers=supervisor)
    assert served.status_code == 200 and served.headers["content-type"].startswith("text/html")
    assert "sandbox" in served.headers["content-security-policy"]   # never a page of the twin's origin
    snapshot = http.get("/_callyard/state", headers=OPERATOR_HEADERS).json()
    [file_doc] = snapshot["documents"]["cc_email_file"]
    assert base64.b64decode(snapshot["blobs"][file_doc["blobId"]]["data"]) == b"<script>alert(1)</script>"
    assert http.post("/_callyard/reset", headers=OPERATOR_HEADERS).status_code == 200
    assert http.get(f"{API}/email/{conversation}/attachments", params={"fileName": "page.html"},
                    headers=supervisor).status_code == 404
    assert not [b for b in http.get("/_callyard/state", headers=OPERATOR_HEADERS).json()["blobs"]
                if b.startswith("email:")]


def test_carol_writes_a_new_email(twin: Any, http: httpx.Client, relay: tuple[Relay, int]) -> None:
    carol = auth(cx_token(http, "carol"))
    start = {"type": "Email", "to": "lead@prospect.example", "subject": "Your quote"}
    refused = http.post(f"{API}/employees/me/conversations", headers=carol, json=start)
    assert refused.status_code == 409, refused.text   # logged out for Email
    http.put(f"{API}/employees/me/state", headers=carol, json=LOGIN)
    for bad in ({**start, "to": "nobody"}, {**start, "from": "Web Chat"}, {**start, "to": None}):
        response = http.post(f"{API}/employees/me/conversations", headers=carol, json=bad)
        assert response.status_code == 400, (bad, response.text)
    started = http.post(f"{API}/employees/me/conversations", headers=carol, json={**start, "type": 1})
    assert started.status_code == 200, started.text
    conversation = started.json()
    [mine] = [c for c in inbox(http, carol) if c["conversationId"] == conversation]
    assert (mine["mediaType"], mine["conversationState"], mine["direction"]) == ("Email", "Acd", "Outbound")
    [draft] = emails(http, carol, conversation, "NewDraft")
    assert (draft["to"], draft["subject"], draft["fromAddress"]) == (["lead@prospect.example"], "Your quote",
                                                                     SUPPORT_ADDRESS)
    act(http, carol, conversation, conversationAction="Send", body="Here it is.")
    [sent] = outbox(http)
    assert (sent["to"], sent["subject"], sent["inReplyTo"], sent["references"]) == (
        "lead@prospect.example", "Your quote", None, [])
    assert not [c for c in inbox(http, carol) if c["conversationId"] == conversation]


def test_a_customers_second_message_joins_the_open_conversation(twin: Any, http: httpx.Client) -> None:
    carol = auth(cx_token(http, "carol"))
    http.put(f"{API}/employees/me/state", headers=carol, json=LOGIN)
    first = customer_mail(subject="Broken lamp", Message_ID="<lamp-1@customer.example>")
    conversation = offered_to(http, carol, twin, first)
    act(http, carol, conversation, conversationAction="Accept")
    again = customer_mail(subject="RE: Broken lamp", body="Here is a photo.", Message_ID="<lamp-2@customer.example>",
                          In_Reply_To="<lamp-1@customer.example>", References="<lamp-1@customer.example>")
    code, reply = send(twin, again)
    assert code == 250 and reply.decode().endswith(conversation)   # the same conversation, still at carol
    thread = emails(http, carol, conversation, "Preview")
    assert [e["messageId"] for e in thread] == ["<lamp-1@customer.example>", "<lamp-2@customer.example>"]
    assert [c["conversationId"] for c in inbox(http, carol)] == [conversation]
    # the reply answers the latest message and references the whole thread
    act(http, carol, conversation, conversationAction="Save", emailAcceptType="Reply", body="A new one is on its way")
    [draft] = emails(http, carol, conversation, "ReplyDraft")
    assert draft["inReplyTo"] == "<lamp-2@customer.example>"
    assert draft["references"] == ["<lamp-1@customer.example>", "<lamp-2@customer.example>"]
