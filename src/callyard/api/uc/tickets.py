"""User Tickets API (2 operations): create an API ticket, revoke one by name.

Creation is authenticated by the user's login and password as HTTP Basic (the seed's "password based
ticket": its hashing recipe is not public, see docs/compatibility.md) or by a superuser ticket (an
ACCOUNT_ADMIN of the user's organisation). Revocation also accepts a ticket of the user itself.
"""
from __future__ import annotations

import base64
import binascii
from datetime import datetime, timezone
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request
from fastapi.security import HTTPBasic

from callyard.api.deps import CoreDep
from callyard.api.uc.edge.auth import BEARER, QUERY_TICKET, ticket_token
from callyard.api.uc.edge.errors import ERROR_RESPONSES
from callyard.api.uc.schemas import Ticket
from callyard.core.auth.tickets import Grant
from callyard.core.errors import Unauthorized

router = APIRouter(prefix="/api/tickets", tags=["User Tickets"], responses=ERROR_RESPONSES)
BASIC = HTTPBasic(scheme_name="password", description="The user's login and password (password-based "
                  "ticket creation)", auto_error=False)

DELETED = "API ticket deleted successfully"


class Creator:
    """Who creates or revokes: a user authenticated by password, or a ticket's grant."""

    def __init__(self, user: dict[str, Any], grant: Grant | None) -> None:
        self.user = user
        self.grant = grant


async def creator(request: Request, domain: str, user: str, core: CoreDep, _basic: Any = Depends(BASIC),
                  _bearer: Any = Depends(BEARER), _query: Any = Depends(QUERY_TICKET)) -> Creator:
    header = request.headers.get("authorization", "").strip()
    if header[:6].lower() == "basic ":
        try:
            login, _, password = base64.b64decode(header[6:].strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("authentication.failed", "the Basic credentials are malformed") from None
        return Creator(await core.tickets.password_user(domain, user, login, password), None)
    token = ticket_token(request)
    if token is None:
        raise Unauthorized("credentials.required", "authenticate with the user's login and password (HTTP Basic) "
                                                   "or a superuser ticket (Bearer)")
    grant = core.tickets.verify(token)
    return Creator(grant.user, grant)


def _expires(doc: dict[str, Any]) -> str:
    moment = datetime.fromtimestamp(doc["expiresAt"], timezone.utc)
    return moment.isoformat(timespec="milliseconds")


@router.post("/{domain}/{user}", response_model=Ticket, summary="Create an API ticket for a user",
             operation_id="createTicket")
async def create_ticket(
        domain: str, user: str, core: CoreDep, who: Annotated[Creator, Depends(creator)],
        api: Annotated[list[str], Query(description="One or more external APIs (api=CALL_CONTROL&api=USER)")],
        platform: Annotated[Literal["android", "iphone", "other"], Query()],
        ver: Annotated[str | None, Query(description="Required unless platform is other")] = None,
        number: Annotated[str | None, Query(description="The user's mobile number")] = None,
        name: Annotated[str | None, Query(max_length=64)] = None,
        expires: Annotated[int | None, Query(description="Lifetime in seconds (default one year)",
                                             gt=0, le=2**31 - 1)] = None,
        deviceDisplayName: Annotated[str | None, Query()] = None) -> dict[str, Any]:
    target = core.tickets.user_at(domain, user)
    doc, token = await core.tickets.create(who.user, target, apis=api, platform=platform, version=ver,
                                           number=number, name=name, expires=expires,
                                           device_name=deviceDisplayName, by_ticket=who.grant)
    return {"expires": _expires(doc), "name": doc["name"], "token": token, "allowedApis": doc["allowedApis"]}


@router.delete("/{domain}/{user}/{ticketName}", response_model=str, summary="Delete (revoke) an API ticket",
               operation_id="deleteTicket")
async def delete_ticket(domain: str, user: str, ticketName: str, core: CoreDep,
                        who: Annotated[Creator, Depends(creator)]) -> str:
    target = core.tickets.user_at(domain, user)
    await core.tickets.revoke(who.user, target, ticketName)
    return DELETED


