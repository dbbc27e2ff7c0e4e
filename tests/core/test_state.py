"""The unit of work: changes go to the state at once, and a rollback puts back exactly what was there."""
from __future__ import annotations

import copy

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from callyard.core.state import State, UnitOfWork


def _state() -> State:
    state = State()
    state.load("user", "u1", {"userId": "u1", "name": "Ann", "tags": {"a": 1}})
    state.load("user", "u2", {"userId": "u2", "name": "Ben"})
    state.load("group", "g1", {"groupId": "g1", "members": ["u1"]})
    state.blobs["photos/p/64"] = ("image/png", b"old")
    return state


def _image(state: State) -> tuple:
    return copy.deepcopy(state.docs), dict(state.blobs)


def _without_empty_kinds(docs: dict) -> dict:
    return {kind: d for kind, d in docs.items() if d}


def test_put_update_delete_show_in_the_state_and_the_changes() -> None:
    state = _state()
    uow = UnitOfWork(state)
    uow.put("user", "u3", {"userId": "u3"})
    updated = uow.update("user", "u1", name="Anna")
    uow.delete("user", "u2")
    assert state.get("user", "u3") == {"userId": "u3"}
    assert state.get("user", "u1")["name"] == "Anna" and updated is state.get("user", "u1")
    assert state.get("user", "u2") is None
    assert set(uow.changes.upserts) == {("user", "u3"), ("user", "u1")}
    assert uow.changes.deletes == {("user", "u2")}


def test_update_is_copy_on_write_and_needs_an_existing_document() -> None:
    state = _state()
    before = state.get("user", "u1")
    uow = UnitOfWork(state)
    uow.update("user", "u1", name="Anna")
    assert before["name"] == "Ann" and before["tags"] == {"a": 1}  # the old object is untouched
    state.get("user", "u1")["tags"]["a"] = 2
    assert before["tags"] == {"a": 1}  # deep copy: nested values are not shared
    with pytest.raises(KeyError):
        uow.update("user", "nobody", name="x")


def test_a_put_after_a_delete_is_an_upsert_and_a_delete_after_a_put_is_a_delete() -> None:
    uow = UnitOfWork(_state())
    uow.delete("user", "u1")
    uow.put("user", "u1", {"userId": "u1", "name": "again"})
    assert ("user", "u1") in uow.changes.upserts and ("user", "u1") not in uow.changes.deletes
    uow.put("user", "u9", {"userId": "u9"})
    uow.delete("user", "u9")
    assert ("user", "u9") not in uow.changes.upserts and ("user", "u9") in uow.changes.deletes
    uow.put_blob("b", "text/plain", b"x")
    uow.delete_blob("b")
    assert "b" not in uow.changes.blob_puts and "b" in uow.changes.blob_deletes
    uow.put_blob("b", "text/plain", b"y")
    assert uow.changes.blob_puts["b"] == ("text/plain", b"y") and "b" not in uow.changes.blob_deletes


def test_rollback_restores_every_before_image() -> None:
    state = _state()
    docs, blobs = _image(state)
    undone: list[str] = []
    uow = UnitOfWork(state)
    uow.on_rollback.append(lambda: undone.append("first"))
    uow.on_rollback.append(lambda: undone.append("second"))
    uow.update("user", "u1", name="Anna")
    uow.update("user", "u1", name="Annie")          # two changes: the first before-image wins
    uow.delete("user", "u2")
    uow.put("group", "g2", {"groupId": "g2"})
    uow.put("user", "tmp", {"userId": "tmp"})
    uow.delete("user", "tmp")                        # created then deleted in the same unit
    uow.put_blob("photos/p/64", "image/png", b"new")
    uow.put_blob("photos/q/64", "image/png", b"q")
    uow.emit("user.updated", "acc", "/users/u1", {"userId": "u1"}, "2030-01-01T00:00:00.000Z")
    uow.rollback()
    assert _without_empty_kinds(state.docs) == _without_empty_kinds(docs)
    assert state.blobs == blobs
    assert uow.changes.empty()
    assert undone == ["second", "first"]  # undone in reverse order


def test_emit_copies_data_unless_fresh() -> None:
    uow = UnitOfWork(State(), correlation_id="req-1")
    data = {"n": [1]}
    uow.emit("x.updated", "acc", "/x", data, "t")
    uow.emit("x.updated", "acc", "/x", data, "t", fresh=True)
    data["n"].append(2)
    copied, shared = uow.changes.events
    assert copied.data == {"n": [1]} and shared.data == {"n": [1, 2]}
    assert copied.correlation_id == "req-1"


KEYS = st.sampled_from([("user", "u1"), ("user", "u2"), ("user", "u3"), ("group", "g1"), ("group", "g2")])
BLOBS = st.sampled_from(["photos/p/64", "photos/q/64", "photos/r/64"])
OPS = st.one_of(
    st.tuples(st.just("put"), KEYS, st.integers(0, 9)),
    st.tuples(st.just("update"), KEYS, st.integers(0, 9)),
    st.tuples(st.just("delete"), KEYS, st.none()),
    st.tuples(st.just("put_blob"), BLOBS, st.binary(max_size=4)),
    st.tuples(st.just("delete_blob"), BLOBS, st.none()),
)


@given(st.lists(OPS, max_size=25))
def test_rollback_after_any_sequence_leaves_the_state_as_it_was(ops: list) -> None:
    state = _state()
    docs, blobs = _image(state)
    uow = UnitOfWork(state)
    for op, key, value in ops:
        if op == "put":
            uow.put(*key, {"id": key[1], "v": value})
        elif op == "update":
            if state.get(*key) is not None:
                uow.update(*key, v=value)
        elif op == "delete":
            uow.delete(*key)
        elif op == "put_blob":
            uow.put_blob(key, "application/octet-stream", value)
        else:
            uow.delete_blob(key)
    uow.rollback()
    assert _without_empty_kinds(state.docs) == _without_empty_kinds(docs)
    assert state.blobs == blobs


@given(st.lists(OPS, max_size=25))
def test_the_changes_describe_the_final_state(ops: list) -> None:
    """What a unit hands to the store (upserts, deletes, blob puts and deletes) is the net effect."""
    state = _state()
    uow = UnitOfWork(state)
    for op, key, value in ops:
        if op == "put":
            uow.put(*key, {"id": key[1], "v": value})
        elif op == "update" and state.get(*key) is not None:
            uow.update(*key, v=value)
        elif op == "delete":
            uow.delete(*key)
        elif op == "put_blob":
            uow.put_blob(key, "application/octet-stream", value)
        elif op == "delete_blob":
            uow.delete_blob(key)
    for key, doc in uow.changes.upserts.items():
        assert state.get(*key) == doc
    for key in uow.changes.deletes:
        assert state.get(*key) is None
    assert not set(uow.changes.upserts) & uow.changes.deletes
    for blob_id, blob in uow.changes.blob_puts.items():
        assert state.blobs[blob_id] == blob
    for blob_id in uow.changes.blob_deletes:
        assert blob_id not in state.blobs


@settings(max_examples=200, deadline=None)
@given(value=st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
                          lambda children: st.lists(children) | st.dictionaries(st.text(), children)
                          | st.tuples(children, children) | st.frozensets(st.integers()), max_leaves=30))
def test_data_copy_is_a_deep_copy(value: object) -> None:
    """Event data and documents are copied as ``copy.deepcopy`` would: equal, and no container shared."""
    from callyard.core.state import data_copy

    copied = data_copy(value)
    assert copied == copy.deepcopy(value)

    def containers(v: object) -> list[object]:
        inner = v.values() if isinstance(v, dict) else v if isinstance(v, (list, tuple)) else ()
        return ([v] if isinstance(v, (dict, list)) else []) + [c for item in inner for c in containers(item)]
    assert not {id(c) for c in containers(value)} & {id(c) for c in containers(copied)}


@settings(max_examples=100, deadline=None)
@given(steps=st.lists(st.sampled_from(["touch a", "touch b", "replace", "clear"]), max_size=30))
def test_a_kinds_generation_moves_at_every_change_and_never_comes_back(steps: list[str]) -> None:
    """What the derived look-ups rely on: a cache stamped with a generation is never taken for current
    after a write to its kind, a wholesale replacement or a clear."""
    state = State()
    seen = {"a": [state.generation("a")], "b": [state.generation("b")]}
    for step in steps:
        if step.startswith("touch"):
            state.touch(step[-1])
        elif step == "replace":
            state.docs = {}
        else:
            state.clear()
        for kind in seen:
            now = state.generation(kind)
            if step.startswith("touch") and step[-1] != kind:
                assert now == seen[kind][-1]          # another kind's write leaves it alone
            else:
                assert now not in seen[kind]          # moved, to a value it never had
            seen[kind].append(now)
