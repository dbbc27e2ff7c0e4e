"""Who is looking at the console: sign-in, the session cookie, CSRF, and the accounts a viewer may see.

Two kinds of viewer, the control plane's two authorities: the *operator* (the operator token of the start
banner, or anyone with ``--open-control``, where no sign-in is asked) sees and drives the whole twin; an
*account admin* (ACCOUNT_ADMIN or higher, signed in with the CloudLink password grant) sees only the
accounts they administer. The session keeps the admin's access token and resolves it again on every
request (``Auth.principal``): an expired or revoked token, a new password or a deactivated user ends the
console session as it ends every other use of the token.

The cookie (``callyard_console``) is HttpOnly and SameSite=Strict (``Secure`` when the request came over
HTTPS); every state-changing request must also carry the session's CSRF token (the ``X-Console-CSRF`` header
htmx sends, or a ``csrf`` form field) and, when the browser sends one, an ``Origin`` of this host.
"""
from __future__ import annotations

import hmac
import secrets
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.requests import Request

from callyard.core.errors import CoreError, Forbidden, Invalid, Unauthorized
from callyard.core.principal import SYSTEM, Principal

if TYPE_CHECKING:
    from callyard.container import Twin

COOKIE = "callyard_console"
CSRF_HEADER = "x-console-csrf"
SESSION_SECONDS = 12 * 3600
MAX_SESSIONS = 1000


@dataclass
class Session:
    session_id: str
    csrf: str
    kind: str                      # operator | admin
    token: str | None = None       # the admin's CloudLink access token
    username: str = ""
    created: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class Viewer:
    """The signed-in viewer of one request: the acting principal and the accounts they may see."""
    session: Session
    principal: Principal
    accounts: tuple[dict[str, Any], ...]

    @property
    def operator(self) -> bool:
        return self.principal is SYSTEM

    @property
    def account_ids(self) -> set[str]:
        return {a["accountId"] for a in self.accounts}

    @property
    def scope(self) -> set[str] | None:
        """The accounts twin-wide operations act on: None (all) for the operator."""
        return None if self.operator else self.account_ids

    @property
    def label(self) -> str:
        return "operator" if self.operator else self.session.username

    def account(self, ref: str | None) -> dict[str, Any]:
        """The account a screen shows: the one named (which the viewer must see), else the first with a PBX."""
        if ref:
            for account in self.accounts:
                if ref in (account["accountId"], account.get("accountNumber")):
                    return account
            raise Forbidden("AccountNotVisible", f"account {ref} is not one this console session may see")
        with_pbx = [a for a in self.accounts if a.get("pbx")]
        candidates = with_pbx or list(self.accounts)
        if not candidates:
            raise Forbidden("NoAccount", "this console session sees no account")
        return candidates[0]


class SignInRequired(Exception):
    """No valid session: pages redirect to the sign-in form, fragments and streams answer 401."""


class Sessions:
    """The console's sessions of one twin (memory only: a restart signs everyone out)."""

    def __init__(self, twin: "Twin") -> None:
        self.twin = twin
        self._sessions: dict[str, Session] = {}

    def _new(self, kind: str, token: str | None = None, username: str = "") -> Session:
        if len(self._sessions) >= MAX_SESSIONS:
            oldest = min(self._sessions.values(), key=lambda s: s.created)
            self._sessions.pop(oldest.session_id, None)
        session = Session(secrets.token_urlsafe(32), secrets.token_urlsafe(24), kind, token, username)
        self._sessions[session.session_id] = session
        return session

    def end(self, request: Request) -> None:
        self._sessions.pop(request.cookies.get(COOKIE, ""), None)

    def find(self, request: Request) -> Session | None:
        session = self._sessions.get(request.cookies.get(COOKIE, ""))
        if session is not None and time.monotonic() - session.created > SESSION_SECONDS:
            self._sessions.pop(session.session_id, None)
            return None
        return session

    # ------------------------------------------------------------------ signing in
    def sign_in_operator(self, token: str) -> Session:
        expected = self.twin.settings.operator_token or ""
        if not (token and expected and hmac.compare_digest(token.encode(), expected.encode())):
            raise Unauthorized("InvalidOperatorToken", "that is not the operator token of this twin (printed in the "
                                                       "start banner)")
        return self._new("operator", username="operator")

    async def sign_in_admin(self, username: str, password: str) -> Session:
        if not username or not password:
            raise Invalid("MissingCredentials", "enter the e-mail and the password of an account admin")
        issued = await self.twin.core.auth.password_grant_off_loop(username, password, None)
        token = issued.access_token
        actor = self.twin.core.auth.principal(token)
        if not actor.at_least("ACCOUNT_ADMIN"):
            raise Forbidden("AccountAdminRequired", "the console needs an account admin (ACCOUNT_ADMIN or higher)")
        return self._new("admin", token=token, username=username)

    def open_session(self) -> Session:
        """With ``--open-control``: an operator session without sign-in (still a cookie, for CSRF)."""
        return self._new("operator", username="operator")

    # ------------------------------------------------------------------ each request
    def viewer(self, request: Request) -> Viewer:
        session = self.find(request)
        if session is None:
            raise SignInRequired()
        if session.kind == "operator":
            accounts = tuple(self.twin.core.directory.access.visible_accounts(SYSTEM))
            return Viewer(session, SYSTEM, accounts)
        try:
            actor = self.twin.core.auth.principal(session.token or "")
            self.twin.core.directory.access.require_role(actor, "ACCOUNT_ADMIN")
        except CoreError:
            self._sessions.pop(session.session_id, None)
            raise SignInRequired() from None
        return Viewer(session, actor, tuple(self.twin.core.directory.access.visible_accounts(actor)))

    @staticmethod
    def check_csrf(request: Request, session: Session, form: dict[str, Any] | None = None) -> None:
        """A state-changing request carries the session's CSRF token, and comes from this origin."""
        origin = request.headers.get("origin")
        if origin and origin != "null":
            if urlsplit(origin).netloc != request.headers.get("host", ""):
                raise Forbidden("CrossOriginRequest", "the console accepts changes from its own pages only")
        presented = request.headers.get(CSRF_HEADER) or str((form or {}).get("csrf") or "")
        if not presented or not hmac.compare_digest(presented.encode(), session.csrf.encode()):
            raise Forbidden("InvalidCsrfToken", "the form's CSRF token is missing or stale: reload the page")


def cookie_args(request: Request) -> dict[str, Any]:
    return {"key": COOKIE, "httponly": True, "samesite": "strict", "path": "/",
            "secure": request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"}
