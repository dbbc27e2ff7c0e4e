"""The ASGI application: the families of the twin, mounted over the one ``Twin`` that
``callyard.container.build_twin`` composes.

``FAMILIES`` is the one list of API families; each brings its routers, error envelope, auth, paging and
middleware (``callyard.api.family``). Adding a family is a new package with a ``FAMILY`` and a line here.
"""
from __future__ import annotations

import gc
import inspect
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator

from fastapi import FastAPI

from callyard import __version__
from callyard.api.cloudlink.family import FAMILY as CLOUDLINK
from callyard.api.common.redaction import install_log_redaction
from callyard.api.common.middleware import Edge
from callyard.api.console.family import FAMILY as CONSOLE
from callyard.api.control.family import FAMILY as CONTROL
from callyard.api.cx.family import FAMILY as CX
from callyard.api.pages import openapi as pages_openapi
from callyard.api.pages.family import FAMILY as PAGES
from callyard.api import dispatch
from callyard.api.family import Family, install_error_dispatch
from callyard.api.uc.family import FAMILY as UC
from callyard.config import Settings
from callyard.container import Twin, build_twin

FAMILIES: tuple[Family, ...] = (CLOUDLINK, CONTROL, PAGES, UC, CX, CONSOLE)


# FastAPI's own OpenTelemetry hooks (0.165 and later) look for configured providers on every request; the twin
# observes itself through its journal, event log and audit, so they are off where FastAPI has them.
_NO_TELEMETRY: dict[str, Any] = (
    {"telemetry": {"tracing": False, "metrics": False, "logs": False}}
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters else {})


def build_app(settings: Settings, families: tuple[Family, ...] = FAMILIES) -> FastAPI:
    twin = build_twin(settings, families)
    install_log_redaction()   # uvicorn's access log prints request targets (WebSocket ?token= included)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await twin.start()
        # Everything loaded so far (tenant, modules, routes) lives as long as the process: keep it out of
        # the collector's generations so full collections stay short under load.
        gc.collect()
        gc.freeze()
        gc.enable()   # `callyard serve` starts with it off (cli/main.py)
        try:
            yield
        finally:
            await twin.stop()

    # The docs pages are the pages family's (served from a package, not a CDN): FastAPI's own are off.
    app = FastAPI(title="callyard", version=__version__, lifespan=lifespan, docs_url=None, redoc_url=None,
                  description="A self-hosted twin of the Mitel CloudLink platform APIs. The UC User API (seed 003) "
                              "has its own document: /api/openapi.json, browsable at /api/docs.",
                  **_NO_TELEMETRY)
    app.state.twin = twin
    # Shortcuts for the CLI banner and in-process test fixtures; handlers use ``callyard.api.deps``.
    app.state.core, app.state.faults, app.state.mqtt = twin.core, twin.faults, twin.mqtt
    install_error_dispatch(app, twin.families)
    twin.families.mount(app)
    pages_openapi.install(app, twin.families)
    dispatch.install(app)
    _add_middleware(app, twin)
    return app


def _add_middleware(app: FastAPI, twin: Twin) -> None:
    """Outermost first: the families' routing middleware (may rewrite the path), then the one ``Edge`` (request
    context and journal, body limit, the owning family's own middleware, rate limit, fault injection, the
    families' hot routes; ``callyard.api.common.middleware``)."""
    app.add_middleware(Edge, twin=twin)
    for family in reversed(twin.families.all):
        for layer in reversed(family.routing_middleware(twin)):
            app.add_middleware(layer.cls, *layer.args, **layer.kwargs)
