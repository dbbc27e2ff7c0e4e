"""A user's devices (the terminals of their extension) and caller-id lines, through the core's public API."""
from __future__ import annotations

import pytest

from callyard.core.errors import Forbidden, Invalid, NotFound
from callyard.core.principal import SYSTEM
from callyard.core.service import Core
from tests.core.conftest import ACME, ALICE, GLOBEX, rejected

CALLER = "+442071234567"


async def test_alice_has_a_desk_phone_a_softphone_and_her_mobile(core: Core, alice) -> None:
    devices = core.devices.list(alice, ACME, ALICE)
    assert [d["deviceType"] for d in devices] == ["DESKPHONE", "SOFTPHONE", "MOBILE"]
    desk, soft, mobile = devices
    assert mobile["deviceId"] == "0.+16135550101" and mobile["deviceName"] == "+16135550101"
    assert soft["deviceId"].startswith("2.") and len(soft["deviceId"]) == 38
    assert desk["deviceId"].startswith("1.")
    assert all(d["deviceStatus"] == "ACTIVE" and d["deviceIcon"] == "DEFAULT" for d in devices)
    # The ids are the engine's terminals: answering on one names it on the leg.
    assert [t["deviceId"] for t in core.engine.endpoint(ACME, "2880").terminals] == [d["deviceId"] for d in devices]
    assert core.devices.list(alice, ACME, ALICE, "MOBILE") == [mobile]
    with pytest.raises(Invalid):
        core.devices.list(alice, ACME, ALICE, "TOASTER")


async def test_names_icons_and_attributes(core: Core, alice) -> None:
    soft = core.devices.list(alice, ACME, ALICE, "SOFTPHONE")[0]["deviceId"]
    assert core.devices.name(alice, ACME, ALICE, soft) == "Softphone"
    assert core.devices.name(alice, ACME, ALICE, soft, fallback=False) == ""
    view = await core.devices.set_name(alice, ACME, ALICE, soft, "My work laptop")
    assert view["deviceName"] == "My work laptop"
    assert core.devices.name(alice, ACME, ALICE, soft, fallback=False) == "My work laptop"
    assert core.devices.icon(alice, ACME, ALICE, soft) == "SOFTPHONE_DEFAULT"
    assert core.devices.icon(alice, ACME, ALICE, soft, fallback=False) == ""
    await core.devices.set_icon(alice, ACME, ALICE, soft, "TYPE_2")
    assert core.devices.icon(alice, ACME, ALICE, soft) == "SOFTPHONE_TYPE_2"
    assert {"name": "USER_AGENT", "value": "Callyard Softphone/Mac/5.4.0.1001"} in core.devices.attributes(
        alice, ACME, ALICE, soft)
    await rejected(core, Invalid, "DeviceNameTooLong", core.devices.set_name(alice, ACME, ALICE, soft, "x" * 33))
    await rejected(core, Invalid, "InvalidDeviceIcon", core.devices.set_icon(alice, ACME, ALICE, soft, "TYPE_9"))
    await rejected(core, NotFound, "device.does.not.exist", core.devices.set_name(alice, ACME, ALICE, "2.nope", "x"))


async def test_a_user_acts_on_their_own_devices_only(core: Core, alice, bob, admin, erin) -> None:
    soft = core.devices.list(alice, ACME, ALICE, "SOFTPHONE")[0]["deviceId"]
    with pytest.raises(Forbidden):
        core.devices.list(bob, ACME, ALICE)
    await rejected(core, Forbidden, "access.denied", core.devices.set_name(bob, ACME, ALICE, soft, "x"))
    assert core.devices.list(admin, ACME, ALICE)  # the account's admin may
    with pytest.raises(NotFound):
        core.devices.list(erin, ACME, ALICE)      # another account's user is not found
    with pytest.raises(NotFound):
        core.devices.list(erin, GLOBEX, ALICE)


async def test_an_unreachable_device_leaves_the_shortlist(core: Core, alice) -> None:
    soft = core.devices.list(alice, ACME, ALICE, "SOFTPHONE")[0]["deviceId"]
    assert len(core.devices.shortlist(alice, ACME, ALICE)) == 3
    await core.devices.set_status(SYSTEM, ACME, ALICE, soft, reachable=False)
    assert [d["deviceType"] for d in core.devices.shortlist(alice, ACME, ALICE)] == ["DESKPHONE", "MOBILE"]


async def test_lines_and_the_active_caller_id(core: Core, alice, bob) -> None:
    lines = core.devices.user_lines(alice, ACME, ALICE)
    assert [(line["type"], line["groupId"], line["number"]) for line in lines] == [
        ("OFFICE_FIXED", 0, "2880"), ("OFFICE_MOBILE", 0, "+16135550101"), ("ANONYMOUS", 0, ""),
        ("ACD", 5000, "5000")]
    assert core.devices.active_line(alice, ACME, ALICE)["type"] == "OFFICE_FIXED"
    # Calls from alice show her extension, then the Support queue's number once that line is active.
    first = await core.engine.originate(alice, "2880", "2881")
    ringing = core.engine.endpoint(ACME, "2881").legs[0]
    assert (ringing.from_number, ringing.from_name) == ("2880", "Alice Anders")
    await core.engine.end(alice, "2880", first["legId"])
    await core.devices.set_active_line(alice, ACME, ALICE, "ACD", 5000)
    assert core.devices.active_line(alice, ACME, ALICE)["type"] == "ACD"
    await core.engine.originate(alice, "2880", "2881")
    ringing = core.engine.endpoint(ACME, "2881").legs[0]
    assert (ringing.from_number, ringing.from_name) == ("5000", "Support")
    await rejected(core, Invalid, "line.does.not.exist", core.devices.set_active_line(alice, ACME, ALICE, "ACD", 5100))
    await rejected(core, Invalid, "InvalidLineType", core.devices.set_active_line(alice, ACME, ALICE, "FAX", 0))
    await rejected(core, Forbidden, "access.denied",
                   core.devices.set_active_line(bob, ACME, ALICE, "OFFICE_FIXED", 0))


async def test_anonymous_line_hides_the_number(core: Core, alice) -> None:
    await core.devices.set_active_line(alice, ACME, ALICE, "ANONYMOUS", 0)
    await core.engine.originate(alice, "2880", BOB_EXT)
    ringing = core.engine.endpoint(ACME, BOB_EXT).legs[0]
    assert (ringing.from_number, ringing.from_name) == ("anonymous", "Anonymous")


BOB_EXT = "2881"



async def test_a_line_state_makes_the_user_busy_until_it_expires(core: Core, alice, bob) -> None:
    from datetime import timedelta

    from callyard.core.clock import iso
    from tests.core.conftest import BOB, advance

    until = iso(core.rt.clock.now() + timedelta(seconds=60))
    state, created = await core.devices.put_line_state(bob, ACME, BOB, "crm-42", until)
    assert created and state["expiresOn"] == until
    assert core.devices.line_state(bob, ACME, BOB, "crm-42")["externalId"] == "crm-42"
    await core.engine.configure_endpoint(bob, "2881", {"voicemail": False})
    placed = await core.engine.originate(alice, "2880", "2881")   # bob is busy: alice hears busy
    assert core.engine.endpoint(ACME, "2881").legs == [] and placed["legId"]
    assert core.engine.endpoint(ACME, "2880").legs == []
    await advance(core, 61)                                        # expired by itself
    with pytest.raises(NotFound):
        core.devices.line_state(bob, ACME, BOB, "crm-42")
    await core.engine.originate(alice, "2880", "2881")
    assert core.engine.endpoint(ACME, "2881").legs[0].state == "ringing"
    await rejected(core, Invalid, "expiresOn.not.valid", core.devices.put_line_state(bob, ACME, BOB, "x", "soon"))
    await rejected(core, NotFound, "linestate.does.not.exist", core.devices.delete_line_state(bob, ACME, BOB, "x"))
    _, created = await core.devices.put_line_state(bob, ACME, BOB, "x", "2999-03-10T11:05:00+01")
    assert created
    await core.devices.delete_line_state(bob, ACME, BOB, "x")
    assert not core.engine.endpoint(ACME, "2881").line_states
