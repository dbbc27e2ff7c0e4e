"""Conversations (chat) rules, no HTTP in sight (reference/cloudlink-apis.md §4; façade
``callyard.api.cloudlink.chat``).

Documents:

* ``conversation`` (id field ``conversationId``): ``{conversationId, accountId, name?, languageCode?,
  thumbnailUrl?, stream, visibility (PUBLIC|PRIVATE), hidden, generateSystemMessages, participants:
  [{participantId, type: USER, userId, status (ACCEPTED|INVITED), addedBy, createdOn, modifiedOn}], createdOn,
  createdBy, modifiedOn, modifiedBy}``. Participants live inside their conversation: a participant change is
  a ``conversation.updated``.
* ``message`` (id field ``messageId``): ``{messageId, conversationId, accountId, sequence, type (USER|SYSTEM), senderId,
  body, contentType, fallbackText?, tag?, attachments, createdOn, createdBy, modifiedOn, modifiedBy}``.

Access: another account's conversation is 404. A conversation is visible to its participants (ACCEPTED or
INVITED), to ACCOUNT_ADMIN+ and, for a PUBLIC stream, to every user of the account; anything else is 404.
Only ACCEPTED participants read and post messages (403 for those who can see the conversation).
"""
from __future__ import annotations

import builtins

import copy
import html
import json
import re
from datetime import datetime, timezone
from typing import Any

from callyard.core.directory.access import Access
from callyard.core.errors import Conflict, Forbidden, Invalid, NotFound
from callyard.core.principal import Principal
from callyard.core.quotas import check_quota
from callyard.core.runtime import Runtime
from callyard.core.state import UnitOfWork
from callyard.events.event import Event

VISIBILITIES = ("PUBLIC", "PRIVATE")
STATUSES = ("ACCEPTED", "INVITED")
TRANSCRIPT_TYPES = ("text/plain", "text/html", "application/json")
UPDATE_FIELDS = ("name", "languageCode", "thumbnailUrl", "visibility", "hidden", "generateSystemMessages")
MESSAGE_FIELDS = ("body", "contentType", "fallbackText", "tag", "attachments")
NAME_MAX = 256
BODY_MAX = 32_000
# Per-field limits (issue 13): a message's attachments, and its short text fields
ATTACHMENTS_MAX = 10
ATTACHMENT_BYTES_MAX = 1024 * 1024       # the decoded size of one attachment's inline (base64) content
URL_MAX = 2048
SHORT_MAX = 256                          # tag, contentType, an attachment's name and contentType
_MIME = re.compile(r"^[A-Za-z0-9!#$&^_.+-]+/[A-Za-z0-9!#$&^_.+-]+(\s*;.*)?$")
_DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\d(T\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)?)?$", re.IGNORECASE)


def _instant(value: str, field: str) -> datetime:
    if not isinstance(value, str) or not _DATE_TIME.match(value):
        raise Invalid("ValidationError", f"{field} should match format \"date-time\"")
    text = value.upper().replace("Z", "+00:00")
    try:
        moment = datetime.fromisoformat(text if "T" in text else text + "T00:00:00+00:00")
    except ValueError as exc:   # the shape is right, the values are not (month 13, hour 99, …)
        raise Invalid("ValidationError", f"{field} is not a valid date-time: {exc}") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment


class Messaging:
    def __init__(self, runtime: Runtime, access: Access) -> None:
        self.rt = runtime
        self.access = access
        # conversationId → its message ids in posting order: a derived index, so posting and listing do not
        # scan every message of every conversation. Rebuilt when the state is replaced (start, reset,
        # import); ids of messages rolled back or deleted are skipped on read.
        self._index: dict[str, list[str]] = {}
        self.quota = 0   # conversations per account (Core.set_quotas)
        self._indexed: Any = None

    # ------------------------------------------------------------------ look-ups and access
    def _conversation(self, actor: Principal, conversation_id: str) -> dict[str, Any]:
        conversation = self.rt.state.get("conversation", conversation_id)
        if conversation is None or conversation["accountId"] != actor.account_id or not self._sees(actor, conversation):
            raise NotFound("ConversationNotFound", f"conversation {conversation_id} was not found")
        return conversation

    @staticmethod
    def _member(conversation: dict[str, Any], principal_id: str) -> dict[str, Any] | None:
        return next((p for p in conversation["participants"] if p["participantId"] == principal_id), None)

    def _sees(self, actor: Principal, conversation: dict[str, Any]) -> bool:
        return (self._member(conversation, actor.principal_id) is not None or actor.at_least("ACCOUNT_ADMIN")
                or (conversation["stream"] and conversation["visibility"] == "PUBLIC"))

    def may_read(self, actor: Principal, event: Event) -> bool:
        """Whether ``actor`` may read what a ``conversation.*`` or ``message.*`` event is about, by the REST
        reads' rules: a conversation as ``GET /conversations/{id}`` (``_sees``), a message as ``GET …/messages``
        (an accepted participant). A deleted conversation's rule is applied to its last state; its messages'
        deletions reach those who could read them then (``audience``)."""
        data = event.data or {}
        if event.account_id != actor.account_id:
            return False
        if event.type.startswith("conversation."):
            current = self.rt.state.get("conversation", str(data.get("conversationId", "")))
            conversation = current if current is not None and event.type != "conversation.deleted" else data
            return "participants" in conversation and self._sees(actor, conversation)
        parent = self.rt.state.get("conversation", str(data.get("conversationId", "")))
        if parent is None:
            return actor.principal_id in data.get("audience", ())
        return self._accepted(parent, actor)

    def _accepted(self, conversation: dict[str, Any], actor: Principal) -> bool:
        member = self._member(conversation, actor.principal_id)
        return member is not None and member["status"] == "ACCEPTED"

    def _joined(self, actor: Principal, conversation_id: str, doing: str) -> dict[str, Any]:
        conversation = self._conversation(actor, conversation_id)
        if not self._accepted(conversation, actor):
            raise Forbidden("NotAParticipant",
                            f"only accepted participants of conversation {conversation_id} may {doing}")
        return conversation

    def _user_id(self, actor: Principal, ref: Any, where: str) -> str:
        """A participant reference as a userId: ``me``, a userId, or the e-mail/loginId of a user of the account."""
        if not isinstance(ref, str) or not ref.strip():
            raise Invalid("InvalidParticipant", f"{where} must be a non-empty user id")
        if ref == "me" or ref == actor.principal_id:
            return actor.principal_id
        user = self.rt.state.get("user", ref)
        if user is None:
            lowered = ref.lower()
            user = next((u for u in self.rt.state.all("user") if u["accountId"] == actor.account_id
                         and lowered in (str(u.get("email", "")).lower(), str(u.get("loginId", "")).lower())), None)
        if user is None or user["accountId"] != actor.account_id:
            raise Invalid("InvalidParticipant", f"{where} {ref} is not a user of this account")
        return str(user["userId"])

    def _display(self, user_id: str | None) -> str:
        user = self.rt.state.get("user", user_id) if user_id else None
        if user is None:
            return user_id or "system"
        return str(user.get("name") or " ".join(filter(None, [user.get("firstName"), user.get("lastName")]))
                   or user.get("email") or user_id)

    def _entry(self, user_id: str, status: str, actor: Principal, now: str) -> dict[str, Any]:
        return {"participantId": user_id, "type": "USER", "userId": user_id, "status": status,
                "addedBy": actor.principal_id, "createdOn": now, "modifiedOn": now}

    # ------------------------------------------------------------------ conversations
    def list(self, actor: Principal) -> builtins.list[dict[str, Any]]:
        """The caller's conversations (ACCEPTED or INVITED), oldest first."""
        mine = [c for c in self.rt.state.all("conversation")
                if c["accountId"] == actor.account_id and self._member(c, actor.principal_id) is not None]
        return sorted(mine, key=lambda c: (c["createdOn"], c["conversationId"]))

    def get(self, actor: Principal, conversation_id: str) -> dict[str, Any]:
        return self._conversation(actor, conversation_id)

    async def create(self, actor: Principal, fields: dict[str, Any]) -> dict[str, Any]:
        stream = bool(fields.get("stream", False))
        refs = list(fields.get("originalParticipants") or []) + list(fields.get("participants") or [])
        members: builtins.list[str] = [actor.principal_id]
        for index, ref in enumerate(refs):
            participant_id = ref.get("participantId") if isinstance(ref, dict) else ref
            if isinstance(ref, dict) and ref.get("type", "USER") != "USER":
                raise Invalid("InvalidParticipant", f"participants[{index}].type must be USER")
            user_id = self._user_id(actor, participant_id, f"participants[{index}].participantId")
            if user_id not in members:
                members.append(user_id)
        if not stream and len(members) != 2:
            raise Invalid("InvalidParticipants", "a direct conversation (stream false) has exactly two participants: "
                                                 "the caller and one other user")
        visibility = fields.get("visibility") or "PRIVATE"
        if visibility not in VISIBILITIES:
            raise Invalid("ValidationError", "visibility should be equal to one of the allowed values: PUBLIC, PRIVATE")
        if not stream and visibility != "PRIVATE":
            raise Invalid("InvalidVisibility", "a direct conversation is always PRIVATE")
        name = fields.get("name")
        if name is not None and (not isinstance(name, str) or len(name) > NAME_MAX):
            raise Invalid("ValidationError", f"name should NOT be longer than {NAME_MAX} characters")
        async with self.rt.write() as uow:
            check_quota(sum(1 for c in self.rt.state.all("conversation") if c["accountId"] == actor.account_id),
                        self.quota, "conversations")
            now = self.rt.now_iso()
            conversation_id = self.rt.ids.uuid()
            conversation: dict[str, Any] = {
                "conversationId": conversation_id, "accountId": actor.account_id, "stream": stream,
                "visibility": visibility, "hidden": bool(fields.get("hidden", False)),
                "generateSystemMessages": bool(fields.get("generateSystemMessages", False)),
                "participants": [self._entry(m, "ACCEPTED", actor, now) for m in members],
                "createdOn": now, "createdBy": actor.principal_id, "modifiedOn": now, "modifiedBy": actor.principal_id}
            for key in ("name", "languageCode", "thumbnailUrl"):
                if fields.get(key) is not None:
                    conversation[key] = fields[key]
            uow.put("conversation", conversation_id, conversation)
            uow.emit("conversation.created", actor.account_id, _subject(conversation), conversation, now)
            self._system(uow, conversation, f"{self._display(actor.principal_id)} created the conversation")
        return conversation

    async def update(self, actor: Principal, conversation_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        conversation = self._conversation(actor, conversation_id)
        if not (self._accepted(conversation, actor) or actor.at_least("ACCOUNT_ADMIN")):
            raise Forbidden("NotAParticipant",
                            "only accepted participants or an ACCOUNT_ADMIN may update a conversation")
        changes = {k: v for k, v in fields.items() if k in UPDATE_FIELDS}
        if "visibility" in changes and changes["visibility"] not in VISIBILITIES:
            raise Invalid("ValidationError", "visibility should be equal to one of the allowed values: PUBLIC, PRIVATE")
        if not conversation["stream"] and changes.get("visibility", "PRIVATE") != "PRIVATE":
            raise Invalid("InvalidVisibility", "a direct conversation is always PRIVATE")
        async with self.rt.write() as uow:
            now = self.rt.now_iso()
            updated = uow.update("conversation", conversation_id, **changes, modifiedOn=now,
                                 modifiedBy=actor.principal_id)
            uow.emit("conversation.updated", actor.account_id, _subject(updated), updated, now)
            if "name" in changes and changes["name"] != conversation.get("name"):
                self._system(uow, updated,
                             f"{self._display(actor.principal_id)} renamed the conversation to {changes['name']}")
        return updated

    async def delete(self, actor: Principal, conversation_id: str) -> dict[str, Any]:
        """Delete a conversation with its messages (and their attachments). Direct: either participant;
        stream: its creator or an ACCOUNT_ADMIN."""
        conversation = self._conversation(actor, conversation_id)
        allowed = (actor.at_least("ACCOUNT_ADMIN") or actor.principal_id == conversation["createdBy"]
                   or (not conversation["stream"] and self._accepted(conversation, actor)))
        if not allowed:
            raise Forbidden("InsufficientPermissions",
                            "only the conversation's creator or an ACCOUNT_ADMIN may delete a stream")
        async with self.rt.write() as uow:
            now = self.rt.now_iso()
            audience = [p["participantId"] for p in conversation["participants"] if p["status"] == "ACCEPTED"]
            for message in self._messages(conversation_id):
                uow.delete("message", message["messageId"])
                uow.emit("message.deleted", actor.account_id, _message_subject(message),
                         {**_gone(message, actor, now), "audience": audience}, now, fresh=True)
            uow.delete("conversation", conversation_id)
            uow.emit("conversation.deleted", actor.account_id, _subject(conversation),
                     _gone(conversation, actor, now), now, fresh=True)
        return conversation

    # ------------------------------------------------------------------ participants
    def participants(self, actor: Principal, conversation_id: str) -> builtins.list[dict[str, Any]]:
        return list(self._conversation(actor, conversation_id)["participants"])

    def participant(self, actor: Principal, conversation_id: str, ref: str) -> dict[str, Any]:
        conversation = self._conversation(actor, conversation_id)
        member = self._member(conversation, self._ref(actor, ref))
        if member is None:
            raise NotFound("ParticipantNotFound", f"{ref} is not a participant of conversation {conversation_id}")
        return member

    def _ref(self, actor: Principal, ref: str) -> str:
        try:
            return self._user_id(actor, ref, "participantId")
        except Invalid:
            return ref

    async def add_participant(self, actor: Principal, conversation_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Invite (INVITED, the default) or add directly (ACCEPTED). Joining a PUBLIC stream oneself is open to
        any user of the account (always ACCEPTED); adding to a private stream takes an accepted participant or
        an ACCOUNT_ADMIN; a direct conversation keeps exactly its two participants."""
        conversation = self._conversation(actor, conversation_id)
        if fields.get("type", "USER") != "USER":
            raise Invalid("InvalidParticipant", "type must be USER")
        user_id = self._user_id(actor, fields.get("participantId") or fields.get("userId"), "participantId")
        status = fields.get("status") or "INVITED"
        if status not in STATUSES:
            raise Invalid("ValidationError", "status should be equal to one of the allowed values: ACCEPTED, INVITED")
        if not conversation["stream"]:
            raise Conflict("DirectConversation", "a direct conversation keeps exactly two participants")
        joining = user_id == actor.principal_id
        if joining and conversation["visibility"] == "PUBLIC":
            status = "ACCEPTED"
        elif not (self._accepted(conversation, actor) or actor.at_least("ACCOUNT_ADMIN")):
            raise Forbidden("NotAParticipant", "only accepted participants or an ACCOUNT_ADMIN may add participants "
                                               "to this conversation")
        existing = self._member(conversation, user_id)
        if existing is not None and not (existing["status"] == "INVITED" and status == "ACCEPTED"):
            raise Conflict("ParticipantExists", f"{user_id} is already a participant ({existing['status']})")
        async with self.rt.write() as uow:
            now = self.rt.now_iso()
            if existing is not None:
                entry = {**existing, "status": "ACCEPTED", "modifiedOn": now}
                roster = [entry if p["participantId"] == user_id else p for p in conversation["participants"]]
            else:
                entry = self._entry(user_id, status, actor, now)
                roster = [*conversation["participants"], entry]
            updated = uow.update("conversation", conversation_id, participants=roster, modifiedOn=now,
                                 modifiedBy=actor.principal_id)
            uow.emit("conversation.updated", actor.account_id, _subject(updated), updated, now)
            verb = "invited" if entry["status"] == "INVITED" else "added"
            text = (f"{self._display(user_id)} joined" if joining
                    else f"{self._display(actor.principal_id)} {verb} {self._display(user_id)}")
            self._system(uow, updated, text)
        return entry

    async def respond(self, actor: Principal, conversation_id: str, ref: str, status: str) -> dict[str, Any] | None:
        """The invited user accepts (ACCEPTED) or declines (DECLINED: they are taken off the conversation)."""
        conversation = self._conversation(actor, conversation_id)
        user_id = self._ref(actor, ref)
        member = self._member(conversation, user_id)
        if member is None:
            raise NotFound("ParticipantNotFound", f"{ref} is not a participant of conversation {conversation_id}")
        if user_id != actor.principal_id:
            raise Forbidden("InsufficientPermissions", "only the invited user may accept or decline an invitation")
        if status not in ("ACCEPTED", "DECLINED"):
            raise Invalid("ValidationError", "status should be equal to one of the allowed values: ACCEPTED, DECLINED")
        if member["status"] != "INVITED":
            raise Conflict("NotInvited", f"{user_id} is already {member['status']}")
        if status == "DECLINED":
            await self._drop(actor, conversation, user_id, "declined the invitation")
            return None
        async with self.rt.write() as uow:
            now = self.rt.now_iso()
            entry = {**member, "status": "ACCEPTED", "modifiedOn": now}
            roster = [entry if p["participantId"] == user_id else p for p in conversation["participants"]]
            updated = uow.update("conversation", conversation_id, participants=roster, modifiedOn=now,
                                 modifiedBy=actor.principal_id)
            uow.emit("conversation.updated", actor.account_id, _subject(updated), updated, now)
            self._system(uow, updated, f"{self._display(user_id)} joined")
        return entry

    async def remove_participant(self, actor: Principal, conversation_id: str, ref: str) -> dict[str, Any]:
        """Leave (oneself) or remove someone (the stream's creator or an ACCOUNT_ADMIN)."""
        conversation = self._conversation(actor, conversation_id)
        user_id = self._ref(actor, ref)
        member = self._member(conversation, user_id)
        if member is None:
            raise NotFound("ParticipantNotFound", f"{ref} is not a participant of conversation {conversation_id}")
        if not conversation["stream"]:
            raise Conflict("DirectConversation",
                           "a direct conversation keeps exactly two participants; delete it instead")
        leaving = user_id == actor.principal_id
        if not leaving and not (actor.principal_id == conversation["createdBy"] or actor.at_least("ACCOUNT_ADMIN")):
            raise Forbidden("InsufficientPermissions",
                            "only the conversation's creator or an ACCOUNT_ADMIN may remove another participant")
        await self._drop(actor, conversation, user_id, "left" if leaving else None)
        return member

    async def _drop(self, actor: Principal, conversation: dict[str, Any], user_id: str, what: str | None) -> None:
        async with self.rt.write() as uow:
            now = self.rt.now_iso()
            roster = [p for p in conversation["participants"] if p["participantId"] != user_id]
            updated = uow.update("conversation", conversation["conversationId"], participants=roster, modifiedOn=now,
                                 modifiedBy=actor.principal_id)
            uow.emit("conversation.updated", actor.account_id, _subject(updated), updated, now)
            text = (f"{self._display(user_id)} {what}" if what
                    else f"{self._display(actor.principal_id)} removed {self._display(user_id)}")
            self._system(uow, updated, text)

    # ------------------------------------------------------------------ messages
    def _ids(self, conversation_id: str) -> builtins.list[str]:
        """The conversation's message ids in posting order, possibly with ids of messages gone since."""
        if self._indexed is not self.rt.state.docs:
            self._index = {}
            ordered = sorted(self.rt.state.all("message"),
                             key=lambda m: (m.get("sequence", 0), m["createdOn"], m["messageId"]))
            for message in ordered:
                self._index.setdefault(message["conversationId"], []).append(message["messageId"])
            self._indexed = self.rt.state.docs
        return self._index.setdefault(conversation_id, [])

    def _messages(self, conversation_id: str) -> builtins.list[dict[str, Any]]:
        ids = self._ids(conversation_id)
        found = [m for m in (self.rt.state.get("message", i) for i in ids) if m is not None]
        if len(found) != len(ids):
            ids[:] = [m["messageId"] for m in found]
        return found

    def _next_sequence(self, conversation_id: str) -> int:
        """Messages are numbered per conversation in posting order (the clock may not move between two). A
        number is never given twice, even after the newest message was deleted: the conversation keeps the
        last number it gave (``lastSequence``; conversations stored before it was kept fall back to their
        last live message)."""
        ids = self._ids(conversation_id)
        while ids and self.rt.state.get("message", ids[-1]) is None:
            ids.pop()   # rolled back or deleted: only the last live message counts
        last = self.rt.state.get("message", ids[-1]) if ids else None
        conversation = self.rt.state.get("conversation", conversation_id) or {}
        return max(int(conversation.get("lastSequence", 0)), int(last.get("sequence", 0) if last else 0)) + 1

    def _add(self, uow: UnitOfWork, message: dict[str, Any]) -> None:
        self._ids(message["conversationId"]).append(message["messageId"])
        uow.put("message", message["messageId"], message)
        if self.rt.state.get("conversation", message["conversationId"]) is not None:
            uow.update("conversation", message["conversationId"], lastSequence=message["sequence"])

    def messages(self, actor: Principal, conversation_id: str, start: str | None = None,
                 end: str | None = None) -> builtins.list[dict[str, Any]]:
        """The conversation's messages, oldest first, optionally created within [start, end]."""
        self._joined(actor, conversation_id, "read messages")
        return self._window(self._messages(conversation_id), start, end)

    @staticmethod
    def _window(messages: builtins.list[dict[str, Any]], start: str | None,
                end: str | None) -> builtins.list[dict[str, Any]]:
        low = _instant(start, "startDate") if start else None
        high = _instant(end, "endDate") if end else None
        if low and high and low > high:
            raise Invalid("InvalidDateRange", "startDate must not be after endDate")
        kept = []
        for message in messages:
            at = _instant(message["createdOn"], "createdOn")
            if (low is None or at >= low) and (high is None or at <= high):
                kept.append(message)
        return kept

    def message(self, actor: Principal, conversation_id: str, message_id: str) -> dict[str, Any]:
        self._joined(actor, conversation_id, "read messages")
        return self._message(conversation_id, message_id)

    def _message(self, conversation_id: str, message_id: str) -> dict[str, Any]:
        message = self.rt.state.get("message", message_id)
        if message is None or message["conversationId"] != conversation_id:
            raise NotFound("MessageNotFound", f"message {message_id} was not found")
        return message

    @staticmethod
    def _content(fields: dict[str, Any], creating: bool) -> dict[str, Any]:
        out = {k: v for k, v in fields.items() if k in MESSAGE_FIELDS}
        if creating and out.get("body") in (None, ""):
            raise Invalid("ValidationError", "data should have required property 'body'")
        if "body" in out:
            body = out["body"]
            if not isinstance(body, (str, dict, list)) or len(json.dumps(body)) > BODY_MAX:
                raise Invalid("ValidationError", f"body should be a string or object of at most {BODY_MAX} characters")
        for key in ("tag", "contentType"):
            if isinstance(out.get(key), str) and len(out[key]) > SHORT_MAX:
                raise Invalid("ValidationError", f"{key} should NOT be longer than {SHORT_MAX} characters")
        if isinstance(out.get("fallbackText"), str) and len(out["fallbackText"]) > BODY_MAX:
            raise Invalid("ValidationError", f"fallbackText should NOT be longer than {BODY_MAX} characters")
        if out.get("attachments") is not None:
            _check_attachments(out["attachments"])
        content_type = out.get("contentType")
        if content_type is not None and (not isinstance(content_type, str) or not _MIME.match(content_type)):
            raise Invalid("ValidationError", "contentType should be a media type such as text/plain")
        if content_type == "application/json" and isinstance(out.get("body"), str):
            try:
                json.loads(out["body"])
            except ValueError:
                raise Invalid("ValidationError", "body is not valid JSON for contentType application/json") from None
        return out

    async def post(self, actor: Principal, conversation_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        conversation = self._joined(actor, conversation_id, "post messages")
        content = self._content(fields, creating=True)
        async with self.rt.write() as uow:
            now = self.rt.now_iso()
            message = {"messageId": self.rt.ids.uuid(), "conversationId": conversation_id,
                       "accountId": conversation["accountId"], "type": "USER", "senderId": actor.principal_id,
                       "sequence": self._next_sequence(conversation_id),
                       "contentType": "text/plain", "attachments": [], **content,
                       "createdOn": now, "createdBy": actor.principal_id, "modifiedOn": now,
                       "modifiedBy": actor.principal_id}
            self._add(uow, message)
            uow.emit("message.created", message["accountId"], _message_subject(message), message, now)
        return message

    async def edit(self, actor: Principal, conversation_id: str, message_id: str,
                   fields: dict[str, Any]) -> dict[str, Any]:
        self._joined(actor, conversation_id, "edit messages")
        message = self._message(conversation_id, message_id)
        if message["senderId"] != actor.principal_id:
            raise Forbidden("InsufficientPermissions", "only the sender may edit a message")
        content = self._content(fields, creating=False)
        async with self.rt.write() as uow:
            now = self.rt.now_iso()
            updated = uow.update("message", message_id, **content, modifiedOn=now, modifiedBy=actor.principal_id)
            uow.emit("message.updated", updated["accountId"], _message_subject(updated), updated, now)
        return updated

    async def delete_message(self, actor: Principal, conversation_id: str, message_id: str) -> dict[str, Any]:
        """The sender (an accepted participant) or an ACCOUNT_ADMIN deletes a message."""
        conversation = self._conversation(actor, conversation_id)
        admin = actor.at_least("ACCOUNT_ADMIN")
        if not (self._accepted(conversation, actor) or admin):
            raise Forbidden("NotAParticipant", f"only accepted participants of conversation {conversation_id} "
                                               "may delete messages")
        message = self._message(conversation_id, message_id)
        if message["senderId"] != actor.principal_id and not admin:
            raise Forbidden("InsufficientPermissions", "only the sender or an ACCOUNT_ADMIN may delete a message")
        async with self.rt.write() as uow:
            uow.delete("message", message_id)
            now = self.rt.now_iso()
            uow.emit("message.deleted", message["accountId"], _message_subject(message),
                     _gone(message, actor, now), now, fresh=True)
        return message

    def _system(self, uow: UnitOfWork, conversation: dict[str, Any], text: str) -> None:
        if not conversation.get("generateSystemMessages"):
            return
        now = self.rt.now_iso()
        message = {"messageId": self.rt.ids.uuid(), "conversationId": conversation["conversationId"],
                   "accountId": conversation["accountId"], "type": "SYSTEM", "senderId": None,
                   "sequence": self._next_sequence(conversation["conversationId"]),
                   "contentType": "text/plain", "body": text, "attachments": [], "createdOn": now,
                   "createdBy": "system", "modifiedOn": now, "modifiedBy": "system"}
        self._add(uow, message)
        uow.emit("message.created", message["accountId"], _message_subject(message), message, now)

    # ------------------------------------------------------------------ conversations of other parts of the core
    def open_external(self, uow: UnitOfWork, account_id: str, name: str, created_by: str) -> dict[str, Any]:
        """A private conversation the core opens for a party that is not a user (a contact center's web chat
        with a customer): no participant yet; users join it with ``join`` (inside the caller's transaction)."""
        now = self.rt.now_iso()
        conversation: dict[str, Any] = {
            "conversationId": self.rt.ids.uuid(), "accountId": account_id, "stream": True, "visibility": "PRIVATE",
            "hidden": False, "generateSystemMessages": False, "participants": [], "name": name[:NAME_MAX],
            "createdOn": now, "createdBy": created_by, "modifiedOn": now, "modifiedBy": created_by}
        uow.put("conversation", conversation["conversationId"], conversation)
        uow.emit("conversation.created", account_id, _subject(conversation), conversation, now)
        return conversation

    def join(self, uow: UnitOfWork, conversation_id: str, user_id: str, added_by: str) -> None:
        """``user_id`` takes part in the conversation (ACCEPTED), if not yet."""
        conversation = self.rt.state.get("conversation", conversation_id)
        if conversation is None or self._member(conversation, user_id) is not None:
            return
        now = self.rt.now_iso()
        entry = {"participantId": user_id, "type": "USER", "userId": user_id, "status": "ACCEPTED",
                 "addedBy": added_by, "createdOn": now, "modifiedOn": now}
        updated = uow.update("conversation", conversation_id, participants=[*conversation["participants"], entry],
                             modifiedOn=now, modifiedBy=added_by)
        uow.emit("conversation.updated", updated["accountId"], _subject(updated), updated, now)

    def add_message(self, uow: UnitOfWork, conversation_id: str, sender_id: str, body: str,
                    sender_name: str | None = None) -> dict[str, Any]:
        """A text message posted by the core on a party's behalf (a web-chat customer, an agent's reply sent
        through the contact center), inside the caller's transaction."""
        conversation = self.rt.state.get("conversation", conversation_id)
        if conversation is None:
            raise NotFound("ConversationNotFound", f"conversation {conversation_id} was not found")
        content = self._content({"body": body}, creating=True)
        now = self.rt.now_iso()
        message = {"messageId": self.rt.ids.uuid(), "conversationId": conversation_id,
                   "accountId": conversation["accountId"], "type": "USER", "senderId": sender_id,
                   "sequence": self._next_sequence(conversation_id), "contentType": "text/plain", "attachments": [],
                   **content, "createdOn": now, "createdBy": sender_id, "modifiedOn": now, "modifiedBy": sender_id}
        if sender_name:
            message["senderName"] = sender_name
        self._add(uow, message)
        uow.emit("message.created", message["accountId"], _message_subject(message), message, now)
        return message

    def lines(self, conversation_id: str) -> builtins.list[dict[str, Any]]:
        """The conversation's messages, oldest first, for the core's own readers (no access check)."""
        return [{"messageId": m["messageId"], "createdOn": m["createdOn"], "senderId": m["senderId"],
                 "senderName": m.get("senderName") or self._display(m["senderId"]), "body": m["body"]}
                for m in self._messages(conversation_id)]

    # ------------------------------------------------------------------ transcripts
    def transcript(self, actor: Principal, conversation_id: str, content_type: str | None,
                   start: str | None, end: str | None) -> tuple[str, Any]:
        """The conversation's messages in [start, end] as (content type, text or JSON-ready object)."""
        conversation = self._joined(actor, conversation_id, "create a transcript")
        kind = (content_type or "text/html").lower()
        if kind not in TRANSCRIPT_TYPES:
            raise Invalid("ValidationError", "contentType should be equal to one of the allowed values: "
                                             + ", ".join(TRANSCRIPT_TYPES))
        messages = self._window(self._messages(conversation_id), start, end)
        lines = [{"messageId": m["messageId"], "createdOn": m["createdOn"], "type": m["type"],
                  "senderId": m["senderId"], "senderName": m.get("senderName") or self._display(m["senderId"]),
                  "contentType": m["contentType"], "body": m["body"],
                  **({"fallbackText": m["fallbackText"]} if m.get("fallbackText") else {})} for m in messages]
        title = conversation.get("name") or conversation_id
        if kind == "application/json":
            return kind, {"conversationId": conversation_id, "name": conversation.get("name"),
                          "startDate": start, "endDate": end, "createdOn": self.rt.now_iso(),
                          "count": len(lines), "messages": lines}
        def text_of(line: dict[str, Any]) -> str:
            body = line["body"]
            return line.get("fallbackText") or (body if isinstance(body, str) else json.dumps(body))
        if kind == "text/plain":
            rows = [f"Transcript of {title}"] + [f"[{line['createdOn']}] {line['senderName']}: {text_of(line)}"
                                                 for line in lines]
            return kind, "\n".join(rows) + "\n"
        html_rows = "".join(f"<li><time>{html.escape(line['createdOn'])}</time> "
                            f"<b>{html.escape(line['senderName'])}</b>: {html.escape(text_of(line))}</li>"
                            for line in lines)
        return kind, (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title></head>"
                      f"<body><h1>{html.escape(title)}</h1><ul>{html_rows}</ul></body></html>")


def _check_attachments(attachments: Any) -> None:
    if not isinstance(attachments, list):
        raise Invalid("ValidationError", "attachments should be an array")
    if len(attachments) > ATTACHMENTS_MAX:
        raise Invalid("ValidationError", f"attachments should NOT have more than {ATTACHMENTS_MAX} items")
    for index, item in enumerate(attachments):
        if not isinstance(item, dict):
            raise Invalid("ValidationError", f"attachments[{index}] should be an object")
        for key, limit in (("name", SHORT_MAX), ("contentType", SHORT_MAX), ("url", URL_MAX)):
            if isinstance(item.get(key), str) and len(item[key]) > limit:
                raise Invalid("ValidationError", f"attachments[{index}].{key} should NOT be longer than {limit} "
                                                 "characters")
        content = item.get("content")
        if isinstance(content, str) and len(content) * 3 // 4 > ATTACHMENT_BYTES_MAX:
            raise Invalid("AttachmentTooLarge", f"attachments[{index}] is larger than {ATTACHMENT_BYTES_MAX} bytes; "
                                                "link large files by url instead")


def _gone(doc: dict[str, Any], actor: Principal, now: str) -> dict[str, Any]:
    """What a deletion event carries: the last state, plus who deleted it and when."""
    return {**copy.deepcopy(doc), "deletedOn": now, "deletedBy": actor.principal_id}


def _subject(conversation: dict[str, Any]) -> str:
    return f"/conversations/{conversation['conversationId']}"


def _message_subject(message: dict[str, Any]) -> str:
    return f"/conversations/{message['conversationId']}/messages/{message['messageId']}"
