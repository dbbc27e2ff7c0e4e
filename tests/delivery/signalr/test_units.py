"""The pure parts: protocol versions, tokens, framing, invocation parsing, the buffer and the group index."""
from __future__ import annotations

import json

import pytest

from callyard.delivery.signalr.connections import Connection, Connections
from callyard.delivery.signalr.protocol import (
    ProtocolError,
    Signer,
    connection_token,
    delays_start,
    groups_token,
    hub_result,
    parse_invocation,
    persistent_response,
    read_connection_token,
    read_groups_token,
    resolve_protocol,
)


@pytest.mark.parametrize(("sent", "answered"), [(None, "1.2"), ("", "1.2"), ("1.1", "1.2"), ("1.3", "1.3"),
                                                ("2.0", "2.0"), ("2.1", "2.0"), ("3.0", "2.0"), ("1.a", "1.2"),
                                                ("-1.5", "1.2"), ("1.5.1", "1.2")])
def test_protocol_resolution(sent: str | None, answered: str) -> None:
    assert resolve_protocol(sent) == answered


def test_delayed_start_from_protocol_1_4() -> None:
    assert [delays_start(v) for v in ("1.2", "1.3", "1.4", "1.5", "2.0")] == [False, False, True, True, True]


def test_connection_tokens_bind_the_owner_and_resist_tampering() -> None:
    signer = Signer(b"k" * 32)
    token = connection_token(signer, "c-1", "alice")
    assert read_connection_token(signer, token, "alice") == "c-1"
    with pytest.raises(ProtocolError) as other:
        read_connection_token(signer, token, "bob")
    assert other.value.status == 403
    for bad in ("", "x", token + "x", "Zm9v." + token.split(".")[1], token.replace(".", "")):
        with pytest.raises(ProtocolError) as refused:
            read_connection_token(signer, bad, "alice")
        assert refused.value.status == 400
    with pytest.raises(ProtocolError):
        read_connection_token(Signer(b"other" * 8), token, "alice")       # another server's key


def test_groups_tokens_are_bound_to_their_connection() -> None:
    signer = Signer(b"k" * 32)
    token = groups_token(signer, "c-1", ["hub.b", "hub.a"])
    assert read_groups_token(signer, token, "c-1") == ["hub.a", "hub.b"]
    assert read_groups_token(signer, token, "c-2") == []
    assert read_groups_token(signer, token[:-1], "c-1") == []
    assert read_groups_token(signer, None, "c-1") == []


def test_framing() -> None:
    assert json.loads(persistent_response(0, [], initialized=True)) == {"C": "0", "S": 1, "M": []}
    body = json.loads(persistent_response(7, ['{"H":"h","M":"m","A":[1]}'], groups="g", reconnect=True))
    assert body == {"C": "7", "T": 1, "G": "g", "M": [{"H": "h", "M": "m", "A": [1]}]}
    assert json.loads(hub_result("3", result=None)) == {"I": "3"}
    assert json.loads(hub_result("3", result=0)) == {"I": "3", "R": 0}
    assert json.loads(hub_result("3", error="no", hub_exception=True, error_data=[1], state={"a": 1})) == {
        "I": "3", "E": "no", "H": True, "D": [1], "S": {"a": 1}}


def test_invocation_parsing() -> None:
    call = parse_invocation('{"H":"hub","M":"go","A":[1,"x"],"I":5,"S":{"k":1}}')
    assert call is not None and (call.hub, call.method, call.args, call.id, call.state) == (
        "hub", "go", [1, "x"], "5", {"k": 1})
    assert parse_invocation("{}") is None and parse_invocation("nope") is None and parse_invocation("[]") is None
    assert parse_invocation('{"H":"h","M":"m","I":true}') is None
    odd = parse_invocation('{"H":1,"M":"m","A":"notalist","I":"9"}')
    assert odd is not None and odd.id == "9" and odd.args == []         # answered as a hub error
    big = parse_invocation(json.dumps({"H": "h", "M": "m", "A": [], "I": 1, "S": {"x": "y" * 5000}}))
    assert big is not None and big.state is None                         # state over 4096 chars is dropped


def test_the_buffer_replays_and_bounds() -> None:
    connection = Connection("c", "alice", None, "2.0", buffer_size=3)
    for n in range(3):
        assert connection.enqueue(f'"{n}"')
    assert connection.after(0) == (['"0"', '"1"', '"2"'], 3)
    assert connection.after(2) == (['"2"'], 3) and connection.after(3) == ([], 3) and connection.after(99) == ([], 3)
    connection.mark_delivered(3)
    for n in range(3, 6):
        assert connection.enqueue(f'"{n}"')
    assert connection.after(0) == (['"3"', '"4"', '"5"'], 6)              # older ones are gone
    assert not connection.enqueue('"6"') and connection.ended            # four behind a buffer of three
    assert connection.end_code == 1008


def test_the_group_index_follows_membership() -> None:
    connections = Connections()
    a, b = Connection("a", "alice", None, "2.0", 10), Connection("b", "bob", None, "2.0", 10)
    a.set_groups({"hub.x"})
    connections.add(a)
    connections.add(b)
    b.set_groups({"hub.x", "hub.y"})
    assert {c.id for c in connections.members("hub.x")} == {"a", "b"}
    b.set_groups({"hub.y"})
    assert [c.id for c in connections.members("hub.x")] == ["a"]
    a.end("gone")
    assert connections.members("hub.x") == [] and connections.ended("a") and connections.get("a") is None
    connections.remove(a)
    connections.remove(b)
    assert connections.members("hub.y") == [] and not connections.ended("a") and len(connections) == 0
