"""MediaServer (3), MailServer (2), ApplicationProfile (2), Prompt (2 and the prompt's audio) and Variables (2)
through a live server: derived from what the twin runs (the PBX, the media nodes, its clock, its mail transport)
and from the tenant file (profiles, prompts as real WAV files, variables)."""
from __future__ import annotations

import io
import json
import wave

import httpx

from callyard.core.directory.tenant import DEMO_TENANT
from tests.api.cx.conftest import API, WEB_CHAT, cx_token
from tests.conftest import auth, start_server
from tests.support.control import Control

NODE_TYPES = {"Voice": "SIP", "Chat": "MCCWebChat", "Email": "MCCEmail", "Sms": "MCCSms",
              "OpenMedia": "MCCOpenMedia"}


def test_media_servers_are_what_the_twin_runs(client: httpx.Client, cx_alice: dict, wallboard: dict,
                                              control: Control) -> None:
    servers = client.get(f"{API}/mediaservers", headers=cx_alice).json()["_embedded"]["items"]
    assert {s["mediaType"]: s["mediaServerType"] for s in servers} == NODE_TYPES
    pbx = next(s for s in servers if s["mediaType"] == "Voice")
    assert pbx["cloudlinkEnabled"] is True and pbx["ipAddressOrDnsName"].endswith(".callyard.example")  # SIP domain
    assert pbx["minDigitsDialed"] == 3 and pbx["username"] is None and pbx["password"] is None
    email = next(s for s in servers if s["mediaType"] == "Email")
    [mail] = client.get(f"{API}/mailservers", headers=cx_alice).json()["_embedded"]["items"]
    assert email["mailServers"] == [mail["id"]] and email["cloudlinkEnabled"] is False
    assert client.get(f"{API}/mediaservers/{pbx['id']}", headers=wallboard).json() == pbx
    assert client.get(f"{API}/mediaservers/MCCWebChat", headers=cx_alice).json()["mediaType"] == "Chat"
    assert client.get(f"{API}/mediaservers/nope", headers=cx_alice).status_code == 404
    filtered = client.get(f"{API}/mediaservers", params={"$filter": "cloudlinkEnabled eq true"}, headers=cx_alice)
    assert {s["mediaType"] for s in filtered.json()["_embedded"]["items"]} == {"Voice", "Chat"}
    times = client.get(f"{API}/mediaservers/times", headers=cx_alice).json()
    assert times.keys() == {s["id"] for s in servers}
    control.advance(60)
    later = client.get(f"{API}/mediaservers/times", headers=cx_alice).json()
    assert all(later[k] > times[k] for k in times)     # the twin's clock


def test_mail_server_reads_the_twins_mail_settings(client: httpx.Client, supervisor: dict) -> None:
    [mail] = client.get(f"{API}/mailservers", headers=supervisor).json()["_embedded"]["items"]
    assert mail["smtpServer"] is None and mail["smtpPort"] is None      # no --smtp: the outbox only
    assert mail["smtpPassword"] is None and mail["incommingPassword"] is None
    tenant = json.loads(DEMO_TENANT.read_text())
    acme = next(a for a in tenant["accounts"][0]["customers"] if a["name"] == "Acme")
    addresses = [q["emailAddress"] for q in acme["contactCenter"]["queues"] if q.get("emailAddress")]
    assert mail["incomingEmailAliases"] == (",".join(addresses) or None)     # the Email queues' addresses
    assert client.get(f"{API}/mailservers/{mail['id']}", headers=supervisor).json() == mail
    assert client.get(f"{API}/mailservers/nope", headers=supervisor).status_code == 404
    with start_server(smtp="127.0.0.1:2525") as live, httpx.Client(base_url=live.url, timeout=10) as http:
        [relayed] = http.get(f"{API}/mailservers", headers=auth(cx_token(http, "carol"))).json()["_embedded"]["items"]
        assert (relayed["smtpServer"], relayed["smtpPort"]) == ("127.0.0.1", 2525)


def test_application_profiles(client: httpx.Client, cx_carol: dict) -> None:
    ignite = client.get(f"{API}/applicationprofiles/Ignite", headers=cx_carol).json()
    assert [p["name"] for p in ignite["_embedded"]["items"]] == ["Default", "Supervisors"]
    lobby = client.get(f"{API}/applicationprofiles/wallboard/Lobby", headers=cx_carol).json()
    assert lobby["application"] == "Wallboard" and lobby["settings"]["queues"] == ["Support", "Web Chat"]
    assert client.get(f"{API}/applicationprofiles/Wallboard/{lobby['id']}", headers=cx_carol).json() == lobby
    assert client.get(f"{API}/applicationprofiles/Ignite/Lobby", headers=cx_carol).status_code == 404
    assert client.get(f"{API}/applicationprofiles/Nothing", headers=cx_carol).status_code == 404


def test_prompts_are_real_wav_files(client: httpx.Client, cx_alice: dict) -> None:
    prompts = client.get(f"{API}/prompts", headers=cx_alice).json()["_embedded"]["items"]
    assert {p["name"]: p["durationInSeconds"] for p in prompts} == {"After hours": 5.0, "All agents busy": 4.0,
                                                                      "Welcome": 3.0}
    welcome = client.get(f"{API}/prompts/welcome", headers=cx_alice).json()
    assert welcome["_links"]["audio"]["href"].endswith(f"/prompts/{welcome['id']}/audio")
    audio = client.get(welcome["_links"]["audio"]["href"], headers=cx_alice)
    assert audio.status_code == 200 and audio.headers["content-type"] == "audio/wav"
    with wave.open(io.BytesIO(audio.content)) as wav:
        assert wav.getnframes() / wav.getframerate() == 3.0
    assert client.get(f"{API}/prompts/nope", headers=cx_alice).status_code == 404
    assert client.get(f"{API}/prompts/nope/audio", headers=cx_alice).status_code == 404


def test_variables(client: httpx.Client, wallboard: dict) -> None:
    variables = client.get(f"{API}/variables", headers=wallboard).json()["_embedded"]["items"]
    assert {v["name"]: v["type"] for v in variables} == {"CustomerId": "String", "IsVip": "Boolean",
                                                         "Priority": "Integer"}
    priority = client.get(f"{API}/variables/priority", headers=wallboard).json()
    assert priority["defaultValue"] == 5 and client.get(f"{API}/variables/{priority['id']}",
                                                        headers=wallboard).json() == priority
    assert client.get(f"{API}/variables/nope", headers=wallboard).status_code == 404


def test_a_token_is_required(client: httpx.Client) -> None:
    for path in ("/mediaservers", "/mailservers", "/prompts", "/variables", "/applicationprofiles/Ignite",
                 f"/globalreplytemplates?queue={WEB_CHAT}", "/webhooks", "/diagnostics/employees/me/statemonitor"):
        response = client.get(f"{API}{path}")
        assert response.status_code == 401 and response.json()["errorCode"] == "MissingToken", path
