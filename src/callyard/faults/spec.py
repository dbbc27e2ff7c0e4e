"""The fault specification as a caller writes it (the control plane's ``POST /_callyard/faults`` body, the
console's fault form): kinds, route, status, Retry-After, ratio, count, latency. Validated here, once, for
every façade that creates faults."""
from __future__ import annotations

from email.utils import parsedate_to_datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, StrictStr, model_validator

from callyard.faults.service import DISTRIBUTIONS, KINDS


class Latency(BaseModel):
    model_config = ConfigDict(extra="forbid")
    distribution: Literal["fixed", "uniform", "normal", "exponential"] = "fixed"
    ms: float | None = Field(default=None, ge=0, le=60_000)
    minMs: float | None = Field(default=None, ge=0, le=60_000)
    maxMs: float | None = Field(default=None, ge=0, le=60_000)
    meanMs: float | None = Field(default=None, ge=0, le=60_000)
    stddevMs: float | None = Field(default=None, ge=0, le=60_000)

    @model_validator(mode="after")
    def _needs(self) -> "Latency":
        needed = {"fixed": ("ms",), "uniform": ("minMs", "maxMs"), "normal": ("meanMs",),
                  "exponential": ("meanMs",)}[self.distribution]
        missing = [name for name in needed if getattr(self, name) is None]
        if missing:
            raise ValueError(f"a {self.distribution} latency needs {', '.join(missing)}")
        if self.distribution == "uniform" and self.minMs > self.maxMs:   # type: ignore[operator]
            raise ValueError("minMs must not exceed maxMs")
        return self


class FaultSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    kind: Literal["http", "webhook.drop", "webhook.duplicate", "token.expire"] = "http"
    route: str | None = Field(default=None, max_length=500, description="path, {param} = one segment, * = any")
    method: Literal["GET", "POST", "PUT", "PATCH", "DELETE", "get", "post", "put", "patch", "delete"] | None = None
    status: int | None = Field(default=None, ge=400, le=599)
    retryAfter: StrictInt | StrictStr | None = Field(default=None, description="seconds, or an HTTP-date")
    retryAfterFormat: Literal["seconds", "http-date"] | None = Field(
        default=None, description="how seconds are written in Retry-After (default: the twin's --retry-after-format)")
    ratio: float = Field(default=1.0, gt=0, le=1)
    count: int | None = Field(default=None, ge=1, le=1_000_000_000)
    latency: Latency | None = None
    body: dict[str, Any] | None = None
    subscriptionId: str | None = None
    principalId: str | None = None

    @model_validator(mode="after")
    def _retry_after(self) -> "FaultSpec":
        value = self.retryAfter
        if isinstance(value, str) and value.strip().isdigit():
            value = self.retryAfter = int(value)
        if isinstance(value, int) and not 0 <= value <= 86_400:
            raise ValueError("retryAfter must be between 0 and 86400 seconds")
        if isinstance(value, str):
            try:
                parsedate_to_datetime(value)
            except (TypeError, ValueError):
                raise ValueError("retryAfter must be seconds or an HTTP-date (Wed, 21 Oct 2026 07:28:00 GMT)") from None
        return self


assert set(KINDS) == set(FaultSpec.model_fields["kind"].annotation.__args__)  # type: ignore[union-attr]
assert set(DISTRIBUTIONS) == set(Latency.model_fields["distribution"].annotation.__args__)  # type: ignore[union-attr]
