"""One id generator for the twin. Seeded, it makes snapshots and test runs reproducible."""
from __future__ import annotations

import hashlib
import random
import secrets
import uuid


class Ids:
    def __init__(self, seed: int | None = None) -> None:
        self._random = random.Random(seed) if seed is not None else None

    def _bits(self, n: int) -> int:
        return self._random.getrandbits(n) if self._random else secrets.randbits(n)

    def uuid(self) -> str:
        """A version-4 UUID string (CloudLink accountId, userId, principalId, …)."""
        return uuid4_text(self._bits(128))

    def hex32(self) -> str:
        """32 lowercase hex digits (the shape of a CloudLink subscriptionId)."""
        return f"{self._bits(128):032x}"

    def digits(self, n: int) -> str:
        """A numeric id of n digits not starting with 0 (accountNumber, partnerId)."""
        low = 10 ** (n - 1)
        return str(low + self._bits(64) % (9 * low))

    def secret(self) -> str:
        """A client secret. Always from the OS randomness, even when seeded: secrets are not for replay."""
        return secrets.token_urlsafe(32)


_V4_CLEAR = ~((0xC000 << 48) | (0xF000 << 64))
_V4_SET = (0x8000 << 48) | (4 << 76)


def uuid4_text(bits: int) -> str:
    """``str(uuid.UUID(int=bits, version=4))`` (128 random bits with the version and variant set) without
    building a UUID object: the ids stamped per request and per event."""
    return _dashed("%032x" % ((bits & _V4_CLEAR) | _V4_SET))


def uuid5(namespace: uuid.UUID, name: str) -> str:
    """``str(uuid.uuid5(namespace, name))`` (RFC 4122 name-based, SHA-1), without building a UUID object: the
    same text at a third of the cost, for ids derived per event."""
    digest = bytearray(hashlib.sha1(namespace.bytes + name.encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50   # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80   # the RFC 4122 variant
    return _dashed(digest.hex())


def _dashed(h: str) -> str:
    """32 hex digits in a UUID's 8-4-4-4-12 groups."""
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"
