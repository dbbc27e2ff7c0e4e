"""Issue 13, finding 9: bad input is a 400 naming the problem, never a 500, and the keep-alive connection
survives it; extensions, numbers and names are validated (``extension: "NaN"`` no longer makes alice vanish
from the dial plan)."""
from __future__ import annotations

import httpx
import pytest

from tests.conftest import ACME, ALICE
from tests.support.control import Control

B = "/2017-09-01"
CAROL = "ac3e0000-0000-4000-8000-000000002882"
DEEP = "[" * 1000 + "]" * 1000


class Connections:
    """The local addresses an httpx client's responses came over: a refusal must not cost the keep-alive
    connection, so every response of a test comes over one."""

    def __init__(self) -> None:
        self.seen: set[tuple[str, int]] = set()

    def __call__(self, response: httpx.Response) -> None:
        self.seen.add(response.extensions["network_stream"].get_extra_info("client_addr"))

    @property
    def opened(self) -> int:
        return len(self.seen)


@pytest.fixture
def kept(base_url: str, client: httpx.Client):
    counter = Connections()
    with httpx.Client(base_url=base_url, timeout=20, event_hooks={"response": [counter]}) as c:
        yield c, counter


@pytest.mark.parametrize("path", [f"{B}/accounts/{ACME}/users", f"{B}/subscriptions", f"{B}/conversations",
                                  f"{B}/users/{ALICE}", "/_callyard/sim/calls"])
def test_json_nested_a_thousand_deep(kept, admin, path) -> None:
    c, connections = kept
    method = "PUT" if path.endswith(ALICE) else "POST"
    for body in ('{"name": ' + DEEP + "}", DEEP, '{"a": "' + "[" * 2000 + '"}' + DEEP):
        r = c.request(method, path, headers={**admin, "content-type": "application/json"}, content=body)
        assert r.status_code == 400, r.text
        assert r.json() == {"name": "InvalidJson",
                            "message": "the JSON body nests arrays and objects deeper than 64 levels"}
    # brackets inside strings do not count: a deep-looking string is fine
    ok = c.put(f"{B}/users/{ALICE}", headers=admin, json={"name": "[" * 200})
    assert ok.status_code == 200 and ok.json()["name"] == "[" * 200
    assert connections.opened == 1


@pytest.mark.parametrize("expression, words", [
    (" or ".join(["name eq 'x'"] * 1000), "at most 4096 characters"),
    (" or ".join(["id eq 1"] * 150), "at most 100 and/or/not"),
    ("(" * 40 + "name eq 'x'" + ")" * 40, "at most 32 deep"),
])
def test_odata_filters_too_large(kept, admin, expression, words) -> None:
    c, connections = kept
    r = c.get(f"{B}/accounts/{ACME}/users", headers=admin, params={"$filter": expression})
    assert r.status_code == 400 and r.json()["name"] == "InvalidFilter" and words in r.json()["message"], r.text
    # a reasonable filter still works, on the same connection
    r = c.get(f"{B}/accounts/{ACME}/users", headers=admin,
              params={"$filter": " or ".join(f"email eq 'u{i}@acme.example'" for i in range(50))})
    assert r.status_code == 200
    assert connections.opened == 1


def test_impossible_dates_on_messages_and_transcripts(kept, bob) -> None:
    c, connections = kept
    created = c.post(f"{B}/conversations", headers=bob, json={"participants": [CAROL]})
    assert created.status_code == 201, created.text
    cid = created.json()["conversationId"]
    for bad in ("2020-13-45T99:99:99Z", "2020-02-30", "2020-01-01T25:00:00Z"):
        r = c.get(f"{B}/conversations/{cid}/messages", headers=bob, params={"startDate": bad})
        assert r.status_code == 400 and "startDate" in r.json()["message"], r.text
        r = c.post(f"{B}/conversations/{cid}/transcripts", headers=bob, json={"endDate": bad})
        assert r.status_code == 400 and "endDate" in r.json()["message"], r.text
    assert c.get(f"{B}/conversations/{cid}/messages", headers=bob,
                 params={"startDate": "2020-01-01T00:00:00Z"}).status_code == 200
    assert connections.opened == 1


@pytest.mark.parametrize("field, value", [
    ("extension", "NaN"), ("extension", "12a4"), ("extension", "1"), ("extension", "1" * 16), ("extension", 2880),
    ("phone", "call me"), ("mobile", "+"), ("name", "n" * 257), ("description", "d" * 2049),
])
def test_user_fields_are_validated_and_nothing_changes(client: httpx.Client, admin, field, value) -> None:
    before = client.get(f"{B}/users/{ALICE}", headers=admin).json()
    r = client.put(f"{B}/users/{ALICE}", headers=admin, json={field: value})
    assert r.status_code == 400 and r.json()["name"] == "ValidationError" and field in r.json()["message"], r.text
    assert client.get(f"{B}/users/{ALICE}", headers=admin).json() == before
    # alice is still reachable at her extension
    call = Control(client, admin).ring("2880")
    assert call


def test_group_and_contact_fields_are_validated(client: httpx.Client, admin) -> None:
    r = client.post(f"{B}/accounts/{ACME}/groups", headers=admin, json={"name": "G", "extension": "NaN"})
    assert r.status_code == 400 and "extension" in r.json()["message"]
    r = client.post(f"{B}/accounts/{ACME}/groups", headers=admin, json={"name": "g" * 300})
    assert r.status_code == 400 and "name" in r.json()["message"]
    r = client.post(f"{B}/accounts/{ACME}/contacts", headers=admin, json={"name": "C", "phone": "not a number"})
    assert r.status_code == 400 and "phone" in r.json()["message"]
    assert client.post(f"{B}/accounts/{ACME}/contacts", headers=admin,
                       json={"name": "C", "phone": "+1 (613) 555-0100"}).status_code == 201
