"""The UC family's credential: an API ticket, as ``Authorization: Bearer <token>`` or the ``t=`` query
parameter (both shown by the platform's own examples), and the dependency that resolves the caller and the
``{domain}/{user}`` (or ``{domain}/{userId}``) of the path through the core's ticket rules."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable

from fastapi import Depends, Request
from fastapi.security import APIKeyQuery, HTTPBearer

from callyard.api.deps import twin_of
from callyard.core.auth.tickets import Grant, has_cti_licence
from callyard.core.errors import Unauthorized
from callyard.core.principal import Principal

# Declared for the OpenAPI document (the security schemes a client sees); the dependency reads both itself.
BEARER = HTTPBearer(scheme_name="ticket", description="An API ticket token (`<number>.<opaque>`) from "
                    "POST /api/tickets/{domain}/{user}", auto_error=False)
QUERY_TICKET = APIKeyQuery(name="t", scheme_name="ticketQuery", description="The same ticket token in the query",
                           auto_error=False)

Others = Callable[[Grant, dict[str, Any]], bool]


@dataclass(frozen=True)
class UcCaller:
    """Who calls (the ticket's user, as ``principal`` for the core) and the user the path names (``user``)."""
    grant: Grant
    user: dict[str, Any]

    @property
    def principal(self) -> Principal:
        return self.grant.principal

    @property
    def caller(self) -> dict[str, Any]:
        return self.grant.user

    @property
    def account_id(self) -> str:
        return str(self.user["accountId"])

    @property
    def is_self(self) -> bool:
        return bool(self.user["userId"] == self.grant.user["userId"])


def bearer_ticket(header: str | None) -> str | None:
    """The ticket of an ``Authorization: Bearer <token>`` header; None for no header or another scheme."""
    header = (header or "").strip()
    return header[7:].strip() or None if header[:7].lower() == "bearer " else None


def ticket_token(request: Request) -> str | None:
    header = (request.headers.get("authorization") or "").strip()
    if header[:7].lower() == "bearer ":
        return bearer_ticket(header)
    return request.query_params.get("t") or None


async def grant(request: Request) -> Grant:
    """The verified ticket of the request (401 without one)."""
    cached = getattr(request.state, "uc_grant", None)
    if cached is not None:
        return cached  # type: ignore[no-any-return]
    token = ticket_token(request)
    if token is None:
        raise Unauthorized("ticket.required", "an API ticket is required: Authorization: Bearer <token> or ?t=<token>")
    found = twin_of(request).core.tickets.verify(token)
    request.state.uc_grant = found
    request.state.principal = found.principal   # the journal attributes the request to the ticket's account
    return found


def caller_for(api: str, *, others: Others | None = None, cti: bool = False) -> Callable[..., Awaitable[UcCaller]]:
    """A dependency for routes of the ``api`` group (CALL_CONTROL, CALLS, USER, QUEUE_STATISTICS,
    CONTACT_SEARCH, SMS): the ticket must allow it; the path's ``{domain}`` must be the ticket user's and
    ``{user}``/``{userId}`` the ticket's user, or another user when ``others(grant, target)`` allows it
    (default: an ACCOUNT_ADMIN of the domain). ``cti``: the user acted on needs a CTI licence. A route without
    a ``{domain}`` acts on the ticket's own user."""

    async def dependency(request: Request, _bearer: Any = Depends(BEARER), _query: Any = Depends(QUERY_TICKET),
                         ticket: Grant = Depends(grant)) -> UcCaller:
        tickets = twin_of(request).core.tickets
        params = request.path_params
        domain = params.get("domain")
        user_ref = params.get("user", params.get("userId"))
        if domain is None or user_ref is None:
            return UcCaller(ticket, tickets.own_user(ticket, api, licence=has_cti_licence if cti else None))
        target = tickets.authorize(ticket, api, str(domain), str(user_ref), others=others,
                                   licence=has_cti_licence if cti else None)
        return UcCaller(ticket, target)

    dependency.__name__ = f"caller_for_{api.lower()}"
    return dependency
