"""Fixtures of the SDK tests against a live twin: SDK clients on the session server (reset per test) that
record what they send, and the twin's control plane (``tests.support.control.Control``)."""
from __future__ import annotations

from typing import Any, Callable, Iterator

import httpx
import pytest

from cloudlink_client import AsyncCloudLink, CloudLink, Password

from tests.conftest import PASSWORD
from tests.sdk.support import AsyncRecordingTransport, RecordingTransport
from tests.support.control import Control


def admin_headers(http: httpx.Client) -> dict[str, str]:
    response = http.post("/2017-09-01/token", data={"grant_type": "password", "username": "admin@acme.example",
                                                    "password": PASSWORD})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@pytest.fixture
def twin(client: httpx.Client) -> Control:
    """The control plane of the session server as Acme's admin (a token fetched per request), through a plain
    httpx client (not the SDK); the ``client`` fixture has reset the twin to its baseline, faults included."""
    return Control(client, lambda: admin_headers(client))


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
