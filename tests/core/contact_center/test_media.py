"""Non-voice interactions routed through the contact center (core/contact_center/media.py), on the demo tenant
and the manual clock: carol (Chat, Email, Sms and OpenMedia agent of the Multimedia Agents group) is offered a
chat, accepts, holds, replies, ends it; decline and the ring timeout make her not ready and the item waits;
transfer, junk, pick, failure and reroute; the queue statistics, the cases, and the events the hubs push."""
from __future__ import annotations

from typing import Any

import pytest

from callyard.core.errors import Conflict, Invalid, NotFound
from callyard.core.principal import Principal
from callyard.core.service import Core
from callyard.events.event import Event
from tests.core.conftest import ACME, advance, principal_for

WEB_CHAT = "ac3e0000-0000-4000-8000-0000cc00c701"
SMS = "ac3e0000-0000-4000-8000-0000cc00c703"
OPEN_MEDIA = "ac3e0000-0000-4000-8000-0000cc00c704"
CAROL_EMPLOYEE = "ac3e0000-0000-4000-8000-0000cc00e003"
LOGIN = {"state": "Available", "availableReason": "Login"}
ZED = {"name": "Zed Zero", "email": "zed@example.com"}


@pytest.fixture
def carol(core: Core) -> Principal:
    return principal_for(core, "carol@acme.example")


@pytest.fixture
def events(core: Core) -> list[Event]:
    seen: list[Event] = []
    core.projections.subscribe(seen.append)
    return seen


def employee(core: Core) -> dict[str, Any]:
    found = core.rt.state.get("cc_employee", CAROL_EMPLOYEE)
    assert found is not None
    return found


def queue_view(core: Core, queue_id: str) -> dict[str, Any]:
    queue = core.rt.state.get("cc_queue", queue_id)
    assert queue is not None
    return core.contact_center.queue_state_view(queue)


async def test_a_chat_waits_is_offered_accepted_and_ended(core: Core, carol: Principal,
                                                         events: list[Event]) -> None:
    media, desk = core.contact_center.media, core.contact_center.desk
    chat = await media.create(ACME, "Chat", "Web Chat", customer=ZED, subject="Hello")
    assert chat["conversationState"] == "InQueue" and chat["positionInQueue"] == 1
    assert queue_view(core, WEB_CHAT)["waiting"] == 1
    await desk.set_employee_state(carol, "me", LOGIN)
    [offered] = desk.employee_conversations(carol, "me")
    assert (offered["conversationState"], offered["agentReporting"]) == ("Offered", "3103")
    state = desk.employee_state(carol, "me")
    assert state["presence"]["chat"]["acdState"] == "Offered"
    await advance(core, 4)
    await desk.conversation_action(carol, "me", chat["conversationId"], {"action": "Accept"})
    assert desk.employee_state(carol, "me")["presence"]["aggregate"]["acdState"] == "Acd"
    figures = queue_view(core, WEB_CHAT)
    assert (figures["waiting"], figures["answeredToday"], figures["offeredToday"]) == (0, 1, 1)
    assert figures["agentsOnAcd"] == 1
    await desk.conversation_action(carol, "me", chat["conversationId"], {"action": "Hold"})
    assert desk.employee_state(carol, "me")["presence"]["chat"]["acdState"] == "Held"
    await desk.conversation_action(carol, "me", chat["conversationId"], {"action": "RemoveHold"})
    await desk.conversation_action(carol, "me", chat["conversationId"], {"action": "End"})
    assert desk.employee_conversations(carol, "me") == []
    ended = media.get(ACME, chat["conversationId"])
    assert (ended["conversationState"], ended["mediaFolder"]) == ("Handled", "Handled")
    assert desk.employee_state(carol, "me")["today"]["Chat"] == 1
    case = core.rt.state.get("cc_case", ended["caseId"])
    assert case is not None and case["state"] == "Closed" and case["lastAgentReporting"] == "3103"
    assert case["subject"] == "Hello" and case["mediaTypes"] == ["Chat"]
    pushed = [(e.type, (e.data or {}).get("employeeId"), (e.data or {}).get("queueId")) for e in events
              if e.type.startswith("cc.conversation.")]
    assert ("cc.conversation.changed", None, WEB_CHAT) in pushed
    assert ("cc.conversation.changed", CAROL_EMPLOYEE, None) in pushed
    assert ("cc.conversation.removed", CAROL_EMPLOYEE, None) in pushed
    assert ("cc.conversation.removed", None, WEB_CHAT) in pushed


async def test_decline_and_ring_timeout_make_the_agent_not_ready(core: Core, carol: Principal) -> None:
    media, desk = core.contact_center.media, core.contact_center.desk
    await desk.set_employee_state(carol, "me", LOGIN)
    sms = await media.create(ACME, "Sms", "SMS", customer={"phone": "+16135550142"})
    assert media.get(ACME, sms["conversationId"])["conversationState"] == "Offered"
    await desk.conversation_action(carol, "me", sms["conversationId"], {"action": "Decline"})
    assert media.get(ACME, sms["conversationId"])["conversationState"] == "InQueue"
    assert desk.employee_state(carol, "me")["presence"]["sms"]["state"] == "Busy"
    await desk.set_employee_state(carol, "me", {"state": "Available"})
    assert media.get(ACME, sms["conversationId"])["conversationState"] == "Offered"   # offered again
    await advance(core, 61)                                                           # not taken: RONA
    assert media.get(ACME, sms["conversationId"])["conversationState"] == "InQueue"
    assert desk.employee_state(carol, "me")["presence"]["sms"]["reasonName"] == "RONA"


async def test_rejected_actions_change_nothing(core: Core, carol: Principal) -> None:
    media, desk = core.contact_center.media, core.contact_center.desk
    with pytest.raises(Invalid):
        await media.create(ACME, "Chat", "SMS", customer=ZED)        # a queue of another media
    with pytest.raises(NotFound):
        await media.create(ACME, "Chat", "Nowhere", customer=ZED)
    await desk.set_employee_state(carol, "me", LOGIN)
    item = await media.create(ACME, "OpenMedia", "Open Media", customer=ZED)
    with pytest.raises(Conflict):
        await desk.conversation_action(carol, "me", item["conversationId"], {"action": "Hold"})
    with pytest.raises(Invalid):
        await desk.conversation_action(carol, "me", item["conversationId"], {"action": "Dtmf"})
    await desk.conversation_action(carol, "me", item["conversationId"], {"action": "Accept"})
    with pytest.raises(Invalid):
        await desk.conversation_action(carol, "me", item["conversationId"],
                                       {"action": "Transfer", "transferDestinationType": "Queue",
                                        "transferDestination": "Web Chat"})


async def test_complete_abandon_failure_and_reroute(core: Core, carol: Principal) -> None:
    media, desk = core.contact_center.media, core.contact_center.desk
    waiting = await media.create(ACME, "OpenMedia", "Open Media", customer=ZED)
    await media.complete(ACME, waiting["conversationId"])
    assert media.get(ACME, waiting["conversationId"])["conversationState"] == "Abandoned"
    assert queue_view(core, OPEN_MEDIA)["abandonedToday"] == 1
    queue = core.rt.state.get("cc_queue", OPEN_MEDIA)
    assert queue is not None
    queue["maxWaitSeconds"] = 30
    item = await media.create(ACME, "OpenMedia", "Open Media", customer=ZED)
    await advance(core, 31)
    assert media.get(ACME, item["conversationId"])["conversationState"] == "Failed"
    assert [c["conversationId"] for c in desk.employee_conversations(carol, "me", "failed")] == [
        item["conversationId"]]
    await desk.set_employee_state(carol, "me", LOGIN)
    await desk.conversation_action(carol, "me", item["conversationId"], {"action": "Reroute"})
    assert media.get(ACME, item["conversationId"])["conversationState"] == "Offered"
    with pytest.raises(Conflict):
        await media.reroute(ACME, item["conversationId"])
    await desk.conversation_action(carol, "me", item["conversationId"], {"action": "Junk"})
    assert media.get(ACME, item["conversationId"])["mediaFolder"] == "Junk"


async def test_work_timer_and_the_next_item(core: Core, carol: Principal) -> None:
    media, desk = core.contact_center.media, core.contact_center.desk
    queue = core.rt.state.get("cc_queue", SMS)
    assert queue is not None
    queue["wrapUpSeconds"] = 10
    await desk.set_employee_state(carol, "me", LOGIN)
    first = await media.create(ACME, "Sms", "SMS", customer={"phone": "+16135550142"})
    second = await media.create(ACME, "Sms", "SMS", customer={"phone": "+16135550143"})
    assert media.view(media.get(ACME, second["conversationId"]))["positionInQueue"] == 2
    await desk.conversation_action(carol, "me", first["conversationId"], {"action": "Accept"})
    await desk.conversation_action(carol, "me", first["conversationId"], {"action": "End"})
    sms = desk.employee_state(carol, "me")["presence"]["sms"]
    assert (sms["state"], sms["acdState"]) == ("Busy", "WorkTimer")
    assert media.get(ACME, second["conversationId"])["conversationState"] == "InQueue"
    await advance(core, 11)
    assert media.get(ACME, second["conversationId"])["conversationState"] == "Offered"
    # the same customer again: the same case, reopened
    assert media.get(ACME, first["conversationId"])["caseId"] != media.get(ACME, second["conversationId"])["caseId"]
    again = await media.create(ACME, "Sms", "SMS", customer={"phone": "+1 613 555 0142"})
    case = core.rt.state.get("cc_case", again["caseId"])
    assert case is not None and again["caseId"] == media.get(ACME, first["conversationId"])["caseId"]
    assert case["wasReopened"] is True and case["state"] == "Open"
