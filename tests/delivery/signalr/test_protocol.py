"""The SignalR 2 wire protocol at the HTTP level, with plain httpx: negotiate, the tokens, long polling, send,
hub results and errors, abort, ping, the connection lifecycle and the bounded buffer."""
from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import quote

import httpx
import pytest

from tests.delivery.signalr.conftest import BASE

ALICE = {"sessionid": "Bearer tok-alice"}


def negotiate(http: httpx.Client, params: dict[str, str] | None = None, path: str = BASE, **extra: str) -> Any:
    response = http.get(f"{path}/negotiate", params={**ALICE, "clientProtocol": "2.1", **(params or {}), **extra})
    assert response.status_code == 200, response.text
    return response.json()


def q(token: str, transport: str = "longPolling", who: dict[str, str] = ALICE, **extra: str) -> dict[str, str]:
    return {**who, "transport": transport, "clientProtocol": "2.1", "connectionToken": token, **extra}


def lp_connection(http: httpx.Client, who: dict[str, str] = ALICE) -> tuple[str, str, dict[str, Any]]:
    body = negotiate(http, who)
    token = body["ConnectionToken"]
    init = http.post(f"{BASE}/connect", params=q(token, who=who))
    assert init.status_code == 200, init.text
    started = http.get(f"{BASE}/start", params=q(token, who=who))
    assert started.json() == {"Response": "started"}
    return token, body["ConnectionId"], init.json()


def send(http: httpx.Client, token: str, invocation: dict[str, Any], who: dict[str, str] = ALICE,
         transport: str = "longPolling") -> httpx.Response:
    return http.post(f"{BASE}/send", params=q(token, transport, who=who), data={"data": json.dumps(invocation)})


def call(http: httpx.Client, token: str, method: str, *args: Any, hub: str = "testhub", **extra: Any) -> Any:
    response = send(http, token, {"H": hub, "M": method, "A": list(args), "I": 7, **extra})
    assert response.status_code == 200, response.text
    return response.json()


def poll(http: httpx.Client, token: str, cursor: str, **form: str) -> Any:
    response = http.post(f"{BASE}/poll", params=q(token), data={"messageId": cursor, **form})
    assert response.status_code == 200, response.text
    return response.json()


# ------------------------------------------------------------------------------------------ negotiate
def test_negotiate_answers_the_classic_shape(http: httpx.Client) -> None:
    body = negotiate(http, connectionData=json.dumps([{"name": "testhub"}]))
    assert body["Url"] == BASE
    assert body["TryWebSockets"] is True
    assert body["ProtocolVersion"] == "2.0"
    assert (body["KeepAliveTimeout"], body["DisconnectTimeout"], body["ConnectionTimeout"]) == (2.0, 3.0, 1.5)
    assert body["TransportConnectTimeout"] == 5.0 and body["LongPollDelay"] == 0.0
    assert "WebSocketServerUrl" in body and body["WebSocketServerUrl"] is None
    assert "availableTransports" not in body      # the classic client refuses a Core server's negotiate
    assert body["ConnectionId"] and body["ConnectionToken"] and body["ConnectionId"] not in ("", None)
    assert negotiate(http)["ConnectionId"] != body["ConnectionId"]


@pytest.mark.parametrize(("sent", "answered"), [("1.3", "1.3"), ("1.4", "1.4"), ("1.5", "1.5"), ("2.0", "2.0"),
                                                ("2.1", "2.0"), ("1.0", "1.2"), ("junk", "1.2")])
def test_protocol_version_echoes_the_client_clamped(http: httpx.Client, sent: str, answered: str) -> None:
    assert negotiate(http, clientProtocol=sent)["ProtocolVersion"] == answered


@pytest.mark.parametrize("path", ["/MiccSdk/signalr", "/miccsdk//signalr", "/MICCSDK/SignalR/", "/miccsdk/signalr/"])
def test_the_base_path_is_matched_in_any_case_and_with_stray_slashes(http: httpx.Client, path: str) -> None:
    body = negotiate(http, path=path)
    assert body["Url"].lower().rstrip("/").replace("//", "/") == BASE
    assert http.get(f"{path}/ping", params=ALICE).json() == {"Response": "pong"}


def test_the_credential_is_required_and_may_come_as_a_header(http: httpx.Client) -> None:
    assert http.get(f"{BASE}/negotiate").status_code == 401
    assert http.get(f"{BASE}/negotiate", params={"sessionid": "Bearer nope"}).status_code == 401
    assert http.get(f"{BASE}/ping").status_code == 401
    assert http.get(f"{BASE}/negotiate", params={"sessionid": "Bearer tok-boom"}).status_code == 401  # not a 500
    header = http.get(f"{BASE}/negotiate", headers={"Authorization": "Bearer tok-alice"})
    assert header.status_code == 200 and header.json()["ConnectionToken"]


def test_unknown_hubs_in_connection_data_are_refused(http: httpx.Client) -> None:
    response = http.get(f"{BASE}/negotiate", params={**ALICE, "connectionData": json.dumps([{"name": "nohub"}])})
    assert response.status_code == 400 and "nohub" in response.text
    assert http.get(f"{BASE}/negotiate", params={**ALICE, "connectionData": "{bad"}).status_code == 400


def test_anything_else_under_the_base_is_not_an_endpoint(http: httpx.Client) -> None:
    assert http.get(f"{BASE}/hubs", params=ALICE).status_code == 404


# ------------------------------------------------------------------------------------------ transports and tokens
def test_forever_frame_and_unknown_transports_are_refused(http: httpx.Client) -> None:
    token = negotiate(http)["ConnectionToken"]
    forever = http.get(f"{BASE}/connect", params=q(token, "foreverFrame"))
    assert forever.status_code == 400 and "foreverFrame" in forever.text
    assert http.get(f"{BASE}/connect", params=q(token, "carrierPigeon")).status_code == 400
    assert http.get(f"{BASE}/connect", params={**ALICE, "connectionToken": token}).status_code == 400
    assert http.get(f"{BASE}/connect", params=q(token, "webSockets")).status_code == 400   # not an upgrade


def test_a_tampered_token_is_refused_and_another_principals_is_forbidden(http: httpx.Client) -> None:
    token = negotiate(http)["ConnectionToken"]
    body, _, mac = token.rpartition(".")
    tampered = body[:-2] + ("AA" if body[-2:] != "AA" else "BB") + "." + mac
    assert http.post(f"{BASE}/connect", params=q(tampered)).status_code == 400
    assert http.post(f"{BASE}/connect", params=q("garbage")).status_code == 400
    assert http.post(f"{BASE}/connect", params=q("")).status_code == 400
    stolen = http.post(f"{BASE}/connect", params=q(token, who={"sessionid": "Bearer tok-bob"}))
    assert stolen.status_code == 403
    # and a live connection cannot be used with bob's credentials either
    token, _, _ = lp_connection(http)
    assert send(http, token, {"H": "testhub", "M": "whoAmI", "A": [], "I": 1},
                who={"sessionid": "Bearer tok-bob"}).status_code == 403
    assert http.post(f"{BASE}/poll", params=q(token, who={"sessionid": "Bearer tok-erin"})).status_code == 403


def test_long_polling_connect_start_send_and_poll(http: httpx.Client) -> None:
    token, connection_id, init = lp_connection(http)
    assert init["S"] == 1 and init["M"] == [] and "C" in init
    assert call(http, token, "add", 2, 3) == {"I": "7", "R": 5}
    assert call(http, token, "whoami") == {"I": "7", "R": "alice"}     # method names in any case
    assert call(http, token, "echo", {"a": [1, None]}, hub="TESTHUB") == {"I": "7", "R": {"a": [1, None]}}
    assert call(http, token, "monitor", "news")["R"] == ["news"]
    started = time.monotonic()
    first = poll(http, token, init["C"])              # the group change comes with a groups token
    assert "G" in first and first["M"] == [] and time.monotonic() - started < 1
    assert http.post("/_test/push", json={"hub": "testhub", "method": "announced", "args": ["hi", "x"],
                                          "group": "news"}).json() == {"reached": 1}
    second = poll(http, token, first["C"], groupsToken=first["G"])
    assert second["M"] == [{"H": "testHub", "M": "announced", "A": ["hi", "x"]}]
    assert int(second["C"]) > int(first["C"])
    started = time.monotonic()
    empty = poll(http, token, second["C"])           # nothing new: held for the connection timeout (1.5 s)
    assert empty["M"] == [] and empty["C"] == second["C"] and 1.2 < time.monotonic() - started < 4
    listed = {c["id"]: c for c in http.get("/_test/connections").json()}
    assert listed[connection_id]["groups"] == ["testhub.news"] and listed[connection_id]["identity"] == "alice"


def test_a_poll_is_answered_as_soon_as_a_message_arrives(http: httpx.Client) -> None:
    import threading

    token, _, init = lp_connection(http)
    call(http, token, "monitor", "soon")
    cursor = poll(http, token, init["C"])["C"]
    timer = threading.Timer(0.3, lambda: httpx.post(f"{str(http.base_url).rstrip('/')}/_test/push", json={
        "hub": "testHub", "method": "announced", "args": ["now", "x"], "group": "soon"}))
    timer.start()
    started = time.monotonic()
    body = poll(http, token, cursor)
    assert body["M"][0]["A"] == ["now", "x"] and time.monotonic() - started < 1.4
    timer.join()


def test_a_protocol_13_client_works_without_start(http: httpx.Client) -> None:
    body = negotiate(http, clientProtocol="1.3")
    assert body["ProtocolVersion"] == "1.3" and "WebSocketServerUrl" not in body
    token = body["ConnectionToken"]
    params = {**q(token), "clientProtocol": "1.3"}
    init = http.get(f"{BASE}/connect", params=params).json()
    assert init["S"] == 1
    listed = {c["id"]: c for c in http.get("/_test/connections").json()}
    assert listed[body["ConnectionId"]]["started"] is True and listed[body["ConnectionId"]]["protocol"] == "1.3"
    result = http.post(f"{BASE}/send", params=params,
                       data={"data": json.dumps({"H": "testhub", "M": "add", "A": [1, 1], "I": 0})})
    assert result.json() == {"I": "0", "R": 2}


# ------------------------------------------------------------------------------------------ hub results and errors
GENERIC = "There was an error invoking Hub method '{}.{}'."


def test_unknown_hubs_and_methods_and_bad_arguments_answer_the_generic_error(http: httpx.Client) -> None:
    token, _, _ = lp_connection(http)
    assert call(http, token, "add", hub="nohub") == {"I": "7", "E": GENERIC.format("nohub", "add")}
    assert call(http, token, "nomethod") == {"I": "7", "E": GENERIC.format("testhub", "nomethod")}
    assert call(http, token, "not_a_hub_method") == {"I": "7", "E": GENERIC.format("testhub", "not_a_hub_method")}
    assert call(http, token, "context") == {"I": "7", "E": GENERIC.format("testhub", "context")}
    assert call(http, token, "add", 1) == {"I": "7", "E": GENERIC.format("testhub", "add")}
    assert call(http, token, "hello", hub="otherhub") == {"I": "7", "R": "hello from other"}


def test_a_failing_hub_method_does_not_leak_its_internals(http: httpx.Client) -> None:
    token, _, _ = lp_connection(http)
    body = call(http, token, "crash")
    assert body == {"I": "7", "E": GENERIC.format("testhub", "crash")}
    assert "secret" not in json.dumps(body)


def test_a_hub_error_reaches_the_client_with_its_data(http: httpx.Client) -> None:
    token, _, _ = lp_connection(http)
    assert call(http, token, "refuse") == {"I": "7", "E": "You may not do that.", "H": True, "D": {"code": 42}}


def test_hub_state_round_trips(http: httpx.Client) -> None:
    token, _, _ = lp_connection(http)
    # the result carries what the method changed (StateChangeTracker), not what it left alone
    assert call(http, token, "count", S={"count": 41, "name": "x"}) == {"I": "7", "S": {"count": 42}, "R": 42}
    assert call(http, token, "count") == {"I": "7", "S": {"count": 1}, "R": 1}
    assert call(http, token, "add", 1, 2, S={"name": "x"}) == {"I": "7", "R": 3}     # nothing changed


def test_send_without_an_invocation_is_a_clear_400(http: httpx.Client) -> None:
    token, _, _ = lp_connection(http)
    assert http.post(f"{BASE}/send", params=q(token), data={"data": "{}"}).status_code == 400
    assert http.post(f"{BASE}/send", params=q(token), data={}).status_code == 400
    assert http.post(f"{BASE}/send", params=q(token), data={"data": "not json"}).status_code == 400


# ------------------------------------------------------------------------------------------ routing of pushes
def test_pushes_reach_members_of_the_group_in_the_senders_tenant_only(http: httpx.Client) -> None:
    alice, _, a0 = lp_connection(http)
    bob, _, b0 = lp_connection(http, {"sessionid": "Bearer tok-bob"})
    erin, _, e0 = lp_connection(http, {"sessionid": "Bearer tok-erin"})
    quiet, _, q0 = lp_connection(http)
    for token, who in ((alice, ALICE), (bob, {"sessionid": "Bearer tok-bob"}),
                       (erin, {"sessionid": "Bearer tok-erin"})):
        response = send(http, token, {"H": "testHub", "M": "monitor", "A": ["lobby"], "I": 1}, who=who)
        assert response.json()["R"] == ["lobby"]
    reached = send(http, alice, {"H": "testHub", "M": "announce", "A": ["lobby", "hello"], "I": 2})
    assert reached.json() == {"I": "2", "R": 2}            # alice and bob (acme), not erin (globex)

    def messages(token: str, who: dict[str, str], cursor: str) -> list[Any]:
        response = http.post(f"{BASE}/poll", params=q(token, who=who), data={"messageId": cursor})
        return response.json()["M"]
    assert messages(alice, ALICE, a0["C"]) == [{"H": "testHub", "M": "announced", "A": ["hello", "alice"]}]
    assert messages(bob, {"sessionid": "Bearer tok-bob"}, b0["C"])[0]["A"] == ["hello", "alice"]
    assert messages(erin, {"sessionid": "Bearer tok-erin"}, e0["C"]) == []
    assert messages(quiet, ALICE, q0["C"]) == []


def test_caller_pushes_reach_only_the_calling_connection(http: httpx.Client) -> None:
    token, _, init = lp_connection(http)
    other, _, other_init = lp_connection(http)
    assert call(http, token, "ping_me", "yo")["R"] is True
    assert poll(http, token, init["C"])["M"] == [{"H": "testHub", "M": "pinged", "A": ["yo"]}]
    assert poll(http, other, other_init["C"])["M"] == []


# ------------------------------------------------------------------------------------------ lifecycle
def test_reconnect_replays_what_the_connection_missed(http: httpx.Client) -> None:
    token, _, init = lp_connection(http)
    call(http, token, "monitor", "replay")
    cursor = poll(http, token, init["C"])["C"]
    for n in range(3):
        http.post("/_test/push", json={"hub": "testHub", "method": "announced", "args": [n, "x"], "group": "replay"})
    first = poll(http, token, cursor)
    assert [m["A"][0] for m in first["M"]] == [0, 1, 2]
    # the client lost that response: it reconnects from the cursor it had and gets the same messages again
    again = http.post(f"{BASE}/reconnect", params=q(token), data={"messageId": cursor}).json()
    assert [m["A"][0] for m in again["M"]] == [0, 1, 2] and again["C"] == first["C"]
    # a reconnect from the newest cursor has nothing to replay
    assert http.post(f"{BASE}/reconnect", params=q(token), data={"messageId": first["C"]}).json()["M"] == []
    assert http.post(f"{BASE}/poll", params=q(token), data={"messageId": "x"}).status_code == 400


def test_a_forgotten_connection_comes_back_in_the_groups_its_groups_token_names(http: httpx.Client) -> None:
    token, connection_id, init = lp_connection(http)
    call(http, token, "monitor", "kept")
    first = poll(http, token, init["C"])
    groups = first["G"]
    time.sleep(3.8)                    # nobody polled for the disconnect timeout: the server forgot it
    assert connection_id not in {c["id"] for c in http.get("/_test/connections").json()}
    tampered = groups[:-3] + ("AAA" if groups[-3:] != "AAA" else "BBB")
    again = http.post(f"{BASE}/reconnect", params=q(token), data={"messageId": first["C"], "groupsToken": tampered})
    assert again.status_code == 200
    listed = {c["id"]: c for c in http.get("/_test/connections").json()}
    assert listed[connection_id]["groups"] == []           # an altered groups token restores nothing
    http.post(f"{BASE}/abort", params=q(token))
    other, other_id, other_init = lp_connection(http)
    call(http, other, "monitor", "kept")
    other_groups = poll(http, other, other_init["C"])["G"]
    time.sleep(3.8)
    again = http.post(f"{BASE}/reconnect", params=q(other), data={"messageId": "1", "groupsToken": other_groups})
    assert again.status_code == 200
    listed = {c["id"]: c for c in http.get("/_test/connections").json()}
    assert listed[other_id]["groups"] == ["testhub.kept"]
    assert http.post("/_test/push", json={"hub": "testHub", "method": "announced", "args": ["back", "x"],
                                          "group": "kept"}).json() == {"reached": 1}
    assert poll(http, other, again.json()["C"])["M"][0]["A"] == ["back", "x"]
    # a groups token is bound to its connection: another connection cannot borrow it
    fresh = negotiate(http)
    borrowed = http.post(f"{BASE}/reconnect", params=q(fresh["ConnectionToken"]),
                         data={"messageId": "0", "groupsToken": other_groups})
    assert borrowed.status_code == 200
    listed = {c["id"]: c for c in http.get("/_test/connections").json()}
    assert listed[fresh["ConnectionId"]]["groups"] == []


def test_abort_ends_the_connection(http: httpx.Client) -> None:
    token, connection_id, init = lp_connection(http)
    assert http.post(f"{BASE}/abort", params=q(token)).status_code == 200
    assert connection_id not in {c["id"] for c in http.get("/_test/connections").json()}
    assert send(http, token, {"H": "testHub", "M": "add", "A": [1, 2], "I": 1}).status_code == 400
    assert http.post(f"{BASE}/poll", params=q(token), data={"messageId": init["C"]}).status_code == 400
    assert http.post(f"{BASE}/connect", params=q(token)).status_code == 400


def test_a_connection_nobody_polls_is_disconnected_after_the_timeout(http: httpx.Client) -> None:
    token, connection_id, _ = lp_connection(http)
    assert connection_id in {c["id"] for c in http.get("/_test/connections").json()}
    time.sleep(3.8)
    assert connection_id not in {c["id"] for c in http.get("/_test/connections").json()}
    assert send(http, token, {"H": "testHub", "M": "add", "A": [1, 2], "I": 1}).status_code == 400


def test_a_client_that_cannot_keep_up_is_dropped_and_others_are_not_held_up(http: httpx.Client) -> None:
    slow, slow_id, _ = lp_connection(http)
    fast, fast_id, fast_init = lp_connection(http)
    call(http, slow, "monitor", "flood")
    started = time.monotonic()
    for n in range(60):                 # more than the buffer (50) while the slow client never polls
        http.post("/_test/push", json={"hub": "testHub", "method": "announced", "args": [n, "x"], "group": "flood"})
    assert time.monotonic() - started < 5
    ids = {c["id"] for c in http.get("/_test/connections").json()}
    assert slow_id not in ids and fast_id in ids
    assert http.post("/_test/push", json={"hub": "testHub", "method": "announced", "args": ["direct", "x"],
                                          "connection_ids": [fast_id]}).json() == {"reached": 1}
    assert poll(http, fast, fast_init["C"])["M"][0]["A"][0] == "direct"
    assert http.post(f"{BASE}/poll", params=q(slow), data={"messageId": "0"}).status_code == 400


def test_close_connections_of_a_principal(http: httpx.Client) -> None:
    import threading

    bob = {"sessionid": "Bearer tok-bob"}
    token, connection_id, init = lp_connection(http, bob)
    mine, my_id, _ = lp_connection(http)
    answered: list[Any] = []
    polling = threading.Thread(target=lambda: answered.append(http.post(
        f"{BASE}/poll", params=q(token, who=bob), data={"messageId": init["C"]}).json()))
    polling.start()
    time.sleep(0.3)
    assert http.post("/_test/revoke", params={"identity": "bob"}).json()["closed"] == 1
    polling.join(5)
    assert answered and answered[0]["E"] == "the credential was revoked"   # the held poll ends with E at once
    ids = {c["id"] for c in http.get("/_test/connections").json()}
    assert connection_id not in ids and my_id in ids
    assert http.post(f"{BASE}/poll", params=q(token, who=bob), data={"messageId": "0"}).status_code == 400
    for how in ("principal", "predicate"):         # the same by principal object and by predicate
        again, again_id, _ = lp_connection(http, bob)
        assert http.post("/_test/revoke", params={"identity": "bob", "as": how}).json()["closed"] == 1
        assert again_id not in {c["id"] for c in http.get("/_test/connections").json()}


def test_ping(http: httpx.Client) -> None:
    response = http.get(f"{BASE}/ping", params={**ALICE, "_": "1"})
    assert response.status_code == 200 and response.json() == {"Response": "pong"}
    assert http.post(f"{BASE}/ping", params=ALICE).json() == {"Response": "pong"}


def test_url_encoded_bearer_credential(http: httpx.Client) -> None:
    response = http.get(f"{BASE}/negotiate?sessionid={quote('Bearer tok-alice')}&clientProtocol=1.5")
    assert response.status_code == 200 and response.json()["ProtocolVersion"] == "1.5"
