"""Personal Contacts through a live server: the user's, a user group's and the organisation's lists (16
operations), unique speed dials and abbreviated numbers per owner, the refusals, cross-tenant isolation, and
the cross-family rule: a speed dial or abbreviated number dialled through CTI rings the number it stands for
(the Media API shows the call at that extension)."""
from __future__ import annotations

from tests.api.uc.helpers import refused

USER = "/api/personalcontacts/acme.example/user/alice"
GROUP = "/api/personalcontacts/acme.example/group/Sales"
ORG = "/api/personalcontacts/acme.example"
JOHN = {"company": "MinFirma AB", "department": "Rnd", "firstname": "John", "lastname": "Doe", "shortname": "jodo",
        "street": "Firmagatan 1", "city": "Stockholm", "postalcode": "12177", "country": "Sweden", "speeddial": 5,
        "showInDefaultContactList": True, "contactStatus": "VIP",
        "phoneNumbers": [{"type": "WORK", "phoneNumber": "+46850654760", "preferredNumber": True}]}


def test_user_contacts_crud(client, ticket, openapi) -> None:
    alice = ticket("alice@acme.example", ("USER",))
    assert openapi.check(client.get(USER, headers=alice)).json() == {"personal_contact": []}
    created = openapi.check(client.post(USER, json=JOHN, headers=alice))
    assert created.status_code == 200
    john = created.json()
    assert john["cid"].endswith("@internal") and john["ownerType"] == "USER" and john["speeddial"] == 5
    assert {k: john[k] for k in JOHN} == JOHN
    cid = john["cid"]
    assert openapi.check(client.get(f"{USER}/{cid}", headers=alice)).json() == john
    listed = openapi.check(client.get(USER, headers=alice)).json()["personal_contact"]
    assert [c["cid"] for c in listed] == [cid]
    # A PUT replaces the fields: what is left out is cleared.
    changed = openapi.check(client.put(f"{USER}/{cid}", json={
        "cid": cid, "firstname": "Bob", "lastname": "Dilen", "speeddial": 7, "contactStatus": "FAVORITE",
        "phoneNumbers": [{"type": "MAIN", "phoneNumber": "+46890657890", "preferredNumber": True}]},
        headers=alice)).json()
    assert changed["firstname"] == "Bob" and changed["speeddial"] == 7 and "company" not in changed
    assert changed["showInDefaultContactList"] is False and changed["contactStatus"] == "FAVORITE"
    # The contact is alice's only: bob does not see it, an administrator of the organisation does.
    bob = ticket("bob@acme.example", ("USER",))
    refused(openapi.check(client.get(f"{USER}/{cid}", headers=bob)), 403, "access.denied")
    admin = ticket("admin@acme.example", ("USER",))
    assert client.get(f"{USER}/{cid}", headers=admin).json()["firstname"] == "Bob"
    assert openapi.check(client.get("/api/personalcontacts/acme.example/user/bob", headers=bob)).json() == {
        "personal_contact": []}
    deleted = openapi.check(client.delete(f"{USER}/{cid}", headers=alice))
    assert deleted.status_code == 200 and deleted.json() == cid
    refused(openapi.check(client.get(f"{USER}/{cid}", headers=alice)), 404, "contact.does.not.exist")
    refused(openapi.check(client.delete(f"{USER}/{cid}", headers=alice)), 404, "contact.does.not.exist")
    refused(openapi.check(client.put(f"{USER}/{cid}", json={"firstname": "X"}, headers=alice)), 404,
            "contact.does.not.exist")


def test_refusals_change_nothing(client, ticket, openapi) -> None:
    alice = ticket("alice@acme.example", ("USER",))
    cid = client.post(USER, json=JOHN, headers=alice).json()["cid"]
    second = {"firstname": "Eve", "speeddial": 5, "phoneNumbers": [{"type": "WORK", "phoneNumber": "2881"}]}
    refused(openapi.check(client.post(USER, json=second, headers=alice)), 409, "speeddial.already.used")
    abbreviated = {"firstname": "Eve", "phoneNumbers": [{"phoneNumber": "2881", "abbreviatednumber": "81"},
                                                        {"phoneNumber": "2882", "abbreviatednumber": "81"}]}
    refused(client.post(USER, json=abbreviated, headers=alice), 409, "abbreviatednumber.already.used")
    refused(openapi.check(client.post(USER, json={**second, "speeddial": 11}, headers=alice)), 400,
            "speeddial.not.valid")
    refused(client.post(USER, json={**second, "speeddial": 0}, headers=alice), 400, "speeddial.not.valid")
    refused(client.post(USER, json={**second, "speeddial": None, "contactStatus": "FRIEND"}, headers=alice), 400,
            "contactStatus.not.valid")
    refused(client.post(USER, json={"firstname": "x" * 65}, headers=alice), 400, "firstname.too.long")
    refused(client.post(USER, json={"firstname": "Eve", "phoneNumbers": [{"type": "CAR", "phoneNumber": "1"}]},
                        headers=alice), 400, "phoneNumbers.0.type.not.valid")
    refused(client.post(USER, json={"firstname": "Eve", "phoneNumbers": [{"phoneNumber": "call me"}]},
                        headers=alice), 400, "phoneNumbers.phoneNumber.not.valid")
    refused(client.post(USER, json={"firstname": "Eve", "phoneNumbers": [
        {"phoneNumber": "1", "preferredNumber": True}, {"phoneNumber": "2", "preferredNumber": True}]},
        headers=alice), 400, "phoneNumbers.preferredNumber.not.valid")
    refused(client.post(USER, json={"department": "Rnd"}, headers=alice), 400, "contact.name.required")
    refused(client.post(USER, json={"firstname": "Eve", "speeddial": 3}, headers=alice), 400,
            "speeddial.needs.number")
    refused(client.post(USER, json={"firstname": "Eve", "nickname": "e"}, headers=alice), 400,
            "nickname.not.allowed")
    refused(openapi.check(client.put(f"{USER}/{cid}", json={"cid": "1@internal", "firstname": "X"}, headers=alice)),
            400, "cid.not.valid")
    refused(openapi.check(client.get(USER, headers=ticket("alice@acme.example", ("CALL_CONTROL",)))), 403,
            "api.not.allowed")
    assert [c["firstname"] for c in client.get(USER, headers=alice).json()["personal_contact"]] == ["John"]
    # Speed dials are unique per owner: the same 5 in bob's own list is fine.
    bob = ticket("bob@acme.example", ("CONTACT_SEARCH",))
    assert client.post("/api/personalcontacts/acme.example/user/bob", json=second, headers=bob).status_code == 200


def test_group_and_organisation_contacts(client, ticket, openapi) -> None:
    bob = ticket("bob@acme.example", ("USER",))       # a member of Sales
    alice = ticket("alice@acme.example", ("USER",))   # not a member of Sales
    admin = ticket("admin@acme.example", ("USER",))
    entry = {**JOHN, "phoneNumbers": [{"type": "WORK", "phoneNumber": "+46850654760", "preferredNumber": True,
                                       "abbreviatednumber": "4760"}]}
    made = openapi.check(client.post(GROUP, json=entry, headers=bob)).json()
    assert made["ownerType"] == "GROUP" and made["phoneNumbers"][0]["abbreviatednumber"] == "4760"
    cid = made["cid"]
    assert openapi.check(client.get(GROUP, headers=bob)).json()["personal_contact"][0]["cid"] == cid
    assert openapi.check(client.get(f"{GROUP}/{cid}", headers=admin)).json()["cid"] == cid
    refused(openapi.check(client.get(GROUP, headers=alice)), 403, "access.denied")
    refused(openapi.check(client.get("/api/personalcontacts/acme.example/group/Nobody", headers=admin)), 404,
            "group.does.not.exist")
    assert openapi.check(client.put(f"{GROUP}/{cid}", json={"firstname": "Jon", "phoneNumbers": []},
                                    headers=bob)).json()["firstname"] == "Jon"
    assert openapi.check(client.delete(f"{GROUP}/{cid}", headers=bob)).json() == cid
    refused(openapi.check(client.get(f"{GROUP}/{cid}", headers=bob)), 404, "contact.does.not.exist")
    # The organisation's list is the administrator's.
    refused(openapi.check(client.get(ORG, headers=alice)), 403, "access.denied")
    refused(openapi.check(client.post(ORG, json=JOHN, headers=alice)), 403, "access.denied")
    org = openapi.check(client.post(ORG, json=JOHN, headers=admin)).json()
    assert org["ownerType"] == "ORG"
    assert openapi.check(client.get(ORG, headers=admin)).json()["personal_contact"][0]["cid"] == org["cid"]
    assert openapi.check(client.get(f"{ORG}/{org['cid']}", headers=admin)).json() == org
    assert openapi.check(client.put(f"{ORG}/{org['cid']}", json={"company": "Other AB"},
                                    headers=admin)).json()["company"] == "Other AB"
    refused(openapi.check(client.get(f"{USER}/{org['cid']}", headers=alice)), 404, "contact.does.not.exist")
    assert openapi.check(client.delete(f"{ORG}/{org['cid']}", headers=admin)).json() == org["cid"]
    refused(openapi.check(client.get(f"{ORG}/{org['cid']}", headers=admin)), 404, "contact.does.not.exist")


def test_phone_labels(client, ticket, openapi) -> None:
    alice = ticket("alice@acme.example", ("USER",))
    english = openapi.check(client.get(f"{ORG}/phonelabels/en", headers=alice)).json()["phoneLabels"]
    assert [label["labelValue"] for label in english] == ["HOME", "WORK", "MOBILE", "MAIN", "WORK_FAX", "HOME_FAX",
                                                          "PAGER", "OTHER"]
    assert english[0] == {"labelValue": "HOME", "labelName": "Home"}
    swedish = client.get(f"{ORG}/phonelabels/sv-SE", headers=alice).json()["phoneLabels"]
    assert swedish[2] == {"labelValue": "MOBILE", "labelName": "Mobil"}


def test_another_organisation_is_never_reached(client, ticket, openapi) -> None:
    alice = ticket("alice@acme.example", ("USER",))
    cid = client.post(USER, json=JOHN, headers=alice).json()["cid"]
    erin = ticket("erin@globex.example", ("USER",))
    globex_admin = ticket("admin@globex.example", ("USER",))
    for headers in (erin, globex_admin):
        refused(openapi.check(client.get(USER, headers=headers)), 403, "access.denied")
        refused(openapi.check(client.get(f"{USER}/{cid}", headers=headers)), 403, "access.denied")
        refused(openapi.check(client.get(ORG, headers=headers)), 403, "access.denied")
        refused(openapi.check(client.get(GROUP, headers=headers)), 403, "access.denied")
    # Globex's own lists do not show Acme's contact, even under the same owner kind.
    mine = client.get("/api/personalcontacts/globex.example", headers=globex_admin).json()
    assert mine == {"personal_contact": []}
    refused(client.get(f"/api/personalcontacts/globex.example/{cid}", headers=globex_admin), 404,
            "contact.does.not.exist")


def test_speed_dial_through_cti_rings_the_right_extension(client, ticket, cti, devices, carol, bob, admin) -> None:
    """alice's speed dial 3 is carol (2882); the Sales group's abbreviated number 81 is bob (2881), and the
    organisation's speed dial 3 (shadowed by alice's own) would be bob."""
    alice_user = ticket("alice@acme.example", ("USER",))
    client.post(USER, json={"firstname": "Carol", "speeddial": 3, "phoneNumbers": [
        {"type": "MOBILE", "phoneNumber": "+15550001111"},
        {"type": "WORK", "phoneNumber": "2882", "preferredNumber": True}]}, headers=alice_user).raise_for_status()
    admin_ticket = ticket("admin@acme.example", ("USER",))
    client.post(ORG, json={"firstname": "Bob", "speeddial": 3, "phoneNumbers": [
        {"type": "WORK", "phoneNumber": "2881", "abbreviatednumber": "81"}]}, headers=admin_ticket).raise_for_status()
    driver = cti("alice")
    soft = devices("2880")
    driver.make(soft, "3")
    ringing = client.get("/2017-09-01/endpoints/2882/calls", headers=carol).json()["_embedded"]["items"]
    assert len(ringing) == 1 and ringing[0]["from"] == "2880"
    assert client.get("/2017-09-01/endpoints/2881/calls", headers=bob).json()["count"] == 0
    driver.request("DELETE", f"/calls/{driver.only_call()['callId']}", 204)
    # An abbreviated number of the organisation's list, and "*3" for the speed dial.
    driver.make(soft, "81")
    assert client.get("/2017-09-01/endpoints/2881/calls", headers=bob).json()["count"] == 1
    driver.request("DELETE", f"/calls/{driver.only_call()['callId']}", 204)
    driver.make(soft, "*3")
    assert client.get("/2017-09-01/endpoints/2882/calls", headers=carol).json()["count"] == 1
    driver.request("DELETE", f"/calls/{driver.only_call()['callId']}", 204)
    # A number of the PBX is never shadowed, and a code nobody has is not obtainable.
    driver.make(soft, "2881")
    assert client.get("/2017-09-01/endpoints/2881/calls", headers=bob).json()["count"] == 1
    driver.request("DELETE", f"/calls/{driver.only_call()['callId']}", 204)
    refused(client.post(f"/api/cti/acme.example/alice/devices/{soft}/calls", json={"destination": "9"},
                        headers=ticket("alice@acme.example", ("CALL_CONTROL",))), 400, "destination.not.obtainable")


def test_contacts_go_with_their_user_and_are_in_the_account_export(client, ticket, admin) -> None:
    bob = ticket("bob@acme.example", ("USER",))
    own = client.post("/api/personalcontacts/acme.example/user/bob", json=JOHN, headers=bob).json()["cid"]
    shared = client.post(GROUP, json=JOHN, headers=bob).json()["cid"]
    exported = client.get("/_callyard/state", headers=admin).json()["documents"]["personal_contact"]
    assert sorted(c["cid"] for c in exported) == sorted([own, shared])
    assert client.delete("/2017-09-01/users/ac3e0000-0000-4000-8000-000000002881", headers=admin).status_code in (
        200, 204)
    left = client.get("/_callyard/state", headers=admin).json()["documents"]["personal_contact"]
    assert [c["cid"] for c in left] == [shared]   # the Sales group's contact stays
