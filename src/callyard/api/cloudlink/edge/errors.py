"""CloudLink's error envelope: ``{name, message}`` (some errors add fields) with the platform's statuses, and
the 429 of the rate limit as the gateway answers it (``{message}`` and ``Retry-After``)."""
from __future__ import annotations

from callyard.api.common.errors import HTTP_STATUSES, NameMessageEnvelope, ajv_wording
from callyard.api.family import Problem
from callyard.core.errors import CoreError, TooManyRequests



class CloudLinkEnvelope(NameMessageEnvelope):
    def core_error(self, exc: CoreError) -> Problem:
        if isinstance(exc, TooManyRequests):
            return Problem(self.status_of(exc), {"message": exc.message}, {"Retry-After": str(exc.retry_after)})
        return super().core_error(exc)


ERRORS = CloudLinkEnvelope(HTTP_STATUSES, ajv_wording)
