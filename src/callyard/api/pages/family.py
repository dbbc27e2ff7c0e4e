"""The pages family: the docs and the OpenAPI documents (``/`` is the console's home).
Public (no token), never rate limited or faulted, and not a
CloudLink route: the audit never sees a browser opening them."""
from __future__ import annotations

from typing import Any

from callyard.api.common.errors import HTTP_STATUSES, NameMessageEnvelope, ajv_wording
from callyard.api.family import Family, Mount
from callyard.api.pages import routes


async def anyone() -> None:
    """The pages need no caller."""
    return None


def _listing(items: list[dict[str, Any]], *_args: Any, **_kwargs: Any) -> dict[str, Any]:
    return {"count": len(items), "items": items}


FAMILY = Family(
    name="pages",
    prefixes=("/docs", "/redoc", "/openapi", "/openapi.json", "/favicon.ico"),
    mounts=(Mount(routes.router, priority=60),),
    errors=NameMessageEnvelope(HTTP_STATUSES, ajv_wording),
    auth=anyone,
    paging=_listing,
    rate_limited=False,
    faultable=False,
    title="Pages",
    description="The API docs and the OpenAPI documents.",
)
