"""The control plane's edge: its error envelope (``{name, message}``, the shape its clients and the CloudLink
tooling already read), its statuses per core error kind, its JSON body reader and its list shape."""
from __future__ import annotations

import json
from typing import Any

from fastapi import Request

from callyard.api.common.errors import HTTP_STATUSES, NameMessageEnvelope, ajv_wording
from callyard.core.errors import Invalid

ERRORS = NameMessageEnvelope(HTTP_STATUSES, ajv_wording)


async def read_json(request: Request, what: str = "the body") -> Any:
    """The body as any JSON value; an empty or malformed body is ``MalformedJSON``."""
    try:
        return json.loads(await request.body())
    except ValueError:
        raise Invalid("MalformedJSON", f"{what} is not valid JSON") from None


def items_page(items: list[Any]) -> dict[str, Any]:
    """The control plane's lists: every item, no paging."""
    return {"count": len(items), "_embedded": {"items": items}}
