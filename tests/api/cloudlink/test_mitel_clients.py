"""What Mitel's own published clients send and expect (issue 14), through HTTP against a live twin: the
app-registration collection's ``redirectUris``, links under Host-header routing, the published webhook
payload field for field, and ``Retry-After`` as seconds or an HTTP-date. (The media sample's conference and
blind-transfer bodies are tested with the rest of Media: tests/api/cloudlink/media.)"""
from __future__ import annotations

import json
import time
from email.utils import parsedate_to_datetime
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from tests.conftest import OPERATOR_HEADERS, APP_ID, GLOBEX, auth, start_server, token
from tests.support.receiver import Receiver

B = "/2017-09-01"
REFERENCE = Path("/work/shared/reference/cloudlink-webhook-example.json")
WEBHOOK_EXAMPLE = json.loads(REFERENCE.read_text()) if REFERENCE.exists() else None


# ------------------------------------------------------------------ 1. redirectUris as the collection sends them
def test_redirect_uris_take_any_strings_and_are_checked_at_authorize(client: httpx.Client) -> None:
    partner = auth(token(client, "partner@callyard.example"))
    created = client.post(f"{B}/applications", json={"name": "Collection", "description": "postman"}, headers=partner)
    assert created.status_code == 201, created.text
    app_id = created.json()["applicationId"]
    # Mitel's published app-registration collection sends the swagger's example value.
    r = client.put(f"{B}/applications/{app_id}", json={"accountId": GLOBEX, "name": "Collection", "active": True,
                                                       "description": "postman", "redirectUris": ["string"]},
                   headers={**partner, "x-mitel-app": "postman/1.0"})
    assert r.status_code == 200, r.text
    assert r.json()["redirectUris"] == ["string"]
    # … and the URI is judged when it is used: not an absolute URI → 400, changes nothing
    login = {"client_id": app_id, "response_type": "code", "username": "erin@globex.example", "password": "callyard"}
    r = client.post(f"{B}/authorize", data={**login, "redirect_uri": "string"})
    assert r.status_code == 400 and r.json()["name"] == "InvalidRedirectUri", r.text
    r = client.post(f"{B}/authorize", data={**login, "redirect_uri": "https://elsewhere.example/cb"})
    assert r.status_code == 403 and r.json()["name"] == "InvalidRedirectUri"
    # a real URI registered later works end to end
    r = client.put(f"{B}/applications/{app_id}", json={"accountId": GLOBEX, "redirectUris": ["https://app.example/cb"]},
                   headers=partner)
    assert r.status_code == 200, r.text
    r = client.post(f"{B}/authorize", data={**login, "redirect_uri": "https://app.example/cb"})
    assert r.status_code == 201, r.text
    # still an array of strings
    for bad in ("https://app.example/cb", [1], [None]):
        r = client.put(f"{B}/applications/{app_id}", json={"accountId": GLOBEX, "redirectUris": bad}, headers=partner)
        assert r.status_code == 400 and "redirectUris" in r.json()["message"]


# ------------------------------------------------------------------ 4. links relative to how the request arrived
@pytest.mark.parametrize("path,host,expected_base", [
    (f"{B}/users", None, f"{B}/users"),
    (f"/admin{B}/users", None, f"/admin{B}/users"),
    (f"{B}/users", "admin.api.mitel.io", f"{B}/users"),
    (f"{B}/users", "admin.us-west-2.us.api.mitel.io", f"{B}/users"),
])
def test_collection_links_follow_the_way_the_request_came(client: httpx.Client, admin, path, host,
                                                          expected_base) -> None:
    headers = {**admin, **({"Host": host} if host else {})}
    first = client.get(path, params={"$top": "1"}, headers=headers)
    assert first.status_code == 200, first.text
    links = first.json()["_links"]
    assert links["self"] == f"{expected_base}?$top=1"      # the $ stays literal
    nxt = urlsplit(links["next"])
    assert nxt.path == expected_base and "%24" not in links["next"]
    assert parse_qs(nxt.query) == {"$skip": ["1"], "$top": ["1"]}
    # the link is a path on the host the client called: following it gets the second page
    second = client.get(links["next"], headers=headers)
    assert second.status_code == 200, second.text
    assert second.json()["_embedded"]["items"] != first.json()["_embedded"]["items"]


# ------------------------------------------------------------------ 5. the published webhook payload
@pytest.mark.skipif(WEBHOOK_EXAMPLE is None, reason="the reference payload is not on this machine")
def test_a_media_publication_has_the_published_payloads_fields(client: httpx.Client, admin) -> None:
    with Receiver() as receiver:
        sub = client.post(f"{B}/subscriptions", headers=admin, json={
            "applicationId": APP_ID, "deviceId": receiver.url, "transport": "webhook", "topic": "platform-api-media",
            "subjectFilter": f"{B}/endpoints/2880", "publicationFilter":
            "$.publications[?(@.content.state == 'ringing' || @.content.state == 'completed')]"})
        assert sub.status_code == 201, sub.text
        placed = client.post("/_callyard/sim/calls", json={"from": "+16135550123", "to": "2880"}, headers=admin)
        assert placed.status_code == 201, placed.text
        assert client.post("/_callyard/sim/endpoints/2880/answer", headers=admin).status_code == 200
        assert client.post("/_callyard/clock/advance", json={"seconds": 4}, headers=OPERATOR_HEADERS).status_code == 200
        assert client.post("/_callyard/sim/endpoints/2880/hangup", headers=admin).status_code == 200
        publication, ended = receiver.wait_for(2)
    expected = WEBHOOK_EXAMPLE
    assert list(publication) == list(expected)
    content, real = publication["content"], expected["content"]
    assert list(content) == list(real)                                   # field for field, in the same order
    assert set(content["extraPbxData"]) == set(real["extraPbxData"]) | {"sequence"}  # the one documented extra
    assert content["extraPbxData"]["alertingDevice"] == "2880" and content["extraPbxData"]["calledDevice"] == "2880"
    for field in ("timestamp", "mediaReceivedTimestamp", "mediaEventProcessedTimestamp"):
        assert isinstance(content[field], int) and content[field] > 1_600_000_000_000
    assert content["timestamp"] <= content["mediaReceivedTimestamp"] <= content["mediaEventProcessedTimestamp"]
    for field in ("eventId", "siteId"):
        assert len(content[field]) == 36 and content[field].count("-") == 4          # a plain UUID
    assert ":" not in content["eventId"]
    assert content["deviceId"].startswith("platform-api-mediaservice-")
    assert content["principalId"] == content["callLegOwner"] == content["userId"]
    assert content["_links"]["self"] == f"{B}/{content['callId']}"
    assert (content["from"], content["to"], content["state"], content["direction"]) == \
        ("+16135550123", "2880", "ringing", "inbound")
    assert isinstance(content["fromName"], str) and content["toName"]
    # The ended leg: the same fields, then its outcome and timing (documented extras).
    done = ended["content"]
    assert [k for k in done if k in real] == list(real)
    assert [k for k in done if k not in real] == ["completed", "endTime", "ringTime", "billingTime"]
    assert (done["state"], done["completed"], done["billingTime"]) == ("completed", True, 4.0)
    assert done["eventId"] != content["eventId"]


# ------------------------------------------------------------------ 6. Retry-After: seconds or an HTTP-date
def _fault(c: httpx.Client, headers: dict, **spec) -> None:
    r = c.post("/_callyard/faults", json={"route": f"{B}/users", "method": "GET", "status": 503, **spec},
               headers=headers)
    assert r.status_code == 201, r.text


def test_retry_after_is_seconds_by_default_and_an_http_date_on_request(client: httpx.Client, admin) -> None:
    _fault(client, admin, retryAfter=2, count=1)
    r = client.get(f"{B}/users", headers=admin)
    assert r.status_code == 503 and r.headers["retry-after"] == "2"
    _fault(client, admin, retryAfter=30, retryAfterFormat="http-date", count=1)
    r = client.get(f"{B}/users", headers=admin)
    assert r.status_code == 503
    when = parsedate_to_datetime(r.headers["retry-after"]).timestamp()
    assert 29 <= when - time.time() <= 32
    r = client.post("/_callyard/faults", json={"route": f"{B}/users", "status": 503, "retryAfter": 1,
                                               "retryAfterFormat": "epoch"}, headers=admin)
    assert r.status_code == 400
    assert client.get(f"{B}/users", headers=admin).status_code == 200


def test_the_twin_wide_setting_writes_http_dates_for_the_rate_limit_and_faults() -> None:
    with start_server(rate_limit=1.0, rate_burst=1, retry_after_format="http-date", open_control=True) as live, \
            httpx.Client(base_url=live.url) as c:
        alice = auth(token(c, "alice@acme.example"))
        assert c.get(f"{B}/token", headers=alice).status_code == 200
        limited = c.get(f"{B}/token", headers=alice)
        assert limited.status_code == 429
        when = parsedate_to_datetime(limited.headers["retry-after"]).timestamp()
        assert 0 <= when - time.time() <= 3
        _fault(c, {}, retryAfter=10, count=1)
        admin = auth(token(c, "admin@acme.example"))
        injected = c.get(f"{B}/users", headers=admin)
        assert injected.status_code == 503
        assert 9 <= parsedate_to_datetime(injected.headers["retry-after"]).timestamp() - time.time() <= 12
        _fault(c, {}, retryAfter=4, retryAfterFormat="seconds", count=1)
        assert c.get(f"{B}/users", headers=auth(token(c, "admin@acme.example"))).headers["retry-after"] == "4"
