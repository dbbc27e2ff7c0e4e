"""The pages a person opens first (issue 14 item 9): the landing page at ``/``, the API docs served from a
package (no CDN: they work offline) and an OpenAPI document whose Authorize button signs in, with request
bodies for the writes and schemas for the main resources."""
from __future__ import annotations

import json
import re
from pathlib import Path

import httpx

from tests.conftest import start_server

B = "/2017-09-01"
NO_BODY = {("POST", "/_callyard/reset"), ("POST", "/_callyard/deliveries/{deliveryId}/replay"),
           ("POST", f"{B}/conferences/{{conferenceId}}/participants/{{participantId}}/connections"),
           ("POST", "/_callyard/sim/chats/{conversationId}/end")}


def test_the_landing_page_lists_the_docs_the_control_plane_and_the_demo_tenant(client: httpx.Client) -> None:
    page = client.get("/")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    html = page.text
    for link in ('href="/docs"', 'href="/docs/cloudlink"', 'href="/openapi/cloudlink.json"', 'href="/docs/control"',
                 'href="/_callyard/health"'):
        assert link in html, link
    assert "admin@acme.example" in html and "erin@globex.example" in html and "callyard-demo-secret" in html
    assert "<script" not in html
    for href in set(re.findall(r'href="(/[^"]*)"', html)) - {"/_callyard/journal", "/_callyard/events",
                                                               "/_callyard/sim/calls", "/_callyard/audit",
                                                               "/_callyard/faults"}:
        assert client.get(href).status_code == 200, href   # every public link works (the rest need a token)


def test_a_tenant_of_your_own_is_not_listed(tmp_path: Path) -> None:
    fixture = Path(__file__).resolve().parents[2] / "src" / "callyard" / "fixtures" / "demo-tenant.json"
    mine = tmp_path / "mine.json"
    mine.write_text(fixture.read_text())
    with start_server(tenant_file=mine) as live, httpx.Client(base_url=live.url) as c:
        html = c.get("/").text
        assert "mine.json" in html and "admin@acme.example" not in html


def test_the_docs_load_their_assets_from_the_twin(client: httpx.Client) -> None:
    for page, spec in (("/docs", "/openapi.json"), ("/docs/cloudlink", "/openapi/cloudlink.json"),
                       ("/docs/control", "/openapi/control.json")):
        html = client.get(page).text
        sources = re.findall(r'(?:src|href)="([^"]+)"', html) + re.findall(r"url: '([^']+)'", html)
        assert spec in sources, (page, sources)
        assert not [s for s in sources if s.startswith(("http:", "https:", "//"))], sources   # nothing off-box
        for asset in (s for s in sources if s.startswith("/docs/assets/")):
            got = client.get(asset)
            assert got.status_code == 200 and len(got.content) > 1000, asset
    assert "redoc.standalone.js" in client.get("/redoc").text
    assert client.get("/docs/assets/../../pyproject.toml").status_code == 404
    assert client.get("/docs/nothing").json()["name"] == "FamilyNotFound"


def test_the_openapi_document_signs_in_and_describes_the_writes(client: httpx.Client) -> None:
    doc = client.get("/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer"
    token_url = schemes["password"]["flows"]["password"]["tokenUrl"]
    operations = {(m.upper(), p): op for p, item in doc["paths"].items() for m, op in item.items()
                  if m in ("get", "put", "post", "patch", "delete")}
    assert all(op.get("summary") for op in operations.values())           # a one-line description each
    writes = {k: op for k, op in operations.items() if k[0] in ("POST", "PUT", "PATCH")}
    assert sorted(k for k, op in writes.items() if "requestBody" not in op) == sorted(NO_BODY)
    token_body = operations[("POST", f"{B}/token")]["requestBody"]["content"]
    assert "grant_type" in token_body["application/x-www-form-urlencoded"]["schema"]["required"]
    assert operations[("POST", f"{B}/subscriptions")]["requestBody"]["content"]["application/json"]["schema"][
        "properties"]["transport"]["enum"] == ["webhook", "websocket"]
    users = operations[("GET", f"{B}/users")]["responses"]["200"]["content"]["application/json"]["schema"]
    assert users["properties"]["_embedded"]["properties"]["items"]["items"] == {"$ref": "#/components/schemas/User"}
    assert "email" in doc["components"]["schemas"]["User"]["properties"]
    assert operations[("GET", f"{B}/users")]["security"] and "security" not in operations[("POST", f"{B}/token")]

    # The Authorize button's password flow, as Swagger UI sends it: the form to tokenUrl, then the bearer.
    signed_in = client.post(token_url, data={"grant_type": "password", "username": "admin@acme.example",
                                             "password": "callyard"})
    assert signed_in.is_success and signed_in.json()["token_type"].lower() == "bearer"
    me = client.get(f"{B}/users", headers={"Authorization": f"Bearer {signed_in.json()['access_token']}"})
    assert me.status_code == 200

    control = client.get("/openapi/control.json").json()
    assert {p for p in control["paths"]} and all(p.startswith("/_callyard") for p in control["paths"])
    assert json.dumps(control).count("/2017-09-01/") <= 2     # the token URL of the security scheme only


def test_the_families_with_their_own_document_are_linked_to_it(client: httpx.Client) -> None:
    """UC and CX serve their own OpenAPI documents: the landing page, /docs/{family} and /openapi/{family}.json
    lead there, and each is a document of that family's paths."""
    html = client.get("/").text
    for name, document, path in (("uc", "/api/openapi.json", "/api/tickets/"),
                                 ("cx", "/miccsdk/api/v1/openapi.json", "/employees")):
        assert f'href="{document}"' in html and f'href="/docs/{name}"' in html
        assert document in client.get(f"/docs/{name}").text
        moved = client.get(f"/openapi/{name}.json", follow_redirects=False)
        assert moved.status_code == 307 and moved.headers["location"] == document
        paths = client.get(f"/openapi/{name}.json", follow_redirects=True).json()["paths"]
        assert any(path in p for p in paths), sorted(paths)[:5]
