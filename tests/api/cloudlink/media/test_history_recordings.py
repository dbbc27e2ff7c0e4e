"""Media call history and recordings over HTTP: call records with OData paging and filters, hiding records,
recording metadata, the signed media URL (a real WAV of the recorded length) and who may change what."""
from __future__ import annotations

import io
import json
import wave
from urllib.parse import parse_qs, urlsplit

import httpx

from tests.support.pbx import ACME_USERS, B, Pbx, expect_error, ok

X = "+16135550123"
RECORDS = "/calls/records"
RECORD = "/calls/{callId}/records"
RECORDINGS = "/recordings"
RECORDING = "/recordings/{recordingId}"


def tracking(call: dict) -> str:
    return json.loads(call["extraPbxData"])["callTrackingID"]


def history(pbx: Pbx, as_user) -> dict[str, dict]:
    """Three finished calls: an outside caller talks to Bob for 10 s; Alice calls Bob, who rejects it (Alice
    reaches his voicemail); Alice talks to Carol for 5 s. Returns the callers' and answerers' legs by name."""
    alice = as_user("alice@acme.example")
    pbx.dial_in(X, "2881")
    bob_in = pbx.only_call("2881")
    pbx.phone("2881", "answer")
    pbx.advance(10)
    pbx.phone(X, "hangup")
    pbx.advance(60)
    to_bob = pbx.make_call("2880", "2881", alice)
    bob_rejected = pbx.only_call("2881")
    pbx.phone("2881", "busy")
    pbx.advance(4)
    pbx.act("2880", to_bob["callId"], "end", alice)
    pbx.advance(60)
    to_carol = pbx.make_call("2880", "2882", alice)
    carol_in = pbx.only_call("2882")
    pbx.phone("2882", "answer")
    pbx.advance(5)
    pbx.phone("2882", "hangup")
    return {"bob_in": bob_in, "to_bob": to_bob, "bob_rejected": bob_rejected, "to_carol": to_carol,
            "carol_in": carol_in}


# ---------------------------------------------------------------------------- call records
def test_call_records_paging_and_filters(pbx: Pbx, as_user) -> None:
    legs = history(pbx, as_user)
    everything = pbx.records()
    ids = [r["callId"] for r in everything]
    # Newest first (the two legs of one call start at the same instant, in either order).
    assert [set(ids[:2]), set(ids[2:4]), ids[4]] == [{legs["carol_in"]["callId"], legs["to_carol"]["callId"]},
                                                     {legs["bob_rejected"]["callId"], legs["to_bob"]["callId"]},
                                                     legs["bob_in"]["callId"]]
    by_id = {r["callId"]: r for r in everything}
    assert by_id[legs["bob_in"]["callId"]]["billingTime"] == 10.0
    assert by_id[legs["bob_in"]["callId"]]["completed"] is True
    assert by_id[legs["bob_rejected"]["callId"]]["cause"] == "busy"
    assert by_id[legs["bob_rejected"]["callId"]]["completed"] is False
    assert by_id[legs["to_bob"]["callId"]]["completed"] is True  # the voicemail answered Alice
    assert by_id[legs["to_carol"]["callId"]]["billingTime"] == 5.0
    assert all(r["_links"]["self"] == f"{B}/calls/{r['callId']}/records" for r in everything)

    page = ok(pbx.c.get(f"{B}/calls/records", params={"$top": "2"}, headers=pbx.admin), "GET", RECORDS)
    assert page["count"] == 2 and [r["callId"] for r in page["_embedded"]["items"]] == ids[:2]
    next_query = parse_qs(urlsplit(page["_links"]["next"]).query)
    assert (next_query["$skip"], next_query["$top"]) == (["2"], ["2"])
    following = ok(pbx.c.get(page["_links"]["next"], headers=pbx.admin), "GET", RECORDS)
    assert [r["callId"] for r in following["_embedded"]["items"]] == ids[2:4]
    rest = ok(pbx.c.get(f"{B}/calls/records", params={"$top": "2", "$skip": "4"}, headers=pbx.admin), "GET", RECORDS)
    assert [r["callId"] for r in rest["_embedded"]["items"]] == ids[4:] and "next" not in rest["_links"]

    inbound = pbx.records(**{"$filter": "direction eq 'inbound'"})
    assert {r["callId"] for r in inbound} == {legs[k]["callId"] for k in ("carol_in", "bob_rejected", "bob_in")}
    bobs = pbx.records(**{"$filter": f"contains(principal, '{ACME_USERS['2881']}')"})
    assert {r["callId"] for r in bobs} == {legs["bob_in"]["callId"], legs["bob_rejected"]["callId"]}
    talked = pbx.records(**{"$filter": "completed eq true and billingTime gt 6"})
    assert [r["callId"] for r in talked] == [legs["bob_in"]["callId"]]
    for bad in ("direction eq", "nosuchfunc(from) eq 1"):
        expect_error(pbx.c.get(f"{B}/calls/records", params={"$filter": bad}, headers=pbx.admin), 400, "GET",
                     RECORDS)
    expect_error(pbx.c.get(f"{B}/calls/records", params={"$top": "-1"}, headers=pbx.admin), 400, "GET", RECORDS)

    # A user sees the records of their own legs only.
    bob = as_user("bob@acme.example")
    assert {r["callId"] for r in pbx.records(bob)} == {legs["bob_in"]["callId"], legs["bob_rejected"]["callId"]}
    assert ok(pbx.c.get(f"{B}/calls/records", headers=as_user("dave@acme.example")), "GET", RECORDS)["count"] == 0


def test_records_of_one_call(pbx: Pbx, as_user) -> None:
    legs = history(pbx, as_user)
    one = ok(pbx.c.get(f"{B}/calls/{legs['to_carol']['callId']}/records", headers=pbx.admin), "GET", RECORD)
    assert [r["callId"] for r in one["_embedded"]["items"]] == [legs["to_carol"]["callId"]]
    both = ok(pbx.c.get(f"{B}/calls/{tracking(legs['to_carol'])}/records", headers=pbx.admin), "GET", RECORD)
    assert {r["callId"] for r in both["_embedded"]["items"]} == {legs["to_carol"]["callId"],
                                                                 legs["carol_in"]["callId"]}
    expect_error(pbx.c.get(f"{B}/calls/00000000/records", headers=pbx.admin), 404, "GET", RECORD)
    # Carol may not read Alice's leg.
    carol = as_user("carol@acme.example")
    expect_error(pbx.c.get(f"{B}/calls/{legs['to_carol']['callId']}/records", headers=carol), 404, "GET", RECORD)
    mine = ok(pbx.c.get(f"{B}/calls/{tracking(legs['to_carol'])}/records", headers=carol), "GET", RECORD)
    assert [r["callId"] for r in mine["_embedded"]["items"]] == [legs["carol_in"]["callId"]]


def test_hide_records(pbx: Pbx, as_user) -> None:
    legs = history(pbx, as_user)
    alice = as_user("alice@acme.example")
    assert len(pbx.records(alice)) == 2
    hidden = ok(pbx.c.put(f"{B}/calls/records", params={"$filter": "to eq '2882'"}, json={"hide": True},
                          headers=alice), "PUT", RECORDS)
    assert hidden["updated"] == 1
    assert [r["callId"] for r in pbx.records(alice)] == [legs["to_bob"]["callId"]]
    # Carol's leg of that call (to 2882 too) is not Alice's to hide.
    assert legs["carol_in"]["callId"] in {r["callId"] for r in pbx.records()}
    again = ok(pbx.c.put(f"{B}/calls/records", params={"$filter": "to eq '2882'"}, json={"hide": True},
                         headers=alice), "PUT", RECORDS)
    assert again["updated"] == 0

    one = ok(pbx.c.put(f"{B}/calls/{legs['to_bob']['callId']}/records", json={"hide": True}, headers=alice), "PUT",
             RECORD)
    assert one["updated"] == 1 and pbx.records(alice) == []
    shown = ok(pbx.c.put(f"{B}/calls/{legs['to_carol']['callId']}/records", json={"hide": False}, headers=alice),
               "PUT", RECORD)
    assert shown["updated"] == 1
    assert [r["callId"] for r in pbx.records(alice)] == [legs["to_carol"]["callId"]]

    expect_error(pbx.c.put(f"{B}/calls/00000000/records", json={"hide": True}, headers=alice), 404, "PUT", RECORD)
    expect_error(pbx.c.put(f"{B}/calls/{legs['bob_in']['callId']}/records", json={"hide": True}, headers=alice),
                 404, "PUT", RECORD)
    expect_error(pbx.c.put(f"{B}/calls/records", json={"hide": "yes please"}, headers=alice), 400, "PUT", RECORDS)
    expect_error(pbx.c.put(f"{B}/calls/records", json={"hide": True, "all": True}, headers=alice), 400, "PUT",
                 RECORDS)
    expect_error(pbx.c.put(f"{B}/calls/records", params={"$filter": "to eq"}, json={"hide": True}, headers=alice),
                 400, "PUT", RECORDS)
    # Bob's records were never touched by Alice's requests.
    assert len(pbx.records(as_user("bob@acme.example"))) == 2


# ---------------------------------------------------------------------------- recordings
def recorded_call(pbx: Pbx, as_user, seconds: float = 12) -> dict:
    alice = as_user("alice@acme.example")
    made = pbx.make_call("2880", "2881", alice, record=True)
    pbx.phone("2881", "answer")
    pbx.advance(seconds)
    pbx.act("2880", made["callId"], "end", alice)
    [recording] = ok(pbx.c.get(f"{B}/recordings", headers=pbx.admin), "GET", RECORDINGS)["_embedded"]["items"]
    assert recording["callId"] == tracking(made)
    return recording


def test_recording_metadata_and_media(pbx: Pbx, as_user) -> None:
    recording = recorded_call(pbx, as_user, 12.5)
    rid = recording["recordingId"]
    assert recording["durationInSeconds"] == 12.5 and recording["contentType"] == "audio/wav"
    assert recording["_links"]["self"] == f"{B}/recordings/{rid}" and "_embedded" not in recording

    bob = as_user("bob@acme.example")
    plain = ok(pbx.c.get(f"{B}/recordings/{rid}", headers=bob), "GET", RECORDING)
    assert plain == recording
    expanded = ok(pbx.c.get(f"{B}/recordings/{rid}", params={"$expand": "media"}, headers=bob), "GET", RECORDING)
    media = expanded["_embedded"]["media"]
    assert media["expiry"] > expanded["createdOn"]

    download = httpx.get(media["url"], timeout=10)  # a plain URL: no token needed
    assert download.status_code == 200 and download.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(download.content)) as audio:
        assert (audio.getnchannels(), audio.getsampwidth()) == (1, 2)
        assert audio.getnframes() / audio.getframerate() == recording["durationInSeconds"]

    by_format = ok(pbx.c.get(f"{B}/recordings/{rid}", params={"media-format": "wav"}, headers=bob), "GET", RECORDING)
    assert by_format["_embedded"]["media"]["url"]
    for params in ({"$expand": "transcript"}, {"media-format": "mp3"}):
        expect_error(pbx.c.get(f"{B}/recordings/{rid}", params=params, headers=bob), 400, "GET", RECORDING)
    # A tampered signature is refused.
    parts = urlsplit(media["url"])
    tampered = httpx.get(media["url"].replace("signature=", "signature=0"), timeout=10)
    assert tampered.status_code == 403 and tampered.json()["name"] == "InvalidSignature"
    assert parts.path == f"/_callyard/media/recordings/{rid}"

    listed = lambda params: ok(pbx.c.get(f"{B}/recordings", params=params, headers=bob), "GET",  # noqa: E731
                               RECORDINGS)["count"]
    assert listed({"$filter": "durationInSeconds gt 12"}) == 1 and listed({"$filter": "durationInSeconds gt 13"}) == 0
    assert listed({"$orderby": "createdOn desc", "$top": "1"}) == 1

    # Not a party: the recording does not exist for Carol.
    carol = as_user("carol@acme.example")
    expect_error(pbx.c.get(f"{B}/recordings/{rid}", headers=carol), 404, "GET", RECORDING, "RecordingNotFound")
    assert ok(pbx.c.get(f"{B}/recordings", headers=carol), "GET", RECORDINGS)["count"] == 0
    expect_error(pbx.c.get(f"{B}/recordings/nope", headers=pbx.admin), 404, "GET", RECORDING)


def test_recording_media_url_expires_after_an_hour(pbx: Pbx, as_user) -> None:
    recording = recorded_call(pbx, as_user)
    expanded = ok(pbx.c.get(f"{B}/recordings/{recording['recordingId']}", params={"$expand": "media"},
                            headers=pbx.admin), "GET", RECORDING)
    url = expanded["_embedded"]["media"]["url"]
    pbx.advance(3599)
    assert httpx.get(url, timeout=10).status_code == 200
    pbx.admin = as_user("admin@acme.example")  # the first token dies with the hour too: a new one
    pbx.advance(2)
    expired = httpx.get(url, timeout=10)
    assert expired.status_code == 403 and expired.json()["name"] == "InvalidSignature"
    # A fresh request hands out a fresh URL.
    fresh = ok(pbx.c.get(f"{B}/recordings/{recording['recordingId']}", params={"$expand": "media"},
                         headers=pbx.admin), "GET", RECORDING)
    assert httpx.get(fresh["_embedded"]["media"]["url"], timeout=10).status_code == 200


def test_recording_label_and_delete(pbx: Pbx, as_user) -> None:
    recording = recorded_call(pbx, as_user)
    rid = recording["recordingId"]
    bob = as_user("bob@acme.example")
    labelled = ok(pbx.c.put(f"{B}/recordings/{rid}", json={"label": "Escalation"}, headers=bob), "PUT", RECORDING)
    assert labelled["label"] == "Escalation" and labelled["durationInSeconds"] == recording["durationInSeconds"]
    assert ok(pbx.c.get(f"{B}/recordings/{rid}", headers=pbx.admin), "GET", RECORDING)["label"] == "Escalation"
    expect_error(pbx.c.put(f"{B}/recordings/{rid}", json={"label": "x" * 257}, headers=bob), 400, "PUT", RECORDING)
    expect_error(pbx.c.put(f"{B}/recordings/{rid}", json={"title": "x"}, headers=bob), 400, "PUT", RECORDING)
    expect_error(pbx.c.put(f"{B}/recordings/{rid}", json={"label": "x"}, headers=as_user("carol@acme.example")),
                 404, "PUT", RECORDING)
    cleared = ok(pbx.c.put(f"{B}/recordings/{rid}", json={"label": None}, headers=bob), "PUT", RECORDING)
    assert "label" not in cleared

    # Deleting needs ACCOUNT_ADMIN, even for a party to the call.
    expect_error(pbx.c.delete(f"{B}/recordings/{rid}", headers=bob), 403, "DELETE", RECORDING,
                 "InsufficientPermissions")
    assert ok(pbx.c.get(f"{B}/recordings/{rid}", headers=bob), "GET", RECORDING)["recordingId"] == rid
    expanded = ok(pbx.c.get(f"{B}/recordings/{rid}", params={"$expand": "media"}, headers=pbx.admin), "GET",
                  RECORDING)
    deleted = ok(pbx.c.delete(f"{B}/recordings/{rid}", headers=pbx.admin), "DELETE", RECORDING)
    assert deleted["recordingId"] == rid
    expect_error(pbx.c.get(f"{B}/recordings/{rid}", headers=pbx.admin), 404, "GET", RECORDING)
    expect_error(pbx.c.delete(f"{B}/recordings/{rid}", headers=pbx.admin), 404, "DELETE", RECORDING)
    assert httpx.get(expanded["_embedded"]["media"]["url"], timeout=10).status_code == 404
    assert ok(pbx.c.get(f"{B}/recordings", headers=pbx.admin), "GET", RECORDINGS)["count"] == 0


def test_recording_media_url_with_a_malformed_signature(client: httpx.Client) -> None:
    # A non-ASCII signature once made the comparison raise (500); any bad signature is 403, bad input 400.
    for params in ({"expires": "99999999999", "signature": "\u00a0\U000828cf\u0087"},
                   {"expires": "1301904974602265153241088", "signature": "0"}):
        refused = client.get("/_callyard/media/recordings/nope", params=params)
        assert refused.status_code == 403 and refused.json()["name"] == "InvalidSignature", refused.text
    malformed = client.get("/_callyard/media/recordings/nope", params={"expires": "soon", "signature": "0"})
    assert malformed.status_code == 400 and malformed.json()["name"] == "ValidationError", malformed.text
