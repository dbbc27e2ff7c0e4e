"""The contact center's other media as the CX SDK's callers see them, with the Desk's security roles: open media
(a third party posts, reads, completes and reroutes its items), web chats (transcripts and tags), SMS queues,
cases and the history of interactions.

* A caller sees an interaction when it waits in, or went through, one of the caller's queues, or it is (was)
  theirs; supervisors and registered clients see all of the account's.
* Open media is posted by a registered client (a third-party system) or an employee of the account.
"""
from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

from callyard.core.contact_center.cases import CASE
from callyard.core.contact_center.desk_access import Caller
from callyard.core.contact_center.media import ACTIVE
from callyard.core.errors import Forbidden, Invalid, NotFound
from callyard.core.principal import Principal

if TYPE_CHECKING:
    from callyard.core.contact_center.chat import WebChat
    from callyard.core.contact_center.service import ContactCenter
    from callyard.core.contact_center.sms import SmsChannel

OPEN_MEDIA_ACTIONS = ("Complete", "Reroute")
CONTACT_KEYS = {"name": "name", "email": "email", "phone": "phone", "mobilephone": "mobilePhone"}
# History $search field names (Elasticsearch-style, any case) → the interaction's fields
SEARCH_FIELDS = {"media": "mediaType", "mediatype": "mediaType", "lastagentid": "agentId", "agentid": "agentId",
                 "agent": "agentReporting", "queue": "queueName", "queueid": "queueId", "state": "conversationState",
                 "from": "fromAddress", "fromaddress": "fromAddress", "fromname": "fromName", "to": "toAddress",
                 "subject": "subject", "caseid": "caseId", "folder": "mediaFolder", "id": "conversationId",
                 "conversationid": "conversationId", "direction": "direction"}


class MediaDesk:
    def __init__(self, center: "ContactCenter", chat: "WebChat", sms: "SmsChannel") -> None:
        self.center = center
        self.desk = center.desk
        self.media = center.media
        self.chat = chat
        self.sms = sms
        self.rt = center.rt

    # ------------------------------------------------------------------ who sees what
    def _sees(self, caller: Caller, doc: dict[str, Any], queues: set[str] | None = None) -> bool:
        if doc["accountId"] != caller.account_id:
            return False
        if caller.sees_all:
            return True
        assert caller.employee is not None
        if queues is None:
            queues = {q["id"] for q in self.center.config.queues_of(caller.employee)}
        agents = {a["id"] for a in caller.employee["agents"].values()}
        return doc.get("queueId") in queues or doc.get("employeeId") == caller.employee["id"] \
            or bool(agents & set(doc.get("agentsInvolved") or [doc.get("agentId")]))

    def _visible(self, caller: Caller, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
        queues = None if caller.sees_all or caller.employee is None else {
            q["id"] for q in self.center.config.queues_of(caller.employee)}
        return [d for d in docs if self._sees(caller, d, queues)]

    def _one(self, caller: Caller, conversation_id: str, media: str | None = None) -> dict[str, Any]:
        doc = self.media.find(conversation_id)
        if doc is None or not self._sees(caller, doc) or (media is not None and doc["mediaType"] != media):
            raise NotFound("ConversationNotFound", f"conversation {conversation_id} was not found")
        return self.media.view(doc)

    # ------------------------------------------------------------------ open media
    async def post_open_media(self, actor: Principal, request: dict[str, Any]) -> dict[str, Any]:
        """A third party's open-media item (OpenMediaRequest) routed to its queue; the contact named in
        ``variableData`` (Name, Email, Phone, MobilePhone) is identified or created."""
        caller = self.desk.caller(actor)
        variables = request.get("variableData") or {}
        if not isinstance(variables, dict):
            raise Invalid("InvalidRequest", "variableData is an object of name/value pairs")
        customer = {CONTACT_KEYS[k.lower()]: str(v) for k, v in variables.items()
                    if k.lower() in CONTACT_KEYS and isinstance(v, (str, int)) and str(v).strip()}
        queues = [q for q in self.desk.queues(actor) if q["mediaType"] == "OpenMedia"]
        ref = request.get("queue")
        if ref in (None, ""):
            if len(queues) != 1:
                raise Invalid("QueueRequired", "queue names the open-media queue (id, name or reporting number)")
            queue = queues[0]
        else:
            queue = self.center.config.queue(caller.account_id, str(ref))
            if queue["id"] not in {q["id"] for q in queues} and queue["mediaType"] == "OpenMedia":
                raise Forbidden("InsufficientPermissions", f"queue {ref} is not one of the caller's queues")
        for key in ("targetUri", "previewUrl", "historyUrl", "subject", "from", "to", "id", "tenant"):
            if request.get(key) is not None and not isinstance(request[key], str):
                raise Invalid("InvalidRequest", f"{key} is text")
        if not customer.get("name") and isinstance(request.get("from"), str) and request["from"].strip():
            customer["name"] = request["from"].strip()
        payload = {k: request[k] for k in ("targetUri", "targetUriEmbedded", "previewUrl", "historyUrl", "tenant")
                   if request.get(k) is not None}
        if request.get("id"):
            payload["externalId"] = request["id"]
        return await self.media.create(
            caller.account_id, "OpenMedia", queue["id"], customer=customer, subject=request.get("subject"),
            to_address=request.get("to") or None, from_address=request.get("from") or None,
            variables={str(k): v for k, v in variables.items()}, payload=payload)

    def open_media(self, actor: Principal, search: str | None = None) -> list[dict[str, Any]]:
        """The caller's active open-media items; with ``search``, the ended ones too."""
        caller = self.desk.caller(actor)
        docs = [d for d in self.media.history(caller.account_id) if d["mediaType"] == "OpenMedia"
                and (search or d["conversationState"] in ACTIVE)]
        return self._visible(caller, docs)

    def open_media_item(self, actor: Principal, conversation_id: str) -> dict[str, Any]:
        """An active item; once handled, abandoned or failed it is not found (the seed's 404)."""
        doc = self._one(self.desk.caller(actor), conversation_id, "OpenMedia")
        if doc["conversationState"] not in ACTIVE:
            raise NotFound("ConversationNotFound", f"open media {conversation_id} is {doc['conversationState']}")
        return doc

    async def update_open_media(self, actor: Principal, conversation_id: str, action: str,
                                queue_ref: str | None = None) -> dict[str, Any]:
        caller = self.desk.caller(actor)
        if caller.employee is None and not caller.third_party and not caller.supervisor:
            raise Forbidden("InsufficientPermissions", "not allowed")
        doc = self._one(caller, conversation_id, "OpenMedia")
        if action == "Complete":
            if doc["conversationState"] not in ACTIVE:
                raise NotFound("ConversationNotFound", f"open media {conversation_id} is {doc['conversationState']}")
            return await self.media.complete(caller.account_id, conversation_id)
        if action == "Reroute":
            return await self.media.reroute(caller.account_id, conversation_id, queue_ref)
        raise Invalid("InvalidAction", f"action is one of {', '.join(OPEN_MEDIA_ACTIONS)}")

    def open_media_queues(self, actor: Principal) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
        """The caller's open-media queues, each with its active items."""
        out = []
        for queue in self.desk.queues(actor):
            if queue["mediaType"] == "OpenMedia":
                items = [self.media.view(d) for d in self.rt.state.all("cc_interaction")
                         if d.get("queueId") == queue["id"] and d["conversationState"] in ACTIVE]
                out.append((queue, items))
        return out

    # ------------------------------------------------------------------ chats and SMS
    def chat_transcript_ready(self, actor: Principal, conversation_id: str) -> bool:
        doc = self._one(self.desk.caller(actor), conversation_id, "Chat")
        return doc["conversationState"] not in ACTIVE

    def chat_tagged(self, actor: Principal, conversation_id: str, tag: str) -> bool:
        doc = self._one(self.desk.caller(actor), conversation_id, "Chat")
        wanted = tag.lower()
        return any(wanted in (str(t.get("key", "")).lower(), str(t.get("value", "")).lower())
                   for t in doc.get("tags") or [])

    def chat_transcript(self, actor: Principal, conversation_id: str, employee_ref: str) -> str:
        caller = self.desk.caller(actor)
        self._one(caller, conversation_id, "Chat")
        employee = self.desk.employee(actor, employee_ref)
        return self.chat.employee_transcript(employee, conversation_id)

    def sms_queues(self, actor: Principal) -> list[dict[str, Any]]:
        return [q for q in self.desk.queues(actor) if q["mediaType"] == "Sms"]

    # ------------------------------------------------------------------ cases
    def _case_visible(self, caller: Caller, case: dict[str, Any], scope_all: bool) -> bool:
        if case["accountId"] != caller.account_id:
            return False
        if caller.sees_all or scope_all:
            return True
        assert caller.employee is not None
        queues = {q["id"] for q in self.center.config.queues_of(caller.employee)}
        agents = {a["id"] for a in caller.employee["agents"].values()}
        return bool(queues & set(case["queues"])) or bool(agents & set(case["agents"]))

    def _scope(self, caller: Caller, global_: bool) -> bool:
        if global_ and not caller.sees_all:
            raise Forbidden("SupervisorLicenseRequired", "a global search needs the supervisor role")
        return global_

    def cases(self, actor: Principal, global_: bool = False) -> list[dict[str, Any]]:
        caller = self.desk.caller(actor)
        scope_all = self._scope(caller, global_)
        found = [c for c in self.rt.state.all(CASE) if self._case_visible(caller, c, scope_all)]
        return sorted(found, key=lambda c: (c["createdOn"], c["id"]))

    def case(self, actor: Principal, case_id: str, month_year: str) -> dict[str, Any]:
        if not re.fullmatch(r"(0[1-9]|1[0-2])\d{4}", month_year):
            raise Invalid("InvalidMonthYear", "monthYearCreated is MMYYYY, e.g. 122018")
        caller = self.desk.caller(actor)
        case = self.rt.state.get(CASE, case_id)
        if case is None or case["monthYearCreated"] != month_year or not self._case_visible(caller, case, False):
            raise NotFound("CaseNotFound", f"case {case_id} of {month_year} was not found")
        return case

    # ------------------------------------------------------------------ history
    def _voice_history(self, account_id: str) -> list[dict[str, Any]]:
        """Calls that went through a Voice queue, from their queue records."""
        config = self.center.config
        out = []
        for record in self.rt.state.all("queue_call"):
            if record["accountId"] != account_id or record.get("mediaType"):
                continue
            queue = config.queue_of_group(account_id, record["groupId"])
            if queue is None:
                continue
            employee = config.employee_of_user(account_id, record.get("agentUserId"))
            agent = (employee or {}).get("agents", {}).get("Voice")
            state = {"answered": "Handled", "abandoned": "Abandoned"}.get(record["outcome"], "Ended")
            out.append({"conversationId": record["callId"], "accountId": account_id, "mediaType": "Voice",
                        "conversationState": state, "mediaFolder": state, "direction": "Inbound",
                        "queueId": queue["id"], "queueName": queue["name"], "queueReporting": queue["reporting"],
                        "employeeId": employee["id"] if employee and agent else None,
                        "agentId": agent["id"] if agent else None, "agentReporting": agent["reporting"] if agent
                        else None, "agentFirstName": employee["firstName"] if employee and agent else None,
                        "agentLastName": employee["lastName"] if employee and agent else None,
                        "timeOfferedToSystem": record["queuedOn"], "timeOfferedToQueue": record["queuedOn"],
                        "endedOn": record["leftOn"], "modifiedOn": record["leftOn"], "positionInQueue": 0,
                        "monthYearCreated": f"{record['queuedOn'][5:7]}{record['queuedOn'][0:4]}"})
        return out

    def history(self, actor: Principal, search: str | None, global_: bool = False) -> list[dict[str, Any]]:
        """Indexed interactions, active or ended, of every media, matching ``search`` (``$search``: terms
        separated by ``;``, each ``field:value``, ``_exists_:field`` or a word found in any text field)."""
        caller = self.desk.caller(actor)
        scope_all = self._scope(caller, global_)
        docs = self.media.history(caller.account_id) + self._voice_history(caller.account_id)
        if not scope_all:
            docs = self._visible(caller, docs)
        terms = [t.strip() for t in (search or "").split(";") if t.strip()]
        return [d for d in sorted(docs, key=lambda d: (d.get("timeOfferedToSystem") or "", d["conversationId"]))
                if all(_matches(d, term) for term in terms)]


def _matches(doc: dict[str, Any], term: str) -> bool:
    name, colon, value = term.partition(":")
    if colon and name.strip().lower() == "_exists_":
        key = SEARCH_FIELDS.get(value.strip().lower(), value.strip())
        return doc.get(key) not in (None, "", [])
    if colon and name.strip().lower() in SEARCH_FIELDS:
        wanted = value.strip().strip("'\"").lower()
        return str(doc.get(SEARCH_FIELDS[name.strip().lower()]) or "").lower() == wanted
    word = term.strip("'\"").lower()
    return any(word in str(doc.get(k) or "").lower() for k in ("subject", "fromAddress", "fromName", "toAddress",
                                                                "queueName", "conversationId", "caseId"))
