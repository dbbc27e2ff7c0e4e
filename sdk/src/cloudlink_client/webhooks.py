"""Receiving Notifications webhooks: Standard Webhooks signature verification and a small receiver.

A webhook subscription's ``signingSecret`` (``whsec_<base64 key>``, returned once by
``POST /subscriptions``) signs every delivery: ``webhook-signature: v1,<base64 HMAC-SHA256 of
"{webhook-id}.{webhook-timestamp}.{body}">`` (several space-separated signatures may be present, one
matching is enough), and ``webhook-timestamp`` must be within 5 minutes of the receiver's clock. The check
below is the Standard Webhooks algorithm written with the stdlib ``hmac`` (it is a few lines, so no
dependency); ``webhook-id`` is stable across redeliveries, so receivers de-duplicate on it.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import logging
import time
from http.server import BaseHTTPRequestHandler
from typing import Any, Callable, Mapping

log = logging.getLogger("cloudlink_client")

TOLERANCE_SECONDS = 5 * 60
SECRET_PREFIX = "whsec_"


class WebhookVerificationError(ValueError):
    """The delivery is not authentic (bad or missing signature, timestamp out of tolerance)."""


def _key(secret: str | bytes) -> bytes:
    if isinstance(secret, bytes):
        return secret
    encoded = secret[len(SECRET_PREFIX):] if secret.startswith(SECRET_PREFIX) else secret
    try:
        return base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise WebhookVerificationError("the signing secret is not whsec_<base64>") from None


def sign(secret: str | bytes, webhook_id: str, timestamp: int, body: bytes | str) -> str:
    """The ``v1,<signature>`` of a delivery (what the sender puts in ``webhook-signature``)."""
    payload = body.decode("utf-8") if isinstance(body, bytes) else body
    digest = hmac.new(_key(secret), f"{webhook_id}.{timestamp}.{payload}".encode("utf-8"), hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode("ascii")


def verify_webhook(secret: str | bytes, headers: Mapping[str, str], body: bytes | str, *,
                   tolerance: float = TOLERANCE_SECONDS, now: float | None = None) -> dict[str, Any]:
    """Check a delivery's Standard Webhooks signature and timestamp; return the publication (the JSON
    body). Raises ``WebhookVerificationError``."""
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
    try:
        publication = json.loads(body)
    except ValueError:
        raise WebhookVerificationError("the body is not JSON") from None
    if not isinstance(publication, dict):
        raise WebhookVerificationError("the body is not a JSON object")
    return publication


def handle_webhook(secret: str | bytes, headers: Mapping[str, str], body: bytes,
                   on_publication: Callable[[dict[str, Any]], Any]) -> int:
    """Framework-neutral handling of one delivery: verify, hand the publication over, and return the HTTP
    status to answer (204 done; 400 not authentic, the platform does not retry; 500 the handler raised, the
    platform retries)."""
    try:
        publication = verify_webhook(secret, headers, body)
    except WebhookVerificationError as exc:
        log.warning("CloudLink webhook rejected: %s", exc,
                    extra={"webhook_id": {k.lower(): v for k, v in headers.items()}.get("webhook-id")})
        return 400
    try:
        on_publication(publication)
    except Exception:
        log.exception("CloudLink webhook handler raised",
                      extra={"publication_id": publication.get("publicationId")})
        return 500
    return 204


def webhook_handler(secret: str | bytes, on_publication: Callable[[dict[str, Any]], Any]) -> type[BaseHTTPRequestHandler]:
    """A ``http.server`` request handler class that receives deliveries on any path::

        server = ThreadingHTTPServer(("0.0.0.0", 8000), webhook_handler(secret, print))
        server.serve_forever()
    """

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802 - http.server's naming
            length = int(self.headers.get("content-length") or 0)
            body = self.rfile.read(length)
            status = handle_webhook(secret, dict(self.headers.items()), body, on_publication)
            self.send_response(status)
            self.send_header("content-length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            return None

    return Handler
