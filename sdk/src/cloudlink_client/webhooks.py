"""Receiving Notifications webhooks: Standard Webhooks signature verification and a small receiver.

A webhook subscription's ``signingSecret`` (``whsec_<base64 key>``, returned once by
``POST /subscriptions``) signs every delivery: ``webhook-signature: v1,<base64 HMAC-SHA256 of
"{webhook-id}.{webhook-timestamp}.{body}">`` (several space-separated signatures may be present, one
matching is enough), and ``webhook-timestamp`` must be within 5 minutes of the receiver's clock. The check
below is the Standard Webhooks algorithm written with the stdlib ``hmac`` (it is a few lines, so no
dependency).

Delivery is at least once: ``webhook-id`` is stable across redeliveries, so receivers de-duplicate on it
(``SeenIds``). The secret exists only once the subscription does, and the subscription needs the
receiver's URL first, so a receiver takes its secrets as a mapping subscriptionId → secret (or a function)
that is filled in later; until a delivery's secret is known it answers 503 and the platform sends it again.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable, Mapping, Union

log = logging.getLogger("cloudlink_client")

TOLERANCE_SECONDS = 5 * 60
SECRET_PREFIX = "whsec_"
SEEN_IDS = 10_000

Secret = Union[str, bytes]
# One secret; subscriptionId → secret (read at each delivery, so it may be filled in later); a function of
# the subscriptionId (None when the body names none) giving the secret or None; or None (no secret yet).
Secrets = Union[Secret, Mapping[str, Secret], Callable[[Union[str, None]], Union[Secret, None]], None]


class WebhookVerificationError(ValueError):
    """The delivery is not authentic (bad or missing signature, timestamp out of tolerance)."""


@dataclass(frozen=True)
class WebhookDelivery:
    """One verified delivery: ``id`` (the ``webhook-id``, the same on every redelivery), ``timestamp``
    (``webhook-timestamp``, seconds since the epoch, when it was signed) and ``publication`` (the JSON
    envelope)."""

    id: str
    timestamp: int
    publication: dict[str, Any]

    @property
    def subscription_id(self) -> str | None:
        return _subscription_id(self.publication)


class SeenIds:
    """A bounded LRU of webhook-ids (``maxsize`` most recent): what a receiver has handled, so a redelivery
    is acknowledged without being handled twice. Thread-safe. An id is *claimed* while its delivery is being
    handled, *done* once handled, *released* when handling failed (the platform will send it again)."""

    def __init__(self, maxsize: int = SEEN_IDS) -> None:
        if maxsize < 1:
            raise ValueError("maxsize must be at least 1")
        self.maxsize = maxsize
        self._done: OrderedDict[str, None] = OrderedDict()
        self._busy: set[str] = set()
        self._lock = threading.Lock()

    def claim(self, webhook_id: str) -> str:
        """``"new"`` (now claimed: handle it, then ``done`` or ``release``), ``"seen"`` (handled before) or
        ``"busy"`` (being handled right now by another request)."""
        with self._lock:
            if webhook_id in self._done:
                self._done.move_to_end(webhook_id)
                return "seen"
            if webhook_id in self._busy:
                return "busy"
            self._busy.add(webhook_id)
            return "new"

    def done(self, webhook_id: str) -> None:
        with self._lock:
            self._busy.discard(webhook_id)
            self._done[webhook_id] = None
            self._done.move_to_end(webhook_id)
            while len(self._done) > self.maxsize:
                self._done.popitem(last=False)

    def add(self, webhook_id: str) -> bool:
        """Record an id at once (no claim): True the first time it is seen, False for a repeat — for
        deliveries handled on the spot, such as MQTT publications by ``publicationId``."""
        if self.claim(webhook_id) != "new":
            return False
        self.done(webhook_id)
        return True

    def release(self, webhook_id: str) -> None:
        with self._lock:
            self._busy.discard(webhook_id)

    def __contains__(self, webhook_id: object) -> bool:
        with self._lock:
            return webhook_id in self._done

    def __len__(self) -> int:
        with self._lock:
            return len(self._done)


def _key(secret: Secret) -> bytes:
    if isinstance(secret, bytes):
        return secret
    encoded = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError("the signing secret is not whsec_<base64>") from None


def sign(secret: Secret, webhook_id: str, timestamp: int, body: bytes | str) -> str:
    """The ``v1,<signature>`` of a delivery (what the sender puts in ``webhook-signature``)."""
    payload = body.decode("utf-8") if isinstance(body, bytes) else body
    digest = hmac.new(_key(secret), f"{webhook_id}.{timestamp}.{payload}".encode("utf-8"), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify_delivery(secret: Secret, headers: Mapping[str, str], body: bytes | str, *,
                    tolerance: float = TOLERANCE_SECONDS, now: float | None = None) -> WebhookDelivery:
    """Check a delivery's Standard Webhooks signature and timestamp; return it as a ``WebhookDelivery``.
    Raises ``WebhookVerificationError``."""
    lowered = {k.lower(): v for k, v in headers.items()}
    webhook_id = lowered.get("webhook-id")
    stamp = lowered.get("webhook-timestamp")
    signatures = lowered.get("webhook-signature")
    if not webhook_id or not stamp or not signatures:
        raise WebhookVerificationError("webhook-id, webhook-timestamp and webhook-signature are required")
    try:
        timestamp = int(stamp)
    except ValueError:
        raise WebhookVerificationError("webhook-timestamp is not a number of seconds") from None
    current = time.time() if now is None else now
    if abs(current - timestamp) > tolerance:
        raise WebhookVerificationError(f"webhook-timestamp is more than {tolerance:.0f} s away from now")
    expected = sign(secret, webhook_id, timestamp, body).split(",", 1)[1]
    for candidate in signatures.split():
        version, _, value = candidate.partition(",")
        if version == "v1" and hmac.compare_digest(value.encode(), expected.encode()):
            break
    else:
        raise WebhookVerificationError("no webhook-signature matches")
    publication = _json_object(body)
    if publication is None:
        raise WebhookVerificationError("the body is not a JSON object")
    return WebhookDelivery(webhook_id, timestamp, publication)


def verify_webhook(secret: Secret, headers: Mapping[str, str], body: bytes | str, *,
                   tolerance: float = TOLERANCE_SECONDS, now: float | None = None) -> dict[str, Any]:
    """Check a delivery's Standard Webhooks signature and timestamp; return the publication (the JSON
    body). Raises ``WebhookVerificationError``."""
    return verify_delivery(secret, headers, body, tolerance=tolerance, now=now).publication


def _json_object(body: bytes | str) -> dict[str, Any] | None:
    try:
        value = json.loads(body)
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _subscription_id(publication: Mapping[str, Any] | None) -> str | None:
    subscription = (publication or {}).get("subscription")
    found = subscription.get("subscriptionId") if isinstance(subscription, dict) else None
    return found if isinstance(found, str) and found else None


def secret_for(secrets: Secrets, body: bytes | str) -> Secret | None:
    """The secret that should have signed ``body``: ``secrets`` itself when it is one; else looked up by the
    publication's ``subscription.subscriptionId`` (read from the unverified body: a forged id only picks a
    secret the forger does not have). None when it is not known (yet)."""
    if secrets is None or isinstance(secrets, (str, bytes)):
        return secrets
    subscription_id = _subscription_id(_json_object(body))
    if isinstance(secrets, Mapping):
        return secrets.get(subscription_id) if subscription_id is not None else None
    return secrets(subscription_id)


def handle_webhook(secrets: Secrets, headers: Mapping[str, str], body: bytes,
                   on_delivery: Callable[[WebhookDelivery], Any], *, seen: SeenIds | None = None) -> int:
    """Framework-neutral handling of one delivery: find its secret, verify it, de-duplicate it on
    ``webhook-id`` (with ``seen``), hand it over, and return the HTTP status to answer:

    - 204: handled (or handled before: a redelivery is acknowledged, ``on_delivery`` is not called again);
    - 400: not authentic (the platform does not retry);
    - 503: its secret is not known yet, or the same delivery is being handled right now (the platform
      retries);
    - 500: ``on_delivery`` raised (the platform retries; the id is not marked as seen).
    """
    webhook_id = {k.lower(): v for k, v in headers.items()}.get("webhook-id")
    secret = secret_for(secrets, body)
    if secret is None:
        if isinstance(secrets, Mapping) and _subscription_id(_json_object(body)) is None:
            log.warning("CloudLink webhook rejected: the body names no subscription",
                        extra={"webhook_id": webhook_id})
            return 400
        log.info("CloudLink webhook %s: no signing secret yet; answered 503 so it is sent again", webhook_id,
                 extra={"webhook_id": webhook_id})
        return 503
    try:
        delivery = verify_delivery(secret, headers, body)
    except WebhookVerificationError as exc:
        log.warning("CloudLink webhook rejected: %s", exc, extra={"webhook_id": webhook_id})
        return 400
    claim = seen.claim(delivery.id) if seen is not None else "new"
    if claim == "seen":
        log.debug("CloudLink webhook %s delivered again; already handled", delivery.id,
                  extra={"webhook_id": delivery.id})
        return 204
    if claim == "busy":
        return 503
    try:
        on_delivery(delivery)
    except Exception:
        if seen is not None:
            seen.release(delivery.id)
        log.exception("CloudLink webhook handler raised",
                      extra={"webhook_id": delivery.id, "publication_id": delivery.publication.get("publicationId")})
        return 500
    if seen is not None:
        seen.done(delivery.id)
    return 204


def webhook_handler(secrets: Secrets, on_delivery: Callable[[WebhookDelivery], Any], *,
                    dedupe: bool | SeenIds = True) -> type[BaseHTTPRequestHandler]:
    """A ``http.server`` request handler class that receives deliveries on any path (``handle_webhook``).
    ``secrets`` may be filled in after the server is up (a dict subscriptionId → secret, or a function);
    ``dedupe`` (default on) acknowledges redeliveries of an already handled ``webhook-id`` without calling
    ``on_delivery`` again (``True``: a ``SeenIds`` of its own, ``Handler.seen``; or a ``SeenIds`` to share;
    ``False``: off)::

        secrets: dict[str, str] = {}
        server = ThreadingHTTPServer(("0.0.0.0", 8000), webhook_handler(secrets, handle))
        threading.Thread(target=server.serve_forever, daemon=True).start()
        subscription = client.notifications.create_subscription(deviceId=URL, transport="webhook", ...)
        secrets[subscription["subscriptionId"]] = subscription["signingSecret"]
    """
    tracker = SeenIds() if dedupe is True else (dedupe or None)

    class Handler(BaseHTTPRequestHandler):
        seen = tracker

        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            status = handle_webhook(secrets, dict(self.headers.items()), body, on_delivery, seen=tracker)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    return Handler
