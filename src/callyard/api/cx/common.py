"""What every route module of the family uses: the caller, the contact center's desk, the collection shape."""
from __future__ import annotations

from typing import Annotated, Any

from fastapi import Depends, Request
from starlette.requests import HTTPConnection

from callyard.api.cx.edge import collection, principal
from callyard.core.contact_center.desk import Desk
from callyard.core.principal import Principal

Caller = Annotated[Principal, Depends(principal)]


async def _desk(connection: HTTPConnection) -> Desk:
    return connection.app.state.twin.core.contact_center.desk  # type: ignore[no-any-return]


DeskDep = Annotated[Desk, Depends(_desk)]


def page(request: Request, items: list[dict[str, Any]]) -> dict[str, Any]:
    """A collection answer with the OData options of the request applied."""
    return collection(items, dict(request.query_params), request.url.path)
