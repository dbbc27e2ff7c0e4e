"""WebHook (6 operations: OSCMS registration, recorded extensions, the engine's real recordings by case and
call, downloaded and played as WAV) and Diagnostics (12: monitors per employee from the live SignalR
connections, router commands, connections by id, problem reports) through a live server; and no tenant sees
another's templates, webhooks, recordings, diagnostics or configuration."""
from __future__ import annotations

import io
import wave
from typing import Any, Iterator

import httpx
import pytest

from tests.api.cx.conftest import ALICE, API, CALLER, LOGIN, cx_token
from tests.api.cx.test_cross_family import wrap_server  # noqa: F401 - the live twin with Globex's contact center
from tests.api.cx.test_hubs import hubs
from tests.conftest import auth, token
from tests.delivery.signalr.test_python_clients import aiohttp_writer_send  # noqa: F401 - a fixture
from tests.support.control import Control

pytestmark = pytest.mark.usefixtures("aiohttp_writer_send")   # signalr-async with this aiohttp
OSCMS = {"id": "oscms-1", "name": "Acme recorder", "url": "https://recorder.acme.example/hook", "token": "s3cret"}


@pytest.fixture(autouse=True)
def _baseline(control: Control) -> None:
    control.reset()


def recorded_call(client: httpx.Client, cx_alice: dict, control: Control, seconds: float = 3) -> str:
    """An outside call to Support, answered by alice and recorded for ``seconds``: its conversation id."""
    client.put(f"{API}/employees/me/state", headers=cx_alice, json=LOGIN).raise_for_status()
    control.dial_in(CALLER, "5000")
    [offer] = client.get(f"{API}/employees/me/conversations", headers=cx_alice).json()["_embedded"]["items"]
    cid = offer["conversationId"]
    for action in ("Accept", "StartRecord"):
        client.put(f"{API}/employees/me/conversations/{cid}", headers=cx_alice,
                   json={"conversationAction": action}).raise_for_status()
    control.advance(seconds)
    for action in ("StopRecord", "End"):
        client.put(f"{API}/employees/me/conversations/{cid}", headers=cx_alice,
                   json={"conversationAction": action}).raise_for_status()
    return str(cid)


# ---------------------------------------------------------------------- WebHook
def test_oscms_registration_and_extensions(client: httpx.Client, supervisor: dict, cx_alice: dict,
                                           wallboard: dict) -> None:
    assert client.get(f"{API}/webhooks/extensions", headers=supervisor).json() == []   # no OSCMS yet
    registered = client.post(f"{API}/webhooks", headers=supervisor, json=OSCMS)
    assert registered.status_code == 200 and registered.json() == "oscms-1"
    [listed] = client.get(f"{API}/webhooks", headers=supervisor).json()["webhookList"]
    assert (listed["id"], listed["url"], listed["token"], listed["hasToken"]) == ("oscms-1", OSCMS["url"], None, True)
    again = client.post(f"{API}/webhooks", headers=wallboard, json={"Id": "OSCMS-1", "Url": "http://10.0.0.5/h"})
    assert again.status_code == 200   # a registered client is a system-level user; the same OSCMS, case aside
    [listed] = client.get(f"{API}/webhooks", headers=wallboard).json()["webhookList"]
    assert listed["url"] == "http://10.0.0.5/h" and listed["hasToken"] is False
    extensions = client.get(f"{API}/webhooks/extensions", headers=supervisor).json()
    assert {e["extension"]: e["agentReporting"] for e in extensions} == {"2880": "3001", "200": "3002"}
    assert all(e["oscmsIds"] == ["OSCMS-1"] for e in extensions)
    for method, path in (("POST", "/webhooks"), ("GET", "/webhooks"), ("GET", "/webhooks/extensions"),
                         ("GET", "/webhooks/recordings/x/y")):
        assert client.request(method, f"{API}{path}", headers=cx_alice, json=OSCMS).status_code == 403, path
    for body in ({}, {"id": "x"}, {"id": "x", "url": "ftp://host/x"}, {"id": "x", "url": "not a url"},
                 {"id": 5, "url": "http://h/x"}, {"id": "x" * 200, "url": "http://h/x"},
                 {"id": "x", "url": "http://h/x", "token": ["t"]}):
        assert client.post(f"{API}/webhooks", headers=supervisor, json=body).status_code == 400, body
    assert len(client.get(f"{API}/webhooks", headers=supervisor).json()["webhookList"]) == 1


def test_recordings_by_case_and_call_download_and_play(client: httpx.Client, supervisor: dict, cx_alice: dict,
                                                       wallboard: dict, control: Control) -> None:
    cid = recorded_call(client, cx_alice, control, seconds=3)
    found = client.get(f"{API}/webhooks/recordings/none/{cid}", headers=supervisor).json()
    [recording] = found["_embedded"]["items"]
    assert found["count"] == 1 and recording["callId"] == cid and recording["durationInSeconds"] == 3.0
    assert client.get(f"{API}/webhooks/recordings/none/{cid}", headers=wallboard).json()["count"] == 1
    assert client.get(f"{API}/webhooks/recordings/none/another-call", headers=supervisor).json()["count"] == 0
    download = client.get(f"{API}/webhooks/recordings/{recording['id']}/download", headers=supervisor)
    assert download.status_code == 200 and download.headers["content-type"] == "audio/wav"
    assert download.headers["content-disposition"].startswith("attachment")
    with wave.open(io.BytesIO(download.content)) as audio:
        assert audio.getnframes() / audio.getframerate() == 3.0    # a real WAV of the recorded length
    played = client.get(f"{API}/webhooks/recordings/{recording['id']}/play", headers=supervisor)
    assert played.content == download.content and played.headers["content-disposition"].startswith("inline")
    part = client.get(f"{API}/webhooks/recordings/{recording['id']}/play", headers={**supervisor,
                                                                                     "Range": "bytes=0-43"})
    assert part.status_code == 206 and part.content == download.content[:44] and part.content.startswith(b"RIFF")
    assert part.headers["content-range"] == f"bytes 0-43/{len(download.content)}"
    assert client.get(f"{API}/webhooks/recordings/nope/download", headers=supervisor).status_code == 404
    assert client.get(f"{API}/webhooks/recordings/{recording['id']}/play", headers=cx_alice).status_code == 403


# ---------------------------------------------------------------------- Diagnostics
@pytest.mark.parametrize("segment", ["statemonitor", "agentstatemonitors", "agentinboxmonitors"])
def test_monitors_added_and_removed(client: httpx.Client, segment: str, cx_alice: dict, supervisor: dict,
                                    wallboard: dict) -> None:
    mine = f"{API}/diagnostics/employees/me/{segment}"
    assert client.get(mine, headers=cx_alice).json() == "0"
    assert client.post(f"{mine}/true", headers=cx_alice).json() == "1"
    assert client.post(f"{mine}/true", headers=cx_alice).json() == "1"      # already contained: skipped
    assert client.post(f"{mine}/false", headers=cx_alice).json() == "2"
    assert client.get(f"{API}/diagnostics/employees/alice/{segment}", headers=supervisor).json() == "2"
    assert client.get(f"{API}/diagnostics/employees/{ALICE}/{segment}", headers=wallboard).json() == "2"
    assert client.delete(mine, headers=cx_alice).json() == "0"
    assert client.delete(mine, headers=cx_alice).status_code == 404
    dave = f"{API}/diagnostics/employees/dave/{segment}"
    assert client.get(dave, headers=cx_alice).status_code == 403
    assert client.post(f"{dave}/true", headers=cx_alice).status_code == 403
    assert client.post(f"{dave}/true", headers=wallboard).status_code == 403    # third party: reads only
    assert client.post(f"{dave}/true", headers=supervisor).json() == "1"
    assert client.post(f"{mine}/maybe", headers=cx_alice).status_code == 400
    assert client.get(f"{API}/diagnostics/employees/nobody/{segment}", headers=supervisor).status_code == 404


def test_router_commands_answer_from_the_live_state(client: httpx.Client, supervisor: dict, cx_alice: dict,
                                                    wallboard: dict, control: Control) -> None:
    def command(name: str, value: str | None = None, headers: dict = supervisor) -> httpx.Response:
        return client.post(f"{API}/diagnostics/router", headers=headers, json={"commandName": name, "value": value})

    assert {line.split(":")[0] for line in command("Help").json().splitlines()} == {
        "Help", "Queues", "Queue", "Agents", "Agent", "Cache", "Services"}
    assert "Support (5000, Voice): waiting 0" in command("queues").json()
    control.dial_in(CALLER, "5000")
    assert "Support (5000, Voice): waiting 1" in command("Queues", headers=wallboard).json()
    lines = command("Queue", "Support").json().splitlines()
    assert lines[0] == "Support (5000, Voice): 1 waiting" and f"from {CALLER} InQueue" in lines[1]
    assert command("Agent", "alice").json() == "alice Voice agent 3001: Offline (Offline)"
    client.put(f"{API}/employees/me/state", headers=cx_alice, json=LOGIN).raise_for_status()
    assert command("Agent", "alice").json() == "alice Voice agent 3001: Available (Offered)"
    assert "carol Chat agent 3103" in command("Agents").json()
    cache = dict(line.split(": ") for line in command("Cache").json().splitlines())
    assert cache["cc_employee"] == "4" and int(cache["cc_prompt"]) == 3 and int(cache["blobs"]) >= 3
    assert "signalr: path /miccsdk/signalr" in command("Services").json()
    assert command("Reboot").status_code == 400 and command("Queue").status_code == 400
    assert command("Help", headers=cx_alice).status_code == 403
    assert client.post(f"{API}/diagnostics/router", headers=supervisor, json={"value": "x"}).status_code == 400


def test_problem_reports(client: httpx.Client, cx_carol: dict, control: Control) -> None:
    report = client.post(f"{API}/diagnostics/problemreports", headers=cx_carol, json={
        "Application": "Ignite", "Description": "The inbox froze", "Logs": ["10:00 open", "10:01 frozen"]})
    assert report.status_code == 200, report.text
    [event] = control.events(type="cc.problemreport.created")["_embedded"]["items"]
    assert event["data"]["id"] == report.json() and event["data"]["application"] == "Ignite"
    for body in ({}, {"application": ""}, {"application": "x", "logs": "x"}, {"application": "x", "logs": [1]},
                 {"application": "x", "description": 5}):
        assert client.post(f"{API}/diagnostics/problemreports", headers=cx_carol, json=body).status_code == 400


async def test_monitors_and_connections_follow_the_signalr_hubs(wrap_server: Any) -> None:  # noqa: F811
    url = wrap_server.url
    with httpx.Client(base_url=url, timeout=10) as http:
        Control(http, auth(token(http, "admin@acme.example"))).reset()
        alice_cx, boss_cx = cx_token(http, "alice"), cx_token(http, "admin@acme.example")
        alice, boss = auth(alice_cx), auth(boss_cx)

        def count(segment: str) -> str:
            return str(http.get(f"{API}/diagnostics/employees/alice/{segment}", headers=boss).json())

        assert http.get(f"{API}/diagnostics/signalr/connections/me", headers=alice).json() == []
        async with hubs(url, alice_cx) as alice_hubs, hubs(url, boss_cx) as boss_hubs:
            [connection] = http.get(f"{API}/diagnostics/signalr/connections/me", headers=alice).json()
            assert http.get(f"{API}/diagnostics/signalr/connections/alice", headers=boss).json() == [connection]
            assert (count("statemonitor"), count("agentstatemonitors"), count("agentinboxmonitors")) == ("0", "0", "0")
            await alice_hubs.employee.invoke("addSelfMonitor")
            assert (count("statemonitor"), count("agentstatemonitors"), count("agentinboxmonitors")) == ("1", "1", "1")
            await boss_hubs.agent.invoke("addStateMonitor", ["alice"])
            assert (count("statemonitor"), count("agentstatemonitors")) == ("1", "2")
            assert http.post(f"{API}/diagnostics/employees/alice/statemonitor/true", headers=boss).json() == "1"
            assert http.post(f"{API}/diagnostics/employees/alice/statemonitor/false", headers=boss).json() == "2"
            services = http.post(f"{API}/diagnostics/router", headers=boss, json={"commandName": "Services"}).json()
            assert "connections 2" in services
            assert http.get(f"{API}/diagnostics/signalr/connections/dave", headers=alice).status_code == 403
            await alice_hubs.employee.invoke("removeSelfMonitor")
            assert (count("statemonitor"), count("agentstatemonitors")) == ("1", "1")   # added; boss's agent monitor
            await boss_hubs.agent.invoke("removeStateMonitor", ["alice"])
            assert http.delete(f"{API}/diagnostics/employees/alice/statemonitor", headers=boss).json() == "0"
            assert (count("statemonitor"), count("agentstatemonitors")) == ("0", "0")


# ---------------------------------------------------------------------- no tenant sees another's
@pytest.fixture
def two_tenants(wrap_server: Any) -> Iterator[tuple[httpx.Client, dict, dict]]:  # noqa: F811
    with httpx.Client(base_url=wrap_server.url, timeout=10) as http:
        Control(http, auth(token(http, "admin@acme.example"))).reset()
        yield http, auth(cx_token(http, "admin@acme.example")), auth(cx_token(http, "admin@globex.example"))


def test_globex_never_sees_acmes(two_tenants: tuple[httpx.Client, dict, dict]) -> None:
    http, acme, globex = two_tenants
    alice = auth(cx_token(http, "alice"))
    control = Control(http, auth(token(http, "admin@acme.example")))
    template = http.post(f"{API}/globalreplytemplates", headers=acme, json={"template": "Hi", "tags": ["acme"]}).json()
    http.post(f"{API}/webhooks", headers=acme, json=OSCMS).raise_for_status()
    cid = recorded_call(http, alice, control)
    [recording] = http.get(f"{API}/webhooks/recordings/x/{cid}", headers=acme).json()["_embedded"]["items"]
    http.post(f"{API}/diagnostics/employees/alice/statemonitor/false", headers=acme).raise_for_status()
    http.put(f"{API}/chat/replytemplates/template", headers=alice, params={"filePath": "a.txt"},
             json={"template": "alice's"}).raise_for_status()

    assert http.get(f"{API}/globalreplytemplates", headers=globex).json()["count"] == 0
    assert http.get(f"{API}/globalreplytemplates/tags", headers=globex).json()["count"] == 0
    for method in ("GET", "PUT", "DELETE"):
        assert http.request(method, f"{API}/globalreplytemplates/{template['id']}", headers=globex,
                            json={"template": "mine"}).status_code == 404
    assert http.get(f"{API}/webhooks", headers=globex).json() == {"webhookList": []}
    assert http.get(f"{API}/webhooks/extensions", headers=globex).json() == []
    assert http.get(f"{API}/webhooks/recordings/x/{cid}", headers=globex).json()["count"] == 0
    for action in ("download", "play"):
        assert http.get(f"{API}/webhooks/recordings/{recording['id']}/{action}", headers=globex).status_code == 404
    for segment in ("statemonitor", "agentstatemonitors", "agentinboxmonitors"):
        assert http.get(f"{API}/diagnostics/employees/alice/{segment}", headers=globex).status_code == 404
        assert http.get(f"{API}/diagnostics/employees/{ALICE}/{segment}", headers=globex).status_code == 404
        assert http.post(f"{API}/diagnostics/employees/alice/{segment}/true", headers=globex).status_code == 404
    assert http.get(f"{API}/diagnostics/signalr/connections/alice", headers=globex).status_code == 404
    queues = http.post(f"{API}/diagnostics/router", headers=globex, json={"commandName": "Queues"}).json()
    assert "Globex Help" in queues and "Support" not in queues
    cache = http.post(f"{API}/diagnostics/router", headers=globex, json={"commandName": "Cache"}).json()
    assert "cc_reply_template" not in cache and "cc_oscms_webhook" not in cache
    assert http.get(f"{API}/chat/replytemplates/filenames", headers=globex).json() == []
    acme_servers = http.get(f"{API}/mediaservers", headers=acme).json()["_embedded"]["items"]
    globex_servers = http.get(f"{API}/mediaservers", headers=globex).json()["_embedded"]["items"]
    assert not {s["id"] for s in acme_servers} & {s["id"] for s in globex_servers}
    assert http.get(f"{API}/mediaservers/{acme_servers[0]['id']}", headers=globex).status_code == 404
    assert http.get(f"{API}/mediaservers/times", headers=globex).json().keys() == {s["id"] for s in globex_servers}
    [acme_mail] = http.get(f"{API}/mailservers", headers=acme).json()["_embedded"]["items"]
    assert http.get(f"{API}/mailservers/{acme_mail['id']}", headers=globex).status_code == 404
    assert http.get(f"{API}/prompts", headers=globex).json()["count"] == 0
    assert http.get(f"{API}/prompts/Welcome", headers=globex).status_code == 404
    assert http.get(f"{API}/prompts/Welcome/audio", headers=globex).status_code == 404
    assert http.get(f"{API}/variables/CustomerId", headers=globex).status_code == 404
    assert http.get(f"{API}/applicationprofiles/Ignite", headers=globex).status_code == 404
    assert http.get(f"{API}/applicationprofiles/Ignite/Default", headers=globex).status_code == 404


def test_the_state_is_exported_sealed_and_reset_per_account(two_tenants: tuple[httpx.Client, dict, dict]) -> None:
    http, acme, globex = two_tenants
    acme_admin = auth(token(http, "admin@acme.example"))   # a platform token: account-scoped control
    http.post(f"{API}/webhooks", headers=acme, json=OSCMS).raise_for_status()
    http.post(f"{API}/globalreplytemplates", headers=acme, json={"template": "Hi"}).raise_for_status()
    http.post(f"{API}/diagnostics/employees/alice/statemonitor/false", headers=acme).raise_for_status()
    http.post(f"{API}/webhooks", headers=globex, json={"id": "g", "url": "https://rec.globex.example/h"}
              ).raise_for_status()
    snapshot = http.get("/_callyard/state", headers=acme_admin).json()
    documents = snapshot["documents"]
    [webhook] = documents["cc_oscms_webhook"]
    assert webhook["oscmsId"] == "oscms-1" and webhook["oscmsToken"].startswith("sealed:v1:")   # never in clear
    assert len(documents["cc_reply_template"]) == 1 and len(documents["cc_monitor"]) == 1
    assert len(documents["cc_prompt"]) == 3 and all(p["blobId"] in snapshot["blobs"] for p in documents["cc_prompt"])
    http.post("/_callyard/reset", headers=acme_admin).raise_for_status()     # Acme only
    assert http.get(f"{API}/webhooks", headers=acme).json() == {"webhookList": []}
    assert http.get(f"{API}/globalreplytemplates", headers=acme).json()["count"] == 0
    assert http.get(f"{API}/diagnostics/employees/alice/statemonitor", headers=acme).json() == "0"
    assert [w["id"] for w in http.get(f"{API}/webhooks", headers=globex).json()["webhookList"]] == ["g"]
