"""The caller of the user-centred groups: ``caller_any(…)`` accepts a ticket allowing any of the named API
groups (the device information is read by CTI clients with a CALL_CONTROL ticket and by others with USER)."""
from __future__ import annotations

from typing import Any, Awaitable, Callable

from fastapi import Depends, Request

from callyard.api.uc.edge.auth import BEARER, QUERY_TICKET, UcCaller, caller_for, grant
from callyard.core.auth.tickets import Grant


def caller_any(*apis: str) -> Callable[..., Awaitable[UcCaller]]:
    """A dependency like ``caller_for(api)`` for the first of ``apis`` the ticket allows (else the first, which
    refuses with ``api.not.allowed``)."""
    one = {api: caller_for(api) for api in apis}

    async def dependency(request: Request, _bearer: Any = Depends(BEARER), _query: Any = Depends(QUERY_TICKET),
                         ticket: Grant = Depends(grant)) -> UcCaller:
        allowed = [api for api in apis if api in ticket.ticket["allowedApis"]]
        return await one[allowed[0] if allowed else apis[0]](request, None, None, ticket)

    dependency.__name__ = f"caller_any_{'_'.join(a.lower() for a in apis)}"
    return dependency


def flag(value: str | None, default: bool = False) -> bool:
    """A boolean query parameter as the seed writes them (``true``/``false``, lowercase)."""
    if value is None:
        return default
    return value.strip().lower() in ("true", "1", "yes")
