"""E-mail in the contact center: what arrives at an Email queue's address, the threads it forms, the agents'
drafts and what they send.

* **Addresses.** An Email queue has an ``emailAddress`` (and optional ``emailAliases``) in the tenant file;
  :meth:`Mailroom.queue_for_address` finds the queue (of whichever account) an address belongs to. An
  address no queue has is refused by the SMTP listener (550) before the message is read.
* **Inbound** (:meth:`Mailroom.receive`): a message (parsed by :mod:`mime`) becomes a ``cc_email`` document
  (type ``Received``) with its inline images and attachments as ``cc_email_file`` documents whose bytes are
  core blobs (``email:<resourceId>``). Threading: a message whose In-Reply-To or References names a message
  of one of the account's conversations joins that conversation's case; while that conversation is still
  active, the message is added to it (the agent sees it in the thread), otherwise it is a new e-mail
  interaction routed through the queue in the same case. A delivery status notification about a message the
  contact center sent marks it bounced and puts a ``BounceDetectedDraft`` in its conversation.
* **Drafts** (GetEmailType): ``ReplyDraft`` (reply or reply-all, made on Accept with the ``emailAcceptType``
  tag, or by Save), ``ForwardDraft`` (Forward), ``NewDraft`` (an agent's new outbound e-mail),
  ``FailedSendDraft`` (a send the SMTP relay refused), ``BounceDetectedDraft``; ``Preview`` is the thread,
  ``PreviewQueueDraft`` the drafts of a conversation waiting in a queue and ``Worktimer`` what the agent sent.
* **Outbound** (:meth:`Mailroom.send`): the draft becomes ``Sent`` with a new Message-ID, In-Reply-To (the
  message replied to) and References (its References plus its Message-ID); a ``mail`` document goes to the
  outbox (``/_callyard/mail``, template ``cx-email``) with a ``mail.queued`` event, which the delivery side
  sends through SMTP when configured (``delivery/mail.py``).

E-mail documents are month-partitioned as the API addresses them (``monthYearCreated`` = ``MMYYYY`` of the
conversation's creation). Reads check the caller as the desk does: the conversation's employee, a supervisor,
a registered client, or an agent of the conversation's queue.
"""
from __future__ import annotations

import base64
import binascii
import html as html_lib
import re
from typing import TYPE_CHECKING, Any

from callyard.core.contact_center import mime
from callyard.core.contact_center.config import QUEUE
from callyard.core.contact_center.media import ACTIVE, AT_AGENT
from callyard.core.contact_center.model import ACD, HELD
from callyard.core.errors import Conflict, Forbidden, Invalid, NotFound
from callyard.core.principal import Principal
from callyard.core.state import UnitOfWork

if TYPE_CHECKING:
    from callyard.core.contact_center.desk_access import Caller
    from callyard.core.contact_center.service import ContactCenter

EMAIL, EMAIL_FILE = "cc_email", "cc_email_file"
KINDS = (EMAIL, EMAIL_FILE)
GET_EMAIL_TYPES = ("FailedSendDraft", "BounceDetectedDraft", "ForwardDraft", "NewDraft", "ReplyDraft", "Worktimer",
                   "Preview", "PreviewQueueDraft")
DRAFTS = ("ReplyDraft", "ForwardDraft", "NewDraft", "FailedSendDraft", "BounceDetectedDraft")
ACCEPT_TYPES = ("Reply", "ReplyAll", "Forward", "None")
DRAFT_FIELDS = ("to", "cc", "bcc", "subject", "body", "htmlBody", "attachments", "removeAttachments")
MAX_FILE_BYTES = 10 * 1024 * 1024
_MONTH = re.compile(r"^(0[1-9]|1[0-2])(\d{4})$")
_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


def month_year(iso_time: str) -> str:
    """``2026-12-03T…`` → ``122026`` (MMYYYY, how the API addresses month-partitioned e-mail and cases)."""
    return f"{iso_time[5:7]}{iso_time[0:4]}"


def _prefixed(prefix: str, subject: str) -> str:
    bare = subject.strip()
    return bare if bare.lower().startswith(prefix.lower()) else f"{prefix} {bare}".strip()


def _address_list(value: Any, what: str) -> list[str]:
    """A list of addresses from a list or a comma/semicolon-separated string; each must look like one."""
    if value is None or value == "":
        return []
    items = value if isinstance(value, list) else re.split(r"[;,]", value) if isinstance(value, str) else None
    if items is None or not all(isinstance(i, str) for i in items):
        raise Invalid("InvalidEmailAddress", f"{what} is a list of e-mail addresses")
    out: list[str] = []
    for item in items:
        if not item.strip():
            continue
        address = mime.normalise(item)
        if not address or not _ADDRESS.match(address):
            raise Invalid("InvalidEmailAddress", f"{what}: {item.strip()!r} is not an e-mail address")
        if address not in out:
            out.append(address)
    return out


class Mailroom:
    def __init__(self, center: "ContactCenter") -> None:
        self.center = center
        self.rt = center.rt
        self.config = center.config

    # ================================================================== addresses
    def queue_addresses(self, queue: dict[str, Any]) -> list[str]:
        found = [queue.get("emailAddress"), *(queue.get("emailAliases") or [])]
        return [mime.normalise(a) for a in found if isinstance(a, str) and mime.normalise(a)]

    def queue_for_address(self, address: str) -> dict[str, Any] | None:
        """The Email queue (of any account) ``address`` belongs to."""
        wanted = mime.normalise(address).lower()
        for queue in self.rt.state.all(QUEUE):
            if queue.get("mediaType") == "Email" and wanted in (a.lower() for a in self.queue_addresses(queue)):
                return queue
        return None

    def _own_addresses(self, account_id: str) -> set[str]:
        return {a.lower() for q in self.config.queues(account_id) for a in self.queue_addresses(q)}

    # ================================================================== documents
    def emails_of(self, conversation_id: str) -> list[dict[str, Any]]:
        return sorted((d for d in self.rt.state.all(EMAIL) if d["conversationId"] == conversation_id),
                      key=lambda d: (d["createdOn"], d.get("seq", 0)))

    def _by_message_id(self, account_id: str, message_ids: list[str]) -> dict[str, Any] | None:
        wanted = set(message_ids)
        if not wanted:
            return None
        found = [d for d in self.rt.state.all(EMAIL) if d["accountId"] == account_id and d.get("messageId") in wanted]
        return max(found, key=lambda d: d["createdOn"]) if found else None

    def _store_files(self, uow: UnitOfWork, email: dict[str, Any], parts: list[mime.Part]) -> list[dict[str, Any]]:
        described = []
        for part in parts:
            resource_id = self.rt.ids.uuid()
            blob_id = f"email:{resource_id}"
            uow.put_blob(blob_id, part.content_type, part.data)
            doc = {"id": resource_id, "accountId": email["accountId"], "conversationId": email["conversationId"],
                   "emailId": email["id"], "fileName": part.file_name, "contentType": part.content_type,
                   "size": len(part.data), "inline": part.inline, "contentId": part.content_id, "blobId": blob_id}
            uow.put(EMAIL_FILE, resource_id, doc)
            described.append(self._file_view(doc))
        return described

    @staticmethod
    def _file_view(doc: dict[str, Any]) -> dict[str, Any]:
        return {k: doc[k] for k in ("id", "fileName", "contentType", "size", "inline", "contentId")}

    def _put(self, uow: UnitOfWork, email: dict[str, Any], event: str) -> dict[str, Any]:
        email = {**email, "modifiedOn": self.rt.now_iso()}
        stored = self.rt.state.get(EMAIL, email["id"])
        if stored is None:   # the order of the thread, also within one instant of a virtual clock
            email["seq"] = 1 + max((d.get("seq", 0) for d in self.rt.state.all(EMAIL)
                                    if d["conversationId"] == email["conversationId"]), default=0)
        uow.put(EMAIL, email["id"], email)
        uow.emit(event, email["accountId"], f"/conversations/{email['conversationId']}/emails/{email['id']}",
                 {k: v for k, v in email.items() if k not in ("body", "htmlBody")}, self.rt.now_iso())
        return email

    # ================================================================== inbound
    def check_recipient(self, address: str) -> dict[str, Any]:
        """The queue an envelope recipient reaches (NotFound: no Email queue has that address)."""
        queue = self.queue_for_address(address)
        if queue is None:
            raise NotFound("UnknownRecipient", f"no Email queue has the address {address}")
        return queue

    async def receive(self, raw: bytes, recipients: list[str], envelope_from: str = "") -> list[str]:
        """A message SMTP delivered to ``recipients`` (envelope addresses): for each queue they reach, the
        message joins the queue's account. Returns the conversation ids (one per queue reached)."""
        parsed = mime.parse(raw)
        if not parsed.from_address:
            parsed.from_address = mime.normalise(envelope_from)
        if not parsed.from_address:
            raise Invalid("MissingSender", "the message has no From address")
        queues: dict[str, dict[str, Any]] = {}
        for address in recipients:
            queue = self.check_recipient(address)
            queues.setdefault(queue["id"], queue)
        conversations = []
        for queue in queues.values():
            conversations.append(await self._deliver(parsed, queue))
        return conversations

    async def _deliver(self, parsed: mime.ParsedMail, queue: dict[str, Any]) -> str:
        account_id = queue["accountId"]
        if parsed.bounced_message_id:
            bounced = self._by_message_id(account_id, [parsed.bounced_message_id])
            if bounced is not None and bounced["direction"] == "Outbound":
                return await self._bounce(bounced, parsed)
        media = self.center.media
        async with self.center.engine.transaction() as tx:
            uow = tx.uow
            now = self.rt.now_iso()
            threads = [*parsed.references, *([parsed.in_reply_to] if parsed.in_reply_to else [])]
            earlier = self._by_message_id(account_id, threads)
            ongoing = media.find(earlier["conversationId"]) if earlier is not None else None
            email: dict[str, Any] = {
                "id": self.rt.ids.uuid(), "accountId": account_id, "type": "Received", "direction": "Inbound",
                "messageId": parsed.message_id or f"<{self.rt.ids.uuid()}@{queue_domain(queue)}>",
                "inReplyTo": parsed.in_reply_to, "references": parsed.references,
                "fromAddress": parsed.from_address, "fromName": parsed.from_name, "to": parsed.to, "cc": parsed.cc,
                "bcc": [], "subject": parsed.subject, "body": parsed.text, "htmlBody": parsed.html,
                "queueId": queue["id"], "createdOn": now, "receivedOn": now, "sentDate": parsed.date,
                "monthYearCreated": month_year(now)}
            if ongoing is not None and ongoing["conversationState"] in ACTIVE:
                # the customer wrote again while the conversation is still open: the thread grows
                email.update(conversationId=ongoing["id"], caseId=ongoing.get("caseId"),
                             monthYearCreated=ongoing["monthYearCreated"])
                media.customer_replied(uow, ongoing)
            else:
                interaction = media.create_in(
                    uow, account_id, "Email", queue["id"],
                    customer={"name": parsed.from_name, "email": parsed.from_address}, subject=parsed.subject,
                    to_address=self.queue_addresses(queue)[0],
                    payload={"messageId": email["messageId"], "relatedTo": earlier["conversationId"]
                             if earlier else None},
                    case_id=earlier.get("caseId") if earlier else None)
                email.update(conversationId=interaction["conversationId"], caseId=interaction.get("caseId"),
                             monthYearCreated=interaction.get("monthYearCreated") or email["monthYearCreated"])
            email["attachments"] = self._store_files(uow, email, parsed.parts)
            self._put(uow, email, "cc.email.received")
        return str(email["conversationId"])

    async def _bounce(self, sent: dict[str, Any], parsed: mime.ParsedMail) -> str:
        """A message the contact center sent bounced: the sent e-mail is marked and a BounceDetectedDraft (a
        copy to correct and send again) is put in its conversation."""
        async with self.rt.write() as uow:
            self._put(uow, {**sent, "bounced": True, "bounceReason": parsed.bounce_reason}, "cc.email.bounced")
            draft = {**{k: v for k, v in sent.items() if k not in ("sentOn", "bounced", "bounceReason")},
                     "id": self.rt.ids.uuid(), "type": "BounceDetectedDraft", "messageId": None,
                     "bounceReason": parsed.bounce_reason, "createdOn": self.rt.now_iso(),
                     "bouncedMessageId": sent["messageId"]}
            self._put(uow, draft, "cc.email.draft")
        return str(sent["conversationId"])

    # ================================================================== reads
    def _visible(self, caller: "Caller", conversation_id: str) -> list[dict[str, Any]]:
        emails = [e for e in self.emails_of(conversation_id) if e["accountId"] == caller.account_id]
        if not emails:
            raise NotFound("ConversationNotFound", f"conversation {conversation_id} has no e-mail")
        if caller.sees_all:
            return emails
        mine = (caller.employee or {}).get("id")
        queues = {q["id"] for q in self.center.desk._visible_queues(caller)}
        owner = (self.center.media.find(conversation_id) or {}).get("employeeId")
        if owner == mine or any(e.get("employeeId") == mine for e in emails) or emails[0].get("queueId") in queues:
            return emails
        raise Forbidden("InsufficientPermissions", f"conversation {conversation_id} is not one of the caller's")

    def email_views(self, actor: Principal, conversation_id: str, get_type: str,
                    month_year_created: str) -> list[dict[str, Any]]:
        if get_type not in GET_EMAIL_TYPES:
            raise Invalid("InvalidGetEmailType", f"getEmailType is one of {', '.join(GET_EMAIL_TYPES)}")
        if not _MONTH.match(month_year_created or ""):
            raise Invalid("InvalidMonthYearCreated", "monthYearCreated is MMYYYY (e.g. 122018)")
        caller = self.center.desk.caller(actor)
        emails = [e for e in self._visible(caller, conversation_id)
                  if e["monthYearCreated"] == month_year_created]
        if not emails:
            raise NotFound("ConversationNotFound",
                           f"conversation {conversation_id} has no e-mail created in {month_year_created}")
        if get_type == "Preview":
            return [e for e in emails if e["type"] in ("Received", "Sent")]
        if get_type == "Worktimer":
            return [e for e in emails if e["type"] == "Sent"][-1:]
        if get_type == "PreviewQueueDraft":
            in_queue = bool((self.center.media.find(conversation_id) or {}).get("waiting"))
            return [e for e in emails if e["type"] in DRAFTS] if in_queue else []
        return [e for e in emails if e["type"] == get_type]

    def _file(self, actor: Principal, conversation_id: str, match: Any) -> tuple[dict[str, Any], str, bytes]:
        caller = self.center.desk.caller(actor)
        self._visible(caller, conversation_id)
        for doc in sorted(self.rt.state.all(EMAIL_FILE), key=lambda d: d["id"]):
            if doc["conversationId"] == conversation_id and doc["accountId"] == caller.account_id and match(doc):
                blob = self.rt.state.blobs.get(doc["blobId"])
                if blob is not None:
                    return doc, blob[0], blob[1]
        raise NotFound("FileNotFound", f"conversation {conversation_id} has no such file")

    def image(self, actor: Principal, conversation_id: str, resource_id: str) -> tuple[dict[str, Any], str, bytes]:
        """An inline image by resource id (or by its Content-ID, as the HTML body's ``cid:`` names it)."""
        return self._file(actor, conversation_id, lambda d: d["contentType"].startswith("image/") and (
            resource_id in (d["id"], d.get("contentId"))))

    def attachment(self, actor: Principal, conversation_id: str, file_name: str) -> tuple[dict[str, Any], str, bytes]:
        if not file_name:
            raise Invalid("InvalidFileName", "fileName is required")
        return self._file(actor, conversation_id, lambda d: d["fileName"] == file_name)

    def from_addresses(self, actor: Principal, conversation_id: str) -> list[dict[str, Any]]:
        """The Email queues' addresses the caller may send this conversation's e-mail from (its own queue's
        first)."""
        caller = self.center.desk.caller(actor)
        emails = self._visible(caller, conversation_id)
        own = emails[0].get("queueId")
        queues = [q for q in self.center.desk._visible_queues(caller) if q["mediaType"] == "Email"]
        queues.sort(key=lambda q: (q["id"] != own, q["name"]))
        return [{"id": q["id"], "queueId": q["id"], "name": q["name"], "reporting": q.get("reporting"),
                 "emailAddress": address, "isDefault": q["id"] == own and i == 0}
                for q in queues for i, address in enumerate(self.queue_addresses(q))]

    def reusable(self, actor: Principal, to: str) -> list[dict[str, Any]]:
        """E-mails the caller's account sent to ``to`` that may be reused as the start of a new reply."""
        address = mime.normalise(to)
        if not address:
            raise Invalid("InvalidEmailAddress", "to is an e-mail address")
        caller = self.center.desk.caller(actor)
        queues = {q["id"] for q in self.center.desk._visible_queues(caller)}
        return [e for e in sorted(self.rt.state.all(EMAIL), key=lambda d: d["createdOn"], reverse=True)
                if e["accountId"] == caller.account_id and e["type"] == "Sent" and e.get("suggestable", True)
                and address.lower() in (a.lower() for a in e["to"] + e["cc"]) and e.get("queueId") in queues]

    # ================================================================== what the agent does
    async def start_new(self, employee: dict[str, Any], request: dict[str, Any]) -> str:
        """A new e-mail the employee writes (ConversationRequest type Email): ``to`` (addresses), ``subject``,
        ``from`` (one of their Email queues: id, name, reporting or address; default the first with an address).
        The conversation is at the employee at once with an empty ``NewDraft``; Save and Send as a reply."""
        to = _address_list(request.get("to"), "to")
        if not to:
            raise Invalid("InvalidTo", "to is the customer's e-mail address")
        subject = request.get("subject") or ""
        if not isinstance(subject, str):
            raise Invalid("InvalidSubject", "subject is text")
        mine = [q for q in self.config.queues_of(employee) if q["mediaType"] == "Email" and self.queue_addresses(q)]
        wanted = request.get("from")
        if wanted not in (None, ""):
            key = str(wanted).strip().lower()
            mine = [q for q in mine if key in (q["id"], q["name"].lower(), str(q.get("reporting")).lower(),
                                               *(a.lower() for a in self.queue_addresses(q)))]
        if not mine:
            raise Invalid("InvalidFrom", "from is one of the employee's Email queues that has an address")
        queue = mine[0]
        view = await self.center.media.start_outbound(
            employee, "Email", queue, to[0], subject=subject, customer={"email": to[0]},
            from_address=self.queue_addresses(queue)[0])
        async with self.center.engine.transaction() as tx:
            self.new_draft(tx.uow, view["conversationId"], employee, queue, to, subject, view.get("caseId"))
        return str(view["conversationId"])

    async def act(self, employee: dict[str, Any], conversation_id: str, update: dict[str, Any]) -> None:
        """A ConversationAction on an e-mail in ``employee``'s inbox (the caller's right to act for the employee
        is checked before). ``Accept`` with the tag ``emailAcceptType`` (Reply, ReplyAll, Forward) also starts
        that draft; ``Save`` changes the draft (``update["draft"]``: to, cc, bcc, subject, body, htmlBody,
        attachments, removeAttachments); ``Forward`` makes (or changes) the forward draft, addressed to
        ``transferDestination`` or the draft's ``to``; ``Delete`` discards a draft; ``Send`` sends the draft
        (``draftType`` chooses among several; changes in ``update["draft"]`` are saved first) and ends the
        conversation (the agent's work timer runs). Every other action is the multimedia core's."""
        action = update.get("action")
        media = self.center.media
        draft_type = update.get("draftType")
        if draft_type is not None and draft_type not in DRAFTS:
            raise Invalid("InvalidDraftType", f"draftType is one of {', '.join(DRAFTS)}")
        if action in ("Accept", "AutoAnswer"):
            mode = update.get("emailAcceptType") or "None"
            if mode not in ACCEPT_TYPES:
                raise Invalid("InvalidEmailAcceptType", f"emailAcceptType is one of {', '.join(ACCEPT_TYPES)}")
            await media.act(employee, conversation_id, update)
            if mode != "None":
                async with self.center.engine.transaction() as tx:
                    self.start_draft(tx.uow, conversation_id, employee, mode)
            return
        if action not in ("Save", "Send", "Forward", "Delete"):
            await media.act(employee, conversation_id, update)
            return
        change = self.check_draft_change(update.get("draft") or {})
        if action == "Forward" and update.get("transferDestination"):
            change["to"] = _address_list(update["transferDestination"], "transferDestination")
        async with self.center.engine.transaction() as tx:
            uow = tx.uow
            doc = media.find(conversation_id)
            if doc is None or doc.get("employeeId") != employee["id"] or doc["conversationState"] not in AT_AGENT:
                raise NotFound("ConversationNotFound", f"conversation {conversation_id} is not in the employee's "
                                                       "inbox")
            if doc["conversationState"] not in (ACD, HELD):
                raise Conflict("InvalidConversationState", f"accept the e-mail before you {str(action).lower()}")
            if action == "Delete":
                self.delete_draft(uow, conversation_id, draft_type)
                return
            if action == "Forward":
                self.save_draft(uow, conversation_id, employee, change, "ForwardDraft", "Forward")
                return
            if action == "Save" or change:
                self.save_draft(uow, conversation_id, employee, change, draft_type,
                                update.get("emailAcceptType") or "Reply")
            if action == "Send":
                mail = self.send(uow, conversation_id, employee, draft_type)
                media.agent_replied(uow, doc, employee, {"body": mail["body"], "emailId": mail["emailId"],
                                                         "mailId": mail["mailId"]})
        if action == "Send":
            await media.act(employee, conversation_id, {"action": "End"})

    # ================================================================== drafts (the agent's side)
    def _latest_received(self, conversation_id: str) -> dict[str, Any] | None:
        found = [e for e in self.emails_of(conversation_id) if e["type"] == "Received"]
        return found[-1] if found else None

    def _draft(self, conversation_id: str, draft_type: str | None = None) -> dict[str, Any] | None:
        found = [e for e in self.emails_of(conversation_id) if e["type"] in DRAFTS
                 and (draft_type is None or e["type"] == draft_type)]
        return max(found, key=lambda e: e["modifiedOn"]) if found else None

    def _from(self, queue_id: str | None, account_id: str) -> tuple[str, str]:
        queue = self.rt.state.get(QUEUE, queue_id or "")
        if queue is None or queue["accountId"] != account_id or not self.queue_addresses(queue):
            queue = next((q for q in self.config.queues(account_id) if self.queue_addresses(q)), None)
        if queue is None:
            raise Conflict("NoQueueAddress", "no Email queue of the account has an address to send from")
        return self.queue_addresses(queue)[0], str(queue["name"])

    def start_draft(self, uow: UnitOfWork, conversation_id: str, employee: dict[str, Any],
                    mode: str) -> dict[str, Any]:
        """The agent's reply (``Reply``/``ReplyAll``) or forward (``Forward``) draft of the conversation's
        latest received message, quoting it (made once; an existing draft of that type is kept)."""
        draft_type = "ForwardDraft" if mode == "Forward" else "ReplyDraft"
        existing = self._draft(conversation_id, draft_type)
        if existing is not None:
            return existing
        original = self._latest_received(conversation_id)
        if original is None:
            raise Conflict("NothingToReplyTo", f"conversation {conversation_id} has no received e-mail")
        account_id = original["accountId"]
        own = self._own_addresses(account_id)
        from_address, from_name = self._from(original.get("queueId"), account_id)
        sender = f"{original['fromName']} <{original['fromAddress']}>" if original["fromName"] else \
            original["fromAddress"]
        when = original.get("sentDate") or original["createdOn"]
        if mode == "Forward":
            to: list[str] = []
            cc: list[str] = []
            subject = _prefixed("FW:", original["subject"])
            intro = (f"-------- Forwarded message --------\nFrom: {sender}\nDate: {when}\n"
                     f"Subject: {original['subject']}\nTo: {', '.join(original['to'])}\n\n")
            body = "\n\n" + intro + original["body"]
            attachments = list(original.get("attachments") or [])
        else:
            to = [original["fromAddress"]]
            cc = []
            if mode == "ReplyAll":
                to += [a for a in original["to"] if a.lower() not in own and a not in to]
                cc = [a for a in original["cc"] if a.lower() not in own and a not in to]
            subject = _prefixed("RE:", original["subject"])
            quoted = "\n".join(f"> {line}" for line in original["body"].splitlines())
            intro = f"On {when}, {sender} wrote:\n"
            body = "\n\n" + intro + quoted
            attachments = [a for a in original.get("attachments") or [] if a.get("inline")]
        html = None
        if original.get("htmlBody"):
            html = (f"<p></p><div>{html_lib.escape(intro).replace(chr(10), '<br>')}</div>"
                    f"<blockquote>{original['htmlBody']}</blockquote>")
        now = self.rt.now_iso()
        draft = {"id": self.rt.ids.uuid(), "accountId": account_id, "conversationId": conversation_id,
                 "caseId": original.get("caseId"), "type": draft_type, "direction": "Outbound",
                 "replyMode": mode, "messageId": None,
                 "inReplyTo": original["messageId"] if mode != "Forward" else None,
                 "references": [*original.get("references", []), original["messageId"]],
                 "originalMessageIdReplyingTo": original["messageId"] if mode != "Forward" else None,
                 "originalMessageIdForwardingFrom": original["messageId"] if mode == "Forward" else None,
                 "fromAddress": from_address, "fromName": from_name, "to": to, "cc": cc, "bcc": [],
                 "subject": subject, "body": body, "htmlBody": html, "attachments": attachments,
                 "queueId": original.get("queueId"), "employeeId": employee["id"], "createdOn": now,
                 "monthYearCreated": original["monthYearCreated"], "likes": 0, "reuses": 0, "suggestable": True}
        return self._put(uow, draft, "cc.email.draft")

    def new_draft(self, uow: UnitOfWork, conversation_id: str, employee: dict[str, Any], queue: dict[str, Any],
                  to: list[str], subject: str, case_id: str | None) -> dict[str, Any]:
        """An agent's new outbound e-mail (ConversationRequest type Email): a NewDraft from the queue's address."""
        from_address, from_name = self._from(queue["id"], queue["accountId"])
        now = self.rt.now_iso()
        draft = {"id": self.rt.ids.uuid(), "accountId": queue["accountId"], "conversationId": conversation_id,
                 "caseId": case_id, "type": "NewDraft", "direction": "Outbound", "replyMode": "New",
                 "messageId": None, "inReplyTo": None, "references": [], "originalMessageIdReplyingTo": None,
                 "originalMessageIdForwardingFrom": None, "fromAddress": from_address, "fromName": from_name,
                 "to": to, "cc": [], "bcc": [], "subject": subject, "body": "", "htmlBody": None,
                 "attachments": [], "queueId": queue["id"], "employeeId": employee["id"], "createdOn": now,
                 "monthYearCreated": month_year(now), "likes": 0, "reuses": 0, "suggestable": True}
        return self._put(uow, draft, "cc.email.draft")

    @staticmethod
    def check_draft_change(change: dict[str, Any]) -> dict[str, Any]:
        """Validate the draft fields of a Save/Send/Forward before anything changes; returns them normalised
        (attachments decoded: ``[{fileName, contentType, data, inline, contentId}]``)."""
        out: dict[str, Any] = {}
        for key in ("to", "cc", "bcc"):
            if change.get(key) is not None:
                out[key] = _address_list(change[key], key)
        for key in ("subject", "body", "htmlBody"):
            if change.get(key) is not None:
                if not isinstance(change[key], str):
                    raise Invalid("InvalidDraft", f"{key} is a string")
                out[key] = change[key]
        if change.get("removeAttachments") is not None:
            names = change["removeAttachments"]
            if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
                raise Invalid("InvalidDraft", "removeAttachments is a list of file names or resource ids")
            out["removeAttachments"] = names
        files = change.get("attachments")
        if files is not None:
            if not isinstance(files, list):
                raise Invalid("InvalidAttachment", "attachments is a list of {fileName, contentType, content}")
            decoded = []
            for item in files:
                if not isinstance(item, dict) or not isinstance(item.get("fileName"), str) \
                        or not item["fileName"].strip() or not isinstance(item.get("content"), str):
                    raise Invalid("InvalidAttachment", "each attachment has a fileName and a base64 content")
                try:
                    data = base64.b64decode(item["content"], validate=True)
                except (binascii.Error, ValueError):
                    raise Invalid("InvalidAttachment", f"{item['fileName']}: content is not base64") from None
                if len(data) > MAX_FILE_BYTES:
                    raise Invalid("AttachmentTooLarge", f"{item['fileName']} is larger than {MAX_FILE_BYTES} bytes")
                kind = item.get("contentType") or "application/octet-stream"
                if not isinstance(kind, str) or "/" not in kind:
                    raise Invalid("InvalidAttachment", f"{item['fileName']}: contentType is a MIME type")
                content_id = item.get("contentId")
                if content_id is not None and (not isinstance(content_id, str) or not content_id.strip()):
                    raise Invalid("InvalidAttachment", f"{item['fileName']}: contentId is a string")
                decoded.append(mime.Part(file_name=mime.safe_name(item["fileName"]), content_type=kind.lower(),
                                         data=data, inline=bool(item.get("inline")) and bool(content_id),
                                         content_id=content_id.strip("<> ") if content_id else None))
            out["attachments"] = decoded
        return out

    def save_draft(self, uow: UnitOfWork, conversation_id: str, employee: dict[str, Any],
                   change: dict[str, Any], draft_type: str | None = None,
                   mode: str = "Reply") -> dict[str, Any]:
        """Change the conversation's draft (``draft_type``, else the latest; made when there is none)."""
        draft = self._draft(conversation_id, draft_type)
        if draft is None:
            draft = self.start_draft(uow, conversation_id, employee, "Forward" if draft_type == "ForwardDraft"
                                     else mode)
        draft = dict(draft)
        for key in ("to", "cc", "bcc", "subject", "body", "htmlBody"):
            if key in change:
                draft[key] = change[key]
        attachments = list(draft.get("attachments") or [])
        removed = set(change.get("removeAttachments") or ())
        if removed:
            for item in attachments:
                if removed & {item["id"], item["fileName"]}:
                    own = self.rt.state.get(EMAIL_FILE, item["id"])
                    if own is not None and own["emailId"] == draft["id"]:
                        uow.delete_blob(own["blobId"])
                        uow.delete(EMAIL_FILE, own["id"])
            attachments = [a for a in attachments if not removed & {a["id"], a["fileName"]}]
        if change.get("attachments"):
            attachments += self._store_files(uow, draft, change["attachments"])
        draft["attachments"] = attachments
        draft["employeeId"] = employee["id"]
        return self._put(uow, draft, "cc.email.draft")

    def delete_draft(self, uow: UnitOfWork, conversation_id: str, draft_type: str | None = None) -> None:
        draft = self._draft(conversation_id, draft_type)
        if draft is None:
            raise NotFound("DraftNotFound", f"conversation {conversation_id} has no draft")
        for doc in list(self.rt.state.all(EMAIL_FILE)):
            if doc["emailId"] == draft["id"]:
                uow.delete_blob(doc["blobId"])
                uow.delete(EMAIL_FILE, doc["id"])
        uow.delete(EMAIL, draft["id"])
        uow.emit("cc.email.draftDeleted", draft["accountId"], f"/conversations/{conversation_id}",
                 {"id": draft["id"], "conversationId": conversation_id, "type": draft["type"]}, self.rt.now_iso())

    def send(self, uow: UnitOfWork, conversation_id: str, employee: dict[str, Any],
             draft_type: str | None = None) -> dict[str, Any]:
        """Send the conversation's draft: it becomes ``Sent`` with its Message-ID, and the outgoing mail is put
        in the outbox (``mail.queued``). Returns the outbox entry."""
        draft = self._draft(conversation_id, draft_type)
        if draft is None:
            raise Conflict("NoDraft", f"conversation {conversation_id} has no draft to send; Accept it with an "
                                      "emailAcceptType, Save or Forward first")
        if not draft["to"]:
            raise Invalid("InvalidEmailAddress", "the draft has no recipient (to)")
        now = self.rt.now_iso()
        domain = draft["fromAddress"].rpartition("@")[2] or "callyard.example"
        sent = {**draft, "type": "Sent", "messageId": f"<{self.rt.ids.uuid()}@{domain}>", "sentOn": now,
                "employeeId": employee["id"], "bounced": False}
        self._put(uow, sent, "cc.email.sent")
        mail = {"mailId": self.rt.ids.uuid(), "accountId": sent["accountId"], "template": "cx-email",
                "conversationId": conversation_id, "emailId": sent["id"], "from": sent["fromAddress"],
                "fromName": sent["fromName"], "to": ", ".join(sent["to"]), "cc": ", ".join(sent["cc"]),
                "bcc": ", ".join(sent["bcc"]), "subject": sent["subject"], "body": sent["body"],
                "html": sent["htmlBody"], "messageId": sent["messageId"], "inReplyTo": sent["inReplyTo"],
                "references": sent["references"], "attachments": sent["attachments"], "createdOn": now,
                "delivery": "outbox"}
        uow.put("mail", mail["mailId"], mail)
        uow.emit("mail.queued", mail["accountId"], f"/conversations/{conversation_id}/emails/{sent['id']}",
                 {k: v for k, v in mail.items() if k not in ("body", "html")}, now)
        return mail

    def outgoing(self, mail: dict[str, Any]) -> Any:
        """The MIME message of an outbox entry (files read from the blobs)."""
        files = []
        for item in mail.get("attachments") or []:
            doc = self.rt.state.get(EMAIL_FILE, item["id"])
            blob = self.rt.state.blobs.get(doc["blobId"]) if doc else None
            if doc is not None and blob is not None:
                files.append((doc, blob[1]))
        return mime.build(mail, files, self.rt.clock.now())

    async def send_failed(self, mail: dict[str, Any], reason: str) -> None:
        """The SMTP relay refused an outbox entry: its e-mail is copied back as a FailedSendDraft."""
        sent = self.rt.state.get(EMAIL, mail.get("emailId") or "")
        if sent is None:
            return
        async with self.rt.write() as uow:
            draft = {**sent, "id": self.rt.ids.uuid(), "type": "FailedSendDraft", "messageId": None,
                     "failureReason": reason, "createdOn": self.rt.now_iso()}
            draft.pop("sentOn", None)
            self._put(uow, draft, "cc.email.draft")


def queue_domain(queue: dict[str, Any]) -> str:
    address = queue.get("emailAddress")
    return address.rpartition("@")[2] if isinstance(address, str) and "@" in address else "callyard.example"
