"""Web chat: a customer starts a chat on a Chat queue and types; the contact center routes it to a Chat agent
(``media``); the chat itself is a CloudLink conversation (``core/messaging``), so its messages and transcript
are CloudLink's.

* ``start`` opens the CloudLink conversation (named ``Web chat: <customer>``, no participant yet) and the
  ``Chat`` interaction (``payload.cloudlinkConversationId``); the customer's first words are its first message.
* When an agent accepts the chat, their user joins the CloudLink conversation (ACCEPTED): they read and post
  messages through CloudLink's Conversations API like any conversation of theirs, and each message they post
  there is the agent's reply on the interaction (``agent_replied``). A reply sent through the CX SDK instead
  (ConversationAction ``Send``) is posted to the conversation in their name.
* ``say`` posts the customer's message (``customer_replied``); ``leave`` ends the chat from the customer's
  side (waiting or offered: abandoned; accepted: handled).
* ``transcript`` is the conversation's messages, for the customer's side; CX's transcript operations read
  CloudLink's transcript as the employee.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from callyard.core.contact_center.media import ACTIVE, UPDATED
from callyard.core.errors import Conflict, Invalid, NotFound
from callyard.core.messaging.service import Messaging
from callyard.core.principal import Principal
from callyard.core.state import UnitOfWork
from callyard.events.event import Event
from callyard.events.projections import DERIVE

if TYPE_CHECKING:
    from callyard.core.contact_center.service import ContactCenter

CONTACT_CENTER = "contact-center"
TEXT_MAX = 4000
SENT = "cx-chat-sent"   # uow.scratch: the messages a Send posted (not replies to note again)


def _text(value: Any, what: str = "text") -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("InvalidText", f"{what} is required")
    if len(value) > TEXT_MAX:
        raise Invalid("InvalidText", f"{what} is at most {TEXT_MAX} characters")
    return value


class WebChat:
    def __init__(self, center: "ContactCenter", messaging: Messaging) -> None:
        self.center = center
        self.media = center.media
        self.messaging = messaging
        self.rt = center.rt
        self.media.on_agent_reply("Chat", self._deliver)
        center.rt.projections.in_transaction("contact center: web chats are CloudLink conversations", self._project,
                                             order=DERIVE, events=("message.created", UPDATED))

    # ------------------------------------------------------------------ the customer's side
    async def start(self, account_id: str, queue_ref: str, name: Any, email: Any = None, text: Any = None,
                    subject: Any = None) -> dict[str, Any]:
        customer = _text(name, "name").strip()
        if email is not None and (not isinstance(email, str) or "@" not in email):
            raise Invalid("InvalidEmail", "email is an e-mail address")
        if text is not None:
            _text(text)
        if subject is not None and not isinstance(subject, str):
            raise Invalid("InvalidSubject", "subject is text")
        async with self.center.engine.transaction() as tx:
            conversation_id = self.rt.ids.uuid()
            conversation = self.messaging.open_external(tx.uow, account_id, f"Web chat: {customer}",
                                                        CONTACT_CENTER)
            tx.uow.update("conversation", conversation["conversationId"], ccInteractionId=conversation_id)
            interaction = self.media.create_in(
                tx.uow, account_id, "Chat", queue_ref, customer={"name": customer, "email": email},
                subject=subject or (text[:80] if isinstance(text, str) else None), conversation_id=conversation_id,
                payload={"cloudlinkConversationId": conversation["conversationId"], "customerName": customer})
            if text is not None:
                self._customer_message(tx.uow, interaction, str(text))
            return self.media.view(self.media.get(account_id, conversation_id))

    def _chat(self, account_id: str, conversation_id: str) -> dict[str, Any]:
        doc = self.media.get(account_id, conversation_id)
        if doc["mediaType"] != "Chat":
            raise NotFound("ChatNotFound", f"conversation {conversation_id} is not a chat")
        return doc

    def _customer_message(self, uow: UnitOfWork, doc: dict[str, Any], text: str) -> None:
        sender = doc.get("contactId") or "customer"
        self.messaging.add_message(uow, doc["payload"]["cloudlinkConversationId"], sender, text,
                                   doc["payload"].get("customerName"))

    async def say(self, account_id: str, conversation_id: str, text: Any) -> dict[str, Any]:
        body = _text(text)
        async with self.center.engine.transaction() as tx:
            doc = self._chat(account_id, conversation_id)
            if doc["conversationState"] not in ACTIVE:
                raise Conflict("ChatEnded", "the chat has ended")
            self._customer_message(tx.uow, doc, body)
            self.media.customer_replied(tx.uow, doc)
        return self.transcript(account_id, conversation_id)

    async def leave(self, account_id: str, conversation_id: str) -> dict[str, Any]:
        async with self.center.engine.transaction() as tx:
            doc = self._chat(account_id, conversation_id)
            if doc["conversationState"] not in ACTIVE:
                raise Conflict("ChatEnded", "the chat has ended")
            self.media.complete_in(tx.uow, doc)
        return self.transcript(account_id, conversation_id)

    def transcript(self, account_id: str, conversation_id: str) -> dict[str, Any]:
        """The chat as the customer sees it: its state, who answers, and every message."""
        doc = self.media.view(self._chat(account_id, conversation_id))
        agent = " ".join(p for p in (doc.get("agentFirstName"), doc.get("agentLastName")) if p) or None
        return {"conversationId": doc["conversationId"], "state": doc["conversationState"],
                "queueName": doc.get("queueName"), "positionInQueue": doc.get("positionInQueue", 0),
                "agentName": agent, "customerName": doc["payload"].get("customerName"),
                "cloudlinkConversationId": doc["payload"]["cloudlinkConversationId"],
                "messages": self.messaging.lines(doc["payload"]["cloudlinkConversationId"])}

    # ------------------------------------------------------------------ the employee's side (CX SDK)
    def employee_transcript(self, employee: dict[str, Any], conversation_id: str) -> str:
        """CloudLink's plain-text transcript of the chat, read as the employee (who took part in it)."""
        doc = self._chat(employee["accountId"], conversation_id)
        user = self.rt.state.get("user", employee["userId"]) or {}
        actor = Principal(principal_id=employee["userId"], account_id=employee["accountId"],
                          role=str(user.get("role") or "USER"), user_id=employee["userId"])
        _kind, text = self.messaging.transcript(actor, doc["payload"]["cloudlinkConversationId"], "text/plain",
                                                None, None)
        return str(text)

    # ------------------------------------------------------------------ hooks
    def _deliver(self, uow: UnitOfWork, doc: dict[str, Any], employee: dict[str, Any], reply: dict[str, Any]) -> None:
        """An agent's reply sent through the CX SDK: posted to the CloudLink conversation in their name."""
        if reply.get("via") == "cloudlink" or not doc["payload"].get("cloudlinkConversationId"):
            return
        message = self.messaging.add_message(uow, doc["payload"]["cloudlinkConversationId"], employee["userId"],
                                             _text(reply.get("body"), "the reply"))
        uow.scratch.setdefault(SENT, set()).add(message["messageId"])

    def _project(self, uow: UnitOfWork, events: list[Event]) -> None:
        for event in events:
            data = event.data or {}
            if event.type == UPDATED:
                doc = data["interaction"]
                if doc["mediaType"] == "Chat" and doc["conversationState"] in ("Acd", "Held") \
                        and doc.get("employeeId") and doc["payload"].get("cloudlinkConversationId"):
                    employee = self.rt.state.get("cc_employee", doc["employeeId"])
                    if employee is not None:
                        self.messaging.join(uow, doc["payload"]["cloudlinkConversationId"], employee["userId"],
                                            CONTACT_CENTER)
                continue
            if data.get("messageId") in uow.scratch.get(SENT, ()):
                continue
            conversation = self.rt.state.get("conversation", str(data.get("conversationId") or ""))
            interaction_id = (conversation or {}).get("ccInteractionId")
            doc = self.media.find(interaction_id) if interaction_id else None
            if doc is None or doc["conversationState"] not in ("Acd", "Held"):
                continue
            employee = self.rt.state.get("cc_employee", doc.get("employeeId") or "")
            if employee is not None and data.get("senderId") == employee["userId"]:
                self.media.agent_replied(uow, doc, employee, {"body": data.get("body"), "via": "cloudlink"})
