"""The SDK against the live twin (the session server, reset before each test): the X-Mitel-App header as
the twin parses it, every grant including the authorization code flow with PKCE, 401 → refresh → retry once,
retries of 503 with Retry-After (the ≥ 2 s spacing measured on the client's monotonic clock, the attempts
read from the twin's journal), no retry of 400/404/409/500, typed errors and their log records, paging,
call control, chat, presence, a verified webhook and MQTT-over-WebSocket delivery, with the sync and the
async client."""
from __future__ import annotations

import asyncio
import json
import logging

import httpx
import pytest

import cloudlink_client
from cloudlink_client import (BadRequest, ClientCredentials, Conflict, NotFound, Password, RefreshToken,
                              ServerError, Unauthorized, make_pkce, verify_webhook)

from tests.conftest import ACME, ALICE, APP_ID, APP_SECRET, BOB, PASSWORD
from tests.support.control import Control
from tests.support.receiver import Receiver

REDIRECT = "http://localhost:3000/callback"
RINGING = "$.publications[?(@.content.state == 'ringing')]"


def sdk_entries(twin: Control) -> list[dict]:
    return [e for e in twin.journal() if (e.get("appHeader") or {}).get("session_id") == cloudlink_client.SESSION_ID]


# ---------------------------------------------------------------------------- X-Mitel-App
def test_every_request_carries_a_valid_app_header(twin: Control, sdk) -> None:
    client = sdk()
    client.auth.claims()
    client.admin.list_users(top=1)
    client.presence.get()
    entries = sdk_entries(twin)
    assert [(e["method"], e["path"]) for e in entries] == [
        ("POST", "/authentication/2017-09-01/token"), ("GET", "/authentication/2017-09-01/token"),
        ("GET", "/admin/2017-09-01/users"), ("GET", "/presence/2017-09-01/presentities/me")]
    for entry in entries:
        header = entry["appHeader"]
        assert header["valid"] is True and header["problems"] == [], header
        assert (header["app_name"], header["flavor"], header["app_version"]) == ("callyard", "sdktest", "0.1.0")
        assert header["os"] in cloudlink_client.OS_VALUES and header["os_version"]
        assert header["raw"] == client.app_header == header["raw"].lower()
    # one correlation id of the SDK's own per logical call, echoed by the service
    sent = [s.correlation_id for s in client.transport.sent]
    assert [e["correlationId"] for e in entries] == sent and len(set(sent)) == 4


# ---------------------------------------------------------------------------- grants
def test_password_client_credentials_and_refresh_token_grants(twin: Control, sdk) -> None:
    alice = sdk("alice@acme.example")
    claims = alice.auth.claims()
    assert (claims["userId"], claims["role"], claims["accountId"]) == (ALICE, "USER", ACME)

    app = sdk(None, grant=ClientCredentials(APP_ID, APP_SECRET))
    assert app.auth.claims()["role"] == "ACCOUNT_ADMIN"
    assert any(u["userId"] == ALICE for u in app.admin.iter_users())

    stored = alice.core.tokens.refresh_token
    resumed = sdk(None, grant=RefreshToken(stored))
    assert resumed.auth.claims()["userId"] == ALICE
    assert [s.method for s in resumed.transport.sent] == ["POST", "GET"]  # one refresh_token grant, then the call

    wrong = sdk(None, grant=Password("alice@acme.example", "not-the-password"))
    with pytest.raises(Unauthorized) as raised:
        wrong.admin.list_users()
    assert raised.value.name == "InvalidLoginCredentials" and raised.value.attempts == 1
    assert raised.value.url.endswith("/authentication/2017-09-01/token")
    assert len(twin.of(raised.value.correlation_id)) == 1  # a refused login is not retried


def test_authorization_code_flow_with_pkce(twin: Control, sdk) -> None:
    client = sdk(None)
    pkce = make_pkce()
    code = client.auth.authorize(client_id=APP_ID, username="alice@acme.example", password=PASSWORD,
                                 redirect_uri=REDIRECT, pkce=pkce)["code"]
    token = client.auth.exchange_code(client_id=APP_ID, code=code, redirect_uri=REDIRECT,
                                      code_verifier=pkce.verifier)
    assert token["token_type"] == "bearer" and token["expires_in"] > 0
    assert client.auth.claims()["userId"] == ALICE
    client.auth.refresh()  # from now on the refresh token keeps the session
    assert client.auth.claims()["userId"] == ALICE

    other = make_pkce()
    code = client.auth.authorize(client_id=APP_ID, username="alice@acme.example", password=PASSWORD,
                                 redirect_uri=REDIRECT, pkce=other)["code"]
    with pytest.raises(Unauthorized) as raised:
        client.auth.exchange_code(client_id=APP_ID, code=code, redirect_uri=REDIRECT, code_verifier=pkce.verifier)
    assert raised.value.name == "InvalidVerifier"
    with pytest.raises(Unauthorized) as raised:  # a code is single-use
        client.auth.exchange_code(client_id=APP_ID, code=code, redirect_uri=REDIRECT, code_verifier=other.verifier)
    assert raised.value.name == "InvalidLoginCredentials"


# ---------------------------------------------------------------------------- 401
def test_expired_token_is_refreshed_and_the_call_retried_once(twin: Control, sdk) -> None:
    client = sdk()
    client.admin.list_users(top=1)
    before = client.core.tokens.access_token
    twin.fault(kind="token.expire")  # every token issued so far counts as expired
    assert client.admin.get_user(ALICE)["userId"] == ALICE
    gets = [s for s in client.transport.sent if s.url.endswith(f"/users/{ALICE}")]
    assert len(gets) == 2 and gets[0].correlation_id == gets[1].correlation_id
    assert [e["status"] for e in twin.of(gets[0].correlation_id)] == [401, 200]
    refresh = [e for e in sdk_entries(twin) if e["method"] == "POST" and e["path"].endswith("/token")]
    assert [e["status"] for e in refresh] == [201, 201]  # the login, then ONE refresh
    assert client.core.tokens.access_token != before


def test_token_expired_on_the_twin_clock_is_refreshed(twin: Control, sdk) -> None:
    client = sdk("bob@acme.example")
    client.presence.get()
    twin.advance(3700)  # beyond the access token's hour on the twin; the SDK's clock has not moved
    assert client.presence.get()["principalId"] == BOB
    last = client.transport.sent[-1]
    assert [e["status"] for e in twin.of(last.correlation_id)] == [401, 200]


def test_a_second_401_is_raised_and_the_refused_token_never_reused(twin: Control, sdk, caplog) -> None:
    caplog.set_level(logging.WARNING, logger="cloudlink_client")
    client = sdk()
    client.auth.login()
    twin.fault(route="/2017-09-01/groups", method="GET", status=401, count=2)
    with pytest.raises(Unauthorized) as raised:
        client.admin.list_groups()
    assert raised.value.attempts == 2 and raised.value.status == 401
    assert [e["status"] for e in twin.of(raised.value.correlation_id)] == [401, 401]
    levels = [r.levelname for r in caplog.records if r.name == "cloudlink_client"]
    assert levels == ["WARNING", "ERROR"]
    refused = client.core.tokens.access_token
    client.admin.list_groups()  # renews first: the token refused with 401 is not sent again
    posts = [s for s in client.transport.sent if s.method == "POST"]
    assert len(posts) == 3 and client.core.tokens.access_token != refused


# ---------------------------------------------------------------------------- retries
def test_503_with_retry_after_is_retried_with_at_least_the_wait(twin: Control, sdk) -> None:
    client = sdk()
    client.auth.login()
    twin.fault(route="/2017-09-01/users", method="GET", status=503, retryAfter=2, count=2)
    assert client.admin.list_users()["count"] >= 5
    attempts = [s for s in client.transport.sent if s.method == "GET"]
    assert len(attempts) == 3 and len({s.correlation_id for s in attempts}) == 1
    assert [e["status"] for e in twin.of(attempts[0].correlation_id)] == [503, 503, 200]
    gaps = [b.at - a.at for a, b in zip(attempts, attempts[1:], strict=False)]
    assert all(gap >= 2.0 for gap in gaps), gaps  # the minimum spacing (a correctness bound, not a speed one)


@pytest.mark.parametrize("status, cls", [(400, BadRequest), (404, NotFound), (409, Conflict), (500, ServerError)])
def test_other_errors_are_not_retried(twin: Control, sdk, status: int, cls: type) -> None:
    client = sdk()
    if status == 400:
        call = lambda: client.admin.create_user(ACME, {"email": "not-an-address"})  # noqa: E731
    elif status == 404:
        call = lambda: client.admin.get_user("00000000-0000-4000-8000-000000000404")  # noqa: E731
    elif status == 409:
        call = lambda: client.admin.create_user(ACME, {"email": "alice@acme.example"})  # noqa: E731
    else:
        twin.fault(route="/2017-09-01/contacts", method="GET", status=500)
        call = client.admin.list_contacts
    with pytest.raises(cls) as raised:
        call()
    error = raised.value
    assert error.status == status and error.attempts == 1 and not error.retries_exhausted
    assert len(twin.of(error.correlation_id)) == 1


def test_errors_carry_and_log_what_support_needs(twin: Control, sdk, caplog) -> None:
    caplog.set_level(logging.INFO, logger="cloudlink_client")
    client = sdk("alice@acme.example")
    with pytest.raises(NotFound) as raised:
        client.media.answer("2880", "424242")
    error = raised.value
    assert (error.status, error.name, error.call_id, error.endpoint_id) == (404, "CallNotFound", "424242", "2880")
    assert error.message and error.method == "PUT" and error.url.endswith("/endpoints/2880/calls/424242")
    assert error.timestamp.endswith("Z") and error.request_id is None  # the twin sends no x-amzn-requestid
    [entry] = twin.of(error.correlation_id)
    assert entry["status"] == 404 and entry["path"] == "/media/2017-09-01/endpoints/2880/calls/424242"
    [record] = [r for r in caplog.records if r.name == "cloudlink_client"]
    assert record.levelno == logging.ERROR
    assert (record.status, record.error_name, record.call_id, record.endpoint_id) == (404, "CallNotFound", "424242",
                                                                                      "2880")
    assert record.correlation_id == error.correlation_id and record.timestamp == error.timestamp
    assert error.correlation_id in record.getMessage() and "424242" in record.getMessage()


# ---------------------------------------------------------------------------- paging
def test_paging_follows_next_links_across_pages(twin: Control, sdk) -> None:
    client = sdk()
    users = list(client.admin.iter_users(top=2))
    assert len(users) == 5 and len({u["userId"] for u in users}) == 5
    pages = [s for s in client.transport.sent if "/users" in s.url]
    assert len(pages) == 3 and len({p.correlation_id for p in pages}) == 3
    assert [u["userId"] for u in client.paginate("admin", f"/accounts/{ACME}/users", top=2)] == \
        [u["userId"] for u in users]


async def test_async_paging(twin: Control, async_sdk) -> None:
    async with async_sdk() as client:
        users = [u async for u in client.admin.iter_users(ACME, top=2)]
        assert len(users) == 5
        assert len([s for s in client.transport.sent if "/users" in s.url]) == 3
        assert [u["userId"] async for u in client.paginate("admin", "/users", top=3)] == [u["userId"] for u in users]


# ---------------------------------------------------------------------------- media
def test_make_call_answer_hold_retrieve_end(twin: Control, sdk) -> None:
    alice, bob = sdk("alice@acme.example"), sdk("bob@acme.example")
    made = alice.media.make_call("2880", "2881")
    assert (made["state"], made["direction"], made["to"]) == ("connected", "outbound", "2881")
    ringing = bob.media.list_calls("2881")["_embedded"]["items"]
    assert [c["state"] for c in ringing] == ["ringing"]
    twin.phone("2881", "answer")  # bob picks up his phone
    assert bob.media.get_call("2881", ringing[0]["callId"])["state"] == "connected"
    assert alice.media.hold("2880", made["callId"])["state"] == "held"
    assert alice.media.get_endpoint("2880")["state"] == "held"
    assert alice.media.retrieve("2880", made["callId"])["state"] == "connected"
    assert alice.media.end("2880", made["callId"])["state"] == "completed"
    assert alice.media.list_calls("2880")["count"] == 0
    records = alice.media.get_call_records(made["callId"])["_embedded"]["items"]
    assert records and records[0]["completed"] is True


# ---------------------------------------------------------------------------- chat
async def test_conversation_with_messages(twin: Control, async_sdk) -> None:
    async with async_sdk("alice@acme.example") as alice, async_sdk("bob@acme.example") as bob:
        conversation = await alice.conversations.create_conversation(name="Release", stream=True,
                                                                     participants=[ALICE, BOB])
        cid = conversation["conversationId"]
        for text in ("hello bob", "the build is green", "ship it?"):
            await alice.conversations.post_message(cid, text)
        reply = await bob.conversations.post_message(cid, "ship it")
        assert reply["body"] == "ship it"
        bodies = [m["body"] async for m in bob.conversations.iter_messages(cid, top=2)]
        assert bodies == ["hello bob", "the build is green", "ship it?", "ship it"]
        transcript = await alice.conversations.transcript(cid, content_type="text/plain")
        assert isinstance(transcript, str) and "the build is green" in transcript
        assert (await alice.conversations.delete_conversation(cid))["conversationId"] == cid
        with pytest.raises(NotFound):
            await bob.conversations.get_conversation(cid)


# ---------------------------------------------------------------------------- presence
def test_presence(twin: Control, sdk) -> None:
    alice, bob = sdk("alice@acme.example"), sdk("bob@acme.example")
    assert alice.presence.update(status="away", note="at lunch")["status"] == "away"
    seen = bob.presence.get(ALICE)
    assert (seen["status"], seen["note"]) == ("away", "at lunch")
    listed = bob.presence.list([ALICE, BOB])["_embedded"]["items"]
    assert {p["principalId"]: p["status"] for p in listed} == {ALICE: "away", BOB: "available"}


# ---------------------------------------------------------------------------- notifications
def test_webhook_received_and_verified(twin: Control, sdk) -> None:
    server_app = sdk(flavor="server")  # webhooks are for server-side applications (seed 002)
    with Receiver() as receiver:
        subscription = server_app.notifications.create_subscription(
            applicationId=APP_ID, deviceId=receiver.url, transport="webhook", topic="platform-api-media",
            subjectFilter="/2017-09-01/endpoints/2881", publicationFilter=RINGING)
        secret = subscription["signingSecret"]
        twin.ring("2881")
        receiver.wait_for(1)
        delivery = receiver.accepted()[0]
        publication = verify_webhook(secret, delivery["headers"], delivery["body"])
        assert publication["subscription"]["subscriptionId"] == subscription["subscriptionId"]
        assert (publication["content"]["state"], publication["content"]["endpointId"]) == ("ringing", "2881")
        with pytest.raises(cloudlink_client.WebhookVerificationError):
            verify_webhook(secret, delivery["headers"], delivery["body"].replace(b"ringing", b"held!!!"))
    server_app.notifications.delete_subscription(subscription["subscriptionId"])


def test_websocket_stream_receives_a_ringing_publication(twin: Control, sdk) -> None:
    client = sdk("alice@acme.example")
    with client.notifications.stream("platform-api-media", publication_filter=RINGING) as stream:
        assert stream.connected and stream.subscription["transport"] == "websocket"
        twin.ring("2880")
        publication = stream.get(timeout=5)
        assert publication["subscription"]["subscriptionId"] == stream.subscription_id
        assert (publication["content"]["state"], publication["content"]["endpointId"]) == ("ringing", "2880")
        connection_id = stream.connection["connectionId"]
    assert not stream.connected
    with pytest.raises(NotFound):  # close() removed the subscription and the connection
        client.notifications.get_connection(connection_id)


async def test_async_websocket_stream_with_a_callback(twin: Control, async_sdk) -> None:
    received: asyncio.Queue = asyncio.Queue()

    async def on_publication(publication: dict) -> None:
        await received.put(publication)

    async with async_sdk("alice@acme.example") as client:
        stream = await client.notifications.stream("platform-api-media", publication_filter=RINGING,
                                                   on_publication=on_publication)
        async with stream:
            await asyncio.to_thread(twin.ring, "2880")
            publication = await asyncio.wait_for(received.get(), 5)
            assert publication["content"]["state"] == "ringing"
            assert publication["subscription"]["subscriptionId"] == stream.subscription_id
        assert (await client.notifications.list_connections())["count"] == 0


def test_the_session_server_uses_the_prefixed_service_paths(twin: Control, sdk) -> None:
    client = sdk()
    client.media.get_endpoint("2880")
    client.conversations.my_conversations()
    hosts = {httpx.URL(s.url).path.split("/")[1] for s in client.transport.sent}
    assert hosts == {"authentication", "media", "chat"}
    assert json.dumps(client.core.urls).count(twin.url) == 6


# ---------------------------------------------------------------------------- the other operations' paths
def test_seed_000_call_control_tutorial_through_the_sdk(twin: Control, sdk) -> None:
    router, bob = sdk(flavor="server"), sdk("bob@acme.example")
    twin.ring("2880")
    [first] = router.media.list_calls("2880")["_embedded"]["items"]
    assert first["state"] == "ringing"
    router.media.redirect("2880", first["callId"], "2881")
    [original] = bob.media.list_calls("2881")["_embedded"]["items"]
    assert (original["state"], original["cause"]) == ("ringing", "redirected")
    assert bob.media.answer("2881", original["callId"])["state"] == "connected"
    consultation = bob.media.consult("2881", original["callId"], "2882")
    assert consultation["to"] == "2882" and bob.media.get_call("2881", original["callId"])["state"] == "held"
    twin.phone("2882", "answer")
    bob.media.supervised_transfer("2881", consultation["callId"], original["callId"])
    assert bob.media.get_endpoint("2881")["state"] == "idle"
    [talking] = router.media.list_calls("2882")["_embedded"]["items"]
    assert (talking["state"], talking["from"], talking["cause"]) == ("connected", "+16135550123", "transfer")
    assert router.media.dtmf("2882", talking["callId"], "12#")["callId"] == talking["callId"]
    assert router.media.end("2882", talking["callId"])["state"] == "completed"
    records = list(router.media.iter_call_records(top=2))
    assert first["callId"] in {r["callId"] for r in records}
    updated = bob.media.update_endpoint("2881", "dnd", "away", enabled=True)
    assert updated["dnd"] is True
    assert bob.media.list_recordings()["count"] == 0


def test_admin_common_crud(twin: Control, sdk) -> None:
    admin = sdk()
    user = admin.admin.create_user(ACME, {"email": "zoe@acme.example", "name": "Zoe Zed"})
    uid = user["userId"]
    assert admin.admin.update_user(uid, {"name": "Zoe Z."}, account_id=ACME)["name"] == "Zoe Z."
    assert admin.admin.get_user(uid)["email"] == "zoe@acme.example"
    assert admin.admin.send_welcome(ACME, uid, "en-US")["status"] == "queued"
    bulk = admin.admin.bulk_users(ACME, [{"op": "update", "id": uid, "body": {"title": "Tester"}}])
    assert bulk["operations"][0]["statusCode"] == 200

    group = admin.admin.create_group({"name": "Night shift", "visibility": "PRIVATE"}, account_id=ACME)
    gid = group["groupId"]
    admin.admin.add_members(gid, [{"memberId": uid, "status": "ACCEPTED"}, {"memberId": ALICE}], account_id=ACME)
    assert {m["memberId"] for m in admin.admin.iter_members(gid, account_id=ACME)} == {uid, ALICE}
    assert [m["memberId"] for m in admin.admin.remove_member(gid, ALICE, account_id=ACME)["members"]] == [uid]
    assert admin.admin.update_group(gid, {"description": "22-6"}, account_id=ACME)["description"] == "22-6"
    assert gid in {g["groupId"] for g in admin.admin.iter_groups()}
    admin.admin.delete_group(gid, account_id=ACME)
    with pytest.raises(NotFound):
        admin.admin.get_group(gid)

    contact = admin.admin.create_contact({"name": "Plumber", "phone": "+16135550999"}, account_id=ACME)
    assert admin.admin.get_contact(contact["contactId"])["name"] == "Plumber"
    assert admin.admin.update_contact(contact["contactId"], {"title": "On call"})["title"] == "On call"
    assert [c["contactId"] for c in admin.admin.iter_contacts(ACME)] == [contact["contactId"]]
    admin.admin.delete_contact(contact["contactId"])

    created = admin.admin.create_client(ACME, {"name": "crm", "role": "USER"})
    assert created["clientSecret"] and admin.admin.get_client(ACME, created["clientId"])["name"] == "crm"
    assert created["clientId"] in {c["clientId"] for c in admin.admin.list_clients(ACME)["_embedded"]["items"]}
    crm = sdk(None, grant=ClientCredentials(created["clientId"], created["clientSecret"]))
    assert crm.auth.claims()["role"] == "USER"
    admin.admin.delete_client(ACME, created["clientId"])
    assert admin.admin.get_application(APP_ID)["applicationId"] == APP_ID
    assert APP_ID in {a["applicationId"] for a in admin.admin.list_applications()["_embedded"]["items"]}
    assert admin.admin.get_account(ACME)["accountId"] == ACME
    assert ACME in {a["accountId"] for a in admin.admin.iter_accounts()}

    admin.admin.delete_user(uid, account_id=ACME)
    with pytest.raises(NotFound):
        admin.admin.get_user(uid, account_id=ACME)


def test_subscriptions_and_participants(twin: Control, sdk) -> None:
    server_app, alice, bob = sdk(flavor="server"), sdk("alice@acme.example"), sdk("bob@acme.example")
    sub = server_app.notifications.create_subscription(applicationId=APP_ID, deviceId="http://127.0.0.1:9/hook",
                                                       transport="webhook", topic="platform-api-presence")
    sid = sub["subscriptionId"]
    assert "signingSecret" not in server_app.notifications.get_subscription(sid)
    assert server_app.notifications.update_subscription(sid, {"methodFilter": "PUT"})["methodFilter"] == "PUT"
    assert [s["subscriptionId"] for s in server_app.notifications.iter_subscriptions()] == [sid]
    server_app.notifications.delete_subscription(sid)
    assert server_app.notifications.list_subscriptions()["count"] == 0

    stream = alice.conversations.create_conversation(name="Lunch", stream=True, visibility="PRIVATE",
                                                     participants=[ALICE])
    cid = stream["conversationId"]
    invited = alice.conversations.add_participant(cid, BOB, status="INVITED")
    assert invited["status"] == "INVITED"
    assert bob.conversations.respond(cid, BOB, "ACCEPTED")["status"] == "ACCEPTED"
    assert {p["participantId"] for p in bob.conversations.list_participants(cid)["_embedded"]["items"]} == \
        {ALICE, BOB}
    message = bob.conversations.post_message(cid, "count me in")
    edited = bob.conversations.edit_message(cid, message["messageId"], {"body": "count me in (12:30)"})
    assert edited["body"] == "count me in (12:30)"
    assert bob.conversations.delete_message(cid, message["messageId"])["messageId"] == message["messageId"]
    assert bob.conversations.remove_participant(cid, BOB)["participantId"] == BOB
    assert cid in {c["conversationId"] for c in alice.conversations.iter_conversations()}
