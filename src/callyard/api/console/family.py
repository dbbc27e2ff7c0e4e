"""The console family: ``/`` (its home, with the API docs of every family) and ``/_callyard/console``.
Never rate limited or faulted (it is how a developer watches and removes faults); its pages are HTML, not
API operations, so they are not in the OpenAPI documents. Sign-in is its own (``session.py``): the
operator token or an account admin's password, none with ``--open-control``."""
from __future__ import annotations

from typing import Any

from callyard.api.common.errors import HTTP_STATUSES, NameMessageEnvelope, ajv_wording
from callyard.api.console import routes
from callyard.api.console.live import Hub
from callyard.api.console.scenarios import Scenarios
from callyard.api.console.session import Sessions
from callyard.api.family import Family, Mount
from callyard.container import Twin


async def anyone() -> None:
    """Pages resolve their viewer themselves (a session cookie, not a token)."""
    return None


def _listing(items: list[dict[str, Any]], *_args: Any, **_kwargs: Any) -> dict[str, Any]:
    return {"count": len(items), "items": items}


def _projections(twin: Twin) -> None:
    """The console's sessions, its scenario runs, and the hub that wakes its live screens after each commit."""
    hub = Hub()
    hub.register(twin.core.projections)
    twin.family_state["console.hub"] = hub
    twin.family_state["console.sessions"] = Sessions(twin)
    scenarios = Scenarios(twin)
    twin.family_state["console.scenarios"] = scenarios
    twin.stoppers.append(scenarios.stop_all)
    routes.compile_templates()


FAMILY = Family(
    name="console",
    prefixes=(routes.BASE,),
    exact=("/",),
    mounts=(Mount(routes.router, priority=60),),
    errors=NameMessageEnvelope(HTTP_STATUSES, ajv_wording),
    auth=anyone,
    paging=_listing,
    projections=_projections,
    rate_limited=False,
    faultable=False,
    title="Console",
    description="The web console: the switchboard, contact center, events, requests, control and directory.",
)
