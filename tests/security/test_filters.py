"""Issue 13, finding 2: subscription filters cannot stall the twin.

``subjectFilter`` runs on RE2 (linear time) and ``publicationFilter``'s regular-expression functions too; both
have size limits checked at subscription time (400, nothing stored); a pathological filter of one tenant does
not delay the delivery to another; a stored subscription whose filter no longer compiles is disabled at
start-up with a reason instead of failing or stalling delivery."""
from __future__ import annotations

import json
import sqlite3
import time

import httpx
import pytest

from tests.conftest import auth, start_server, token
from tests.support.control import Control
from tests.support.receiver import Receiver

B = "/2017-09-01"
APP = "c1a0d0e0-5a5a-4e5e-9d9d-00000000a001"
EVIL = "^(.|.)*!"


def webhook(client: httpx.Client, headers: dict[str, str], url: str, **extra: str) -> httpx.Response:
    return client.post(f"{B}/subscriptions", headers=headers, json={
        "applicationId": APP, "transport": "webhook", "deviceId": url, "topic": "platform-api-media", **extra})


def subscription_ids(client: httpx.Client, headers: dict[str, str]) -> list[str]:
    response = client.get(f"{B}/subscriptions", headers=headers)
    assert response.status_code == 200, response.text
    return [s["subscriptionId"] for s in response.json()["_embedded"]["items"]]


@pytest.mark.parametrize("field, value, name, words", [
    ("subjectFilter", "a" * 1025, "InvalidSubjectFilter", "at most 1024"),
    ("subjectFilter", r"(calls)/\1", "InvalidSubjectFilter", "backreference"),
    ("subjectFilter", "(?=calls)", "InvalidSubjectFilter", "lookahead"),
    ("subjectFilter", "(?<!x)calls", "InvalidSubjectFilter", "lookbehind"),
    ("subjectFilter", "(?P<x>a)(?P=x)", "InvalidSubjectFilter", "backreference"),
    ("subjectFilter", "a{1000}{1000}", "InvalidSubjectFilter", "RE2"),
    ("subjectFilter", "(" * 5000 + ")" * 5000, "InvalidSubjectFilter", "at most 1024"),
    ("publicationFilter", "$" + ".a" * 600, "InvalidPublicationFilter", "at most 1024"),
    ("publicationFilter", "$..a..b..c", "InvalidPublicationFilter", "descendant"),
    ("publicationFilter", "$.publications[?@.a][?@.b][?@.c][?@.d][?@.e]", "InvalidPublicationFilter", "filter"),
    ("publicationFilter", "$.publications[?(@.a ==", "InvalidPublicationFilter", "JSONPath"),
])
def test_filters_refused_at_subscription_time(client: httpx.Client, alice, field, value, name, words) -> None:
    before = subscription_ids(client, alice)
    with Receiver() as receiver:
        response = webhook(client, alice, receiver.url, **{field: value})
    assert response.status_code == 400, response.text
    assert response.json()["name"] == name
    assert words in response.json()["message"]
    assert subscription_ids(client, alice) == before  # nothing stored


def test_pathological_filters_do_not_stall_delivery(client: httpx.Client, admin, alice, erin) -> None:
    with Receiver() as slow, Receiver() as globex_hook, Receiver() as acme_hook:
        # Acme's alice subscribes with the filters that froze the twin under a backtracking engine
        evil = webhook(client, alice, slow.url, subjectFilter=EVIL)
        assert evil.status_code == 201, evil.text
        evil_path = webhook(client, alice, slow.url,
                            publicationFilter=f"$.publications[?search(@.subject, '{EVIL}')]")
        assert evil_path.status_code == 201, evil_path.text
        # Python's \Z is RE2's \z: the filter still means "ends with"
        tail = webhook(client, admin, acme_hook.url, subjectFilter=r"/calls/[0-9a-f-]+\Z")
        assert tail.status_code == 201, tail.text
        other = webhook(client, erin, globex_hook.url)
        assert other.status_code == 201, other.text
        started = time.monotonic()
        Control(client, admin).ring("2880", caller="+16135550123")
        Control(client, auth(token(client, "admin@globex.example"))).ring("2880", caller="+16135550123")
        assert time.monotonic() - started < 2.0
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline and not (globex_hook.requests and acme_hook.requests):
            time.sleep(0.02)
        assert globex_hook.requests and acme_hook.requests
        time.sleep(0.3)
        assert slow.requests == []  # the pathological filters match nothing here, quickly


def test_stored_filter_that_no_longer_compiles_is_disabled_at_start(tmp_path) -> None:
    data = tmp_path / "data"
    with start_server(ephemeral=False, data_dir=data, clock="manual") as live, \
            httpx.Client(base_url=live.url, timeout=10) as c, Receiver() as receiver:
        alice = auth(token(c, "alice@acme.example"))
        kept = webhook(c, alice, receiver.url, subjectFilter="/endpoints/2880/")
        broken = webhook(c, alice, receiver.url, subjectFilter="/endpoints/")
        assert kept.status_code == broken.status_code == 201
        kept_id, broken_id = kept.json()["subscriptionId"], broken.json()["subscriptionId"]
    # a filter stored under the old rules (Python's re accepted lookahead)
    with sqlite3.connect(data / "callyard.db") as db:
        (body,) = db.execute("SELECT body FROM documents WHERE kind='subscription' AND id=?", (broken_id,)).fetchone()
        doc = json.loads(body)
        doc["subjectFilter"] = "(?=/endpoints/)(.|.)*!"
        db.execute("UPDATE documents SET body=? WHERE kind='subscription' AND id=?", (json.dumps(doc), broken_id))
    with start_server(ephemeral=False, data_dir=data, clock="manual") as live, \
            httpx.Client(base_url=live.url, timeout=10) as c, Receiver() as receiver:
        alice = auth(token(c, "alice@acme.example"))
        assert c.get(f"{B}/subscriptions/{kept_id}", headers=alice).status_code == 200
        gone = c.get(f"{B}/subscriptions/{broken_id}", headers=alice)
        assert gone.status_code == 404 and gone.json()["name"] == "SubscriptionNotFound"
        admin = auth(token(c, "admin@acme.example"))
        assert Control(c, admin).ring("2880", caller="+16135550123") is not None  # delivery goes on
    with sqlite3.connect(data / "callyard.db") as db:
        (body,) = db.execute("SELECT body FROM documents WHERE kind='subscription' AND id=?", (broken_id,)).fetchone()
    doc = json.loads(body)
    assert doc["active"] is False and doc["disabledReason"].startswith("InvalidSubjectFilter: ")
