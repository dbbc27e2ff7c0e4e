"""Issue 13, finding 8: webhook targets.

Local receivers keep working; link-local addresses, the twin's own listening address and URLs carrying
credentials are refused at registration (400 InvalidDeviceId, nothing stored) and again at delivery (the
policy is a setting: a restart with ``webhook_refuse`` stops deliveries already queued for that range);
redirects are not followed; a receiver's endless answer is not read whole; userinfo is never sent as Basic
auth; the delivery log says only ``connection failed`` for any connection-level failure."""
from __future__ import annotations

import json
import socket
import sqlite3
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from tests.conftest import ALICE, APP_ID, LiveServer, auth, free_port, start_server, token
from tests.support.control import Control
from tests.support.receiver import Receiver

B = "/2017-09-01"


def webhook(client: httpx.Client, headers: dict[str, str], url: str) -> httpx.Response:
    return client.post(f"{B}/subscriptions", headers=headers, json={
        "applicationId": APP_ID, "transport": "webhook", "deviceId": url, "topic": "platform-api-admin"})


def rename(client: httpx.Client, admin: dict[str, str], name: str) -> None:
    assert client.put(f"{B}/users/{ALICE}", headers=admin, json={"name": name}).status_code == 200


def deliveries_of(client: httpx.Client, admin: dict[str, str], sub_id: str, settled: bool = True) -> list[dict]:
    deadline = time.monotonic() + 8
    while True:
        items = Control(client, admin).deliveries(subscriptionId=sub_id)
        if not settled or (items and all(d["status"] != "pending" or d["attempts"] for d in items)) \
                or time.monotonic() > deadline:
            return items
        time.sleep(0.05)


class Special:
    """A local HTTP server answering every POST with ``answer(handler)``."""

    def __init__(self, answer: Any) -> None:
        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - http.server's naming
                self.rfile.read(int(self.headers.get("content-length", 0)))
                answer(self)

            def log_message(self, *args: Any) -> None:
                return None

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def subscriptions(client: httpx.Client, admin):
    return lambda: [s["subscriptionId"] for s in
                    client.get(f"{B}/subscriptions", headers=admin).json()["_embedded"]["items"]]


def test_targets_refused_at_registration(client: httpx.Client, server: LiveServer, admin, alice,
                                         subscriptions) -> None:
    port = server.settings.port
    before = subscriptions()
    for url, words in (
            ("http://169.254.169.254/latest/meta-data/", "link-local"),
            ("http://[fe80::1]/hook", "link-local"),
            ("http://[::ffff:169.254.169.254]/hook", "link-local"),
            (f"http://127.0.0.1:{port}/_callyard/reset", "own listening address"),
            (f"http://localhost:{port}/_callyard/reset", "own listening address"),
            (f"http://127.0.0.2:{port}/_callyard/reset", "own listening address"),
            ("http://0.0.0.0:9000/hook", "refused"),
            ("http://user:secret@127.0.0.1:9000/hook", "credentials")):
        for who in (admin, alice):
            r = webhook(client, who, url)
            assert r.status_code == 400, (url, r.text)
            assert r.json()["name"] == "InvalidDeviceId" and words in r.json()["message"], (url, r.json())
    assert subscriptions() == before
    # changing a subscription's deviceId to such a target is refused as well, and changes nothing
    with Receiver() as receiver:
        sub = webhook(client, admin, receiver.url).json()
        r = client.put(f"{B}/subscriptions/{sub['subscriptionId']}", headers=admin,
                       json={"deviceId": "http://169.254.169.254/"})
        assert r.status_code == 400 and r.json()["name"] == "InvalidDeviceId"
        assert client.get(f"{B}/subscriptions/{sub['subscriptionId']}",
                          headers=admin).json()["deviceId"] == receiver.url
        # the main use is intact: a local receiver gets its publication
        rename(client, admin, "Alice Local")
        deadline = time.monotonic() + 5
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.02)
        assert json.loads(receiver.requests[0]["body"])["content"]["name"] == "Alice Local"


def test_redirects_are_not_followed_and_answers_are_not_read_whole(client: httpx.Client, admin) -> None:
    def redirect(h: BaseHTTPRequestHandler) -> None:
        h.send_response(307)
        h.send_header("location", target.url)
        h.send_header("content-length", "0")
        h.end_headers()

    def endless(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("content-length", str(500 * 1024 * 1024))
        h.end_headers()
        try:
            chunk = b"x" * 65536
            for _ in range(8000):
                h.wfile.write(chunk)
        except OSError:
            pass   # the twin stopped reading: what this test wants

    with Receiver() as target:
        redirector, big = Special(redirect), Special(endless)
        try:
            moved = webhook(client, admin, redirector.url).json()["subscriptionId"]
            huge = webhook(client, admin, big.url).json()["subscriptionId"]
            began = time.monotonic()
            rename(client, admin, "Alice Redirected")
            (delivery,) = deliveries_of(client, admin, moved)
            assert delivery["status"] == "failed" and delivery["lastStatus"] == 307
            assert "redirects are not followed" in delivery["lastError"]
            (delivery,) = deliveries_of(client, admin, huge)
            assert delivery["status"] == "delivered" and delivery["lastStatus"] == 200
            assert time.monotonic() - began < 4   # 500 MB were not read (the timeout is 5 s)
            time.sleep(0.2)
            assert target.requests == []
        finally:
            redirector.close()
            big.close()


def test_connection_failures_do_not_tell_ports_apart(client: httpx.Client, admin) -> None:
    closed = free_port()   # nothing listens there
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    listening.listen(1)    # accepts, never answers: a different failure underneath
    try:
        subs = [webhook(client, admin, f"http://127.0.0.1:{port}/hook").json()["subscriptionId"]
                for port in (closed, listening.getsockname()[1])]
        rename(client, admin, "Alice Scanned")
        errors = set()
        for sub in subs:
            deadline = time.monotonic() + 9
            while True:
                (delivery,) = deliveries_of(client, admin, sub, settled=False)
                if delivery["attempts"] or time.monotonic() > deadline:
                    break
                time.sleep(0.1)
            assert delivery["attempts"] >= 1 and delivery["lastStatus"] is None
            errors.add(delivery["lastError"])
            assert "127.0.0.1" not in json.dumps(delivery.get("history"))
        assert errors == {"connection failed"}
    finally:
        listening.close()


def test_policy_applies_at_delivery_and_userinfo_is_never_sent(tmp_path) -> None:
    data = tmp_path / "data"
    with Receiver() as receiver:
        with start_server(ephemeral=False, data_dir=data) as live, httpx.Client(base_url=live.url, timeout=10) as c:
            admin = auth(token(c, "admin@acme.example"))
            sub_id = webhook(c, admin, receiver.url).json()["subscriptionId"]
        # a subscription stored with credentials in its URL (before they were refused at registration)
        with sqlite3.connect(data / "callyard.db") as db:
            (body,) = db.execute("SELECT body FROM documents WHERE kind='subscription' AND id=?",
                                 (sub_id,)).fetchone()
            doc = json.loads(body)
            doc["deviceId"] = doc["deviceId"].replace("http://", "http://user:secret@")
            db.execute("UPDATE documents SET body=? WHERE kind='subscription' AND id=?", (json.dumps(doc), sub_id))
        with start_server(ephemeral=False, data_dir=data) as live, httpx.Client(base_url=live.url, timeout=10) as c:
            admin = auth(token(c, "admin@acme.example"))
            rename(c, admin, "Alice One")
            assert deliveries_of(c, admin, sub_id)[-1]["status"] == "delivered"
            assert len(receiver.requests) == 1
            assert "authorization" not in receiver.requests[0]["headers"]
        # the operator refuses loopback on a shared twin: the stored subscription's deliveries stop
        with start_server(ephemeral=False, data_dir=data, webhook_refuse=("127.0.0.0/8",)) as live, \
                httpx.Client(base_url=live.url, timeout=10) as c:
            admin = auth(token(c, "admin@acme.example"))
            rename(c, admin, "Alice Two")
            last = deliveries_of(c, admin, sub_id)[-1]
            assert last["status"] == "failed" and last["lastError"].startswith("refused by the webhook target policy")
            assert len(receiver.requests) == 1
            r = webhook(c, admin, receiver.url)
            assert r.status_code == 400 and r.json()["name"] == "InvalidDeviceId"
