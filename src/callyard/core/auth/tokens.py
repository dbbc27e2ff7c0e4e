"""Signed tokens: RS256 JWTs issued and verified with PyJWT; the RSA key is generated once and kept in the
store's meta table, so tokens survive a restart and the JWKS stays stable. Expiry is checked against the
twin's clock (real or virtual), not the machine's."""
from __future__ import annotations

import json
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from callyard.core.errors import Unauthorized
from callyard.core.runtime import Runtime

KEY_META = "signing_key"


VERIFIED_CACHE = 4096  # verified tokens remembered


class TokenService:
    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.issuer = "http://127.0.0.1:8080/authentication/2017-09-01"
        self._private_pem: bytes | None = None
        self._private_key: rsa.RSAPrivateKey | None = None
        self._public_key: Any = None
        self._verified: dict[str, dict[str, Any]] = {}
        self.kid = ""
        # Forced expiry (fault injection): access tokens issued at or before a cutoff count as expired.
        # Tokens signed in the cutoff's own second after it are remembered by jti, so a token refreshed at
        # once (or on a virtual clock that has not moved) is valid.
        self._forced: list[tuple[float, str | None, set[str], frozenset[str] | None]] = []

    async def load_or_create_key(self) -> None:
        pem = await self.runtime.store.get_meta(KEY_META)
        if pem is None:
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()).decode()
            await self.runtime.store.commit(_no_changes(), {KEY_META: pem})
        self._use(pem.encode())

    def _use(self, pem: bytes) -> None:
        private = serialization.load_pem_private_key(pem, password=None)
        if not isinstance(private, rsa.RSAPrivateKey):
            raise ValueError("the signing key is not an RSA key")
        self._private_pem = pem
        # The key object, parsed once: PyJWT re-parses a PEM on every signature (85% of a grant's CPU).
        self._private_key = private
        self._public_key = private.public_key()
        self._verified.clear()
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._public_key))
        self.kid = jwk_thumbprint(jwk)

    def derive_key(self, purpose: str) -> bytes:
        """A 256-bit key for ``purpose``, derived (HKDF-SHA256) from the signing key: as stable and as private
        as the signing key, and a different key for each purpose."""
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.kdf.hkdf import HKDF

        assert self._private_pem is not None, "signing key not loaded"
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=purpose.encode()).derive(self._private_pem)

    def jwks(self) -> dict[str, Any]:
        jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(self._public_key))
        jwk.update({"kid": self.kid, "use": "sig", "alg": "RS256"})
        return {"keys": [jwk]}

    def sign(self, claims: dict[str, Any]) -> str:
        assert self._private_key is not None, "signing key not loaded"
        for _cutoff, _principal, issued_since, _accounts in self._forced:
            issued_since.add(claims.get("jti", ""))
        return jwt.encode(claims, self._private_key, algorithm="RS256", headers={"kid": self.kid})

    def account_of(self, token: str) -> str | None:
        """The account of a token this twin signed, expired or not (to attribute a request, never to admit
        one); None for anything else."""
        claims = self._verified.get(token)
        if claims is None and token.count(".") != 2:
            return None   # not a JWS compact serialization (an API ticket, say): nothing this twin signed
        if claims is None:
            try:
                claims = self.verify(token, "access")
            except Unauthorized:
                claims = self._verified.get(token)   # signed by us, refused for its use or expiry
        account = claims.get("accountId") if claims else None
        return account if isinstance(account, str) else None

    def verify(self, token: str, use: str) -> dict[str, Any]:
        """Check signature, token use and expiry. ``use`` is ``access`` or ``refresh``.

        A token whose signature was verified once is remembered (bounded): the signing key never changes
        while the process runs, and the RSA check is the dearest part of every request. Use and expiry are
        checked every time, against the twin's clock."""
        claims = self._verified.get(token)
        if claims is None:
            try:
                claims = jwt.decode(token, self._public_key, algorithms=["RS256"],
                                    options={"verify_exp": False, "verify_aud": False, "verify_iat": False,
                                             "require": ["exp", "iat"]})
            except jwt.PyJWTError as exc:
                raise Unauthorized("InvalidToken", f"the {use} token is not valid: {exc}") from None
            if len(self._verified) >= VERIFIED_CACHE:
                self._verified.pop(next(iter(self._verified)))
            self._verified[token] = claims
        if claims.get("token_use", "access") != use:
            raise Unauthorized("InvalidToken", f"this is not an {use} token")
        if float(claims["exp"]) <= self.runtime.clock.timestamp():
            raise Unauthorized("TokenExpired", f"the {use} token has expired")
        if self._forced and use == "access" and self._forced_expired(claims):
            raise Unauthorized("TokenExpired", f"the {use} token has expired")
        return dict(claims)

    def force_expiry(self, principal_id: str | None = None, accounts: frozenset[str] | None = None) -> object:
        """Every access token issued until now (of ``principal_id``, or of everyone; in ``accounts`` only, when
        given) counts as expired;
        refresh tokens stay valid, so a client that refreshes recovers. Returns a handle for
        ``end_forced_expiry``."""
        entry = (self.runtime.clock.timestamp(), principal_id, set[str](), accounts)
        self._forced.append(entry)
        return entry

    def end_forced_expiry(self, handle: object | None = None) -> None:
        """End one forced expiry (its handle), or all of them."""
        self._forced = [] if handle is None else [e for e in self._forced if e is not handle]

    def _forced_expired(self, claims: dict[str, Any]) -> bool:
        issued = float(claims.get("iat", 0))
        return any(issued <= cutoff and principal in (None, claims.get("principalId"))
                   and (accounts is None or claims.get("accountId") in accounts)
                   and claims.get("jti") not in issued_since
                   for cutoff, principal, issued_since, accounts in self._forced)


def jwk_thumbprint(jwk: dict[str, Any]) -> str:
    """RFC 7638 thumbprint, used as the key id."""
    import base64
    import hashlib

    canonical = json.dumps({k: jwk[k] for k in ("e", "kty", "n")}, separators=(",", ":"), sort_keys=True)
    return base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()


def _no_changes() -> Any:
    from callyard.core.state import Changes

    return Changes()
