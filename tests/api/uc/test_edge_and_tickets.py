"""The UC family's edge and the User Tickets API, through a live server: ticket creation (password, superuser
ticket), expiry on the twin's clock, revocation, allowedApis, the {domain}/{user} rules, the ValidationResult
envelope, X-HTTP-Method-Override, Content-Type/Accept and the family's OpenAPI document."""
from __future__ import annotations

import re

import httpx

from tests.api.uc.conftest import bearer, create_ticket
from tests.conftest import OPERATOR_HEADERS, PASSWORD, auth, token

ALICE_STATE = "/api/cti/acme.example/alice/calls"


def assert_refusal(response: httpx.Response, status: int, code: str) -> dict:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"field", "warning", "generated-id"}
    assert body["warning"] == []
    assert body["field"][0]["code"] == code, body
    assert set(body["field"][0]) == {"fieldName", "code", "description", "name"}
    return body


def test_password_ticket_has_the_seed_shape(client, openapi) -> None:
    response = client.post("/api/tickets/acme.example/alice", params={"api": ["CALL_CONTROL", "USER"],
                           "platform": "other", "name": "desk", "expires": 3600},
                           auth=("alice@acme.example", PASSWORD))
    openapi.check(response)
    body = response.json()
    assert response.status_code == 200, response.text
    assert set(body) == {"expires", "name", "token", "allowedApis"}
    assert re.fullmatch(r"\d+\.[A-Za-z0-9_-]+", body["token"])
    assert body["name"] == "desk" and body["allowedApis"] == ["CALL_CONTROL", "USER"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00", body["expires"])
    # the local part of the login works for Basic too, and the full login in the path
    again = client.post("/api/tickets/acme.example/alice@acme.example", params={"api": "CALLS", "platform": "other"},
                        auth=("alice", PASSWORD))
    assert again.status_code == 200 and again.json()["name"] == "CALLS"


def test_ticket_credential_by_header_and_query(client, ticket) -> None:
    headers = ticket("alice@acme.example", ("CALL_CONTROL",))
    assert client.get(ALICE_STATE, headers=headers).status_code == 200
    raw = headers["Authorization"].split(" ", 1)[1]
    assert client.get(ALICE_STATE, params={"t": raw}).status_code == 200


def test_wrong_password_and_no_credential(client, openapi) -> None:
    bad = client.post("/api/tickets/acme.example/alice", params={"api": "USER", "platform": "other"},
                      auth=("alice@acme.example", "wrong"))
    assert_refusal(openapi.check(bad), 401, "authentication.failed")
    none = client.post("/api/tickets/acme.example/alice", params={"api": "USER", "platform": "other"})
    assert_refusal(none, 401, "credentials.required")
    other = client.post("/api/tickets/acme.example/bob", params={"api": "USER", "platform": "other"},
                        auth=("alice@acme.example", PASSWORD))
    assert_refusal(other, 403, "access.denied")
    assert_refusal(client.get(ALICE_STATE), 401, "ticket.required")
    assert_refusal(client.get(ALICE_STATE, headers=bearer("123.nope")), 401, "ticket.not.valid")


def test_invalid_creation_parameters(client, openapi) -> None:
    basic = ("alice@acme.example", PASSWORD)
    url = "/api/tickets/acme.example/alice"
    body = assert_refusal(openapi.check(client.post(url, params={"api": "NOPE", "platform": "other"}, auth=basic)),
                          400, "api.not.valid")
    assert body["field"][0]["fieldName"] == "api" and body["field"][0]["name"] == "NOPE"
    assert_refusal(client.post(url, params={"api": "USER", "platform": "windows"}, auth=basic), 400,
                   "platform.not.valid")
    assert_refusal(client.post(url, params={"platform": "other"}, auth=basic), 400, "api.required")
    assert_refusal(client.post(url, params={"api": "USER", "platform": "android"}, auth=basic), 400, "ver.required")
    assert_refusal(client.post(url, params={"api": "USER", "platform": "other", "number": "+15550000"}, auth=basic),
                   400, "number.not.mobile.of.user")
    ok = client.post(url, params={"api": "USER", "platform": "android", "ver": "14", "number": "+16135550101"},
                     auth=basic)
    assert ok.status_code == 200
    assert_refusal(client.post(url, params={"api": "USER", "platform": "other", "name": "x" * 65}, auth=basic), 400,
                   "name.too.long")
    unknown = client.post("/api/tickets/acme.example/nobody", params={"api": "USER", "platform": "other"},
                          auth=("nobody@acme.example", PASSWORD))
    assert_refusal(unknown, 401, "authentication.failed")


def test_superuser_ticket_creates_for_a_user_of_its_domain_only(client, ticket) -> None:
    admin = ticket("admin@acme.example", ("USER",))
    made = client.post("/api/tickets/acme.example/bob", params={"api": "CALL_CONTROL", "platform": "other"},
                       headers=admin)
    assert made.status_code == 200, made.text
    assert client.get("/api/cti/acme.example/bob/calls", headers=bearer(made.json())).status_code == 200
    # not another organisation's user
    assert_refusal(client.post("/api/tickets/globex.example/erin", params={"api": "USER", "platform": "other"},
                               headers=admin), 403, "access.denied")
    # a plain user's ticket never mints tickets, not even for itself
    alice = ticket("alice@acme.example", ("USER",))
    assert_refusal(client.post("/api/tickets/acme.example/alice", params={"api": "CALL_CONTROL", "platform": "other"},
                               headers=alice), 403, "superuser.ticket.required")


def test_revocation_by_name(client, openapi) -> None:
    made = create_ticket(client, "alice@acme.example", ("CALL_CONTROL",), name="crm")
    headers = bearer(made)
    assert client.get(ALICE_STATE, headers=headers).status_code == 200
    response = client.delete("/api/tickets/acme.example/alice/crm", auth=("alice@acme.example", PASSWORD))
    assert openapi.check(response).status_code == 200
    assert response.json() == "API ticket deleted successfully"
    assert_refusal(client.get(ALICE_STATE, headers=headers), 401, "ticket.not.valid")
    assert_refusal(client.delete("/api/tickets/acme.example/alice/crm", auth=("alice@acme.example", PASSWORD)), 404,
                   "ticket.does.not.exist")
    # a ticket revokes itself; the same name again replaces the older ticket
    first = create_ticket(client, "alice@acme.example", ("CALL_CONTROL",), name="app")
    second = create_ticket(client, "alice@acme.example", ("CALL_CONTROL",), name="app")
    assert_refusal(client.get(ALICE_STATE, headers=bearer(first)), 401, "ticket.not.valid")
    assert client.delete("/api/tickets/acme.example/alice/app", headers=bearer(second)).status_code == 200
    assert_refusal(client.get(ALICE_STATE, headers=bearer(second)), 401, "ticket.not.valid")


def test_expiry_follows_the_twin_clock(client) -> None:
    made = create_ticket(client, "alice@acme.example", ("CALL_CONTROL",), expires=60)
    assert client.get(ALICE_STATE, headers=bearer(made)).status_code == 200
    control = OPERATOR_HEADERS                              # the virtual clock is the operator's
    assert client.post("/_callyard/clock/advance", json={"seconds": 61}, headers=control).status_code == 200
    assert_refusal(client.get(ALICE_STATE, headers=bearer(made)), 401, "ticket.expired")


def test_allowed_apis_domain_and_user_rules(client, ticket) -> None:
    user_only = ticket("alice@acme.example", ("USER",))
    assert_refusal(client.get(ALICE_STATE, headers=user_only), 403, "api.not.allowed")
    alice = ticket("alice@acme.example", ("CALL_CONTROL",))
    assert_refusal(client.get("/api/cti/acme.example/bob/calls", headers=alice), 403, "access.denied")
    assert_refusal(client.get("/api/cti/globex.example/erin/calls", headers=alice), 403, "access.denied")
    assert_refusal(client.get("/api/cti/acme.example/nobody/calls", headers=alice), 404, "user.does.not.exist")
    assert client.get("/api/cti/acme.example/alice@acme.example/calls", headers=alice).status_code == 200
    # an administrator's ticket acts for users of its own organisation only
    admin = ticket("admin@acme.example", ("CALL_CONTROL",))
    assert client.get("/api/cti/acme.example/bob/calls", headers=admin).status_code == 200
    assert_refusal(client.get("/api/cti/acme.example/nobody/calls", headers=admin), 404, "user.does.not.exist")
    assert_refusal(client.get("/api/cti/globex.example/erin/calls", headers=admin), 403, "access.denied")


def test_cti_needs_a_licence(client, ticket) -> None:
    carol = ticket("carol@acme.example", ("CALL_CONTROL",))
    body = assert_refusal(client.get("/api/cti/acme.example/carol/calls", headers=carol), 403, "license.missing")
    assert body["field"][0]["fieldName"] == "user"


def test_unknown_route_and_method(client, ticket) -> None:
    assert_refusal(client.get("/api/nothing/here"), 404, "resource.does.not.exist")
    assert_refusal(client.put("/api/tickets/acme.example/alice"), 405, "method.not.allowed")


def test_method_override_and_content_rules(client) -> None:
    create_ticket(client, "alice@acme.example", ("USER",), name="gone")
    tunnelled = client.post("/api/tickets/acme.example/alice/gone", headers={"X-HTTP-Method-Override": "DELETE"},
                            auth=("alice@acme.example", PASSWORD))
    assert tunnelled.status_code == 200, tunnelled.text
    assert_refusal(client.post("/api/tickets/acme.example/alice/x", headers={"X-HTTP-Method-Override": "PATCH"}),
                   400, "x-http-method-override.not.valid")
    assert_refusal(client.post("/api/tickets/acme.example/alice", params={"api": "USER", "platform": "other"},
                               headers={"Accept": "application/xml"}, auth=("alice@acme.example", PASSWORD)),
                   406, "accept.not.supported")
    assert_refusal(client.post("/api/tickets/acme.example/alice", params={"api": "USER", "platform": "other"},
                               content=b"<x/>", headers={"Content-Type": "application/xml"},
                               auth=("alice@acme.example", PASSWORD)), 415, "content.type.not.supported")


def test_the_family_document(client) -> None:
    document = client.get("/api/openapi.json").json()
    assert document["info"]["title"] == "callyard UC User API"
    assert "/api/tickets/{domain}/{user}" in document["paths"]
    schemes = document["components"]["securitySchemes"]
    assert schemes["ticket"]["scheme"] == "bearer" and schemes["ticketQuery"]["name"] == "t"
    assert "ValidationResult" in document["components"]["schemas"]
    # the UC routes stay out of the CloudLink document, which is checked against another envelope
    assert not any(path.startswith("/api/") for path in client.get("/openapi.json").json()["paths"])
    docs = client.get("/api/docs")
    assert docs.status_code == 200 and "/api/openapi.json" in docs.text


def test_a_ticket_in_the_query_is_not_journalled(client, ticket) -> None:
    headers = ticket("alice@acme.example", ("CALL_CONTROL",))
    raw = headers["Authorization"].split(" ", 1)[1]
    assert client.get(ALICE_STATE, params={"t": raw}).status_code == 200
    journal = client.get("/_callyard/journal", headers=auth(token(client, "admin@acme.example"))).json()
    entries = [e for e in journal["_embedded"]["items"] if e["path"] == ALICE_STATE]
    assert entries and all(raw not in (e["query"] or "") for e in entries)
    assert any(e["query"] == "t=REDACTED" for e in entries)


def test_expired_tickets_are_swept_a_day_later(client) -> None:
    made = create_ticket(client, "alice@acme.example", ("CALL_CONTROL",), expires=60)
    control = OPERATOR_HEADERS                              # the virtual clock is the operator's
    assert client.post("/_callyard/clock/advance", json={"seconds": 3600}, headers=control).status_code == 200
    assert_refusal(client.get(ALICE_STATE, headers=bearer(made)), 401, "ticket.expired")
    control = OPERATOR_HEADERS                              # the virtual clock is the operator's
    assert client.post("/_callyard/clock/advance", json={"seconds": 24 * 3600}, headers=control).status_code == 200
    assert_refusal(client.get(ALICE_STATE, headers=bearer(made)), 401, "ticket.not.valid")
