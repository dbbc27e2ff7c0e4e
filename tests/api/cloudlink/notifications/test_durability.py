"""Crash safety of webhook delivery: the receiver fails with 500 for a while, the server process is killed
(SIGKILL, no shutdown) in the middle and started again on the same SQLite store. Every publication still
arrives, and a publication delivered twice carries the same ``webhook-id`` and body."""
from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from tests.conftest import ACME
from tests.support.receiver import Receiver
from tests.support.server_process import ServerProcess

B = "/2017-09-01"


def test_every_publication_survives_500s_and_a_kill(tmp_path: Path) -> None:
    sim = {"account": ACME}
    server = ServerProcess(tmp_path / "server.log", data=tmp_path / "data")
    with Receiver() as receiver:
        receiver.status = 500
        server.start()
        try:
            with httpx.Client(base_url=server.url, timeout=10) as c:
                token = c.post(f"{B}/token", data={"grant_type": "password", "username": "admin@acme.example",
                                                   "password": "callyard"}).json()["access_token"]
                admin = {"Authorization": f"Bearer {token}"}
                sub = c.post(f"{B}/subscriptions", headers=admin, json={
                    "applicationId": "app-durability", "deviceId": receiver.url, "topic": "platform-api-media"})
                assert sub.status_code == 201, sub.text
                for caller in ("+16135550401", "+16135550402", "+16135550403"):
                    assert c.post("/_callyard/sim/calls", params=sim,
                                  json={"from": caller, "to": "2880"}).status_code == 201
                    c.post("/_callyard/sim/endpoints/2880/busy", params=sim)
                expected = {d["deliveryId"] for d in c.get("/_callyard/deliveries", params=sim)
                            .json()["_embedded"]["items"]}
            assert len(expected) >= 6
            deadline = time.monotonic() + 10
            while not receiver.requests and time.monotonic() < deadline:
                time.sleep(0.05)
            assert receiver.requests, "the first attempts reached the receiver"
        finally:
            server.kill()

        receiver.status = 200
        server.start()
        try:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                delivered = {r["headers"]["webhook-id"] for r in receiver.accepted()}
                if expected <= delivered:
                    break
                time.sleep(0.1)
            assert expected <= {r["headers"]["webhook-id"] for r in receiver.accepted()}
            bodies: dict[str, bytes] = {}
            for request in receiver.requests:
                seen = bodies.setdefault(request["headers"]["webhook-id"], request["body"])
                assert seen == request["body"]  # a redelivery is the same publication
            publication_ids = {json.loads(b)["publicationId"] for b in bodies.values()}
            assert len(publication_ids) == len(expected)
        finally:
            server.stop()
