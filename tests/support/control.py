"""The tests' one driver of the twin's control plane (``/_callyard``): reset, the simulator (the people at
the phones, the contact center), the clock, the request journal, faults, the audit, webhook deliveries and
the event log.

Every method checks the status the route answers on success (the response text in the message) and returns
the parsed JSON; the list routes return their ``_embedded.items``, except ``events`` (its ``next`` pages on).
"""
from __future__ import annotations

from typing import Any, Callable

import httpx

from tests.conftest import OPERATOR_HEADERS

Headers = dict[str, str] | Callable[[], dict[str, str]] | None


class Control:
    """``Control(http, headers)``: ``headers`` are fixed (an admin's bearer), computed per request (a
    callable, e.g. a token fetched anew), or None (the client's own headers; a server with open control).
    The twin-wide operations (``reset``, ``advance``) go with the test servers' operator token."""

    def __init__(self, http: httpx.Client, headers: Headers = None) -> None:
        self.http = http
        self.headers = headers

    @property
    def url(self) -> str:
        return str(self.http.base_url).rstrip("/")

    def _request(self, method: str, path: str, status: int = 200, operator: bool = False, **kwargs: Any) -> Any:
        headers = OPERATOR_HEADERS if operator else self.headers() if callable(self.headers) else self.headers
        response = self.http.request(method, path, headers=headers, **kwargs)
        assert response.status_code == status, (
            f"{method} {path}: wanted {status}, got {response.status_code}: {response.text}")
        return response.json()

    # ------------------------------------------------------------------ the twin
    def reset(self) -> dict[str, Any]:
        """Back to the tenant baseline (faults, journal and audit cleared)."""
        return self._request("POST", "/_callyard/reset", operator=True)

    def advance(self, seconds: float) -> dict[str, Any]:
        """Move the virtual clock forward."""
        return self._request("POST", "/_callyard/clock/advance", json={"seconds": seconds}, operator=True)

    # ------------------------------------------------------------------ simulator
    def dial_in(self, frm: str, to: str, **body: Any) -> str:
        """An outside caller ``frm`` dials ``to``; returns the call's tracking id."""
        return self._request("POST", "/_callyard/sim/calls", 201, json={"from": frm, "to": to, **body})["callId"]

    def ring(self, to: str, caller: str = "+16135550123") -> str:
        """``dial_in`` with the caller last (and a default one)."""
        return self.dial_in(caller, to)

    def phone(self, number: str, action: str, **body: Any) -> dict[str, Any]:
        """The person at ``number`` answers, hangs up, holds, retrieves, rejects (``busy``), presses keys…"""
        return self._request("POST", f"/_callyard/sim/endpoints/{number}/{action}", json=body or None)

    def configure(self, number: str, **settings: Any) -> dict[str, Any]:
        """An endpoint's settings and the simulated person's profile."""
        return self._request("PUT", f"/_callyard/sim/endpoints/{number}", json=settings)

    def sim(self, number: str) -> dict[str, Any]:
        """An endpoint as the simulator sees it."""
        return self._request("GET", f"/_callyard/sim/endpoints/{number}")

    def live(self) -> list[dict[str, Any]]:
        """The live calls of the account, with their legs."""
        return self._request("GET", "/_callyard/sim/calls")["_embedded"]["items"]

    def live_call(self, call_id: str) -> dict[str, Any] | None:
        """One live call, or None once it is over."""
        return next((c for c in self.live() if c["callId"] == call_id), None)

    def legs(self, call_id: str) -> dict[str, str]:
        """``{endpointId: state}`` of a live call's legs."""
        call = self.live_call(call_id)
        assert call is not None, f"call {call_id} is not live"
        return {leg["endpointId"]: leg["state"] for leg in call["legs"]}

    def agent(self, user_id: str, **body: Any) -> dict[str, Any]:
        """A contact-center agent logs in or out, becomes ready or not, changes skills."""
        return self._request("POST", f"/_callyard/sim/agents/{user_id}", json=body)

    def queues(self) -> dict[str, dict[str, Any]]:
        """The account's queue statistics by queue name."""
        return {q["name"]: q for q in self._request("GET", "/_callyard/sim/queues")["_embedded"]["items"]}

    # ------------------------------------------------------------------ journal, faults, audit, deliveries, events
    def journal(self, limit: int = 2000) -> list[dict[str, Any]]:
        """The most recent requests, oldest first."""
        return self._request("GET", "/_callyard/journal", params={"limit": limit})["_embedded"]["items"]

    def of(self, correlation_id: str) -> list[dict[str, Any]]:
        """Journal entries of one logical call, oldest first."""
        return [e for e in self.journal() if e["correlationId"] == correlation_id]

    def fault(self, **spec: Any) -> dict[str, Any]:
        """Inject a fault (``route``/``method``/``status``… or ``kind``)."""
        return self._request("POST", "/_callyard/faults", 201, json=spec)

    def audit_of(self, session: str) -> dict[str, Any]:
        """The audit report of the one application seen under the X-Mitel-App ``session``."""
        report = self._request("GET", "/_callyard/audit", params={"session": session})
        assert report["count"] == 1, report   # the application was seen, under its own session
        return report["applications"][0]

    def deliveries(self, **params: str) -> list[dict[str, Any]]:
        """Webhook deliveries, oldest first (``subscriptionId=``, ``status=``)."""
        return self._request("GET", "/_callyard/deliveries", params=params)["_embedded"]["items"]

    def delivery(self, delivery_id: str) -> dict[str, Any]:
        """One delivery with its attempts."""
        return self._request("GET", f"/_callyard/deliveries/{delivery_id}")

    def replay(self, delivery_id: str) -> dict[str, Any]:
        """Send a delivery again (same webhook-id)."""
        return self._request("POST", f"/_callyard/deliveries/{delivery_id}/replay")

    def events(self, **params: Any) -> dict[str, Any]:
        """A page of the event log (``after=``, ``limit=``, ``type=``): ``count``, ``next`` and the items."""
        return self._request("GET", "/_callyard/events", params=params)
