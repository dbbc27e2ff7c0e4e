"""The CX SDK family through a live server: tokens from its own authorization server, the REST API under
``/miccsdk/api/v1`` and the control plane's simulator for outside callers."""
from __future__ import annotations

from typing import Callable

import httpx
import pytest

from tests.conftest import auth, token
from tests.support.control import Control

API = "/miccsdk/api/v1"
ACME = "ac3e0000-0000-4000-8000-00000000ac3e"
SUPPORT = "ac3e0000-0000-4000-8000-00000000500a"
WEB_CHAT = "ac3e0000-0000-4000-8000-0000cc00c701"
ALICE = "ac3e0000-0000-4000-8000-0000cc00e001"
CAROL = "ac3e0000-0000-4000-8000-0000cc00e003"
ALICE_VOICE = "ac3e0000-0000-4000-8000-0000cc00a001"
SUPPORT_AGENTS = "ac3e0000-0000-4000-8000-0000cc00b500"
LUNCH = "ac3e0000-0000-4000-8000-0000cc00d001"
FOCUS = "ac3e0000-0000-4000-8000-0000cc00d004"
WALLBOARD = ("AcmeWallboard", "acme-wallboard-secret")
CALLER = "+16135550177"
LOGIN = {"state": "Available", "availableReason": "Login"}


def cx_token(client: httpx.Client, username: str, password: str = "callyard") -> str:
    response = client.post("/AuthorizationServer/Token", data={"grant_type": "password", "username": username,
                                                               "password": password})
    assert response.status_code == 200, response.text
    return str(response.json()["access_token"])


@pytest.fixture
def cx_as(client: httpx.Client) -> Callable[[str], dict[str, str]]:
    """``cx_as("alice")`` → headers with a fresh CX token of that employee."""
    return lambda username: auth(cx_token(client, username))


@pytest.fixture
def cx_alice(cx_as: Callable[[str], dict[str, str]]) -> dict[str, str]:
    return cx_as("alice")


@pytest.fixture
def cx_dave(cx_as: Callable[[str], dict[str, str]]) -> dict[str, str]:
    return cx_as("dave")


@pytest.fixture
def cx_carol(cx_as: Callable[[str], dict[str, str]]) -> dict[str, str]:
    return cx_as("carol")


@pytest.fixture
def supervisor(cx_as: Callable[[str], dict[str, str]]) -> dict[str, str]:
    return cx_as("admin@acme.example")


@pytest.fixture
def wallboard(client: httpx.Client) -> dict[str, str]:
    response = client.post("/AuthorizationServer/Token", data={"grant_type": "client_credentials",
                                                               "client_id": WALLBOARD[0],
                                                               "client_secret": WALLBOARD[1]})
    assert response.status_code == 200, response.text
    return auth(response.json()["access_token"])


@pytest.fixture
def control(client: httpx.Client) -> Control:
    return Control(client, lambda: auth(token(client, "admin@acme.example")))
