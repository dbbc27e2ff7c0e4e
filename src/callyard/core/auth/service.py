"""The OAuth grants of the CloudLink Authentication API and the verification of presented tokens.

Grant names, error names and claim sets follow the real spec (cloudlink-auth.openapi.json) and the real
token sample. A grant returns an ``IssuedToken`` (the signed tokens and their lifetime); the façade parses
the wire request and renders the token response of its family.

Token lifecycle (OAuth 2.0 Security BCP, RFC 9700 §4.14.2):

* Every grant starts a *family* (claim ``fam``, on the access and the refresh token). Refresh tokens rotate:
  each use answers a new refresh token and retires the one presented; presenting a retired one again is
  taken as theft and revokes the whole family (its refresh and access tokens). The family's state is a
  ``token_family`` document, written at its first refresh (issuing writes nothing).
* A user's tokens carry the ``tokenVersion`` of the user they were issued under (claim ``tv``); a new
  password or a deactivation raises it, which revokes every token issued before.
* Each request is checked against the current directory: the user exists and is active, the account is
  active, the family is not revoked, and the role acted with is at most the user's current role (a demoted
  admin's old token acts as what the user is now). Checked principals are cached per token and the cache is
  dropped for an account on every directory, account and token-family event of it (the event path).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, Mapping
from urllib.parse import urlsplit

from callyard.core.auth.passwords import verify_password, verify_password_off_loop
from callyard.core.directory.indexes import Lazy
from callyard.core.auth.tokens import TokenService
from callyard.core.directory.access import Access
from callyard.core.directory.applications import Applications
from callyard.core.directory.domains import sip_domain
from callyard.core.directory.validation import email as valid_email
from callyard.core.errors import Conflict, CoreError, Forbidden, Invalid, NotFound, Unauthorized
from callyard.core.principal import ROLES, Principal, role_at_least
from callyard.core.runtime import Runtime
from callyard.events.event import TWIN_RESET, Event

GRANTS = ("password", "client_credentials", "refresh_token", "authorization_code",
          "urn:ietf:params:oauth:grant-type:token-exchange")
ANONYMOUS_FIELDS = ("principalId", "uniqueUserId", "userId", "name", "role", "email", "emailVerified", "phone",
                    "phoneVerified", "mobile", "mobileVerified", "extension", "extensionVerified", "photoUrl",
                    "profileHeaderUrl", "languageCode", "loginId", "siteId")
CODE_TTL_SECONDS = 600
SCOPE = "read write"
FAMILY = "token_family"        # document kind of a refresh-token family's state
PRINCIPAL_CACHE = 8192         # checked principals remembered (per token)


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    refresh_token: str
    expires_in: int         # seconds the access token lives
    scope: str


class Auth:
    def __init__(self, runtime: Runtime, tokens: TokenService, access: Access, applications: Applications,
                 refresh_claims: Mapping[str, Any] | None = None) -> None:
        """``refresh_claims``: fixed claims stamped on every refresh token (what the family's clients expect to
        find there)."""
        self.rt = runtime
        self.refresh_claims = dict(refresh_claims or {})
        self.tokens = tokens
        self.access = access
        self.apps = applications
        # token → checked principal, per account; dropped for an account by its directory events.
        self._principals: dict[str, dict[str, Principal]] = {}
        self._cached = 0
        self._logins = Lazy(runtime.state, "user", self._build_logins)
        runtime.projections.after_commit("checked principals follow the directory", self._forget_principals,
                                         events=("user.*", "account.*", "tokenFamily.*", "twin.*", TWIN_RESET))

    def _forget_principals(self, event: Event) -> None:
        if event.account_id is None or event.type == TWIN_RESET:
            self._principals.clear()
            self._cached = 0
        else:
            self._cached -= len(self._principals.pop(event.account_id, {}))

    # ------------------------------------------------------------------ token issue
    def _lifetimes(self, account: dict[str, Any]) -> tuple[int, int]:
        access_h = account.get("accessTokenExpiryHours") or 1
        refresh_h = account.get("refreshTokenExpiryHours") or 336
        return int(float(access_h) * 3600), int(float(refresh_h) * 3600)

    def _issue(self, account: dict[str, Any], claims: dict[str, Any], refresh: dict[str, Any],
               scope: str | None = None, family: str | None = None) -> IssuedToken:
        """Sign an access and a refresh token; ``family``: the family they continue (a refresh), else a new
        one named after this refresh token."""
        access_ttl, refresh_ttl = self._lifetimes(account)
        now = int(self.rt.clock.timestamp())
        refresh_id = self.rt.ids.uuid()
        family = family or refresh_id
        base = {"accountId": account["accountId"], "partnerId": account["partnerId"], "iss": self.tokens.issuer,
                "iat": now, "jti": self.rt.ids.uuid(), "fam": family}
        access = {**claims, **base, "domain": sip_domain(account), "exp": now + access_ttl}
        refresh_claims = {**refresh, **base, **self.refresh_claims, "token_use": "refresh",
                          "jti": refresh_id, "exp": now + refresh_ttl}
        return IssuedToken(access_token=self.tokens.sign(access), refresh_token=self.tokens.sign(refresh_claims),
                           expires_in=access_ttl, scope=scope or SCOPE)

    def _user_claims(self, user: dict[str, Any], role: str | None = None) -> dict[str, Any]:
        claims = {
            "uniqueUserId": user["uniqueUserId"], "principalId": user["userId"], "userId": user["userId"],
            "email": user.get("email", ""), "name": user.get("name", ""), "role": role or user["role"],
            "languageCode": user.get("languageCode", "en-US"), "sipAddress": user.get("sipAddress", ""),
            "emailVerified": bool(user.get("emailVerified")), "extensionVerified": bool(user.get("extensionVerified")),
            "mobileVerified": bool(user.get("mobileVerified")), "phoneVerified": bool(user.get("phoneVerified")),
            "principalType": "user",
        }
        for key in ("extension", "mobile", "phone", "loginId", "siteId"):
            if user.get(key):
                claims[key] = user[key]
        return claims

    def _user_token(self, user: dict[str, Any], account: dict[str, Any], *, role: str | None = None,
                    client_id: str | None = None, scope: str | None = None,
                    original_account: str | None = None, family: str | None = None) -> IssuedToken:
        claims = self._user_claims(user, role)
        claims["tv"] = int(user.get("tokenVersion") or 0)
        refresh = {"type": "user", "id": user["userId"], "assumedRole": role or user["role"], "tv": claims["tv"]}
        if client_id:
            claims["clientId"] = refresh["clientId"] = client_id
        if original_account:
            claims["originalAccountId"] = refresh["originalAccountId"] = original_account
        return self._issue(account, claims, refresh, scope, family)

    def _active_account(self, account_id: str) -> dict[str, Any]:
        account = self.access.find_account(account_id)
        if account is None:
            raise NotFound("AccountNotFound", f"account {account_id} was not found")
        if not account.get("active", True):
            raise Invalid("InactiveAccount", "the account is not active")
        return account

    def _account_name(self, account_id: str) -> str:
        account = self.rt.state.get("account", account_id)
        if account is None:  # a user's account always exists; a dangling reference is an internal error (500)
            raise KeyError(("account", account_id))
        name: str = account["name"]
        return name

    # ------------------------------------------------------------------ password
    def find_login(self, username: str, account_ref: str | None) -> list[dict[str, Any]]:
        wanted = username.strip().lower()
        account_id = None
        if account_ref:
            account = self.access.find_account(account_ref)
            if account is None:
                raise NotFound("AccountNotFound", f"account {account_ref} was not found")
            account_id = account["accountId"]
        return [user for user in self._logins.get().get(wanted, ())
                if not account_id or user["accountId"] == account_id]

    def _build_logins(self) -> dict[str, list[dict[str, Any]]]:
        """Users by every name they sign in with (id, unique id, e-mail, mobile, login id; without regard to
        case), in document order: rebuilt when a user changes (``Lazy``), a dictionary look-up in between."""
        out: dict[str, list[dict[str, Any]]] = {}
        for user in self.rt.state.all("user"):
            keys = {k.lower() for k in (user.get("userId"), user.get("uniqueUserId"), user.get("email"),
                                        user.get("mobile"), user.get("loginId")) if isinstance(k, str)}
            for key in keys:
                out.setdefault(key, []).append(user)
        return out

    def _login_candidates(self, username: str, account_ref: str | None) -> list[dict[str, Any]]:
        matches = self.find_login(username, account_ref)
        if len({u["accountId"] for u in matches}) > 1:
            labels = sorted(self._account_name(u["accountId"]) for u in matches)
            raise Conflict("MultipleMatching", "the username matches users in several accounts; "
                                               "send account_id to choose one", labels=labels)
        return matches

    def password_grant(self, username: str, password: str, account_ref: str | None,
                       client_id: str | None = None, scope: str | None = None) -> IssuedToken:
        matches = self._login_candidates(username, account_ref)
        user = next((u for u in matches if verify_password(password, u.get("passwordHash"))), None)
        if user is None:
            raise Unauthorized("InvalidLoginCredentials", "the username or password is not valid")
        return self._token_for_user(user, client_id, scope)

    async def password_grant_off_loop(self, username: str, password: str, account_ref: str | None,
                                      client_id: str | None = None, scope: str | None = None) -> IssuedToken:
        """``password_grant`` with the password checked in a worker thread (what the token endpoint uses):
        sign-ins run on every core and never stall the event loop for a key derivation."""
        user = None
        for candidate in self._login_candidates(username, account_ref):
            stored = candidate.get("passwordHash")
            if await verify_password_off_loop(password, stored):
                # the user must still be there, with the same password, now that the check is done
                current = self.rt.state.get("user", candidate["userId"])
                if current is not None and current.get("passwordHash") == stored:
                    user = current
                break
        if user is None:
            raise Unauthorized("InvalidLoginCredentials", "the username or password is not valid")
        return self._token_for_user(user, client_id, scope)

    def _token_for_user(self, user: dict[str, Any], client_id: str | None, scope: str | None) -> IssuedToken:
        account = self._active_account(user["accountId"])
        if not user.get("active", True):
            raise Forbidden("UserNotActive", "the user is not active")
        if client_id:
            self.apps.authenticate_client(client_id, None)
            self.apps.active_record(client_id, account["accountId"])
        return self._user_token(user, account, client_id=client_id, scope=scope)

    # ------------------------------------------------------------------ refresh
    async def refresh_grant(self, refresh_token: str) -> IssuedToken:
        """Rotate: a new access and refresh token of the same family, the presented one retired. A retired
        refresh token presented again revokes the family (committed before the refusal is answered)."""
        claims = self.tokens.verify(refresh_token, "refresh")
        family_id = str(claims.get("fam") or claims["jti"])   # tokens from before families: their own
        stolen = False
        async with self.rt.write() as uow:
            family = self.rt.state.get(FAMILY, family_id)
            if family is not None and family.get("revoked"):
                raise Unauthorized("TokenRevoked", "the refresh token was revoked")
            # A family without a document was never refreshed (or was forgotten by a reset or an import, or
            # expired): the token presented starts its rotation.
            current = family["current"] if family is not None else claims["jti"]
            if claims["jti"] != current:
                revoked = uow.update(FAMILY, family_id, revoked=True, revokedOn=self.rt.now_iso(),
                                     reason="reuse")
                uow.emit("tokenFamily.revoked", revoked["accountId"], f"/tokenFamilies/{family_id}",
                         _family_event(revoked), self.rt.now_iso())
                stolen = True
            else:
                issued = self._refreshed(claims, family_id)
                fresh = _own_claims(issued.refresh_token)
                doc = {"familyId": family_id, "accountId": claims["accountId"], "type": claims.get("type"),
                       "principalId": claims.get("id"), "current": fresh["jti"],
                       "revoked": False, "createdOn": family["createdOn"] if family else self.rt.now_iso(),
                       "refreshedOn": self.rt.now_iso(), "expiresAt": fresh["exp"]}
                uow.put(FAMILY, family_id, doc)
                uow.emit("tokenFamily.rotated", doc["accountId"], f"/tokenFamilies/{family_id}", _family_event(doc),
                         self.rt.now_iso())
        if stolen:
            raise Unauthorized("TokenRevoked", "this refresh token was already used: every token of its family "
                                               "is revoked; sign in again")
        return issued

    def _refreshed(self, claims: dict[str, Any], family_id: str) -> IssuedToken:
        account = self.access.find_account(claims["accountId"])
        if account is None:
            raise Forbidden("AuthenticationFailure", "the token's account no longer exists")
        if not account.get("active", True):
            raise Forbidden("AuthenticationFailure", "the token's account is not active")
        kind = claims.get("type")
        if kind == "user":
            user = self.rt.state.get("user", claims["id"])
            if user is None:
                raise Forbidden("UserNotActive", "the token's user no longer exists")
            if not user.get("active", True):
                raise Forbidden("UserNotActive", "the user is not active")
            if int(claims.get("tv") or 0) < int(user.get("tokenVersion") or 0):
                raise Unauthorized("TokenRevoked", "the refresh token was revoked (the user's password changed)")
            role = claims.get("assumedRole") or user["role"]
            if not role_at_least(user["role"], role):
                role = user["role"]
            return self._user_token(user, account, role=role, client_id=claims.get("clientId"),
                                    original_account=claims.get("originalAccountId"), family=family_id)
        if kind in ("client", "anonymous", "guest"):
            if kind != "guest":
                registration = self.apps.registration(claims.get("clientId", ""))
                if registration is None:
                    raise Forbidden("AuthenticationFailure", "the token's client no longer exists")
                self.apps.active_record(registration["applicationId"], account["accountId"])
            access_claims = dict(claims.get("claims") or {})
            return self._issue(account, access_claims, {k: claims[k] for k in ("type", "id", "claims", "clientId")
                                                        if k in claims}, family=family_id)
        raise Unauthorized("InvalidToken", "unknown refresh token type")

    # ------------------------------------------------------------------ client credentials
    def client_credentials_grant(self, client_id: str, client_secret: str, account_ref: str | None,
                                 anonymous: dict[str, Any], scope: str | None = None) -> IssuedToken:
        registration = self.apps.authenticate_client(client_id, client_secret)
        if account_ref:
            account = self._active_account(account_ref)
        else:
            # A partner registers; its customers run the application: the one account it is enabled on
            # decides, else the owning account. Several enabled accounts need account_id.
            enabled = [r for r in self.apps.records_of(client_id) if r.get("active") and not r.get("registration")]
            if len(enabled) > 1:
                raise Conflict("MultipleMatching", "the client is enabled on several accounts; send account_id",
                               labels=sorted(r["accountId"] for r in enabled))
            chosen = enabled[0] if enabled else registration
            account = self._active_account(chosen["accountId"])
        self.apps.active_record(client_id, account["accountId"])
        client_role = registration.get("role", "USER")
        if anonymous:
            return self._anonymous_token(account, registration, client_role, anonymous, scope)
        claims = {"principalId": client_id, "clientId": client_id, "role": client_role, "name": registration["name"],
                  "principalType": "client"}
        return self._issue(account, claims, {"type": "client", "id": client_id, "clientId": client_id,
                                             "claims": claims}, scope)

    def real_principal(self, value: str, account_id: str) -> bool:
        """Whether a client-chosen principal id would collide with a real principal: a user (by userId or
        uniqueUserId) or an application of any account, or a principal that owns subscriptions or connections
        in another account. Such an id is refused, so a chosen claim never impersonates anyone."""
        if self.rt.state.get("user", value) is not None or self.apps.records_of(value):
            return True
        if any(u.get("uniqueUserId") == value for u in self.rt.state.all("user")):
            return True
        return any(doc["principalId"] == value and doc["accountId"] != account_id
                   for kind in ("subscription", "connection") for doc in self.rt.state.all(kind))

    def _anonymous_token(self, account: dict[str, Any], registration: dict[str, Any], client_role: str,
                         fields: dict[str, Any], scope: str | None) -> IssuedToken:
        role = fields.get("role") or "USER"
        if role not in ROLES:
            raise Invalid("InvalidPrincipals", f"role must be one of {', '.join(ROLES)}")
        if not role_at_least(client_role, role):
            raise Invalid("InvalidPrincipals",
                          f"an anonymous user cannot have a role above the client's ({client_role})")
        for key in ("principalId", "userId", "uniqueUserId"):
            value = fields.get(key)
            if value is not None and not isinstance(value, str):
                raise Invalid("InvalidPrincipals", f"{key} must be a string")
            if value and self.real_principal(value, account["accountId"]):
                raise Invalid("InvalidPrincipals", f"{key} must not identify a real principal")
        if fields.get("email"):
            valid_email(fields["email"])
            if any((u.get("email") or "").lower() == str(fields["email"]).lower() for u in self.rt.state.all("user")):
                raise Invalid("InvalidPrincipals", "email must not identify a real user")
        principal_id = fields.get("principalId") or self.rt.ids.uuid()
        claims: dict[str, Any] = {k: v for k, v in fields.items() if k in ANONYMOUS_FIELDS}
        claims.update({"principalId": principal_id, "role": role, "clientId": registration["applicationId"],
                       "principalType": "anonymous"})
        claims.setdefault("userId", principal_id)
        claims.setdefault("uniqueUserId", principal_id)
        return self._issue(account, claims, {"type": "anonymous", "id": principal_id,
                                             "clientId": registration["applicationId"], "claims": claims}, scope)

    # ------------------------------------------------------------------ authorization code (+PKCE)
    async def authorize(self, *, client_id: str, response_type: str, username: str, password: str,
                        account_ref: str | None, redirect_uri: str | None, code_challenge: str | None,
                        code_challenge_method: str | None, scope: str | None, nonce: str | None) -> str:
        if response_type != "code":
            raise Invalid("InvalidRequest", "response_type must be code")
        registration = self.apps.registration(client_id)
        if registration is None:
            raise Forbidden("InvalidClient", f"client {client_id} was not found")
        matches = self.find_login(username, account_ref)
        if len({u["accountId"] for u in matches}) > 1:
            raise Conflict("MultipleMatching", "the username matches users in several accounts; send account_id")
        user = next((u for u in matches if verify_password(password, u.get("passwordHash"))), None)
        if user is None:
            raise Unauthorized("InvalidLoginCredentials", "the username or password is not valid")
        account = self.access.find_account(user["accountId"])
        if account is None or not account.get("active", True):
            raise NotFound("InactiveAccount", "the account is not active")
        record = self.apps.record(client_id, user["accountId"])
        if record is None:
            raise Forbidden("InvalidClient", f"client {client_id} is not enabled on the user's account")
        if not record.get("active"):
            raise Forbidden("ClientNotActive", f"client {client_id} is not active on the user's account")
        allowed = record.get("redirectUris") or []
        if redirect_uri is not None and not _absolute_uri(redirect_uri):
            raise Invalid("InvalidRedirectUri", f"redirect_uri {redirect_uri} is not an absolute URI")
        if redirect_uri is not None and redirect_uri not in allowed:
            raise Forbidden("InvalidRedirectUri", f"redirect_uri {redirect_uri} is not registered for this client")
        if redirect_uri is None and (record.get("rules") or {}).get("enforceRedirectUris") and not allowed:
            raise Forbidden("UnconfiguredRedirectUri", "the client has no redirect URI configured")
        method = code_challenge_method or ("plain" if code_challenge else None)
        if method not in (None, "plain", "S256"):
            raise Invalid("InvalidRequest", "code_challenge_method must be plain or S256")
        if method and not code_challenge:
            raise Invalid("InvalidRequest", "code_challenge is required with code_challenge_method")
        code = self.rt.ids.uuid()
        expires = self.rt.clock.now() + timedelta(seconds=CODE_TTL_SECONDS)
        async with self.rt.write() as uow:
            uow.put("auth_code", code, {"code": code, "clientId": client_id, "userId": user["userId"],
                                        "accountId": user["accountId"], "redirectUri": redirect_uri,
                                        "codeChallenge": code_challenge, "codeChallengeMethod": method,
                                        "scope": scope, "nonce": nonce, "expiresAt": expires.timestamp()})
        return code

    async def code_grant(self, *, client_id: str, code: str, redirect_uri: str | None, code_verifier: str | None,
                         client_secret: str | None) -> IssuedToken:
        stored = self.rt.state.get("auth_code", code)
        if stored is None or stored["clientId"] != client_id:
            raise Unauthorized("InvalidLoginCredentials", "the authorization code is not valid")
        async with self.rt.write() as uow:  # a code is single-use, even when the exchange then fails
            uow.delete("auth_code", code)
        if stored["expiresAt"] <= self.rt.clock.timestamp():
            raise Unauthorized("InvalidLoginCredentials", "the authorization code has expired")
        if client_secret is not None:
            self.apps.authenticate_client(client_id, client_secret)
        if stored.get("redirectUri") and redirect_uri != stored["redirectUri"]:
            raise Unauthorized("InvalidLoginCredentials", "redirect_uri does not match the one sent to /authorize")
        if stored.get("codeChallenge"):
            if not code_verifier:
                raise Unauthorized("InvalidVerifier", "code_verifier is required for this code")
            if stored["codeChallengeMethod"] == "S256":
                digest = hashlib.sha256(code_verifier.encode()).digest()
                computed = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
            else:
                computed = code_verifier
            if not hmac.compare_digest(computed, stored["codeChallenge"]):
                raise Unauthorized("InvalidVerifier", "code_verifier does not match the code_challenge")
        user = self.rt.state.get("user", stored["userId"])
        if user is None:
            raise Forbidden("UserNotActive", "the user no longer exists")
        account = self._active_account(user["accountId"])
        self.apps.active_record(client_id, account["accountId"])
        return self._user_token(user, account, client_id=client_id, scope=stored.get("scope"))

    # ------------------------------------------------------------------ assume role, guest
    def assume_role(self, actor: Principal, role: Any, account_ref: str | None) -> IssuedToken:
        if not role:
            raise Invalid("MissingRoleInRequest", "role is required")
        if role not in ROLES:
            raise Invalid("InvalidRole", f"role must be one of {', '.join(ROLES)}")
        if not role_at_least(actor.role, role):
            raise Invalid("AssumeRoleHigh", f"cannot assume {role}, which is above the current role {actor.role}")
        if actor.kind != "user" or actor.user_id is None:
            raise Forbidden("ImpersonationNotAllowed", "only user tokens can assume a role")
        account = self.access.find_account(account_ref or actor.account_id)
        if account is None:
            raise NotFound("AccountNotFound", f"account {account_ref} was not found")
        if not self.access.can_see(actor, account):
            raise Forbidden("ImpersonationNotAllowed", "the caller may not act in that account")
        if not account.get("active", True):
            raise Forbidden("InactiveAccount", "the account is not active")
        user = self.rt.state.get("user", actor.user_id)
        if user is None:
            raise Forbidden("AuthenticationFailure", "the token's user no longer exists")
        original = actor.account_id if account["accountId"] != actor.account_id else None
        return self._user_token(user, account, role=role, client_id=actor.client_id, original_account=original)

    def guest_token(self, *, account_ref: str | None, access_code: str | None, principal_id: str | None,
                    name: str | None, guest_email: str | None, client_id: str | None) -> IssuedToken:
        if not account_ref and not access_code:
            raise Invalid("AccountMissing", "accountId or accessCode is required")
        if access_code and not account_ref:
            raise NotFound("AccountNotFound", f"no conference with access code {access_code}")
        account = self.access.find_account(account_ref or "")
        if account is None:
            raise Invalid("AccountNotFound", f"account {account_ref} was not found")
        if not account.get("active", True):
            raise Forbidden("InactiveAccount", "the account is not active")
        if not (account.get("policy") or {}).get("allowGuestAccess"):
            raise Forbidden("NotAllowed", "guest access is not enabled on this account")
        if not name or not name.strip():
            raise Invalid("NameInvalid", "name is required")
        if guest_email:
            try:
                guest_email = valid_email(guest_email)
            except Invalid:
                raise Invalid("EmailInvalid", "guestEmail is not a valid e-mail address") from None
        if principal_id and self.real_principal(principal_id, account["accountId"]):
            raise Invalid("PrincipalMissing", "principalId must not be a real principal")
        principal_id = principal_id or self.rt.ids.uuid()
        claims = {"principalId": principal_id, "userId": principal_id, "uniqueUserId": principal_id,
                  "name": name.strip(), "role": "GUEST", "principalType": "guest"}
        if guest_email:
            claims["email"] = guest_email
        if client_id:
            claims["clientId"] = client_id
        return self._issue(account, claims, {"type": "guest", "id": principal_id, "claims": claims})

    # ------------------------------------------------------------------ retention
    def keep_tidy(self, scheduler: Any, every: float = 3600.0) -> None:
        """Forget the families whose refresh tokens have all expired, every ``every`` seconds of the twin's
        clock (call again after the scheduler was cleared)."""
        async def sweep() -> None:
            try:
                await self.purge_families()
            finally:
                scheduler.after(every, sweep, "token families retention")
        scheduler.after(every, sweep, "token families retention")

    async def purge_families(self) -> int:
        now = self.rt.clock.timestamp()
        gone = [f["familyId"] for f in self.rt.state.all(FAMILY) if float(f.get("expiresAt") or 0) <= now]
        if gone:
            async with self.rt.write() as uow:
                for family_id in gone:
                    uow.delete(FAMILY, family_id)
                    # no event: an expired family changes nothing anyone can observe
        return len(gone)

    # ------------------------------------------------------------------ verification
    def principal(self, token: str) -> Principal:
        """The caller a valid access token names, as the directory stands now (see the module docstring)."""
        claims = self.tokens.verify(token, "access")   # signature (cached), use, expiry: every time
        account_id = str(claims.get("accountId", ""))
        cached = self._principals.get(account_id, {}).get(token)
        if cached is not None:
            return cached
        found = self._check(claims)
        if self._cached >= PRINCIPAL_CACHE:
            self._principals.clear()
            self._cached = 0
        self._principals.setdefault(account_id, {})[token] = found
        self._cached += 1
        return found

    def refused(self, token: str) -> bool:
        """Whether ``token`` no longer admits its holder (expired, revoked, its user gone or inactive): what a
        live session opened with it checks."""
        try:
            self.principal(token)
        except CoreError:
            return True
        return False

    def _check(self, claims: dict[str, Any]) -> Principal:
        account = self.access.find_account(claims.get("accountId", ""))
        if account is None:
            raise Unauthorized("InvalidToken", "the token's account no longer exists")
        if not account.get("active", True):
            raise Forbidden("InactiveAccount", "the token's account is not active")
        family = self.rt.state.get(FAMILY, str(claims.get("fam") or ""))
        if family is not None and family.get("revoked"):
            raise Unauthorized("TokenRevoked", "the token was revoked")
        kind = claims.get("principalType", "user")
        user_id = claims.get("userId") if kind == "user" else None
        role = claims["role"]
        if kind == "user":
            user = self.rt.state.get("user", user_id or "")
            if user is None:
                raise Unauthorized("InvalidToken", "the token's user no longer exists")
            if not user.get("active", True):
                raise Unauthorized("TokenRevoked", "the token's user is not active")
            if int(claims.get("tv") or 0) < int(user.get("tokenVersion") or 0):
                raise Unauthorized("TokenRevoked", "the token was revoked (the user's password changed)")
            if not role_at_least(user["role"], role):
                role = user["role"]   # demoted since: the token acts as what the user is now
        return Principal(principal_id=claims["principalId"], account_id=claims["accountId"], role=role,
                         user_id=user_id, client_id=claims.get("clientId"), kind=kind, claims=claims)


def _own_claims(token: str) -> dict[str, Any]:
    """The claims of a token this service has just signed (no need to check its signature again)."""
    import jwt

    claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    return claims


def _family_event(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc.get(k) for k in ("familyId", "type", "principalId", "revoked", "reason")}


def _absolute_uri(uri: str) -> bool:
    """An absolute URI (RFC 3986: a scheme and, for a redirect, something after it) with no fragment."""
    parts = urlsplit(uri)
    return bool(parts.scheme) and bool(parts.netloc or parts.path) and not parts.fragment and uri == uri.strip()
