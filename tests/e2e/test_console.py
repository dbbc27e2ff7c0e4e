"""The console in a real browser (issue 20): each screen is driven as a person would — labels, buttons,
keyboard — and what it shows is checked against the twin's APIs."""
from __future__ import annotations

import time
from typing import Any

import httpx

from tests.conftest import ACME, GLOBEX, OPERATOR_HEADERS, token
from tests.e2e.conftest import C, shot, sign_in_admin, sign_in_operator
from tests.support.receiver import Receiver

B = "/2017-09-01"


def admin_headers(api: httpx.Client, email: str = "admin@acme.example") -> dict[str, str]:
    return {"Authorization": f"Bearer {token(api, email)}"}


def wait_until(check: Any, timeout: float = 5.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError("timed out")


def test_an_outside_call_rings_live_and_is_answered_from_the_softphone(page: Any, api: httpx.Client) -> None:
    sign_in_operator(page)
    page.get_by_label("To", exact=True).fill("2881")
    page.get_by_label("Name").fill("Pat Caller")
    started = time.monotonic()
    page.get_by_label("To", exact=True).press("Enter")                      # the keyboard places the call
    page.locator("#ext-2881[data-state=ringing]").wait_for(timeout=1000)       # pushed, no reload, within 1 s
    assert time.monotonic() - started < 1.0
    page.get_by_label("Extension", exact=True).select_option("2881")
    answer = page.locator("#softphone").get_by_role("button", name="Answer")
    answer.focus()
    page.keyboard.press("Enter")                                             # and answers
    page.locator("#ext-2881[data-state=connected]").wait_for()
    page.locator("#softphone").get_by_role("button", name="Key 4").click()    # the DTMF pad
    page.get_by_text("DTMF 4", exact=True).wait_for()
    calls = api.get(f"{B}/endpoints/2881/calls", headers=admin_headers(api)).json()["_embedded"]["items"]
    assert [(c["state"], c["from"]) for c in calls] == [("connected", "+16135550123")]   # the Media API agrees
    shot(page, "switchboard")
    page.locator("#ext-2881").get_by_role("button", name="Hang up on 2881").click()
    page.locator("#ext-2881[data-state=idle]").wait_for()
    assert api.get(f"{B}/endpoints/2881/calls", headers=admin_headers(api)).json()["_embedded"]["items"] == []


def test_a_failed_webhook_delivery_is_replayed_from_the_console(page: Any, api: httpx.Client) -> None:
    headers = admin_headers(api)
    with Receiver() as receiver:
        receiver.status = 400                      # a 4xx: the delivery fails at once, no retry
        created = api.post(f"{B}/subscriptions", headers=headers, json={
            "applicationId": "3f1c0d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f", "deviceId": receiver.url,
            "transport": "webhook", "topic": "platform-api-media", "subjectFilter": f"{B}/endpoints/2880"})
        assert created.status_code == 201, created.text
        api.post("/_callyard/sim/calls", params={"account": ACME}, headers=OPERATOR_HEADERS,
                 json={"from": "+16135550123", "to": "2880"})
        wait_until(lambda: receiver.requests)
        sign_in_operator(page)
        page.get_by_role("link", name="Events & deliveries").click()
        failed = page.locator("tr.delivery[data-status=failed]").first
        failed.wait_for()
        delivery_id = failed.get_attribute("id").removeprefix("delivery-")
        receiver.status = 200
        page.locator(f"#delivery-{delivery_id}").get_by_role("button", name="Replay").click()
        page.locator(f"#delivery-{delivery_id}[data-status=delivered]").wait_for()
        assert receiver.accepted() and len({r["headers"]["webhook-id"] for r in receiver.requests
                                            if r["headers"]["webhook-id"]}) >= 1
        shot(page, "events")


def test_a_fault_made_in_the_console_hits_an_api_request(page: Any, api: httpx.Client) -> None:
    sign_in_operator(page)
    page.get_by_role("link", name="Control").click()
    page.get_by_label("Method").select_option("GET")
    page.get_by_label("Route").fill(f"{B}/users")
    page.get_by_label("Status").fill("503")
    page.get_by_label("Retry-After").fill("7")
    page.get_by_role("button", name="Inject fault").click()
    page.locator("tr.fault").wait_for()
    failed = api.get(f"{B}/users", headers=admin_headers(api))
    assert failed.status_code == 503 and failed.headers["retry-after"] == "7"
    page.locator("tr.fault td.hits", has_text="1").wait_for()               # the hit shows up, live
    shot(page, "control")
    page.get_by_role("button", name="Remove fault").click()
    page.get_by_text("No fault injected.").wait_for()
    assert api.get(f"{B}/users", headers=admin_headers(api)).status_code == 200


def test_the_clock_advanced_from_the_console_fires_a_ring_no_answer(page: Any, api: httpx.Client) -> None:
    sign_in_operator(page)
    api.post("/_callyard/sim/calls", params={"account": ACME}, headers=OPERATOR_HEADERS,
             json={"from": "+16135550123", "to": "2881"})
    page.locator("#ext-2881[data-state=ringing]").wait_for()
    page.get_by_role("link", name="Control").click()
    page.get_by_label("Advance by").fill("20")                               # bob rings 15 s, then voicemail
    page.get_by_role("button", name="Advance").click()
    page.get_by_text("clock advanced 20 s").wait_for()
    page.get_by_role("link", name="Switchboard").click()
    page.locator("tr.leg[data-endpoint='6000']").wait_for()                  # the caller reached voicemail
    assert page.locator("#ext-2881").get_attribute("data-state") == "idle"
    [call] = api.get("/_callyard/sim/calls", params={"account": ACME}, headers=OPERATOR_HEADERS).json()[
        "_embedded"]["items"]
    assert "6000" in {leg["endpointId"] for leg in call["legs"]}


def test_an_account_admin_of_globex_sees_nothing_of_acme(page: Any, api: httpx.Client) -> None:
    api.post("/_callyard/sim/calls", params={"account": ACME}, headers=OPERATOR_HEADERS,
             json={"from": "+16135550123", "to": "2881"})
    api.get(f"{B}/users", headers=admin_headers(api))                       # Acme traffic in the journal
    sign_in_admin(page, "admin@globex.example")
    assert page.locator("#account-choice option").all_inner_texts() == ["Globex"]
    for link in ("Switchboard", "Contact center", "Events & deliveries", "Requests", "Control", "Directory"):
        page.get_by_role("link", name=link, exact=True).click()
        page.wait_for_load_state()
        text = page.locator("main").inner_text()
        assert "Globex" in page.locator("h1").inner_text()
        for mark in ("Acme", "alice@acme.example", "Bob Brown", ACME):
            assert mark not in text, (link, mark)
    shot(page, "directory-globex")
    refused = page.goto(f"{C}/switchboard?account={ACME}")
    assert refused is not None and refused.status == 403
    page.goto(f"{C}/switchboard?account={GLOBEX}")
    page.locator("#ext-2880").wait_for()


def test_screens_for_the_docs(page: Any, api: httpx.Client) -> None:
    """The contact center and requests screens, with something on them."""
    sign_in_operator(page)
    page.get_by_role("link", name="Contact center").click()
    page.get_by_role("button", name="Log in Alice Anders").click()
    page.locator("#agent-ac3e0000-0000-4000-8000-000000002880").get_by_text("yes").first.wait_for()
    api.post("/_callyard/sim/calls", params={"account": ACME}, headers=OPERATOR_HEADERS,
             json={"from": "+16135550123", "to": "+16135550100"})
    page.get_by_role("link", name="Switchboard").click()
    page.locator("#ext-2880[data-state=ringing]").wait_for()
    page.get_by_role("link", name="Contact center").click()
    shot(page, "contact-center")
    page.get_by_role("link", name="Requests").click()
    page.locator("tr.exchange").first.wait_for()
    page.locator("tr.exchange summary").first.click()
    shot(page, "requests")
    page.goto("/")
    shot(page, "home")
