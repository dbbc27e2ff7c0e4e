"""How ``Retry-After`` is written: delta-seconds (RFC 9110's first form, the default) or an HTTP-date (the
second form, which Mitel's own sample client parses). ``callyard serve --retry-after-format`` sets it for the
twin; a fault may choose its own (``retryAfterFormat``)."""
from __future__ import annotations

import time
from email.utils import formatdate

FORMATS = ("seconds", "http-date")


def retry_after(seconds: int, fmt: str = "seconds", *, now: float | None = None) -> str:
    """``seconds`` from now in the chosen form. HTTP-dates are on the wall clock (a client sleeps real time)
    and rounded up to the next whole second, so a client that waits until then never comes back too soon."""
    if fmt == "http-date":
        return formatdate(int((time.time() if now is None else now) + seconds + 0.999), usegmt=True)
    return str(seconds)
