"""The password check's memo of recent successes: it answers only for the exact password against the exact
stored hash, never for a failure, and forgets after its lifetime or when full."""
from __future__ import annotations

import asyncio
from unittest import mock

from callyard.core.auth import passwords
from callyard.core.auth.passwords import hash_password, verify_password, verify_password_off_loop


def _derivations() -> mock._patch[mock.MagicMock]:
    return mock.patch.object(passwords, "_derive", wraps=passwords._derive)


def test_a_verified_pair_skips_the_derivation_next_time() -> None:
    stored = hash_password("s3cret!")
    with _derivations() as derive:
        assert verify_password("s3cret!", stored)
        assert verify_password("s3cret!", stored)
        assert asyncio.run(verify_password_off_loop("s3cret!", stored))
    assert derive.call_count == 1


def test_failures_are_never_remembered() -> None:
    stored = hash_password("s3cret!")
    with _derivations() as derive:
        assert not verify_password("guess", stored)
        assert not verify_password("guess", stored)
        assert not asyncio.run(verify_password_off_loop("guess", stored))
    assert derive.call_count == 3


def test_a_new_hash_of_the_user_is_checked_afresh() -> None:
    old = hash_password("s3cret!")
    assert verify_password("s3cret!", old)
    new = hash_password("other")          # the password changed: a new salt and digest
    assert not verify_password("s3cret!", new)
    assert verify_password("other", new)
    assert not verify_password("other", old)


def test_the_memo_forgets_after_its_lifetime_and_when_full() -> None:
    stored = hash_password("s3cret!")
    assert verify_password("s3cret!", stored)
    with mock.patch.object(passwords.time, "monotonic", return_value=passwords.time.monotonic() + 601), \
            _derivations() as derive:
        assert verify_password("s3cret!", stored)
    assert derive.call_count == 1
    memo = passwords._Verified()
    memo.SIZE = 2
    for word in ("a", "b", "c"):
        memo.remember(word, stored)
    assert not memo.hit("a", stored) and memo.hit("b", stored) and memo.hit("c", stored)


def test_anything_but_a_scrypt_hash_fails_without_deriving() -> None:
    with _derivations() as derive:
        assert not verify_password("x", None)
        assert not verify_password("x", "plain")
        assert not asyncio.run(verify_password_off_loop("x", ""))
    assert derive.call_count == 0
