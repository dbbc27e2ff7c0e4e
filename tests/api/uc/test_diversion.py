"""UC Diversion and Activity Diversion Mapping through the real interface, executed by the engine: the rules
are the extension's forwarding settings (the Media API shows them), an outside call to 2880 rings where they
say (the Media API and CloudLink's publications show the cause), the active diversion number and the
diversion per presence activity. Every response is validated against the family's OpenAPI document."""
from __future__ import annotations

from typing import Any

import httpx

from tests.api.uc.helpers import refused
from tests.conftest import auth, token
from tests.support.mqtt_client import Mqtt

RULES = "/api/diversion/acme.example/alice/rules"
NUMBER = "/api/diversion/acme.example/alice/number"
MAPPING = "/api/activitydiversion/acme.example/alice"
INFO = "/api/userinfo/acme.example/alice"
CL = "/2017-09-01"


def ok(openapi: Any, response: httpx.Response, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    openapi.check(response)
    return response.json() if response.content else None


def media_calls(client: httpx.Client, number: str) -> list[dict[str, Any]]:
    response = client.get(f"{CL}/endpoints/{number}/calls", headers=auth(token(client, "admin@acme.example")))
    assert response.status_code == 200, response.text
    return response.json()["_embedded"]["items"]


def settings(control: Any, number: str = "2880") -> dict[str, Any]:
    """The extension's settings as the simulator shows them (the ones the Media API and the simulator set)."""
    return control.sim(number)["settings"]


def rule_map(document: dict[str, Any], line: str = "PRIMARY") -> dict[str, str | None]:
    entry = next(e for e in document["userDiversionLineRules"] if e["lineOrderType"] == line)
    return {r["diversionRoutingRulesType"]: r.get("phoneNumber") for r in entry["userDiversionRules"]}


def test_cfwd_all_set_through_uc_rings_2882_and_clearing_restores_direct_delivery(client, openapi, ticket,
                                                                                   control) -> None:
    alice = ticket("alice@acme.example", ("USER",))
    first = ok(openapi, client.get(RULES, headers=alice))
    assert first["user"] == {"domain": "acme.example", "userid": "alice"}
    assert [(e["lineOrderType"], e["lineType"], e["lineNumber"]) for e in first["userDiversionLineRules"]] == [
        ("PRIMARY", "OFFICE_FIXED", "2880"), ("SECONDARY", "OFFICE_MOBILE", "+16135550101")]
    assert set(rule_map(first).values()) == {None}

    ok(openapi, client.put(f"{RULES}/PRIMARY/CFWD_ALL", json={"phoneNumber": "2882"}, headers=alice))
    assert ok(openapi, client.get(f"{RULES}/PRIMARY/CFWD_ALL", headers=alice)) == {
        "lineOrderType": "PRIMARY", "phoneNumber": "2882", "diversionRoutingRulesType": "CFWD_ALL"}
    assert settings(control)["forwardAlways"] == "2882"   # the same setting the Media API shows

    admin = auth(token(client, "admin@acme.example"))
    conn = client.post(f"{CL}/connections", headers=admin, json={"transport": "websocket"}).json()
    sub = client.post(f"{CL}/subscriptions", headers=admin, json={
        "transport": "websocket", "connectionId": conn["connectionId"], "topic": "platform-api-media",
        "publicationFilter": "$.publications[?(@.content.state == 'ringing')]"}).json()
    with Mqtt(conn["url"], admin["Authorization"].split(" ", 1)[1]) as mq:
        assert not mq.wait_connack()[0].is_failure
        mq.subscribe(sub["subscriptionId"], qos=0)
        call = control.ring("+16135550128")   # the DID of 2880
        assert control.legs(call) == {"+16135550123": "connected", "2882": "ringing"}
        [ringing] = media_calls(client, "2882")
        assert (ringing["state"], ringing["cause"]) == ("ringing", "callForwardAlways")
        # CloudLink's publication of the diverted leg carries the cause too
        published = mq.payload()["content"]
        assert (published["endpointId"], published["state"], published["cause"]) == (
            "2882", "ringing", "callForwardAlways")
        assert mq.quiet(0.3)   # 2880 never rang
    control.phone("2882", "busy")

    assert client.delete(f"{RULES}/PRIMARY/CFWD_ALL", headers=alice).status_code == 200
    assert settings(control)["forwardAlways"] is None
    call = control.ring("+16135550128")
    assert control.legs(call) == {"+16135550123": "connected", "2880": "ringing"}


def test_rules_documents_lines_and_combined_types(client, openapi, ticket, control) -> None:
    alice = ticket("alice@acme.example", ("USER",))
    body = {"userDiversionLineRules": [
        {"lineOrderType": "PRIMARY", "userDiversionRules": [
            {"phoneNumber": "2881", "diversionRoutingRulesType": "CFWD_NO_ANSWER_OR_UNREACHABLE"},
            {"phoneNumber": "6000", "diversionRoutingRulesType": "CFWD_ON_BUSY"}]},
        {"lineOrderType": "SECONDARY", "userDiversionRules": [
            {"phoneNumber": "+4676767676", "diversionRoutingRulesType": "CFWD_ALL"}]}]}
    document = ok(openapi, client.put(RULES, json=body, headers=alice))
    primary = rule_map(document)
    assert (primary["CFWD_NO_ANSWER"], primary["CFWD_UNREACHABLE"], primary["CFWD_NO_ANSWER_OR_UNREACHABLE"],
            primary["CFWD_ON_BUSY"], primary["CFWD_ON_BUSY_OR_UNREACHABLE"], primary["CFWD_ALL"]) == (
        "2881", "2881", "2881", "6000", None, None)
    assert rule_map(document, "SECONDARY")["CFWD_ALL"] == "+4676767676"
    assert settings(control)["forwardNoAnswer"] == "2881"
    assert ok(openapi, client.get(f"{RULES}/SECONDARY", headers=alice))["userDiversionLineRules"][0][
        "lineOrderType"] == "SECONDARY"

    # unreachable (out of service) forwards to 2881 instead of turning the caller away
    control.configure("2880", outOfService=True)
    call = control.ring("2880")
    assert control.legs(call).get("2881") == "ringing"
    control.phone("2881", "busy")
    control.configure("2880", outOfService=False)

    # a line's own path; a rule without a number clears it
    ok(openapi, client.post(f"{RULES}/PRIMARY", json={"userDiversionLineRules": [{"userDiversionRules": [
        {"diversionRoutingRulesType": "CFWD_UNREACHABLE"}]}]}, headers=alice))
    primary = rule_map(ok(openapi, client.get(f"{RULES}/PRIMARY", headers=alice)))
    assert (primary["CFWD_UNREACHABLE"], primary["CFWD_NO_ANSWER"], primary["CFWD_NO_ANSWER_OR_UNREACHABLE"]) == (
        None, "2881", None)
    assert ok(openapi, client.delete(f"{RULES}/PRIMARY", headers=alice))["field"] == []
    assert set(rule_map(ok(openapi, client.get(RULES, headers=alice))).values()) == {None}
    assert rule_map(ok(openapi, client.get(RULES, headers=alice)), "SECONDARY")["CFWD_ALL"] == "+4676767676"
    ok(openapi, client.delete(RULES, headers=alice))
    assert rule_map(ok(openapi, client.get(RULES, headers=alice)), "SECONDARY")["CFWD_ALL"] is None

    # busy in a call: forwards even though call waiting would let it ring
    control.configure("2880", callWaiting=True)
    ok(openapi, client.put(f"{RULES}/PRIMARY/CFWD_ON_BUSY_IN_CALL", json={"phoneNumber": "2882"}, headers=alice))
    control.ring("2880")
    control.phone("2880", "answer")
    second = control.ring("2880", caller="+16135550177")
    assert control.legs(second).get("2882") == "ringing"
    [offer] = media_calls(client, "2882")
    assert offer["cause"] == "callForwardBusy"


def test_rule_refusals_change_nothing(client, openapi, ticket) -> None:
    alice = ticket("alice@acme.example", ("USER",))
    before = ok(openapi, client.get(RULES, headers=alice))
    for response, status, code in (
            (client.put(f"{RULES}/PRIMARY/CFWD_ALL", json={"phoneNumber": "9999"}, headers=alice), 400,
             "invalid.destination"),
            (client.put(f"{RULES}/PRIMARY/CFWD_ALL", json={"phoneNumber": "2880"}, headers=alice), 400,
             "invalid.destination"),
            (client.put(f"{RULES}/PRIMARY/CFWD_ALL", json={"phoneNumber": "no!"}, headers=alice), 400,
             "phoneNumber.not.valid"),
            (client.put(f"{RULES}/PRIMARY/CFWD_ALL", json={"phoneNumber": "2882",
                                                           "diversionRoutingRulesType": "CFWD_ON_BUSY"},
                        headers=alice), 400, "diversionRoutingRulesType.not.valid"),
            (client.put(f"{RULES}/PRIMARY/CFWD_ALL", json={"phoneNumber": "2882", "lineOrderType": "SECONDARY"},
                        headers=alice), 400, "lineOrderType.not.valid"),
            (client.get(f"{RULES}/TERTIARY", headers=alice), 400, "lineOrderType.not.valid"),
            (client.get(f"{RULES}/PRIMARY/CFWD_SOMETIMES", headers=alice), 400, "diversionRuleType.not.valid"),
            (client.put(RULES, json={"userDiversionLineRules": []}, headers=alice), 400,
             "userDiversionLineRules.not.valid"),
            (client.put(f"{RULES}/PRIMARY", json={"userDiversionLineRules": [{"lineOrderType": "SECONDARY",
                                                                              "userDiversionRules": []}]},
                        headers=alice), 400, "lineOrderType.not.valid")):
        refused(openapi.check(response), status, code)
    assert ok(openapi, client.get(RULES, headers=alice)) == before
    # bob has no mobile: no SECONDARY line
    bob = ticket("bob@acme.example", ("USER",))
    refused(openapi.check(client.get("/api/diversion/acme.example/bob/rules/SECONDARY", headers=bob)), 404,
            "line.does.not.exist")
    refused(client.put(f"{RULES}/PRIMARY/CFWD_ALL", json={"phoneNumber": "2882"}, headers=bob), 403,
            "access.denied")
    erin = ticket("erin@globex.example", ("USER",))
    for path in (RULES, NUMBER, MAPPING):
        refused(openapi.check(client.get(path, headers=erin)), 403, "access.denied")
    refused(client.put(f"{RULES}/PRIMARY/CFWD_ALL", json={"phoneNumber": "2882"}, headers=erin), 403,
            "access.denied")
    # erin's own 2880 (Globex) is untouched by Acme's alice, and the other way round
    ok(openapi, client.put(f"{RULES}/PRIMARY/CFWD_ALL", json={"phoneNumber": "2882"}, headers=alice))
    erin_rules = ok(openapi, client.get("/api/diversion/globex.example/erin/rules", headers=erin))
    assert rule_map(erin_rules)["CFWD_ALL"] is None


def test_activity_diversion_mapping_and_the_diversion_number(client, openapi, ticket, control) -> None:
    alice = ticket("alice@acme.example", ("USER",))
    assert ok(openapi, client.get(MAPPING, headers=alice)) == {"diversion-mapping": []}
    put = ok(openapi, client.put(MAPPING, json={"diversion-mapping": [
        {"activityId": "lunch", "phoneNumber": "2882"}, {"activityId": "meeting", "phoneNumber": "6000"}]},
        headers=alice))
    assert put["diversion-mapping"] == [{"activityId": "lunch", "phoneNumber": "2882"},
                                        {"activityId": "meeting", "phoneNumber": "6000"}]
    assert ok(openapi, client.get(f"{MAPPING}/lunch", headers=alice)) == {"activityId": "lunch",
                                                                          "phoneNumber": "2882"}

    # lunch → calls ring 2882 (cause callForward); back to available → 2880 again
    ok(openapi, client.put(f"{INFO}/activity", params={"activity": "lunch"}, headers=alice))
    assert ok(openapi, client.get(NUMBER, headers=alice)) == {"diversion-number": "2882", "activityScoped": True}
    call = control.ring("2880")
    assert control.legs(call) == {"+16135550123": "connected", "2882": "ringing"}
    assert media_calls(client, "2882")[0]["cause"] == "callForward"
    control.phone("2882", "busy")
    ok(openapi, client.put(f"{INFO}/activity", params={"activity": "available"}, headers=alice))
    assert ok(openapi, client.get(NUMBER, headers=alice))["diversion-number"] == ""
    call = control.ring("2880")
    assert control.legs(call).get("2880") == "ringing"
    control.phone("2880", "busy")

    # a number set by hand stays through activity changes, unless forcePremappedDiversion
    assert ok(openapi, client.put(NUMBER, params={"phoneNumber": "2881"}, headers=alice)) == {
        "diversion-number": "2881", "activityScoped": False}
    ok(openapi, client.put(f"{INFO}/activity", params={"activity": "lunch"}, headers=alice))
    assert ok(openapi, client.get(NUMBER, headers=alice))["diversion-number"] == "2881"
    ok(openapi, client.put(f"{INFO}/presence", params={"forcePremappedDiversion": "true"},
                           json={"activity": {"id": "meeting"}}, headers=alice))
    assert ok(openapi, client.get(NUMBER, headers=alice)) == {"diversion-number": "6000", "activityScoped": True}

    # activityScoped: cleared on the next activity change (JSON body form)
    ok(openapi, client.post(NUMBER, json={"phoneNumber": "2881", "activityScoped": True}, headers=alice))
    ok(openapi, client.put(f"{INFO}/activity", params={"activity": "busy"}, headers=alice))
    assert ok(openapi, client.get(NUMBER, headers=alice))["diversion-number"] == ""
    ok(openapi, client.put(NUMBER, params={"phoneNumber": ""}, headers=alice))

    # one mapping: set, read, delete
    ok(openapi, client.post(f"{MAPPING}/busy", json={"phoneNumber": "2881"}, headers=alice))
    assert ok(openapi, client.get(NUMBER, headers=alice))["diversion-number"] == "2881"   # she is busy now
    assert client.delete(f"{MAPPING}/busy", headers=alice).status_code == 204
    refused(openapi.check(client.get(f"{MAPPING}/busy", headers=alice)), 404, "activityDiversion.does.not.exist")
    refused(openapi.check(client.delete(f"{MAPPING}/busy", headers=alice)), 404, "activityDiversion.does.not.exist")
    for response, code in (
            (client.put(f"{MAPPING}/sleeping", json={"phoneNumber": "2881"}, headers=alice), "activityId.not.valid"),
            (client.put(f"{MAPPING}/lunch", json={"phoneNumber": "9999"}, headers=alice), "invalid.destination"),
            (client.put(f"{MAPPING}/lunch", json={"activityId": "busy", "phoneNumber": "2881"}, headers=alice),
             "activityId.not.valid"),
            (client.put(NUMBER, headers=alice), "phoneNumber.required"),
            (client.put(NUMBER, params={"phoneNumber": "9999"}, headers=alice), "invalid.destination")):
        refused(openapi.check(response), 400, code)
    assert ok(openapi, client.get(MAPPING, headers=alice))["diversion-mapping"][0] == {"activityId": "lunch",
                                                                                       "phoneNumber": "2882"}
