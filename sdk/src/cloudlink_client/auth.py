"""Grants, PKCE and the token manager's state.

Tokens are opaque to this package: it never decodes one (seed 002 forbids it). The expiry is measured on
the local clock from the ``expires_in`` of the token response; the claims come from ``GET /token``
(``client.auth.claims()``).
"""
from __future__ import annotations

import base64
import hashlib
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping


# ---------------------------------------------------------------------------- grants
@dataclass(frozen=True, repr=False)
class Password:
    """``grant_type=password``: a user's credentials (for self-assessed applications and development; seed
    002 requires the authorization code flow for user authentication once the application has a clientId)."""

    username: str
    password: str
    account_id: str | None = None
    client_id: str | None = None
    scope: str | None = None

    def form(self) -> dict[str, str]:
        return _clean({"grant_type": "password", "username": self.username, "password": self.password,
                       "account_id": self.account_id, "client_id": self.client_id, "scope": self.scope})

    def __repr__(self) -> str:
        return f"Password(username={self.username!r}, account_id={self.account_id!r})"


@dataclass(frozen=True, repr=False)
class ClientCredentials:
    """``grant_type=client_credentials``: a server-side application authenticating as a client."""

    client_id: str
    client_secret: str
    account_id: str | None = None
    scope: str | None = None

    def form(self) -> dict[str, str]:
        return _clean({"grant_type": "client_credentials", "client_id": self.client_id,
                       "client_secret": self.client_secret, "account_id": self.account_id, "scope": self.scope})

    def __repr__(self) -> str:
        return f"ClientCredentials(client_id={self.client_id!r}, account_id={self.account_id!r})"


@dataclass(frozen=True, repr=False)
class RefreshToken:
    """Start from a stored refresh token (``grant_type=refresh_token``). Not re-runnable once the refresh
    token is spent or expired."""

    refresh_token: str

    def form(self) -> dict[str, str]:
        return {"grant_type": "refresh_token", "refresh_token": self.refresh_token}

    def __repr__(self) -> str:
        return "RefreshToken(…)"


Grant = Password | ClientCredentials | RefreshToken


def _clean(form: Mapping[str, str | None]) -> dict[str, str]:
    return {k: v for k, v in form.items() if v is not None}


# ---------------------------------------------------------------------------- PKCE (RFC 7636)
@dataclass(frozen=True, repr=False)
class Pkce:
    """A PKCE verifier and its S256 challenge."""

    verifier: str
    challenge: str
    method: str = "S256"

    def __repr__(self) -> str:
        return f"Pkce(challenge={self.challenge!r}, method={self.method!r})"


def s256(verifier: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(verifier.encode("ascii")).digest()).rstrip(b"=").decode("ascii")


def make_pkce(verifier: str | None = None) -> Pkce:
    """A fresh verifier (43 characters from 32 random bytes, the RFC's recommendation) and its S256
    challenge; or the challenge of the ``verifier`` given (43 to 128 unreserved characters)."""
    if verifier is None:
        verifier = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode("ascii")
    allowed = set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")
    if not 43 <= len(verifier) <= 128 or set(verifier) - allowed:
        raise ValueError("a PKCE code_verifier is 43 to 128 characters of [A-Za-z0-9-._~] (RFC 7636 §4.1)")
    return Pkce(verifier, s256(verifier))


# ---------------------------------------------------------------------------- token state
@dataclass
class TokenState:
    """The current token and when it is due for renewal on the local clock. Changed only under the
    client's refresh lock; read without it (a reference swap)."""

    clock: Callable[[], float] = time.monotonic
    refresh_margin: float = 60.0
    grant: Grant | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    expires_at: float | None = None
    lifetime: float | None = None
    response: dict[str, Any] = field(default_factory=dict)
    generation: int = 0
    refused_token: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def stale(self) -> bool:
        """No token, a refused token, or a token within its refresh margin of expiry: ``refresh_margin``
        seconds, less for short tokens (a tenth of the lifetime, but at least 1 s — token expiry times are
        whole seconds, so a token may end up to 1 s before ``expires_in`` says — and at most half of it)."""
        if self.access_token is None or self.access_token == self.refused_token:
            return True
        if self.expires_at is None:
            return False
        lifetime = self.lifetime or 0.0
        margin = min(self.refresh_margin, max(1.0, lifetime / 10), lifetime / 2)
        return self.clock() >= self.expires_at - margin

    def install(self, response: Mapping[str, Any], sent_at: float) -> None:
        """Take a token response; ``sent_at`` is the local clock when the token request was sent (so the
        expiry is never later than the service's)."""
        with self.lock:
            access = response.get("access_token")
            if not isinstance(access, str) or not access:
                raise ValueError("the token response has no access_token")
            self.access_token = access
            refresh = response.get("refresh_token")
            if isinstance(refresh, str) and refresh:
                self.refresh_token = refresh
            expires_in = response.get("expires_in")
            try:
                lifetime = float(expires_in) if expires_in is not None else None
            except (TypeError, ValueError):
                lifetime = None
            self.lifetime = lifetime
            self.expires_at = sent_at + lifetime if lifetime is not None else None
            self.response = dict(response)
            self.generation += 1

    def refuse(self, token: str | None) -> None:
        """The service answered 401 to ``token``: it is never sent again; the next use renews it first."""
        with self.lock:
            if token is not None:
                self.refused_token = token

    def forget_refresh_token(self) -> None:
        with self.lock:
            self.refresh_token = None

    def clear(self) -> None:
        with self.lock:
            self.access_token = self.refresh_token = None
            self.expires_at = self.lifetime = None
            self.response = {}
            self.generation += 1
