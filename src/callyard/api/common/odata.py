"""OData query building blocks shared by the families that accept OData options: ``$filter`` parsed by the
odata-query library and evaluated here against plain dicts (odata-query translates to SQL/ORM queries, while
the twin filters its in-memory documents; the grammar is the library's), and ``$orderby`` items. Each family
wraps them in its own collection shape. OData v2 ``substringof(field,'x')``, which real CloudLink clients
send, is registered as a function beside the v4 ones.
"""
from __future__ import annotations

import re
from datetime import date, datetime, timezone
from typing import Any, Callable

from odata_query import ast, exceptions as odata_errors, grammar
from odata_query.grammar import ODataLexer, ODataParser

from callyard.core.errors import Invalid

grammar.ODATA_FUNCTIONS.setdefault("substringof", 2)

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


def lookup(doc: Any, path: list[str]) -> Any:
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


class Evaluator:
    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc = doc

    def eval(self, node: Any) -> Any:
        method: Callable[[Any], Any] | None = getattr(self, "_" + type(node).__name__, None)
        if method is None:
            raise Invalid("InvalidFilter", f"$filter uses an unsupported construct: {type(node).__name__}")
        return method(node)

    def _Identifier(self, node: ast.Identifier) -> Any:
        return lookup(self.doc, [*node.namespace, node.name])

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


def matches(tree: Any, doc: dict[str, Any], evaluator: type[Evaluator] | None = None) -> bool:
    return bool((evaluator or Evaluator)(doc).eval(tree))


def parse_orderby(expression: str) -> list[tuple[list[str], bool]]:
    keys = []
    for item in expression.split(","):
        found = _ORDER_ITEM.match(item)
        if not found:
            raise Invalid("InvalidOrderBy", f"$orderby item {item.strip()!r} is not 'field [asc|desc]'")
        keys.append((found.group(1).split("/"), (found.group(2) or "asc").lower() == "desc"))
    return keys


