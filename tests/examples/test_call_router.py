"""examples/call_router: the seed 000 tutorial's centralized call routing application, run as a process
against the live twin — it redirects a ringing 613 caller to 2881, leaves a 416 caller where it rings,
never sends a call to the endpoint it already rings on, survives calls that are gone or refused, works over
the WebSocket and over verified webhooks, and leaves a clean best-practice audit."""
from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path
from types import ModuleType

import httpx
import pytest

from tests.examples.support import B, ROUTER
from tests.support.control import Control

CALLER_613 = "+16135550123"
CALLER_416 = "+14165550123"


def router_module() -> ModuleType:
    spec = importlib.util.spec_from_file_location("callrouter_example", ROUTER)
    assert spec is not None and spec.loader is not None
    module = sys.modules[spec.name] = importlib.util.module_from_spec(spec)  # dataclasses look it up
    spec.loader.exec_module(module)
    return module


def ringing_calls(control: Control, endpoint: str) -> list[dict]:
    response = control.http.get(f"{B}/endpoints/{endpoint}/calls")
    assert response.status_code == 200, response.text
    return [c for c in response.json()["_embedded"]["items"] if c["state"] == "ringing"]


def wait_for_deliveries(control: Control) -> list[dict]:
    """The delivery log once every delivery has an answer recorded."""
    deadline = time.monotonic() + 5
    while True:
        items = control.deliveries()
        if all(d.get("lastStatus") is not None for d in items) or time.monotonic() > deadline:
            return items
        time.sleep(0.05)


def decision_for(app, caller: str, outcome: str, endpoint: str | None = None) -> dict:
    line = app.wait_line(lambda text: f'"from":"{caller}"' in text and f'"outcome":"{outcome}"' in text
                         and (endpoint is None or f'"endpointId":"{endpoint}"' in text))
    return json.loads(line)


def test_routes_by_area_code_over_the_websocket(control: Control, twin, launch) -> None:
    app = launch(ROUTER, "--twin-url", twin.url, "--endpoints", "2880-2882", "--max-calls", "2", "--duration", "30")
    ready = json.loads(app.wait_line(lambda line: '"event":"ready"' in line))
    assert ready["transport"] == "websocket" and ready["endpointCount"] == 3
    assert ready["app"].startswith("callrouter-server/1.0.0;platform=")

    ottawa = control.ring("2880", caller=CALLER_613)
    redirected = decision_for(app, CALLER_613, "redirected")
    assert (redirected["endpointId"], redirected["areaCode"], redirected["rule"], redirected["destination"]) == \
        ("2880", "613", "ottawa", "2881")
    assert redirected["callTrackingId"] == ottawa and redirected["time"].endswith("Z")
    # 2881 is watched too: the call rings there now, and the router leaves it (its rule's destination).
    again = decision_for(app, CALLER_613, "left", endpoint="2881")
    assert again["repeat"] is True and again["reason"] == "already ringing on 2881"
    assert control.legs(ottawa) == {CALLER_613: "connected", "2881": "ringing"}
    [on_2881] = ringing_calls(control, "2881")
    assert (on_2881["from"], on_2881["cause"], on_2881["callId"]) == (CALLER_613, "redirected", again["callId"])

    toronto = control.ring("2882", caller=CALLER_416)
    left = decision_for(app, CALLER_416, "left")
    assert (left["areaCode"], left["rule"], left["destination"]) == ("416", "leave", None)
    assert app.finish() == 0   # --max-calls 2: two calls decided
    stopped = app.json_lines()[-1]
    assert stopped["event"] == "stopped" and stopped["calls"] == 2
    assert stopped["outcomes"] == {"redirected": 1, "left": 1, "seenAgain": 1}
    assert control.legs(toronto) == {CALLER_416: "connected", "2882": "ringing"}
    assert ringing_calls(control, "2880") == []

    report = control.audit_of(ready["sessionId"])
    assert report["app"]["kind"] == "server" and report["app"]["name"] == "callrouter"
    assert report["clean"] is True and report["findings"] == []


def test_calls_that_are_gone_or_refused_are_logged_with_their_correlation_id(control: Control, twin,
                                                                               launch) -> None:
    app = launch(ROUTER, "--twin-url", twin.url, "--endpoints", "2880", "--max-calls", "3", "--duration", "30")
    ready = json.loads(app.wait_line(lambda line: '"event":"ready"' in line))
    route = {"route": f"{B}/endpoints/{{endpointId}}/calls/{{callId}}", "method": "PUT", "count": 1}

    # The caller hung up (404): nothing to do, and nothing retried.
    control.fault(**route, status=404)
    control.ring("2880", caller="+16135550101")
    gone = decision_for(app, "+16135550101", "gone")
    assert gone["reason"].startswith("404 ") and gone["correlationId"]
    journaled = control.of(gone["correlationId"])
    assert [e["status"] for e in journaled] == [404]       # sent once: 404 is not worth a retry
    control.phone("+16135550101", "hangup")  # it is gone now

    # A server error: reported with status, name and correlation id, not retried either.
    control.fault(**route, status=500)
    control.ring("2880", caller="+16135550102")
    failed = decision_for(app, "+16135550102", "failed")
    assert failed["status"] == 500 and failed["correlationId"] and failed["retriesExhausted"] is False
    control.phone("+16135550102", "hangup")

    # 503 with Retry-After: the SDK waits (at least 2 s) and the redirect goes through.
    control.fault(**route, status=503, retryAfter=1)
    third = control.ring("2880", caller="+16135550103")
    retried = decision_for(app, "+16135550103", "redirected")
    assert app.finish() == 0
    assert control.legs(third)["2881"] == "ringing"
    puts = [e for e in control.journal()
            if e["method"] == "PUT" and e["path"].endswith(f"/endpoints/2880/calls/{retried['callId']}")]
    assert [e["status"] for e in puts] == [503, 200]
    assert control.audit_of(ready["sessionId"])["findings"] == []


def test_webhook_mode_verifies_signatures(control: Control, twin, launch) -> None:
    app = launch(ROUTER, "--twin-url", twin.url, "--endpoints", "2880,2882", "--webhook", "--max-calls", "1",
                 "--duration", "30")
    ready = json.loads(app.wait_line(lambda line: '"event":"ready"' in line))
    assert ready["transport"] == "webhook" and ready["url"].startswith("http://127.0.0.1:")

    # A delivery that is not signed with the subscription's secret is refused and does nothing.
    forged = {"publicationId": "p1", "topic": "platform-api-media", "method": "PUT",
              "subject": f"{B}/endpoints/2880/calls/123",
              "content": {"state": "ringing", "direction": "inbound", "from": CALLER_613}}
    refused = httpx.post(ready["url"], json=forged, headers={"webhook-id": "msg_1", "webhook-timestamp": "1",
                                                             "webhook-signature": "v1,AAAA"})
    assert refused.status_code == 400

    call = control.ring("2882", caller=CALLER_613)
    redirected = decision_for(app, CALLER_613, "redirected")
    assert redirected["endpointId"] == "2882" and redirected["destination"] == "2881"
    assert app.finish() == 0
    assert control.legs(call) == {CALLER_613: "connected", "2881": "ringing"}
    deliveries = wait_for_deliveries(control)
    assert [d["lastStatus"] for d in deliveries] == [204]      # verified, then handled
    # It cleaned up after itself.
    assert control.http.get(f"{B}/subscriptions").json()["count"] == 0
    report = control.audit_of(ready["sessionId"])
    assert report["clean"] is True and report["app"]["kind"] == "server"


def test_webhook_redeliveries_are_recognised_by_webhook_id(control: Control, twin, launch) -> None:
    """Delivery is at least once: a delivery sent twice, and one replayed later, carry the same webhook-id;
    the router's receiver acknowledges them without deciding the call again."""
    app = launch(ROUTER, "--twin-url", twin.url, "--endpoints", "2880,2882", "--webhook", "--max-calls", "2",
                 "--duration", "40", "--verbose")
    json.loads(app.wait_line(lambda line: '"event":"ready"' in line))
    control.fault(kind="webhook.duplicate", count=1)

    control.ring("2882", caller=CALLER_613)
    decision_for(app, CALLER_613, "redirected")
    [delivery] = wait_for_deliveries(control)
    assert delivery["status"] == "delivered" and delivery["lastStatus"] == 204   # the second copy, acknowledged
    control.replay(delivery["deliveryId"])
    deadline = time.monotonic() + 10
    while True:
        again = control.delivery(delivery["deliveryId"])
        if again["status"] == "delivered" or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert again["status"] == "delivered" and again["lastStatus"] == 204 and again["replayedOn"]

    control.ring("2880", caller=CALLER_416)   # a second call ends the run (--max-calls 2)
    decision_for(app, CALLER_416, "left")
    assert app.finish() == 0
    decisions = [line for line in app.json_lines() if line["event"] == "decision"]
    assert [(d["from"], d["outcome"]) for d in decisions] == [(CALLER_613, "redirected"), (CALLER_416, "left")]
    assert app.json_lines()[-1]["outcomes"] == {"redirected": 1, "left": 1}
    # Both copies after the first reached the receiver and were recognised (the SDK logs them at DEBUG).
    recognised = [line for line in app.errors if f"webhook {delivery['deliveryId']} delivered again" in line]
    assert len(recognised) == 2, app.errors


def test_area_codes_endpoints_and_rules(tmp_path: Path) -> None:
    router = router_module()
    assert [router.area_code(n) for n in ("+16135550123", "16135550123", "6135550123", "(613) 555-0123",
                                          "+441632960000", "2880", "", None, "+1613555012")] == \
        ["613", "613", "613", "613", None, None, None, None, None]
    assert router.parse_endpoints("2880-2882, 200,5000") == ["2880", "2881", "2882", "200", "5000"]
    assert router.parse_endpoints("0098-0101") == ["0098", "0099", "0100", "0101"]
    for bad in ("2889-2880", "a-b", "", "28 80", "1-5000"):
        with pytest.raises(ValueError):
            router.parse_endpoints(bad)

    default = router.load_rules(router.DEFAULT_RULES)
    assert default.match("613").destination == "2881" and default.match("343").name == "ottawa"
    assert default.match("416").destination is None and default.match(None).name == "leave"

    custom = tmp_path / "rules.json"
    custom.write_text(json.dumps({"rules": [{"name": "toronto", "areaCode": 416, "destination": 2882}],
                                  "default": {"name": "reception", "destination": "200"}}))
    rules = router.load_rules(custom)
    assert rules.match("416").destination == "2882" and rules.match("613").destination == "200"
    for body, problem in (({"rules": [{"areaCodes": ["61"], "destination": "1"}]}, "three-digit"),
                          ({"rules": [{"areaCodes": ["613"], "destination": "1"},
                                      {"areaCodes": ["613"], "destination": "2"}]}, "already routed"),
                          ({"rules": [{"areaCodes": ["613"], "destination": "x y"}]}, "destination"),
                          ({"rules": [], "colour": "blue"}, "unknown keys"), ([1, 2], "mapping")):
        custom.write_text(json.dumps(body))
        with pytest.raises(router.RulesError, match=problem):
            router.load_rules(custom)
    assert router.main(["--rules", str(tmp_path / "missing.yaml")]) == 2
    assert router.main(["--endpoints", "9-1"]) == 2
