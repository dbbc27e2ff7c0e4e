"""Shared checks of the UC part-1b tests: the ValidationResult refusal and the demo's control plane."""
from __future__ import annotations

import httpx

from tests.conftest import auth, token
from tests.support.control import Control


def refused(response: httpx.Response, status: int, code: str) -> dict:
    """``response`` is a ValidationResult refusal with ``status`` and ``code``."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"field", "warning", "generated-id"} and body["field"][0]["code"] == code, body
    return body


def control(client: httpx.Client) -> Control:
    """The control plane as Acme's administrator."""
    return Control(client, lambda: auth(token(client, "admin@acme.example")))
