"""A small driver of the CTI routes for the tests: ``Cti(client, openapi, headers, "alice")``; every call is
checked against the family's OpenAPI document."""
from __future__ import annotations

from typing import Any

import httpx

from tests.api.uc.conftest import OpenApi
from tests.conftest import LiveServer

DOMAIN = "acme.example"


def device_id(server: LiveServer, number: str, kind: str) -> str:
    """The UC device id of a terminal of extension ``number`` (until the User Device Information routes list
    them, read through the family's one mapping on the live server)."""
    from callyard.api.uc.cti.devices import user_devices

    twin = server.app.state.twin
    endpoint = twin.core.engine.endpoint("ac3e0000-0000-4000-8000-00000000ac3e", number)
    return next(d.device_id for d in user_devices(endpoint) if d.type == kind)


class Cti:
    def __init__(self, client: httpx.Client, openapi: OpenApi, headers: dict[str, str], user: str) -> None:
        self.c = client
        self.openapi = openapi
        self.headers = headers
        self.base = f"/api/cti/{DOMAIN}/{user}"

    def request(self, method: str, path: str, status: int = 200, **kwargs: Any) -> httpx.Response:
        response = self.c.request(method, self.base + path, headers=self.headers, **kwargs)
        self.openapi.check(response)
        assert response.status_code == status, f"{method} {path}: {response.status_code} {response.text}"
        return response

    def post(self, path: str, body: dict[str, Any] | None = None, status: int = 200) -> dict[str, Any]:
        response = self.request("POST", path, status, json=body) if body is not None else \
            self.request("POST", path, status)
        return response.json() if response.content else {}

    def state(self) -> dict[str, Any]:
        return self.request("GET", "/calls").json()

    def call(self, call_id: str) -> dict[str, Any]:
        return self.request("GET", f"/calls/{call_id}").json()

    def make(self, device: str, destination: str, **body: Any) -> dict[str, Any]:
        return self.post(f"/devices/{device}/calls", {"destination": destination, **body})

    def only_call(self) -> dict[str, Any]:
        calls = self.state()["calls"]
        assert len(calls) == 1, calls
        return calls[0]

    def refused(self, method: str, path: str, status: int, code: str, **kwargs: Any) -> dict[str, Any]:
        response = self.request(method, path, status, **kwargs)
        body = response.json()
        assert body["field"][0]["code"] == code, body
        return body
