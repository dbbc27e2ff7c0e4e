"""UC family fixtures: API tickets created through the real ticket route, and a validator of responses against
the family's own OpenAPI document (``GET /api/openapi.json``)."""
from __future__ import annotations

from typing import Any, Callable, Iterable

import httpx
import jsonschema
import pytest

from tests.conftest import PASSWORD

ALL_APIS = ("CALL_CONTROL", "CALLS", "USER", "QUEUE_STATISTICS", "CONTACT_SEARCH", "SMS")


def create_ticket(client: httpx.Client, login: str, apis: Iterable[str] = ALL_APIS, *, password: str = PASSWORD,
                  **params: Any) -> dict[str, Any]:
    """A ticket for ``login`` (``alice@acme.example``) authenticated with its password (HTTP Basic)."""
    local, domain = login.split("@")
    response = client.post(f"/api/tickets/{domain}/{local}",
                           params={"api": list(apis), "platform": "other", **params}, auth=(login, password))
    assert response.status_code == 200, response.text
    return response.json()


def bearer(ticket: dict[str, Any] | str) -> dict[str, str]:
    token = ticket if isinstance(ticket, str) else ticket["token"]
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def ticket(client: httpx.Client) -> Callable[..., dict[str, str]]:
    """``ticket("alice@acme.example", apis=("CALL_CONTROL",))`` → Bearer headers of a fresh ticket."""
    return lambda login, apis=ALL_APIS, **params: bearer(create_ticket(client, login, apis, **params))


class OpenApi:
    """Validates a response against the family's document: the operation must declare the status, and a JSON
    body must match the declared schema (components resolved)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def operation(self, method: str, path: str) -> dict[str, Any]:
        for template, methods in self.document["paths"].items():
            if _matches(template, path) and method.lower() in methods:
                return methods[method.lower()]  # type: ignore[no-any-return]
        raise AssertionError(f"{method} {path} is not in /api/openapi.json")

    def check(self, response: httpx.Response) -> httpx.Response:
        request = response.request
        method = request.headers.get("x-http-method-override", request.method)
        operation = self.operation(method, request.url.path)
        responses = operation["responses"]
        status = str(response.status_code)
        declared = responses.get(status) or responses.get(f"{status[0]}XX")
        assert declared is not None, f"{method} {request.url.path}: {status} not declared ({sorted(responses)})"
        content = declared.get("content", {})
        if "application/json" in content and response.headers.get("content-type", "").startswith("application/json"):
            schema = {**content["application/json"].get("schema", {}),
                      "components": self.document.get("components", {})}
            jsonschema.validate(response.json(), schema)
        return response


def _matches(template: str, path: str) -> bool:
    left, right = template.strip("/").split("/"), path.strip("/").split("/")
    return len(left) == len(right) and all(t.startswith("{") or t == p for t, p in zip(left, right, strict=True))


@pytest.fixture(scope="session")
def openapi(base_url: str) -> OpenApi:
    document = httpx.get(f"{base_url}/api/openapi.json", timeout=10).json()
    return OpenApi(document)


# The CTI tests' drivers (test_cti.py, test_webhooks_and_streams.py).
@pytest.fixture(name="control")
def control_as_admin(client: httpx.Client) -> Any:
    """The control plane as Acme's administrator."""
    from tests.api.uc.helpers import control

    return control(client)


@pytest.fixture
def cti(client: httpx.Client, openapi: OpenApi, ticket: Callable[..., dict[str, str]]) -> Callable[[str], Any]:
    """``cti("alice")`` → a CTI driver with a fresh CALL_CONTROL ticket of that Acme user."""
    from tests.api.uc.cti_support import Cti

    return lambda user: Cti(client, openapi, ticket(f"{user}@acme.example", ("CALL_CONTROL",)), user)


@pytest.fixture
def devices(server: Any) -> Callable[..., str]:
    """``devices("2880")`` → the id of that extension's softphone (or of ``kind``)."""
    from tests.api.uc.cti_support import device_id

    return lambda number, kind="SOFTPHONE": device_id(server, number, kind)
