"""Random sequences of non-voice contact-center actions never break the interaction state machine (hypothesis
RuleBasedStateMachine over the Desk and the Multimedia routing core, on the demo tenant and the manual clock).

Customers start chats, SMS and open-media items; carol (the Chat, Sms and OpenMedia agent) logs in, goes busy,
comes back, logs out; she accepts, declines, holds, ends, junks, transfers, picks from the queue; a third party
completes items; the clock moves (the 60 s offer timeout, the 5 s work timer). After every step:

* every interaction is in one state of the machine; an active one at an agent names the employee and agent,
  one in the queue names its queue and waits there; an ended one waits nowhere;
* an offered interaction's agent is logged in and ready; no agent holds more than their workload per media;
* distribution is work-conserving: no interaction waits in a queue while an agent of it is free;
* every queue's numbers add up: offered today = answered + abandoned + other exits + waiting;
* the last announced presence (``cc_state``) is the presence now: every change was announced;
* a rejected action (a typed core error) changed no document.
"""
from __future__ import annotations

import asyncio
import copy
import os
from typing import Any

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from callyard.core.clock import ManualClock
from callyard.core.contact_center.announcements import signature
from callyard.core.contact_center.media import ACTIVE, AT_AGENT
from callyard.core.errors import CoreError
from callyard.core.ids import Ids
from callyard.core.service import Core
from callyard.store.database import MemoryStore

ACME = "ac3e0000-0000-4000-8000-00000000ac3e"
CAROL = "ac3e0000-0000-4000-8000-0000cc00e003"
QUEUES = {"Chat": "Web Chat", "Sms": "SMS", "OpenMedia": "Open Media"}
STATES = [{"state": "Available", "availableReason": "Login"}, {"state": "Available"},
          {"state": "Busy", "reason": "Lunch"}, {"state": "Offline"},
          {"state": "Available", "availableReason": "ClearWorkTimer"}]
ACTIONS = ["Accept", "Decline", "Hold", "RemoveHold", "End", "Junk", "NoReply", "Transfer"]
STATE_NAMES = {"InQueue", "Offered", "Acd", "Held", "Handled", "Abandoned", "Failed"}


class MediaMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.core = Core(MemoryStore(), ManualClock(), Ids(5))
        self.run(self.core.start())
        for queue in self.core.rt.state.all("cc_queue"):
            if queue["mediaType"] == "Sms":
                queue["wrapUpSeconds"] = 5
        self.media = self.core.contact_center.media
        self.desk = self.core.contact_center.desk
        issued = self.core.auth.password_grant("carol@acme.example", "callyard", None)
        self.carol = self.core.auth.principal(issued.access_token)
        self.ids: list[str] = []

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.core.stop())
        self.loop.close()

    def attempt(self, coro: Any) -> Any:
        before = copy.deepcopy(self.core.rt.state.docs)
        try:
            return self.run(coro)
        except CoreError:
            assert self.core.rt.state.docs == before, "a rejected action changed the state"
            return None

    @rule(media=st.sampled_from(sorted(QUEUES)), customer=st.integers(0, 3))
    def customer_writes(self, media: str, customer: int) -> None:
        created = self.attempt(self.media.create(ACME, media, QUEUES[media],
                                                 customer={"phone": f"+1613555010{customer}"}))
        if created is not None:
            self.ids.append(created["conversationId"])

    @rule(change=st.sampled_from(STATES))
    def carol_state(self, change: dict[str, Any]) -> None:
        self.attempt(self.desk.set_employee_state(self.carol, "me", change))

    @rule(pick=st.integers(0, 50), action=st.sampled_from(ACTIONS))
    def carol_acts(self, pick: int, action: str) -> None:
        if not self.ids:
            return
        cid = self.ids[pick % len(self.ids)]
        doc = self.media.find(cid) or {}
        update: dict[str, Any] = {"action": action}
        if action == "Transfer":
            update.update(transferDestinationType="Queue", transferDestination=QUEUES.get(doc.get("mediaType", ""),
                                                                                            "SMS"))
        self.attempt(self.desk.conversation_action(self.carol, "me", cid, update))

    @rule(pick=st.integers(0, 50), action=st.sampled_from(["Pick", "Junk", "NoReply"]))
    def queue_side(self, pick: int, action: str) -> None:
        if not self.ids:
            return
        cid = self.ids[pick % len(self.ids)]
        doc = self.media.find(cid) or {}
        queue = doc.get("queueId") or "Web Chat"
        self.attempt(self.desk.queue_action(self.carol, queue, cid, {"action": action}))

    @rule(pick=st.integers(0, 50))
    def third_party_completes(self, pick: int) -> None:
        if self.ids:
            self.attempt(self.media.complete(ACME, self.ids[pick % len(self.ids)]))

    @rule(seconds=st.sampled_from([1, 6, 61]))
    def time_passes(self, seconds: int) -> None:
        self.run(self.core.scheduler.advance(seconds))

    # ------------------------------------------------------------------ invariants
    @invariant()
    def interactions_are_consistent(self) -> None:
        state = self.core.rt.state
        employee = state.get("cc_employee", CAROL)
        assert employee is not None
        for doc in state.all("cc_interaction"):
            assert doc["conversationState"] in STATE_NAMES
            if doc["conversationState"] in AT_AGENT:
                assert doc["employeeId"] == CAROL and doc["agentId"] == employee["agents"][doc["mediaType"]]["id"]
            if doc["conversationState"] == "InQueue":
                assert doc["waiting"] and doc["queueId"] and doc["employeeId"] is None
            if doc["conversationState"] not in ACTIVE:
                assert not doc["waiting"]
            if doc["conversationState"] == "Offered":
                agent = self.core.contact_center.agents.agent(ACME, employee["userId"], doc["mediaType"])
                assert agent["loggedIn"] and agent["ready"], "offered to an agent who may not take it"
        for media in QUEUES:
            assert len(self.media.of_employee(employee, media)) <= 1

    @invariant()
    def distribution_is_work_conserving(self) -> None:
        for queue in self.core.rt.state.all("cc_queue"):
            if queue["mediaType"] in QUEUES:
                waiting = [d for d in self.media.waiting(queue) if d["conversationState"] == "InQueue"]
                assert not waiting or self.media.free_agents(queue) == 0, f"{queue['name']}: waits with an agent free"

    @invariant()
    def queue_numbers_add_up(self) -> None:
        for queue in self.core.rt.state.all("cc_queue"):
            if queue["mediaType"] not in QUEUES:
                continue
            view = self.core.contact_center.queue_state_view(queue)
            records = [r for r in self.core.rt.state.all("queue_call") if r["groupId"] == queue["id"]]
            assert view["waiting"] == len(self.media.waiting(queue))
            assert view["offeredToday"] == len(records) + view["waiting"]
            assert view["answeredToday"] + view["abandonedToday"] <= len(records)

    @invariant()
    def every_presence_change_was_announced(self) -> None:
        employee = self.core.rt.state.get("cc_employee", CAROL)
        assert employee is not None
        announced = self.core.rt.state.get("cc_state", CAROL)
        current = signature(self.core.contact_center.states.presence(employee))
        assert (announced["signature"] if announced else current) == current


MediaMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("CALLYARD_STATEFUL_EXAMPLES", "15")), stateful_step_count=20, deadline=None,
    suppress_health_check=[HealthCheck.too_slow], derandomize=True)
TestMediaStateMachine = MediaMachine.TestCase
