#!/usr/bin/env python3
"""Centralized call routing — the seed 000 tutorial's "Centralized Call Routing Application", on the
``cloudlink_client`` SDK.

It listens to a range of endpoints that take the inbound calls and, for every call that starts ringing on
one of them, looks up the caller's area code in a rules file and redirects the ringing call to the
extension the rule names (``PUT /endpoints/{endpointId}/calls/{callId}`` with
``{"action": "redirect", "destination": "2881"}``). Every decision is written to standard output as one JSON
line (UTC ISO time, callId, caller, area code, rule, destination, outcome, and the correlation id of a
failed request).

It follows the platform's best practices (seed 002): notifications arrive over a WebSocket (MQTT over
WebSocket, the platform's way; the SDK renews the connection and the subscription before they expire)
unless ``--webhook`` is given — a server-side application may use webhooks, as a last resort — and then
every delivery's Standard Webhooks signature is verified and redeliveries are recognised by their
webhook-id; the SDK sends the X-Mitel-App header, retries only what may be retried (at least 2 s apart, at
most 5 times), refreshes the token and logs every failed request with its correlation id.

    python examples/call_router/router.py --endpoints 2880-2889               # until Ctrl-C
    python examples/call_router/router.py --endpoints 2880,2882 --max-calls 5 --rules my-rules.yaml
    python examples/call_router/router.py --endpoints 2880-2889 --webhook --webhook-listen 0.0.0.0:8090 \\
        --webhook-url https://router.example.com/hook
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import queue
import re
import signal
import sys
import threading
import time
import uuid
from collections import OrderedDict
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from http.server import ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Protocol

import yaml

from cloudlink_client import (ClientCredentials, CloudLink, CloudLinkError, Conflict, Gone, NotFound, Password,
                              SeenIds, StreamClosed, StreamError, WebhookDelivery, iso_time, parse_time,
                              log_to_stderr, utc_now_iso, webhook_handler)

APP_NAME, FLAVOR, VERSION = "callrouter", "server", "1.0.0"
TOPIC = "platform-api-media"
BASE = "/2017-09-01"
# Only inbound calls that start ringing (the JSONPath is evaluated against {"publications": [publication]}).
RINGING = "$.publications[?(@.content.state == 'ringing' && @.content.direction == 'inbound')]"
# The demo tenant's application (README "The demo tenant"); its client_credentials tokens are ACCOUNT_ADMIN.
DEMO_CLIENT_ID = "c1a0d0e0-5a5a-4e5e-9d9d-00000000a001"
DEMO_CLIENT_SECRET = "callyard-demo-secret"
DEFAULT_SERVER = "http://127.0.0.1:8080"
DEFAULT_RULES = Path(__file__).with_name("rules.yaml")
MAX_ENDPOINTS = 1000
RENEW_BEFORE = timedelta(hours=1)      # renew the webhook subscription this long before it expires
SUBSCRIPTION_LIFETIME = timedelta(hours=24)
REOPEN_DELAY = 2.0                     # seed 002: at least 2 s between attempts …
MAX_REOPENS = 5                        # … and at most 5 in a row
_CALL_SUBJECT = re.compile(r"/endpoints/([^/]+)/calls/([^/?]+)$")
_NUMBER = re.compile(r"^\+?[0-9A-Za-z*#]+$")

log = logging.getLogger("callrouter")


# ============================================================================ endpoints and rules
def parse_endpoints(spec: str) -> list[str]:
    """``"2880-2889"``, ``"2880,2882,5000"`` or both (``"2880-2885,200"``) → the endpoint ids, in order."""
    found: list[str] = []
    for part in (p.strip() for p in spec.split(",")):
        if not part:
            continue
        low, dash, high = part.partition("-")
        if dash:
            low, high = low.strip(), high.strip()
            if not (low.isdigit() and high.isdigit()) or int(low) > int(high):
                raise ValueError(f"{part!r}: a range is <first>-<last> with digits only, first <= last")
            if int(high) - int(low) + 1 > MAX_ENDPOINTS:
                raise ValueError(f"{part!r}: at most {MAX_ENDPOINTS} endpoints")
            width = len(low)
            found.extend(str(n).zfill(width) for n in range(int(low), int(high) + 1))
        elif _NUMBER.match(part):
            found.append(part)
        else:
            raise ValueError(f"{part!r} is not an endpoint id")
    unique = list(dict.fromkeys(found))
    if not unique:
        raise ValueError("name at least one endpoint")
    if len(unique) > MAX_ENDPOINTS:
        raise ValueError(f"at most {MAX_ENDPOINTS} endpoints")
    return unique


def subject_filter(endpoints: list[str]) -> str:
    """One subscription for the whole range: the twin's subjectFilter is a regular expression search."""
    return f"^{re.escape(BASE)}/endpoints/(?:{'|'.join(re.escape(e) for e in endpoints)})/calls/"


def area_code(number: Any) -> str | None:
    """The North American area code of a caller: ``+16135550123``, ``16135550123`` and ``6135550123`` → 613.
    None for anything else (another country, an internal extension, a withheld number)."""
    if not isinstance(number, str):
        return None
    digits = re.sub(r"[\s\-().]", "", number)
    if digits.startswith("+"):
        rest = digits[1:]
        return rest[1:4] if rest.isdigit() and len(rest) == 11 and rest.startswith("1") else None
    if digits.isdigit() and len(digits) == 11 and digits.startswith("1"):
        return digits[1:4]
    if digits.isdigit() and len(digits) == 10:
        return digits[:3]
    return None


@dataclass(frozen=True)
class Rule:
    name: str
    area_codes: frozenset[str]
    destination: str | None     # None: leave the call ringing where it is


@dataclass(frozen=True)
class Rules:
    rules: tuple[Rule, ...]
    default: Rule

    def match(self, code: str | None) -> Rule:
        if code is not None:
            for rule in self.rules:
                if code in rule.area_codes:
                    return rule
        return self.default


class RulesError(ValueError):
    pass


def _destination(value: Any, where: str) -> str | None:
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not _NUMBER.match(value.strip()):
        raise RulesError(f"{where}.destination must be a number (an extension, group or outside number) or null")
    return value.strip()


def load_rules(path: Path) -> Rules:
    """Read a YAML (or JSON) rules file; RulesError names the first problem."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise RulesError(f"{path}: {exc.strerror or exc}") from None
    except yaml.YAMLError as exc:
        raise RulesError(f"{path}: not YAML or JSON: {exc}") from None
    if not isinstance(document, dict):
        raise RulesError(f"{path}: the file must be a mapping with `rules` and `default`")
    unknown = set(document) - {"rules", "default"}
    if unknown:
        raise RulesError(f"{path}: unknown keys {sorted(unknown)}")
    rules: list[Rule] = []
    claimed: dict[str, str] = {}
    for index, entry in enumerate(document.get("rules") or []):
        where = f"{path}: rules[{index}]"
        if not isinstance(entry, dict):
            raise RulesError(f"{where} must be a mapping")
        unknown = set(entry) - {"name", "areaCodes", "areaCode", "destination"}
        if unknown:
            raise RulesError(f"{where}: unknown keys {sorted(unknown)}")
        codes = entry.get("areaCodes", entry.get("areaCode"))
        codes = [codes] if isinstance(codes, (str, int)) else codes
        if not isinstance(codes, list) or not codes:
            raise RulesError(f"{where}.areaCodes must name at least one area code")
        cleaned = set()
        for code in codes:
            text = str(code).strip() if isinstance(code, (str, int)) and not isinstance(code, bool) else ""
            if not re.fullmatch(r"[2-9][0-9]{2}", text):
                raise RulesError(f"{where}.areaCodes: {code!r} is not a three-digit area code")
            if text in claimed:
                raise RulesError(f"{where}.areaCodes: {text} is already routed by rule {claimed[text]!r}")
            cleaned.add(text)
        name = str(entry.get("name") or f"rule-{index + 1}")
        for code in cleaned:
            claimed[code] = name
        rules.append(Rule(name, frozenset(cleaned), _destination(entry.get("destination"), where)))
    default = document.get("default") or {}
    if not isinstance(default, dict) or set(default) - {"name", "destination"}:
        raise RulesError(f"{path}: default is a mapping with name and destination")
    fallback = Rule(str(default.get("name") or "default"), frozenset(),
                    _destination(default.get("destination"), f"{path}: default"))
    return Rules(tuple(rules), fallback)


# ============================================================================ notification sources
class Source(Protocol):
    description: dict[str, Any]

    def next(self, timeout: float) -> dict[str, Any] | None: ...

    def maintain(self) -> None: ...

    def close(self) -> None: ...


class WebSocketSource:
    """Ringing publications over the SDK's MQTT-over-WebSocket stream. The stream reconnects by itself
    after a drop and renews its connection and subscription before they expire; when it gives up, a new
    stream replaces it (seed 002 spacing: at least 2 s apart, at most 5 attempts in a row). A publication
    delivered again (QoS 1, after a reconnect) is recognised by its publicationId."""

    def __init__(self, client: CloudLink, subject: str, application_id: str,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.client = client
        self.subject = subject
        self.application_id = application_id
        self.sleep = sleep
        self.seen = SeenIds()
        self.stream = self._open()
        self.description = self._describe()

    def _open(self) -> Any:
        return self.client.notifications.stream(TOPIC, subject_filter=self.subject, publication_filter=RINGING,
                                                application_id=self.application_id)

    def _describe(self) -> dict[str, Any]:
        return {"transport": "websocket", "subscriptionId": self.stream.subscription_id,
                "connectionId": self.stream.connection["connectionId"]}

    def next(self, timeout: float) -> dict[str, Any] | None:
        try:
            publication = self.stream.get(timeout=timeout)
        except TimeoutError:
            return None
        except (StreamError, StreamClosed) as exc:
            log.error("the notification stream ended: %s; opening a new one", exc)
            self._replace()
            return None
        publication_id = publication.get("publicationId")
        if isinstance(publication_id, str) and not self.seen.add(publication_id):
            return None   # delivered again
        return publication

    def maintain(self) -> None:
        return None   # the SDK's stream renews its connection and subscription itself

    def _replace(self) -> None:
        old = self.stream
        for attempt in range(1, MAX_REOPENS + 2):
            try:
                self.stream = self._open()
                break
            except CloudLinkError as exc:   # logged by the SDK with its correlation id
                if attempt > MAX_REOPENS:
                    raise
                log.warning("opening a notification stream failed (%s); attempt %d, retrying in %.0f s",
                            exc.name, attempt, REOPEN_DELAY)
                self.sleep(REOPEN_DELAY)
        old.close()  # after the new one is up: nothing is missed (a publication seen twice is dropped)
        self.description = self._describe()

    def close(self) -> None:
        self.stream.close()


class WebhookSource:
    """Ringing publications as webhooks (a server-side application's last resort, seed 002): the SDK's
    receiver (``webhook_handler``) verifies every delivery's signature with its subscription's secret —
    answering 503, so the platform sends it again, while the subscription and its secret do not exist yet —
    and acknowledges a redelivery of an already handled webhook-id without handing it over again."""

    def __init__(self, client: CloudLink, subject: str, application_id: str, listen: tuple[str, int],
                 public_url: str | None) -> None:
        self.client = client
        self.queue: queue.Queue[dict[str, Any]] = queue.Queue()
        self.secrets: dict[str, str] = {}     # subscriptionId → signingSecret, once subscribed

        def received(delivery: WebhookDelivery) -> None:
            self.queue.put(delivery.publication)

        self.server = ThreadingHTTPServer(listen, webhook_handler(self.secrets, received))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, name="webhook-receiver", daemon=True)
        self.thread.start()
        host = listen[0] if listen[0] not in ("", "0.0.0.0", "::") else "127.0.0.1"
        self.url = public_url or f"http://{host}:{self.server.server_address[1]}/callrouter/webhook"
        try:
            created = client.notifications.create_subscription(
                applicationId=application_id, deviceId=self.url, transport="webhook", topic=TOPIC,
                subjectFilter=subject, publicationFilter=RINGING,
                expiryDateTime=iso_time(datetime.now(timezone.utc) + SUBSCRIPTION_LIFETIME))
        except BaseException:
            self.server.shutdown()
            raise
        self.subscription = created
        self.secrets[created["subscriptionId"]] = created["signingSecret"]
        self.description = {"transport": "webhook", "subscriptionId": created["subscriptionId"], "url": self.url}

    def next(self, timeout: float) -> dict[str, Any] | None:
        try:
            return self.queue.get(timeout=timeout)
        except queue.Empty:
            return None

    def maintain(self) -> None:
        due = parse_time(self.subscription.get("expiryDateTime"))
        if due is not None and datetime.now(timezone.utc) >= due - RENEW_BEFORE:
            try:
                self.subscription = self.client.notifications.update_subscription(
                    self.subscription["subscriptionId"],
                    {"expiryDateTime": iso_time(datetime.now(timezone.utc) + SUBSCRIPTION_LIFETIME)})
            except CloudLinkError as exc:
                log.error("renewing the subscription failed: %s", exc)

    def close(self) -> None:
        try:
            self.client.notifications.delete_subscription(self.subscription["subscriptionId"])
        except CloudLinkError:
            pass  # logged by the SDK; the subscription expires on its own
        self.server.shutdown()
        self.server.server_close()


# ============================================================================ the router
class Router:
    """Decides every ringing call once and acts on it; ``emit`` receives one dict per decision."""

    def __init__(self, client: CloudLink, endpoints: list[str], rules: Rules,
                 emit: Callable[[dict[str, Any]], None]) -> None:
        self.client = client
        self.endpoints = set(endpoints)
        self.rules = rules
        self.emit = emit
        self.calls: OrderedDict[str, None] = OrderedDict()   # calls (callTrackingID) decided
        self.outcomes: dict[str, int] = {}

    def handle(self, publication: dict[str, Any]) -> dict[str, Any] | None:
        """Decide one publication; the decision, or None when it is not a ringing inbound call of ours.
        (The sources drop redeliveries: by webhook-id, or by publicationId on the WebSocket.)"""
        content = publication.get("content")
        subject = publication.get("subject")
        if not isinstance(content, dict) or not isinstance(subject, str):
            return None
        found = _CALL_SUBJECT.search(subject)
        if found is None:
            return None
        endpoint, call_id = found.groups()
        if content.get("state") != "ringing" or content.get("direction") != "inbound" \
                or endpoint not in self.endpoints:
            return None
        pbx = content.get("extraPbxData")
        tracking = pbx.get("callTrackingID") if isinstance(pbx, dict) else None
        caller = content.get("from")
        code = area_code(caller)
        rule = self.rules.match(code)
        decision: dict[str, Any] = {
            "time": utc_now_iso(), "event": "decision", "callId": call_id, "callTrackingId": tracking,
            "endpointId": endpoint, "from": caller, "areaCode": code, "rule": rule.name,
            "destination": rule.destination}
        call_key = tracking or f"{endpoint}/{call_id}"
        again = call_key in self.calls
        if rule.destination is None:
            decision.update(outcome="left", reason="the rule leaves the call where it rings")
        elif rule.destination == endpoint:
            decision.update(outcome="left", reason=f"already ringing on {endpoint}")
        else:
            decision.update(self._redirect(endpoint, call_id, rule.destination))
        self.calls[call_key] = None
        while len(self.calls) > 10000:
            self.calls.popitem(last=False)
        if again:
            decision["repeat"] = True   # the same call, seen again on the endpoint it was sent to
        counted = "seenAgain" if again else decision["outcome"]
        self.outcomes[counted] = self.outcomes.get(counted, 0) + 1
        self.emit(decision)
        return decision

    def _redirect(self, endpoint: str, call_id: str, destination: str) -> dict[str, Any]:
        try:
            self.client.media.redirect(endpoint, call_id, destination)
        except (NotFound, Conflict, Gone) as exc:
            # The caller hung up, someone answered, or another router was faster: nothing to do.
            return {"outcome": "gone", "reason": f"{exc.status} {exc.name}: {exc.message}",
                    "correlationId": exc.correlation_id, "requestId": exc.request_id}
        except CloudLinkError as exc:
            return {"outcome": "failed", "status": exc.status, "error": exc.name, "reason": exc.message,
                    "correlationId": exc.correlation_id, "requestId": exc.request_id,
                    "retriesExhausted": exc.retries_exhausted}
        return {"outcome": "redirected"}


# ============================================================================ the command
def _listen(value: str) -> tuple[str, int]:
    host, _, port = value.rpartition(":")
    if not port.isdigit() or not 0 <= int(port) <= 65535:
        raise argparse.ArgumentTypeError("HOST:PORT, e.g. 127.0.0.1:8090 (port 0: any free port)")
    return host or "127.0.0.1", int(port)


def _positive(kind: type) -> Callable[[str], Any]:
    def parse(value: str) -> Any:
        try:
            number = kind(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{value!r} is not a number") from None
        if number <= 0:
            raise argparse.ArgumentTypeError("must be greater than 0")
        return number
    return parse


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="router.py", description="Centralized call routing (seed 000): redirect ringing inbound calls "
        "by the caller's area code. One JSON line per decision on standard output.")
    p.add_argument("--endpoints", default="2880-2889",
                   help="the endpoints to watch: a range 2880-2889, a list 2880,2882,5000, or both "
                   "(default %(default)s)")
    p.add_argument("--rules", type=Path, default=DEFAULT_RULES,
                   help="YAML or JSON routing rules (default: rules.yaml next to this file)")
    p.add_argument("--twin-url", default=os.environ.get("CALLYARD_SERVER", DEFAULT_SERVER),
                   help="the callyard twin (default $CALLYARD_SERVER or %(default)s)")
    p.add_argument("--client-id", default=os.environ.get("CLOUDLINK_CLIENT_ID", DEMO_CLIENT_ID),
                   help="the application's client_id (client_credentials grant; default: the demo application)")
    p.add_argument("--client-secret", default=os.environ.get("CLOUDLINK_CLIENT_SECRET", DEMO_CLIENT_SECRET))
    p.add_argument("--account-id", help="the account to act in, when the client is enabled on several")
    p.add_argument("--user", help="sign in as this ACCOUNT_ADMIN user (password grant) instead of the client")
    p.add_argument("--password", default=os.environ.get("CLOUDLINK_PASSWORD"))
    p.add_argument("--webhook", action="store_true",
                   help="receive notifications as webhooks on a local receiver instead of the WebSocket")
    p.add_argument("--webhook-listen", type=_listen, default=("127.0.0.1", 0), metavar="HOST:PORT",
                   help="where the webhook receiver listens (default 127.0.0.1:0, any free port)")
    p.add_argument("--webhook-url", help="the URL the platform posts to (default: http://HOST:PORT/callrouter/webhook)")
    p.add_argument("--max-calls", type=_positive(int), metavar="N", help="exit after deciding N calls")
    p.add_argument("--duration", type=_positive(float), metavar="S", help="exit after S seconds")
    p.add_argument("--verbose", action="store_true", help="log the SDK's debug messages")
    return p


def printer(stream: Any = None) -> Callable[[dict[str, Any]], None]:
    lock = threading.Lock()

    def emit(record: dict[str, Any]) -> None:
        line = json.dumps(record, separators=(",", ":"))
        with lock:
            print(line, file=stream or sys.stdout, flush=True)
    return emit


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    emit = printer()
    try:
        endpoints = parse_endpoints(args.endpoints)
    except ValueError as exc:
        print(f"router.py: --endpoints: {exc}", file=sys.stderr)
        return 2
    try:
        rules = load_rules(args.rules)
    except RulesError as exc:
        print(f"router.py: --rules: {exc}", file=sys.stderr)
        return 2
    log_to_stderr(args.verbose)
    if args.user:
        grant: Any = Password(args.user, args.password or "", account_id=args.account_id)
    else:
        grant = ClientCredentials(args.client_id, args.client_secret, account_id=args.account_id)
    try:
        application_id = str(uuid.UUID(args.client_id))
    except ValueError:
        application_id = str(uuid.uuid5(uuid.NAMESPACE_URL, f"cloudlink:{APP_NAME}:{args.client_id}"))

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with CloudLink(APP_NAME, FLAVOR, VERSION, grant=grant, twin_url=args.twin_url) as client:
        subject = subject_filter(endpoints)
        try:
            source: Source = (WebhookSource(client, subject, application_id, args.webhook_listen, args.webhook_url)
                              if args.webhook else WebSocketSource(client, subject, application_id))
        except CloudLinkError as exc:   # the SDK has logged it with its correlation id
            emit({"time": utc_now_iso(), "event": "error", "stage": "subscribe", "status": exc.status,
                  "error": exc.name, "reason": exc.message, "correlationId": exc.correlation_id})
            return 1
        except OSError as exc:
            print(f"router.py: the webhook receiver cannot listen on {args.webhook_listen}: {exc}", file=sys.stderr)
            return 1
        router = Router(client, endpoints, rules, emit)
        emit({"time": utc_now_iso(), "event": "ready", "app": client.app_header, "sessionId": client.session_id,
              "endpoints": args.endpoints, "endpointCount": len(endpoints), "rules": str(args.rules),
              **source.description})
        deadline = time.monotonic() + args.duration if args.duration else None
        reason = "interrupted"
        try:
            while True:
                if stop.is_set():
                    reason = "terminated"
                    break
                if args.max_calls and len(router.calls) >= args.max_calls:
                    reason = f"decided {len(router.calls)} calls"
                    break
                if deadline is not None and time.monotonic() >= deadline:
                    reason = f"ran {args.duration:g} s"
                    break
                source.maintain()
                publication = source.next(timeout=0.5)
                if publication is not None:
                    router.handle(publication)
        except KeyboardInterrupt:
            reason = "interrupted"
        except CloudLinkError as exc:
            emit({"time": utc_now_iso(), "event": "error", "stage": "notifications", "status": exc.status,
                  "error": exc.name, "reason": exc.message, "correlationId": exc.correlation_id})
            reason = "notifications lost"
        finally:
            source.close()
        emit({"time": utc_now_iso(), "event": "stopped", "reason": reason, "calls": len(router.calls),
              "outcomes": router.outcomes, "sessionId": client.session_id})
        return 1 if reason == "notifications lost" else 0


if __name__ == "__main__":
    sys.exit(main())
