"""Subscription rules: validation, ownership, expiry on the twin's clock, and the matching truth table."""
from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from callyard.core.errors import Invalid, NotFound
from callyard.core.service import Core
from tests.core.conftest import APP_ID, advance, rejected

HOOK = {"topic": "platform-api-media", "transport": "webhook", "deviceId": "https://hooks.example/in",
        "applicationId": APP_ID}


async def test_subscription_validation(core: Core, alice) -> None:
    n = core.notifications
    cases = [
        ({**HOOK, "topic": None}, "ValidationError"),
        ({**HOOK, "topic": "platform-api-weather"}, "InvalidTopic"),
        ({**HOOK, "transport": "pigeon"}, "ValidationError"),
        ({**HOOK, "deviceId": "ftp://hooks.example/in"}, "InvalidDeviceId"),
        ({**HOOK, "deviceId": "hooks.example/in"}, "InvalidDeviceId"),
        ({**HOOK, "deviceId": "https://"}, "InvalidDeviceId"),
        ({k: v for k, v in HOOK.items() if k != "applicationId"}, "ValidationError"),
        ({**HOOK, "subjectFilter": "calls/(unclosed"}, "InvalidSubjectFilter"),
        ({**HOOK, "publicationFilter": "$.publications[?(@.x =="}, "InvalidPublicationFilter"),
        ({**HOOK, "publicationFilter": "publications"}, "InvalidPublicationFilter"),
        ({**HOOK, "methodFilter": "FETCH"}, "ValidationError"),
        ({**HOOK, "methodFilter": 1}, "ValidationError"),
        ({**HOOK, "colour": "red"}, "ValidationError"),
        ({**HOOK, "expiryDateTime": "2000-01-01T00:00:00Z"}, "InvalidExpiryDateTime"),
        ({**HOOK, "expiryDateTime": "2999-01-01T00:00:00Z"}, "InvalidExpiryDateTime"),
        ({**HOOK, "expiryDateTime": "2999-01-01T00:00:00"}, "ValidationError"),
        ({"topic": "platform-api-media", "transport": "websocket"}, "InvalidConnectionId"),
        ({"topic": "platform-api-media", "transport": "websocket", "connectionId": "nope"}, "InvalidConnectionId"),
    ]
    for fields, name in cases:
        await rejected(core, Invalid, name, n.create(alice, fields))
    sub = await n.create(alice, {**HOOK, "methodFilter": "put", "subjectFilter": "/endpoints/2880"})
    assert sub["methodFilter"] == "PUT" and sub["principalId"] == alice.principal_id and sub["active"] is True
    assert re.fullmatch(r"[0-9a-f]{32}", sub["subscriptionId"]) and sub["signingSecret"].startswith("whsec_")


async def test_a_websocket_subscription_needs_a_live_connection_of_its_own(core: Core, alice, bob) -> None:
    n = core.notifications
    bobs = await core.connections.create(bob, {"transport": "websocket"})
    ws = {"topic": "platform-api-presence", "transport": "websocket"}
    await rejected(core, Invalid, "InvalidConnectionId", n.create(alice, {**ws, "connectionId": bobs["connectionId"]}))
    mine = await core.connections.create(alice, {"expiryDateTime": _in(core, 60)})
    sub = await n.create(alice, {**ws, "connectionId": mine["connectionId"]})
    assert sub["transport"] == "websocket"
    await advance(core, 61)   # the connection expired
    await rejected(core, Invalid, "InvalidConnectionId", n.create(alice, {**ws, "connectionId": mine["connectionId"]}))
    with pytest.raises(Invalid):
        await core.connections.create(alice, {"transport": "longpoll"})


def _in(core: Core, seconds: int) -> str:
    from datetime import timedelta

    from callyard.core.clock import iso
    return iso(core.rt.clock.now() + timedelta(seconds=seconds))


async def test_ownership(core: Core, alice, bob, admin, globex_admin) -> None:
    n = core.notifications
    sub = await n.create(alice, HOOK)
    sid = sub["subscriptionId"]
    for stranger in (bob, globex_admin):
        with pytest.raises(NotFound) as caught:
            n.get(stranger, sid)
        assert caught.value.name == "SubscriptionNotFound"
        await rejected(core, NotFound, "SubscriptionNotFound", n.update(stranger, sid, {"subjectFilter": "x"}))
        await rejected(core, NotFound, "SubscriptionNotFound", n.delete(stranger, sid))
        assert sid not in [s["subscriptionId"] for s in n.list(stranger)]
    assert n.get(admin, sid)["subscriptionId"] == sid  # the account's admin sees every subscription of it
    updated = await n.update(alice, sid, {"subjectFilter": "/calls/", "methodFilter": "post"})
    assert (updated["subjectFilter"], updated["methodFilter"]) == ("/calls/", "POST")
    assert updated["principalId"] == alice.principal_id
    await rejected(core, Invalid, "InvalidSubjectFilter", n.update(alice, sid, {"subjectFilter": "("}))
    await n.delete(admin, sid)
    with pytest.raises(NotFound):
        n.get(alice, sid)


async def test_expiry_on_the_twins_clock(core: Core, alice) -> None:
    n = core.notifications
    short = await n.create(alice, {**HOOK, "expiryDateTime": _in(core, 90)})
    default = await n.create(alice, HOOK)
    assert default["expiryDateTime"] == _in(core, 24 * 3600)
    now = core.rt.now_iso()
    assert {s["subscriptionId"] for s in n.live_subscriptions(alice.account_id, now)} == {
        short["subscriptionId"], default["subscriptionId"]}
    await advance(core, 90)
    with pytest.raises(NotFound):
        n.get(alice, short["subscriptionId"])
    assert [s["subscriptionId"] for s in n.list(alice)] == [default["subscriptionId"]]
    assert [s["subscriptionId"] for s in n.live_subscriptions(alice.account_id, core.rt.now_iso())] == [
        default["subscriptionId"]]
    # expired more than a day ago: the retention sweep (on the scheduler) deletes it
    assert core.rt.state.get("subscription", short["subscriptionId"]) is not None
    await advance(core, 24 * 3600 + 3600)
    assert core.rt.state.get("subscription", short["subscriptionId"]) is None


async def test_a_disabled_subscription_is_gone(core: Core, alice) -> None:
    sub = await core.notifications.create(alice, HOOK)
    await core.notifications.disable(sub["subscriptionId"], "410 Gone")
    with pytest.raises(NotFound):
        core.notifications.get(alice, sub["subscriptionId"])
    assert core.notifications.live_subscriptions(alice.account_id, core.rt.now_iso()) == []


# ---------------------------------------------------------------------- matches(): the truth table

TOPICS = ["platform-api-media", "platform-api-presence"]
METHODS = ["PUT", "POST", "DELETE"]
SUBJECTS = ["/endpoints/2880/calls/1", "/endpoints/2881/calls/2", "/presentities/abc", "/conversations/x"]
SUBJECT_FILTERS = [None, "/endpoints/2880", "^/presentities/", "calls/[0-9]+$", "2881|abc"]
STATES = ["ringing", "connected", "completed"]
PUBLICATION_FILTERS = [None, "$.publications[?@.content.state == 'ringing']",
                       "$.publications[?@.content.state == 'ringing' || @.content.state == 'connected']",
                       "$.publications[?@.method == 'PUT']", "$.publications[?@.content.nothing]"]


def _expected(sub: dict, pub: dict) -> bool:
    """The documented rule, written independently of the implementation."""
    if sub["topic"] != pub["topic"]:
        return False
    if sub.get("methodFilter") and sub["methodFilter"] != pub["method"]:
        return False
    if sub.get("subjectFilter") and re.search(sub["subjectFilter"], pub["subject"]) is None:
        return False
    f = sub.get("publicationFilter")
    state = pub["content"]["state"]
    if f == PUBLICATION_FILTERS[1] and state != "ringing":
        return False
    if f == PUBLICATION_FILTERS[2] and state not in ("ringing", "connected"):
        return False
    if f == PUBLICATION_FILTERS[3] and pub["method"] != "PUT":
        return False
    if f == PUBLICATION_FILTERS[4]:
        return False
    return True


@settings(max_examples=300, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(sub_topic=st.sampled_from(TOPICS), method_filter=st.sampled_from([None, *METHODS]),
       subject_filter=st.sampled_from(SUBJECT_FILTERS), publication_filter=st.sampled_from(PUBLICATION_FILTERS),
       topic=st.sampled_from(TOPICS), method=st.sampled_from(METHODS), subject=st.sampled_from(SUBJECTS),
       state=st.sampled_from(STATES), sub_id=st.sampled_from(["a" * 32, "b" * 32]))
def test_matches_truth_table(core: Core, sub_topic, method_filter, subject_filter, publication_filter, topic,
                             method, subject, state, sub_id) -> None:
    """Subscriptions share one compiled-filter cache: reusing two ids with changing filters also checks
    that a changed filter is never answered from a stale compilation."""
    sub = {"subscriptionId": sub_id, "topic": sub_topic, "methodFilter": method_filter,
           "subjectFilter": subject_filter, "publicationFilter": publication_filter}
    pub = {"topic": topic, "method": method, "subject": subject, "content": {"state": state}}
    assert core.notifications.matches(sub, pub) is _expected(sub, pub)


def test_subject_filters_search_anywhere_and_method_filters_are_exact(core: Core) -> None:
    n = core.notifications
    pub = {"topic": "platform-api-media", "method": "PUT", "subject": "/2017-09-01/endpoints/2880/calls/9",
           "content": {}}
    base = {"subscriptionId": "s", "topic": "platform-api-media"}
    assert n.matches({**base, "subjectFilter": "endpoints/2880"}, pub)         # a plain substring
    assert not n.matches({**base, "subjectFilter": "^/endpoints/2880"}, pub)   # anchored at the start
    assert not n.matches({**base, "methodFilter": "POST"}, pub)
    assert n.matches({**base, "methodFilter": "PUT"}, pub)


@settings(max_examples=300, deadline=None)
@given(pattern=st.text(alphabet="/-_:aé0123456789 .*?()[]^$\\|+{}", min_size=1, max_size=12),
       subject=st.text(alphabet="/-_:aé0123456789 .*", max_size=30))
def test_a_plain_subject_filter_searches_as_re2_would(pattern: str, subject: str) -> None:
    """A filter with no special character is matched as a substring, without RE2: the same answer RE2 gives."""
    import re2

    from callyard.core.notifications.filters import Literal, compile_subject

    try:
        compiled = compile_subject(pattern)
    except Invalid:
        return
    assert bool(compiled.search(subject)) is (re2.search(pattern.replace("\\Z", "\\z"), subject) is not None)
    if not set("\\.^$*+?{}[]|()") & set(pattern):
        assert isinstance(compiled, Literal) and compiled.search(subject + pattern)
