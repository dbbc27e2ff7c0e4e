"""Random sequences of contact-center actions never break the agent and offer invariants (hypothesis
RuleBasedStateMachine over the Desk, on the demo tenant and the manual clock).

Employees alice and dave (Voice agents of Support 5000) log in, go busy or DND with reason codes, come back,
leave and rejoin their agent group, log out; outside callers dial 5000 and hang up; agents accept, decline,
hold, end; the clock moves (ring-no-answer after 15 s, wrap-up). After every step:

* an ACD offer rings at most one agent per call, and an agent has at most one ACD offer or conversation;
* an agent offered a call was logged in and present in the queue when it was offered (never Offline);
* a logged-out employee is Offline on every media and in the aggregate;
* the queue's waiting count is the calls waiting; offered today = answered + abandoned + other exits + waiting;
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
from callyard.core.errors import CoreError
from callyard.core.ids import Ids
from callyard.core.principal import SYSTEM, Principal
from callyard.core.service import Core
from callyard.store.database import MemoryStore

ACME = "ac3e0000-0000-4000-8000-00000000ac3e"
SUPPORT = "ac3e0000-0000-4000-8000-00000000500a"
SUPPORT_AGENTS = "ac3e0000-0000-4000-8000-0000cc00b500"
USERS = {"alice": "alice@acme.example", "dave": "dave@acme.example"}
CALLERS = ["+16135550101", "+16135550102", "+16135550103"]
STATES = [{"state": "Available", "availableReason": "Login"}, {"state": "Available"},
          {"state": "Busy", "reason": "Lunch"}, {"state": "Busy"}, {"state": "DoNotDisturb", "reason": "Focus"},
          {"state": "Away"}, {"state": "Offline"}, {"state": "Available", "availableReason": "ClearWorkTimer"}]
ACTIONS = ["Accept", "Decline", "Hold", "RemoveHold", "End", "NoReply"]


class AgentMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.core = Core(MemoryStore(), ManualClock(), Ids(3))
        self.run(self.core.start())
        self.core.rt.state.get("group", SUPPORT)["acd"]["wrapUpSeconds"] = 5  # type: ignore[index]
        self.desk = self.core.contact_center.desk
        self.people: dict[str, Principal] = {}
        for name, login in USERS.items():
            issued = self.core.auth.password_grant(login, "callyard", None)
            self.people[name] = self.core.auth.principal(issued.access_token)

    def run(self, coro: Any) -> Any:
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.core.stop())
        self.loop.close()

    def attempt(self, coro: Any) -> None:
        before = copy.deepcopy(self.core.rt.state.docs)
        try:
            self.run(coro)
        except CoreError:
            assert self.core.rt.state.docs == before, "a rejected action changed the state"

    @rule(who=st.sampled_from(sorted(USERS)), change=st.sampled_from(STATES))
    def set_state(self, who: str, change: dict[str, Any]) -> None:
        self.attempt(self.desk.set_employee_state(self.people[who], "me", change))

    @rule(who=st.sampled_from(sorted(USERS)), present=st.booleans())
    def group_presence(self, who: str, present: bool) -> None:
        status = "Present" if present else "NotPresent"
        self.attempt(self.desk.set_agent_group_presence(
            self.people[who], "me", [{"id": SUPPORT_AGENTS, "statuses": [{"type": "Voice", "status": status}]}]))

    @rule(caller=st.sampled_from(CALLERS))
    def dial_support(self, caller: str) -> None:
        self.attempt(self.core.engine.inbound(SYSTEM, caller, "5000", account_ref=ACME))

    @rule(caller=st.sampled_from(CALLERS))
    def caller_hangs_up(self, caller: str) -> None:
        endpoint = self.core.engine.endpoint(ACME, caller)
        live = [leg for leg in (endpoint.legs if endpoint else []) if leg.state != "completed"]
        if live:
            self.attempt(self.core.engine.end(SYSTEM, caller, live[0].leg_id, sim=True, account_ref=ACME))

    @rule(who=st.sampled_from(sorted(USERS)), action=st.sampled_from(ACTIONS))
    def act(self, who: str, action: str) -> None:
        inbox = self.desk.employee_conversations(self.people[who], "me")
        if inbox:
            self.attempt(self.desk.conversation_action(self.people[who], "me", inbox[0]["conversationId"],
                                                       {"action": action}))

    @rule(seconds=st.sampled_from([1, 6, 16]))
    def time_passes(self, seconds: int) -> None:
        self.run(self.core.scheduler.advance(seconds))

    # ------------------------------------------------------------------ invariants
    def _offers(self) -> list[Any]:
        return [leg for leg in self.core.engine.legs.values() if leg.queue_id == SUPPORT and leg.state != "completed"]

    @invariant()
    def one_offer_per_call_and_per_agent(self) -> None:
        offers = self._offers()
        ringing_calls = [leg.call.call_id for leg in offers if leg.state == "ringing" and leg.call]
        assert len(ringing_calls) == len(set(ringing_calls)), "a call rings two agents at once"
        agents = [leg.endpoint.number for leg in offers]
        assert len(agents) == len(set(agents)), "an agent has two ACD calls"

    @invariant()
    def offered_agents_are_logged_in(self) -> None:
        for leg in self._offers():
            if leg.state == "ringing":
                employee = self.core.contact_center.interactions.employee_at(ACME, leg.endpoint.number)
                assert employee is not None
                voice = self.core.contact_center.agents.agent(ACME, employee["userId"])
                assert voice["loggedIn"], f"{employee['username']} is offered a call while logged out"

    @invariant()
    def logged_out_is_offline(self) -> None:
        for name in USERS:
            view = self.desk.employee_state(self.people[name], "me")
            voice = self.core.contact_center.agents.agent(ACME, self.people[name].user_id or "")
            if not voice["loggedIn"]:
                assert view["presence"]["aggregate"]["state"] == "Offline"
                assert view["presence"]["voice"][0]["state"] == "Offline"
            else:
                assert view["presence"]["aggregate"]["state"] != "Offline"

    @invariant()
    def queue_numbers_add_up(self) -> None:
        group = self.core.rt.state.get("group", SUPPORT)
        assert group is not None
        stats = self.core.contact_center.stats_of(group)
        waiting = self.core.contact_center.queues.waiting(ACME, SUPPORT)
        assert stats["waiting"] == len(waiting)
        records = [r for r in self.core.rt.state.all("queue_call") if r["groupId"] == SUPPORT]
        assert stats["offeredToday"] == len(records) + len(waiting)
        assert stats["answeredToday"] + stats["abandonedToday"] <= len(records)

    @invariant()
    def every_change_was_announced(self) -> None:
        for employee in self.core.contact_center.config.employees(ACME):
            if not employee["agents"]:
                continue
            announced = self.core.rt.state.get("cc_state", employee["id"])
            now = signature(self.core.contact_center.states.presence(employee))
            if announced is None:
                assert now["aggregate"][0] == "Offline", "a change was never announced"
            else:
                assert announced["signature"] == now, f"{employee['username']}: the last change was not announced"


settings.register_profile("quick", max_examples=30, stateful_step_count=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
settings.register_profile("fuzz", max_examples=1500, stateful_step_count=80, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestAgentMachine = AgentMachine.TestCase
TestAgentMachine.settings = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))
