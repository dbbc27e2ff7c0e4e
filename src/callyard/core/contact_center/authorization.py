"""The contact center's authorization server (an OWIN-style OAuth2 server in the real product): tokens for
employees (password grant), for the clients registered with the contact center (client credentials) and for
a client acting as an employee (client credentials with ``Impersonate``).

Its tokens are signed by the twin's one key but carry ``token_use: "miccsdk"``: the contact center's API
accepts only them, and every other family (which asks the token service for ``access`` tokens) refuses them.
No refresh tokens (none is evidenced for the real server)."""
from __future__ import annotations

from typing import Any

from callyard.core.auth.passwords import verify_password, verify_password_off_loop
from callyard.core.auth.tokens import TokenService
from callyard.core.contact_center.config import CLIENT, EMPLOYEE
from callyard.core.errors import Forbidden, Invalid, Unauthorized
from callyard.core.principal import Principal
from callyard.core.runtime import Runtime

AUDIENCE = "miccsdk"


class CxToken:
    """An issued token: what the token endpoint answers."""

    def __init__(self, access_token: str, expires_in: int) -> None:
        self.access_token = access_token
        self.expires_in = expires_in


class AuthorizationServer:
    def __init__(self, runtime: Runtime, tokens: TokenService) -> None:
        self.rt = runtime
        self.tokens = tokens

    def _employees_named(self, username: str) -> list[dict[str, Any]]:
        """Employees whose login (e-mail) or its local part (the username) is ``username``, regardless of case;
        a Windows-style ``DOMAIN\\\\user`` matches on ``user``. The full login wins; a bare username that names
        employees of several tenants names none of them (the full login is needed then)."""
        wanted = username.strip().lower().rsplit("\\", 1)[-1]
        exact = [e for e in self.rt.state.all(EMPLOYEE) if e["login"].lower() == wanted]
        if exact:
            return exact
        found = [e for e in self.rt.state.all(EMPLOYEE) if e["username"].lower() == wanted]
        return found if len({e["accountId"] for e in found}) == 1 else []

    def _account(self, account_id: str) -> dict[str, Any]:
        account = self.rt.state.get("account", account_id)
        if account is None or not account.get("active", True):
            raise Forbidden("InactiveAccount", "the account is not active")
        return account

    def _issue(self, account_id: str, claims: dict[str, Any]) -> CxToken:
        account = self._account(account_id)
        lifetime = int(float(account.get("accessTokenExpiryHours") or 1) * 3600)
        now = int(self.rt.clock.timestamp())
        signed = self.tokens.sign({**claims, "accountId": account_id, "iss": self.tokens.issuer, "iat": now,
                                   "exp": now + lifetime, "jti": self.rt.ids.uuid(), "aud": AUDIENCE,
                                   "token_use": AUDIENCE})
        return CxToken(signed, lifetime)

    def _employee_token(self, employee: dict[str, Any], extra: dict[str, Any] | None = None) -> CxToken:
        user = self.rt.state.get("user", employee["userId"])
        if user is None or not user.get("active", True):
            raise Forbidden("UserNotActive", "the employee's user is not active")
        claims = {"tv": int(user.get("tokenVersion") or 0), "principalId": user["userId"], "userId": user["userId"],
                  "uniqueUserId": user.get("uniqueUserId"),
                  "email": user.get("email", ""), "name": user.get("name", ""), "role": user.get("role", "USER"),
                  "principalType": "user", "employeeId": employee["id"], "username": employee["username"],
                  "securityRole": employee["securityRole"], **(extra or {})}
        return self._issue(employee["accountId"], claims)

    async def password_grant(self, username: str, password: str) -> CxToken:
        """The password is checked in a worker thread (passwords.verify_password_off_loop); the employee and
        user are read again afterwards, so one removed or re-passworded meanwhile is not honoured."""
        if not username or not password:
            raise Invalid("invalid_grant", "The user name or password is incorrect.")
        for employee in self._employees_named(username):
            user = self.rt.state.get("user", employee["userId"]) or {}
            stored = user.get("passwordHash")
            if await verify_password_off_loop(password, stored):
                current = self.rt.state.get(EMPLOYEE, employee["id"])
                now = self.rt.state.get("user", employee["userId"]) or {}
                if current is not None and now.get("passwordHash") == stored:
                    return self._employee_token(current)
                break
        raise Invalid("invalid_grant", "The user name or password is incorrect.")

    def client_grant(self, client_id: str, client_secret: str, impersonate: str | None) -> CxToken:
        client = next((c for c in self.rt.state.all(CLIENT) if c["clientId"].lower() == client_id.strip().lower()),
                      None)
        if client is None or not verify_password(client_secret, client.get("secretHash")):
            raise Invalid("invalid_client", "The client credentials are invalid.")
        if impersonate:
            found = [e for e in self._employees_named(impersonate) if e["accountId"] == client["accountId"]]
            if len(found) != 1:
                raise Invalid("invalid_grant", f"The user {impersonate} cannot be impersonated.")
            return self._employee_token(found[0], {"clientId": client["clientId"],
                                                   "impersonatedBy": client["clientId"]})
        claims = {"principalId": client["clientId"], "clientId": client["clientId"], "role": "USER",
                  "name": client.get("name") or client["clientId"], "principalType": "client"}
        return self._issue(client["accountId"], claims)

    def principal(self, token: str) -> Principal:
        """The caller a contact-center token names (checked against the current state: the account is active,
        the user exists and is active, the employee or the client is still configured)."""
        claims = self.tokens.verify(token, AUDIENCE)
        account = self.rt.state.get("account", claims.get("accountId", ""))
        if account is None:
            raise Unauthorized("InvalidToken", "the token's account no longer exists")
        if not account.get("active", True):
            raise Forbidden("InactiveAccount", "the token's account is not active")
        kind = claims.get("principalType", "user")
        if kind == "user":
            user = self.rt.state.get("user", claims.get("userId", ""))
            if user is None or not user.get("active", True):
                raise Unauthorized("InvalidToken", "the token's user no longer exists or is not active")
            if int(claims.get("tv") or 0) < int(user.get("tokenVersion") or 0):
                raise Unauthorized("TokenRevoked", "the token was revoked (the user's password changed)")
            if self.rt.state.get(EMPLOYEE, claims.get("employeeId", "")) is None:
                raise Unauthorized("InvalidToken", "the token's employee no longer exists")
        elif not any(c["clientId"] == claims.get("clientId") for c in self.rt.state.all(CLIENT)):
            raise Unauthorized("InvalidToken", "the token's client is no longer registered")
        return Principal(principal_id=claims["principalId"], account_id=claims["accountId"], role=claims["role"],
                         user_id=claims.get("userId") if kind == "user" else None, client_id=claims.get("clientId"),
                         kind=kind, claims=claims)

    def claims(self, principal: Principal) -> dict[str, Any]:
        """The caller's claims, as ``GET /AuthorizationServer/api/account`` lists them."""
        return dict(principal.claims)
