"""The contact center's authorization server (an OWIN-style OAuth2 server in the real product): tokens for
employees (password grant), for the clients registered with the contact center (client credentials) and for
a client acting as an employee (client credentials with ``Impersonate``). Its tokens carry the audience
``miccsdk``: the contact center's API accepts only them, and no other family accepts them."""
from __future__ import annotations

from typing import Any

from callyard.core.auth.passwords import verify_password
from callyard.core.auth.service import Auth, IssuedToken
from callyard.core.contact_center.config import CLIENT, EMPLOYEE
from callyard.core.errors import Forbidden, Invalid, Unauthorized
from callyard.core.principal import Principal
from callyard.core.runtime import Runtime

AUDIENCE = "miccsdk"


class AuthorizationServer:
    def __init__(self, runtime: Runtime, auth: Auth) -> None:
        self.rt = runtime
        self.auth = auth

    def _employees_named(self, username: str) -> list[dict[str, Any]]:
        """Employees whose login (e-mail) or its local part (the username) is ``username``, regardless of case;
        a Windows-style ``DOMAIN\\user`` matches on ``user``. The full login wins; a bare username that names
        employees of several tenants names none of them (the full login is needed then)."""
        wanted = username.strip().lower().rsplit("\\", 1)[-1]
        exact = [e for e in self.rt.state.all(EMPLOYEE) if e["login"].lower() == wanted]
        if exact:
            return exact
        found = [e for e in self.rt.state.all(EMPLOYEE) if e["username"].lower() == wanted]
        return found if len({e["accountId"] for e in found}) == 1 else []

    def _employee_token(self, employee: dict[str, Any], extra: dict[str, Any] | None = None) -> IssuedToken:
        user = self.rt.state.get("user", employee["userId"])
        if user is None or not user.get("active", True):
            raise Forbidden("UserNotActive", "the employee's user is not active")
        claims = {**self.auth.user_claims(user), "employeeId": employee["id"], "username": employee["username"],
                  "securityRole": employee["securityRole"], **(extra or {})}
        return self.auth.audience_token(employee["accountId"], claims, AUDIENCE)

    def password_grant(self, username: str, password: str) -> IssuedToken:
        if not username or not password:
            raise Invalid("invalid_grant", "The user name or password is incorrect.")
        for employee in self._employees_named(username):
            user = self.rt.state.get("user", employee["userId"]) or {}
            if verify_password(password, user.get("passwordHash")):
                return self._employee_token(employee)
        raise Invalid("invalid_grant", "The user name or password is incorrect.")

    def client_grant(self, client_id: str, client_secret: str, impersonate: str | None) -> IssuedToken:
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
        return self.auth.audience_token(client["accountId"], claims, AUDIENCE)

    def principal(self, token: str) -> Principal:
        return self.auth.principal(token, AUDIENCE)

    def claims(self, principal: Principal) -> dict[str, Any]:
        """The caller's claims, as ``GET /AuthorizationServer/api/account`` lists them."""
        if not principal.claims.get("employeeId") and principal.kind != "client":
            raise Unauthorized("InvalidToken", "not a contact-center token")
        return dict(principal.claims)
