"""SMS with the contact center: a customer's text to an Sms queue's number (or the account's only Sms queue)
is an ``Sms`` interaction routed to an Sms agent (``media``); the customer's next texts join it while it is
active, and an agent's replies (ConversationAction ``Send``) are captured in the twin's SMS outbox
(``core/messaging/sms.py``, ``GET /_callyard/sms``), from the queue's number to the customer.

The conversation's messages (``payload.messages``: ``{direction: in|out, text, at, smsId?}``) are the
interaction's transcript.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from callyard.core.contact_center.media import ACTIVE
from callyard.core.errors import Invalid, NotFound
from callyard.core.messaging.sms import SmsOutbox, normalise
from callyard.core.state import UnitOfWork

if TYPE_CHECKING:
    from callyard.core.contact_center.service import ContactCenter

TEXT_MAX = 1600


class SmsChannel:
    def __init__(self, center: "ContactCenter", outbox: SmsOutbox) -> None:
        self.center = center
        self.media = center.media
        self.outbox = outbox
        self.rt = center.rt
        self.media.on_agent_reply("Sms", self._deliver)

    def queues(self, account_id: str) -> list[dict[str, Any]]:
        return [q for q in self.center.config.queues(account_id) if q["mediaType"] == "Sms"]

    def sender(self, queue: dict[str, Any]) -> str:
        """The number an Sms queue's texts come from: its ``phoneNumber``, else its reporting number."""
        return str(queue.get("phoneNumber") or queue["reporting"])

    def _queue_for(self, account_id: str, to: Any) -> dict[str, Any]:
        queues = self.queues(account_id)
        if to in (None, ""):
            if len(queues) != 1:
                raise Invalid("QueueRequired", "name the Sms queue's number (to): the account has "
                                               f"{len(queues)} Sms queues")
            return queues[0]
        wanted = normalise(str(to))
        for queue in queues:
            if wanted in (normalise(self.sender(queue)), queue["reporting"], queue["id"]) \
                    or wanted.lower() == queue["name"].lower():
                return queue
        raise NotFound("QueueNotFound", f"no Sms queue answers {to}")

    async def receive(self, account_id: str, sender: Any, text: Any, to: Any = None) -> dict[str, Any]:
        """A customer's text from ``sender`` to ``to`` (an Sms queue's number): it joins the customer's active
        Sms interaction of that queue, or starts one."""
        if not isinstance(text, str) or not text.strip():
            raise Invalid("InvalidText", "text is required")
        if len(text) > TEXT_MAX:
            raise Invalid("InvalidText", f"text is at most {TEXT_MAX} characters")
        number = normalise(sender) if isinstance(sender, str) else ""
        if not number.lstrip("+").isdigit():
            raise Invalid("InvalidNumber", "from is the customer's phone number")
        queue = self._queue_for(account_id, to)
        message = {"direction": "in", "text": text, "at": self.rt.now_iso()}
        async with self.center.engine.transaction() as tx:
            current = next((d for d in self.media.history(account_id) if d["mediaType"] == "Sms"
                            and d["conversationState"] in ACTIVE and d.get("queueId") == queue["id"]
                            and (d["payload"].get("customerAddress") or d.get("fromAddress")) == number), None)
            if current is not None:
                doc = self.media.get(account_id, current["conversationId"])
                payload = {**doc["payload"], "messages": [*doc["payload"]["messages"], message]}
                self.media.customer_replied(tx.uow, {**doc, "payload": payload})
                return self.media.view(self.media.get(account_id, doc["conversationId"]))
            return self.media.create_in(tx.uow, account_id, "Sms", queue["id"], customer={"phone": number},
                                        subject=text[:80], to_address=self.sender(queue),
                                        payload={"smsQueueId": queue["id"], "customerAddress": number,
                                                 "messages": [message]})

    def _deliver(self, uow: UnitOfWork, doc: dict[str, Any], employee: dict[str, Any], reply: dict[str, Any]) -> None:
        """An agent's reply: an SMS from the queue's number to the customer, in the outbox."""
        queue = self.rt.state.get("cc_queue", doc.get("queueId") or doc["payload"].get("smsQueueId") or "") or {}
        customer = doc["payload"].get("customerAddress") or doc.get("fromAddress") or ""
        sms = self.outbox.capture(uow, doc["accountId"], sender=self.sender(queue) if queue else "", to=str(
            customer), text=reply.get("body"), source="cx", user_id=employee["userId"],
            extra={"conversationId": doc["conversationId"], "queueId": queue.get("id")})
        message = {"direction": "out", "text": sms["text"], "at": sms["createdOn"], "smsId": sms["smsId"],
                   "employeeId": employee["id"]}
        payload = {**doc["payload"], "messages": [*doc["payload"].get("messages", []), message]}
        current = self.media.find(doc["id"]) or doc
        uow.put("cc_interaction", doc["id"], {**current, "payload": payload})

    def transcript(self, account_id: str, conversation_id: str) -> dict[str, Any]:
        doc = self.media.view(self.media.get(account_id, conversation_id))
        if doc["mediaType"] != "Sms":
            raise NotFound("ConversationNotFound", f"conversation {conversation_id} is not an SMS conversation")
        return {"conversationId": doc["conversationId"], "state": doc["conversationState"],
                "from": doc.get("fromAddress"), "to": doc.get("toAddress"),
                "messages": list(doc["payload"].get("messages", []))}
