"""Server settings, from the command line (``callyard serve``) or tests."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass
class Settings:
    host: str = "127.0.0.1"
    port: int = 8080
    data_dir: Path = Path(".callyard")
    ephemeral: bool = False
    database_url: str | None = None
    tenant_file: Path | None = None
    clock: str = "real"  # real | manual
    open_control: bool = False
    # The control plane's operator credential (twin-wide reset, state, clock, global faults). None: a random
    # one is generated at start and printed in the banner.
    operator_token: str | None = None
    strict_app_header: bool = False
    rate_limit: float | None = None  # requests per second per token; None = off
    rate_burst: int = 20
    smtp: str | None = None
    # The inbound SMTP server (delivery/smtp_inbound.py): HOST:PORT to listen on (None: off), largest message
    smtp_listen: str | None = None
    smtp_max_bytes: int = 10 * 1024 * 1024
    id_seed: int | None = None
    retry_after_format: str = "seconds"  # seconds | http-date: how Retry-After is written
    # Input limits (issue 13): request bodies (413 beyond), the control plane's state import, per-account quotas
    max_body_bytes: int = 11 * 1024 * 1024        # a 10 MiB photo and its framing
    max_json_bytes: int = 4 * 1024 * 1024         # a JSON (or other non-upload) body, read whole
    max_snapshot_bytes: int = 256 * 1024 * 1024   # POST /_callyard/state
    quota_subscriptions: int = 10_000             # live subscriptions per account
    quota_connections: int = 10_000               # live notification connections per account
    quota_conversations: int = 100_000            # conversations per account
    # Slow and abundant clients (server.py): seconds for a request's headers, open connections at most
    header_timeout: float = 10.0
    max_connections: int = 10_000
    # Webhook targets (delivery/targets.py): CIDRs allowed in spite of the refusals, and CIDRs refused as well
    webhook_allow: tuple[str, ...] = ()
    webhook_refuse: tuple[str, ...] = ()

    def store_url(self) -> str | None:
        if self.ephemeral:
            return None
        if self.database_url:
            return self.database_url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'callyard.db').resolve()}"
