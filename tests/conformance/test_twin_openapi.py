"""Schemathesis over every operation of the twin's own OpenAPI (``GET /openapi.json``).

For each operation: no answer >= 500 (the routes the twin does not build answer their documented 501),
every answer's status, content type and body as the document declares them, and every error in the
CloudLink ``{name, message}`` envelope. Requests carry an ACCOUNT_ADMIN token of Acme (``Caller``);
unauthenticated fuzzing is the security suite's business.

``/_callyard/faults`` is fuzzed too: a fault it creates would fail later requests on purpose, so every faults
case is followed by clearing them, in process (a generated fault may hit ``POST /token`` itself).
``POST /_callyard/reset`` and ``POST /_callyard/state`` are fuzzed: they wipe the state the run builds, which
the run tolerates (``Caller`` signs in again).

FastAPI's document declares no links, so there is no stateful (link-following) phase over it. Item operations
still reach real resources: half of the path identifiers are the demo tenant's (conftest ``DICTIONARIES``) and
schemathesis reuses identifiers seen in earlier responses.
"""
from __future__ import annotations

import json

import pytest
import requests
import schemathesis

from callyard.app import build_app
from callyard.config import Settings

from tests.conformance.checks import conformance_failures, declared_501, envelope_error, server_error
from tests.conformance.conftest import Caller, config


def clear_faults(server) -> None:
    """In process, not over HTTP: a generated fault may hit every CloudLink route, POST /token included, so no
    token could be had to remove it. The server is idle between two cases."""
    server.app.state.faults.clear()


# The document the live server serves, built by the same factory at collection time (schemathesis makes one
# test per operation when it collects; ``test_document_is_the_served_one`` checks it is the served one).
DOCUMENT = build_app(Settings(ephemeral=True)).openapi()
schema = schemathesis.openapi.from_dict(DOCUMENT, config=config())


def test_document_is_the_served_one(fuzz_server) -> None:
    served = requests.get(f"{fuzz_server.url}/openapi.json", timeout=10)
    assert served.status_code == 200
    assert served.json() == json.loads(json.dumps(DOCUMENT))


@schema.parametrize()
def test_twin_operation(case, caller: Caller, fuzz_server) -> None:
    try:
        response = caller.call(case, base_url=fuzz_server.url)
    finally:
        if case.operation.path.startswith("/_callyard/faults"):
            clear_faults(fuzz_server)
    if not (response.status_code == 501 and declared_501(case)):
        problem = server_error(case, response)
        assert problem is None, problem
    problem = envelope_error(case, response)
    assert problem is None, problem
    failures = conformance_failures(case, response)
    assert not failures, "\n".join(f"[{key}] {detail}" for key, detail in failures)


def test_every_operation_was_exercised(request, caller: Caller) -> None:
    """Each operation selected in this session got at least one generated request (none was skipped)."""
    selected = {item.name[len("test_twin_operation["):-1] for item in request.session.items
                if item.name.startswith("test_twin_operation[")}
    if not selected:
        pytest.skip("no operation of the twin's document was selected")
    title = DOCUMENT["info"]["title"]
    reached = {label.split(": ", 1)[1] for label in caller.seen if label.startswith(f"{title}: ")}
    assert selected <= reached, f"never requested: {sorted(selected - reached)}"


def test_the_run_covers_every_operation() -> None:
    documented = {f"{method.upper()} {path}" for path, methods in DOCUMENT["paths"].items() for method in methods}
    tested = {result.ok().label for result in schema.get_all_operations()}
    assert tested == documented and len(tested) > 150
