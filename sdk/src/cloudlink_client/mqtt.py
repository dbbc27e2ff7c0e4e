"""Notifications over WebSocket: MQTT 3.1.1 over WebSocket with paho-mqtt, the platform's flow.

``POST /connections {"transport": "websocket"}`` → ``{connectionId, url}``; a subscription with
``transport: websocket`` and that ``connectionId``; an MQTT client connects to ``url`` (WebSocket
subprotocol ``mqtt``) with the access token as the MQTT password and subscribes to the topic named by the
``subscriptionId``; each publication arrives as a PUBLISH whose payload is the JSON envelope.

The session runs in its own thread. It is persistent (clean session 0, a stable client id, QoS 1 by
default), so publications that arrive while the client is away are delivered after it reconnects. After a
drop it reconnects with seed 002's spacing (at least 2 s between attempts, at most 5 retries in a row
before it gives up) and a freshly renewed token — a session also ends when its token expires.
"""
from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
import time
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Iterator
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from cloudlink_client.errors import CloudLinkError, TransportFailure, utc_now_iso
from cloudlink_client.retry import RetryPolicy

if TYPE_CHECKING:
    from cloudlink_client._async import AsyncCloudLink
    from cloudlink_client._sync import CloudLink

log = logging.getLogger("cloudlink_client")

CONNECT_TIMEOUT = 10.0
_CLOSED = object()


class StreamError(CloudLinkError):
    """The WebSocket notification stream failed for good (refused, or the reconnect attempts ran out)."""


class StreamClosed(Exception):
    """The stream was closed: no more publications."""


class _Refused(Exception):
    def __init__(self, reason: str, fatal: bool = False) -> None:
        super().__init__(reason)
        self.fatal = fatal


class _Engine:
    """The MQTT session and its reconnect loop, in a thread. ``token(force)`` gives an access token
    (``force``: renew it first); ``deliver(publication)`` receives each decoded publication."""

    def __init__(self, *, url: str, topic: str, client_id: str, token: Callable[[bool], str],
                 deliver: Callable[[dict[str, Any]], None], policy: RetryPolicy, qos: int = 1,
                 keepalive: int = 60, on_state: Callable[[], None] | None = None) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("ws", "wss"):
            raise ValueError(f"the connection url must be ws:// or wss://, got {url!r}")
        if qos not in (0, 1):
            raise ValueError("qos must be 0 or 1")
        self.host = parts.hostname or ""
        self.port = parts.port or (443 if parts.scheme == "wss" else 80)
        self.tls = parts.scheme == "wss"
        self.path = parts.path + (f"?{parts.query}" if parts.query else "")
        self.url = url
        self.topic = topic
        self.client_id = client_id
        self.token = token
        self.deliver = deliver
        self.policy = policy
        self.qos = qos
        self.keepalive = keepalive
        self.on_state = on_state or (lambda: None)
        self.ready = threading.Event()
        self.stopping = threading.Event()
        self.finished = threading.Event()
        self.error: StreamError | None = None
        self.connected = False
        self.connects = 0
        self._thread = threading.Thread(target=self._run, name=f"cloudlink-mqtt-{topic[:8]}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout)

    # ------------------------------------------------------------------ the thread
    def _run(self) -> None:
        failures = 0
        try:
            while not self.stopping.is_set():
                if self.connects or failures:
                    delay = self.policy.delay(None)
                    if self.stopping.wait(delay):
                        break
                try:
                    token = self.token(self.connects > 0 or failures > 0)
                    self._session(token)
                    failures = 0
                except _Refused as exc:
                    if self.stopping.is_set():
                        break
                    failures += 1
                    if exc.fatal:
                        self._fail(str(exc), None)
                        return
                    self._warn(f"refused: {exc}", failures)
                except CloudLinkError as exc:
                    failures += 1
                    self._warn(f"token renewal failed: {exc.status} {exc.name}: {exc.message}", failures)
                except (OSError, paho.WebsocketConnectionError, ValueError) as exc:
                    failures += 1
                    self._warn(f"{type(exc).__name__}: {exc}", failures)
                if failures > self.policy.max_retries:
                    self._fail(f"gave up after {failures} failed connection attempts", failures)
                    return
        finally:
            self.connected = False
            self.finished.set()
            self.on_state()

    def _warn(self, what: str, failures: int) -> None:
        will_retry = failures <= self.policy.max_retries and not self.stopping.is_set()
        log.log(logging.WARNING if will_retry else logging.ERROR,
                "CloudLink MQTT %s %s (attempt %d)%s", self.url, what, failures,
                f"; reconnecting in {self.policy.delay(None):.1f} s" if will_retry else "",
                extra={"url": self.url, "subscription_id": self.topic, "attempts": failures,
                       "timestamp": utc_now_iso(), "will_retry": will_retry})

    def _fail(self, reason: str, attempts: int | None) -> None:
        self.error = StreamError(f"notification stream for subscription {self.topic}: {reason}",
                                 url=self.url, method="MQTT", attempts=attempts or 0)
        log.error("CloudLink MQTT %s", self.error.describe(), extra={**self.error.fields(), "subscription_id": self.topic})

    def _session(self, token: str) -> None:
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=False,
                             transport="websockets", protocol=paho.MQTTv311)
        client.ws_set_options(path=self.path)
        if self.tls:
            client.tls_set()
        client.username_pw_set("cloudlink", token)
        connack: list[Any] = []
        suback: list[Any] = []
        client.on_connect = lambda c, u, flags, rc, p: connack.append(rc)
        client.on_subscribe = lambda c, u, mid, codes, p: suback.append(codes)
        client.on_message = lambda c, u, message: self._message(message)
        client.connect(self.host, self.port, keepalive=self.keepalive)
        try:
            self._pump(client, lambda: bool(connack), "CONNACK")
            if connack[0].is_failure:
                raise _Refused(f"CONNACK {connack[0]}")
            client.subscribe(self.topic, self.qos)
            self._pump(client, lambda: bool(suback), "SUBACK")
            if any(code.is_failure for code in suback[0]):
                raise _Refused(f"subscription {self.topic} refused (SUBACK {suback[0]})", fatal=True)
            self.connects += 1
            self.connected = True
            self.ready.set()
            self.on_state()
            while not self.stopping.is_set():
                if client.loop(timeout=0.1) != paho.MQTT_ERR_SUCCESS:
                    break  # the connection dropped
        finally:
            was_connected, self.connected = self.connected, False
            if self.stopping.is_set():
                client.disconnect()
                client.loop(timeout=0.1)
            sock = client.socket()
            if sock is not None:
                try:
                    sock.close()
                except OSError:
                    pass
            if was_connected and not self.stopping.is_set():
                log.warning("CloudLink MQTT %s: the connection dropped", self.url,
                            extra={"url": self.url, "subscription_id": self.topic, "timestamp": utc_now_iso(),
                                   "will_retry": True})

    def _pump(self, client: paho.Client, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while not done():
            if self.stopping.is_set():
                raise _Refused("closed")
            if client.loop(timeout=0.05) != paho.MQTT_ERR_SUCCESS:
                raise ConnectionError(f"the connection closed before the {what}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"no {what} within {CONNECT_TIMEOUT:.0f} s")

    def _message(self, message: paho.MQTTMessage) -> None:
        try:
            publication = json.loads(message.payload)
        except ValueError:
            log.warning("CloudLink MQTT %s: a message on %s is not JSON; skipped", self.url, message.topic)
            return
        try:
            self.deliver(publication)
        except Exception:  # the application's callback must not end the session
            log.exception("CloudLink MQTT %s: the publication handler raised", self.url)


class NotificationStream:
    """Publications of one websocket subscription (sync client). Iterate it, or ``get(timeout)`` one, or give
    ``on_publication`` to ``client.notifications.stream``. ``close()`` (or a ``with`` block) ends it."""

    def __init__(self, client: "CloudLink", connection: dict[str, Any], subscription: dict[str, Any],
                 on_publication: Callable[[dict[str, Any]], None] | None, qos: int, cleanup: bool) -> None:
        self.client = client
        self.connection = connection
        self.subscription = subscription
        self.subscription_id: str = subscription["subscriptionId"]
        self.cleanup = cleanup
        self._queue: queue.Queue[Any] = queue.Queue()
        self._callback = on_publication
        self._closed = False

        def token(force: bool) -> str:
            return str(client.auth.refresh() if force else client.auth.access_token())

        self._engine = _Engine(url=connection["url"], topic=self.subscription_id,
                               client_id=f"{client.core.app.app}-{client.core.app.session_id}-{self.subscription_id}"[:128],
                               token=token, deliver=self._deliver, policy=client.core.policy, qos=qos,
                               on_state=self._state)

    def _deliver(self, publication: dict[str, Any]) -> None:
        if self._callback is not None:
            self._callback(publication)
        else:
            self._queue.put(publication)

    def _state(self) -> None:
        if self._engine.finished.is_set():
            self._queue.put(_CLOSED)

    @property
    def connected(self) -> bool:
        return self._engine.connected

    @property
    def connects(self) -> int:
        """Successful connections so far (1 + reconnects)."""
        return self._engine.connects

    @property
    def error(self) -> StreamError | None:
        return self._engine.error

    def start(self, timeout: float = 60.0) -> "NotificationStream":
        self._engine.start()
        deadline = time.monotonic() + timeout
        while not self._engine.ready.wait(0.05):
            if self._engine.finished.is_set() or time.monotonic() > deadline:
                self.close()
                raise self._engine.error or TransportFailure("the notification stream did not connect",
                                                             url=self.connection["url"], method="MQTT")
        return self

    def get(self, timeout: float | None = None) -> dict[str, Any]:
        """The next publication; TimeoutError when none arrives within ``timeout``; the stream's error when
        it failed."""
        try:
            item = self._queue.get(timeout=timeout)
        except queue.Empty:
            raise TimeoutError(f"no publication within {timeout} s") from None
        if item is _CLOSED:
            self._queue.put(_CLOSED)
            if self._engine.error is not None:
                raise self._engine.error
            raise StreamClosed("the notification stream is closed")
        return dict(item)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        while True:
            try:
                yield self.get()
            except StreamClosed:
                return

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._engine.stop()
        self._queue.put(_CLOSED)
        if self.cleanup:
            notifications = self.client.notifications
            try:
                notifications.delete_subscription(self.subscription_id)
                notifications.delete_connection(self.connection["connectionId"])
            except CloudLinkError:
                pass  # logged by the client; the subscription and the connection expire on their own

    def __enter__(self) -> "NotificationStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncNotificationStream:
    """Publications of one websocket subscription (async client): ``async for publication in stream``, or
    ``await stream.get(timeout)``; ``await stream.aclose()`` (or ``async with``) ends it."""

    def __init__(self, client: "AsyncCloudLink", connection: dict[str, Any], subscription: dict[str, Any],
                 on_publication: Callable[[dict[str, Any]], Any] | None, qos: int, cleanup: bool) -> None:
        self.client = client
        self.connection = connection
        self.subscription = subscription
        self.subscription_id: str = subscription["subscriptionId"]
        self.cleanup = cleanup
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._callback = on_publication
        self._ready = asyncio.Event()
        self._closed = False

        async def renewed(force: bool) -> str:
            return str(await (client.auth.refresh() if force else client.auth.access_token()))

        def token(force: bool) -> str:
            return asyncio.run_coroutine_threadsafe(renewed(force), self._loop).result(timeout=120)

        self._engine = _Engine(url=connection["url"], topic=self.subscription_id,
                               client_id=f"{client.core.app.app}-{client.core.app.session_id}-{self.subscription_id}"[:128],
                               token=token, deliver=self._deliver, policy=client.core.policy, qos=qos,
                               on_state=self._state)

    def _deliver(self, publication: dict[str, Any]) -> None:
        self._loop.call_soon_threadsafe(self._dispatch, publication)

    def _dispatch(self, publication: dict[str, Any]) -> None:
        if self._callback is None:
            self._queue.put_nowait(publication)
            return
        try:
            result = self._callback(publication)
        except Exception:
            log.exception("CloudLink MQTT %s: the publication handler raised", self.connection["url"])
            return
        if asyncio.iscoroutine(result):
            self._loop.create_task(result).add_done_callback(self._handler_done)

    def _handler_done(self, task: "asyncio.Task[Any]") -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("CloudLink MQTT %s: the publication handler raised", self.connection["url"],
                      exc_info=task.exception())

    def _state(self) -> None:
        def apply() -> None:
            if self._engine.ready.is_set() or self._engine.finished.is_set():
                self._ready.set()
            if self._engine.finished.is_set():
                self._queue.put_nowait(_CLOSED)
        try:
            self._loop.call_soon_threadsafe(apply)
        except RuntimeError:
            pass  # the loop is closed

    @property
    def connected(self) -> bool:
        return self._engine.connected

    @property
    def connects(self) -> int:
        return self._engine.connects

    @property
    def error(self) -> StreamError | None:
        return self._engine.error

    async def start(self, timeout: float = 60.0) -> "AsyncNotificationStream":
        self._engine.start()
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        if not self._engine.ready.is_set():
            await self.aclose()
            raise self._engine.error or TransportFailure("the notification stream did not connect",
                                                         url=self.connection["url"], method="MQTT")
        return self

    async def get(self, timeout: float | None = None) -> dict[str, Any]:
        try:
            item = await asyncio.wait_for(self._queue.get(), timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"no publication within {timeout} s") from None
        if item is _CLOSED:
            self._queue.put_nowait(_CLOSED)
            if self._engine.error is not None:
                raise self._engine.error
            raise StreamClosed("the notification stream is closed")
        return dict(item)

    def __aiter__(self) -> AsyncIterator[dict[str, Any]]:
        return self

    async def __anext__(self) -> dict[str, Any]:
        try:
            return await self.get()
        except StreamClosed:
            raise StopAsyncIteration from None

    async def aclose(self) -> None:
        if self._closed:
            return
        self._closed = True
        await asyncio.to_thread(self._engine.stop)
        self._queue.put_nowait(_CLOSED)
        if self.cleanup:
            notifications = self.client.notifications
            try:
                await notifications.delete_subscription(self.subscription_id)
                await notifications.delete_connection(self.connection["connectionId"])
            except CloudLinkError:
                pass  # logged by the client; the subscription and the connection expire on their own

    async def __aenter__(self) -> "AsyncNotificationStream":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()
