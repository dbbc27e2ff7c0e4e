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


def _view(**overrides):
    view = {"stateToken": 7, "legId": "40000001", "callId": "c-1", "direction": "inbound", "from": "+16135550123",
            "fromName": "Caller", "to": "2880", "toName": "Alice", "state": "connected", "answeredOn": None,
            "endTime": None, "participants": [], "terminal": "2.soft", "actions": [], "cause": None}
    view.update(overrides)
    return view


def test_the_hot_encoding_of_a_call_state_is_the_response_models() -> None:
    """``control._encoded`` sends the dict's own JSON when it can: byte for byte what the model dumps, for call
    states of every shape ``wire.call_state`` builds; anything not of the model's types goes through the model."""
    from datetime import datetime, timezone

    import pytest
    from pydantic import ValidationError

    from callyard.api.uc.cti import control
    from callyard.api.uc.cti.wire import call_state

    now = datetime(2026, 1, 1, tzinfo=timezone.utc)
    devices = {"2.soft": "2.soft", "1.desk": "1.desk"}
    parties = [{"legId": "40000002", "number": "+16135550123", "name": "Caller", "kind": None},
               {"legId": "40000003", "number": "2881", "name": "", "kind": "extension", "intrusion": "BARGE"}]
    views = [
        _view(), _view(state="ringing", terminal=None), _view(state="held", answeredOn="2025-12-31T23:59:00Z"),
        _view(**{"direction": "outbound", "from": "2880", "to": "+16135550199", "toName": None}),
        _view(state="completed", cause="busy", endTime="2026-01-01T00:00:00Z"),
        _view(state="completed", cause="leftConference"), _view(state="completed", cause="transfer"),
        _view(queueId="q1", muted=True, intrusion="WHISPER"),
        _view(participants=parties, recordingInfo={"paused": False, "seconds": 12.5}),
        _view(recordingInfo={"paused": True, "seconds": 3}, cause="someCause"),
        _view(actions=[{"action": "HOLD", "terminals": ["2.soft", "9.gone"]}, {"action": "MOVE", "terminals": []}]),
        _view(to="sip:weird\"name\u00e9", toName="Ünïcødé \u2028", direction="outbound")]
    for view in views:
        for event in (None, "MUTED", "PARTICIPANT_ADDED"):
            state = call_state(view, devices, "acme.example", now, event)
            expected = control._CALL_STATE.dump_json(control._CALL_STATE.validate_python(state), by_alias=True)
            assert control._plain(state), state
            assert control._encoded(state) == expected, state
    odd = call_state(_view(stateToken=7.0), devices, "acme.example", now)    # not of the model's types
    assert not control._plain(odd)
    assert control._encoded(odd) == control._CALL_STATE.dump_json(control._CALL_STATE.validate_python(odd))
    bad = call_state(_view(actions=[{"action": "DANCE", "terminals": []}]), devices, "acme.example", now)
    assert not control._plain(bad)
    with pytest.raises(ValidationError):
        control._encoded(bad)


def _same_but_tokens(hot: httpx.Response, cold_: httpx.Response) -> bool:
    """Two successful answers of the same operation on calls in the same state: alike but for the state token
    (and the ids of two different calls)."""
    a, b = hot.json(), cold_.json()
    for doc in (a, b):
        doc.pop("stateToken"), doc.pop("callId"), doc.pop("correlationId"), doc.pop("conferenceId", None)
    return hot.status_code == cold_.status_code and a == b and hot.headers["content-type"] == \
        cold_.headers["content-type"]


def test_the_other_hot_call_verbs_answer_as_their_routes(server, cti, devices) -> None:
    """Answer, mute, unmute, DTMF, park, leave and hang up are served hot, and answer what FastAPI's routes
    answer: the same CallState (or the same empty 204), and byte for byte the same refusals."""
    alice, bob = cti("alice"), cti("bob")
    c, headers, soft = bob.c, bob.headers, devices("2881")
    index = edge_of(server.app).routes.index
    base = bob.base

    def ringing() -> str:
        alice.make(devices("2880"), "2881")
        return str(bob.only_call()["callId"])

    def established() -> str:
        call_id = ringing()
        assert c.post(f"{base}/calls/{call_id}/answer/{soft}", headers=headers).status_code == 200
        return call_id

    def hang_up_all() -> None:
        for call in bob.state()["calls"]:
            c.delete(f"{base}/calls/{call['callId']}", headers=headers)
        for call in alice.state()["calls"]:
            alice.c.delete(f"{alice.base}/calls/{call['callId']}", headers=alice.headers)

    # answer: hot and cold, without a body and with {}
    for body in (None, {}):
        hang_up_all()
        first = ringing()
        path = f"{base}/calls/{first}/answer/{soft}"
        assert index.match("POST", path) is not None
        hot = c.post(path, headers=headers, json=body) if body is not None else c.post(path, headers=headers)
        bob.openapi.check(hot)
        hang_up_all()
        second = ringing()
        with cold(server.app):
            path = f"{base}/calls/{second}/answer/{soft}"
            slow = c.post(path, headers=headers, json=body) if body is not None else c.post(path, headers=headers)
        assert hot.status_code == 200 and _same_but_tokens(hot, slow), (hot.text, slow.text)
    # answer refused alike: an unknown device, an inline webhook's fields the hot path leaves to FastAPI, a bad body
    hang_up_all()
    call_id = ringing()
    for path, kwargs in ((f"{base}/calls/{call_id}/answer/9.nope", {}),
                         (f"{base}/calls/{call_id}/answer/{soft}", {"json": {"targetId": "x"}}),
                         (f"{base}/calls/{call_id}/answer/{soft}", {"json": {"publicTarget": "maybe"}}),
                         (f"{base}/calls/{call_id}/answer/{soft}", {"json": [1]}),
                         (f"{base}/calls/nope/answer/{soft}", {})):
        hot, slow = both(server, c, "POST", path, headers=headers, **kwargs)
        assert hot.status_code >= 400 and answers(hot) == answers(slow), (path, kwargs, hot.text)

    # mute, unmute, DTMF, park on an established call: hot then cold on calls in the same state
    hang_up_all()
    for verb, body in (("mute", {}), ("unmute", None), ("dtmf", {"digits": "12#"}), ("park", {})):
        results = []
        for serve in ("hot", "cold"):
            hang_up_all()
            call_id = established()
            if verb == "unmute":
                assert c.post(f"{base}/calls/{call_id}/mute", headers=headers).status_code == 200
            path = f"{base}/calls/{call_id}/{verb}"
            assert index.match("POST", path) is not None
            kwargs = {} if body is None else {"json": body}
            if serve == "hot":
                results.append(c.post(path, headers=headers, **kwargs))
            else:
                with cold(server.app):
                    results.append(c.post(path, headers=headers, **kwargs))
        bob.openapi.check(results[0])
        assert results[0].status_code == 200 and _same_but_tokens(*results), (verb, results[0].text, results[1].text)

    # refusals alike: stale tokens, bodies the hot path leaves to FastAPI, other users, no ticket
    hang_up_all()
    call_id = established()
    current = bob.call(call_id)
    call = f"{base}/calls/{call_id}"
    cases = [("POST", f"{call}/mute", {"json": {"stateToken": current["stateToken"] - 1}}),
             ("POST", f"{call}/unmute", {"json": {"stateToken": "x"}}),
             ("POST", f"{call}/leave", {}),                                    # not a conference
             ("POST", f"{call}/dtmf", {}),                                      # no body: digits required
             ("POST", f"{call}/dtmf", {"json": {"digits": 5}}),
             ("POST", f"{call}/dtmf", {"json": {"digits": "XYZ"}}),
             ("POST", f"{call}/dtmf", {"json": {"digits": "1", "stateToken": current["stateToken"] - 1}}),
             ("POST", f"{call}/park", {"headers": {**headers, "content-type": "text/plain"}, "content": b"{}"}),
             ("DELETE", f"{base}/calls/nope", {}),
             ("POST", f"{alice.base}/calls/{call_id}/mute", {}),               # another user's path
             ("DELETE", call, {"headers": alice.headers}),
             ("DELETE", call, {"headers": {}}),
             ("DELETE", call, {"headers": {"Authorization": "Bearer 1.nope"}})]
    for method, path, kwargs in cases:
        kwargs = {"headers": headers, **kwargs}
        hot, slow = both(server, c, method, path, **kwargs)
        assert hot.status_code >= 400 and answers(hot) == answers(slow), (method, path, kwargs, hot.text, slow.text)
    assert bob.call(call_id) == current                                       # the refusals changed nothing

    # hang up: the same empty 204, hot and cold
    hot = c.delete(call, headers=headers)
    assert index.match("DELETE", call) is not None
    hang_up_all()
    other = established()
    with cold(server.app):
        slow = c.delete(f"{base}/calls/{other}", headers=headers)
    assert hot.status_code == 204 and answers(hot) == answers(slow), (hot.text, slow.text)
