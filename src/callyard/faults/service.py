"""The fault registry. A fault is one of:

* ``http`` — requests matching ``route`` (and ``method``) get ``status`` (with ``Retry-After`` when
  ``retryAfter`` is set) instead of reaching the API, and/or wait ``latency`` first;
* ``webhook.drop`` / ``webhook.duplicate`` — webhook deliveries (of one subscription, or all) are dropped
  (never sent; the delivery log shows them as ``dropped`` and they can be replayed) or sent twice with the
  same ``webhook-id``;
* ``token.expire`` — every access token issued until now (of one principal, or all) counts as expired.

``ratio`` is the chance that a matching request or delivery is hit (seeded with ``--seed``), ``count`` the
number of hits after which the fault retires. A fault injected by an account administrator has ``accounts``:
it hits only the traffic of those accounts (requests attributed to them, their subscriptions' deliveries,
their users' tokens); the operator's faults (``accounts`` None) hit the whole twin. Faults are twin state
outside the platform's model: they live in memory, survive nothing, and ``reset`` clears them.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any, Callable

from callyard.api.common.retry_after import retry_after
from callyard.core.auth.tokens import TokenService
from callyard.core.clock import Clock, iso
from callyard.core.errors import Invalid, NotFound
from callyard.core.ids import Ids

KINDS = ("http", "webhook.drop", "webhook.duplicate", "token.expire")
DISTRIBUTIONS = ("fixed", "uniform", "normal", "exponential")
# The name of the error envelope for an injected status, as the platform's gateway words them.
STATUS_NAMES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 408: "RequestTimeout",
                409: "Conflict", 429: "TooManyRequests", 500: "InternalServerError", 502: "BadGateway",
                503: "ServiceUnavailable", 504: "GatewayTimeout", 598: "NetworkReadTimeout",
                599: "NetworkConnectTimeout"}


def route_pattern(route: str) -> re.Pattern[str]:
    """``/2017-09-01/users/{userId}`` → a regex; ``{name}`` is one path segment, ``*`` any run of characters."""
    if not route.startswith("/"):
        raise Invalid("InvalidFault", "route must be a path starting with /")
    parts = re.split(r"(\{[^/{}]+\}|\*)", route.rstrip("/") or "/")
    regex = "".join("[^/]+" if p.startswith("{") else ".*" if p == "*" else re.escape(p) for p in parts)
    return re.compile(f"^{regex}/?$")


@dataclass
class Fault:
    fault_id: str
    kind: str
    created_on: str
    route: str | None = None
    method: str | None = None
    status: int | None = None
    retry_after: int | str | None = None
    retry_after_format: str | None = None   # seconds | http-date for an int retry_after (None: the twin's)
    ratio: float = 1.0
    count: int | None = None
    latency: dict[str, Any] | None = None
    body: dict[str, Any] | None = None
    subscription_id: str | None = None
    principal_id: str | None = None
    accounts: frozenset[str] | None = None   # None: the whole twin (an operator's fault)
    hits: int = 0
    pattern: re.Pattern[str] | None = field(default=None, repr=False)
    expiry: object | None = field(default=None, repr=False)   # token.expire: the token service's handle

    def wire(self) -> dict[str, Any]:
        out = {"faultId": self.fault_id, "kind": self.kind, "route": self.route, "method": self.method,
               "status": self.status, "retryAfter": self.retry_after,
               "retryAfterFormat": self.retry_after_format, "ratio": self.ratio, "count": self.count,
               "latency": self.latency, "body": self.body, "subscriptionId": self.subscription_id,
               "principalId": self.principal_id, "hits": self.hits, "createdOn": self.created_on,
               "accounts": sorted(self.accounts) if self.accounts is not None else None}
        return {k: v for k, v in out.items() if v is not None}


class Faults:
    def __init__(self, tokens: TokenService, clock: Clock, ids: Ids, seed: int | None = None,
                 normalise: Callable[[str], str] = lambda path: path, retry_after_format: str = "seconds") -> None:
        """``normalise`` maps a request path and a fault's route to the same form (the HTTP layer passes the
        one that drops a service prefix, so a fault names a route once for both mounts)."""
        self.tokens = tokens
        self.normalise = normalise
        self.retry_after_format = retry_after_format
        self.clock = clock
        self.ids = ids
        self.rng = random.Random(seed)
        self._faults: dict[str, Fault] = {}

    # ------------------------------------------------------------------ registry
    def add(self, spec: dict[str, Any], accounts: frozenset[str] | None = None) -> Fault:
        """``spec`` is the validated request body (field names as on the wire); ``accounts``: the only
        accounts whose traffic it hits (None: all)."""
        kind = spec.get("kind") or "http"
        fault = Fault(fault_id=self.ids.uuid(), kind=kind, created_on=iso(self.clock.now()),
                      route=spec.get("route"), method=(spec.get("method") or "").upper() or None,
                      status=spec.get("status"), retry_after=spec.get("retryAfter"),
                      retry_after_format=spec.get("retryAfterFormat"),
                      ratio=spec.get("ratio", 1.0), count=spec.get("count"), latency=spec.get("latency"),
                      body=spec.get("body"), subscription_id=spec.get("subscriptionId"),
                      principal_id=spec.get("principalId"), accounts=accounts)
        if kind == "http":
            if fault.status is None and fault.latency is None:
                raise Invalid("InvalidFault", "an http fault needs a status, a latency, or both")
            fault.pattern = route_pattern(self.normalise(fault.route)) if fault.route else None
        elif fault.route or fault.status or fault.latency:
            raise Invalid("InvalidFault", f"route, status and latency apply to http faults, not {kind}")
        if kind == "token.expire":
            fault.expiry = self.tokens.force_expiry(fault.principal_id, accounts)
        self._faults[fault.fault_id] = fault
        return fault

    def all(self, accounts: set[str] | None = None) -> list[Fault]:
        """Every fault (``accounts`` None), or those scoped to some of ``accounts`` (an administrator's)."""
        return [f for f in self._faults.values() if _within(f, accounts)]

    def get(self, fault_id: str, accounts: set[str] | None = None) -> Fault:
        fault = self._faults.get(fault_id)
        if fault is None or not _within(fault, accounts):
            raise NotFound("FaultNotFound", f"no fault {fault_id}")
        return fault

    def remove(self, fault_id: str, accounts: set[str] | None = None) -> Fault:
        fault = self.get(fault_id, accounts)
        del self._faults[fault_id]
        if fault.expiry is not None:
            self.tokens.end_forced_expiry(fault.expiry)
        return fault

    def clear(self, accounts: set[str] | None = None) -> int:
        if accounts is None:
            count = len(self._faults)
            self._faults.clear()
            self.tokens.end_forced_expiry()
            return count
        mine = self.all(accounts)
        for fault in mine:
            self.remove(fault.fault_id)
        return len(mine)

    def has_scoped_http(self) -> bool:
        """Whether an http fault needs to know the request's account."""
        return any(f.kind == "http" and f.accounts is not None for f in self._faults.values())

    # ------------------------------------------------------------------ matching
    def for_request(self, method: str, path: str, account: str | None = None) -> Fault | None:
        """The http fault that hits this request (attributed to ``account``, if any), counted; ``None`` when
        the request goes through."""
        if not self._faults or path.startswith("/_callyard"):
            return None
        bare = self.normalise(path)
        for fault in list(self._faults.values()):
            if fault.kind != "http" or (fault.method and fault.method != method):
                continue
            if fault.accounts is not None and account not in fault.accounts:
                continue
            if fault.pattern is not None and not fault.pattern.match(bare):
                continue
            if self._hit(fault):
                return fault
        return None

    def for_webhook(self, subscription_id: str, account_id: str | None = None) -> str | None:
        """``drop``, ``duplicate`` or ``None`` for one delivery attempt (of a subscription of ``account_id``)."""
        for fault in list(self._faults.values()):
            if not fault.kind.startswith("webhook."):
                continue
            if fault.accounts is not None and account_id not in fault.accounts:
                continue
            if fault.subscription_id and fault.subscription_id != subscription_id:
                continue
            if self._hit(fault):
                return fault.kind.split(".", 1)[1]
        return None

    def _hit(self, fault: Fault) -> bool:
        if fault.ratio < 1.0 and self.rng.random() >= fault.ratio:
            return False
        fault.hits += 1
        if fault.count is not None and fault.hits >= fault.count:
            self._faults.pop(fault.fault_id, None)   # retired: it has done what it was asked
        return True

    def delay_of(self, fault: Fault) -> float:
        """Seconds to wait before answering, drawn from the fault's latency distribution."""
        spec = fault.latency
        if not spec:
            return 0.0
        kind = spec.get("distribution", "fixed")
        if kind == "fixed":
            ms = spec["ms"]
        elif kind == "uniform":
            ms = self.rng.uniform(spec["minMs"], spec["maxMs"])
        elif kind == "normal":
            ms = self.rng.gauss(spec["meanMs"], spec.get("stddevMs", 0.0))
        else:
            ms = self.rng.expovariate(1.0 / spec["meanMs"]) if spec["meanMs"] > 0 else 0.0
        return max(0.0, min(float(ms), float(spec.get("maxMs", 60_000)))) / 1000.0

    def response_of(self, fault: Fault) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Status, body (the CloudLink envelope) and headers of an injected error."""
        assert fault.status is not None
        name = STATUS_NAMES.get(fault.status, "InjectedFault")
        body = fault.body if fault.body is not None else {
            "name": name, "message": f"injected fault {fault.fault_id}: {fault.status} {name}"}
        headers = {"x-callyard-fault": fault.fault_id}
        if isinstance(fault.retry_after, int):
            headers["retry-after"] = retry_after(fault.retry_after, fault.retry_after_format or self.retry_after_format)
        elif fault.retry_after is not None:
            headers["retry-after"] = fault.retry_after   # an HTTP-date given as such
        return fault.status, body, headers


def _within(fault: Fault, accounts: set[str] | None) -> bool:
    """Whether a caller who administers ``accounts`` (None: the operator) sees and removes ``fault``."""
    return accounts is None or (fault.accounts is not None and fault.accounts <= accounts)
