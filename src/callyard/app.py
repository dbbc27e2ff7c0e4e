"""Composition: the one place that builds the core, the store, the bus and mounts every façade.

Each CloudLink service is mounted at the root (``/2017-09-01/…``) and under its prefix
(``/authentication/2017-09-01/…``); ``HostRouting`` maps service hosts onto the prefixes. At the root, when
two services declare the same path, the first mounted wins (authentication, then admin); see
docs/compatibility.md.
"""
from __future__ import annotations

import gc
import time
from contextlib import asynccontextmanager
from typing import AsyncIterator

from fastapi import APIRouter, FastAPI

from callyard import __version__
from callyard.api.cloudlink import admin, auth, chat, media, notifications, presence
from callyard.api.cloudlink.publications import Publisher
from callyard.api.common import errors
from callyard.api.common.middleware import (FaultInjection, HostRouting, Journal, RateLimit, RequestContext,
                                            strip_service)
from callyard.api.control import routes as control
from callyard.api.control import audit, deliveries, faults, sim
from callyard.audit.service import Auditor
from callyard.config import Settings
from callyard.core.clock import Clock, ManualClock
from callyard.core.ids import Ids
from callyard.core.service import Core
from callyard.delivery.callbacks import Callbacks
from callyard.delivery.mail import Mailer
from callyard.delivery.json_ws import JsonStream
from callyard.delivery.live import LiveTransports
from callyard.delivery.mqtt_ws import MqttOverWebSocket
from callyard.delivery.webhooks import WebhookSender
from callyard.faults.service import Faults
from callyard.sim.profiles import Profiles
from callyard.store import open_store

BASE_PATH = "/2017-09-01"
# (service prefix, router) in root-path priority order. Routes are matched in order, so the call-control
# hot path (media) goes first; its paths overlap no other service's. Authentication precedes admin: where
# those two declare the same path, authentication's wins at the root (docs/compatibility.md).
CLOUDLINK_SERVICES: list[tuple[str, APIRouter]] = [("media", media.router), ("notifications", notifications.router),
                                                   ("presence", presence.router), ("chat", chat.router),
                                                   ("authentication", auth.router),
                                                   ("admin", admin.router)]


def build_app(settings: Settings) -> FastAPI:
    clock: Clock = ManualClock() if settings.clock == "manual" else Clock()
    core = Core(open_store(settings.store_url()), clock, Ids(settings.id_seed), settings.tenant_file)
    journal = Journal()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.fresh_tenant = await core.start()
        core.tokens.issuer = f"http://{settings.host}:{settings.port}/authentication{BASE_PATH}"
        app.state.started = time.monotonic()
        await webhooks.start()
        await mqtt.start()
        await stream.start()
        # Everything loaded so far (tenant, modules, routes) lives as long as the process: keep it out of
        # the collector's generations so full collections stay short under load.
        gc.collect()
        gc.freeze()
        try:
            yield
        finally:
            await stream.stop()
            await mqtt.stop()
            await webhooks.stop()
            await core.stop()

    app = FastAPI(title="callyard", version=__version__, lifespan=lifespan,
                  description="A self-hosted twin of the Mitel CloudLink platform APIs.")
    app.state.core = core
    app.state.settings = settings
    app.state.journal = journal
    app.state.version = __version__
    app.state.started = time.monotonic()
    app.state.mailer = Mailer(core.directory, settings.smtp)
    app.state.callbacks = Callbacks(core.projections)
    app.state.profiles = Profiles(core, settings.id_seed)
    fault_registry = app.state.faults = Faults(core.tokens, clock, core.rt.ids, seed=settings.id_seed,
                                               normalise=strip_service)
    auditor = app.state.audit = Auditor()
    webhooks = app.state.webhooks = WebhookSender(core.rt, core.notifications, core.scheduler, seed=settings.id_seed,
                                                  fault_of=fault_registry.for_webhook)
    core.outbox.attach(webhooks.kick)
    # WebSocket delivery: MQTT over WebSocket (the platform's) and a plain JSON stream, fed after each commit.
    mqtt = app.state.mqtt = MqttOverWebSocket(core)
    stream = app.state.stream = JsonStream(core)
    mqtt.register(core.projections)
    stream.register(core.projections)
    # CloudLink's publications: matched and written to the outbox inside each committing transaction, after
    # the core's own projections (presence), so a presence change caused by a call is published with it.
    Publisher(core.notifications, core.outbox, core.rt.ids, core.rt.now_iso,
              LiveTransports(mqtt.transport, stream.transport).dispatch).register(core.projections)
    errors.install(app)

    # Routes are matched in order, one by one. The call-control hot path (the Media API at the root) goes
    # first, then the control plane (the simulator drives load too), then everything else. No two of these
    # share a path, so the order only decides how many routes a request is tried against.
    app.include_router(media.router, prefix=BASE_PATH)
    app.include_router(control.router)
    app.include_router(sim.router)
    app.include_router(deliveries.router)
    app.include_router(faults.router)
    app.include_router(audit.router)
    app.router.add_websocket_route(f"{notifications.MQTT_PATH}/{{connectionId}}", mqtt.serve)
    app.router.add_websocket_route(notifications.STREAM_PATH, stream.serve)
    for service, router in CLOUDLINK_SERVICES:
        if router is not media.router:
            app.include_router(router, prefix=BASE_PATH)
    for service, router in CLOUDLINK_SERVICES:
        app.include_router(router, prefix=f"/{service}{BASE_PATH}", include_in_schema=False)
    app.include_router(media.recordings.media_router)

    rate = RateLimit(settings.rate_limit, settings.rate_burst) if settings.rate_limit else None
    app.add_middleware(FaultInjection, faults=fault_registry)
    app.add_middleware(RequestContext, clock=clock, journal=journal, strict_app_header=settings.strict_app_header,
                       rate_limit=rate, observers=[auditor.observe])
    app.add_middleware(HostRouting)
    return app
