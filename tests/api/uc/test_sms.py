"""SMS through a live server: ``POST /api/user/sms/{to}`` captures the message in the SMS outbox
(``GET /_callyard/sms``) with the sender account's number-plan expansion; the documented refusals; the outbox
is account-scoped, cleared by a reset and part of an account's export."""
from __future__ import annotations

from tests.api.uc.helpers import refused
from tests.conftest import OPERATOR_HEADERS


def test_sms_is_captured_with_the_number_plan_expansion(client, ticket, openapi, admin) -> None:
    headers = ticket("alice@acme.example", ("SMS",))
    sent = openapi.check(client.post("/api/user/sms/%2B358409403999", json={"smsText": "Test SMS from the API."},
                                     headers=headers))
    assert sent.status_code == 200 and sent.json() == {"validationResult": ""}
    # Acme's number plan (NANP): 1 is the national prefix, 011 the international one, 613 a local area code.
    for dialled in ("1 (613) 555-0177", "011 46 8 123 456", "6135550142", "2881"):
        assert client.post(f"/api/user/sms/{dialled}", json={"smsText": "hej"}, headers=headers).status_code == 200
    outbox = client.get("/_callyard/sms", headers=admin)
    assert outbox.status_code == 200
    items = outbox.json()["_embedded"]["items"]
    assert [m["to"] for m in items] == ["+358409403999", "+16135550177", "+468123456", "+16135550142", "2881"]
    first = items[0]
    assert first["from"] == "+16135550101"   # alice's mobile number
    assert first["text"] == "Test SMS from the API." and first["source"] == "uc"
    assert first["encoding"] == "GSM-7" and first["segments"] == 1 and first["delivery"] == "outbox"
    assert first["accountId"] == "ac3e0000-0000-4000-8000-00000000ac3e" and first["userId"].endswith("2880")
    assert items[2]["dialled"] == "011468123456"


def test_swedish_number_plan_and_segments(client, ticket, as_user) -> None:
    """Globex's plan: national prefix 0, country 46 — 08 … becomes +468 …; a long unicode text is counted in
    UCS-2 segments; erin has no mobile, so her extension is the sender."""
    headers = ticket("erin@globex.example", ("SMS",))
    text = "Hälsningar 🙂 " * 10
    assert client.post("/api/user/sms/08-123 45 67", json={"smsText": text}, headers=headers).status_code == 200
    item = client.get("/_callyard/sms", headers=as_user("admin@globex.example")).json()["_embedded"]["items"][0]
    assert (item["to"], item["from"], item["encoding"], item["segments"]) == ("+4681234567", "2880", "UCS-2", 3)


def test_refusals_change_nothing(client, ticket, openapi, admin) -> None:
    headers = ticket("alice@acme.example", ("SMS",))
    refused(openapi.check(client.post("/api/user/sms/+46812345", json={}, headers=headers)),
            400, "sms.text.required")
    refused(client.post("/api/user/sms/+46812345", json={"smsText": "   "}, headers=headers), 400,
            "sms.text.required")
    refused(client.post("/api/user/sms/+46812345", json={"smsText": "x" * 1601}, headers=headers), 400,
            "sms.text.too.long")
    refused(openapi.check(client.post("/api/user/sms/not-a-number", json={"smsText": "hi"}, headers=headers)),
            400, "sms.number.not.valid")
    broken = client.post("/api/user/sms/+46812345", content=b"{",
                         headers={**headers, "content-type": "application/json"})
    assert broken.status_code == 400 and broken.json()["field"][0]["code"].endswith("not.valid.json")
    # A ticket without the SMS api, and no ticket at all.
    call_control = ticket("alice@acme.example", ("CALL_CONTROL", "USER"))
    refused(openapi.check(client.post("/api/user/sms/+46812345", json={"smsText": "hi"}, headers=call_control)),
            403, "api.not.allowed")
    refused(openapi.check(client.post("/api/user/sms/+46812345", json={"smsText": "hi"})), 401, "ticket.required")
    assert client.get("/_callyard/sms", headers=admin).json()["count"] == 0


def test_outbox_is_account_scoped_reset_and_exported(client, ticket, admin, as_user, alice) -> None:
    assert client.post("/api/user/sms/2881", json={"smsText": "acme"},
                       headers=ticket("alice@acme.example", ("SMS",))).status_code == 200
    assert client.post("/api/user/sms/2880", json={"smsText": "globex"},
                       headers=ticket("erin@globex.example", ("SMS",))).status_code == 200
    globex = as_user("admin@globex.example")
    assert [m["text"] for m in client.get("/_callyard/sms", headers=admin).json()["_embedded"]["items"]] == ["acme"]
    assert [m["text"] for m in client.get("/_callyard/sms", headers=globex).json()["_embedded"]["items"]] == ["globex"]
    everything = client.get("/_callyard/sms", headers=OPERATOR_HEADERS).json()["_embedded"]["items"]
    assert sorted(m["text"] for m in everything) == ["acme", "globex"]
    assert client.get("/_callyard/sms", headers=alice).status_code == 403          # not an administrator
    assert client.get("/_callyard/sms").status_code == 401
    # Part of the account's export; an account reset clears Acme's messages only.
    exported = client.get("/_callyard/state", headers=admin).json()["documents"]["sms"]
    assert [m["text"] for m in exported] == ["acme"]
    assert client.post("/_callyard/reset", headers=admin).status_code == 200
    assert client.get("/_callyard/sms", headers=admin).json()["count"] == 0
    assert client.get("/_callyard/sms", headers=globex).json()["count"] == 1
