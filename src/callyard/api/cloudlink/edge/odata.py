"""OData query options over a list of wire documents: ``$filter`` (``callyard.api.common.odata``),
``$search``, ``$orderby``, ``$top``, ``$skip``, ``$count`` and ``$expand``, answering the CloudLink collection
shape ``{count, _links{self,next}, _embedded{items}}``.
"""
from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from callyard.api.common.odata import lookup as _lookup, matches, parse_filter, parse_orderby
from callyard.core.errors import Invalid

DEFAULT_TOP = 100
MAX_TOP = 10000


def _int_param(params: dict[str, str], name: str, default: int | None) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return default
    if not (raw.isascii() and raw.isdigit()):
        raise Invalid("InvalidQueryParameter", f"{name} must be a non-negative integer")
    return int(raw)


def _searchable(doc: Any) -> str:
    if isinstance(doc, dict):
        return " ".join(_searchable(v) for k, v in doc.items() if not k.startswith("_"))
    if isinstance(doc, list):
        return " ".join(_searchable(v) for v in doc)
    return str(doc).lower() if isinstance(doc, (str, int, float)) else ""


def query_string(params: dict[str, str]) -> str:
    """A link's query, with the OData ``$`` left literal (``?$top=1``, as the platform writes it; RFC 3986
    allows ``$`` in a query)."""
    return urlencode(params, safe="$")


def collection(items: list[dict[str, Any]], params: dict[str, str], self_path: str,
               expandable: tuple[str, ...] = ()) -> dict[str, Any]:
    """Apply the OData options in ``params`` to ``items`` and wrap the page in the CloudLink envelope."""
    known = {"$filter", "$search", "$orderby", "$top", "$skip", "$count", "$expand", "$select", "$skiptoken",
             "$skipToken"}
    if "$filter" in params and params["$filter"].strip():
        tree = parse_filter(params["$filter"])
        items = [doc for doc in items if matches(tree, doc)]
    if params.get("$search", "").strip():
        needle = params["$search"].strip().strip('"').lower()
        items = [doc for doc in items if needle in _searchable(doc)]
    if params.get("$orderby", "").strip():
        for path, descending in reversed(parse_orderby(params["$orderby"])):
            items = sorted(items, key=lambda d: (_lookup(d, path) is None, str(_lookup(d, path) or "")),
                           reverse=descending)
    expand = [e.strip() for e in params.get("$expand", "").split(",") if e.strip()]
    for name in expand:
        if name not in expandable:
            raise Invalid("InvalidQueryParameter", f"$expand={name} is not supported here"
                          + (f"; supported: {', '.join(expandable)}" if expandable else ""))
    count_flag = params.get("$count", "").lower()
    if count_flag not in ("", "true", "false"):
        raise Invalid("InvalidQueryParameter", "$count must be true or false")
    skip = _int_param(params, "$skip", 0) or 0
    skip_token = params.get("$skiptoken") or params.get("$skipToken")
    if skip_token:
        if not (skip_token.isascii() and skip_token.isdigit()):
            raise Invalid("InvalidQueryParameter", "$skiptoken is not valid")
        skip = int(skip_token)
    top = min(_int_param(params, "$top", DEFAULT_TOP) or 0, MAX_TOP)
    total = len(items)
    page = items[skip:skip + top]
    if not expand:
        page = [{k: v for k, v in doc.items() if k != "tags"} if "tags" in expandable else doc for doc in page]
    passthrough = {k: v for k, v in params.items() if k in known and k not in ("$skip", "$skiptoken", "$skipToken")}
    links: dict[str, str] = {"self": self_path + (("?" + query_string(params)) if params else "")}
    if top > 0 and skip + top < total:
        links["next"] = self_path + "?" + query_string({**passthrough, "$skip": str(skip + top), "$top": str(top)})
    body: dict[str, Any] = {"count": len(page), "_links": links, "_embedded": {"items": page}}
    if count_flag == "true":
        body["totalCount"] = total
    return body
