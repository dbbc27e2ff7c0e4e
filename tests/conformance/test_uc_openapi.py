"""Schemathesis over every operation of the UC family's own OpenAPI (``GET /api/openapi.json``), bounded like
the twin's CloudLink run: no answer >= 500, every answer's status, content type and body as the document
declares them, and every refusal a ValidationResult. Requests carry an API ticket of Acme's administrator
(every API group; a superuser ticket acts for the organisation's users); nine in ten domain and user path values are the
demo tenant's (domain acme.example, users alice and bob). Streams are left out (they answer until the call
ends); their behaviour is tested in tests/api/uc/test_webhooks_and_streams.py."""
from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from typing import Any, Iterator

import pytest
import requests
import schemathesis
from schemathesis import Case

from callyard.api.uc.edge.openapi import build_document
from callyard.api.uc.family import ROUTERS
from tests.conformance.checks import conformance_failures, server_error
from tests.conformance.conftest import CALLERS, PROFILE, SEED

APIS = ["CALL_CONTROL", "CALLS", "USER", "QUEUE_STATISTICS", "CONTACT_SEARCH", "SMS"]
UC_DOCUMENT: dict[str, Any] = build_document(ROUTERS)


def _config() -> schemathesis.Config:
    dictionaries = {"domains": ["acme.example"], "users": ["alice", "bob", "alice@acme.example"],
                    "cids": ["bob@acme.example", "alice@acme.example", "2881@acme.example", "5100@acme.example"]}
    return schemathesis.Config.from_dict({
        "dictionaries": {name: {"values": values} for name, values in dictionaries.items()},
        "parameters": {"path.domain": {"dictionary": "domains", "probability": 0.9},
                       "path.user": {"dictionary": "users", "probability": 0.9},
                       "path.userId": {"dictionary": "users", "probability": 0.9},
                       "path.cid": {"dictionary": "cids", "probability": 0.9}},
        "seed": SEED,
        "generation": {"max-examples": PROFILE.max_examples, "database": "none", "mode": "all"},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": PROFILE.coverage},
                   "fuzzing": {"enabled": True}, "stateful": {"enabled": False}},
        "suppress-health-check": ["all"],
        "request-timeout": 30,
    })


# SSE streams end in /stream; the Event API's JSON /api/event/stream/… (a Moxtra stream's events) is tested.
STREAMS = r"^(?!/api/event/stream/).*/stream(/.*)?$"
schema = schemathesis.openapi.from_dict(UC_DOCUMENT, config=_config()).exclude(path_regex=STREAMS)


class TicketCaller:
    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self._token: str | None = None
        # operation label -> status -> count (printed with the other runs' figures at the end of the session)
        self.seen: dict[str, Counter[int]] = defaultdict(Counter)

    def token(self, renew: bool = False) -> str:
        if self._token is None or renew:
            response = self.session.post(f"{self.url}/api/tickets/acme.example/admin", timeout=30,
                                         params={"api": APIS, "platform": "other", "name": "conformance-run"},
                                         auth=("admin@acme.example", "callyard"))
            assert response.status_code == 200, response.text
            self._token = response.json()["token"]
        return self._token

    def call(self, case: Case) -> Any:
        response = None
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self.token(renew=attempt > 0)}"}
            response = case.call(base_url=self.url, session=self.session, headers=headers)
            self.seen[f"{case.operation.schema.title}: {case.operation.label}"][response.status_code] += 1
            if response.status_code != 401:
                break
        return response


@pytest.fixture(scope="module")
def ticket_caller(fuzz_server) -> Iterator[TicketCaller]:
    caller = TicketCaller(fuzz_server.url)
    CALLERS.append(caller)   # type: ignore[arg-type]  # same ``seen`` shape: the session summary prints it
    yield caller
    caller.session.close()


def test_document_is_the_served_one(fuzz_server) -> None:
    served = requests.get(f"{fuzz_server.url}/api/openapi.json", timeout=10)
    assert served.status_code == 200 and served.json() == json.loads(json.dumps(UC_DOCUMENT))


def _validation_result(case: Case, response: Any) -> str | None:
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return f"{case.operation.label} answered {response.status_code} without JSON: {response.text[:200]}"
    if not (isinstance(body, dict) and set(body) == {"field", "warning", "generated-id"} and body["field"]
            and all(set(f) == {"fieldName", "code", "description", "name"} for f in body["field"])):
        return f"{case.operation.label} answered {response.status_code} outside ValidationResult: {body!r:.300}"
    return None


@schema.parametrize()
def test_uc_operation(case: Case, ticket_caller: TicketCaller) -> None:
    response = ticket_caller.call(case)
    problem = server_error(case, response)
    assert problem is None, problem
    problem = _validation_result(case, response)
    assert problem is None, problem
    failures = conformance_failures(case, response)
    assert not failures, "\n".join(f"[{key}] {detail}" for key, detail in failures)


def test_the_run_covers_every_operation() -> None:
    documented = {f"{method.upper()} {path}" for path, methods in UC_DOCUMENT["paths"].items()
                  for method in methods if not re.search(STREAMS, path)}
    tested = {result.ok().label for result in schema.get_all_operations()}
    # 35 + 54 operations less the 4 streams; part 2a: 43 operations less its stream, and 9 documented POST twins;
    # SMS 1, Personal Contacts 16, Event 12; Buddy List, Contacts, Contacts Information (legacy and V1): 45
    # operations and 4 PUT/POST twins, less the 2 streams
    assert tested == documented and len(tested) == 85 + 42 + 9 + 29 + 47
