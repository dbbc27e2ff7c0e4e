"""Secrets never reach the request journal, the audit's evidence or the server log: the values of credential
parameters in query strings (the request target), of credential headers (``Authorization`` keeps its
scheme, ``Cookie``, ``Set-Cookie``, signatures, API keys) and of credential fields in JSON and form bodies
(``password``, ``access_token``, ``client_secret``, ``signingSecret``, …) are replaced by ``REDACTED``. (The
journal keeps headers and the first ``BODY_KEPT`` bytes of each body so redacted; the audit hashes a body only
to recognise a retry.)

``install_log_redaction`` puts a filter on uvicorn's loggers, whose access log (and WebSocket lines) print the
full request target — ``/_callyard/stream?token=…`` included."""
from __future__ import annotations

import functools

import logging
import re
from typing import Any, NamedTuple
from urllib.parse import parse_qsl, urlencode

REDACTED = "REDACTED"
# Parameter names whose value is a credential (compared case-insensitively, ``-`` and ``_`` alike).
SECRET_NAMES = frozenset({"password", "token", "access_token", "refresh_token", "id_token", "client_secret",
                          "code", "code_verifier", "t", "sessionid", "session_id", "authorization", "signature",
                          "secret", "signingsecret", "apikey", "api_key", "cookie", "set_cookie"})
# A query parameter inside any text (a log line): name=value up to the next separator.
_IN_TEXT = re.compile(r"(?i)([?&;](?:" + "|".join(sorted((re.escape(n) for n in SECRET_NAMES), key=len,
                                                             reverse=True)) + r")=)[^&\s\"';]*")


def secret(name: str) -> bool:
    return name.lower().replace("-", "_") in SECRET_NAMES


def query(text: str) -> str:
    """A query string with the values of secret parameters redacted (the rest kept as sent)."""
    if not text:
        return text
    pairs = parse_qsl(text, keep_blank_values=True)
    if not any(secret(k) for k, _ in pairs):
        return text
    return urlencode([(k, REDACTED if secret(k) else v) for k, v in pairs], safe="*/:,{}$@ ")


BODY_KEPT = 4096
# "name": "value" of a secret field in JSON text (also in a truncated body, which no parser would read).
# A JSON member "name": value (a string, also one cut short by the kept length, or a bare value); a name is a
# credential when, lower-cased and without "-" and "_", it is one of SECRET_NAMES so written.
_JSON_MEMBER = re.compile(r'("([^"\\]{1,64})"\s*:\s*)("(?:[^"\\]|\\.)*"?|[^,}\]\s]+)')
_FOLDED_NAMES = frozenset(n.replace("_", "") for n in SECRET_NAMES)
_QUOTED_NAMES = tuple(f'"{n}"' for n in _FOLDED_NAMES)


def _fold(name: str) -> str:
    return name.lower().replace("-", "").replace("_", "")


def _json_text(text: str) -> str:
    folded = _fold(text)
    if not any(name in folded for name in _QUOTED_NAMES):   # most bodies name no credential: no regex pass
        return text
    return _JSON_MEMBER.sub(lambda m: m.group(1) + f'"{REDACTED}"' if _fold(m.group(2)) in _FOLDED_NAMES
                            else m.group(0), text)


_TEXTUAL = ("json", "text/", "x-www-form-urlencoded", "xml", "javascript", "event-stream")


class Kept(NamedTuple):
    """The start of a body as the journal keeps it until someone reads it (redacted then, once: off the
    request's path)."""
    data: bytes
    content_type: str | None
    total: int


def readable(value: Any) -> Any:
    """A kept body as the journal shows it (``body``); anything else as it is."""
    return _shown(value) if isinstance(value, Kept) else value


@functools.lru_cache(maxsize=4096)   # the journal's 2,000 entries × 2 bodies: each redacted once, however often read
def _shown(kept: Kept) -> str | None:
    return body(*kept)


def body(data: bytes, content_type: str | None, total: int) -> str | None:
    """The kept start of a body as text for the journal: secret fields redacted; a form as a redacted query
    string; a binary body only named. ``total``: its full length (more than kept: marked truncated)."""
    if not data:
        return None
    kind = (content_type or "").lower()
    tail = f" … ({total} bytes)" if total > len(data) else ""
    if kind and not any(t in kind for t in _TEXTUAL):
        return f"<{total} bytes of {kind.split(';')[0]}>"
    text = data.decode("utf-8", errors="replace")
    if "x-www-form-urlencoded" in kind:
        return query(text) + tail
    return _json_text(text) + tail


SECRET_HEADERS = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie", "x-api-key",
                            "webhook-signature", "x-console-csrf", "x-mitel-signature"})


def headers(raw: list[tuple[bytes, bytes]]) -> list[tuple[str, str]]:
    """ASGI headers as ``(name, value)`` text, the values of credentials redacted (a bearer keeps its scheme)."""
    out = []
    for name_b, value_b in raw:
        name, value = name_b.decode("latin-1").lower(), value_b.decode("latin-1")
        if name in SECRET_HEADERS or secret(name):
            scheme = value.split(" ", 1)[0] if name.endswith("authorization") and " " in value.strip() else ""
            value = f"{scheme} {REDACTED}" if scheme else REDACTED
        out.append((name, value))
    return out


def text(line: str) -> str:
    """Any text (a log line) with ``?name=value`` / ``&name=value`` of secret parameters redacted."""
    return _IN_TEXT.sub(lambda m: m.group(1) + REDACTED, line)


class RedactingFilter(logging.Filter):
    """Redacts secret query parameters in a log record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = text(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(text(a) if isinstance(a, str) else a for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: text(a) if isinstance(a, str) else a for k, a in record.args.items()}
        return True


_FILTER = RedactingFilter()


def install_log_redaction() -> None:
    """Filter the loggers that print request targets (idempotent)."""
    for name in ("uvicorn.access", "uvicorn.error", "uvicorn", "websockets.server"):
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)
