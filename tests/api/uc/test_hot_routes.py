"""The hot CTI hold and resume (``callyard.api.hot``) answer what FastAPI's routes of the same operations
answer: the same CallState (the response model's encoding) and, byte for byte, the same refusals."""
from __future__ import annotations

import httpx

from tests.support.hot import cold, edge_of

X = "+16135550123"


def answers(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = sorted((k, v) for k, v in response.headers.items() if k not in ("date", "x-mitel-correlation-id"))
    return response.status_code, response.content, headers


def both(server, c: httpx.Client, method: str, path: str, **kwargs) -> tuple[httpx.Response, httpx.Response]:
    hot = c.request(method, path, **kwargs)
    with cold(server.app):
        slow = c.request(method, path, **kwargs)
    return hot, slow


def test_hold_and_resume_hot_and_cold_answer_alike(server, cti, devices) -> None:
    alice, bob = cti("alice"), cti("bob")
    made = alice.make(devices("2880"), "2881")
    bob.post(f"/calls/{bob.only_call()['callId']}/answer/{devices('2881')}")
    call = f"{alice.base}/calls/{made['callId']}"
    c, headers = alice.c, alice.headers
    assert edge_of(server.app).routes.index.match("POST", f"{call}/hold") is not None   # served hot

    held = c.post(f"{call}/hold", headers=headers, json={"stateToken": alice.call(made["callId"])["stateToken"]})
    alice.openapi.check(held)
    assert held.status_code == 200 and held.json()["status"] == "HELD"
    resumed = c.post(f"{call}/resume", headers=headers)                   # no body: no state token to check
    assert resumed.status_code == 200 and resumed.json()["status"] == "ACTIVE"
    with cold(server.app):
        held_cold = c.post(f"{call}/hold", headers=headers, json={"stateToken": resumed.json()["stateToken"]})
    assert held_cold.status_code == 200
    same = {**held_cold.json(), "stateToken": held.json()["stateToken"]}
    assert same == held.json() and held.headers["content-type"] == held_cold.headers["content-type"]

    current = alice.call(made["callId"])
    for body in ({"stateToken": current["stateToken"] - 1}, {"stateToken": "x"}, {"stateToken": True},
                 {"stateToken": 1, "colour": "red"}, [1], {"stateToken": 2 ** 70}):
        hot, slow = both(server, c, "POST", f"{call}/resume", headers=headers, json=body)
        assert hot.status_code in (400, 409) and answers(hot) == answers(slow), (body, hot.text, slow.text)
    for content, content_type in ((b"{bad", "application/json"), (b"{}", "text/plain")):
        hot, slow = both(server, c, "POST", f"{call}/resume", headers={**headers, "content-type": content_type},
                         content=content)
        assert hot.status_code >= 400 and answers(hot) == answers(slow), (content, hot.text)
    assert alice.call(made["callId"]) == current                         # the refusals changed nothing


def test_other_users_tenants_and_no_ticket_are_refused_alike(server, cti, devices, ticket) -> None:
    alice, bob = cti("alice"), cti("bob")
    made = alice.make(devices("2880"), "2881")
    bob.post(f"/calls/{bob.only_call()['callId']}/answer/{devices('2881')}")
    current = alice.call(made["callId"])
    call = f"{alice.base}/calls/{made['callId']}/hold"
    globex = ticket("erin@globex.example", ("CALL_CONTROL",))
    for headers in ({}, bob.headers, globex, {"Authorization": "Bearer 1.nope"}):
        hot, slow = both(server, alice.c, "POST", call, headers=headers)
        assert hot.status_code in (401, 403, 404) and answers(hot) == answers(slow), (headers, hot.text)
    hot, slow = both(server, alice.c, "POST", f"{alice.base}/calls/nope/hold", headers=alice.headers)
    assert hot.status_code == 404 and answers(hot) == answers(slow)
    assert alice.call(made["callId"]) == current
