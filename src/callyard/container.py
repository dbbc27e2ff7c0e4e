"""The composition root: ``build_twin`` builds every service of one twin — core, store, bus, delivery
(webhooks, MQTT and JSON streams over WebSocket, callbacks, mail), faults, audit, profiles — and the API
families, with typed attributes. ``callyard.app`` puts the one ``Twin`` on ``app.state.twin``; handlers reach
its parts through the typed dependencies of ``callyard.api.deps``.

This is the only module that imports the store implementation (the core knows the ``Store`` protocol).
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Iterable

from callyard import __version__
from callyard.api.cloudlink.edge import BASE_PATH, REFRESH_CLAIMS
from callyard.api.cloudlink.edge.hosts import strip_service
from callyard.api.common.middleware import Journal, RateLimit
from callyard.api.family import Families, Family
from callyard.audit.service import Auditor
from callyard.config import Settings
from callyard.core.clock import Clock, ManualClock
from callyard.core.ids import Ids
from callyard.core.ports import Store
from callyard.core.service import Core
from callyard.delivery.callbacks import Callbacks
from callyard.delivery.json_ws import JsonStream
from callyard.delivery.mail import Mailer
from callyard.delivery.mqtt_ws import MqttOverWebSocket
from callyard.delivery.webhooks import WebhookSender
from callyard.faults.service import Faults
from callyard.sim.profiles import Profiles
from callyard.store import open_store


@dataclass
class Twin:
    settings: Settings
    clock: Clock
    store: Store
    core: Core
    journal: Journal
    mailer: Mailer
    callbacks: Callbacks
    profiles: Profiles
    faults: Faults
    audit: Auditor
    webhooks: WebhookSender
    mqtt: MqttOverWebSocket
    stream: JsonStream
    families: Families
    rate_limit: RateLimit | None
    version: str = __version__
    started: float = field(default_factory=time.monotonic)
    fresh_tenant: bool = False

    async def start(self) -> None:
        self.fresh_tenant = await self.core.start()
        self.core.tokens.issuer = f"http://{self.settings.host}:{self.settings.port}/authentication{BASE_PATH}"
        self.started = time.monotonic()
        await self.webhooks.start()
        await self.mqtt.start()
        await self.stream.start()

    async def stop(self) -> None:
        await self.stream.stop()
        await self.mqtt.stop()
        await self.webhooks.stop()
        await self.core.stop()


def build_twin(settings: Settings, family_list: Iterable[Family]) -> Twin:
    clock: Clock = ManualClock() if settings.clock == "manual" else Clock()
    store = open_store(settings.store_url())
    core = Core(store, clock, Ids(settings.id_seed), settings.tenant_file, refresh_claims=REFRESH_CLAIMS)
    mailer = Mailer(core.directory, settings.smtp)
    callbacks = Callbacks(core.bus)
    profiles = Profiles(core, settings.id_seed)
    families = Families(family_list)
    # The family that renders core events as publications (CloudLink's notifications); the notification
    # service matches and delivers them (webhooks, MQTT, stream).
    publishers = [f for f in families.all if f.publications is not None]
    if len(publishers) > 1:
        raise ValueError("the notification service delivers one family's publications")
    if publishers:
        core.notifications.publication_of = publishers[0].publications
    # A fault names a CloudLink route once for the root and the service-prefixed mounts.
    faults = Faults(core.tokens, clock, core.rt.ids, seed=settings.id_seed, normalise=strip_service)
    audit = Auditor()
    webhooks = WebhookSender(core.rt, core.notifications, core.scheduler, seed=settings.id_seed,
                             fault_of=faults.for_webhook)
    # WebSocket delivery: MQTT over WebSocket (the platform's) and a plain JSON stream, fed after each commit.
    mqtt = MqttOverWebSocket(core)
    stream = JsonStream(core)
    core.notifications.live_transports.append(mqtt.transport)
    core.notifications.live_transports.append(stream.transport)
    core.connections.closed_listeners += [mqtt.connection_closed, stream.connection_closed]
    return Twin(settings=settings, clock=clock, store=store, core=core, journal=Journal(), mailer=mailer,
                callbacks=callbacks, profiles=profiles, faults=faults, audit=audit, webhooks=webhooks,
                mqtt=mqtt, stream=stream, families=families,
                rate_limit=RateLimit(settings.rate_limit, settings.rate_burst) if settings.rate_limit else None)
