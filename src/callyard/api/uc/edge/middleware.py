"""``UcEdge``: the middleware of UC requests only.

* ``X-HTTP-Method-Override: PUT|DELETE`` on a POST tunnels that method (for clients that cannot send it).
* ``Content-Type``: a request with a body sends JSON (``application/json`` or a ``+json`` type), a PIDF document
  (``application/pidf+xml``, presence updates) or an image (``image/*``, ``application/octet-stream``: photo
  uploads); else 415.
* ``?t=<ticket>``: the request journal records the query with the ticket redacted, and the rate limit counts
  the ticket like a bearer token.
* ``Accept``: the client must accept what the family answers (JSON; ``text/event-stream`` and the XML media
  types of the streams; HTML for the docs page); else 406. A request without ``Accept`` is read as ``*/*``.
"""
from __future__ import annotations

import hashlib
from functools import lru_cache
from urllib.parse import parse_qsl, urlencode

from callyard.api.family import ASGIApp, Problem, Receive, Scope, Send
from callyard.api.uc.edge.errors import body

OVERRIDABLE = ("PUT", "DELETE")
PRODUCED = ("application/json", "text/event-stream", "application/dialog-info+xml",
            "application/telepo-queue-statistics+xml", "application/app-config-data", "text/html",
            "application/pidf+xml", "image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp")
OTHER_BODIES = ("application/pidf+xml", "application/octet-stream")   # besides JSON; and image/*


@lru_cache(maxsize=256)   # a client sends the same few Accept headers again and again
def accepts(accept: str | None) -> bool:
    if not accept or not accept.strip():
        return True
    for item in accept.split(","):
        media, *params = [p.strip() for p in item.split(";")]
        if any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params):
            continue
        media = media.lower()
        if media in ("*/*", "*") or media in PRODUCED:
            return True
        kind, _, sub = media.partition("/")
        if sub == "*" and any(p.startswith(kind + "/") for p in PRODUCED):
            return True
        if sub.endswith("+json"):
            return True
    return False


@lru_cache(maxsize=256)
def json_content(content_type: str | None) -> bool:
    media = (content_type or "").split(";")[0].strip().lower()
    return (media == "application/json" or (media.startswith("application/") and media.endswith("+json"))
            or media in OTHER_BODIES or media.startswith("image/"))


class UcEdge:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        query = scope.get("query_string", b"")
        if b"t=" in query:
            pairs = parse_qsl(query.decode("latin-1"), keep_blank_values=True)
            ticket = next((value for name, value in pairs if name == "t"), None)
            if ticket:
                downstream = dict(scope)   # the route reads the ticket; what the journal keeps does not
                scope["query_string"] = urlencode([(n, "REDACTED" if n == "t" else v) for n, v in pairs]).encode()
                if scope["state"].get("token_id") is None:
                    scope["state"]["token_id"] = hashlib.sha256(ticket.encode()).hexdigest()[:16]
                scope = downstream
        found = _headers(scope)
        override = found.get(b"x-http-method-override")
        if override is not None:
            wanted = override.strip().upper()
            if scope["method"] != "POST" or wanted not in OVERRIDABLE + ("POST",):
                await Problem(400, body("x-http-method-override.not.valid",
                                        "X-HTTP-Method-Override tunnels PUT or DELETE through a POST",
                                        "X-HTTP-Method-Override", override)).send(send)
                return
            scope = {**scope, "method": wanted}
        accept = found.get(b"accept")
        if not accepts(accept):
            await Problem(406, body("accept.not.supported", f"this API answers {', '.join(PRODUCED[:2])} and the "
                                    "XML media types of its streams", "Accept", accept or "")).send(send)
            return
        content_type = found.get(b"content-type")
        if _has_body(scope["method"], found) and not json_content(content_type):
            await Problem(415, body("content.type.not.supported", "a request body is JSON "
                                    "(Content-Type: application/json)", "Content-Type", content_type or "")).send(send)
            return
        await self.app(scope, receive, send)


_READ = (b"x-http-method-override", b"accept", b"content-type", b"content-length", b"transfer-encoding")


def _headers(scope: Scope) -> dict[bytes, str]:
    """The first value of each header the edge reads (as ``header`` finds it), in one pass."""
    found: dict[bytes, str] = {}
    for key, value in scope.get("headers", []):
        if key in _READ and key not in found:
            found[key] = value.decode("latin-1")
    return found


def _has_body(method: str, found: dict[bytes, str]) -> bool:
    if method in ("GET", "HEAD", "OPTIONS"):
        return False
    length = found.get(b"content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return found.get(b"transfer-encoding") is not None
