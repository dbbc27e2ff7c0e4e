"""The composition root: ``build_twin`` builds every service of one twin — core, store, event path, delivery
(webhooks, MQTT and JSON streams over WebSocket, callbacks, mail), faults, audit, profiles — and the API
families, with typed attributes. ``callyard.app`` puts the one ``Twin`` on ``app.state.twin``; handlers reach
its parts through the typed dependencies of ``callyard.api.deps``.

This is the only module that imports the store implementation (the core knows the ``Store`` protocol).
"""
from __future__ import annotations

import secrets
import time
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterable

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
from callyard.core.quotas import Quotas
from callyard.core.service import Core
from callyard.delivery import activity
from callyard.delivery.callbacks import Callbacks
from callyard.delivery.json_ws import JsonStream
from callyard.delivery.mail import Mailer
from callyard.delivery.live import close_sessions_of_deleted_connections
from callyard.delivery.mqtt_ws import MqttOverWebSocket
from callyard.delivery.smtp_inbound import SmtpInbound
from callyard.delivery.targets import TargetPolicy
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
    # Runtime objects a family keeps for its routes (the UC family's SSE hubs), set by its projections hook.
    family_state: dict[str, Any] = field(default_factory=dict)
    # What a family's projections hook started and the twin's stop ends first (the CX family's SignalR server).
    stoppers: list[Callable[[], Awaitable[None]]] = field(default_factory=list)
    # The inbound SMTP server (``--smtp-listen``): mail to an Email queue's address; None when off.
    smtp_inbound: SmtpInbound | None = None

    async def start(self) -> None:
        self.fresh_tenant = await self.core.start()
        self.core.tokens.issuer = f"http://{self.settings.host}:{self.settings.port}/authentication{BASE_PATH}"
        self.started = time.monotonic()
        await self.webhooks.start()
        await self.mqtt.start()
        await self.stream.start()
        if self.smtp_inbound is not None:
            await self.smtp_inbound.start()

    async def stop(self) -> None:
        for stop in reversed(self.stoppers):
            await stop()
        if self.smtp_inbound is not None:
            await self.smtp_inbound.stop()
        await self.stream.stop()
        await self.mqtt.stop()
        await self.webhooks.stop()
        await self.core.stop()


def build_twin(settings: Settings, family_list: Iterable[Family]) -> Twin:
    if not settings.operator_token:
        settings.operator_token = secrets.token_urlsafe(24)   # printed in the banner
    clock: Clock = ManualClock() if settings.clock == "manual" else Clock()
    store = open_store(settings.store_url())
    core = Core(store, clock, Ids(settings.id_seed), settings.tenant_file, refresh_claims=REFRESH_CLAIMS)
    core.set_quotas(Quotas(subscriptions=settings.quota_subscriptions, connections=settings.quota_connections,
                           conversations=settings.quota_conversations))
    mailer = Mailer(core.directory, settings.smtp)
    mailer.follow(core.projections, core.contact_center.mailroom)   # agents' e-mail replies, through SMTP
    callbacks = Callbacks(core.projections)
    profiles = Profiles(core, settings.id_seed)
    activity.register(core.projections)   # one INFO line per call, agent and voicemail change
    families = Families(family_list)
    # A fault names a CloudLink route once for the root and the service-prefixed mounts.
    faults = Faults(core.tokens, clock, core.rt.ids, seed=settings.id_seed, normalise=strip_service,
                    retry_after_format=settings.retry_after_format)
    audit = Auditor()
    # Webhook targets (delivery/targets.py): checked at registration and again at each delivery.
    policy = TargetPolicy(own_host=settings.host, own_port=settings.port, allow=settings.webhook_allow,
                          refuse=settings.webhook_refuse)
    core.notifications.target_refusal = policy.check_url
    webhooks = WebhookSender(core.rt, core.notifications, core.scheduler, seed=settings.id_seed,
                             fault_of=faults.for_webhook, policy=policy)
    core.outbox.attach(webhooks.kick)   # the outbox hands each committed delivery to the sender
    # WebSocket delivery: MQTT over WebSocket (the platform's) and a plain JSON stream, fed after each commit;
    # each closes the sessions of a deleted connection (an after-commit projection of its own).
    mqtt = MqttOverWebSocket(core)
    stream = JsonStream(core)
    for transport in (mqtt, stream):
        close_sessions_of_deleted_connections(core.projections, type(transport).__name__,
                                              transport.connection_closed)
    twin = Twin(settings=settings, clock=clock, store=store, core=core, journal=Journal(), mailer=mailer,
                callbacks=callbacks, profiles=profiles, faults=faults, audit=audit, webhooks=webhooks,
                mqtt=mqtt, stream=stream, families=families,
                rate_limit=RateLimit(settings.rate_limit, settings.rate_burst) if settings.rate_limit else None)
    if settings.smtp_listen:
        twin.smtp_inbound = SmtpInbound(core.contact_center.mailroom, settings.smtp_listen, settings.smtp_max_bytes)
    for family in families.all:
        family.projections(twin)
    return twin
