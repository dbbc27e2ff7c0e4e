"""``AsyncCloudLink``: the asyncio client. It only does I/O for the core's flows (httpx.AsyncClient)."""
from __future__ import annotations

import asyncio
from typing import Any, AsyncIterator, Awaitable, Callable, Mapping

import httpx

from cloudlink_client.auth import Grant
from cloudlink_client.core import Core, Exclusive, Flow, Op, Send, Sleep, next_op, odata, page_items
from cloudlink_client.mqtt import AsyncNotificationStream
from cloudlink_client.retry import RetryPolicy
from cloudlink_client.services import (AdminService, AuthService, ConversationsService, MediaService,
                                       NotificationsService, PresenceService)

Items = AsyncIterator[dict[str, Any]]
Result = Awaitable[Any]


class AsyncCloudLink:
    """The asyncio twin of ``CloudLink``: the same arguments and service groups; calls are awaited and
    ``iter_*`` helpers are async iterators. ``sleep`` replaces ``asyncio.sleep``."""

    def __init__(self, app: str, flavor: str, app_version: str, *, grant: Grant | None = None,
                 twin_url: str | None = None, region: str | None = None, environment: str | None = None,
                 base_urls: Mapping[str, str] | None = None, os_name: str | None = None,
                 os_version: str | None = None, retry: RetryPolicy | None = None,
                 timeout: float | httpx.Timeout = 30.0, refresh_margin: float = 60.0,
                 sleep: Callable[[float], Awaitable[None]] | None = None, clock: Callable[[], float] | None = None,
                 transport: httpx.AsyncBaseTransport | None = None,
                 http_client: httpx.AsyncClient | None = None) -> None:
        self.core = Core(app=app, flavor=flavor, app_version=app_version, grant=grant, twin_url=twin_url,
                         region=region, environment=environment, base_urls=base_urls, os_name=os_name,
                         os_version=os_version, retry=retry, clock=clock, refresh_margin=refresh_margin)
        self._owns_http = http_client is None
        self.http = http_client or httpx.AsyncClient(timeout=timeout, transport=transport)
        self._sleep = sleep if sleep is not None else asyncio.sleep
        self._lock: asyncio.Lock | None = None
        self.auth: AuthService[Result, Items] = AuthService(self)
        self.admin: AdminService[Result, Items] = AdminService(self)
        self.media: MediaService[Result, Items] = MediaService(self)
        self.conversations: ConversationsService[Result, Items] = ConversationsService(self)
        self.notifications: NotificationsService[Result, Items] = NotificationsService(self)
        self.presence: PresenceService[Result, Items] = PresenceService(self)

    # ------------------------------------------------------------------ the driver
    async def run(self, flow: Flow, exclusive: bool = False) -> Any:
        """Drive a core flow to its result."""
        # CloudLink.run is this loop without awaits: the sync/async I/O pair, written twice by design (the
        # decisions are core.py's).
        value: Any = None
        error: BaseException | None = None
        while True:
            try:
                action = flow.throw(error) if error is not None else flow.send(value)
            except StopIteration as stop:
                return stop.value
            value, error = None, None
            if isinstance(action, Send):
                try:
                    value = await self.http.send(action.request)
                except httpx.TransportError as exc:
                    value = exc
            elif isinstance(action, Sleep):
                await self._sleep(action.seconds)
            elif isinstance(action, Exclusive):
                if exclusive:  # already holding the lock (a renewal inside a renewal)
                    runner = self.run(action.flow, exclusive=True)
                else:
                    runner = self._exclusive(action.flow)
                try:
                    value = await runner
                except Exception as exc:  # handed back to the flow that asked
                    error = exc
            else:  # pragma: no cover - the core yields nothing else
                raise TypeError(f"unknown action {action!r}")

    async def _exclusive(self, flow: Flow) -> Any:
        if self._lock is None:
            self._lock = asyncio.Lock()
        async with self._lock:
            return await self.run(flow, exclusive=True)

    async def iterate(self, op: Op) -> Items:
        """Every item of every page of ``op``'s collection, following ``_links.next``."""
        current: Op | None = op
        while current is not None:
            body, url = await self.run(self.core.call_page(current))
            for item in page_items(body):
                yield item
            current = next_op(current, body, self.core, url)

    # ------------------------------------------------------------------ generic access
    async def request(self, service: str, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                      json: Any = None, auth: bool = True, call_id: str | None = None) -> Any:
        return await self.run(self.core.call(Op(method.upper(), service, path, params=params, json=json, auth=auth,
                                                call_id=call_id)))

    def paginate(self, service: str, path: str, **query: Any) -> Items:
        """Every item of any collection, across its pages: ``async for u in client.paginate("admin", "/users")``."""
        return self.iterate(Op("GET", service, path, params=odata(**query)))

    async def open_stream(self, subscription: dict[str, Any], **options: Any) -> AsyncNotificationStream:
        return await AsyncNotificationStream(self, subscription, **options).start()

    @property
    def session_id(self) -> str:
        return self.core.app.session_id

    @property
    def app_header(self) -> str:
        return self.core.app.value

    async def aclose(self) -> None:
        if self._owns_http:
            await self.http.aclose()

    async def __aenter__(self) -> "AsyncCloudLink":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()
