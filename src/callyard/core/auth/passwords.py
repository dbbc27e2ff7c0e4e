"""Password hashing with the standard library's scrypt (a memory-hard KDF; nothing to add as a dependency).

The cost is lower than a production identity provider would pick (n=2**12): this is a test twin whose
demo logins are hashed at every reset and whose token endpoint is load-tested. Snapshots never hold a
plaintext password.
"""
from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
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


def verify_password(password: str, stored: str | None) -> bool:
    if not stored or not stored.startswith("scrypt$"):
        return False
    _, salt_b64, digest_b64 = stored.split("$", 2)
    return hmac.compare_digest(_derive(password, base64.b64decode(salt_b64)), base64.b64decode(digest_b64))


async def verify_password_off_loop(password: str, stored: str | None) -> bool:
    """``verify_password`` in a worker thread: scrypt releases the GIL, so sign-ins use every core and the
    event loop serves other requests meanwhile instead of stalling for each derivation."""
    return await asyncio.to_thread(verify_password, password, stored)
