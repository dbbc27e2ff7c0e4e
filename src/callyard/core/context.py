"""Per-request context the core may read without knowing about HTTP: the correlation id of the request
that caused a change, so events and mails carry it."""
from contextvars import ContextVar

correlation_id: ContextVar[str | None] = ContextVar("callyard_correlation_id", default=None)
