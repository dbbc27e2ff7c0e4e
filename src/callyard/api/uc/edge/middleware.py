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
from urllib.parse import parse_qsl, urlencode

from callyard.api.common.middleware import header
from callyard.api.family import ASGIApp, Problem, Receive, Scope, Send
from callyard.api.uc.edge.errors import body

OVERRIDABLE = ("PUT", "DELETE")
PRODUCED = ("application/json", "text/event-stream", "application/dialog-info+xml",
            "application/telepo-queue-statistics+xml", "application/app-config-data", "text/html",
            "application/pidf+xml", "image/jpeg", "image/png", "image/gif", "image/webp", "image/bmp")
OTHER_BODIES = ("application/pidf+xml", "application/octet-stream")   # besides JSON; and image/*


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
        override = header(scope, b"x-http-method-override")
        if override is not None:
            wanted = override.strip().upper()
            if scope["method"] != "POST" or wanted not in OVERRIDABLE + ("POST",):
                await Problem(400, body("x-http-method-override.not.valid",
                                        "X-HTTP-Method-Override tunnels PUT or DELETE through a POST",
                                        "X-HTTP-Method-Override", override)).send(send)
                return
            scope = {**scope, "method": wanted}
        if not accepts(header(scope, b"accept")):
            await Problem(406, body("accept.not.supported", f"this API answers {', '.join(PRODUCED[:2])} and the "
                                    "XML media types of its streams", "Accept", header(scope, b"accept") or ""
                                    )).send(send)
            return
        if _has_body(scope) and not json_content(header(scope, b"content-type")):
            await Problem(415, body("content.type.not.supported", "a request body is JSON "
                                    "(Content-Type: application/json)", "Content-Type",
                                    header(scope, b"content-type") or "")).send(send)
            return
        await self.app(scope, receive, send)


def _has_body(scope: Scope) -> bool:
    if scope["method"] in ("GET", "HEAD", "OPTIONS"):
        return False
    length = header(scope, b"content-length")
    if length is not None:
        return length.strip() not in ("", "0")
    return header(scope, b"transfer-encoding") is not None
