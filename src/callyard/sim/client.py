"""An HTTP client of a running callyard server for the simulator: the CLI's ``call``, ``phone``, ``calls``
and the scenario runner use it.

It signs in with a password grant (``--user``/``--password``) or takes a ready token (``--token``); the
virtual clock (the whole twin's) is moved with the operator token (``--operator-token``) when one is given. It learns
the token's account from ``GET /2017-09-01/token`` and names that account (``?account=``) on every
``/_callyard/sim`` request, so the same commands work against a server started with ``--open-control``.
Every request's latency and outcome is kept for the scenario summary.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import httpx

from callyard import __version__
from callyard.api.cloudlink.edge import BASE_PATH
from callyard.api.cloudlink.edge.mitel_app import header_for

DEFAULT_SERVER = "http://127.0.0.1:8080"
API = BASE_PATH
SIM = "/_callyard/sim"
APP_HEADER = header_for("callyard", "cli", __version__)


class ApiError(Exception):
    """A request that failed: a transport error (``status`` 0) or an unexpected HTTP status."""

    def __init__(self, method: str, path: str, status: int, name: str, message: str) -> None:
        self.method, self.path, self.status, self.name, self.message = method, path, status, name, message
        where = f"{method} {path}"
        super().__init__(f"{where} → {status} {name}: {message}" if status else f"{where}: {message}")


@dataclass
class RequestStats:
    """What the client saw: latencies (seconds) of every request except clock advances, and failures."""

    latencies: list[float] = field(default_factory=list)
    requests: int = 0
    advances: int = 0
    errors: list[str] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)

    def percentile(self, fraction: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
        return ordered[index]

    def rate(self) -> float:
        elapsed = time.monotonic() - self.started
        return self.requests / elapsed if elapsed > 0 else 0.0


class SimClient:
    """``async with SimClient(server, user=…, password=…) as sim: await sim.place_call(…)``."""

    def __init__(self, server: str = DEFAULT_SERVER, *, token: str | None = None, user: str | None = None,
                 password: str | None = None, account: str | None = None, timeout: float = 30.0,
                 operator_token: str | None = None) -> None:
        self.server = server.rstrip("/")
        self.token = token
        self.operator_token = operator_token
        self.user = user
        self.password = password
        self.account = account
        self.timeout = timeout
        self.stats = RequestStats()
        self.http: httpx.AsyncClient | None = None

    async def __aenter__(self) -> "SimClient":
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=32)
        self.http = httpx.AsyncClient(base_url=self.server, timeout=self.timeout, limits=limits)
        try:
            await self.sign_in()
        except BaseException:
            await self.http.aclose()
            raise
        return self

    async def __aexit__(self, *exc: Any) -> None:
        if self.http is not None:
            await self.http.aclose()

    # ------------------------------------------------------------------ plumbing
    def _headers(self, operator: bool = False) -> dict[str, str]:
        headers = {"X-Mitel-App": APP_HEADER}
        token = self.operator_token if operator and self.operator_token else self.token
        if token:
            headers["Authorization"] = f"Bearer {token}"
        return headers

    async def request(self, method: str, path: str, *, json: Any = None, data: Any = None,
                      params: dict[str, str] | None = None, sim: bool = False, benign: tuple[Any, ...] = (),
                      count: bool = True, operator: bool = False) -> Any:
        """One request; returns the decoded JSON body (None when empty). Raises ``ApiError`` on a transport
        error or a status ≥ 400; a failure named in ``benign`` (a status, or a ``(status, name)`` pair) raises
        too but is not counted as an error."""
        assert self.http is not None, "use SimClient in an async with block"
        params = dict(params or {})
        if sim and self.account:
            params.setdefault("account", self.account)
        started = time.perf_counter()
        try:
            response = await self.http.request(method, path, json=json, data=data, params=params or None,
                                               headers=self._headers(operator))
        except httpx.HTTPError as exc:
            if count:
                self.stats.requests += 1
                self.stats.errors.append(f"{method} {path}: {exc.__class__.__name__}: {exc}")
            raise ApiError(method, path, 0, exc.__class__.__name__, str(exc) or "transport error") from None
        elapsed = time.perf_counter() - started
        if count:
            self.stats.requests += 1
            if path.endswith("/clock/advance"):
                self.stats.advances += 1
            else:
                self.stats.latencies.append(elapsed)
        if response.status_code >= 400:
            try:
                body = response.json()
                name, message = str(body.get("name", "Error")), str(body.get("message", response.text))
            except ValueError:
                name, message = "Error", response.text[:200]
            if count and response.status_code not in benign and (response.status_code, name) not in benign:
                self.stats.errors.append(f"{method} {path} → {response.status_code} {name}: {message}")
            raise ApiError(method, path, response.status_code, name, message)
        if not response.content:
            return None
        try:
            return response.json()
        except ValueError:
            return response.text

    async def sign_in(self) -> None:
        if self.token is None and self.user:
            body = await self.request("POST", f"{API}/token", count=False, data={
                "grant_type": "password", "username": self.user, "password": self.password or ""})
            self.token = body["access_token"]
        if self.token and not self.account:
            claims = await self.request("GET", f"{API}/token", count=False)
            self.account = claims.get("accountId") or None

    # ------------------------------------------------------------------ control plane
    async def clock(self) -> dict[str, Any]:
        return await self.request("GET", "/_callyard/clock")

    async def advance(self, seconds: float) -> dict[str, Any]:
        return await self.request("POST", "/_callyard/clock/advance", json={"seconds": round(seconds, 6)},
                                  operator=True)

    async def reset(self) -> dict[str, Any]:
        """The whole twin with the operator token; else the signed-in administrator's accounts."""
        return await self.request("POST", "/_callyard/reset", operator=True)

    # ------------------------------------------------------------------ simulator
    async def place_call(self, from_number: str, to: str, *, from_name: str = "", priority: int = 0,
                         skill: str | None = None, benign: tuple[Any, ...] = ()) -> dict[str, Any]:
        body: dict[str, Any] = {"from": from_number, "to": to}
        if from_name:
            body["fromName"] = from_name
        if priority:
            body["priority"] = priority
        if skill:
            body["skill"] = skill
        return await self.request("POST", f"{SIM}/calls", json=body, sim=True, benign=benign)

    async def live_calls(self) -> list[dict[str, Any]]:
        body = await self.request("GET", f"{SIM}/calls", sim=True)
        return body["_embedded"]["items"]

    async def queues(self) -> list[dict[str, Any]]:
        body = await self.request("GET", f"{SIM}/queues", sim=True)
        return body["_embedded"]["items"]

    async def endpoint(self, number: str, **kw: Any) -> dict[str, Any]:
        return await self.request("GET", f"{SIM}/endpoints/{_quote(number)}", sim=True, **kw)

    async def configure(self, number: str, body: dict[str, Any], benign: tuple[Any, ...] = ()) -> dict[str, Any]:
        return await self.request("PUT", f"{SIM}/endpoints/{_quote(number)}", json=body, sim=True, benign=benign)

    async def phone(self, number: str, action: str, *, call_id: str | None = None, device: str | None = None,
                    digits: str | None = None, benign: tuple[int, ...] = ()) -> dict[str, Any]:
        if action == "dtmf":
            body: dict[str, Any] = {"digits": digits or ""}
            if call_id:
                body["callId"] = call_id
        else:
            body = {k: v for k, v in (("callId", call_id), ("device", device)) if v}
        return await self.request("POST", f"{SIM}/endpoints/{_quote(number)}/{action}", json=body, sim=True,
                                  benign=benign)

    async def agent(self, user_id: str, change: dict[str, Any]) -> dict[str, Any]:
        return await self.request("POST", f"{SIM}/agents/{_quote(user_id)}", json=change, sim=True)

    # ------------------------------------------------------------------ CloudLink API
    async def collection(self, path: str, params: dict[str, str] | None = None) -> list[dict[str, Any]]:
        """Every item of a CloudLink collection, following ``_links.next``."""
        items: list[dict[str, Any]] = []
        params = {"$top": "1000", **(params or {})}
        next_path: str | None = path
        while next_path:
            body = await self.request("GET", next_path, params=params)
            items.extend(body.get("_embedded", {}).get("items", []))
            following = (body.get("_links") or {}).get("next")
            if not following or not body.get("count"):
                break
            next_path, params = following, None
        return items

    async def users(self) -> list[dict[str, Any]]:
        """The users of the account named with ``--account`` (by id), else of the token's account."""
        if self.account and len(self.account) == 36:
            return await self.collection(f"{API}/accounts/{self.account}/users")
        return await self.collection(f"{API}/users")

    async def call_records(self) -> list[dict[str, Any]]:
        return await self.collection(f"{API}/calls/records")


def _quote(part: str) -> str:
    from urllib.parse import quote

    return quote(part, safe="")
