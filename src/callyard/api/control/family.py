"""The control family: the developer plane under ``/_callyard`` (health, reset, state, journal, clock, mail,
photos, simulator, deliveries, faults, audit). Never rate limited and never faulted: it is how a developer
drives the twin and removes faults."""
from __future__ import annotations

from callyard.api.control import audit, deliveries, faults, routes, sim, sim_media
from callyard.api.control.edge import ERRORS, items_page
from callyard.api.control.openapi import complete_openapi
from callyard.api.family import Family, Mount

FAMILY = Family(
    name="control",
    prefixes=("/_callyard",),
    mounts=tuple(Mount(router, priority=10) for router in (routes.router, sim.router, deliveries.router,
                                                            faults.router, audit.router, sim_media.router)),
    errors=ERRORS,
    auth=routes.controller,
    paging=items_page,
    rate_limited=False,
    faultable=False,
    title="Control plane",
    description="The twin's own API under /_callyard: simulator, reset, snapshots, clock, journal, events, "
                "deliveries, faults, audit.",
    openapi=complete_openapi,
    hot=sim.HOT_ROUTES,
)
