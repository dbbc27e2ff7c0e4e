"""A family is a mounted unit with its own edge: a throw-away family (defined here only) with a different
error envelope gets its errors — a core error, a validation error, an unknown route under its prefix — in
its envelope, while CloudLink's and the control plane's stay ``{name, message}``."""
from __future__ import annotations

import threading
from typing import Any, Iterator, Mapping, Sequence

import httpx
import pytest
import uvicorn
from fastapi import APIRouter
from pydantic import BaseModel, ConfigDict

from callyard.api.family import Family, Mount, Problem
from callyard.app import FAMILIES, build_app
from callyard.config import Settings
from callyard.core.errors import CoreError, Kind, NotFound

from tests.conftest import LiveServer, free_port


class ValidationResult:
    """The UC-style envelope: ``{"field": [...], "warning": [...], "generated-id": ...}``."""

    statuses = {Kind.NOT_FOUND: 404, Kind.INVALID: 422}

    def core_error(self, exc: CoreError) -> Problem:
        return Problem(self.statuses.get(exc.kind, 500),
                       {"field": [{"code": exc.name, "message": exc.message}], "warning": [], "generated-id": None})

    def validation_error(self, errors: Sequence[Mapping[str, Any]]) -> Problem:
        fields = [{"code": e["type"], "message": ".".join(str(p) for p in e["loc"])} for e in errors]
        return Problem(422, {"field": fields, "warning": [], "generated-id": None})

    def http_error(self, status: int, detail: str, headers: Mapping[str, str] | None) -> Problem:
        return Problem(status, {"field": [{"code": f"HTTP{status}", "message": detail}], "warning": [],
                                "generated-id": None})

    def unexpected(self) -> Problem:
        return Problem(500, {"field": [], "warning": ["internal"], "generated-id": None})


class Thing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str


router = APIRouter()


@router.get("/things/{thingId}")
async def get_thing(thingId: str) -> dict[str, Any]:
    raise NotFound("ThingNotFound", f"thing {thingId} was not found")


@router.post("/things")
async def create_thing(body: Thing) -> dict[str, Any]:
    return {"generated-id": body.name}


async def nobody() -> None:
    return None


def listing(items: list[Any]) -> dict[str, Any]:
    return {"items": items}


THROWAWAY = Family(name="throwaway", prefixes=("/throwaway",), mounts=(Mount(router, "/throwaway/api"),),
                   errors=ValidationResult(), auth=nobody, paging=listing)


class ThrowawayServer(LiveServer):
    """A live twin with the throw-away family registered beside the real ones."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.app = build_app(settings, families=(*FAMILIES, THROWAWAY))
        self.server = uvicorn.Server(uvicorn.Config(self.app, host=settings.host, port=settings.port,
                                                    log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://{settings.host}:{settings.port}"


@pytest.fixture(scope="module")
def live() -> Iterator[httpx.Client]:
    with ThrowawayServer(Settings(port=free_port(), ephemeral=True)) as server:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            yield client


def test_core_error_in_the_family_envelope(live: httpx.Client) -> None:
    r = live.get("/throwaway/api/things/42")
    assert r.status_code == 404
    assert r.json() == {"field": [{"code": "ThingNotFound", "message": "thing 42 was not found"}], "warning": [],
                        "generated-id": None}
    assert r.headers["x-mitel-correlation-id"]  # the family-neutral request context still applies


def test_validation_error_in_the_family_envelope(live: httpx.Client) -> None:
    r = live.post("/throwaway/api/things", json={"name": "x", "extra": 1})
    assert r.status_code == 422
    assert r.json()["field"][0]["code"] == "extra_forbidden" and r.json()["warning"] == []
    assert live.post("/throwaway/api/things", json={"name": "x"}).json() == {"generated-id": "x"}


def test_unknown_route_under_the_family_prefix(live: httpx.Client) -> None:
    r = live.get("/throwaway/nothing-here")
    assert r.status_code == 404 and r.json()["field"][0]["code"] == "HTTP404"


def test_cloudlink_and_control_keep_their_envelope(live: httpx.Client) -> None:
    r = live.get("/2017-09-01/nothing-here")
    assert r.status_code == 404 and r.json() == {"name": "UnregisteredRoute", "message": "no route matches this path"}
    r = live.get("/2017-09-01/users")
    assert r.status_code == 401 and set(r.json()) == {"name", "message"}
    r = live.post("/2017-09-01/token", json={"grant_type": "password", "username": "x", "password": "y", "bad": 1})
    assert set(r.json()) >= {"name", "message"}
    r = live.get("/_callyard/nothing-here")
    assert r.status_code == 404 and r.json()["name"] == "UnregisteredRoute"
    r = live.post("/_callyard/clock/advance", json={"seconds": -1})
    assert r.status_code in (400, 401) and set(r.json()) >= {"name", "message"}


def test_families_are_listed_in_one_place() -> None:
    app = build_app(Settings(ephemeral=True), families=(*FAMILIES, THROWAWAY))
    names = [f.name for f in app.state.twin.families.all]
    assert names == [*(f.name for f in FAMILIES), "throwaway"] and {"cloudlink", "control", "pages"} <= set(names)
    paths = app.openapi()["paths"]
    assert "/throwaway/api/things/{thingId}" in paths and "/2017-09-01/endpoints/{endpointId}/calls/{callId}" in paths
