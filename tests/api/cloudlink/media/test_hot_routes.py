"""The hot routes (``callyard.api.hot``) answer byte for byte what FastAPI's route of the same operation
answers. At the root a Media call GET/PUT and ``GET /2017-09-01/users`` are served hot; under a service
prefix (``/media/2017-09-01/…``, ``/admin/2017-09-01/…``) the same operation goes through FastAPI. The server's
clock is manual, so the same request on the same state gives the same bytes on both paths."""
from __future__ import annotations

import httpx
import pytest

from tests.support.pbx import B, Pbx

X = "+16135550123"


def answers(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    """Status, body and headers, without the two that differ per request by design."""
    headers = sorted((k, v) for k, v in response.headers.items() if k not in ("date", "x-mitel-correlation-id"))
    return response.status_code, response.content, headers


def both(c: httpx.Client, method: str, path: str, service: str, **kwargs: object) -> tuple[httpx.Response, ...]:
    hot = c.request(method, path, **kwargs)  # type: ignore[arg-type]
    cold = c.request(method, f"/{service}{path}", **kwargs)  # type: ignore[arg-type]
    return hot, cold


def test_a_call_read_through_either_path_is_the_same_bytes(pbx: Pbx, as_user) -> None:
    bob = as_user("bob@acme.example")
    pbx.dial_in(X, "2881")
    pbx.phone("2881", "answer")
    leg = pbx.only_call("2881", bob)["callId"]
    hot, cold = both(pbx.c, "GET", f"{B}/endpoints/2881/calls/{leg}", "media", headers=bob)
    assert hot.status_code == 200 and answers(hot) == answers(cold)
    assert hot.json()["callId"] == leg and hot.json()["state"] == "connected"


@pytest.mark.parametrize("body", [
    {"action": "nope"}, {"action": "dtmf"}, {"action": "hold", "colour": "red"}, {"action": 7}, ["hold"],
    {"action": "hold", "args": 12}, {"action": "blindTransfer", "args": "2882", "destination": "2883"},
    {"action": "redirect"}, {}, "hold"])
def test_refusals_are_the_same_bytes_and_change_nothing(pbx: Pbx, as_user, body: object) -> None:
    bob = as_user("bob@acme.example")
    pbx.dial_in(X, "2881")
    pbx.phone("2881", "answer")
    call = pbx.only_call("2881", bob)
    path = f"{B}/endpoints/2881/calls/{call['callId']}"
    hot, cold = both(pbx.c, "PUT", path, "media", json=body, headers=bob)
    assert hot.status_code == 400 and answers(hot) == answers(cold), (hot.text, cold.text)
    assert pbx.call("2881", call["callId"], bob) == call


def test_bodies_that_are_not_json_objects_are_refused_alike(pbx: Pbx, as_user) -> None:
    bob = as_user("bob@acme.example")
    pbx.dial_in(X, "2881")
    pbx.phone("2881", "answer")
    path = f"{B}/endpoints/2881/calls/{pbx.only_call('2881', bob)['callId']}"
    for content, content_type in ((b"{bad", "application/json"), (b'{"action": "hold"}', "text/plain"),
                                  (b"", "application/json"), (b'{"action": "hold"}', None)):
        headers = {**bob, **({"content-type": content_type} if content_type else {})}
        hot, cold = both(pbx.c, "PUT", path, "media", content=content, headers=headers)
        assert hot.status_code >= 400 and answers(hot) == answers(cold), (content, hot.text, cold.text)


def test_call_control_through_the_hot_path(pbx: Pbx, as_user) -> None:
    bob = as_user("bob@acme.example")
    pbx.dial_in(X, "2881")
    pbx.phone("2881", "answer")
    leg = pbx.only_call("2881", bob)["callId"]
    path = f"{B}/endpoints/2881/calls/{leg}"
    held = pbx.c.put(path, json={"action": "hold"}, headers=bob)
    assert held.status_code == 200 and held.json()["state"] == "held"
    assert pbx.c.get(f"/media{path}", headers=bob).json()["state"] == "held"
    back = pbx.c.put(path, json={"action": "retrieve", "args": None}, headers=bob)
    assert back.status_code == 200 and back.json()["state"] == "connected"
    dtmf = pbx.c.put(path, json={"action": "dtmf", "args": "42"}, headers=bob)
    assert dtmf.status_code == 200 and '"dtmf":"42"' in dtmf.json()["extraPbxData"]
    # no token, a token of another tenant: the same answers as FastAPI's route, nothing changes
    for headers in ({}, as_user("erin@globex.example"), {"Authorization": "Bearer not-a-token"}):
        hot, cold = both(pbx.c, "PUT", path, "media", json={"action": "hold"}, headers=headers)
        assert hot.status_code in (401, 403, 404) and answers(hot) == answers(cold)
    assert pbx.call("2881", leg, bob)["state"] == "connected"


def test_users_through_either_path_are_the_same_bytes(pbx: Pbx, as_user) -> None:
    admin = as_user("admin@acme.example")
    for query in ("", "?$top=2&$count=true", "?$filter=role eq 'USER'&$orderby=email", "?$top=x", "?$expand=tags",
                  f"?accountId={'0' * 8}"):
        hot, cold = both(pbx.c, "GET", f"{B}/users{query}", "admin", headers=admin)
        cold_body = cold.content.replace(b"/admin/2017-09-01", b"/2017-09-01")   # links name the path asked for
        assert hot.status_code == cold.status_code and hot.content == cold_body, (query, hot.text, cold.text)
    globex = pbx.c.get(f"{B}/users", headers=as_user("erin@globex.example")).json()
    assert globex["_embedded"]["items"] and all(u["accountId"] != admin_account(pbx, admin)
                                                for u in globex["_embedded"]["items"])
    hot, cold = both(pbx.c, "GET", f"{B}/users", "admin")
    assert hot.status_code == 401 and answers(hot) == answers(cold)


def admin_account(pbx: Pbx, admin: dict[str, str]) -> str:
    return str(pbx.c.get(f"{B}/users", headers=admin).json()["_embedded"]["items"][0]["accountId"])

