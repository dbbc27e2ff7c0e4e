"""Buddy List, Contacts and Contacts Information (legacy and V1) through a live server: the user's contact
list (favourites, VIP/BLOCKED), the directory search with presence and in-call state, a contact's presence
(JSON and PIDF) with the caller's access, fields, vCard, image, scheduled presence, the time zones, the PIDF
and dialog-info streams, and that Globex never sees Acme's directory."""
from __future__ import annotations

import base64
import xml.etree.ElementTree as ET
from typing import Any, Iterator

import httpx
import pytest

from callyard.api.uc.cti import streams
from tests.api.uc.helpers import control, refused
from tests.conftest import ACME, ALICE, BOB, png_bytes

B = "/2017-09-01"
BUDDY = "/api/buddylist/acme.example/alice"
CONTACTS = "/api/contacts/acme.example/alice"
LEGACY = "/api/contact/acme.example"
V1 = "/api/v1/contact/acme.example"
PIDF = "{urn:ietf:params:xml:ns:pidf}"
DM = "{urn:ietf:params:xml:ns:pidf:data-model}"
RPID = "{urn:ietf:params:xml:ns:pidf:rpid}"
DIALOG = "{urn:ietf:params:xml:ns:dialog-info}"


@pytest.fixture
def alice_t(ticket) -> dict[str, str]:
    return ticket("alice@acme.example", ("CONTACT_SEARCH",))


def cids(listing: dict[str, Any]) -> list[str]:
    return [c["cid"] for c in listing["contact"]]


# ====================================================================== Buddy List
def test_buddy_list_add_verify_delete(client, openapi, alice_t) -> None:
    url = f"{BUDDY}/bob@acme.example"
    refused(openapi.check(client.get(url, headers=alice_t)), 404, "contact.not.in.favourites")
    assert openapi.check(client.put(url, headers=alice_t)).status_code == 204
    assert openapi.check(client.get(url, headers=alice_t)).status_code == 204
    # POST adds as well; the favourites are the default list (a search without query)
    assert openapi.check(client.post(f"{BUDDY}/carol@acme.example", headers=alice_t)).status_code == 204
    favourites = openapi.check(client.get(CONTACTS, headers=alice_t)).json()
    assert cids(favourites) == ["bob@acme.example", "carol@acme.example"]
    assert {c["contactStatus"] for c in favourites["contact"]} == {"FAVORITE"}
    assert all(c["inlist"] for c in favourites["contact"])
    assert openapi.check(client.delete(url, headers=alice_t)).status_code == 204
    refused(openapi.check(client.delete(url, headers=alice_t)), 404, "contact.not.in.list")
    refused(client.get(url, headers=alice_t), 404, "contact.not.in.favourites")
    refused(openapi.check(client.put(f"{BUDDY}/nobody@acme.example", headers=alice_t)), 404,
            "contact.does.not.exist")
    refused(client.put(f"{BUDDY}/alice@acme.example", headers=alice_t), 400, "contact.is.self")


def test_buddy_list_from_templates(client, openapi, alice_t) -> None:
    refused(openapi.check(client.put(BUDDY, headers=alice_t)), 400, "applyContactTemplates.required")
    refused(client.put(BUDDY, params={"applyContactTemplates": "false"}, headers=alice_t), 400,
            "applyContactTemplates.not.valid")
    # alice is in the Support group with dave: her favourites template gives her dave
    made = openapi.check(client.put(BUDDY, params={"applyContactTemplates": "true"}, headers=alice_t)).json()
    assert cids(made) == ["dave@acme.example"] and made["contact"][0]["contactStatus"] == "FAVORITE"
    # an entry that exists keeps its status
    client.put(f"{CONTACTS}/dave@acme.example/status", params={"contactStatus": "VIP"}, headers=alice_t)
    again = openapi.check(client.post(BUDDY, params={"applyContactTemplates": "true"}, headers=alice_t)).json()
    assert [c["contactStatus"] for c in again["contact"]] == ["VIP"]


# ====================================================================== Contacts
def test_search_the_directory(client, openapi, alice_t, admin) -> None:
    found = openapi.check(client.get(CONTACTS, params={"query": "bo"}, headers=alice_t)).json()
    assert found["query"] == "bo" and cids(found) == ["bob@acme.example"]
    bob = found["contact"][0]
    assert bob["type"] == "DIRECTORY" and bob["firstname"] == "Bob" and bob["lastname"] == "Brown"
    assert bob["inlist"] is False and bob["contactStatus"] == "CONTACT" and bob["incall"] is False
    assert bob["presence"]["activity"]["id"] == "available" and bob["presence"]["activityAccess"] == "NONE"
    assert {"number": "2881", "type": "extension"} in bob["phonenumbers"]
    assert base64.urlsafe_b64decode(bob["contactEntryId"] + "==").decode() == "bob@acme.example@directory"
    # by number, by company; function numbers (hunt and ACD groups) unless left out
    assert cids(client.get(CONTACTS, params={"query": "2881"}, headers=alice_t).json()) == ["bob@acme.example"]
    sales = client.get(CONTACTS, params={"query": "sales"}, headers=alice_t).json()
    assert [(c["cid"], c["type"]) for c in sales["contact"]] == [("5100@acme.example", "FUNCTION_NUMBER")]
    assert client.get(CONTACTS, params={"query": "sales", "dontIncludeFnrs": "true"},
                      headers=alice_t).json()["contact"] == []
    # an organisation contact made through the CloudLink Admin API is found as EXTERNAL
    made = client.post(f"{B}/accounts/{ACME}/contacts", headers=admin,
                       json={"name": "Zed Zulu", "company": "Initech", "phone": "+15551234567"})
    assert made.status_code == 201, made.text
    zed = openapi.check(client.get(CONTACTS, params={"query": "initech"}, headers=alice_t)).json()["contact"]
    assert [(c["firstname"], c["type"], c["company"]) for c in zed] == [("Zed", "EXTERNAL", "Initech")]
    every = client.get(CONTACTS, params={"query": "acme"}, headers=alice_t).json()
    assert len(every["contact"]) >= 4
    assert len(client.get(CONTACTS, params={"query": "acme", "maxResults": "2"}, headers=alice_t)
               .json()["contact"]) == 2
    refused(openapi.check(client.get(CONTACTS, params={"maxResults": "many"}, headers=alice_t)), 400,
            "maxResults.not.valid")
    refused(client.get(CONTACTS, params={"query": "a", "maxResults": "0"}, headers=alice_t), 400,
            "maxResults.not.valid")


def test_contact_list_and_status(client, openapi, alice_t) -> None:
    added = openapi.check(client.put(f"{CONTACTS}/bob@acme.example", headers=alice_t)).json()
    assert cids(added) == ["bob@acme.example"] and added["contact"][0]["contactStatus"] == "CONTACT"
    carol_entry = base64.urlsafe_b64encode(b"carol@acme.example@directory").decode().rstrip("=")
    batch = openapi.check(client.post(CONTACTS, headers=alice_t, json={
        "query": "x", "contact": [{"cid": "2882@acme.example"}, {"contactEntryId": carol_entry},
                                  {"cid": "dave"}]})).json()
    assert cids(batch) == ["carol@acme.example", "carol@acme.example", "dave@acme.example"]
    assert openapi.check(client.post(f"{CONTACTS}/5100@acme.example", headers=alice_t)).status_code == 200
    status = openapi.check(client.put(f"{CONTACTS}/bob@acme.example/status", params={"contactStatus": "VIP"},
                                      headers=alice_t))
    assert status.json() == {"contactStatus": "VIP"}
    blocked = client.put(f"{CONTACTS}/dave@acme.example/status", json={"contactStatus": "BLOCKED"},
                         headers=alice_t)
    assert blocked.json() == {"contactStatus": "BLOCKED"}
    listing = client.get(CONTACTS, headers=alice_t).json()
    assert {c["cid"]: c["contactStatus"] for c in listing["contact"]} == {
        "bob@acme.example": "VIP", "carol@acme.example": "CONTACT", "5100@acme.example": "CONTACT"}
    with_blocked = client.get(CONTACTS, params={"includeBlocked": "true"}, headers=alice_t).json()
    assert "dave@acme.example" in cids(with_blocked)
    assert "dave@acme.example" not in cids(client.get(CONTACTS, params={"query": "dave"}, headers=alice_t).json())
    assert openapi.check(client.delete(f"{CONTACTS}/carol@acme.example", headers=alice_t)).status_code == 204
    refused(openapi.check(client.delete(f"{CONTACTS}/carol@acme.example", headers=alice_t)), 404,
            "contact.not.in.list")
    refused(openapi.check(client.put(f"{CONTACTS}/bob@acme.example/status", params={"contactStatus": "BEST"},
                                     headers=alice_t)), 400, "contactStatus.not.valid")
    refused(client.put(f"{CONTACTS}/bob@acme.example/status", headers=alice_t), 400, "contactStatus.required")
    refused(openapi.check(client.post(CONTACTS, json={"contact": [{}]}, headers=alice_t)), 400, "cid.required")
    refused(client.post(CONTACTS, json={"contact": []}, headers=alice_t), 400, "contact.required")
    refused(client.put(f"{CONTACTS}/nobody@acme.example", headers=alice_t), 404, "contact.does.not.exist")
    # the list is the user's: bob's is empty, and alice's ticket does not reach it
    assert client.get("/api/contacts/acme.example/bob", headers=_t(client, "bob")).json()["contact"] == []
    refused(client.get("/api/contacts/acme.example/bob", headers=alice_t), 403, "access.denied")
    # the list is in the account's snapshot
    state = client.get("/_callyard/state", headers={"Authorization": "Bearer callyard-test-operator-token"}).json()
    assert any(d["userId"] == ALICE for d in state["documents"]["contact_list"])


def _later(client: httpx.Client, seconds: int) -> str:
    """The twin's clock ``seconds`` from now, as ISO 8601 UTC."""
    from datetime import datetime, timedelta

    now = datetime.fromisoformat(client.get("/_callyard/clock").json()["now"].replace("Z", "+00:00"))
    return (now + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")


def _t(client: httpx.Client, user: str, apis: tuple[str, ...] = ("CONTACT_SEARCH",)) -> dict[str, str]:
    from tests.api.uc.conftest import bearer, create_ticket

    return bearer(create_ticket(client, f"{user}@acme.example", apis))


def test_tickets_and_domains(client, ticket) -> None:
    cti_only = ticket("alice@acme.example", ("CALL_CONTROL",))
    refused(client.get(CONTACTS, headers=cti_only), 403, "api.not.allowed")
    refused(client.get(f"{LEGACY}/bob@acme.example", headers=cti_only), 403, "api.not.allowed")
    refused(client.get(f"{V1}/bob@acme.example"), 401, "ticket.required")
    user_ticket = ticket("alice@acme.example", ("USER",))
    assert client.get(f"{V1}/bob@acme.example", headers=user_ticket).status_code == 200


def test_globex_never_sees_acme(client, ticket) -> None:
    erin = ticket("erin@globex.example", ("CONTACT_SEARCH",))
    assert client.get("/api/contacts/globex.example/erin", params={"query": "alice"},
                      headers=erin).json()["contact"] == []
    assert cids(client.get("/api/contacts/globex.example/erin", params={"query": "acme"},
                           headers=erin).json()) == []
    refused(client.get(f"{LEGACY}/alice@acme.example", headers=erin), 403, "access.denied")
    refused(client.get(f"{V1}/alice@acme.example/vcard", headers=erin), 403, "access.denied")
    refused(client.get("/api/contact/globex.example/alice@acme.example", headers=erin), 404,
            "contact.does.not.exist")
    entry = base64.urlsafe_b64encode(b"alice@acme.example@directory").decode().rstrip("=")
    refused(client.get(f"/api/v1/contact/globex.example/{entry}", headers=erin), 404, "contact.does.not.exist")
    refused(client.put("/api/buddylist/globex.example/erin/alice@acme.example", headers=erin), 404,
            "contact.does.not.exist")
    refused(client.put("/api/v1/contact/globex.example/alice@acme.example/note", params={"note": "x"},
                       headers=erin), 404, "contact.does.not.exist")
    refused(client.get("/api/contacts/acme.example/alice", headers=erin), 403, "access.denied")
    refused(client.get(f"{V1}/alice@acme.example/presence/stream", headers=erin), 403, "access.denied")
    refused(client.get("/api/v1/contact/globex.example/alice@acme.example/linestate/stream", headers=erin), 404,
            "contact.does.not.exist")
    refused(client.get("/api/v1/contact/globex.example/2880@acme.example/linestate", headers=erin), 404,
            "contact.does.not.exist")
    # erin's own organisation: her extension 2880 is erin, not alice
    assert client.get("/api/v1/contact/globex.example/2880", headers=erin).json()["cid"] == "erin@globex.example"


# ====================================================================== one contact
def test_contact_information(client, openapi, alice_t) -> None:
    for base in (LEGACY, V1):
        bob = openapi.check(client.get(f"{base}/bob@acme.example", headers=alice_t)).json()
        assert bob["cid"] == "bob@acme.example" and bob["type"] == "DIRECTORY" and bob["email"] == "bob@acme.example"
        # a Contact Entry ID names the same contact
        same = openapi.check(client.get(f"{base}/{bob['contactEntryId']}", headers=alice_t)).json()
        assert same == bob
        refused(openapi.check(client.get(f"{base}/nobody@acme.example", headers=alice_t)), 404,
                "contact.does.not.exist")
    assert openapi.check(client.get(f"{LEGACY}/bob@acme.example/available", headers=alice_t)).json() is True
    assert openapi.check(client.get(f"{LEGACY}/bob@acme.example/incall", headers=alice_t)).json() is False
    assert openapi.check(client.get(f"{V1}/bob@acme.example/linestate", headers=alice_t)).json() is False
    # an outside system's line state (the Line State API) puts bob in a call for his colleagues
    until = _later(client, 3600)
    bob_calls = _t(client, "bob", ("CALLS",))
    assert client.put("/api/linestate/acme.example/bob/crm-1", json={"expiresOn": until},
                      headers=bob_calls).status_code in (200, 201)
    assert client.get(f"{V1}/bob@acme.example/linestate", headers=alice_t).json() is True
    assert client.get(f"{LEGACY}/bob@acme.example/incall", headers=alice_t).json() is True
    assert client.delete("/api/linestate/acme.example/bob/crm-1", headers=bob_calls).status_code == 204
    assert client.get(f"{V1}/bob@acme.example/linestate", headers=alice_t).json() is False
    # a mobile subscriber by number@domain: alice's mobile is alice
    assert client.get(f"{V1}/+16135550101@acme.example", headers=alice_t).json()["cid"] == "alice@acme.example"
    assert client.get(f"{V1}/+15550000000@acme.example/linestate", headers=alice_t).json() is False
    refused(client.get(f"{LEGACY}/+15550000000@acme.example/available", headers=alice_t), 404,
            "contact.not.directory.user")
    fnr = client.get(f"{V1}/5100@acme.example", headers=alice_t).json()
    assert fnr["type"] == "FUNCTION_NUMBER" and fnr["firstname"] == "Sales"


def test_presence_of_a_contact_and_access(client, openapi, alice_t, as_user) -> None:
    # a colleague has no WRITE access: every field is forbidden, the legacy update is silent
    seen = openapi.check(client.get(f"{LEGACY}/bob@acme.example/presence", headers=alice_t)).json()
    assert seen["forbidden"] == ["role", "activity", "note"] and seen["presence"]["noteAccess"] == "NONE"
    kept = openapi.check(client.put(f"{LEGACY}/bob@acme.example/presence", headers=alice_t,
                                    json={"note": "hacked", "activity": {"id": "lunch"}})).json()
    assert kept["note"] == "" and kept["activity"]["id"] == "available"
    result = openapi.check(client.post(f"{LEGACY}/bob@acme.example/presence/result", headers=alice_t,
                                       json={"presence": {"note": "hacked"}})).json()
    assert result["forbidden"] == ["note"] and result["presence"]["note"] == ""
    for path, params in (("note", {"note": "x"}), ("activity", {"activity": "lunch"}), ("role", {"role": "private"}),
                         ("activity/expires", {"expires": "never"})):
        refused(openapi.check(client.put(f"{V1}/bob@acme.example/{path}", params=params, headers=alice_t)), 403,
                "access.denied")
    # the user (and an administrator) has WRITE: the one presence changes, CloudLink shows it
    bob_t = _t(client, "bob")
    own = openapi.check(client.get(f"{LEGACY}/bob@acme.example/presence", headers=bob_t)).json()
    assert own["forbidden"] == [] and own["presence"]["activityAccess"] == "WRITE"
    assert openapi.check(client.put(f"{V1}/bob@acme.example/activity", params={"activity": "lunch"},
                                    headers=bob_t)).status_code == 204
    assert openapi.check(client.put(f"{V1}/bob@acme.example/note", params={"note": "soon"},
                                    headers=bob_t)).status_code == 204
    assert client.get(f"{V1}/bob@acme.example", headers=alice_t).json()["presence"]["note"] == "soon"
    assert openapi.check(client.put(f"{LEGACY}/bob@acme.example/note", json={"note": "back at 1"},
                                    headers=bob_t)).status_code == 204
    presentity = client.get(f"{B}/presentities/{BOB}", headers=as_user("alice@acme.example")).json()
    assert presentity["status"] == "away" and presentity["note"] == "back at 1"
    bob = client.get(f"{V1}/bob@acme.example", headers=alice_t).json()
    assert bob["presence"]["activity"]["id"] == "lunch" and bob["presence"]["note"] == "back at 1"
    assert client.get(f"{LEGACY}/bob@acme.example/available", headers=alice_t).json() is False
    result = openapi.check(client.put(f"{LEGACY}/bob@acme.example/presence/result", headers=bob_t,
                                      json={"activity": {"id": "meeting"}})).json()
    assert result["forbidden"] == [] and result["presence"]["activity"]["id"] == "meeting"
    refused(openapi.check(client.put(f"{V1}/bob@acme.example/activity", params={"activity": "surfing"},
                                     headers=bob_t)), 400, "activity.not.valid")
    refused(client.put(f"{V1}/bob@acme.example/activity", headers=bob_t), 400, "activity.required")
    refused(client.put(f"{LEGACY}/bob@acme.example/note", headers=bob_t), 400, "note.required")
    refused(client.put(f"{LEGACY}/bob@acme.example/presence", json={}, headers=bob_t), 400, "presence.empty")
    admin_t = _t(client, "admin")
    assert client.put(f"{V1}/bob@acme.example/activity", params={"activity": "available"},
                      headers=admin_t).status_code == 204
    assert client.get(f"{B}/presentities/{BOB}", headers=as_user("alice@acme.example")).json()["status"] == \
        "available"


def _pidf(activity: str | None = None, note: str | None = None, basic: str = "closed") -> bytes:
    person = ""
    if activity is not None:
        person += f"<rpid:activities><rpid:{activity}/></rpid:activities>"
    if note is not None:
        person += f"<dm:note>{note}</dm:note>"
    return (f'<?xml version="1.0" encoding="UTF-8"?><presence xmlns="urn:ietf:params:xml:ns:pidf" '
            f'xmlns:dm="urn:ietf:params:xml:ns:pidf:data-model" xmlns:rpid="urn:ietf:params:xml:ns:pidf:rpid" '
            f'entity="sip:bob@acme.example"><tuple id="t"><status><basic>{basic}</basic></status></tuple>'
            f'<dm:person id="p">{person}</dm:person></presence>').encode()


def test_pidf_presence_updates(client, openapi, as_user) -> None:
    bob_t = _t(client, "bob")
    pidf = {**bob_t, "Content-Type": "application/pidf+xml"}
    assert openapi.check(client.put(f"{V1}/bob@acme.example/presence", content=_pidf("meal", "lunch!"),
                                    headers=pidf)).status_code == 204
    presentity = client.get(f"{B}/presentities/{BOB}", headers=as_user("alice@acme.example")).json()
    assert presentity["status"] == "away" and presentity["note"] == "lunch!"
    assert client.put(f"{LEGACY}/bob@acme.example/presence", content=_pidf("meeting"), headers=pidf).status_code == 204
    assert client.get(f"{V1}/bob@acme.example", headers=bob_t).json()["presence"]["activity"]["id"] == "meeting"
    refused(openapi.check(client.put(f"{V1}/bob@acme.example/presence", content=b"<presence", headers=pidf)), 400,
            "pidf.not.valid")
    refused(client.put(f"{V1}/bob@acme.example/presence", content=b"<x/>", headers=pidf), 400, "pidf.not.valid")
    bomb = b'<?xml version="1.0"?><!DOCTYPE p [<!ENTITY a "aaaa">]><presence>&a;</presence>'
    refused(client.put(f"{V1}/bob@acme.example/presence", content=bomb, headers=pidf), 400, "pidf.not.valid")
    refused(client.put(f"{V1}/bob@acme.example/presence", content=_pidf("sleeping"), headers=pidf), 400,
            "activity.not.valid")
    refused(client.put(f"{V1}/bob@acme.example/presence", json={"note": "x"}, headers=bob_t), 400,
            "content.type.not.supported")
    # a colleague's PIDF update is refused (V1 is not silent)
    refused(client.put(f"{V1}/bob@acme.example/presence", content=_pidf("busy"),
                       headers={**_t(client, "alice"), "Content-Type": "application/pidf+xml"}), 403, "access.denied")


def test_fields(client, openapi, alice_t) -> None:
    bob_t, admin_t = _t(client, "bob"), _t(client, "admin")
    mine = openapi.check(client.get(f"{V1}/bob@acme.example/fields", headers=bob_t)).json()["fields"]
    assert [f["id"] for f in mine if f["editable"]] == ["field3", "field4", "field5", "field6", "field8"]
    assert openapi.check(client.put(f"{V1}/bob@acme.example/fields", headers=bob_t, json={"fields": [
        {"id": "field4", "requestedValue": "+4681234499"}, {"id": "field5", "requestedValue": "Sailing"}]})
                         ).status_code == 204
    assert client.put(f"{V1}/bob@acme.example/fields", headers=admin_t, json={"fields": [
        {"id": "field1", "requestedValue": "Ada"}, {"id": "field7", "requestedValue": "37"},
        {"id": "field5"}]}).status_code == 204   # an omitted value deletes it
    seen = openapi.check(client.get(f"{V1}/bob@acme.example/fields", headers=alice_t)).json()["fields"]
    # a colleague sees the public fields with a value (not the salary class), none editable
    assert {f["id"]: f.get("value") for f in seen} == {"field1": "Ada", "field4": "+4681234499"}
    assert not any(f["editable"] for f in seen)
    with_fields = client.get(f"{V1}/bob@acme.example", params={"includeFields": "true"}, headers=alice_t).json()
    assert with_fields["fields"]["fields"] == [{"id": "field1", "label": "Manager", "value": "Ada"},
                                               {"id": "field4", "label": "ICE contact", "value": "+4681234499"}]
    searched = client.get(CONTACTS, params={"query": "bob", "includeFields": "true"}, headers=alice_t).json()
    assert searched["contact"][0]["fields"] == with_fields["fields"]
    assert "fields" not in client.get(CONTACTS, params={"query": "bob"}, headers=alice_t).json()["contact"][0]
    refused(openapi.check(client.put(f"{V1}/bob@acme.example/fields", headers=bob_t, json={"fields": [
        {"id": "field1", "requestedValue": "Me"}]})), 403, "field.not.editable")
    refused(client.put(f"{V1}/bob@acme.example/fields", headers=alice_t, json={"fields": [
        {"id": "field4", "requestedValue": "x"}]}), 403, "access.denied")
    refused(client.put(f"{V1}/bob@acme.example/fields", headers=bob_t, json={"fields": [
        {"id": "field99", "requestedValue": "x"}]}), 400, "field.does.not.exist")
    # legacy: currentValue is the value last read; a value changed since is a conflict and changes nothing
    legacy = openapi.check(client.get(f"{LEGACY}/bob@acme.example/fields", headers=bob_t)).json()["field"]
    assert {"id": "field4", "label": "ICE contact", "currentValue": "+4681234499", "editable": True} in legacy
    updated = openapi.check(client.put(f"{LEGACY}/bob@acme.example/fields", headers=bob_t, json={"field": [
        {"id": "field4", "currentValue": "+4681234499", "requestedValue": "+4600"}]})).json()
    assert updated["field"] == [{"id": "field4", "label": "ICE contact", "currentValue": "+4600",
                                 "requestedValue": "+4600"}]
    refused(openapi.check(client.put(f"{LEGACY}/bob@acme.example/fields", headers=bob_t, json={"field": [
        {"id": "field4", "currentValue": "+4681234499", "requestedValue": "+4611"},
        {"id": "field3", "requestedValue": "A57"}]})), 409, "field.value.changed")
    assert "field3" not in {f["id"] for f in client.get(f"{LEGACY}/bob@acme.example/fields",
                                                        headers=alice_t).json()["field"]}


def test_vcard(client, openapi, alice_t, admin) -> None:
    card = openapi.check(client.get(f"{LEGACY}/alice@acme.example/vcard", headers=alice_t)).json()["Description"]
    assert card["FN"] == "Alice Anders" and card["N"] == {"parseType": "Resource", "Family": "Anders",
                                                          "Given": "Alice"}
    assert {"value": "+16135550128", "parseType": "Resource", "type": ["work"]} in card["TEL"]
    assert card["group"] == [{"value": "Support", "parseType": "Resource"}] and card["ORG"]["Orgname"] == "Acme"
    version = client.get(f"{V1}/alice@acme.example", headers=alice_t).json()["vcard"]
    assert openapi.check(client.put(f"{V1}/alice@acme.example/vcard", headers=alice_t, json={"Description": {
        "N": {"Family": "Smith", "Given": "Alicia"}, "ORG": {"Orgunit": "Support"},
        "ADR": {"Street": "Example Street 1", "Locality": "Stockholm", "Pcode": "111 11", "Country": "Sweden"}}})
                         ).status_code == 204
    # the directory changed: the CloudLink Admin API shows the new name
    user = client.get(f"{B}/accounts/{ACME}/users/{ALICE}", headers=admin).json()
    assert (user["firstName"], user["lastName"]) == ("Alicia", "Smith")
    again = openapi.check(client.get(f"{V1}/alice@acme.example/vcard", headers=alice_t)).json()["Description"]
    assert again["FN"] == "Alicia Smith" and again["ADR"]["Locality"] == "Stockholm"
    assert again["ORG"]["Orgunit"] == "Support"
    assert client.get(f"{V1}/alice@acme.example", headers=alice_t).json()["vcard"] != version
    assert openapi.check(client.put(f"{LEGACY}/alice@acme.example/vcard", headers=alice_t, json={"Description": {
        "N": {"Family": "Anders", "Given": "Alice"}}})).status_code == 204
    # by phone number; a number nobody has is not found; another user's vCard is theirs to change
    by_number = client.get(f"{V1}/2881@acme.example/vcard", headers=alice_t).json()["Description"]
    assert by_number["FN"] == "Bob Brown"
    refused(client.get(f"{V1}/+15550000000@acme.example/vcard", headers=alice_t), 404, "contact.does.not.exist")
    refused(openapi.check(client.put(f"{V1}/bob@acme.example/vcard", headers=alice_t,
                                     json={"Description": {"N": {"Given": "Robert"}}})), 403, "access.denied")
    refused(client.put(f"{V1}/alice@acme.example/vcard", headers=alice_t, json={}), 400, "Description.required")


def test_image(client, openapi, alice_t, admin) -> None:
    refused(openapi.check(client.get(f"{V1}/bob@acme.example/image", headers=alice_t)), 404, "image.does.not.exist")
    uploaded = client.put(f"{B}/accounts/{ACME}/users/{BOB}/photo", content=png_bytes((600, 400)),
                          headers={**admin, "content-type": "image/png"})
    assert uploaded.status_code == 200, uploaded.text
    bob = client.get(f"{V1}/bob@acme.example", headers=alice_t).json()
    assert isinstance(bob["image"], int)
    small = openapi.check(client.get(f"{V1}/bob@acme.example/image", params={"prefWidth": 40},
                                     headers={**alice_t, "Accept": "image/*"}))
    assert small.headers["content-type"] == "image/jpeg"
    from PIL import Image
    import io

    assert Image.open(io.BytesIO(small.content)).size == (50, 50)
    large = openapi.check(client.get(f"{LEGACY}/bob@acme.example/image/{bob['image']}", headers=alice_t))
    assert Image.open(io.BytesIO(large.content)).size == (600, 400)
    medium = client.get(f"{LEGACY}/bob@acme.example/image/1", params={"prefWidth": 100, "prefHeight": 140},
                        headers=alice_t)
    assert Image.open(io.BytesIO(medium.content)).size == (150, 150)
    refused(client.get(f"{V1}/bob@acme.example/image", params={"prefWidth": 0}, headers=alice_t), 400,
            "prefWidth.not.valid")


def test_time_zones(client, openapi, alice_t) -> None:
    every = openapi.check(client.get("/api/v1/timezones", headers=alice_t)).json()["timezone"]
    assert len(every) > 300 and {"region": "Etc", "city": "GMT", "offset": "0", "tzid": "Etc/GMT"} in every
    summer = client.get("/api/v1/timezones", params={"tzid": "Europe/Stockholm", "when": "2021-07-01T09:00:00Z"},
                        headers=alice_t).json()["timezone"]
    assert summer == [{"region": "Europe", "city": "Stockholm", "offset": "7200000", "tzid": "Europe/Stockholm"}]
    refused(openapi.check(client.get("/api/v1/timezones", params={"tzid": "Mars/Olympus"}, headers=alice_t)), 400,
            "tzid.not.valid")
    refused(client.get("/api/v1/timezones", params={"when": "soon"}, headers=alice_t), 400, "when.not.valid")
    refused(client.get("/api/v1/timezones"), 401, "ticket.required")


# ====================================================================== scheduled presence
STANDUP = {"activity": "meeting", "name": "Standup meeting", "note": "Daily standup", "dt-start":
           "2027-03-22T07:30:00Z", "dt-end": "2027-03-22T08:00:00Z", "tzid": "Europe/Stockholm",
           "recur": {"freq": "WEEKLY", "byday": "MO,TU,WE,TH", "until": "2027-04-09T00:00:00Z"}}


def test_scheduled_presence(client, openapi, alice_t) -> None:
    bob_t = _t(client, "bob")
    url = f"{V1}/bob@acme.example/futurepresence"
    made = openapi.check(client.post(url, json=STANDUP, headers=bob_t)).json()
    assert made["presenceId"] == "1" and made["futurePresenceAccess"] == "WRITE" and made["role"] == "business"
    window = {"startDate": "2027-03-20T00:00:00Z", "endDate": "2027-04-10T00:00:00Z", "expandRecurrence": "true"}
    listed = openapi.check(client.get(url, params=window, headers=alice_t)).json()
    assert listed["calendar-sync-status"] == "calendar-sync-not-enabled"
    standup = listed["presence"][0]
    assert standup["futurePresenceAccess"] == "NONE"
    starts = [i["dt-start"] for i in standup["instances"]]
    # 08:30 Stockholm: 07:30Z in winter time, 06:30Z after the clocks went forward on 28 March
    assert starts[:2] == ["2027-03-22T07:30:00Z", "2027-03-23T07:30:00Z"]
    assert "2027-03-29T06:30:00Z" in starts and len(starts) == 12
    assert "instances" not in client.get(url, params={"startDate": window["startDate"]},
                                         headers=alice_t).json()["presence"][0]
    one = openapi.check(client.get(f"{url}/1", headers=alice_t)).json()
    assert one["name"] == "Standup meeting" and one["recur"]["byday"] == "MO,TU,WE,TH"
    changed = openapi.check(client.put(f"{url}/1", json={"note": "Moved", "priority": 2}, headers=bob_t)).json()
    assert changed["note"] == "Moved" and changed["priority"] == 2 and changed["dt-start"] == STANDUP["dt-start"]
    # delete the second week's occurrences: they are exceptions now
    assert openapi.check(client.delete(f"{url}/1", params={"startDate": "2027-03-29T00:00:00Z",
                                                            "untilDate": "2027-04-02T00:00:00Z"},
                                       headers=bob_t)).status_code == 204
    left = client.get(url, params=window, headers=alice_t).json()["presence"][0]["instances"]
    assert [i["deleted"] for i in left].count(True) == 4
    # PIDF: a person per live occurrence with from/until
    doc = ET.fromstring(openapi_pidf(client, url, window, alice_t))
    persons = doc.findall(f"{DM}person")
    assert len(persons) == 8 and persons[0].find(f"{RPID}activities").get("from") == "2027-03-22T07:30:00Z"
    assert persons[0].find(f"{RPID}activities/{RPID}meeting") is not None
    # refusals
    refused(openapi.check(client.post(url, json=STANDUP, headers=alice_t)), 403, "access.denied")
    refused(client.post(url, json={**STANDUP, "dt-end": "2027-05-22T08:00:00Z"}, headers=bob_t), 400,
            "dt-end.too.far")
    refused(client.post(url, json={**STANDUP, "dt-end": "2027-03-22T07:00:00Z"}, headers=bob_t), 400,
            "dt-end.before.dt-start")
    refused(client.post(url, json={**STANDUP, "tzid": "Nowhere/City"}, headers=bob_t), 400, "tzid.not.valid")
    refused(client.post(url, json={**STANDUP, "recur": {"freq": "WEEKLY", "byday": "XX"}}, headers=bob_t), 400,
            "recur.byday.not.valid")
    refused(client.post(url, json={k: v for k, v in STANDUP.items() if k != "activity"}, headers=bob_t), 400,
            "activity.required")
    refused(client.post(url, json={**STANDUP, "dt-start": "monday"}, headers=bob_t), 400, "dt-start.not.valid")
    refused(openapi.check(client.get(f"{url}/9", headers=bob_t)), 404, "futurepresence.does.not.exist")
    refused(client.get(url, params={"eventType": "OTHER"}, headers=bob_t), 400, "eventType.not.valid")
    refused(client.get(url, params={"startDate": "2027-03-20T00:00:00Z", "endDate": "2027-03-01T00:00:00Z"},
                       headers=bob_t), 400, "endDate.before.startDate")
    assert client.get(url, params={**window, "eventType": "CALENDAR"}, headers=bob_t).json()["presence"] == []
    # a one-off presence; deleting all of it
    lunch = client.post(url, json={"activity": "lunch", "dt-start": "2027-03-23T11:00:00Z",
                                   "dt-end": "2027-03-23T12:00:00Z"}, headers=bob_t).json()
    assert lunch["presenceId"] == "2" and lunch["tzid"] == "UTC"
    assert client.delete(f"{url}/2", headers=bob_t).status_code == 204
    refused(openapi.check(client.delete(f"{url}/2", headers=bob_t)), 404, "futurepresence.does.not.exist")


def openapi_pidf(client: httpx.Client, url: str, params: dict[str, str], headers: dict[str, str]) -> str:
    response = client.get(url, params=params, headers={**headers, "Accept": "application/pidf+xml"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("application/pidf+xml")
    return response.text


# ====================================================================== streams and the PBX
def _events(response: httpx.Response) -> Iterator[dict[str, Any]]:
    current: dict[str, Any] = {"data": []}
    for line in response.iter_lines():
        if line == "":
            if current["data"] or current.get("event"):
                yield {**current, "data": "\n".join(current["data"])}
            current = {"data": []}
        elif not line.startswith(":"):
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            if field == "data":
                current["data"].append(value)
            else:
                current[field] = value


def _next(events: Iterator[dict[str, Any]], kind: str) -> ET.Element:
    for event in events:
        if event.get("event") == kind:
            return ET.fromstring(event["data"])
    raise AssertionError(f"the stream ended before a {kind} event")


def test_presence_stream_follows_cloudlink(base_url, client, alice_t, as_user, monkeypatch) -> None:
    monkeypatch.setattr(streams, "KEEP_ALIVE_SECONDS", 0.2)
    bob = as_user("bob@acme.example")
    url = f"{base_url}{V1}/bob@acme.example/presence/stream"
    with httpx.Client(timeout=10) as reader, reader.stream("GET", url, headers=alice_t) as response:
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/event-stream")
        events = _events(response)
        first = _next(events, "presence")
        assert first.tag == f"{PIDF}presence" and first.get("entity") == "sip:bob@acme.example"
        assert first.findtext(f"{PIDF}tuple/{PIDF}status/{PIDF}basic") == "open"
        # bob sets his presence through CloudLink: the stream shows it
        assert client.put(f"{B}/presentities/me", headers=bob, json={"status": "busy", "note": "deep work"}
                          ).status_code == 200
        busy = _next(events, "presence")
        assert busy.findtext(f"{PIDF}tuple/{PIDF}status/{PIDF}basic") == "closed"
        assert busy.find(f"{DM}person/{RPID}activities/{RPID}busy") is not None
        assert busy.findtext(f"{DM}person/{DM}note") == "deep work"
        seen = client.get(f"{V1}/bob@acme.example", headers=alice_t).json()["presence"]
        assert seen["activity"]["id"] == "busy" and seen["note"] == "deep work" and seen["available"] is False
    refused(client.get(f"{V1}/5100@acme.example/presence/stream", headers=alice_t), 404,
            "contact.not.directory.user")


def test_a_call_shows_in_call_in_search_and_dialog_stream(base_url, client, alice_t, as_user, monkeypatch) -> None:
    monkeypatch.setattr(streams, "KEEP_ALIVE_SECONDS", 0.2)
    url = f"{base_url}{V1}/bob@acme.example/linestate/stream"
    with httpx.Client(timeout=10) as reader, reader.stream("GET", url, headers=alice_t) as response:
        assert response.status_code == 200
        events = _events(response)
        empty = _next(events, "dialog-info")
        assert empty.tag == f"{DIALOG}dialog-info" and empty.findall(f"{DIALOG}dialog") == []
        # carol calls bob through the CloudLink Media API
        placed = client.post(f"{B}/endpoints/2882/calls", json={"to": "2881"}, headers=as_user("carol@acme.example"))
        assert placed.status_code == 200, placed.text
        ringing = _next(events, "dialog-info")
        dialog = ringing.find(f"{DIALOG}dialog")
        assert dialog is not None and dialog.findtext(f"{DIALOG}state") == "early"
        assert client.get(f"{V1}/bob@acme.example/linestate", headers=alice_t).json() is True
        control(client).phone("2881", "answer")
        confirmed = _next(events, "dialog-info")
        assert confirmed.find(f"{DIALOG}dialog").findtext(f"{DIALOG}state") == "confirmed"
        found = client.get(CONTACTS, params={"query": "bob"}, headers=alice_t).json()["contact"][0]
        assert found["incall"] is True and found["presence"]["available"] is False
        assert client.get(f"{LEGACY}/bob@acme.example/incall", headers=alice_t).json() is True
    assert client.get(f"{LEGACY}/nobody/incall", headers=alice_t).status_code == 404


def test_activity_role_and_expiration(client, openapi) -> None:
    bob_t = _t(client, "bob")
    assert openapi.check(client.put(f"{V1}/bob@acme.example/role", params={"role": "private"},
                                    headers=bob_t)).status_code == 204
    assert openapi.check(client.put(f"{LEGACY}/bob@acme.example/role", json={"role": "business"},
                                    headers=bob_t)).status_code == 204
    assert client.put(f"{LEGACY}/bob@acme.example/activity", params={"activity": "lunch"},
                      headers=bob_t).status_code == 204
    until = _later(client, 7200)
    assert openapi.check(client.put(f"{V1}/bob@acme.example/activity/expires", params={"expires": until},
                                    headers=bob_t)).status_code == 204
    assert openapi.check(client.get(f"{LEGACY}/bob@acme.example/activity/expires", headers=bob_t)).json() == until
    assert client.put(f"{LEGACY}/bob@acme.example/activity/expires", json={"expires": "never"},
                      headers=bob_t).status_code == 204
    assert client.get(f"{LEGACY}/bob@acme.example/activity/expires", headers=bob_t).json() == "never"
    refused(client.put(f"{V1}/bob@acme.example/activity/expires", headers=bob_t), 400, "expires.required")
    refused(client.put(f"{V1}/bob@acme.example/role", params={"role": "pirate"}, headers=bob_t), 400,
            "role.not.valid")


def test_scheduled_presence_happens_on_the_clock(client, alice_t, as_user) -> None:
    from datetime import datetime, timedelta

    bob_t, clock = _t(client, "bob"), control(client)
    now = datetime.fromisoformat(client.get("/_callyard/clock").json()["now"].replace("Z", "+00:00"))

    def at(seconds: int) -> str:
        return (now + timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%SZ")

    url = f"{V1}/bob@acme.example/futurepresence"
    assert client.post(url, headers=bob_t, json={"activity": "lunch", "note": "Lunch", "dt-start": at(60),
                                                 "dt-end": at(1860)}).status_code == 200
    # a higher-priority meeting inside the lunch wins while it lasts
    assert client.post(url, headers=bob_t, json={"activity": "meeting", "priority": 5, "dt-start": at(600),
                                                 "dt-end": at(900)}).status_code == 200
    refused(client.post(url, headers=bob_t, json={"activity": "surfing", "dt-start": at(60), "dt-end": at(90)}),
            400, "activity.not.valid")
    alice = as_user("alice@acme.example")
    assert client.get(f"{B}/presentities/{BOB}", headers=alice).json()["status"] == "available"
    clock.advance(61)
    presence = client.get(f"{V1}/bob@acme.example", headers=alice_t).json()["presence"]
    assert presence["activity"] == {"id": "lunch", "expiration": at(1860), "available": False}
    assert presence["note"] == "Lunch"
    assert client.get(f"{B}/presentities/{BOB}", headers=alice).json()["status"] == "away"
    clock.advance(540)
    assert client.get(f"{V1}/bob@acme.example", headers=alice_t).json()["presence"]["activity"]["id"] == "meeting"
    clock.advance(300)   # the meeting ended: the lunch it overrode is still on, and takes over again
    resumed = client.get(f"{V1}/bob@acme.example", headers=alice_t).json()["presence"]["activity"]
    assert resumed == {"id": "lunch", "expiration": at(1860), "available": False}
    clock.advance(1000)   # the lunch ended: the default activity
    assert client.get(f"{V1}/bob@acme.example", headers=alice_t).json()["presence"]["activity"]["id"] == "available"
    assert client.get(f"{B}/presentities/{BOB}", headers=alice).json()["status"] == "available"


def test_personal_contacts_in_the_default_list_search_and_vcard(client, openapi, alice_t) -> None:
    made = client.post("/api/personalcontacts/acme.example/user/alice", headers=alice_t, json={
        "firstname": "Ivy", "lastname": "Initrode", "company": "Initrode", "showInDefaultContactList": True,
        "phoneNumbers": [{"type": "MOBILE", "phoneNumber": "+46701234567", "preferredNumber": True}]})
    assert made.status_code == 200, made.text
    cid = made.json()["cid"]
    hidden = client.post("/api/personalcontacts/acme.example/user/alice", headers=alice_t, json={
        "firstname": "Hal", "lastname": "Hidden", "contactStatus": "BLOCKED"}).json()["cid"]
    default = openapi.check(client.get(CONTACTS, headers=alice_t)).json()["contact"]
    assert [(c["cid"], c["type"], c["inlist"]) for c in default] == [(cid, "SHORTCUT", True)]
    assert default[0]["preferredNumber"] == "+46701234567" and default[0]["company"] == "Initrode"
    assert cids(client.get(CONTACTS, params={"query": "initrode"}, headers=alice_t).json()) == [cid]
    # a BLOCKED personal contact only with includeBlocked; another user does not see alice's own
    assert cids(client.get(CONTACTS, params={"query": "hal"}, headers=alice_t).json()) == []
    assert cids(client.get(CONTACTS, params={"query": "hal", "includeBlocked": "true"}, headers=alice_t).json()) \
        == [hidden]
    bob_t = _t(client, "bob")
    assert cids(client.get("/api/contacts/acme.example/bob", params={"query": "initrode"}, headers=bob_t)
                .json()) == []
    refused(client.get(f"{V1}/{cid}", headers=bob_t), 404, "contact.does.not.exist")
    # the contact information of a personal contact, its vCard, and a new vCard written back to it
    one = openapi.check(client.get(f"{V1}/{cid}", headers=alice_t)).json()
    assert one["type"] == "SHORTCUT" and one["firstname"] == "Ivy"
    card = openapi.check(client.get(f"{V1}/{cid}/vcard", headers=alice_t)).json()["Description"]
    assert card["FN"] == "Ivy Initrode" and card["TEL"][0]["value"] == "+46701234567"
    assert openapi.check(client.put(f"{V1}/{cid}/vcard", headers=alice_t, json={"Description": {
        "N": {"Family": "Ingram", "Given": "Ivy"}, "ORG": {"Orgname": "Initech"},
        "TEL": [{"value": "+46709999999", "type": ["cell"]}]}})).status_code == 204
    stored = client.get(f"/api/personalcontacts/acme.example/user/alice/{cid}", headers=alice_t).json()
    assert (stored["lastname"], stored["company"]) == ("Ingram", "Initech")
    assert stored["phoneNumbers"][0]["phoneNumber"] == "+46709999999" and stored["phoneNumbers"][0]["type"] == \
        "MOBILE"
    assert stored["showInDefaultContactList"] is True
    # a favourite of the list
    assert client.put(f"{BUDDY}/{cid}", headers=alice_t).status_code == 204
    assert client.get(CONTACTS, headers=alice_t).json()["contact"][0]["contactStatus"] == "FAVORITE"


def test_contact_state_survives_a_restart(tmp_path) -> None:
    """The list, the fields and a scheduled presence are durable; the presence's timer is armed again."""
    from datetime import datetime, timedelta

    from tests.api.uc.conftest import bearer, create_ticket
    from tests.conftest import OPERATOR_HEADERS, start_server

    settings = {"ephemeral": False, "data_dir": tmp_path / "data", "clock": "manual"}
    with start_server(**settings) as live, httpx.Client(base_url=live.url, timeout=10) as client:
        bob = bearer(create_ticket(client, "bob@acme.example", ("CONTACT_SEARCH",)))
        now = datetime.fromisoformat(client.get("/_callyard/clock").json()["now"].replace("Z", "+00:00"))
        start, end = (now + timedelta(seconds=s) for s in (120, 1800))
        assert client.post(f"{V1}/bob@acme.example/futurepresence", headers=bob, json={
            "activity": "meeting", "dt-start": start.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "dt-end": end.strftime("%Y-%m-%dT%H:%M:%SZ")}).status_code == 200
        assert client.put("/api/buddylist/acme.example/bob/alice", headers=bob).status_code == 204
        assert client.put(f"{V1}/bob@acme.example/fields", headers=bob,
                          json={"fields": [{"id": "field3", "requestedValue": "A57"}]}).status_code == 204
    with start_server(**settings) as live, httpx.Client(base_url=live.url, timeout=10) as client:
        bob = bearer(create_ticket(client, "bob@acme.example", ("CONTACT_SEARCH",)))
        assert cids(client.get("/api/contacts/acme.example/bob", headers=bob).json()) == ["alice@acme.example"]
        assert {"id": "field3", "label": "Work office", "value": "A57", "editable": True} in \
            client.get(f"{V1}/bob@acme.example/fields", headers=bob).json()["fields"]
        now = datetime.fromisoformat(client.get("/_callyard/clock").json()["now"].replace("Z", "+00:00"))
        wait = max(1.0, (start - now).total_seconds() + 1)
        assert client.post("/_callyard/clock/advance", json={"seconds": wait},
                           headers=OPERATOR_HEADERS).status_code == 200
        assert client.get(f"{V1}/bob@acme.example", headers=bob).json()["presence"]["activity"]["id"] == "meeting"


def test_an_account_reset_takes_the_contact_state_back(client, alice_t, as_user, ticket) -> None:
    """Acme's administrator resets Acme: alice's list, fields and scheduled presence are gone; Globex's stay."""
    erin = ticket("erin@globex.example", ("CONTACT_SEARCH",))
    assert client.put("/api/buddylist/globex.example/erin/admin", headers=erin).status_code == 204
    assert client.put(f"{BUDDY}/bob@acme.example", headers=alice_t).status_code == 204
    assert client.put(f"{V1}/alice@acme.example/fields", headers=alice_t,
                      json={"fields": [{"id": "field3", "requestedValue": "A57"}]}).status_code == 204
    assert client.post(f"{V1}/alice@acme.example/futurepresence", headers=alice_t, json={
        "activity": "lunch", "dt-start": _later(client, 3600), "dt-end": _later(client, 7200)}).status_code == 200
    reset = client.post("/_callyard/reset", headers=as_user("admin@acme.example"))
    assert reset.status_code == 200 and reset.json()["accounts"] == [ACME], reset.text
    alice = _t(client, "alice")
    assert client.get(CONTACTS, headers=alice).json()["contact"] == []
    assert all("value" not in f or f["value"] is None
               for f in client.get(f"{V1}/alice@acme.example/fields", headers=alice).json()["fields"])
    assert client.get(f"{V1}/alice@acme.example/futurepresence", headers=alice).json()["presence"] == []
    assert cids(client.get("/api/contacts/globex.example/erin", headers=erin).json()) == ["admin@globex.example"]
