"""The auditor: watches every CloudLink request (not the control plane) and keeps, per client application,
the findings of the rules in ``rules.py``.

An application is its ``X-Mitel-App`` session (seed 001: one GUID per running instance); requests without a
usable session are grouped by user agent and address, which is how an operator would have to find them.
All times here are the wall clock: retry spacing is something the client does in real seconds, whatever the
twin's virtual clock says.
"""
from __future__ import annotations

import hashlib
import json
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email.utils import parsedate_to_datetime
from typing import Any

from callyard.api.cloudlink.edge.mitel_app import MitelApp
from callyard.core.errors import NotFound
from callyard.audit.rules import (MAX_RETRIES, MIN_RETRY_GAP, POLL_COUNT, POLL_WINDOW, REFRESH_LOOP,
                                  REFRESH_LOOP_WINDOW, RETRY_WINDOW, RETRYABLE, RULES, SERVER_FLAVORS, topic_for)

ACCOUNT_KEY = "_account"   # the account an evidence item is attributed to: decides who sees it, never shown
MAX_APPS = 1000
MAX_EVIDENCE = 8
MAX_SIGNATURES = 500
TOLERANCE = 0.05   # seconds of timer slack forgiven in a retry gap


@dataclass
class Exchange:
    """One request and its answer, as the middleware saw them."""
    started: float                 # wall clock, epoch seconds, when the request arrived
    ended: float                   # when the response was complete
    method: str
    path: str                      # as the client sent it (with its service prefix; under Host routing, the
    query: str                     # path on that host)
    body: bytes
    status: int
    retry_after: str | None
    correlation_id: str
    app_header: MitelApp | None
    token_id: str | None
    principal_id: str | None = None
    account_id: str | None = None
    principal_kind: str | None = None
    client_id: str | None = None
    peer: str = ""
    user_agent: str = ""
    host: str = ""                 # the service host it came to (Host-header routing), else ""
    resource: str = ""             # the path as the root mount serves it (no prefix): what topic it reads

    @property
    def signature(self) -> tuple[str, str, str, str, str]:
        """"The same request": method, host, path as sent, query and body. Two service prefixes (or hosts) are
        two different requests even where the rest of the path is the same."""
        return self.method, self.host, self.path, self.query, hashlib.sha1(self.body).hexdigest()

    def evidence(self, note: str = "") -> "Evidence":
        """This request as an item of evidence, formatted only when a report is read."""
        return Evidence(self, note)

    def evidence_wire(self, note: str = "") -> dict[str, Any]:
        out = {"at": _iso(self.started), "method": self.method, "path": self.path + (f"?{self.query}" if self.query
                                                                                    else ""),
               "status": self.status, "correlationId": self.correlation_id, ACCOUNT_KEY: self.account_id}
        if self.host:
            out["host"] = self.host
        if self.retry_after is not None:
            out["retryAfter"] = self.retry_after
        if note:
            out["note"] = note
        return out


@dataclass(frozen=True, eq=False)
class Evidence:
    """An item of evidence: a request (with a note), or a note alone. Kept as is and formatted when a report
    is read, so observing costs no formatting; the same request with the same note is one item."""
    exchange: Exchange | None
    note: str = ""

    def wire(self) -> dict[str, Any]:
        return self.exchange.evidence_wire(self.note) if self.exchange is not None else {"note": self.note}


@dataclass
class Finding:
    rule: str
    target: str
    count: int = 0
    first_at: float = 0.0
    last_at: float = 0.0
    evidence: list[Evidence] = field(default_factory=list)

    def add(self, at: float, evidence: list[Evidence]) -> None:
        if not self.count:
            self.first_at = at
        self.count += 1
        self.last_at = at
        kept = self.evidence
        for item in evidence:
            exchange, note = item.exchange, item.note
            for known in kept:
                if known.exchange is exchange and known.note == note:
                    break
            else:
                kept.append(item)
        if len(kept) > MAX_EVIDENCE:       # keep the first few and the latest
            del kept[MAX_EVIDENCE // 2:len(kept) - MAX_EVIDENCE // 2]

    def wire(self, accounts: set[str] | None = None) -> dict[str, Any] | None:
        """The finding as ``accounts`` may see it (None: everything): only a finding whose every request of
        evidence is attributed to them (its target names what those requests did); else None."""
        requests = [item.exchange for item in self.evidence if item.exchange is not None]
        if accounts is not None and (not requests or any(ex.account_id not in accounts for ex in requests)):
            return None
        evidence = [{k: v for k, v in item.wire().items() if k != ACCOUNT_KEY} for item in self.evidence]
        return {**RULES[self.rule].wire(), "target": self.target, "occurrences": self.count,
                "firstAt": _iso(self.first_at), "lastAt": _iso(self.last_at), "evidence": evidence}


@dataclass
class App:
    key: str
    header: MitelApp | None
    label: str
    first_seen: float
    last_seen: float = 0.0
    requests: int = 0
    principals: set[str] = field(default_factory=set)
    principal_accounts: dict[str, str] = field(default_factory=dict)
    accounts: set[str] = field(default_factory=set)
    principal_kinds: set[str] = field(default_factory=set)
    client_ids: set[str] = field(default_factory=set)
    last_by_signature: OrderedDict[tuple[str, str, str, str, str], tuple[Exchange, int]] = field(
        default_factory=OrderedDict)
    gets: dict[str, deque[Exchange]] = field(default_factory=dict)
    refused_tokens: dict[str, Exchange] = field(default_factory=dict)
    last_refusal: Exchange | None = None
    refreshes: deque[Exchange] = field(default_factory=deque)
    findings: dict[tuple[str, str], Finding] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        """server, client or unknown: what the application says it is (its flavor) or how it signs in."""
        flavor = self.header.flavor if self.header and self.header.valid else None
        if (flavor and flavor in SERVER_FLAVORS) or "client" in self.principal_kinds:
            return "server"
        if flavor or self.principal_kinds & {"user", "guest", "anonymous"}:
            return "client"
        return "unknown"

    def find(self, rule: str, target: str, at: float, *evidence: Evidence) -> None:
        finding = self.findings.setdefault((rule, target), Finding(rule, target))
        finding.add(at, list(evidence))

    def wire(self, accounts: set[str] | None = None) -> dict[str, Any]:
        """The application as ``accounts`` may see it (None: everything): only its principals, accounts and
        evidence in those accounts."""
        header = self.header
        principals = self.principals if accounts is None else {
            p for p in self.principals if self.principal_accounts.get(p) in accounts}
        findings = [w for w in (f.wire(accounts) for f in sorted(self.findings.values(),
                                                                 key=lambda f: (f.first_at, f.rule))) if w]
        return {
            "app": {"key": self.key, "label": self.label, "kind": self.kind,
                    "header": header.raw if header else None,
                    "name": header.app_name if header else None, "flavor": header.flavor if header else None,
                    "version": header.app_version if header else None, "os": header.os if header else None,
                    "osVersion": header.os_version if header else None,
                    "sessionId": header.session_id if header else None,
                    "principals": sorted(principals),
                    "accounts": sorted(self.accounts if accounts is None else self.accounts & accounts),
                    "clientIds": sorted(self.client_ids),
                    "requests": self.requests, "firstSeen": _iso(self.first_seen), "lastSeen": _iso(self.last_seen)},
            "clean": not findings,
            "findings": findings,
        }


class Auditor:
    def __init__(self) -> None:
        self.apps: OrderedDict[str, App] = OrderedDict()

    def clear(self, accounts: set[str] | None = None) -> None:
        """Forget every application (``accounts`` None), or those seen acting only in ``accounts``."""
        if accounts is None:
            self.apps.clear()
            return
        for key in [k for k, app in self.apps.items() if app.accounts and app.accounts <= accounts]:
            del self.apps[key]

    # ------------------------------------------------------------------ observation
    def observe(self, ex: Exchange) -> None:
        app = self._app_of(ex)
        app.requests += 1
        app.last_seen = ex.ended
        if ex.principal_id:
            app.principals.add(ex.principal_id)
            if ex.account_id:
                app.principal_accounts[ex.principal_id] = ex.account_id
        if ex.account_id:
            app.accounts.add(ex.account_id)
        if ex.principal_kind:
            app.principal_kinds.add(ex.principal_kind)
        if ex.client_id:
            app.client_ids.add(ex.client_id)
        self._header(app, ex)
        self._refused_token(app, ex)
        self._retries(app, ex)
        self._refresh_loop(app, ex)
        self._webhook(app, ex)
        self._polling(app, ex)

    def _app_of(self, ex: Exchange) -> App:
        header = ex.app_header
        if header is not None and header.session_id:
            key, label = f"session:{header.session_id}", header.raw
        elif header is not None:
            key, label = f"header:{header.raw}", header.raw
        else:
            key, label = f"agent:{ex.user_agent}@{ex.peer}", f"no X-Mitel-App ({ex.user_agent or 'no user agent'} " \
                                                              f"from {ex.peer or 'unknown address'})"
        app = self.apps.get(key)
        if app is None:
            app = self.apps[key] = App(key=key, header=header, label=label, first_seen=ex.started)
            while len(self.apps) > MAX_APPS:
                self.apps.popitem(last=False)
        else:
            self.apps.move_to_end(key)
        return app

    def _header(self, app: App, ex: Exchange) -> None:
        if ex.app_header is None:
            app.find("app-header-missing", "X-Mitel-App", ex.started, ex.evidence("no X-Mitel-App header"))
        elif not ex.app_header.valid:
            app.find("app-header-malformed", "X-Mitel-App", ex.started,
                     ex.evidence(f"{ex.app_header.raw!r}: " + "; ".join(ex.app_header.problems)))

    def _refused_token(self, app: App, ex: Exchange) -> None:
        if ex.token_id is None:
            return
        refused = app.refused_tokens.get(ex.token_id)
        if refused is not None and ex.started >= refused.ended:
            app.find("no-refresh-after-401", f"token {ex.token_id}", ex.started,
                     refused.evidence("the token was refused here"),
                     ex.evidence("and sent again here"))
        if ex.status == 401 and not _is_token_request(ex):
            app.refused_tokens[ex.token_id] = ex
            app.last_refusal = ex
            while len(app.refused_tokens) > MAX_SIGNATURES:
                app.refused_tokens.pop(next(iter(app.refused_tokens)))

    def _retries(self, app: App, ex: Exchange) -> None:
        signature = ex.signature
        previous = app.last_by_signature.pop(signature, None)
        chain = 0
        if previous is not None:
            before, before_chain = previous
            failed = before.status >= 400 or before.status == 0
            if failed and before.ended <= ex.started <= before.ended + RETRY_WINDOW:
                chain = self._judge_retry(app, before, before_chain, ex)
        app.last_by_signature[signature] = (ex, chain)
        while len(app.last_by_signature) > MAX_SIGNATURES:
            app.last_by_signature.popitem(last=False)

    def _judge_retry(self, app: App, before: Exchange, before_chain: int, ex: Exchange) -> int:
        """``ex`` repeats the failed ``before``: check the retry; the retry count of ``ex``."""
        if before.status == 401 and ex.token_id != before.token_id:
            return 0          # the recommended flow: refresh, then retry the call with the new token
        if before.status == 401 and ex.token_id is not None:
            return before_chain + 1   # reported as no-refresh-after-401
        target = f"{ex.method} {ex.path}"
        chain = before_chain + 1
        gap = ex.started - before.ended
        if before.status in RETRYABLE or before.status == 0 or before.retry_after is not None:
            wanted = max(MIN_RETRY_GAP, _retry_after_seconds(before))
            if gap + TOLERANCE < wanted:
                app.find("retry-too-soon", target, ex.started, before.evidence(),
                         ex.evidence(f"retried after {gap:.2f} s; at least {wanted:g} s was due"))
            if chain > MAX_RETRIES:
                app.find("too-many-retries", target, ex.started,
                         ex.evidence(f"retry {chain} of this request (at most {MAX_RETRIES})"))
        else:
            app.find("retry-not-retryable", target, ex.started, before.evidence(),
                     ex.evidence(f"sent again {gap:.2f} s after a {before.status}"))
        return chain

    def _refresh_loop(self, app: App, ex: Exchange) -> None:
        refusal = app.last_refusal
        if not (_is_token_request(ex) and refusal is not None and 0 <= ex.started - refusal.ended <= 10):
            return
        app.refreshes.append(ex)
        while app.refreshes and app.refreshes[0].started < ex.started - REFRESH_LOOP_WINDOW:
            app.refreshes.popleft()
        if len(app.refreshes) > REFRESH_LOOP:
            app.find("refresh-loop", "POST /token", ex.started,
                     *(r.evidence("a new token right after a 401") for r in list(app.refreshes)[-3:]))

    def _webhook(self, app: App, ex: Exchange) -> None:
        if ex.method != "POST" or not ex.path.endswith("/subscriptions") or not 200 <= ex.status < 300:
            return
        if _transport(ex.body) == "webhook" and app.kind == "client":
            app.find("webhook-from-client", f"POST {ex.path}", ex.started,
                     ex.evidence(f"a webhook subscription from a {app.kind}-side application"))

    def _polling(self, app: App, ex: Exchange) -> None:
        if ex.method != "GET" or not 200 <= ex.status < 300:
            return
        topic = topic_for(ex.resource or ex.path)
        if topic is None:
            return
        key = ex.path + "?" + ex.query
        seen = app.gets.setdefault(key, deque())
        seen.append(ex)
        while seen and seen[0].started < ex.started - POLL_WINDOW:
            seen.popleft()
        if len(app.gets) > MAX_SIGNATURES:
            app.gets.pop(next(iter(app.gets)))
        if len(seen) >= POLL_COUNT:
            app.find("polling", f"GET {key.rstrip('?')}", ex.started,
                     *(e.evidence() for e in list(seen)[-3:]),
                     Evidence(None, f"{len(seen)} identical GETs within {POLL_WINDOW:g} s; subscribe to {topic}"))

    # ------------------------------------------------------------------ report
    def report(self, session: str | None = None, name: str | None = None, only_findings: bool = False,
               accounts: set[str] | None = None) -> dict[str, Any]:
        """``accounts``: only applications seen acting in one of these accounts (a request is attributed to the
        account of its token, or to the one a sign-in names); ``None``: every application, also those never
        attributed to an account (the operator's view)."""
        apps = [a for a in reversed(self.apps.values())
                if (accounts is None or a.accounts & accounts)
                and (session is None or (a.header is not None and a.header.session_id == session))
                and (name is None or (a.header is not None and a.header.app_name == name))
                and (not only_findings or a.findings)]
        if session is not None and not apps and not any(
                a.header is not None and a.header.session_id == session
                and (accounts is None or a.accounts & accounts) for a in self.apps.values()):
            raise NotFound("SessionNotFound", f"no application with X-Mitel-App session-id {session} was observed "
                                              "(or it acts in no account you can see)")
        body = [w for w in (a.wire(accounts) for a in apps) if not only_findings or w["findings"]]
        return {"generatedAt": _iso(datetime.now(timezone.utc).timestamp()), "count": len(body),
                "findings": sum(len(a["findings"]) for a in body), "applications": body}


def _is_token_request(ex: Exchange) -> bool:
    return ex.path.endswith("/token") and ex.method == "POST"


def _transport(body: bytes) -> str:
    try:
        parsed = json.loads(body or b"{}")
    except ValueError:
        return "webhook"
    return str(parsed.get("transport") or "webhook") if isinstance(parsed, dict) else "webhook"


def _retry_after_seconds(ex: Exchange) -> float:
    value = (ex.retry_after or "").strip()
    if not value:
        return 0.0
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        return max(0.0, parsedate_to_datetime(value).timestamp() - ex.ended)
    except (TypeError, ValueError):
        return 0.0


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
