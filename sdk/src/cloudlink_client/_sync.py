"""``CloudLink``: the synchronous client. It only does I/O for the core's flows (httpx.Client)."""
from __future__ import annotations

import threading
import time
from typing import Any, Callable, Iterator, Mapping

import httpx

from cloudlink_client.auth import Grant
from cloudlink_client.core import Core, Exclusive, Flow, Op, Send, Sleep, next_op, odata, page_items
from cloudlink_client.mqtt import NotificationStream
from cloudlink_client.retry import RetryPolicy
from cloudlink_client.services import (AdminService, AuthService, ConversationsService, MediaService,
                                       NotificationsService, PresenceService)

Items = Iterator[dict[str, Any]]


class CloudLink:
    """A CloudLink client (blocking). ``app``, ``flavor`` and ``app_version`` name the application in the
    ``X-Mitel-App`` header (seed 001); ``grant`` is how it obtains tokens (``Password``,
    ``ClientCredentials``, ``RefreshToken``, or none and ``client.auth.exchange_code(...)`` after the
    authorization code flow).

    Where: the real platform by default; ``region``/``environment`` for regional and dev hosts;
    ``twin_url="http://127.0.0.1:8080"`` puts every service on a callyard twin; ``base_urls`` overrides
    services one by one.

    ``sleep`` and ``clock`` replace ``time.sleep`` and ``time.monotonic`` (tests); ``transport`` or
    ``http_client`` replace the HTTP layer.
    """

    def __init__(self, app: str, flavor: str, app_version: str, *, grant: Grant | None = None,
                 twin_url: str | None = None, region: str | None = None, environment: str | None = None,
                 base_urls: Mapping[str, str] | None = None, os_name: str | None = None,
                 os_version: str | None = None, retry: RetryPolicy | None = None,
                 timeout: float | httpx.Timeout = 30.0, refresh_margin: float = 60.0,
                 sleep: Callable[[float], None] | None = None, clock: Callable[[], float] | None = None,
                 transport: httpx.BaseTransport | None = None, http_client: httpx.Client | None = None) -> None:
        self.core = Core(app=app, flavor=flavor, app_version=app_version, grant=grant, twin_url=twin_url,
                         region=region, environment=environment, base_urls=base_urls, os_name=os_name,
                         os_version=os_version, retry=retry, clock=clock, refresh_margin=refresh_margin)
        self._owns_http = http_client is None
        self.http = http_client or httpx.Client(timeout=timeout, transport=transport)
        self._sleep = sleep if sleep is not None else time.sleep
        self._lock = threading.RLock()
        self.auth: AuthService[Any, Items] = AuthService(self)
        self.admin: AdminService[Any, Items] = AdminService(self)
        self.media: MediaService[Any, Items] = MediaService(self)
        self.conversations: ConversationsService[Any, Items] = ConversationsService(self)
        self.notifications: NotificationsService[Any, Items] = NotificationsService(self)
        self.presence: PresenceService[Any, Items] = PresenceService(self)

    # ------------------------------------------------------------------ the driver
    def run(self, flow: Flow) -> Any:
        """Drive a core flow to its result."""
        # AsyncCloudLink.run is this loop with awaits. The two drivers are the sync/async I/O pair, written
        # twice by design: every decision they carry out is taken once, in core.py.
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
                    value = self.http.send(action.request)
                except httpx.TransportError as exc:
                    value = exc
            elif isinstance(action, Sleep):
                self._sleep(action.seconds)
            elif isinstance(action, Exclusive):
                with self._lock:
                    try:
                        value = self.run(action.flow)
                    except Exception as exc:  # handed back to the flow that asked
                        error = exc
            else:  # pragma: no cover - the core yields nothing else
                raise TypeError(f"unknown action {action!r}")

    def iterate(self, op: Op) -> Items:
        """Every item of every page of ``op``'s collection, following ``_links.next``."""
        current: Op | None = op
        while current is not None:
            body, url = self.run(self.core.call_page(current))
            yield from page_items(body)
            current = next_op(current, body, self.core, url)

    # ------------------------------------------------------------------ generic access
    def request(self, service: str, method: str, path: str, *, params: Mapping[str, Any] | None = None,
                json: Any = None, auth: bool = True, call_id: str | None = None) -> Any:
        """Any operation of a service: ``client.request("media", "GET", "/conferences")``."""
        return self.run(self.core.call(Op(method.upper(), service, path, params=params, json=json, auth=auth,
                                          call_id=call_id)))

    def paginate(self, service: str, path: str, **query: Any) -> Items:
        """Every item of any collection, across its pages: ``client.paginate("admin", "/users", top=50)``
        (OData options as keywords: ``filter``, ``top``, ``orderby``, ``search``, ``expand`` …)."""
        return self.iterate(Op("GET", service, path, params=odata(**query)))

    def open_stream(self, subscription: dict[str, Any], **options: Any) -> NotificationStream:
        return NotificationStream(self, subscription, **options).start()

    @property
    def session_id(self) -> str:
        return self.core.app.session_id

    @property
    def app_header(self) -> str:
        return self.core.app.value

    def close(self) -> None:
        if self._owns_http:
            self.http.close()

    def __enter__(self) -> "CloudLink":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()
