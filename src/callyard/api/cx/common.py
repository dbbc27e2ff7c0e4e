"""What every route module of the family uses: the caller, the contact center's desk, the collection shape."""
from __future__ import annotations

from typing import Annotated, Any, Sequence

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from callyard.api.cx.edge import collection, expansions, principal
from callyard.core.contact_center.desk import Desk
from callyard.core.contact_center.media_desk import MediaDesk
from callyard.core.principal import Principal

Caller = Annotated[Principal, Depends(principal)]


async def _desk(connection: HTTPConnection) -> Desk:
    return connection.app.state.twin.core.contact_center.desk  # type: ignore[no-any-return]


DeskDep = Annotated[Desk, Depends(_desk)]


async def _media_desk(connection: HTTPConnection) -> MediaDesk:
    return connection.app.state.twin.core.cc_media  # type: ignore[no-any-return]


MediaDeskDep = Annotated[MediaDesk, Depends(_media_desk)]


def page(request: Request, items: list[dict[str, Any]], expandable: Sequence[str] = ()) -> dict[str, Any]:
    """A collection answer with the OData options of the request applied (``$expand`` must name what the
    route embeds, ``expandable``)."""
    params = dict(request.query_params)
    expansions(params, expandable)
    return collection(items, {k: v for k, v in params.items() if k != "$expand"}, request.url.path)


def expanded(request: Request, expandable: Sequence[str]) -> list[str]:
    """The navigation properties ``$expand`` asks for (at most two, of ``expandable``)."""
    return expansions(dict(request.query_params), expandable)
