"""Notifications over WebSocket: MQTT 3.1.1 over WebSocket with paho-mqtt, the platform's flow.

``POST /connections {"transport": "websocket"}`` → ``{connectionId, url, expiryDateTime}``; a subscription
with ``transport: websocket`` and that ``connectionId``; an MQTT client connects to ``url`` (WebSocket
subprotocol ``mqtt``) with the access token as the MQTT password and subscribes to the topic named by the
``subscriptionId``; each publication arrives as a PUBLISH whose payload is the JSON envelope.

The session runs in its own thread. It is persistent (clean session 0, a stable client id, QoS 1 by
default), so publications that arrive while the client is away are delivered after it reconnects. After a
drop it reconnects with seed 002's spacing (at least 2 s between attempts, at most 5 retries in a row
before it gives up) and a freshly renewed token — a session also ends when its token expires.

Connections and subscriptions expire (``expiryDateTime``; 24 h by default on the twin). A connection
cannot be extended, so the stream keeps its *lease* alive: when 80 % of the lifetime has passed it creates
a new connection, moves the subscription to it with the new expiry (``PUT /subscriptions/{id}
{connectionId, expiryDateTime}``; where the service refuses that, or the subscription is gone, it creates a
new subscription on the new connection), moves the MQTT session there (same client id: the persistent
session and its queued messages follow) and only then deletes the old connection. The lifetime is read on
the service's clock — ``expiryDateTime`` against the ``createdOn`` of the same answer — and the renewal is
timed on the local monotonic clock from that answer, so a skew between the two wall clocks does not move
it. When the service refuses a session or closes it unanswered (the connection or the subscription expired
anyway, e.g. while the machine slept), the next attempt first asks the service for both and, when one is
gone, renews, re-creating what expired.
"""
from __future__ import annotations

import asyncio
import json
import logging
import queue
import threading
import time
import uuid
from concurrent.futures import Future
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, AsyncIterator, Callable, Iterator, Protocol
from urllib.parse import urlsplit

import paho.mqtt.client as paho
from paho.mqtt.enums import CallbackAPIVersion

from cloudlink_client.errors import (BadRequest, CloudLinkError, Conflict, Gone, MethodNotAllowed, NotFound,
                                     TransportFailure)
from cloudlink_client.retry import RetryPolicy
from cloudlink_client.times import parse_time, utc_now_iso

if TYPE_CHECKING:
    from cloudlink_client._async import AsyncCloudLink
    from cloudlink_client._sync import CloudLink

log = logging.getLogger("cloudlink_client")

CONNECT_TIMEOUT = 10.0
RENEW_AT = 0.8              # renew when this share of the lifetime has passed
RENEW_RETRY_MAX = 60.0      # a failed renewal is tried again within a minute (sooner when expiry is near)
_CLOSED = object()
# What a subscription that cannot be moved to the new connection answers: gone, or the move refused.
_NOT_MOVED = (NotFound, Gone, BadRequest, MethodNotAllowed, Conflict)


class StreamError(CloudLinkError):
    """The WebSocket notification stream failed for good (refused, or the reconnect attempts ran out)."""


class StreamClosed(Exception):
    """The stream was closed: no more publications."""


class _Refused(Exception):
    def __init__(self, reason: str, fatal: bool = False) -> None:
        super().__init__(reason)
        self.fatal = fatal


class _Unanswered(ConnectionError):
    """The server closed the network connection before it answered CONNECT or SUBSCRIBE (the twin does so
    when the connection it names is gone)."""


class Target(Protocol):
    """Where the engine connects, and how that is kept alive (``_Lease``; tests give a fixed one)."""

    url: str
    topic: str
    auto: bool

    def wanted(self) -> bool: ...

    def lapsed(self) -> bool: ...

    def renew(self) -> None: ...

    def postpone(self) -> None: ...

    def retire(self) -> None: ...


# ============================================================================ the lease
class _Lease:
    """The connection and the subscription of one stream, and their renewal (see the module's text).
    ``call(name, *args)`` runs ``client.notifications.<name>(*args)`` and returns its JSON; it blocks, so the
    lease runs in the engine's thread or a worker thread, never on an event loop. ``auto``: renew by the
    schedule and after a refusal (``renew()`` may always be called)."""

    def __init__(self, call: Callable[..., Any], spec: dict[str, Any], lifetime: float | None, auto: bool,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if lifetime is not None and lifetime <= 0:
            raise ValueError("lifetime must be a positive number of seconds")
        self.call = call
        self.spec = spec
        self.lifetime = lifetime
        self.auto = auto
        self.clock = clock
        self.connection: dict[str, Any] = {}
        self.subscription: dict[str, Any] = {}
        self.renewals = 0
        self.due: float | None = None        # monotonic: when to renew
        self.expires: float | None = None    # monotonic: when the earlier of the two expires
        self.offset = 0.0                    # the service's clock minus the local wall clock, seconds
        self.closed = False
        self._retired: list[tuple[str, str]] = []   # (delete method, id): to delete once the session moved
        self._lock = threading.RLock()

    @property
    def url(self) -> str:
        return str(self.connection["url"])

    @property
    def topic(self) -> str:
        return str(self.subscription["subscriptionId"])

    # ------------------------------------------------------------------ operations (blocking)
    def open(self) -> None:
        with self._lock:
            connection, answered = self._new_connection()
            try:
                subscription = self._new_subscription(connection)
            except BaseException:
                self._discard("delete_connection", connection["connectionId"])
                raise
            self.connection, self.subscription = connection, subscription
            self._schedule(answered)

    def renew(self) -> None:
        """A new connection; the subscription moved to it with the new expiry (or a new subscription on it);
        the old connection (and subscription) retired: ``retire()`` deletes them once the session moved."""
        with self._lock:
            if self.closed:
                raise StreamClosed("the notification stream is closed")
            connection, answered = self._new_connection()
            current = self.subscription["subscriptionId"]
            try:
                moved = {"connectionId": connection["connectionId"], **self._expiry(connection)}
                try:
                    subscription = self.call("update_subscription", current, moved)
                    if not isinstance(subscription, dict) or "subscriptionId" not in subscription:
                        subscription = {**self.subscription, **moved}  # an answer without the subscription
                except _NOT_MOVED as exc:
                    log.info("CloudLink subscription %s not moved to the new connection (%s %s); creating a new one",
                             current, exc.status, exc.name, extra={"subscription_id": current})
                    subscription = self._new_subscription(connection)
                    if not isinstance(exc, (NotFound, Gone)):
                        self._retired.append(("delete_subscription", current))
            except BaseException:
                self._discard("delete_connection", connection["connectionId"])
                raise
            self._retired.append(("delete_connection", self.connection["connectionId"]))
            self.connection, self.subscription = connection, subscription
            self.renewals += 1
            self._schedule(answered)
            log.info("CloudLink notification lease renewed: connection %s, subscription %s until %s",
                     connection["connectionId"], self.topic, subscription.get("expiryDateTime"),
                     extra={"subscription_id": self.topic, "connection_id": connection["connectionId"]})

    def retire(self) -> None:
        """Delete what renewals replaced (the session has moved off it)."""
        with self._lock:
            while self._retired:
                self._discard(*self._retired.pop(0))

    def close(self) -> None:
        """Delete the subscription, the connection and anything retired."""
        with self._lock:
            self.closed = True
            if self.subscription:
                self._retired.append(("delete_subscription", self.subscription["subscriptionId"]))
            if self.connection:
                self._retired.append(("delete_connection", self.connection["connectionId"]))
            self.retire()

    # ------------------------------------------------------------------ the schedule
    def wanted(self) -> bool:
        """Automatic renewal is due."""
        return self.auto and self.due is not None and self.clock() >= self.due

    def lapsed(self) -> bool:
        """Whether the connection or the subscription is gone (expired by the local clock, or not found by
        the service): asked after the service refused or closed a session, before reconnecting."""
        if self.expires is not None and self.clock() >= self.expires:
            return True
        try:
            self.call("get_connection", self.connection["connectionId"])
            self.call("get_subscription", self.subscription["subscriptionId"])
        except (NotFound, Gone):
            return True
        return False

    def postpone(self) -> None:
        """A renewal failed: try again later, sooner as the expiry nears (never sooner than seed 002's 2 s)."""
        now = self.clock()
        left = (self.expires - now) if self.expires is not None else RENEW_RETRY_MAX * 4
        self.due = now + max(2.0, min(RENEW_RETRY_MAX, left / 4))

    def _schedule(self, answered: tuple[float, float]) -> None:
        """Due at ``RENEW_AT`` of the lifetime left at the connection's answer, on the service's clock
        (``expiryDateTime`` − ``createdOn``; the local wall clock stands in where ``createdOn`` is absent)."""
        monotonic, wall = answered
        created = parse_time(self.connection.get("createdOn"))
        server_now = created.timestamp() if created is not None else wall
        self.offset = server_now - wall
        expiries = [e.timestamp() for e in (parse_time(self.connection.get("expiryDateTime")),
                                            parse_time(self.subscription.get("expiryDateTime"))) if e is not None]
        if not expiries:
            self.due = self.expires = None
            return
        left = max(0.0, min(expiries) - server_now)
        self.expires = monotonic + left
        self.due = monotonic + RENEW_AT * left

    # ------------------------------------------------------------------ helpers
    def _new_connection(self) -> tuple[dict[str, Any], tuple[float, float]]:
        expiry = None
        if self.lifetime is not None:
            # On the service's clock as the last answer told it; the first time, on the local clock (where the
            # service's clock is behind, that first lease is longer and the renewal's is right; where it is
            # more than ``lifetime`` ahead, the service refuses the expiry and the stream does not open).
            expiry = datetime.fromtimestamp(time.time() + self.offset + self.lifetime, timezone.utc)
        connection = self.call("create_connection", "websocket", expiry)
        return connection, (self.clock(), time.time())

    def _new_subscription(self, connection: dict[str, Any]) -> dict[str, Any]:
        return self.call("create_subscription", {**self.spec, "transport": "websocket",
                                                 "connectionId": connection["connectionId"],
                                                 **self._expiry(connection)})

    def _expiry(self, connection: dict[str, Any]) -> dict[str, Any]:
        """The subscription lives as long as its connection (it is of no use without it)."""
        expiry = connection.get("expiryDateTime")
        return {"expiryDateTime": expiry} if expiry else {}

    def _discard(self, method: str, identifier: str) -> None:
        try:
            self.call(method, identifier)
        except CloudLinkError:
            pass  # logged by the client; it expires on its own


# ============================================================================ the MQTT session
class _Engine:
    """The MQTT session and its reconnect loop, in a thread. ``target`` says where to connect and keeps that
    alive; ``token(force)`` gives an access token (``force``: renew it first); ``deliver(publication)``
    receives each decoded publication."""

    def __init__(self, target: Target, *, client_id: str, token: Callable[[bool], str],
                 deliver: Callable[[dict[str, Any]], None], policy: RetryPolicy, qos: int = 1,
                 keepalive: int = 60, on_state: Callable[[], None] | None = None) -> None:
        if qos not in (0, 1):
            raise ValueError("qos must be 0 or 1")
        self.target, self.client_id, self.token, self.deliver = target, client_id, token, deliver
        self.policy, self.qos, self.keepalive = policy, qos, keepalive
        self.on_state = on_state or (lambda: None)
        self.ready, self.stopping, self.finished = threading.Event(), threading.Event(), threading.Event()
        self.error: StreamError | None = None
        self.connected = False
        self.connects = 0
        self._repair = False                    # the service refused: check the lease before the next attempt
        self._requests: list[Future[None]] = []  # renew() calls not yet taken up by a renewal
        self._moving: list[Future[None]] = []    # … taken up: done once the session runs on the new lease
        self._requests_lock = threading.Lock()
        self.thread = threading.Thread(target=self._run, name="cloudlink-mqtt", daemon=True)

    @property
    def url(self) -> str:
        return self.target.url

    @property
    def topic(self) -> str:
        return self.target.topic

    def start(self) -> None:
        self.thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.stopping.set()
        if self.thread.is_alive() and threading.current_thread() is not self.thread:
            self.thread.join(timeout)

    def request_renewal(self) -> "Future[None]":
        """Renew now (in the session's thread); the future completes once the session runs on the renewed
        connection and subscription, or fails with the renewal's error."""
        future: Future[None] = Future()
        with self._requests_lock:
            if self.finished.is_set():
                future.set_exception(self.error or StreamClosed("the notification stream is closed"))
            else:
                self._requests.append(future)
        return future

    # ------------------------------------------------------------------ the thread
    def _run(self) -> None:
        failures = 0
        moved = False   # a renewal moved the session: connect again at once
        try:
            while not self.stopping.is_set():
                just_moved, moved = moved, False
                if (self.connects or failures) and not just_moved:
                    if self.stopping.wait(self.policy.delay(None)):
                        break
                try:
                    repair, self._repair = self._repair, False
                    if (repair and self.target.lapsed()) or self._wanted():
                        self._renew()
                    # After a drop or a failure the token may be what ended it: renew it first.
                    token = self.token(failures > 0 or (self.connects > 0 and not just_moved))
                    moved = self._session(token)
                    failures = 0
                except StreamClosed:
                    break
                except _Refused as exc:
                    if self.stopping.is_set():
                        break
                    failures += 1
                    if exc.fatal:
                        self._fail(str(exc), None)
                        return
                    self._repair = self.target.auto  # the connection or the subscription may have expired
                    self._warn(f"refused: {exc}", failures)
                except _Unanswered as exc:
                    failures += 1
                    self._repair = self.target.auto
                    self._warn(f"{exc}", failures)
                except CloudLinkError as exc:
                    failures += 1
                    self._warn(f"renewing the token or the connection failed: {exc.status} {exc.name}: "
                               f"{exc.message}", failures)
                except (OSError, paho.WebsocketConnectionError, ValueError) as exc:
                    failures += 1
                    self._warn(f"{type(exc).__name__}: {exc}", failures)
                if failures > self.policy.max_retries:
                    self._fail(f"gave up after {failures} failed connection attempts", failures)
                    return
        finally:
            self.connected = False
            with self._requests_lock:
                self.finished.set()
            self._settle(self.error or StreamClosed("the notification stream is closed"), everything=True)
            self.on_state()

    def _wanted(self) -> bool:
        with self._requests_lock:
            return bool(self._requests) or self.target.wanted()

    def _renew(self) -> None:
        with self._requests_lock:
            self._moving += self._requests
            self._requests = []
        try:
            self.target.renew()
        except CloudLinkError as exc:
            self.target.postpone()
            self._settle(exc)
            raise

    def _settle(self, error: BaseException | None, everything: bool = False) -> None:
        """Complete the renewals taken up (``everything``: and those still waiting) with ``error`` or None."""
        with self._requests_lock:
            waiting, self._moving = self._moving, []
            if everything:
                waiting, self._requests = waiting + self._requests, []
        for future in waiting:
            if error is None:
                future.set_result(None)
            else:
                future.set_exception(error)

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
        log.error("CloudLink MQTT %s", self.error.describe(),
                  extra={**self.error.fields(), "subscription_id": self.topic})

    def _session(self, token: str) -> bool:
        """One network connection, until it drops (False), the engine stops (False) or a renewal moved the
        lease (True: connect to the new one at once)."""
        parts = urlsplit(self.url)
        if parts.scheme not in ("ws", "wss"):
            raise _Refused(f"the connection url must be ws:// or wss://, got {self.url!r}", fatal=True)
        client = paho.Client(CallbackAPIVersion.VERSION2, client_id=self.client_id, clean_session=False,
                             transport="websockets", protocol=paho.MQTTv311)
        client.ws_set_options(path=parts.path + (f"?{parts.query}" if parts.query else ""))
        if parts.scheme == "wss":
            client.tls_set()
        client.username_pw_set("cloudlink", token)
        connack: list[Any] = []
        suback: list[Any] = []
        client.on_connect = lambda c, u, flags, rc, p: connack.append(rc)
        client.on_subscribe = lambda c, u, mid, codes, p: suback.append(codes)
        client.on_message = lambda c, u, message: self._message(message)
        client.connect(parts.hostname or "", parts.port or (443 if parts.scheme == "wss" else 80),
                       keepalive=self.keepalive)
        moved = False
        try:
            self._pump(client, lambda: bool(connack), "CONNACK")
            if connack[0].is_failure:
                raise _Refused(f"CONNACK {connack[0]}")
            client.subscribe(self.topic, self.qos)
            self._pump(client, lambda: bool(suback), "SUBACK")
            if any(code.is_failure for code in suback[0]):
                # With a lease kept alive the subscription may just have expired: renewing re-creates it.
                raise _Refused(f"subscription {self.topic} refused (SUBACK {suback[0]})", fatal=not self.target.auto)
            self.connects += 1
            self.connected = True
            self.ready.set()
            self.on_state()
            self.target.retire()   # the session runs on the current connection: the replaced ones can go
            self._settle(None)
            while not self.stopping.is_set():
                if client.loop(timeout=0.1) != paho.MQTT_ERR_SUCCESS:
                    break  # the connection dropped
                if self._wanted():
                    try:
                        self._renew()
                    except CloudLinkError as exc:  # logged by the client; this session goes on meanwhile
                        log.warning("CloudLink MQTT %s: renewing the connection and subscription failed (%s %s);"
                                    " trying again later", self.url, exc.status, exc.name,
                                    extra={"url": self.url, "subscription_id": self.topic})
                        continue
                    moved = True
                    break
        finally:
            was_connected, self.connected = self.connected, False
            if self.stopping.is_set() or moved:
                client.disconnect()
                client.loop(timeout=0.1)
            sock = client.socket()
            if sock is not None:
                try:
                    sock.close()
                except OSError:
                    pass
            if was_connected and not self.stopping.is_set() and not moved:
                log.warning("CloudLink MQTT %s: the connection dropped", self.url,
                            extra={"url": self.url, "subscription_id": self.topic, "timestamp": utc_now_iso(),
                                   "will_retry": True})
        return moved

    def _pump(self, client: paho.Client, done: Callable[[], bool], what: str) -> None:
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while not done():
            if self.stopping.is_set():
                raise _Refused("closed")
            if client.loop(timeout=0.05) != paho.MQTT_ERR_SUCCESS:
                raise _Unanswered(f"the connection closed before the {what}")
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


# ============================================================================ the streams
class _Stream:
    """What the sync and the async stream share: the lease, the engine, and the blocking adapter
    (``_blocking(function, *args)``: call a client method from the session's thread and wait for its
    result) that both drive."""

    def __init__(self, client: Any, spec: dict[str, Any], *, on_publication: Any = None, qos: int = 1,
                 cleanup: bool = True, lifetime: float | timedelta | None = None, auto_renew: bool = True) -> None:
        if isinstance(lifetime, timedelta):
            lifetime = lifetime.total_seconds()
        self.client = client
        self.cleanup = cleanup
        self._callback = on_publication
        self._closed = False
        self._lease = _Lease(self._call, spec, lifetime, auto_renew)
        # One MQTT client id for the stream's life: the persistent session follows it across reconnects and
        # renewals (the subscription, and so the topic, may change).
        client_id = f"{client.core.app.app}-{client.core.app.session_id}-{uuid.uuid4().hex[:12]}"
        self._engine = _Engine(self._lease, client_id=client_id[:128], token=self._token, deliver=self._deliver,
                               policy=client.core.policy, qos=qos, on_state=self._state)

    def _blocking(self, function: Callable[..., Any], *args: Any) -> Any:
        raise NotImplementedError

    def _call(self, name: str, *args: Any) -> Any:
        return self._blocking(getattr(self.client.notifications, name), *args)

    def _token(self, force: bool) -> str:
        auth = self.client.auth
        return str(self._blocking(auth.refresh if force else auth.access_token))

    def _deliver(self, publication: dict[str, Any]) -> None:
        raise NotImplementedError

    def _state(self) -> None:
        raise NotImplementedError

    def _not_started(self) -> CloudLinkError:
        return self._engine.error or TransportFailure("the notification stream did not connect",
                                                      url=self._lease.connection.get("url"), method="MQTT")

    @property
    def connection(self) -> dict[str, Any]:
        """The current connection (``POST /connections``'s answer; renewals replace it)."""
        return self._lease.connection

    @property
    def subscription(self) -> dict[str, Any]:
        """The current subscription (its ``expiryDateTime`` moves with each renewal)."""
        return self._lease.subscription

    @property
    def subscription_id(self) -> str:
        return self._lease.topic

    @property
    def renewals(self) -> int:
        """Renewals of the connection and subscription so far."""
        return self._lease.renewals

    @property
    def connected(self) -> bool:
        return self._engine.connected

    @property
    def connects(self) -> int:
        """Successful connections so far (1 + reconnects, renewals included)."""
        return self._engine.connects

    @property
    def error(self) -> StreamError | None:
        return self._engine.error


class NotificationStream(_Stream):
    """Publications of one websocket subscription (sync client). Iterate it, or ``get(timeout)`` one, or give
    ``on_publication`` to ``client.notifications.stream``. ``close()`` (or a ``with`` block) ends it."""

    def __init__(self, client: "CloudLink", spec: dict[str, Any], **options: Any) -> None:
        self._queue: queue.Queue[Any] = queue.Queue()
        super().__init__(client, spec, **options)

    def _blocking(self, function: Callable[..., Any], *args: Any) -> Any:
        return function(*args)

    def _deliver(self, publication: dict[str, Any]) -> None:
        if self._callback is not None:
            self._callback(publication)
        else:
            self._queue.put(publication)

    def _state(self) -> None:
        if self._engine.finished.is_set():
            self._queue.put(_CLOSED)

    def start(self, timeout: float = 60.0) -> "NotificationStream":
        """Create the connection and the subscription, connect, and wait for the first SUBACK."""
        self._lease.open()
        self._engine.start()
        deadline = time.monotonic() + timeout
        while not self._engine.ready.wait(0.05):
            if self._engine.finished.is_set() or time.monotonic() > deadline:
                error = self._not_started()
                self.close()
                raise error
        return self

    def renew(self, timeout: float = 120.0) -> None:
        """Renew the connection and the subscription now (a new connection, the subscription moved to it
        with a new expiry, the session moved there); returns once the session runs on them. Not from
        ``on_publication``, which runs in the session's thread."""
        if threading.current_thread() is self._engine.thread:
            raise RuntimeError("renew() waits for the session's thread: do not call it from on_publication")
        self._engine.request_renewal().result(timeout)

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
            self._lease.close()

    def __enter__(self) -> "NotificationStream":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


class AsyncNotificationStream(_Stream):
    """Publications of one websocket subscription (async client): ``async for publication in stream``, or
    ``await stream.get(timeout)``; ``await stream.aclose()`` (or ``async with``) ends it. The session's
    thread reaches the client through the event loop, so the loop must keep running."""

    def __init__(self, client: "AsyncCloudLink", spec: dict[str, Any], **options: Any) -> None:
        self._loop = asyncio.get_running_loop()
        self._queue: asyncio.Queue[Any] = asyncio.Queue()
        self._ready = asyncio.Event()
        super().__init__(client, spec, **options)

    def _blocking(self, function: Callable[..., Any], *args: Any) -> Any:
        return asyncio.run_coroutine_threadsafe(function(*args), self._loop).result(timeout=300)

    def _deliver(self, publication: dict[str, Any]) -> None:
        self._loop.call_soon_threadsafe(self._dispatch, publication)

    def _dispatch(self, publication: dict[str, Any]) -> None:
        if self._callback is None:
            self._queue.put_nowait(publication)
            return
        try:
            result = self._callback(publication)
        except Exception:
            log.exception("CloudLink MQTT %s: the publication handler raised", self._engine.url)
            return
        if asyncio.iscoroutine(result):
            self._loop.create_task(result).add_done_callback(self._handler_done)

    def _handler_done(self, task: "asyncio.Task[Any]") -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("CloudLink MQTT %s: the publication handler raised", self._engine.url,
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

    async def start(self, timeout: float = 60.0) -> "AsyncNotificationStream":
        """Create the connection and the subscription, connect, and wait for the first SUBACK."""
        await asyncio.to_thread(self._lease.open)
        self._engine.start()
        try:
            await asyncio.wait_for(self._ready.wait(), timeout)
        except asyncio.TimeoutError:
            pass
        if not self._engine.ready.is_set():
            error = self._not_started()
            await self.aclose()
            raise error
        return self

    async def renew(self, timeout: float = 120.0) -> None:
        """Renew the connection and the subscription now; returns once the session runs on them."""
        await asyncio.wait_for(asyncio.wrap_future(self._engine.request_renewal()), timeout)

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
            await asyncio.to_thread(self._lease.close)

    async def __aenter__(self) -> "AsyncNotificationStream":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.aclose()
