"""The caller of the user-centred groups: ``caller_any(…)`` accepts a ticket allowing any of the named API
groups (the device information is read by CTI clients with a CALL_CONTROL ticket and by others with USER).
It declares the path's ``{domain}`` and ``{user}``/``{userId}`` so the family's OpenAPI documents them."""
from __future__ import annotations

from typing import Any, Awaitable, Callable

from fastapi import Depends, Path, Request

from callyard.api.uc.edge.auth import BEARER, QUERY_TICKET, UcCaller, caller_for, grant
from callyard.api.uc.edge.errors import invalid
from callyard.core.auth.tickets import Grant

DOMAIN_TEXT = "The organisation's domain (e.g. acme.example)"
USER_TEXT = "The user: the local part of the login (alice) or the whole login"


def caller_any(*apis: str, user: str | None = "user") -> Callable[..., Awaitable[UcCaller]]:
    """A dependency like ``caller_for(api)`` for the first of ``apis`` the ticket allows (else the first, which
    refuses with ``api.not.allowed``). ``user``: the name of the path's user parameter (``user``, ``userId``),
    or None for an organisation's route."""
    one = {api: caller_for(api) for api in apis}

    async def resolve(request: Request, ticket: Grant) -> UcCaller:
        allowed = [api for api in apis if api in ticket.ticket["allowedApis"]]
        return await one[allowed[0] if allowed else apis[0]](request, None, None, ticket)

    # Each parameter gets its own Path(): FastAPI keeps the first name it sees on the object as its alias.
    async def with_user(request: Request, domain: str = Path(description=DOMAIN_TEXT),
                        user: str = Path(description=USER_TEXT), _bearer: Any = Depends(BEARER),
                        _query: Any = Depends(QUERY_TICKET), ticket: Grant = Depends(grant)) -> UcCaller:
        return await resolve(request, ticket)

    async def with_user_id(request: Request, domain: str = Path(description=DOMAIN_TEXT),
                           userId: str = Path(description=USER_TEXT),
                           _bearer: Any = Depends(BEARER), _query: Any = Depends(QUERY_TICKET),
                           ticket: Grant = Depends(grant)) -> UcCaller:
        return await resolve(request, ticket)

    async def organisation(request: Request, domain: str = Path(description=DOMAIN_TEXT),
                           _bearer: Any = Depends(BEARER), _query: Any = Depends(QUERY_TICKET),
                           ticket: Grant = Depends(grant)) -> UcCaller:
        return await resolve(request, ticket)

    choices: dict[str | None, Callable[..., Awaitable[UcCaller]]] = {
        "user": with_user, "userId": with_user_id, None: organisation}
    dependency = choices[user]
    dependency.__name__ = f"caller_any_{'_'.join(a.lower() for a in apis)}"
    return dependency


def flag(value: str | None, default: bool = False) -> bool:
    """A boolean query parameter as the seed writes them (``true``/``false``, lowercase)."""
    if value is None:
        return default
    return value.strip().lower() in ("true", "1", "yes")


def whole_number(name: str, value: str | None) -> int | None:
    """An id or limit the seed types as a string: absent or empty is None, else a whole number (400 otherwise)."""
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        invalid(name, f"{name}.not.valid", f"{name} is a whole number", value)
