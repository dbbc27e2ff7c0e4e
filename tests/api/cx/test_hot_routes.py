"""The hot ``PUT /employees/{id}/state`` (``callyard.api.hot``) answers what FastAPI's route of the same operation
answers: the same "OK" and the same state afterwards, and, byte for byte, the same refusals (bodies it declines,
the core's errors, a missing or foreign token)."""
from __future__ import annotations

from typing import Any

import httpx

from tests.api.cx.conftest import API, FOCUS, LOGIN, LUNCH
from tests.support.hot import cold, edge_of

STATE = f"{API}/employees/me/state"


def answers(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = sorted((k, v) for k, v in response.headers.items() if k not in ("date", "x-mitel-correlation-id"))
    return response.status_code, response.content, headers


def both(server: Any, c: httpx.Client, method: str, path: str, **kwargs: Any
         ) -> tuple[httpx.Response, httpx.Response]:
    hot = c.request(method, path, **kwargs)
    with cold(server.app):
        slow = c.request(method, path, **kwargs)
    return hot, slow


def presence(client: httpx.Client, headers: dict[str, str], who: str = "me") -> Any:
    response = client.get(f"{API}/employees/{who}/state", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["presence"]


def test_state_changes_hot_and_cold_answer_alike(server: Any, client: httpx.Client, cx_alice: dict) -> None:
    assert edge_of(server.app).routes.index.match("PUT", STATE.lower()) is not None   # served hot
    changes = (LOGIN, {"State": 2, "Reason": LUNCH}, {"state": "DoNotDisturb", "reason": "Focus"}, {"state": "Away"},
               {"state": "available"}, {"state": 5})

    def run() -> list[tuple[tuple[int, bytes, list[tuple[str, str]]], Any]]:
        seen = []
        for body in changes:
            response = client.put(STATE, headers=cx_alice, json=body)
            assert response.json() == "OK", (body, response.text)
            seen.append((answers(response), presence(client, cx_alice)))
        return seen

    hot = run()
    with cold(server.app):
        slow = run()
    assert hot == slow


def test_refusals_hot_and_cold_are_the_same_bytes(server: Any, client: httpx.Client, cx_alice: dict,
                                                  supervisor: dict) -> None:
    client.put(STATE, headers=cx_alice, json=LOGIN)
    before = presence(client, cx_alice)
    for body in ({"state": "Sleepy"}, {"state": 9}, {"state": 0}, {}, {"state": "Busy", "reason": FOCUS},
                 {"state": "Busy", "reason": "Nap"}, {"state": "Available", "hotDeskBaseExtension": "5000"},
                 {"state": "Busy", "reason": True}, [1], "Available", None):
        hot, slow = both(server, client, "PUT", STATE, headers=cx_alice, json=body)
        assert hot.status_code in (400, 404, 409) and answers(hot) == answers(slow), (body, hot.text, slow.text)
    for content, content_type in ((b"", "application/json"), (b"{nope", "application/json"),
                                  (b'{"state": "Busy", "reason": "Nap"}', "text/plain"), (b"[1]", "text/json")):
        hot, slow = both(server, client, "PUT", STATE, headers={**cx_alice, "content-type": content_type},
                         content=content)
        assert hot.status_code >= 400 and answers(hot) == answers(slow), (content, hot.text, slow.text)
    for headers in ({}, {"Authorization": "Bearer nope"}, {"Authorization": "Basic eDp5"}):
        hot, slow = both(server, client, "PUT", STATE, headers=headers, json=LOGIN)
        assert hot.status_code == 401 and answers(hot) == answers(slow), (headers, hot.text)
    hot, slow = both(server, client, "PUT", f"{API}/employees/carol/state", headers=cx_alice, json=LOGIN)
    assert hot.status_code == 403 and answers(hot) == answers(slow)
    hot, slow = both(server, client, "PUT", f"{API}/employees/nobody/state", headers=supervisor, json=LOGIN)
    assert hot.status_code == 404 and answers(hot) == answers(slow)
    assert presence(client, cx_alice) == before                              # the refusals changed nothing


def test_paths_in_any_case_are_served_hot_like_the_route(server: Any, client: httpx.Client, cx_alice: dict
                                                         ) -> None:
    hot, slow = both(server, client, "PUT", "/MiccSdk/Api/V1/Employees/ME/State", headers=cx_alice, json=LOGIN)
    assert answers(hot) == answers(slow) and hot.json() == "OK"
