"""The simulator's new-call cycle (an outside call, answer, hang up) is served hot (``callyard.api.hot``): the
answers are what FastAPI's routes of the same operations give (the same shape and values but for the new
ids), and every refusal is the same bytes."""
from __future__ import annotations

from typing import Any

import httpx

from tests.support.hot import cold, edge_of

ACME = "ac3e0000-0000-4000-8000-00000000ac3e"
SIM = "/_callyard/sim"


def answers(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = sorted((k, v) for k, v in response.headers.items() if k not in ("date", "x-mitel-correlation-id"))
    return response.status_code, response.content, headers


def masked(value: Any) -> Any:
    """The answer without what differs from one call to the next (ids, tokens)."""
    if isinstance(value, dict):
        return {k: ("…" if k in ("callId", "legId", "stateToken", "parties") else masked(v))
                for k, v in value.items() if k not in ("participants",)}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def cycle(client: httpx.Client, headers: dict[str, str], caller: str) -> list[httpx.Response]:
    q = f"?account={ACME}"
    made = client.post(f"{SIM}/calls{q}", headers=headers, json={"from": caller, "to": "2881", "fromName": "Pat"})
    answered = client.post(f"{SIM}/endpoints/2881/answer{q}", headers=headers)
    ended = client.post(f"{SIM}/endpoints/2881/hangup{q}", headers=headers, json={})
    return [made, answered, ended]


def hot_and_cold_alike(server, client, headers: dict[str, str], caller: str) -> list[httpx.Response]:
    """One call cycle on the hot routes and one on the FastAPI routes: each step succeeds and both answer
    alike (ids and times masked). Returns the hot cycle's answers."""
    hot = cycle(client, headers, caller)
    with cold(server.app):
        slow = cycle(client, headers, caller)
    for fast, reference in zip(hot, slow, strict=True):
        assert fast.status_code == reference.status_code and fast.status_code in (200, 201), fast.text
        assert masked(fast.json()) == masked(reference.json())
        assert fast.headers["content-type"] == reference.headers["content-type"]
    return hot


def test_a_call_answered_and_hung_up_hot_and_cold_answer_alike(server, client, operator) -> None:
    idle = client.get(f"{SIM}/calls?account={ACME}", headers=operator).json()
    index = edge_of(server.app).routes.index
    assert index.match("POST", f"{SIM}/calls") is not None
    assert index.match("POST", f"{SIM}/endpoints/2881/answer") is not None
    hot = hot_and_cold_alike(server, client, operator, "+14155550100")
    assert hot[0].status_code == 201 and hot[1].json()["state"] == "connected"
    assert hot[2].json()["state"] == "completed"
    assert client.get(f"{SIM}/calls?account={ACME}", headers=operator).json() == idle


def test_refusals_are_the_same_bytes_and_change_nothing(server, client, operator, alice) -> None:
    before = client.get(f"{SIM}/calls?account={ACME}", headers=operator).json()
    requests: list[tuple[str, dict[str, Any]]] = [
        (f"{SIM}/calls", {"json": {"from": "+14155550100"}}),                      # no "to"
        (f"{SIM}/calls", {"json": {"from": "", "to": "2881"}}),
        (f"{SIM}/calls", {"json": {"from": "+14155550100", "to": "2881", "priority": 101}}),
        (f"{SIM}/calls", {"json": {"from": "+14155550100", "to": "2881", "colour": "red"}}),
        (f"{SIM}/calls", {"json": {"from": 1, "to": "2881"}}),
        (f"{SIM}/calls", {"json": ["+14155550100"]}),
        (f"{SIM}/calls", {"content": b"{bad", "headers": {"content-type": "application/json"}}),
        (f"{SIM}/calls", {"content": b"{}", "headers": {"content-type": "text/plain"}}),
        (f"{SIM}/calls", {"json": {"from": "+14155550100", "to": "9999"}}),         # nobody there
        (f"{SIM}/endpoints/2881/answer", {}),                                     # nothing ringing
        (f"{SIM}/endpoints/2881/hangup", {"json": {"callId": 5}}),
        (f"{SIM}/endpoints/2881/hangup", {"json": {"device": "x", "extra": 1}}),
        (f"{SIM}/endpoints/2881/hangup", {"content": b"nope"}),
        (f"{SIM}/endpoints/9999/answer", {}),
        (f"{SIM}/endpoints/2881/dance", {}),
    ]
    for path, kwargs in requests:
        extra = kwargs.pop("headers", {})
        path = path if "?" in path else f"{path}?account={ACME}"
        for headers in ({**operator, **extra}, {**alice, **extra}, extra):     # alice is no admin; none: no token
            hot = client.post(path, headers=headers, **kwargs)
            with cold(server.app):
                slow = client.post(path, headers=headers, **kwargs)
            assert hot.status_code >= 400 and answers(hot) == answers(slow), (path, kwargs, hot.text, slow.text)
    assert client.get(f"{SIM}/calls?account={ACME}", headers=operator).json() == before


def test_the_operator_token_without_a_scheme_is_the_operator_on_both_paths(server, client, operator) -> None:
    """``routes.controller`` takes the operator token as sent, with or without ``Bearer``: so does the hot path."""
    raw = {"Authorization": operator["Authorization"].split(" ", 1)[1]}
    hot_and_cold_alike(server, client, raw, "+14155550101")
