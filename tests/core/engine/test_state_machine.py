"""Random sequences of PBX actions never break the engine's invariants (hypothesis RuleBasedStateMachine).

The machine drives the core engine directly (no HTTP): outside callers dial extensions, groups and DIDs;
phones answer, hang up, hold, retrieve, redirect, transfer, consult, conference; agents log in and out;
the virtual clock moves so ring-no-answer, voicemail and ACD timers fire. After every step:

* every live leg is in exactly one call, in its endpoint's list and in the engine's index;
* no call holds two live legs of the same endpoint (no device talks to itself);
* every call the engine keeps has a live leg; every finished leg's record has an endTime;
* no agent has two ACD calls;
* a rejected action (a typed core error) changed nothing;
* a line state (an outside system's busy mark) ends when it expires;
* every call a user placed is in their communication log exactly once (the projection of the call records).
"""
from __future__ import annotations

import asyncio
import os
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule

from callyard.core.clock import ManualClock, iso
from callyard.core.errors import CoreError
from callyard.core.ids import Ids
from callyard.core.principal import SYSTEM
from callyard.core.service import Core
from callyard.store.database import MemoryStore

ACME = "ac3e0000-0000-4000-8000-00000000ac3e"
ALICE = "ac3e0000-0000-4000-8000-000000002880"
DAVE = "ac3e0000-0000-4000-8000-000000000200"
EXTENSIONS = ["2880", "2881", "2882", "200"]
DESTINATIONS = EXTENSIONS + ["5000", "5100", "6000", "+16135550128", "+16135550777"]
CALLERS = ["+16135550101", "+16135550102", "+16135550103"]
ACTIONS = ["answer", "end", "hold", "retrieve", "redirect", "blindTransfer", "consult", "supervisedTransfer",
           "conference", "dtmf", "startRecording", "pauseRecording", "resumeRecording", "park",
           # the verbs the UC family added
           "mute", "unmute", "move", "alternate", "leave", "dropParticipant", "saveRecording", "discardRecording",
           "transferOnAnswer", "keepConference", "connectWhenAnswered"]
ROUTES = ["basic", "bypass", "voicemail", "camp_on", "intercom"]
LINES = [("OFFICE_FIXED", 0), ("OFFICE_MOBILE", 0), ("ANONYMOUS", 0), ("ACD", 5000), ("ACD_LIGHT", 5100)]
INTRUSIONS = ["INTRUSION", "BARGE", "WHISPER", "MONITOR"]


def _fingerprint(engine) -> object:
    legs = sorted((key, leg.state, leg.cause, leg.call.call_id if leg.call else None, leg.from_number,
                   leg.to_number, leg.muted, leg.terminal, leg.intrusion) for key, leg in engine.legs.items())
    calls = sorted((cid, tuple(sorted(leg.leg_id for leg in c.legs)), c.queue_id) for cid, c in engine.calls.items())
    return legs, calls


class PbxMachine(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.loop = asyncio.new_event_loop()
        self.core = Core(MemoryStore(), ManualClock(), Ids(7))
        self.run(self.core.start())
        self.engine = self.core.engine
        self.tokens: dict[tuple[str, str], int] = {}

    def run(self, coro):
        return self.loop.run_until_complete(coro)

    def teardown(self) -> None:
        self.run(self.core.stop())
        self.loop.close()

    def attempt(self, coro) -> None:
        before = _fingerprint(self.engine)
        try:
            self.run(coro)
        except CoreError:
            assert _fingerprint(self.engine) == before, "a rejected action changed the engine"

    def live_leg(self, data, internal_only: bool = True):
        legs = [leg for leg in self.engine.legs.values() if not internal_only or leg.endpoint.kind == "extension"]
        if not legs:
            return None
        legs.sort(key=lambda leg: (leg.endpoint.number, leg.leg_id))
        return data.draw(st.sampled_from(legs))

    @rule(caller=st.sampled_from(CALLERS), to=st.sampled_from(DESTINATIONS))
    def outside_call(self, caller: str, to: str) -> None:
        self.attempt(self.engine.inbound(SYSTEM, caller, to, account_ref=ACME))

    @rule(source=st.sampled_from(EXTENSIONS), to=st.sampled_from(DESTINATIONS))
    def make_call(self, source: str, to: str) -> None:
        self.attempt(self.engine.originate(SYSTEM.__class__(
            principal_id="app", account_id=ACME, role="ACCOUNT_ADMIN", kind="client"), source, to))

    def verb(self, action: str, leg, args):
        """The engine's named verb for ``action`` on ``leg`` (as the simulator: any endpoint of Acme)."""
        engine, number, leg_id, where = self.engine, leg.endpoint.number, leg.leg_id, {"sim": True, "account_ref": ACME}
        verbs = {
            "answer": lambda: engine.answer(SYSTEM, number, leg_id, **where),
            "end": lambda: engine.end(SYSTEM, number, leg_id, **where),
            "hold": lambda: engine.hold(SYSTEM, number, leg_id, **where),
            "retrieve": lambda: engine.retrieve(SYSTEM, number, leg_id, **where),
            "redirect": lambda: engine.redirect(SYSTEM, number, leg_id, args, **where),
            "blindTransfer": lambda: engine.blind_transfer(SYSTEM, number, leg_id, args, **where),
            "consult": lambda: engine.consult(SYSTEM, number, leg_id, args, **where),
            "supervisedTransfer": lambda: engine.supervised_transfer(SYSTEM, number, leg_id, args, **where),
            "conference": lambda: engine.conference(SYSTEM, number, leg_id, args, **where),
            "dtmf": lambda: engine.send_dtmf(SYSTEM, number, leg_id, args, **where),
            "startRecording": lambda: engine.start_recording(SYSTEM, number, leg_id, **where),
            "pauseRecording": lambda: engine.pause_recording(SYSTEM, number, leg_id, **where),
            "resumeRecording": lambda: engine.resume_recording(SYSTEM, number, leg_id, **where),
            "park": lambda: engine.park(SYSTEM, number, leg_id, args, **where),
            "mute": lambda: engine.mute(SYSTEM, number, leg_id, True),
            "unmute": lambda: engine.mute(SYSTEM, number, leg_id, False),
            "move": lambda: engine.move(SYSTEM, number, leg_id, args),
            "alternate": lambda: engine.alternate(SYSTEM, number, leg_id, args),
            "leave": lambda: engine.leave(SYSTEM, number, leg_id),
            "dropParticipant": lambda: engine.drop_participant(SYSTEM, number, leg_id, args),
            "saveRecording": lambda: engine.save_recording(SYSTEM, number, leg_id),
            "discardRecording": lambda: engine.discard_recording(SYSTEM, number, leg_id),
            "transferOnAnswer": lambda: engine.consult(SYSTEM, number, leg_id, args, transfer_on_answer=True,
                                                       **where),
            "keepConference": lambda: engine.conference(SYSTEM, number, leg_id, args, keep_acted=True, **where),
            "connectWhenAnswered": lambda: engine.connect_when_answered(SYSTEM, number, leg_id, args),
        }
        return verbs[action]()

    @rule(data=st.data(), action=st.sampled_from(ACTIONS), destination=st.sampled_from(DESTINATIONS))
    def act(self, data, action: str, destination: str) -> None:
        leg = self.live_leg(data)
        if leg is None:
            return
        args = None
        if action in ("redirect", "blindTransfer", "consult", "transferOnAnswer"):
            args = destination
        elif action in ("supervisedTransfer", "conference", "alternate", "keepConference", "connectWhenAnswered"):
            others = [o for o in leg.endpoint.legs if o is not leg]
            args = data.draw(st.sampled_from(others)).leg_id if others else None
            if args is None and action == "alternate":
                args = "00000000"
        elif action == "move":
            terminals = [t["deviceId"] for t in leg.endpoint.terminals] + ["nowhere"]
            args = data.draw(st.sampled_from(terminals))
        elif action == "dropParticipant":
            others = [o.leg_id for o in (leg.call.live_legs() if leg.call else []) if o is not leg]
            args = data.draw(st.sampled_from(others)) if others else "00000000"
        elif action == "dtmf":
            args = "12#"
        was_held = leg.state == "held"
        self.attempt(self.verb(action, leg, args))
        if action == "retrieve" and was_held and leg.state != "completed":
            assert leg.state == "connected", "a held call resumes on retrieve"

    @rule(source=st.sampled_from(EXTENSIONS), to=st.sampled_from(DESTINATIONS), route=st.sampled_from(ROUTES))
    def make_call_with_route(self, source: str, to: str, route: str) -> None:
        self.attempt(self.engine.originate(SYSTEM.__class__(
            principal_id="app", account_id=ACME, role="ACCOUNT_ADMIN", kind="client"), source, to, route=route))

    @rule(source=st.sampled_from(EXTENSIONS), victim=st.sampled_from(EXTENSIONS), mode=st.sampled_from(INTRUSIONS))
    def intrude(self, source: str, victim: str, mode: str) -> None:
        self.attempt(self.engine.intrude(SYSTEM.__class__(
            principal_id="app", account_id=ACME, role="ACCOUNT_ADMIN", kind="client"), source, victim, mode))

    @rule(data=st.data(), picker=st.sampled_from(EXTENSIONS))
    def pickup(self, data, picker: str) -> None:
        leg = self.live_leg(data, internal_only=False)
        if leg is not None:
            self.attempt(self.engine.pickup(SYSTEM.__class__(
                principal_id="app", account_id=ACME, role="ACCOUNT_ADMIN", kind="client"), picker, leg.leg_id))

    @rule(data=st.data())
    def stale_state_token_is_refused(self, data) -> None:
        leg = self.live_leg(data)
        if leg is None:
            return
        from callyard.core.engine.calls import state_token

        before = _fingerprint(self.engine)
        try:
            self.run(self.engine.hold(SYSTEM, leg.endpoint.number, leg.leg_id, sim=True, account_ref=ACME,
                                      expect={leg.leg_id: state_token(leg) - 1}))
        except CoreError as exc:
            assert exc.name in ("StateTokenMismatch", "EndpointNotFound"), exc.name
        else:
            raise AssertionError("a stale state token was accepted")
        assert _fingerprint(self.engine) == before

    @rule(data=st.data())
    def outside_party_hangs_up(self, data) -> None:
        leg = self.live_leg(data, internal_only=False)
        if leg is not None and leg.endpoint.kind == "external":
            self.attempt(self.engine.end(SYSTEM, leg.endpoint.number, leg.leg_id, sim=True, account_ref=ACME))

    @rule(user=st.sampled_from([ALICE, DAVE]), logged_in=st.booleans(), ready=st.booleans())
    def agent_state(self, user: str, logged_in: bool, ready: bool) -> None:
        self.attempt(self.core.contact_center.set_agent(SYSTEM, user, logged_in=logged_in,
                                                       ready=ready if logged_in else None, account_ref=ACME))

    # ------------------------------------------------------------------ the UC user's lines and line states
    @rule(number=st.sampled_from(EXTENSIONS), seconds=st.sampled_from([10, 30, 200]), remove=st.booleans())
    def line_state(self, number: str, seconds: int, remove: bool) -> None:
        """An outside system marks the user busy for a while (or removes its mark)."""
        user_id = self.engine.endpoint(ACME, number).user_id
        if remove:
            self.attempt(self.core.devices.delete_line_state(SYSTEM, ACME, user_id, "crm"))
        else:
            until = iso(self.core.rt.clock.now() + timedelta(seconds=seconds))
            self.attempt(self.core.devices.put_line_state(SYSTEM, ACME, user_id, "crm", until))

    @rule(number=st.sampled_from(EXTENSIONS), line=st.sampled_from(LINES))
    def active_line(self, number: str, line: tuple[str, int]) -> None:
        """The user's caller id: their number, mobile, anonymous or a group's (refused when not theirs)."""
        user_id = self.engine.endpoint(ACME, number).user_id
        self.attempt(self.core.devices.set_active_line(SYSTEM, ACME, user_id, *line))

    @rule(seconds=st.sampled_from([1, 5, 16, 60, 130]))
    def time_passes(self, seconds: int) -> None:
        self.run(self.core.scheduler.advance(seconds))

    # ------------------------------------------------------------------ invariants
    @invariant()
    def legs_belong_to_one_call(self) -> None:
        membership: dict[int, int] = {}
        for call in self.engine.calls.values():
            assert call.live_legs(), f"call {call.call_id} is kept with no live leg"
            for leg in call.legs:
                membership[id(leg)] = membership.get(id(leg), 0) + 1
                assert leg.call is call
                assert leg.state != "completed"
        for (_account, leg_id), leg in self.engine.legs.items():
            assert membership.get(id(leg)) == 1, f"leg {leg_id} is in {membership.get(id(leg), 0)} calls"
            assert leg in leg.endpoint.legs
            assert leg.call is not None and leg.call.call_id in self.engine.calls

    @invariant()
    def no_device_talks_to_itself(self) -> None:
        for call in self.engine.calls.values():
            numbers = [leg.endpoint.number for leg in call.live_legs()]
            assert len(numbers) == len(set(numbers)), f"call {call.call_id} has {numbers}"

    @invariant()
    def finished_legs_have_end_time(self) -> None:
        for record in self.core.rt.state.all("call_record"):
            assert record["endTime"], record
            assert record["state"] == "completed"

    @invariant()
    def state_tokens_only_grow(self) -> None:
        from callyard.core.engine.calls import state_token

        for key, leg in self.engine.legs.items():
            token = state_token(leg)
            assert token >= self.tokens.get(key, 0), f"leg {key} went back from {self.tokens[key]} to {token}"
            self.tokens[key] = token

    @invariant()
    def event_snapshots_are_snapshots_as_json(self) -> None:
        from callyard.core.engine.calls import jsonable

        table = self.engine.call_table
        for leg in self.engine.legs.values():
            assert table.event_snapshot(leg) == jsonable(table.snapshot(leg))

    @invariant()
    def monitors_are_muted_and_intruders_talk(self) -> None:
        for leg in self.engine.legs.values():
            if leg.intrusion is not None:
                assert leg.direction == "outbound" and leg.state in ("connected", "held")

    @invariant()
    def line_states_end_when_they_expire(self) -> None:
        now = self.core.rt.clock.now()
        for endpoint in self.engine.endpoints.values():
            for state in endpoint.line_states.values():
                assert state.expires_on > now, f"{endpoint.number}'s line state outlived its expiry"

    @invariant()
    def every_call_a_user_placed_is_in_their_log_once(self) -> None:
        outgoing: dict[str, int] = {}
        for item in self.core.rt.state.all("commlog_item"):
            if item["itemType"] == "OUTGOING_CALL":
                outgoing[item["legId"]] = outgoing.get(item["legId"], 0) + 1
        for record in self.core.rt.state.all("call_record"):
            if record["direction"] == "outbound" and self.core.rt.state.get("user", record["principalId"] or ""):
                logged = outgoing.get(record["legId"], 0)
                assert logged == 1, f"leg {record['legId']} is logged {logged} times"

    @invariant()
    def one_acd_call_per_agent(self) -> None:
        for endpoint in self.engine.endpoints.values():
            acd_legs = [leg for leg in endpoint.legs if leg.queue_id]
            assert len(acd_legs) <= 1, f"agent {endpoint.number} has {len(acd_legs)} ACD calls"


# `make test` runs the quick profile; `make fuzz` sets HYPOTHESIS_PROFILE=fuzz for a long search.
settings.register_profile("quick", max_examples=40, stateful_step_count=30, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("fuzz", max_examples=2000, stateful_step_count=80, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow])
TestPbxMachine = PbxMachine.TestCase
TestPbxMachine.settings = settings.get_profile(os.environ.get("HYPOTHESIS_PROFILE", "quick"))
