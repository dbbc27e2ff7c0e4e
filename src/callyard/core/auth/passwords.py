"""Password hashing with the standard library's scrypt (a memory-hard KDF; nothing to add as a dependency).

The cost is lower than a production identity provider would pick (n=2**12): this is a test twin whose
demo logins are hashed at every reset and whose token endpoint is load-tested. Snapshots never hold a
plaintext password.

Successful checks are remembered for a while (``_Verified``), as Apache's mod_authn_socache does: a load test
signs the same users in hundreds of times a second, and each scrypt derivation costs ~10 ms of CPU. The memo
holds an HMAC (a key drawn at start, never stored) of the stored hash and the offered password, so it
answers only for exactly that password against exactly that hash: a changed password, a reset or a failed
guess is never served from it (failures are not remembered, so guessing pays scrypt every time).
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import threading
import time
from functools import lru_cache

_N, _R, _P = 2 ** 12, 8, 1


def _derive(password: str, salt: bytes) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    return "scrypt$" + base64.b64encode(salt).decode() + "$" + base64.b64encode(_derive(password, salt)).decode()


@lru_cache(maxsize=64)
def hash_fixture_password(password: str) -> str:
    """Fixture users share demo passwords and are re-created at every reset: hash each distinct one once
    per process."""
    return hash_password(password)


class _Verified:
    """Recently verified (stored hash, password) pairs, as keyed digests with the time they were verified."""

    TTL = 600.0          # seconds a verification is reused
    SIZE = 4096          # pairs remembered; the oldest go first

    def __init__(self) -> None:
        self._key = os.urandom(32)
        self._seen: dict[bytes, float] = {}
        self._lock = threading.Lock()

    def _digest(self, password: str, stored: str) -> bytes:
        return hmac.new(self._key, stored.encode() + b"\0" + password.encode(), hashlib.sha256).digest()

    def hit(self, password: str, stored: str) -> bool:
        digest = self._digest(password, stored)
        with self._lock:
            at = self._seen.get(digest)
            if at is None:
                return False
            if time.monotonic() - at > self.TTL:
                del self._seen[digest]
                return False
            return True

    def remember(self, password: str, stored: str) -> None:
        digest = self._digest(password, stored)
        with self._lock:
            self._seen.pop(digest, None)
            self._seen[digest] = time.monotonic()
            while len(self._seen) > self.SIZE:
                del self._seen[next(iter(self._seen))]


_verified = _Verified()


def _check(password: str, stored: str) -> bool:
    _, salt_b64, digest_b64 = stored.split("$", 2)
    if hmac.compare_digest(_derive(password, base64.b64decode(salt_b64)), base64.b64decode(digest_b64)):
        _verified.remember(password, stored)
        return True
    return False


def verify_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    return _verified.hit(password, stored) or _check(password, stored)


async def verify_password_off_loop(password: str, stored: str | None) -> bool:
    """``verify_password`` with the derivation in a worker thread: scrypt releases the GIL, so sign-ins use every
    core and the event loop serves other requests meanwhile instead of stalling for each derivation. A pair
    verified recently is answered on the loop."""
    if not stored or not stored.startswith("scrypt$"):
        return False
    if _verified.hit(password, stored):
        return True
    return await asyncio.to_thread(_check, password, stored)
