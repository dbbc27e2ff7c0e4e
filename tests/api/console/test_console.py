"""The web console over plain HTTP (the browser tests are tests/e2e): sign-in, the session cookie, CSRF, and
that an account admin sees and changes only their accounts in every console page, stream and action."""
from __future__ import annotations

import re
import time
from typing import Iterator

import httpx
import pytest

from tests.conftest import ACME, BOB, GLOBEX, OPERATOR, OPERATOR_HEADERS, PASSWORD, start_server

C = "/_callyard/console"
SCREENS = ("switchboard", "contact-center", "events", "requests", "control", "directory")
STREAMS = ("switchboard", "contact-center", "events", "requests", "control")
# What only Acme has: its name, id, users and numbers (Globex has an extension 2880 too, so no bare numbers).
@pytest.fixture(scope="module")
def base_url() -> Iterator[str]:
    """A twin of this module's own: the leak checks look for Acme's names in Globex's screens, and other
    modules may legitimately give Globex data that mentions them (a Globex user with an acme.example address)."""
    with start_server(clock="manual") as live:
        yield live.url


ACME_MARKS = ("Acme", ACME, "alice@acme.example", "Bob Brown", "+16135550100", "Support", "acme.example")


def csrf_of(page: str) -> str:
    found = re.search(r'name="csrf" value="([^"]+)"', page) or re.search(r'"X-Console-CSRF": "([^"]+)"', page)
    assert found, "no CSRF token in the page"
    return found.group(1)


def sign_in(client: httpx.Client, **form: str) -> httpx.Response:
    return client.post(f"{C}/login", data=form)


@pytest.fixture
def console(client: httpx.Client) -> Iterator[httpx.Client]:
    """A client signed in to the console as the operator (a fresh cookie jar)."""
    with httpx.Client(base_url=str(client.base_url), timeout=10) as c:
        assert sign_in(c, mode="operator", token=OPERATOR).status_code == 303
        yield c


@pytest.fixture
def globex_console(client: httpx.Client) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=str(client.base_url), timeout=10) as c:
        response = sign_in(c, mode="admin", username="admin@globex.example", password=PASSWORD)
        assert response.status_code == 303, response.text
        yield c


def first_message(client: httpx.Client, path: str) -> str:
    """The first SSE message of a console stream (its event and data lines)."""
    with client.stream("GET", path) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        lines: list[str] = []
        for line in response.iter_lines():
            if line.startswith("event:"):
                lines = [line]
            elif lines and line == "":
                return "\n".join(lines)
            elif lines:
                lines.append(line)
    raise AssertionError("the stream ended before a message")


def test_without_a_session_pages_lead_to_the_sign_in_and_nothing_else_answers(client: httpx.Client) -> None:
    for screen in SCREENS:
        page = client.get(f"{C}/{screen}")
        assert page.status_code == 303 and page.headers["location"].startswith(f"{C}/login?next="), screen
    assert client.get(f"{C}/stream/switchboard").status_code == 401
    acted = client.post(f"{C}/act/call", data={"from": "+16135550123", "to": "2881"}, headers={"HX-Request": "true"})
    assert acted.status_code == 401
    assert client.get("/_callyard/sim/calls", headers=OPERATOR_HEADERS).json()["count"] == 0
    assert client.get(f"{C}/state/export").status_code == 303
    login = client.get(f"{C}/login")
    assert login.status_code == 200 and 'for="operator-token"' in login.text and 'for="username"' in login.text
    home = client.get("/")
    assert home.status_code == 200 and f'href="{C}/login"' in home.text and 'href="/docs/cloudlink"' in home.text


def test_sign_in_refuses_wrong_credentials_and_non_admins(client: httpx.Client) -> None:
    assert sign_in(client, mode="operator", token="not-it").status_code == 401
    assert sign_in(client, mode="admin", username="admin@acme.example", password="nope").status_code == 401
    refused = sign_in(client, mode="admin", username="alice@acme.example", password=PASSWORD)
    assert refused.status_code == 403 and "AccountAdminRequired" in refused.text
    assert "set-cookie" not in refused.headers
    elsewhere = client.post(f"{C}/login", data={"mode": "operator", "token": OPERATOR},
                            headers={"Origin": "http://evil.example"})
    assert elsewhere.status_code == 403 and "set-cookie" not in elsewhere.headers


def test_the_session_cookie_is_http_only_and_same_site_strict(client: httpx.Client) -> None:
    signed = sign_in(client, mode="operator", token=OPERATOR)
    assert signed.status_code == 303 and signed.headers["location"] == f"{C}/switchboard"
    cookie = signed.headers["set-cookie"].lower()
    assert "callyard_console=" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    page = client.get(f"{C}/switchboard")
    assert page.status_code == 200
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert not re.search(r'(?:src|href)="(?:https?:)?//', page.text)          # nothing from elsewhere
    for asset in re.findall(r'(?:src|href)="(/_callyard/console/static/[^"]+)"', page.text):
        assert client.get(asset).status_code == 200, asset
    assert client.get(f"{C}/static/..%2F..%2Fpyproject.toml").status_code == 404


def test_actions_need_the_csrf_token_and_this_origin(console: httpx.Client) -> None:
    token = csrf_of(console.get(f"{C}/switchboard").text)
    call = {"from": "+16135550123", "to": "2881"}
    assert console.post(f"{C}/act/call", data=call, headers={"HX-Request": "true"}).status_code == 403
    stale = console.post(f"{C}/act/call", data={**call, "csrf": "stale"})     # a plain form: a whole page
    assert stale.status_code == 403 and '<span class="error">InvalidCsrfToken</span>' in stale.text
    foreign = console.post(f"{C}/act/call", data={**call, "csrf": token}, headers={"Origin": "http://evil.example"})
    assert foreign.status_code == 403
    assert console.get("/_callyard/sim/calls", headers=OPERATOR_HEADERS).json()["count"] == 0   # nothing changed
    placed = console.post(f"{C}/act/call", data=call, headers={"HX-Request": "true", "X-Console-CSRF": token})
    assert placed.status_code == 200 and "calls 2881" in placed.text
    [live] = console.get("/_callyard/sim/calls", headers=OPERATOR_HEADERS).json()["_embedded"]["items"]
    assert {leg["endpointId"]: leg["state"] for leg in live["legs"]}["2881"] == "ringing"


def test_the_softphone_and_the_simulator_act_on_the_same_core(console: httpx.Client, admin) -> None:
    token = csrf_of(console.get(f"{C}/switchboard").text)
    hx = {"HX-Request": "true", "X-Console-CSRF": token}
    assert console.post(f"{C}/act/call", data={"from": "+16135550123", "to": "2881"}, headers=hx).status_code == 200
    answered = console.post(f"{C}/act/softphone", data={"endpoint": "2881", "action": "answer"}, headers=hx)
    assert answered.status_code == 200 and "connected" in answered.text
    calls = console.get("/2017-09-01/endpoints/2881/calls", headers=admin).json()["_embedded"]["items"]
    assert [c["state"] for c in calls] == ["connected"]                       # the Media API agrees
    dtmf = console.post(f"{C}/act/softphone", data={"endpoint": "2881", "digit": "5"}, headers=hx)
    assert dtmf.status_code == 200
    held = console.post(f"{C}/act/phone", data={"endpoint": "2881", "action": "hold"}, headers=hx)
    assert held.status_code == 200 and "held" in held.text
    nothing = console.post(f"{C}/act/phone", data={"endpoint": "2881", "action": "answer"}, headers=hx)
    assert nothing.status_code == 409 and "NoSuchCall" in nothing.text          # a clear 4xx, nothing changed
    bad = console.post(f"{C}/act/call", data={"from": "2880", "to": "2881"}, headers=hx)
    assert bad.status_code == 400 and "InvalidFrom" in bad.text
    did = console.post(f"{C}/act/call", data={"from": "+16135550100", "to": "2881", "profile": "brief"}, headers=hx)
    assert did.status_code == 400 and "InvalidFrom" in did.text                  # the account's own DID
    support = console.get("/_callyard/sim/endpoints/5000", params={"account": ACME}, headers=OPERATOR_HEADERS)
    assert support.json()["profile"] is None                                     # nothing was configured
    hung = console.post(f"{C}/act/softphone", data={"endpoint": "2881", "action": "hangup"}, headers=hx)
    assert hung.status_code == 200
    assert console.get("/2017-09-01/endpoints/2881/calls", headers=admin).json()["_embedded"]["items"] == []


def test_a_globex_admin_sees_nothing_of_acme(globex_console: httpx.Client, client: httpx.Client) -> None:
    c = globex_console
    # Acme traffic the Globex admin must not see: a call, a request journal entry, a fault.
    client.post("/_callyard/sim/calls", params={"account": ACME}, headers=OPERATOR_HEADERS,
                json={"from": "+16135550123", "to": "2881"})
    client.post("/_callyard/faults", headers=OPERATOR_HEADERS, json={"route": "/2017-09-01/users", "status": 503})
    for screen in SCREENS:
        page = c.get(f"{C}/{screen}")
        assert page.status_code == 200, screen
        assert "Globex" in page.text
        leaks = [page.text[max(0, page.text.index(mark) - 400):page.text.index(mark) + 60]
                 for mark in ACME_MARKS if mark in page.text]
        assert leaks == [], (screen, leaks)
        assert c.get(f"{C}/{screen}", params={"account": ACME}).status_code == 403, screen
    for screen in STREAMS:
        message = first_message(c, f"{C}/stream/{screen}")
        assert message.startswith(f"event: {screen}")
        assert [mark for mark in ACME_MARKS if mark in message] == [], screen
        assert c.get(f"{C}/stream/{screen}", params={"account": ACME}).status_code == 403
    exported = c.get(f"{C}/state/export").text
    assert GLOBEX in exported and ACME not in exported


def test_a_globex_admin_changes_nothing_of_acme(globex_console: httpx.Client, client: httpx.Client) -> None:
    c = globex_console
    token = csrf_of(c.get(f"{C}/switchboard").text)
    hx = {"HX-Request": "true", "X-Console-CSRF": token}
    for action, form in (("call", {"from": "+16135550123", "to": "2881"}),
                         ("agent", {"userId": BOB, "change": "login"}),
                         ("phone", {"endpoint": "2881", "action": "answer"})):
        refused = c.post(f"{C}/act/{action}", params={"account": ACME}, data=form, headers=hx)
        assert refused.status_code == 403, (action, refused.text)
    assert client.get("/_callyard/sim/calls", headers=OPERATOR_HEADERS).json()["count"] == 0
    advanced = c.post(f"{C}/act/clock", data={"seconds": "5"}, headers=hx)
    assert advanced.status_code == 403 and "OperatorRequired" in advanced.text
    # In its own account the admin acts: an outside caller rings Erin.
    placed = c.post(f"{C}/act/call", data={"from": "+16135550123", "to": "2880"}, headers=hx)
    assert placed.status_code == 200
    [call] = client.get("/_callyard/sim/calls", headers=OPERATOR_HEADERS).json()["_embedded"]["items"]
    assert call["accountId"] == GLOBEX


def test_a_session_ends_with_sign_out_and_with_a_new_password(client: httpx.Client, as_user) -> None:
    with httpx.Client(base_url=str(client.base_url), timeout=10) as c:
        assert sign_in(c, mode="admin", username="admin@globex.example", password=PASSWORD).status_code == 303
        token = csrf_of(c.get(f"{C}/switchboard").text)
        out = c.post(f"{C}/logout", data={"csrf": token})
        assert out.status_code == 303
        assert c.get(f"{C}/switchboard").status_code == 303
    with httpx.Client(base_url=str(client.base_url), timeout=10) as c:
        assert sign_in(c, mode="admin", username="admin@globex.example", password=PASSWORD).status_code == 303
        assert c.get(f"{C}/switchboard").status_code == 200
        me = as_user("admin@globex.example")
        user_id = client.get("/2017-09-01/token", headers=me).json()["userId"]
        changed = client.put(f"/2017-09-01/users/{user_id}", json={"password": "a-new-secret-1"}, headers=me)
        assert changed.status_code == 200, changed.text
        assert c.get(f"{C}/switchboard").status_code == 303                # the console session ended too
        assert c.get(f"{C}/stream/switchboard").status_code == 401


def test_open_control_needs_no_sign_in_but_still_a_csrf_token() -> None:
    with start_server(open_control=True) as live, httpx.Client(base_url=live.url, timeout=10) as c:
        page = c.get(f"{C}/switchboard")
        assert page.status_code == 200 and "callyard_console=" in page.headers["set-cookie"]
        assert c.get(f"{C}/login").status_code == 303
        assert c.post(f"{C}/act/call", data={"from": "+16135550123", "to": "2881"}).status_code == 403
        placed = c.post(f"{C}/act/call", data={"from": "+16135550123", "to": "2881", "csrf": csrf_of(page.text)},
                        headers={"HX-Request": "true"})
        assert placed.status_code == 200


SHORT_SCENARIO = """
name: console-short
duration: 20
drain: 10
setup:
  agents:
    - {user: alice@acme.example, loggedIn: true, ready: true}
  endpoints:
    "2880": {profile: {mode: answer, answerAfter: 2, talkSeconds: 5}}
traffic:
  - name: support
    every: 5
    from: "+1613555{rand:4}"
    to: "5000"
"""


def test_a_scenario_started_in_the_console_runs_and_reports(console: httpx.Client) -> None:
    token = csrf_of(console.get(f"{C}/control").text)
    hx = {"HX-Request": "true", "X-Console-CSRF": token}
    broken = console.post(f"{C}/act/scenario", data={"yaml": "name: x\nduration: -1\n"}, headers=hx)
    assert broken.status_code == 400 and "InvalidScenario" in broken.text
    started = console.post(f"{C}/act/scenario", data={"yaml": SHORT_SCENARIO, "virtual": "on", "seed": "3"},
                           headers=hx)
    assert started.status_code == 200 and "console-short started" in started.text, started.text
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        page = console.get(f"{C}/control").text
        status = re.search(r'class="run" id="run-\d+" data-status="(\w+)"', page)
        if status and status.group(1) not in ("starting", "running"):
            break
        time.sleep(0.2)
    assert status and status.group(1) == "finished", page[page.find("Scenario runs"):][:1500]
    placed = re.search(r"placed (\d+) · answered (\d+)", page)
    assert placed and int(placed.group(1)) >= 3 and int(placed.group(2)) >= 1


def test_the_events_screen_lists_live_stream_clients_and_what_they_subscribed_to(
        console: httpx.Client, client: httpx.Client, admin) -> None:
    from websockets.sync.client import connect as ws_connect

    conn = client.post("/2017-09-01/connections", headers=admin, json={"transport": "websocket"})
    assert conn.status_code == 201, conn.text
    sub = client.post("/2017-09-01/subscriptions", headers=admin, json={
        "applicationId": "3f1c0d2e-8a4b-4c5d-9e6f-0a1b2c3d4e5f", "transport": "websocket",
        "connectionId": conn.json()["connectionId"], "topic": "platform-api-media",
        "subjectFilter": "/2017-09-01/endpoints/2880"})
    assert sub.status_code == 201, sub.text
    sub_id = sub.json()["subscriptionId"]
    base = str(client.base_url).replace("http://", "ws://") + "/_callyard/stream"
    with ws_connect(f"{base}?subscriptionId={sub_id}", additional_headers={"Authorization": admin["Authorization"]}):
        time.sleep(0.1)
        page = console.get(f"{C}/events").text
        live = page[page.find("Live clients"):]
        assert "JSON stream" in live and sub_id in live


def test_a_switchboard_stream_pushes_a_ringing_phone_as_the_call_commits(console: httpx.Client,
                                                                          client: httpx.Client) -> None:
    with console.stream("GET", f"{C}/stream/switchboard") as response:
        lines = response.iter_lines()
        messages: list[str] = []
        current: list[str] = []

        def next_message() -> str:
            for line in lines:
                if line == "" and current:
                    text = "\n".join(current)
                    current.clear()
                    return text
                if line.startswith(("event:", "data:")):
                    current.append(line)
            raise AssertionError("the stream ended")

        messages.append(next_message())
        assert 'id="ext-2881" data-state="idle"' in messages[0]
        started = time.monotonic()
        client.post("/_callyard/sim/calls", params={"account": ACME}, headers=OPERATOR_HEADERS,
                    json={"from": "+16135550123", "to": "2881"})
        pushed = next_message()
        assert time.monotonic() - started < 1.5                        # woken by the commit, not the 2 s re-render
        assert 'id="ext-2881" data-state="ringing"' in pushed and pushed.startswith("event: switchboard")
        client.post("/_callyard/sim/calls", params={"account": ACME}, headers=OPERATOR_HEADERS,
                    json={"from": "+16135550124", "to": "5000"})                # nobody logged in: it waits
        assert 'id="grp-5000" data-waiting="1"' in next_message()


def test_an_employee_state_set_in_the_console_is_the_cx_state(console: httpx.Client) -> None:
    token = csrf_of(console.get(f"{C}/contact-center").text)
    hx = {"HX-Request": "true", "X-Console-CSRF": token}
    page = console.get(f"{C}/contact-center").text
    forms = dict((name, ident) for ident, name in re.findall(
        r'name="employeeId" value="([^"]+)">.*?aria-label="Set the state of ([^"]+)"', page, re.S))
    employee_id = forms["Carol Chen"]
    busy_early = console.post(f"{C}/act/employee", data={"employeeId": employee_id, "state": "Busy"}, headers=hx)
    assert busy_early.status_code == 409 and "EmployeeLoggedOut" in busy_early.text
    logged = console.post(f"{C}/act/employee", data={"employeeId": employee_id, "state": "Available"}, headers=hx)
    assert logged.status_code == 200 and "Carol Chen: Available" in logged.text
    lunch = re.search(r'<option value="([^"]+)">Lunch \(Busy\)</option>', page)
    assert lunch
    busy = console.post(f"{C}/act/employee", headers=hx,
                        data={"employeeId": employee_id, "state": "Busy", "reason": lunch.group(1)})
    assert busy.status_code == 200 and "Busy (Lunch)" in busy.text, busy.text


def test_directory_edits_change_the_extension_as_the_simulator_sees_it(console: httpx.Client) -> None:
    token = csrf_of(console.get(f"{C}/directory").text)
    hx = {"HX-Request": "true", "X-Console-CSRF": token}
    assert console.post(f"{C}/act/endpoint", data={"endpoint": "2882", "setting": "dnd-toggle"}, headers=hx).is_success
    forwarded = console.post(f"{C}/act/endpoint", data={"endpoint": "2881", "setting": "forward", "forward": "2880"},
                             headers=hx)
    assert forwarded.status_code == 200 and "forwards every call to 2880" in forwarded.text
    seen = {n: console.get(f"/_callyard/sim/endpoints/{n}", params={"account": ACME}, headers=OPERATOR_HEADERS).json()
            for n in ("2881", "2882")}
    assert seen["2882"]["dnd"] is True and seen["2881"]["settings"]["forwardAlways"] == "2880"
    board = console.get(f"{C}/switchboard").text
    assert 'id="ext-2882" data-state="dnd"' in board and 'id="ext-2881" data-state="forwarded"' in board
    bad = console.post(f"{C}/act/endpoint", data={"endpoint": "2881", "setting": "explode"}, headers=hx)
    assert bad.status_code == 400 and "InvalidSetting" in bad.text


def test_the_events_screen_lists_the_accounts_signalr_connections(console: httpx.Client,
                                                                  client: httpx.Client) -> None:
    import json

    from tests.api.cx.conftest import cx_token

    session = cx_token(client, "alice@acme.example")
    common = {"clientProtocol": "1.5", "connectionData": json.dumps([{"name": "queuehub"}]), "sessionid": session}
    negotiated = client.get("/miccsdk/signalr/negotiate", params=common)
    assert negotiated.status_code == 200, negotiated.text
    wire = {**common, "transport": "longPolling", "connectionToken": negotiated.json()["ConnectionToken"]}
    assert client.get("/miccsdk/signalr/connect", params=wire).status_code == 200
    assert client.get("/miccsdk/signalr/start", params=wire).json() == {"Response": "started"}
    page = console.get(f"{C}/events").text
    live = page[page.find("Live clients"):]
    assert "SignalR 2" in live and negotiated.json()["ConnectionId"] in live
    assert "SignalR" not in console.get(f"{C}/events", params={"account": GLOBEX}).text
    client.get("/miccsdk/signalr/abort", params=wire)
