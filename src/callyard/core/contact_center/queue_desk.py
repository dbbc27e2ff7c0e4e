"""The Desk's queues: who may see them, their real-time numbers ("Queue Now"), the conversations waiting in
them and what an employee does with one (Pick), deleting a queue.
"""
from __future__ import annotations

from typing import Any

from callyard.core.contact_center import config as cfg
from callyard.core.contact_center.desk_access import DeskBase
from callyard.core.errors import Conflict, Forbidden, Invalid, NotFound
from callyard.core.principal import Principal


class QueueDesk(DeskBase):
    # ================================================================== queues
    def queues(self, actor: Principal) -> list[dict[str, Any]]:
        return self._visible_queues(self.caller(actor))

    def queue(self, actor: Principal, ref: str) -> dict[str, Any]:
        return self._queue(self.caller(actor), ref)

    def queue_state(self, actor: Principal, ref: str) -> dict[str, Any]:
        return self.center.queue_state_view(self.queue(actor, ref))

    def queue_states(self, actor: Principal) -> list[dict[str, Any]]:
        return [self.center.queue_state_view(q) for q in self.queues(actor)]

    def queue_members(self, actor: Principal, ref: str) -> list[dict[str, Any]]:
        """The member queues of a queue group (a plain queue has none)."""
        queue = self.queue(actor, ref)
        return [self.config.queue(queue["accountId"], m) for m in queue.get("members", [])]

    def queue_group_states(self, actor: Principal) -> list[dict[str, Any]]:
        """Queue groups (queues with member queues): none unless the tenant configures them."""
        return [self.center.queue_state_view(q) for q in self.queues(actor) if q.get("members")]

    def queue_group_state(self, actor: Principal, ref: str) -> dict[str, Any]:
        queue = self.queue(actor, ref)
        if not queue.get("members"):
            raise NotFound("QueueGroupNotFound", f"{queue['name']} is a queue, not a queue group")
        return self.center.queue_state_view(queue)

    async def delete_queue(self, actor: Principal, ref: str) -> None:
        """Remove a queue from the contact center (a Voice queue's ACD group stays in the PBX)."""
        caller = self.caller(actor)
        if not caller.supervisor:
            raise Forbidden("InsufficientPermissions", "deleting a queue needs the supervisor role")
        async with self.engine.transaction() as tx:
            queue = self.config.queue(caller.account_id, ref)
            if queue.get("groupId") and self.center.queues.waiting(queue["accountId"], queue["groupId"]):
                raise Conflict("QueueNotEmpty", f"queue {queue['name']} has conversations waiting")
            tx.uow.delete(cfg.QUEUE, queue["id"])
            tx.uow.emit("cc.queue.deleted", queue["accountId"], f"/queues/{queue['id']}", queue, self.rt.now_iso())

    def queue_conversations(self, actor: Principal, ref: str) -> list[dict[str, Any]]:
        queue = self.queue(actor, ref)
        out = []
        if queue.get("groupId"):
            out = [self.center.interactions.voice(e.call)
                   for e in self.center.queues.waiting(queue["accountId"], queue["groupId"])]
        out += [self.center.media.view(d) for d in self.center.media.waiting(queue)]
        return out

    def queue_conversation(self, actor: Principal, ref: str, conversation_id: str) -> dict[str, Any]:
        found = [c for c in self.queue_conversations(actor, ref) if c["conversationId"] == conversation_id]
        if not found:
            raise NotFound("ConversationNotFound", f"conversation {conversation_id} is not waiting in queue {ref}")
        return found[0]

    async def queue_action(self, actor: Principal, ref: str, conversation_id: str, update: dict[str, Any]) -> None:
        """Act on a waiting conversation: ``Pick`` offers it to the caller now."""
        caller = self.caller(actor)
        self.queue_conversation(actor, ref, conversation_id)
        action = update.get("action")
        if self.center.media.find(conversation_id) is not None:
            if caller.third_party:
                raise Forbidden("ThirdPartyDenied", "a client may not act on a queue; impersonate an employee")
            employee = self._employee(caller, "me") if action == "Pick" else caller.employee
            await self.center.media.queue_act(employee, self.queue(actor, ref), conversation_id, str(action))
            return
        if action != "Pick":
            raise Invalid("UnsupportedAction", f"{action} is not supported for a Voice conversation in a queue; "
                                               "use Pick")
        employee = self._employee(caller, "me")
        phone = self.states.phone(employee)
        if phone is None or "Voice" not in employee["agents"]:
            raise Conflict("NoVoiceAgent", "the employee has no Voice agent to take the conversation")
        await self.center.pick(phone, conversation_id)
