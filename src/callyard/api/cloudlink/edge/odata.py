"""OData query options over a list of wire documents: ``$filter`` (parsed by the odata-query library,
evaluated here against plain dicts), ``$search``, ``$orderby``, ``$top``, ``$skip``, ``$count`` and
``$expand``, answering the CloudLink collection shape ``{count, _links{self,next}, _embedded{items}}``.

The evaluator is ours because odata-query translates to SQL/ORM queries, while the twin filters its
in-memory documents; the grammar is the library's. OData v2 ``substringof(field,'x')``, which real
CloudLink clients send, is registered as a function beside the v4 ones.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any, Callable
from urllib.parse import urlencode

from odata_query import ast, exceptions as odata_errors, grammar
from odata_query.grammar import ODataLexer, ODataParser

from callyard.core.errors import Invalid

grammar.ODATA_FUNCTIONS.setdefault("substringof", 2)

DEFAULT_TOP = 100
MAX_TOP = 10000
_ORDER_ITEM = re.compile(r"^\s*([A-Za-z_][\w/]*)\s*(asc|desc)?\s*$", re.IGNORECASE)


MAX_FILTER_LENGTH = 4096
MAX_FILTER_TERMS = 100   # and / or / not
MAX_FILTER_DEPTH = 32    # nested parentheses
_BOOLEAN_OPERATOR = re.compile(r"\b(and|or|not)\b", re.IGNORECASE)


def parse_filter(expression: str) -> ast._Node:
    if len(expression) > MAX_FILTER_LENGTH:
        raise Invalid("InvalidFilter", f"$filter is at most {MAX_FILTER_LENGTH} characters")
    if len(_BOOLEAN_OPERATOR.findall(expression)) > MAX_FILTER_TERMS:
        raise Invalid("InvalidFilter", f"$filter has at most {MAX_FILTER_TERMS} and/or/not operators")
    depth = deepest = 0
    for ch in expression:
        depth += 1 if ch == "(" else -1 if ch == ")" else 0
        deepest = max(deepest, depth)
    if deepest > MAX_FILTER_DEPTH:
        raise Invalid("InvalidFilter", f"$filter nests parentheses at most {MAX_FILTER_DEPTH} deep")
    try:
        return ODataParser().parse(ODataLexer().tokenize(expression))
    except (odata_errors.ODataException, Exception) as exc:  # sly raises plain exceptions on some inputs
        raise Invalid("InvalidFilter", f"$filter could not be parsed: {exc}") from None


def _lookup(doc: Any, path: list[str]) -> Any:
    for part in path:
        if not isinstance(doc, dict):
            return None
        doc = doc.get(part)
    return doc


def _comparable(value: Any) -> Any:
    if isinstance(value, str):
        try:
            if re.match(r"^\d{4}-\d\d-\d\dT", value):
                return datetime.fromisoformat(value.replace("Z", "+00:00"))
            return value
        except ValueError:
            return value
    if isinstance(value, datetime) and value.tzinfo is None:
        return value.replace(tzinfo=timezone.utc)
    return value


class _Evaluator:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def eval(self, node: Any) -> Any:
        method: Callable[[Any], Any] | None = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise Invalid("InvalidFilter", f"$filter uses an unsupported construct: {type(node).__name__}")
        return method(node)

    def _Identifier(self, node: ast.Identifier) -> Any:
        return _lookup(self.doc, [*node.namespace, node.name])

    def _Attribute(self, node: ast.Attribute) -> Any:
        owner = self.eval(node.owner)
        return owner.get(node.attr) if isinstance(owner, dict) else None

    def _String(self, node: ast.String) -> Any:
        return node.val

    def _Integer(self, node: ast.Integer) -> Any:
        return int(node.val)

    def _Float(self, node: ast.Float) -> Any:
        return float(node.val)

    def _Boolean(self, node: ast.Boolean) -> Any:
        return node.val.lower() == "true" if isinstance(node.val, str) else bool(node.val)

    def _Null(self, _node: ast.Null) -> Any:
        return None

    def _DateTime(self, node: ast.DateTime) -> Any:
        return _comparable(node.val)

    def _Date(self, node: ast.Date) -> Any:
        return date.fromisoformat(node.val) if isinstance(node.val, str) else node.val

    def _GUID(self, node: ast.GUID) -> Any:
        return str(node.val)

    def _List(self, node: ast.List) -> Any:
        return [self.eval(v) for v in node.val]

    def _BoolOp(self, node: ast.BoolOp) -> Any:
        if isinstance(node.op, ast.And):
            return bool(self.eval(node.left)) and bool(self.eval(node.right))
        return bool(self.eval(node.left)) or bool(self.eval(node.right))

    def _UnaryOp(self, node: ast.UnaryOp) -> Any:
        if isinstance(node.op, ast.Not):
            return not self.eval(node.operand)
        value = self.eval(node.operand)
        return -value if isinstance(value, (int, float)) else None

    def _Compare(self, node: ast.Compare) -> Any:
        left, right = _comparable(self.eval(node.left)), _comparable(self.eval(node.right))
        op = node.comparator
        if isinstance(op, ast.Eq):
            return left == right
        if isinstance(op, ast.NotEq):
            return left != right
        if isinstance(op, ast.In):
            return isinstance(right, list) and left in right
        if left is None or right is None:
            return False
        try:
            if isinstance(op, ast.Lt):
                return left < right
            if isinstance(op, ast.LtE):
                return left <= right
            if isinstance(op, ast.Gt):
                return left > right
            if isinstance(op, ast.GtE):
                return left >= right
        except TypeError:
            return False
        raise Invalid("InvalidFilter", f"unsupported comparison {type(op).__name__}")

    def _Call(self, node: ast.Call) -> Any:
        name = node.func.name.lower()
        args = [self.eval(a) for a in node.args]
        text = [a.lower() if isinstance(a, str) else a for a in args]
        if name == "substringof":
            return isinstance(text[0], str) and isinstance(text[1], str) and text[0] in text[1]
        if name in ("contains", "startswith", "endswith"):
            if not (isinstance(text[0], str) and isinstance(text[1], str)):
                return False
            return {"contains": text[0].__contains__, "startswith": text[0].startswith,
                    "endswith": text[0].endswith}[name](text[1])
        if name in ("tolower", "toupper", "trim", "length"):
            if not isinstance(args[0], str):
                return None
            functions: dict[str, Callable[[str], Any]] = {"tolower": str.lower, "toupper": str.upper,
                                                          "trim": str.strip, "length": len}
            return functions[name](args[0])
        if name == "indexof":
            return args[0].find(args[1]) if isinstance(args[0], str) and isinstance(args[1], str) else None
        if name == "concat":
            return "".join(str(a) for a in args if a is not None)
        raise Invalid("InvalidFilter", f"$filter function {node.func.name} is not supported")


def matches(tree: Any, doc: dict[str, Any]) -> bool:
    return bool(_Evaluator(doc).eval(tree))


def parse_orderby(expression: str) -> list[tuple[list[str], bool]]:
    keys = []
    for item in expression.split(","):
        found = _ORDER_ITEM.match(item)
        if not found:
            raise Invalid("InvalidOrderBy", f"$orderby item {item.strip()!r} is not 'field [asc|desc]'")
        keys.append((found.group(1).split("/"), (found.group(2) or "asc").lower() == "desc"))
    return keys


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
