"""Endpoint configuration and state: the stored settings (diversions, DND, voicemail, …), the simulated
person's behaviour profile, and the plain view façades render."""
from __future__ import annotations

from typing import Any

from callyard.core.engine.calls import jsonable
from callyard.core.engine.model import DEFAULT_SETTINGS, Endpoint
from callyard.core.runtime import Runtime
from callyard.core.state import UnitOfWork


class EndpointSettings:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    def _doc(self, endpoint: Endpoint) -> dict[str, Any] | None:
        return self.rt.state.get("endpoint", f"{endpoint.account_id}:{endpoint.number}")

    def settings(self, endpoint: Endpoint) -> dict[str, Any]:
        return {**DEFAULT_SETTINGS, **((self._doc(endpoint) or {}).get("settings") or {})}

    def profile(self, endpoint: Endpoint) -> dict[str, Any] | None:
        profile: dict[str, Any] | None = (self._doc(endpoint) or {}).get("profile")
        return profile

    def state(self, endpoint: Endpoint) -> str:
        if self.settings(endpoint)["outOfService"]:
            return "outOfService"
        states = {leg.state for leg in endpoint.legs}
        if "connected" in states:
            return "connected"
        if "held" in states:
            return "held"
        if "ringing" in states:
            return "ringing"
        return "idle"

    def view(self, endpoint: Endpoint) -> dict[str, Any]:
        settings = self.settings(endpoint)
        availability = "dnd" if settings["dnd"] else settings["userAvailability"]
        if availability == "available" and endpoint.in_call():
            availability = "busy"
        return {"endpointId": endpoint.number, "accountId": endpoint.account_id, "kind": endpoint.kind,
                "name": endpoint.name, "userId": endpoint.user_id, "groupId": endpoint.group_id,
                "state": self.state(endpoint), "userAvailability": availability,
                "dnd": settings["dnd"], "messageWaiting": settings["messageWaiting"],
                "pstnRouting": settings["pstnRouting"], "settings": settings, "terminals": endpoint.terminals,
                "profile": self.profile(endpoint), "activeCalls": len(endpoint.legs)}

    def save(self, uow: UnitOfWork, endpoint: Endpoint, changes: dict[str, Any], profile: Any = ...) -> dict[str, Any]:
        """Store settings changes (and, unless ``...``, a new profile) and announce the endpoint."""
        key = f"{endpoint.account_id}:{endpoint.number}"
        doc = dict(self.rt.state.get("endpoint", key) or {"endpointKey": key, "accountId": endpoint.account_id,
                                                            "endpointId": endpoint.number})
        doc["settings"] = {**(doc.get("settings") or {}), **changes}
        if profile is not ...:
            doc["profile"] = profile
        uow.put("endpoint", key, doc)
        uow.emit("endpoint.updated", endpoint.account_id, f"/endpoints/{endpoint.number}",
                 jsonable(self.view(endpoint)), self.rt.now_iso())
        return doc
