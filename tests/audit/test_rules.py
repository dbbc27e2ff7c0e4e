"""The auditor's rules on exchanges with chosen timings (the spacing rules need seconds a live test would
have to wait for): each rule fires on its violation and stays quiet on the compliant twin of it."""
from __future__ import annotations

import uuid

from callyard.api.cloudlink.edge.mitel_app import parse
from callyard.audit.service import Auditor, Exchange

HEADER = "router-server/1.0.0;platform=linux/6.1;session-id={}"


class Client:
    """One application's requests, at explicit times."""

    def __init__(self, auditor: Auditor, flavor: str = "server", header: str | None = "") -> None:
        self.auditor = auditor
        self.session = str(uuid.uuid4())
        raw = HEADER.format(self.session).replace("-server/", f"-{flavor}/") if header == "" else header
        self.header = parse(raw)
        self.token = "t1"

    def send(self, at: float, method: str, path: str, status: int, *, retry_after: str | None = None,
             body: bytes = b"", query: str = "", kind: str = "user", took: float = 0.01) -> None:
        self.auditor.observe(Exchange(
            started=at, ended=at + took, method=method, path=path, query=query, body=body, status=status,
            retry_after=retry_after, correlation_id=str(uuid.uuid4()), app_header=self.header,
            token_id=None if path.endswith("/token") and method == "POST" else self.token,
            principal_id="p1", principal_kind=kind, peer="127.0.0.1", user_agent="test"))

    def rules(self) -> list[str]:
        [app] = [a for a in self.auditor.report()["applications"]
                 if a["app"]["sessionId"] == (self.header.session_id if self.header else None)]
        return sorted({f["rule"] for f in app["findings"]})


T0 = 1_800_000_000.0
USERS = "/2017-09-01/users"


def test_retry_spacing_honours_two_seconds_and_retry_after() -> None:
    good, early, ignored = (Client(Auditor()) for _ in range(3))
    good.send(T0, "GET", USERS, 503, retry_after="3")
    good.send(T0 + 3.02, "GET", USERS, 200)
    assert good.rules() == []
    early.send(T0, "GET", USERS, 503)
    early.send(T0 + 1.5, "GET", USERS, 200)
    assert early.rules() == ["retry-too-soon"]
    ignored.send(T0, "GET", USERS, 429, retry_after="5")
    ignored.send(T0 + 2.5, "GET", USERS, 200)             # 2 s passed, but Retry-After asked for 5
    assert ignored.rules() == ["retry-too-soon"]


def test_retry_after_as_an_http_date() -> None:
    from email.utils import formatdate

    client = Client(Auditor())
    client.send(T0, "GET", USERS, 503, retry_after=formatdate(T0 + 10, usegmt=True))
    client.send(T0 + 4, "GET", USERS, 200)
    assert client.rules() == ["retry-too-soon"]


def test_five_retries_allowed_the_sixth_is_a_finding() -> None:
    five, six = Client(Auditor()), Client(Auditor())
    for client, attempts in ((five, 6), (six, 7)):
        for n in range(attempts):
            client.send(T0 + n * 2.5, "GET", USERS, 503)
    assert five.rules() == []
    assert six.rules() == ["too-many-retries"]


def test_non_retryable_statuses_must_not_be_repeated() -> None:
    for status in (400, 403, 404, 409, 500):
        client = Client(Auditor())
        client.send(T0, "PUT", f"{USERS}/x", status, body=b'{"name": "n"}')
        client.send(T0 + 3, "PUT", f"{USERS}/x", status, body=b'{"name": "n"}')
        assert client.rules() == ["retry-not-retryable"], status
    changed = Client(Auditor())           # a corrected request is not a retry
    changed.send(T0, "PUT", f"{USERS}/x", 400, body=b'{"name": ""}')
    changed.send(T0 + 0.1, "PUT", f"{USERS}/x", 200, body=b'{"name": "n"}')
    assert changed.rules() == []


def test_401_refresh_then_retry_is_the_recommended_flow() -> None:
    good, stubborn = Client(Auditor()), Client(Auditor())
    good.send(T0, "GET", USERS, 401)
    good.send(T0 + 0.1, "POST", "/2017-09-01/token", 201)
    good.token = "t2"
    good.send(T0 + 0.2, "GET", USERS, 200)
    assert good.rules() == []
    stubborn.send(T0, "GET", USERS, 401)
    stubborn.send(T0 + 3, "GET", "/2017-09-01/groups", 401)   # the same dead token, elsewhere
    assert stubborn.rules() == ["no-refresh-after-401"]


def test_refreshing_after_every_401_without_end_is_a_loop() -> None:
    bounded, looping = Client(Auditor()), Client(Auditor())
    for client, rounds in ((bounded, 3), (looping, 5)):
        for n in range(rounds):
            client.send(T0 + n * 3, "GET", USERS, 401)
            client.send(T0 + n * 3 + 0.1, "POST", "/2017-09-01/token", 201)
            client.token = f"t{n + 2}"
    assert bounded.rules() == []
    assert looping.rules() == ["refresh-loop"]


def test_webhooks_are_for_server_side_applications() -> None:
    body = b'{"transport": "webhook", "topic": "platform-api-media"}'
    server, desktop, no_flavor_client = Client(Auditor()), Client(Auditor(), "desktop"), Client(Auditor(), header=None)
    for client in (server, desktop):
        client.send(T0, "POST", "/2017-09-01/subscriptions", 201, body=body)
    no_flavor_client.send(T0, "POST", "/2017-09-01/subscriptions", 201, body=body, kind="client")
    assert server.rules() == []
    assert desktop.rules() == ["webhook-from-client"]
    assert no_flavor_client.rules() == ["app-header-missing"]     # a client_credentials token: server side
    websocket = Client(Auditor(), "desktop")
    websocket.send(T0, "POST", "/2017-09-01/subscriptions", 201, body=b'{"transport": "websocket"}')
    assert websocket.rules() == []


def test_polling_a_resource_that_has_a_topic() -> None:
    poller, pager, once = Client(Auditor()), Client(Auditor()), Client(Auditor())
    for n in range(5):
        poller.send(T0 + n * 5, "GET", "/2017-09-01/endpoints/2880/calls", 200)
        pager.send(T0 + n, "GET", USERS, 200, query=f"$skip={n * 10}&$top=10")   # paging: not the same GET
        once.send(T0 + n * 20, "GET", "/2017-09-01/presentities/p1", 200)        # 5 in 80 s: under the rate
    assert poller.rules() == ["polling"]
    assert pager.rules() == [] and once.rules() == []
    report = poller.auditor.report()["applications"][0]["findings"][0]
    assert "platform-api-media" in report["evidence"][-1]["note"]


def test_header_rules_and_report_shape() -> None:
    auditor = Auditor()
    missing = Client(auditor, header=None)
    malformed = Client(auditor, header="MyApp/1.0;platform=win/10")
    missing.send(T0, "GET", USERS, 200)
    malformed.send(T0, "GET", USERS, 200)
    report = auditor.report()
    assert report["count"] == 2 and report["findings"] == 2
    by_rule = {a["findings"][0]["rule"]: a for a in report["applications"]}
    assert set(by_rule) == {"app-header-missing", "app-header-malformed"}
    finding = by_rule["app-header-malformed"]["findings"][0]
    assert finding["seed"] == "001_9b2b6110a71a7f44.txt" and "lower case" in finding["quote"]
    assert finding["fix"] and finding["evidence"][0]["correlationId"] and finding["evidence"][0]["at"].endswith("Z")
    assert "lower case" in finding["evidence"][0]["note"]
    assert by_rule["app-header-missing"]["app"]["label"].startswith("no X-Mitel-App")
