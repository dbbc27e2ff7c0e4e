"""The Desk's conversations: the active interactions a caller may see, an employee's inbox, the actions on a
conversation (a Voice call through the engine's verbs, the other media through their desks) and starting one.
"""
from __future__ import annotations

from typing import Any

from callyard.core.contact_center.desk_access import Caller
from callyard.core.contact_center.employee_desk import EmployeeDesk
from callyard.core.engine.model import EXTENSION, Leg
from callyard.core.errors import Conflict, Forbidden, Invalid, NotFound, NotImplementedRoute
from callyard.core.principal import Principal

TRANSFER_TYPES = ("Queue", "Employee", "External", "VoiceMail", "EndPoint")
VOICE_ACTIONS = ("Accept", "Decline", "NoReply", "Hold", "RemoveHold", "Transfer", "Pick", "End", "Dtmf",
                 "StartRecord", "StopRecord")


class ConversationDesk(EmployeeDesk):
    # ================================================================== conversations
    def conversations(self, actor: Principal) -> list[dict[str, Any]]:
        """Active interactions: waiting in the caller's queues, or handled by agents the caller may see."""
        caller = self.caller(actor)
        queues = {q["id"] for q in self._visible_queues(caller)}
        employees = {e["id"] for e in self.employees(actor)}
        out = []
        for call in self.engine.calls.values():
            if call.account_id != caller.account_id or not call.live_legs():
                continue
            view = self.center.interactions.voice(call)
            if view["queueId"] in queues or view["employeeId"] in employees:
                out.append(view)
                continue
            for leg in call.live_legs():  # a call of an employee outside any queue (NonAcd, Outbound)
                who = self.center.interactions.employee_at(call.account_id, leg.endpoint.number) \
                    if leg.endpoint.kind == EXTENSION else None
                if who is not None and who["id"] in employees:
                    out.append(self.center.interactions.voice(call, leg))
                    break
        out += [i for i in self.center.media.active(caller.account_id)
                if i.get("queueId") in queues or i.get("employeeId") in employees]
        return out

    def conversation(self, actor: Principal, conversation_id: str) -> dict[str, Any]:
        found = [c for c in self.conversations(actor) if c["conversationId"] == conversation_id]
        if not found:
            raise NotFound("ConversationNotFound", f"conversation {conversation_id} was not found")
        return found[0]

    async def add_call_details(self, actor: Principal, conversation_id: str,
                               variables: list[dict[str, Any]]) -> dict[str, Any]:
        """Key/value variables added to an active interaction's real-time details."""
        if not isinstance(variables, list) or not all(
                isinstance(v, dict) and isinstance(v.get("key"), str) and v["key"] for v in variables):
            raise Invalid("InvalidVariables", "variables is a list of {key, value}")
        self.conversation(actor, conversation_id)
        async with self.rt.write() as uow:
            doc = self.rt.state.get("cc_call_details", conversation_id) or {
                "id": conversation_id, "accountId": actor.account_id, "variables": {}}
            doc = {**doc, "variables": {**doc["variables"], **{v["key"]: v.get("value") for v in variables}}}
            uow.put("cc_call_details", conversation_id, doc)
            uow.emit("cc.conversation.details", actor.account_id, f"/conversations/{conversation_id}", doc,
                     self.rt.now_iso())
        return {"variables": [{"key": k, "value": v} for k, v in doc["variables"].items()]}

    def _inbox(self, employee: dict[str, Any]) -> list[tuple[Leg, dict[str, Any]]]:
        phone = self.states.phone(employee)
        if phone is None or "Voice" not in employee["agents"]:
            return []
        out = []
        for leg in phone.legs:
            if leg.state != "completed" and leg.call is not None:
                out.append((leg, self.center.interactions.voice(leg.call, leg)))
        return out

    def _inbox_employee(self, caller: Caller, ref: str) -> dict[str, Any]:
        employee = self._employee(caller, ref)
        if not caller.supervisor and employee["id"] != (caller.employee or {}).get("id"):
            raise Forbidden("InsufficientPermissions", "another employee's inbox needs the supervisor role")
        return employee

    def employee_conversations(self, actor: Principal, ref: str, folder: str = "active") -> list[dict[str, Any]]:
        """The employee's inbox: ``active`` (calls and the other media's interactions at them), ``failed``
        (failed interactions of the queues they answer, to reroute) or ``drafts`` (none here)."""
        caller = self.caller(actor)
        employee = self._inbox_employee(caller, ref)
        if folder == "failed":
            queues = {q["id"] for q in self.config.queues_of(employee)}
            return [d for d in self.center.media.history(employee["accountId"])
                    if d["conversationState"] == "Failed" and d.get("queueId") in queues]
        if folder == "drafts":
            return []
        return [view for _leg, view in self._inbox(employee)] + [
            self.center.media.view(d) for d in self.center.media.of_employee(employee)]

    def employee_conversation(self, actor: Principal, ref: str, conversation_id: str) -> dict[str, Any]:
        employee = self._inbox_employee(self.caller(actor), ref)
        found = [c for c in self.employee_conversations(actor, ref) if c["conversationId"] == conversation_id]
        if found:
            return found[0]
        return self._inbox_item(employee, conversation_id)[1]

    def _inbox_item(self, employee: dict[str, Any], conversation_id: str) -> tuple[Leg, dict[str, Any]]:
        found = [(leg, view) for leg, view in self._inbox(employee) if view["conversationId"] == conversation_id]
        if not found:
            raise NotFound("ConversationNotFound", f"conversation {conversation_id} is not in the employee's inbox")
        return found[0]

    def _desk_actor(self, employee: dict[str, Any]) -> Principal:
        """Who acts on the agent's phone: the contact center on the employee's behalf (the caller's right to
        act for the employee is checked before)."""
        return Principal(principal_id=f"contact-center:{employee['id']}", account_id=employee["accountId"],
                         role="ACCOUNT_ADMIN", kind="client", client_id="contact-center")

    async def conversation_action(self, actor: Principal, ref: str, conversation_id: str,
                                  update: dict[str, Any]) -> None:
        caller = self.caller(actor)
        employee = self._inbox_employee(caller, ref)
        if caller.third_party:
            raise Forbidden("ThirdPartyDenied", "a client may not act on an inbox; impersonate the employee")
        action = update.get("action")
        if action == "Transfer" and caller.supervisor:
            pass  # supervisors may transfer any conversation
        elif employee["id"] != (caller.employee or {}).get("id") and not (action == "Reroute" and caller.supervisor):
            raise Forbidden("InsufficientPermissions", "only the employee acts on their conversations")
        interaction = self.center.media.find(conversation_id)
        if interaction is not None and interaction["mediaType"] == "Email" and action != "Reroute":
            await self.center.mailroom.act(employee, conversation_id, update)   # drafts, replies, forwards
            return
        if interaction is not None or action == "Reroute":
            await self.center.media.act(employee, conversation_id, update)
            return
        leg, _view = self._inbox_item(employee, conversation_id)
        if action not in VOICE_ACTIONS or action == "Pick":
            raise Invalid("UnsupportedAction", f"{action} is not supported for a Voice conversation; supported: "
                                               f"{', '.join(a for a in VOICE_ACTIONS if a != 'Pick')}")
        desk, number, leg_id = self._desk_actor(employee), leg.endpoint.number, leg.leg_id
        engine = self.engine
        if action == "Accept":
            if leg.state != "ringing":
                raise Conflict("InvalidConversationState", "only an offered conversation can be accepted")
            await engine.answer(desk, number, leg_id)
        elif action in ("Decline", "NoReply"):
            if leg.state != "ringing":
                raise Conflict("InvalidConversationState", f"only an offered conversation can be {action}d")
            await engine.end(desk, number, leg_id)
        elif action == "End":
            await engine.end(desk, number, leg_id)
        elif action == "Hold":
            await engine.hold(desk, number, leg_id)
        elif action == "RemoveHold":
            await engine.retrieve(desk, number, leg_id)
        elif action == "Transfer":
            await engine.blind_transfer(desk, number, leg_id, self._destination(employee, update))
        elif action == "Dtmf":
            digits = update.get("dtmfDigit")
            if not isinstance(digits, str) or not digits:
                raise Invalid("InvalidDtmf", "dtmfDigit is required for Dtmf")
            await engine.send_dtmf(desk, number, leg_id, digits)
        elif action == "StartRecord":
            await engine.start_recording(desk, number, leg_id)
        elif action == "StopRecord":
            await engine.stop_recording(desk, number, leg_id)

    def _destination(self, employee: dict[str, Any], update: dict[str, Any]) -> str:
        target = update.get("transferDestination")
        kind = update.get("transferDestinationType") or "EndPoint"
        if not isinstance(target, str) or not target:
            raise Invalid("InvalidTransferDestination", "transferDestination is required for Transfer")
        if kind not in TRANSFER_TYPES:
            raise Invalid("InvalidTransferDestination",
                          f"transferDestinationType is one of {', '.join(TRANSFER_TYPES)}")
        account_id = employee["accountId"]
        if kind == "Queue":
            queue = self.config.queue(account_id, target)
            if queue["mediaType"] != "Voice":
                raise Invalid("InvalidTransferDestination", f"queue {queue['name']} is not a Voice queue")
            return str(queue["reporting"])
        if kind == "Employee":
            other = self.config.employee(account_id, target)
            phone = self.states.phone(other)
            if phone is None:
                raise Conflict("NoExtension", f"employee {target} has no extension")
            return phone.number
        if kind == "VoiceMail":
            return "voicemail"
        return target

    async def start_conversation(self, actor: Principal, ref: str, request: dict[str, Any]) -> str:
        """Dial (Voice): the employee's phone calls ``to``. Returns the new conversation's id."""
        caller = self.caller(actor)
        employee = self._employee(caller, ref)
        if caller.third_party:
            raise Forbidden("ThirdPartyDenied", "third party requests are denied; impersonate the employee")
        if employee["id"] != (caller.employee or {}).get("id"):
            raise Forbidden("InsufficientPermissions", "an employee starts conversations only for themselves")
        kind = request.get("type")
        if kind == "Sms":
            return await self._start_sms(employee, request)
        if kind == "Email":   # a new e-mail from one of the employee's Email queues, its NewDraft to write
            return await self.center.mailroom.start_new(employee, request)
        if kind in ("Chat", "OpenMedia"):
            raise Invalid("NotStartable", f"a {kind} conversation is started by the customer (a web chat) or "
                                          "its third-party system (POST /openmedia), not by an employee")
        if kind != "Voice":
            raise NotImplementedRoute("MediaNotAvailable", f"starting a {kind} conversation is not available yet; "
                                                           "Voice, Sms and Email are")
        to = request.get("to")
        if not isinstance(to, str) or not to.strip():
            raise Invalid("InvalidTo", "to is the number to call")
        phone = self.states.phone(employee)
        if phone is None or "Voice" not in employee["agents"]:
            raise Conflict("NoVoiceAgent", "the employee has no extension to call from")
        source = request.get("from")
        if source not in (None, "", phone.number):
            raise Invalid("InvalidFrom", f"from must be the employee's device ({phone.number})")
        snapshot = await self.engine.originate(self._desk_actor(employee), phone.number, to.strip())
        return str(snapshot["callId"])

    async def _start_sms(self, employee: dict[str, Any], request: dict[str, Any]) -> str:
        """An SMS conversation the employee starts with ``to``, from one of their Sms queues (``from``: its id,
        name, reporting or phone number; default their only one): accepted at once, it waits for their text
        (ConversationAction Send)."""
        to = request.get("to")
        if not isinstance(to, str) or not to.strip().lstrip("+").isdigit():
            raise Invalid("InvalidTo", "to is the customer's phone number")
        queues = [q for q in self.config.queues_of(employee) if q["mediaType"] == "Sms"]
        source = request.get("from")
        if source not in (None, ""):
            wanted = str(source).strip().lower()
            queues = [q for q in queues if wanted in (q["id"], q["name"].lower(), q["reporting"],
                                                       str(q.get("phoneNumber") or "").lower())]
        if len(queues) != 1:
            raise Invalid("InvalidFrom", "from names one of the employee's Sms queues")
        doc = await self.center.media.start_outbound(employee, "Sms", queues[0], to.strip(),
                                                     subject=request.get("subject"))
        return str(doc["conversationId"])
