"""Helpers for the Media call-control tests: a thin driver over the Media routes (every response checked
against the vendor swagger) and, through ``tests.support.control.Control``, the ``/_callyard`` simulator
routes (the people at the phones, the clock).

The vendor swagger declares no 409 for a few Media routes that do answer one on purpose (an action the
call's state does not allow, a non-extension endpoint); ``expect_error`` accepts exactly those, listed in
``UNDECLARED``, and validates their body as the swagger's ``error`` definition.
"""
from __future__ import annotations

from typing import Any, Callable, Iterator

import httpx
import jwt
import pytest

from tests.conftest import LiveServer, auth, token
from tests.support.control import Control
from tests.support.swagger import check, definition, spec

B = "/2017-09-01"
ENDPOINT = "/endpoints/{endpointId}"
CALLS = "/endpoints/{endpointId}/calls"
CALL = "/endpoints/{endpointId}/calls/{callId}"

ACME_USERS = {
    "2880": "ac3e0000-0000-4000-8000-000000002880",
    "2881": "ac3e0000-0000-4000-8000-000000002881",
    "2882": "ac3e0000-0000-4000-8000-000000002882",
    "200": "ac3e0000-0000-4000-8000-000000000200",
}
SUPPORT = "ac3e0000-0000-4000-8000-00000000500a"
SALES = "ac3e0000-0000-4000-8000-00000000510a"

# (method, swagger path, status) the twin answers although the swagger does not declare the status there.
UNDECLARED = {
    ("PUT", CALL, 409): "the action is not allowed in the call's state (InvalidCallState, NotRecording, …)",
    ("PUT", ENDPOINT, 403): "a user changing another user's endpoint (InsufficientPermissions)",
}


def expect_error(response: httpx.Response, status: int, method: str, path: str, name: str | None = None) -> dict:
    """Assert an error answer: the status, the ``{name, message}`` envelope, and (when given) the name."""
    assert response.status_code == status, (
        f"{method} {path}: wanted {status}, got {response.status_code}: {response.text}")
    if str(status) in spec()["paths"][path][method.lower()]["responses"]:
        body = check(response, method, path)
    else:
        assert (method, path, status) in UNDECLARED, f"{method} {path} answered {status}, not in the swagger"
        assert response.headers["content-type"].startswith("application/json")
        body = response.json()
        definition("error", body)
    assert isinstance(body.get("name"), str) and isinstance(body.get("message"), str) and body["message"], body
    if name is not None:
        assert body["name"] == name, body
    return body


def ok(response: httpx.Response, method: str, path: str) -> Any:
    """A successful Media answer: a status the swagger declares for success, with a JSON body."""
    assert response.status_code in (200, 201, 202), f"{method} {path}: {response.status_code} {response.text}"
    body = check(response, method, path)
    assert body is not None
    return body


# ---------------------------------------------------------------------------- fixtures
# Import them into a test module (``from tests.support.pbx import as_user, pbx, tokens``) to use them there.
@pytest.fixture(scope="session")
def tokens(server: LiveServer) -> Iterator[Callable[[str], dict[str, str]]]:
    """``tokens("bob@acme.example")`` → headers with an access token of that demo user, issued once and
    reused across tests (a reset keeps the signing key and the users' ids), issued anew when the twin's
    virtual clock has moved within 15 minutes of its expiry."""
    clock = server.app.state.core.rt.clock
    cache: dict[str, tuple[dict[str, str], float]] = {}
    with httpx.Client(base_url=server.url, timeout=10) as client:
        def headers(username: str) -> dict[str, str]:
            cached = cache.get(username)
            if cached is None or cached[1] - clock.timestamp() < 900:
                access = token(client, username)
                expires = jwt.decode(access, options={"verify_signature": False})["exp"]
                cached = cache[username] = (auth(access), float(expires))
            return cached[0]
        yield headers


@pytest.fixture
def as_user(tokens: Callable[[str], dict[str, str]]) -> Callable[[str], dict[str, str]]:
    return tokens


@pytest.fixture
def pbx(server: LiveServer, tokens: Callable[[str], dict[str, str]]) -> Iterator["Pbx"]:
    """A driver on a twin reset to the tenant baseline, acting as Acme's admin."""
    with httpx.Client(base_url=server.url, timeout=10) as client:
        driver = Pbx(client, tokens("admin@acme.example"))
        driver.reset()
        yield driver


class Pbx(Control):
    """Drives one test's calls: the Media routes, and (from ``Control``) the simulator and the clock; ``admin``
    headers act for both unless a Media call says otherwise."""

    def __init__(self, client: httpx.Client, admin: dict[str, str]) -> None:
        super().__init__(client, lambda: self.admin)   # a test may replace ``admin`` (a fresh token)
        self.c = client
        self.admin = admin

    # ------------------------------------------------------------------ Media
    def endpoint(self, number: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        return ok(self.c.get(f"{B}/endpoints/{number}", headers=headers or self.admin), "GET", ENDPOINT)

    def set_endpoint(self, number: str, headers: dict[str, str] | None = None, **body: Any) -> dict[str, Any]:
        return ok(self.c.put(f"{B}/endpoints/{number}", json=body, headers=headers or self.admin), "PUT", ENDPOINT)

    def calls(self, number: str, headers: dict[str, str] | None = None) -> list[dict[str, Any]]:
        body = ok(self.c.get(f"{B}/endpoints/{number}/calls", headers=headers or self.admin), "GET", CALLS)
        assert body["count"] == len(body["_embedded"]["items"])
        return body["_embedded"]["items"]

    def call(self, number: str, call_id: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        return ok(self.c.get(f"{B}/endpoints/{number}/calls/{call_id}", headers=headers or self.admin), "GET", CALL)

    def only_call(self, number: str, headers: dict[str, str] | None = None) -> dict[str, Any]:
        items = self.calls(number, headers)
        assert len(items) == 1, items
        return items[0]

    def make_call(self, number: str, to: str, headers: dict[str, str] | None = None, **body: Any) -> dict[str, Any]:
        response = self.c.post(f"{B}/endpoints/{number}/calls", json={"to": to, **body}, headers=headers or self.admin)
        return ok(response, "POST", CALLS)

    def put_call(self, number: str, call_id: str, body: dict[str, Any],
                 headers: dict[str, str] | None = None) -> httpx.Response:
        return self.c.put(f"{B}/endpoints/{number}/calls/{call_id}", json=body, headers=headers or self.admin)

    def act(self, number: str, call_id: str, action: str, headers: dict[str, str] | None = None,
            **body: Any) -> dict[str, Any]:
        return ok(self.put_call(number, call_id, {"action": action, **body}, headers), "PUT", CALL)

    def gone(self, number: str, call_id: str) -> None:
        """The leg is no longer an active call of the endpoint."""
        expect_error(self.c.get(f"{B}/endpoints/{number}/calls/{call_id}", headers=self.admin), 404, "GET", CALL,
                     "CallNotFound")

    # ------------------------------------------------------------------ simulator and clock (see Control)
    def agent(self, number: str, **body: Any) -> dict[str, Any]:
        """The contact-center agent at extension ``number`` (one of ``ACME_USERS``)."""
        return super().agent(ACME_USERS[number], **body)

    def records(self, headers: dict[str, str] | None = None, **params: str) -> list[dict[str, Any]]:
        body = ok(self.c.get(f"{B}/calls/records", params=params, headers=headers or self.admin), "GET",
                  "/calls/records")
        return body["_embedded"]["items"]


def leg_states(live_call: dict[str, Any]) -> dict[str, str]:
    """``{endpointId: state}`` of one live call from ``GET /_callyard/sim/calls``."""
    return {leg["endpointId"]: leg["state"] for leg in live_call["legs"]}


class Events:
    """Collects the engine's ``call.state`` events from the in-process bus of the live server."""

    def __init__(self, bus: Any) -> None:
        self.all: list[Any] = []
        self._since = 0
        self._unsubscribe = bus.subscribe(self._on)

    def _on(self, event: Any) -> None:
        if event.type == "call.state":
            self.all.append(event)

    def close(self) -> None:
        self._unsubscribe()

    @property
    def items(self) -> list[Any]:
        """The events since the last ``clear()``."""
        return self.all[self._since:]

    def clear(self) -> None:
        self._since = len(self.all)

    def of(self, leg_id: str) -> list[dict[str, Any]]:
        return [e.data for e in self.items if e.data["legId"] == leg_id]

    def states(self, leg_id: str) -> list[str]:
        return [d["state"] for d in self.of(leg_id)]

    def assert_consistent(self, engine: Any) -> None:
        """Every state change was announced: each live leg is in the state of its last event, each leg that
        left the engine last said ``completed``, and a call's sequence numbers only go up."""
        last: dict[tuple[str | None, str], dict[str, Any]] = {}
        sequences: dict[str, list[int]] = {}
        for event in self.all:
            last[(event.account_id, event.data["legId"])] = event.data
            sequences.setdefault(event.data["callId"], []).append(event.data["sequence"])
        live = dict(engine.legs)
        for (account_id, leg_id), leg in live.items():
            seen = last.get((account_id, leg_id))
            assert seen is not None, f"leg {leg_id} ({leg.endpoint.number}) was never announced"
            assert seen["state"] == leg.state, \
                f"leg {leg_id} ({leg.endpoint.number}) is {leg.state} but its last event said {seen['state']}"
        for key, data in last.items():
            if key not in live:
                assert data["state"] == "completed", f"leg {key[1]} left without a completed event: {data}"
        for call_id, seen in sequences.items():
            assert seen == sorted(set(seen)), f"call {call_id}: sequence numbers {seen}"
