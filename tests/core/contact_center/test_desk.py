"""The contact center as employees see it (core/contact_center/desk.py), on the demo tenant and the manual
clock: login/logout, busy and DND with reason codes, an ACD call offered and accepted, wrap-up, hot desking,
agent-group presence, the security roles, queue numbers, and the events the live hubs are built from."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

import pytest

from callyard.core.clock import ManualClock
from callyard.core.errors import Conflict, Forbidden, Invalid, NotFound
from callyard.core.ids import Ids
from callyard.core.principal import SYSTEM, Principal
from callyard.core.service import Core
from callyard.events.event import Event
from callyard.store.database import MemoryStore
from tests.core.conftest import ACME, advance, principal_for, rejected

CALLER = "+16135550177"
SUPPORT = "ac3e0000-0000-4000-8000-00000000500a"
LUNCH = "ac3e0000-0000-4000-8000-0000cc00d001"
FOCUS = "ac3e0000-0000-4000-8000-0000cc00d004"
AVAILABLE = {"state": "Available", "availableReason": "Login"}


@pytest.fixture
def events(core: Core) -> list[Event]:
    seen: list[Event] = []
    core.projections.subscribe(seen.append)
    return seen


def of(events: list[Event], type_: str) -> list[dict[str, Any]]:
    return [e.data or {} for e in events if e.type == type_]


async def test_employees_start_logged_out_and_log_in_to_their_agent_groups(core: Core, alice: Principal) -> None:
    desk = core.contact_center.desk
    state = desk.employee_state(alice, "me")
    assert state["presence"]["aggregate"]["state"] == "Offline"
    state = await desk.set_employee_state(alice, "me", AVAILABLE)
    assert state["presence"]["aggregate"] == {"state": "Available", "acdState": "Idle", "reasonId": None,
                                              "reasonName": None}
    assert state["presence"]["voice"][0]["state"] == "Available"
    [presence] = desk.agent_group_presence(alice, "me")
    assert presence["name"] == "Support Agents" and presence["statuses"][0]["status"] == "Present"
    assert core.contact_center.agent(ACME, alice.user_id or "")["loggedIn"] is True
    state = await desk.set_employee_state(alice, "me", {"state": "Offline"})
    assert state["presence"]["aggregate"]["state"] == "Offline"


async def test_busy_and_dnd_need_their_kind_of_reason_code(core: Core, alice: Principal) -> None:
    desk = core.contact_center.desk
    await rejected(core, Conflict, "EmployeeLoggedOut", desk.set_employee_state(alice, "me", {"state": "Busy"}))
    await desk.set_employee_state(alice, "me", AVAILABLE)
    await rejected(core, Invalid, "InvalidReason",
                   desk.set_employee_state(alice, "me", {"state": "Busy", "reason": FOCUS}))
    await rejected(core, NotFound, "ReasonCodeNotFound",
                   desk.set_employee_state(alice, "me", {"state": "Busy", "reason": "Nap"}))
    await rejected(core, Invalid, "InvalidState", desk.set_employee_state(alice, "me", {"state": "Sleeping"}))
    busy = await desk.set_employee_state(alice, "me", {"state": "Busy", "reason": "Lunch"})
    assert busy["presence"]["aggregate"]["state"] == "Busy"
    assert busy["presence"]["aggregate"]["reasonName"] == "Lunch"
    dnd = await desk.set_employee_state(alice, "me", {"state": "DoNotDisturb", "reason": FOCUS})
    assert dnd["presence"]["aggregate"]["state"] == "DoNotDisturb"
    back = await desk.set_employee_state(alice, "me", {"state": "Available", "availableReason": "ClearDoNotDisturb"})
    assert back["presence"]["aggregate"]["state"] == "Available"


async def test_an_acd_call_is_offered_accepted_ended_then_wrap_up(core: Core, alice: Principal,
                                                                   events: list[Event]) -> None:
    desk = core.contact_center.desk
    await desk.set_employee_state(alice, "me", AVAILABLE)
    events.clear()
    await core.engine.inbound(SYSTEM, CALLER, "5000", account_ref=ACME)
    [offered] = desk.employee_conversations(alice, "me")
    assert (offered["conversationState"], offered["fromAddress"], offered["queueName"]) == (
        "Offered", CALLER, "Support")
    assert desk.employee_state(alice, "me")["presence"]["aggregate"]["acdState"] == "Offered"
    changed = of(events, "cc.conversation.changed")
    assert any(c["employeeId"] and c["conversation"]["conversationState"] == "Offered" for c in changed)
    await desk.conversation_action(alice, "me", offered["conversationId"], {"action": "Accept"})
    [talking] = desk.employee_conversations(alice, "me")
    assert talking["conversationState"] == "Acd"
    assert desk.employee_state(alice, "me")["presence"]["aggregate"]["acdState"] == "Acd"
    queue = desk.queue_state(alice, "Support")
    assert (queue["waiting"], queue["answeredToday"], queue["agentsOnAcd"]) == (0, 1, 1)
    await desk.conversation_action(alice, "me", offered["conversationId"], {"action": "End"})
    assert desk.employee_conversations(alice, "me") == []
    assert any(r["employeeId"] for r in of(events, "cc.conversation.removed"))
    # Support's wrap-up is 0 s in the demo tenant: straight back to Available/Idle.
    assert desk.employee_state(alice, "me")["presence"]["aggregate"] == {
        "state": "Available", "acdState": "Idle", "reasonId": None, "reasonName": None}
    states = [(s["presence"]["aggregate"]["state"], s["presence"]["aggregate"]["acdState"])
              for s in of(events, "cc.employee.state")]
    assert states == [("Available", "Offered"), ("Available", "Acd"), ("Available", "Idle")]


async def test_wrap_up_is_busy_work_timer_until_it_runs_out(core: Core, alice: Principal, admin: Principal) -> None:
    core.rt.state.get("group", SUPPORT)["acd"]["wrapUpSeconds"] = 30  # type: ignore[index]
    desk = core.contact_center.desk
    await desk.set_employee_state(alice, "me", AVAILABLE)
    await core.engine.inbound(SYSTEM, CALLER, "5000", account_ref=ACME)
    [offer] = desk.employee_conversations(alice, "me")
    await desk.conversation_action(alice, "me", offer["conversationId"], {"action": "Accept"})
    await desk.conversation_action(alice, "me", offer["conversationId"], {"action": "End"})
    aggregate = desk.employee_state(alice, "me")["presence"]["aggregate"]
    assert (aggregate["state"], aggregate["acdState"]) == ("Busy", "WorkTimer")
    cleared = await desk.set_employee_state(alice, "me", {"state": "Available", "availableReason": "ClearWorkTimer"})
    assert cleared["presence"]["aggregate"]["state"] == "Available"


async def test_decline_makes_the_agent_busy_and_the_call_waits_again(core: Core, alice: Principal) -> None:
    desk = core.contact_center.desk
    await desk.set_employee_state(alice, "me", AVAILABLE)
    await core.engine.inbound(SYSTEM, CALLER, "5000", account_ref=ACME)
    [offer] = desk.employee_conversations(alice, "me")
    await desk.conversation_action(alice, "me", offer["conversationId"], {"action": "Decline"})
    assert desk.employee_conversations(alice, "me") == []
    assert desk.employee_state(alice, "me")["presence"]["aggregate"]["state"] == "Busy"
    [waiting] = desk.queue_conversations(alice, "Support")
    assert waiting["conversationState"] == "InQueue"


async def test_ring_no_answer_makes_the_agent_busy(core: Core, alice: Principal) -> None:
    desk = core.contact_center.desk
    await desk.set_employee_state(alice, "me", AVAILABLE)
    await core.engine.inbound(SYSTEM, CALLER, "5000", account_ref=ACME)
    await advance(core, 16)
    state = desk.employee_state(alice, "me")["presence"]["aggregate"]
    assert (state["state"], state["reasonName"]) == ("Busy", "RONA")


async def test_hot_desking_offers_calls_at_the_base_extension(core: Core, alice: Principal) -> None:
    desk = core.contact_center.desk
    await rejected(core, Invalid, "InvalidHotDesk", desk.set_employee_state(
        alice, "me", {**AVAILABLE, "hotDeskBaseExtension": "9999"}))
    await desk.set_employee_state(alice, "me", {**AVAILABLE, "hotDeskBaseExtension": "2881"})
    await core.engine.inbound(SYSTEM, CALLER, "5000", account_ref=ACME)
    [offer] = desk.employee_conversations(alice, "me")
    assert offer["endpoint"] == "2881"
    assert [e["reporting"] for e in desk.employee_extensions(alice, "me")] == ["2880", "2881"]


async def test_leaving_an_agent_group_stops_offers(core: Core, alice: Principal) -> None:
    desk = core.contact_center.desk
    await desk.set_employee_state(alice, "me", AVAILABLE)
    group = "ac3e0000-0000-4000-8000-0000cc00b500"
    [presence] = await desk.set_agent_group_presence(
        alice, "me", [{"id": group, "statuses": [{"type": "Voice", "status": "NotPresent"}]}])
    assert presence["statuses"][0]["status"] == "NotPresent"
    await core.engine.inbound(SYSTEM, CALLER, "5000", account_ref=ACME)
    assert desk.employee_conversations(alice, "me") == []
    assert desk.agent_state(alice, "me")["presentInAgentGroups"] == []


async def test_security_roles(core: Core, alice: Principal, admin: Principal, bob: Principal,
                              carol: Principal) -> None:
    desk = core.contact_center.desk
    assert [q["name"] for q in desk.queues(alice)] == ["Support"]
    assert len(desk.queues(admin)) == 5
    assert {e["username"] for e in desk.employees(alice)} == {"alice"}
    with pytest.raises(Forbidden):
        desk.employee_state(alice, "carol")
    with pytest.raises(Forbidden):
        desk.queue_state(alice, "Web Chat")
    await rejected(core, Forbidden, "InsufficientPermissions", desk.set_employee_state(carol, "alice", AVAILABLE))
    state = await desk.set_employee_state(admin, "alice", AVAILABLE)  # the supervisor may
    assert state["presence"]["aggregate"]["state"] == "Available"
    with pytest.raises(Forbidden):
        desk.employees(bob)  # bob is no employee


async def test_multimedia_employee_has_an_agent_per_media(core: Core, carol: Principal) -> None:
    desk = core.contact_center.desk
    state = await desk.set_employee_state(carol, "me", AVAILABLE)
    assert set(state["presence"]) == {"aggregate", "chat", "email", "sms", "openMedia"}
    assert {a["mediaType"] for a in desk.agent_states(carol)} == {"Chat", "Email", "Sms", "OpenMedia"}
    chat = desk.queue_state(carol, "Web Chat")
    assert (chat["mediaType"], chat["agentsLoggedIn"], chat["agentsIdle"]) == ("Chat", 1, 1)


async def test_dial_places_an_engine_call(core: Core, alice: Principal) -> None:
    desk = core.contact_center.desk
    await desk.set_employee_state(alice, "me", AVAILABLE)
    conversation_id = await desk.start_conversation(alice, "me", {"type": "Voice", "to": "2881"})
    [conversation] = desk.employee_conversations(alice, "me")
    assert conversation["conversationId"] == conversation_id
    assert conversation["conversationState"] == "Outbound"
    assert desk.employee_state(alice, "me")["presence"]["voice"][0]["acdState"] == "Outbound"


async def test_logging_out_withdraws_a_ringing_offer(core: Core, alice: Principal, dave: Principal) -> None:
    desk = core.contact_center.desk
    await desk.set_employee_state(alice, "me", AVAILABLE)
    await core.engine.inbound(SYSTEM, CALLER, "5000", account_ref=ACME)
    assert len(desk.employee_conversations(alice, "me")) == 1
    await desk.set_employee_state(alice, "me", {"state": "Offline"})
    assert desk.employee_conversations(alice, "me") == []
    [waiting] = desk.queue_conversations(alice, "Support")
    assert waiting["conversationState"] == "InQueue"
    await desk.set_employee_state(dave, "me", AVAILABLE)  # the next agent gets it
    assert len(desk.employee_conversations(dave, "me")) == 1


async def test_an_agent_logged_in_elsewhere_is_the_same_employee_state(core: Core, alice: Principal,
                                                                      events: list[Event]) -> None:
    """The PBX-level agent login (the control plane's, and the UC Distribution Group API's) is the CX state."""
    await core.contact_center.set_agent(SYSTEM, alice.user_id, logged_in=True, account_ref=ACME)
    assert core.contact_center.desk.employee_state(alice, "me")["presence"]["aggregate"]["state"] == "Available"
    assert [s["presence"]["aggregate"]["state"] for s in of(events, "cc.employee.state")] == ["Available"]
    await core.contact_center.set_agent(SYSTEM, alice.user_id, ready=False, reason="Lunch", account_ref=ACME)
    assert core.contact_center.desk.employee_state(alice, "me")["presence"]["aggregate"]["state"] == "Busy"
    await core.contact_center.set_agent(SYSTEM, alice.user_id, logged_in=False, account_ref=ACME)
    assert core.contact_center.desk.employee_state(alice, "me")["presence"]["aggregate"]["state"] == "Offline"


async def test_a_login_joins_every_agent_group_again(core: Core, alice: Principal) -> None:
    desk = core.contact_center.desk
    await desk.set_employee_state(alice, "me", AVAILABLE)
    group = "ac3e0000-0000-4000-8000-0000cc00b500"
    await desk.set_agent_group_presence(alice, "me", [{"id": group, "statuses": [{"type": "Voice",
                                                                                   "status": "NotPresent"}]}])
    await desk.set_employee_state(alice, "me", {"state": "Offline"})
    await desk.set_employee_state(alice, "me", AVAILABLE)
    assert desk.agent_state(alice, "me")["presentInAgentGroups"] == [group]


async def test_time_in_state_today_adds_up() -> None:
    # A clock that starts at 09:00, so the run never crosses midnight ("today" starts again there).
    core = Core(MemoryStore(), ManualClock(datetime(2026, 3, 2, 9, 0, tzinfo=timezone.utc)), Ids(11))
    await core.start()
    alice = principal_for(core, "alice@acme.example")
    desk = core.contact_center.desk
    await desk.set_employee_state(alice, "me", AVAILABLE)
    await advance(core, 60)
    await desk.set_employee_state(alice, "me", {"state": "Busy", "reason": "Lunch"})
    await advance(core, 30)
    await desk.set_employee_state(alice, "me", {"state": "Available"})
    await core.engine.inbound(SYSTEM, CALLER, "5000", account_ref=ACME)
    [offer] = desk.employee_conversations(alice, "me")
    await desk.conversation_action(alice, "me", offer["conversationId"], {"action": "Accept"})
    await advance(core, 20)
    await desk.conversation_action(alice, "me", offer["conversationId"], {"action": "End"})
    await advance(core, 5)
    durations = desk.agent_state(alice, "me")["durationsToday"]
    assert (durations["loggedIn"], durations["makeBusy"], durations["acd"]) == (115.0, 30.0, 20.0)
    await desk.set_employee_state(alice, "me", {"state": "Offline"})
    await advance(core, 50)
    assert desk.agent_state(alice, "me")["durationsToday"]["loggedIn"] == 115.0
    await core.stop()
