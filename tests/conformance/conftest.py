"""Schemathesis runs against a live twin: its own OpenAPI (``/openapi.json``) and the vendor specs in specs/.

One server for the whole package (in-memory store, manual clock), separate from the suite's main server:
fuzzing creates, changes and deletes data, resets and imports state, and moves the clock. Every generated
request carries an ACCOUNT_ADMIN token of Acme; ``Caller`` renews it when the run has made it invalid (the
clock moved past its expiry, the admin was deleted) and puts the tenant back to its baseline every
``RESET_EVERY`` requests.

Profiles (``SCHEMATHESIS_PROFILE``): ``ci`` (default, inside ``make test``: a fixed random seed and 8 examples
per operation) and ``fuzz`` (``make fuzz``: 150 examples and the coverage phase, same seed unless
``SCHEMATHESIS_SEED`` says otherwise). Operations run in a fixed order; with the same seed a run repeats.
"""
from __future__ import annotations

import os
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Iterator

import pytest
import requests
import schemathesis
from schemathesis import Case

from tests.conformance.checks import error_name
from tests.conftest import ACME, ALICE, APP_ID, BOB, ERIN, GLOBEX, PARTNER, LiveServer, start_server

PASSWORD = "callyard"
BASE_PATH = "/2017-09-01"


@dataclass(frozen=True)
class Profile:
    max_examples: int
    coverage: bool


PROFILES = {"ci": Profile(max_examples=8, coverage=False), "fuzz": Profile(max_examples=150, coverage=True)}
PROFILE_NAME = os.environ.get("SCHEMATHESIS_PROFILE", "ci")
PROFILE = PROFILES[PROFILE_NAME]
SEED = int(os.environ.get("SCHEMATHESIS_SEED", "20170901"))
RESET_EVERY = 100


# Identifiers of the demo tenant offered for path parameters half of the time, so that item operations reach
# real resources (the rest are generated, mostly unknown ids: the 404 paths).
DICTIONARIES = {
    "accounts": [ACME, GLOBEX, PARTNER, "858000055"],
    "users": [ALICE, BOB, "ac3e0000-0000-4000-8000-000000002882", "ac3e0000-0000-4000-8000-000000000200", ERIN, "me"],
    "groups": ["ac3e0000-0000-4000-8000-00000000500a", "ac3e0000-0000-4000-8000-00000000510a"],
    "endpoints": ["2880", "2881", "2882", "200", "5000", "5100", "6000"],
    "applications": [APP_ID],
}
BINDINGS = {"accountId": "accounts", "userId": "users", "principalId": "users", "memberId": "users",
            "participantId": "users", "groupId": "groups", "endpointId": "endpoints", "applicationId": "applications"}


def config() -> schemathesis.Config:
    """The run's configuration: fixed seed, no example database (runs do not depend on earlier runs),
    positive and negative data, no shrinking in the long run, demo identifiers offered for path parameters."""
    return schemathesis.Config.from_dict({
        "dictionaries": {name: {"values": values} for name, values in DICTIONARIES.items()},
        "parameters": {f"path.{name}": {"dictionary": dictionary, "probability": 0.5}
                       for name, dictionary in BINDINGS.items()},
        "seed": SEED,
        "generation": {"max-examples": PROFILE.max_examples, "database": "none", "mode": "all",
                       "no-shrink": PROFILE_NAME == "fuzz"},
        "phases": {"examples": {"enabled": True}, "coverage": {"enabled": PROFILE.coverage},
                   "fuzzing": {"enabled": True}, "stateful": {"enabled": False}},
        "suppress-health-check": ["all"],
        "request-timeout": 30,
    })


class Caller:
    """Sends generated cases with a valid ACCOUNT_ADMIN token of Acme."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.session = requests.Session()
        self._token: str | None = None
        self.calls = 0
        # operation label -> status -> count, per run (twin, media, authentication): what the runs reached.
        self.seen: dict[str, Counter[int]] = defaultdict(Counter)

    def _login(self, username: str) -> str | None:
        response = self.session.post(f"{self.url}{BASE_PATH}/token", timeout=30,
                                     data={"grant_type": "password", "username": username, "password": PASSWORD})
        return response.json()["access_token"] if response.status_code == 201 else None

    def token(self, renew: bool = False) -> str:
        if self._token is None or renew:
            token = self._login("admin@acme.example")
            if token is None:
                # The run removed the admin (or its account): put the baseline back.
                self.reset()
                token = self._login("admin@acme.example")
            assert token is not None, "admin@acme.example cannot sign in after a reset"
            self._token = token
        return self._token

    def reset(self) -> None:
        """Back to the tenant baseline, by the partner's admin (whom the Acme token cannot demote or delete)."""
        helper = self._login("partner@callyard.example")
        assert helper is not None, "the partner's admin cannot sign in"
        reset = self.session.post(f"{self.url}/_callyard/reset", timeout=30,
                                  headers={"Authorization": f"Bearer {helper}"})
        assert reset.status_code == 200, reset.text
        self._token = None

    def call(self, case: Case, base_url: str | None = None) -> Any:
        """Send ``case``; when the token was refused, renew it and send once more. Every RESET_EVERY requests
        the tenant goes back to its baseline, so that what the run deleted or demoted (the admin itself) comes
        back."""
        self.calls += 1
        if self.calls % RESET_EVERY == 0:
            self.reset()
        response = None
        for attempt in range(2):
            headers = {"Authorization": f"Bearer {self.token(renew=attempt > 0)}"}
            response = case.call(base_url=base_url, session=self.session, headers=headers)
            self.seen[f"{case.operation.schema.title}: {case.operation.label}"][response.status_code] += 1
            if response.status_code != 401 or error_name(response) not in ("TokenExpired", "InvalidToken"):
                break
        return response


@pytest.fixture(scope="session")
def fuzz_server() -> Iterator[LiveServer]:
    with start_server(clock="manual") as live:
        yield live


CALLERS: list[Caller] = []


@pytest.fixture(scope="session")
def caller(fuzz_server: LiveServer) -> Iterator[Caller]:
    caller = Caller(fuzz_server.url)
    CALLERS.append(caller)
    yield caller
    caller.session.close()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Figures of the run: requests and operations per document, and the statuses seen."""
    for caller in CALLERS:
        documents: dict[str, list[Counter[int]]] = defaultdict(list)
        for label, statuses in caller.seen.items():
            documents[label.split(": ", 1)[0]].append(statuses)
        for title, operations in sorted(documents.items()):
            total: Counter[int] = sum(operations, Counter())
            terminalreporter.write_line(
                f"schemathesis ({PROFILE_NAME}, random seed {SEED}) {title}: {sum(total.values())} requests over "
                f"{len(operations)} operations; statuses {dict(sorted(total.items()))}")
