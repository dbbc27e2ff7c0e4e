"""Fixtures of the SDK tests against a live twin: SDK clients on the session server (reset per test) that
record what they send, and the control-plane helpers (journal, faults, simulator)."""
from __future__ import annotations

from typing import Any, Callable, Iterator

import httpx
import pytest

from cloudlink_client import AsyncCloudLink, CloudLink, Password

from tests.conftest import PASSWORD
from tests.sdk.support import AsyncRecordingTransport, RecordingTransport


class Twin:
    """The control plane of a live server, through a plain httpx client (not the SDK)."""

    def __init__(self, http: httpx.Client, headers: Callable[[], dict[str, str]]) -> None:
        self.http = http
        self.headers = headers

    @property
    def url(self) -> str:
        return str(self.http.base_url).rstrip("/")

    def journal(self) -> list[dict[str, Any]]:
        response = self.http.get("/_callyard/journal", params={"limit": 2000}, headers=self.headers())
        assert response.status_code == 200, response.text
        return response.json()["_embedded"]["items"]

    def of(self, correlation_id: str) -> list[dict[str, Any]]:
        """Journal entries of one logical call, oldest first."""
        return [e for e in self.journal() if e["correlationId"] == correlation_id]

    def fault(self, **spec: Any) -> dict[str, Any]:
        response = self.http.post("/_callyard/faults", json=spec, headers=self.headers())
        assert response.status_code == 201, response.text
        return response.json()

    def ring(self, to: str, caller: str = "+16135550123") -> str:
        response = self.http.post("/_callyard/sim/calls", json={"from": caller, "to": to}, headers=self.headers())
        assert response.status_code == 201, response.text
        return response.json()["callId"]

    def phone(self, endpoint: str, action: str) -> dict[str, Any]:
        response = self.http.post(f"/_callyard/sim/endpoints/{endpoint}/{action}", headers=self.headers())
        assert response.status_code == 200, response.text
        return response.json()

    def advance(self, seconds: float) -> None:
        response = self.http.post("/_callyard/clock/advance", json={"seconds": seconds}, headers=self.headers())
        assert response.status_code == 200, response.text


def admin_headers(http: httpx.Client) -> dict[str, str]:
    response = http.post("/2017-09-01/token", data={"grant_type": "password", "username": "admin@acme.example",
                                                    "password": PASSWORD})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def twin(client: httpx.Client) -> Twin:
    """The session server, reset to the tenant baseline (the ``client`` fixture resets it, faults included)."""
    return Twin(client, lambda: admin_headers(client))


@pytest.fixture
def sdk(base_url: str) -> Iterator[Callable[..., CloudLink]]:
    """``sdk("alice@acme.example")`` → a CloudLink client of that user on the twin; ``.transport.sent``
    lists what it sent."""
    made: list[CloudLink] = []

    def make(username: str | None = "admin@acme.example", flavor: str = "sdktest", **kwargs: Any) -> CloudLink:
        transport = RecordingTransport()
        if username is not None:
            kwargs.setdefault("grant", Password(username, PASSWORD))
        client = CloudLink("callyard", flavor, "0.1.0", twin_url=base_url, transport=transport, **kwargs)
        client.transport = transport  # type: ignore[attr-defined]
        made.append(client)
        return client

    yield make
    for client in made:
        client.close()


@pytest.fixture
def async_sdk(base_url: str) -> Callable[..., AsyncCloudLink]:
    def make(username: str = "admin@acme.example", flavor: str = "sdktest", **kwargs: Any) -> AsyncCloudLink:
        transport = AsyncRecordingTransport()
        kwargs.setdefault("grant", Password(username, PASSWORD))
        client = AsyncCloudLink("callyard", flavor, "0.1.0", twin_url=base_url, transport=transport, **kwargs)
        client.transport = transport  # type: ignore[attr-defined]
        return client

    return make
