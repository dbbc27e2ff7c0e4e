"""Schemathesis over every operation of the CX SDK family's own OpenAPI (``/miccsdk/api/v1/openapi.json``),
bounded like the twin's run (the ``ci`` profile: fixed seed, 8 examples per operation).

For each operation: no answer >= 500 (except a documented 501), every answer's status, content type and body
as the document declares them, and every error in the family's envelope (``{message, errorCode}``; the token
endpoint answers OAuth ``{error, error_description}``). Requests carry a token of the Acme supervisor
(admin@acme.example) from the family's own authorization server; a refused token is renewed, and the tenant
goes back to its baseline every ``RESET_EVERY`` requests (DELETE /queues/{id} removes queues)."""
from __future__ import annotations

import json
from typing import Any, Iterator

import pytest
import requests
import schemathesis
from schemathesis import Case

from callyard.api.cx.openapi import document
from tests.conformance.checks import conformance_failures, server_error
from tests.conformance.conftest import PROFILE, SEED
from tests.conftest import LiveServer

DOCUMENT = json.loads(json.dumps(document()))
RESET_EVERY = 60
IDS = {
    "id": ["me", "alice", "Support", "ac3e0000-0000-4000-8000-0000cc00e001", "3001", "Lunch", "G500",
           "ac3e0000-0000-4000-8000-00000000500a", "2880", "Acme HQ", "Welcome", "CustomerId", "MCCWebChat"],
    "groupid": ["ac3e0000-0000-4000-8000-0000cc00b500", "Support Agents"],
    "qid": ["Support"],
    "appname": ["Ignite", "Wallboard"],
    "profilenameorid": ["Default", "Lobby"],
}


def config() -> schemathesis.Config:
    return schemathesis.Config.from_dict({
        "dictionaries": {name: {"values": values} for name, values in IDS.items()},
        "parameters": {f"path.{name}": {"dictionary": name, "probability": 0.5} for name in IDS},
        "seed": SEED,
        "generation": {"max-examples": PROFILE.max_examples, "database": "none", "mode": "all"},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": PROFILE.coverage},
                   "fuzzing": {"enabled": True}, "stateful": {"enabled": False}},
        "suppress-health-check": ["all"],
        "request-timeout": 30,
    })


schema = schemathesis.openapi.from_dict(DOCUMENT, config=config())


class CxCaller:
    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self._token: str | None = None
        self.calls = 0
        self.seen: set[str] = set()

    def token(self, renew: bool = False) -> str:
        if self._token is None or renew:
            response = self.session.post(f"{self.url}/AuthorizationServer/Token", timeout=30, data={
                "grant_type": "password", "username": "admin@acme.example", "password": "callyard"})
            assert response.status_code == 200, response.text
            self._token = response.json()["access_token"]
        return self._token

    def reset(self) -> None:
        login = self.session.post(f"{self.url}/2017-09-01/token", timeout=30, data={
            "grant_type": "password", "username": "partner@callyard.example", "password": "callyard"})
        reset = self.session.post(f"{self.url}/_callyard/reset", timeout=30,
                                  headers={"Authorization": f"Bearer {login.json()['access_token']}"})
        assert reset.status_code == 200, reset.text

    def call(self, case: Case, base_url: str) -> Any:
        self.calls += 1
        if self.calls % RESET_EVERY == 0:
            self.reset()
        response = None
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self.token(renew=attempt > 0)}"}
            response = case.call(base_url=base_url, session=self.session, headers=headers)
            self.seen.add(case.operation.label)
            if response.status_code != 401:
                break
        return response


@pytest.fixture(scope="module")
def cx_caller(fuzz_server: LiveServer) -> Iterator[CxCaller]:
    caller = CxCaller(fuzz_server.url)
    yield caller
    caller.session.close()


def test_document_is_the_served_one(fuzz_server: LiveServer) -> None:
    served = requests.get(f"{fuzz_server.url}/MiccSdk/api/v1/openapi.json", timeout=10)
    assert served.status_code == 200 and served.json() == DOCUMENT


def envelope_error(case: Case, response: Any) -> str | None:
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return f"{case.operation.label} answered {response.status_code} without JSON: {response.text[:200]}"
    if case.operation.path.lower().endswith("/token"):
        ok = isinstance(body, dict) and isinstance(body.get("error"), str)
    else:
        ok = isinstance(body, dict) and isinstance(body.get("message"), str) and isinstance(body.get("errorCode"), str)
    return None if ok else f"{case.operation.label} answered {response.status_code} outside the envelope: {body!r:.300}"


@schema.parametrize()
def test_cx_operation(case: Case, cx_caller: CxCaller, fuzz_server: LiveServer) -> None:
    response = cx_caller.call(case, fuzz_server.url)
    if not (response.status_code == 501 and "501" in case.operation.definition.raw.get("responses", {})):
        problem = server_error(case, response)
        assert problem is None, problem
    problem = envelope_error(case, response)
    assert problem is None, problem
    failures = conformance_failures(case, response)
    assert not failures, "\n".join(f"[{key}] {detail}" for key, detail in failures)


def test_the_run_covers_every_operation() -> None:
    documented = {f"{method.upper()} {path}" for path, methods in DOCUMENT["paths"].items() for method in methods}
    tested = {result.ok().label for result in schema.get_all_operations()}
    # 64 + 13 operations (OpenMedia 5, Chat 3, Sms 1, Cases 2, History 2), the /queues/states alias, token, account;
    # Email 5 (its reply-template operations aside)
    # 64 operations, the /queues/states alias, token, account; 57 of part 2 (GlobalReplyTemplate 6, the personal
    # reply templates of Chat, Email and Sms 22, WebHook 6, Diagnostics 12, MediaServer 3, MailServer 2,
    # ApplicationProfile 2, Prompt 2, Variables 2) and the twin's 7 (personal template writes, a prompt's audio)
    # (80 = 67 + the 13 of the multimedia part above)
    assert tested == documented and len(tested) == 80 + 5 + 57 + 7
