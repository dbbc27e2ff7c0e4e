"""GlobalReplyTemplate (6 operations) and the personal reply templates of Chat, Email and Sms through a live
server: who sees and writes what (agent, supervisor, registered client), queue association, tags, search and
paging; personal files kept in memory (``--ephemeral``) and on disk in the data directory, where no path from
the API reaches outside it."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from tests.api.cx.conftest import API, WEB_CHAT, cx_token
from tests.conftest import auth, start_server
from tests.support.control import Control

EMAIL_QUEUE = "ac3e0000-0000-4000-8000-0000cc00c702"
REFUND = {"customerText": "How do I get a refund?", "template": "<p>Refunds take <b>5 days</b>.</p>",
          "media": "Chat", "tags": ["billing", "refund"], "queues": ["Web Chat"]}


@pytest.fixture(autouse=True)
def _baseline(control: Control) -> None:
    control.reset()


def test_global_template_crud_and_visibility(client: httpx.Client, supervisor: dict, cx_carol: dict,
                                             cx_alice: dict, wallboard: dict) -> None:
    created = client.post(f"{API}/globalreplytemplates", headers=supervisor, json=REFUND)
    assert created.status_code == 200, created.text
    doc = created.json()
    assert doc["queues"] == [WEB_CHAT] and doc["templateText"] == "Refunds take 5 days."
    assert doc["media"] == "Chat" and doc["tags"] == ["billing", "refund"] and doc["createdOn"].endswith("Z")
    general = client.post(f"{API}/globalreplytemplates", headers=supervisor,
                          json={"Template": "Thank you for contacting Acme.", "Tags": [{"name": "Greeting"}]}).json()
    assert general["media"] == "Unspecified" and general["queues"] == []   # any case, tags as objects too
    tid = doc["id"]
    # carol answers Web Chat: she sees both; alice (Voice, Support) sees only the one of no queue
    assert client.get(f"{API}/globalreplytemplates", headers=cx_carol).json()["count"] == 2
    mine = client.get(f"{API}/globalreplytemplates", headers=cx_alice).json()
    assert [t["id"] for t in mine["_embedded"]["items"]] == [general["id"]]
    assert client.get(f"{API}/globalreplytemplates/{tid}", headers=cx_alice).status_code == 404
    assert client.get(f"{API}/globalreplytemplates/{tid}", headers=cx_carol).json() == doc
    assert client.get(f"{API}/globalreplytemplates", headers=wallboard).json()["count"] == 2
    # only a supervisor writes
    assert client.post(f"{API}/globalreplytemplates", headers=cx_carol, json=REFUND).status_code == 403
    assert client.post(f"{API}/globalreplytemplates", headers=wallboard, json=REFUND).status_code == 403
    assert client.put(f"{API}/globalreplytemplates/{tid}", headers=cx_carol, json={"tags": []}).status_code == 403
    assert client.delete(f"{API}/globalreplytemplates/{tid}", headers=cx_carol).status_code == 403
    updated = client.put(f"{API}/globalreplytemplates/{tid}", headers=supervisor,
                         json={"tags": ["billing"], "queues": ["Web Chat", "7001"]}).json()
    assert updated["tags"] == ["billing"] and updated["queues"] == [WEB_CHAT]
    assert updated["template"] == REFUND["template"] and updated["modifiedOn"] >= doc["modifiedOn"]
    assert client.delete(f"{API}/globalreplytemplates/{tid}", headers=supervisor).json() == "OK"
    assert client.get(f"{API}/globalreplytemplates/{tid}", headers=supervisor).status_code == 404
    assert client.delete(f"{API}/globalreplytemplates/{tid}", headers=supervisor).status_code == 404


def test_global_template_errors_change_nothing(client: httpx.Client, supervisor: dict) -> None:
    for body in ({}, {"template": ""}, {"template": 5}, {"template": "x", "media": "Fax"},
                 {"template": "x", "media": 9}, {"template": "x", "queues": ["Nowhere"]},
                 {"template": "x", "media": "Email", "queues": ["Web Chat"]},   # a Chat queue for an e-mail answer
                 {"template": "x", "tags": "billing"}, {"template": "x", "tags": [""]},
                 {"template": "x", "queues": "Web Chat"}, {"template": "x" * 70000}):
        response = client.post(f"{API}/globalreplytemplates", headers=supervisor, json=body)
        assert response.status_code == 400, (body, response.text)
        assert set(response.json()) >= {"message", "errorCode"}
    assert client.post(f"{API}/globalreplytemplates", headers=supervisor, content=b"[").status_code == 400
    assert client.get(f"{API}/globalreplytemplates", headers=supervisor).json()["count"] == 0
    for query in ("top=-1", "skip=x", "offset=abc", "media=Fax"):
        assert client.get(f"{API}/globalreplytemplates?{query}", headers=supervisor).status_code == 400, query
    assert client.put(f"{API}/globalreplytemplates/nope", headers=supervisor, json={"template": "x"}).status_code == 404


def test_search_media_paging_and_tags(client: httpx.Client, supervisor: dict, cx_carol: dict) -> None:
    for n in range(4):
        client.post(f"{API}/globalreplytemplates", headers=supervisor, json={
            "customerText": f"question {n}", "template": f"answer {n}", "media": "Email" if n % 2 else "Chat",
            "tags": ["common", f"t{n}"], "queues": ["Email" if n % 2 else "Web Chat"]}).raise_for_status()
    everything = client.get(f"{API}/globalreplytemplates", headers=cx_carol).json()
    assert everything["count"] == 4 and "next" not in everything["_links"]
    first = client.get(f"{API}/globalreplytemplates?top=3", headers=cx_carol).json()
    assert len(first["_embedded"]["items"]) == 3 and first["count"] == 4
    rest = client.get(first["_links"]["next"]["href"], headers=cx_carol).json()
    assert [t["customerText"] for t in rest["_embedded"]["items"]] == ["question 3"]
    emails = client.get(f"{API}/globalreplytemplates?media=Email", headers=cx_carol).json()
    assert {t["customerText"] for t in emails["_embedded"]["items"]} == {"question 1", "question 3"}
    assert client.get(f"{API}/globalreplytemplates?search=ANSWER 2", headers=cx_carol).json()["count"] == 1
    assert client.get(f"{API}/globalreplytemplates?search=t3", headers=cx_carol).json()["count"] == 1   # a tag
    tags = client.get(f"{API}/globalreplytemplates/tags", headers=cx_carol).json()["_embedded"]["items"]
    assert {t["name"]: t["count"] for t in tags} == {"common": 4, "t0": 1, "t1": 1, "t2": 1, "t3": 1}


# ---------------------------------------------------------------------- personal reply templates
def _save(client: httpx.Client, headers: dict, media: str, path: str, text: str) -> httpx.Response:
    return client.put(f"{API}/{media}/replytemplates/template", headers=headers, params={"filePath": path},
                      json={"template": text})


@pytest.mark.parametrize("media", ["chat", "email", "sms"])
def test_personal_templates_of_a_media(client: httpx.Client, cx_carol: dict, media: str) -> None:
    base = f"{API}/{media}/replytemplates"
    assert client.get(base, headers=cx_carol).json() == []
    assert _save(client, cx_carol, media, "Billing/refund.txt", "Refunds take 5 days.").status_code == 200
    assert _save(client, cx_carol, media, "Billing\\Late\\late.txt", "Sorry for the delay.").status_code == 200
    assert _save(client, cx_carol, media, "hello.txt", "Hello!").json()["templateName"] == "hello.txt"
    assert client.get(f"{base}/filenames", headers=cx_carol).json() == [
        "Billing/Late/late.txt", "Billing/refund.txt", "hello.txt"]
    listed = client.get(base, headers=cx_carol).json()
    assert {t["path"]: t["template"] for t in listed}["Billing/refund.txt"] == "Refunds take 5 days."
    tree = client.get(f"{base}/folders", headers=cx_carol).json()
    assert tree["noLeaf"] is True and [c["label"] for c in tree["children"]] == ["Billing"]
    assert [c["path"] for c in tree["children"][0]["children"]] == ["Billing/Late"]
    one = client.get(f"{base}/template", headers=cx_carol, params={"filePath": "Billing/Late/late.txt"}).json()
    assert one == {"path": "Billing/Late/late.txt", "template": "Sorry for the delay.", "templateName": "late.txt"}
    assert client.get(f"{base}/content", headers=cx_carol, params={"fileName": "hello.txt"}).json() == {
        "string": "Hello!"}
    assert client.get(f"{base}/basedirectory", headers=cx_carol).json().endswith(media.capitalize())
    if media != "sms":   # the Sms tag has no access checks
        assert client.get(f"{base}/canaccessfile", headers=cx_carol,
                          params={"filePath": "hello.txt"}).json() == "true"
        assert client.get(f"{base}/canaccessfile", headers=cx_carol,
                          params={"filePath": "nope.txt"}).json() == "false"
        assert client.get(f"{base}/canaccessdirectory", headers=cx_carol,
                          params={"filePath": "Billing/Late"}).json() == "true"
        assert client.get(f"{base}/canaccessdirectory", headers=cx_carol,
                          params={"filePath": "hello.txt"}).json() == "false"
    assert client.delete(f"{base}/template", headers=cx_carol, params={"filePath": "hello.txt"}).json() == "OK"
    assert client.get(f"{base}/template", headers=cx_carol, params={"filePath": "hello.txt"}).status_code == 404
    assert client.delete(f"{base}/template", headers=cx_carol, params={"filePath": "Billing"}).status_code == 409


def test_personal_templates_are_their_employees(client: httpx.Client, cx_carol: dict, cx_alice: dict,
                                                supervisor: dict, wallboard: dict) -> None:
    _save(client, cx_carol, "chat", "mine.txt", "carol's").raise_for_status()
    assert client.get(f"{API}/chat/replytemplates/filenames", headers=cx_alice).json() == []   # alice has her own
    assert client.get(f"{API}/email/replytemplates/filenames", headers=cx_carol).json() == []  # per media
    assert client.get(f"{API}/chat/replytemplates", headers=wallboard).status_code == 403      # third party
    assert _save(client, wallboard, "chat", "x.txt", "x").status_code == 403
    assert client.get(f"{API}/chat/replytemplates/template", headers=cx_carol).status_code == 400  # filePath needed
    assert client.put(f"{API}/chat/replytemplates/template", headers=cx_carol, params={"filePath": "a.txt"},
                      json={"text": "no template"}).status_code == 400
    assert _save(client, cx_carol, "chat", "big.txt", "x" * (256 * 1024 + 1)).status_code == 400


TRAVERSALS = ["../escape.txt", "a/../../escape.txt", "..\\escape.txt", "/etc/passwd", "\\\\server\\share\\x.txt",
              "C:\\Windows\\x.txt", "a/\x00b.txt", "a/./b.txt", "x" * 256, ("a/" * 600) + "b", "", "a/b.txt. ",
              "line\nbreak.txt"]


@pytest.mark.parametrize("path", TRAVERSALS, ids=range(len(TRAVERSALS)))
def test_paths_outside_the_base_directory_are_refused(client: httpx.Client, cx_carol: dict, path: str) -> None:
    response = _save(client, cx_carol, "chat", path, "pwned")
    assert response.status_code == 400, response.text
    assert response.json()["errorCode"] == "InvalidPath"
    for operation in ("template", "canaccessfile"):
        assert client.get(f"{API}/chat/replytemplates/{operation}", headers=cx_carol,
                          params={"filePath": path}).status_code == 400
    assert client.get(f"{API}/chat/replytemplates/filenames", headers=cx_carol).json() == []


# ---------------------------------------------------------------------- on disk
@pytest.fixture(scope="module")
def disk_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    data = tmp_path_factory.mktemp("data")
    with start_server(ephemeral=False, data_dir=data, clock="manual") as live:
        live.data = data
        yield live


def _files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file() or p.is_symlink()}


def test_personal_templates_on_disk_stay_in_the_data_directory(disk_server: Any) -> None:
    data: Path = disk_server.data
    outside = data.parent / f"{data.name}-outside"
    outside.mkdir()
    with httpx.Client(base_url=disk_server.url, timeout=10) as http:
        carol = auth(cx_token(http, "carol"))
        saved = _save(http, carol, "email", "Billing/refund.txt", "Refunds take 5 days.")
        assert saved.status_code == 200, saved.text
        base = Path(http.get(f"{API}/email/replytemplates/basedirectory", headers=carol).json())
        assert base.is_relative_to(data / "replytemplates") and (base / "Billing" / "refund.txt").read_text() == (
            "Refunds take 5 days.")
        before = _files(data)
        for path in TRAVERSALS:
            assert _save(http, carol, "email", path, "pwned").status_code == 400, path
        # a link planted in the tree (by someone with shell access) is refused, never followed
        os.symlink(outside, base / "link")
        (outside / "secret.txt").write_text("outside")
        for path in ("link/x.txt", "link/secret.txt"):
            assert _save(http, carol, "email", path, "pwned").status_code == 400, path
            assert http.get(f"{API}/email/replytemplates/template", headers=carol,
                            params={"filePath": path}).status_code == 400
        os.symlink(outside / "secret.txt", base / "file-link.txt")
        assert http.get(f"{API}/email/replytemplates/template", headers=carol,
                        params={"filePath": "file-link.txt"}).status_code == 400
        assert _save(http, carol, "email", "file-link.txt", "pwned").status_code == 400
        assert "file-link.txt" not in http.get(f"{API}/email/replytemplates/filenames", headers=carol).json()
        assert _files(outside) == {"secret.txt"} and (outside / "secret.txt").read_text() == "outside"
        assert _files(data) == before | {str((base / "link").relative_to(data)),
                                          str((base / "file-link.txt").relative_to(data))}
        # a reset removes the templates, and leaves what is outside the data directory alone
        Control(http, auth(cx_token(http, "carol"))).reset()
        assert not base.exists() and (outside / "secret.txt").read_text() == "outside"


def test_a_deleted_queue_leaves_its_templates(client: httpx.Client, supervisor: dict, cx_carol: dict) -> None:
    doc = client.post(f"{API}/globalreplytemplates", headers=supervisor, json=REFUND).json()
    assert client.delete(f"{API}/queues/Web Chat", headers=supervisor).status_code == 200
    updated = client.put(f"{API}/globalreplytemplates/{doc['id']}", headers=supervisor, json={"tags": ["kept"]})
    assert updated.status_code == 200 and updated.json()["queues"] == []      # the deleted queue is dropped
    assert client.get(f"{API}/globalreplytemplates/{doc['id']}", headers=cx_carol).json()["tags"] == ["kept"]


def test_templates_and_webhooks_survive_a_restart(tmp_path: Path) -> None:
    for attempt in range(2):   # the same data directory: the second server loads what the first stored
        with start_server(ephemeral=False, data_dir=tmp_path) as live, httpx.Client(base_url=live.url,
                                                                                  timeout=10) as http:
            boss, carol = auth(cx_token(http, "admin@acme.example")), auth(cx_token(http, "carol"))
            if attempt == 0:
                http.post(f"{API}/globalreplytemplates", headers=boss, json=REFUND).raise_for_status()
                http.post(f"{API}/webhooks", headers=boss, json={"id": "rec", "url": "https://rec.example/h",
                                                                 "token": "t"}).raise_for_status()
                _save(http, carol, "sms", "Greetings/hi.txt", "Hi there").raise_for_status()
                continue
            [template] = http.get(f"{API}/globalreplytemplates", headers=carol).json()["_embedded"]["items"]
            assert template["customerText"] == REFUND["customerText"]
            [hook] = http.get(f"{API}/webhooks", headers=boss).json()["webhookList"]
            assert hook["id"] == "rec" and hook["hasToken"] is True
            assert http.get(f"{API}/sms/replytemplates/content", headers=carol,
                            params={"fileName": "Greetings/hi.txt"}).json() == {"string": "Hi there"}
