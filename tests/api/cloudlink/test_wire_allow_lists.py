"""CloudLink shapes are built from allow-lists: a field another family keeps on a core document (here
``ucOnly`` and ``cxSecret``, written straight into the core's documents) reaches no CloudLink response and
no publication."""
from __future__ import annotations

import json
import time
from typing import Any

import httpx

from tests.conftest import ACME, ALICE, APP_ID, BOB, auth, token
from tests.support.receiver import Receiver

B = "/2017-09-01"
EXTRA = {"ucOnly": "uc-only-value", "cxSecret": "cx-secret-value"}
KINDS = ("account", "user", "contact", "group", "application", "subscription", "connection", "conversation",
         "message")


def _taint(core: Any) -> None:
    """Add the extra fields to every document CloudLink renders, and to the sub-documents it lists."""
    for kind in KINDS:
        for doc in core.rt.state.docs.get(kind, {}).values():
            doc.update(EXTRA)
            for key in ("members", "participants"):
                for item in doc.get(key) or []:
                    item.update(EXTRA)


def _clean(label: str, payload: Any) -> None:
    text = json.dumps(payload)
    for key, value in EXTRA.items():
        assert key not in text and value not in text, f"{label} leaks {key}: {text[:400]}"


def test_fields_of_other_families_reach_no_response_or_publication(server, client: httpx.Client, monkeypatch) -> None:
    core = server.app.state.core
    admin = auth(token(client, "admin@acme.example"))
    alice = auth(token(client, "alice@acme.example"))
    with Receiver() as receiver:
        for headers in (admin, alice):
            for topic in ("platform-api-admin", "platform-api-conversations", "platform-api-presence"):
                made = client.post(f"{B}/subscriptions", headers=headers, json={
                    "applicationId": APP_ID, "deviceId": receiver.url, "transport": "webhook", "topic": topic})
                assert made.status_code == 201, made.text
        assert client.post(f"{B}/connections", headers=admin, json={}).status_code == 201
        contact = client.post(f"{B}/accounts/{ACME}/contacts", headers=admin, json={"name": "Vendor"}).json()
        group = client.post(f"{B}/accounts/{ACME}/groups", headers=admin,
                            json={"name": "Team", "members": [{"memberId": ALICE}]}).json()
        assert client.post(f"{B}/accounts/{ACME}/clients", headers=admin, json={"name": "cli"}).status_code == 201
        conversation = client.post(f"{B}/conversations", headers=alice,
                                   json={"participants": [BOB], "stream": True, "name": "chat"}).json()
        cid = conversation["conversationId"]
        message = client.post(f"{B}/conversations/{cid}/messages", headers=alice, json={"body": "hi"}).json()
        time.sleep(0.3)
        before = len(receiver.accepted())

        _taint(core)
        view = core.presence.view
        monkeypatch.setattr(core.presence, "view", lambda *a, **k: {**view(*a, **k), **EXTRA})

        reads = [
            f"{B}/accounts", f"{B}/accounts/{ACME}", f"{B}/accounts/{ACME}/users", f"{B}/users",
            f"{B}/accounts/{ACME}/users/{ALICE}", f"{B}/accounts/{ACME}/users?$expand=tags",
            f"{B}/accounts/{ACME}/contacts", f"{B}/accounts/{ACME}/contacts/{contact['contactId']}",
            f"{B}/accounts/{ACME}/groups", f"{B}/accounts/{ACME}/groups/{group['groupId']}",
            f"{B}/accounts/{ACME}/groups/{group['groupId']}/members", f"{B}/accounts/{ACME}/clients",
            f"{B}/applications/{APP_ID}", f"{B}/apps", f"{B}/subscriptions", f"{B}/connections",
        ]
        for path in reads:
            response = client.get(path, headers=admin)
            assert response.status_code == 200, (path, response.text)
            _clean(path, response.json())
        for path in (f"{B}/conversations", f"{B}/conversations/{cid}", f"{B}/conversations/{cid}/participants",
                     f"{B}/conversations/{cid}/messages", f"{B}/conversations/{cid}/messages/{message['messageId']}",
                     f"{B}/presentities/me", f"{B}/presentities?principalIds={ALICE},{BOB}"):
            response = client.get(path, headers=alice)
            assert response.status_code == 200, (path, response.text)
            _clean(path, response.json())

        # writes: their responses, and the publications of the changed (still tainted) documents
        writes = [
            client.put(f"{B}/accounts/{ACME}", headers=admin, json={"description": "changed"}),
            client.put(f"{B}/accounts/{ACME}/users/{BOB}", headers=admin, json={"title": "Engineer"}),
            client.put(f"{B}/accounts/{ACME}/contacts/{contact['contactId']}", headers=admin, json={"company": "X"}),
            client.put(f"{B}/accounts/{ACME}/groups/{group['groupId']}", headers=admin, json={"description": "d"}),
            client.put(f"{B}/conversations/{cid}", headers=alice, json={"name": "renamed"}),
            client.put(f"{B}/conversations/{cid}/messages/{message['messageId']}", headers=alice,
                       json={"body": "edited"}),
            client.put(f"{B}/presentities/me", headers=alice, json={"status": "busy"}),
        ]
        for response in writes:
            assert response.status_code == 200, response.text
            _clean(str(response.request.url), response.json())
        expected = {f"{B}/accounts/{ACME}", f"{B}/users/{BOB}", f"{B}/contacts/{contact['contactId']}",
                    f"{B}/groups/{group['groupId']}", f"/conversations/{cid}",
                    f"/conversations/{cid}/messages/{message['messageId']}", f"/presentities/{ALICE}"}
        deadline = time.monotonic() + 10
        while True:  # each change reaches every subscription of its topic, in no set order
            publications = receiver.publications()[before:]
            missing = expected - {p["subject"] for p in publications}
            if not missing or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert not missing, f"no publication for {missing}"
        for publication in publications:
            _clean(publication["subject"], publication)
        # deleting a tainted conversation publishes it one last time
        assert client.delete(f"{B}/conversations/{cid}", headers=alice).status_code == 200
        for publication in receiver.wait_for(len(receiver.accepted()) + 1):
            _clean(publication["subject"], publication)
