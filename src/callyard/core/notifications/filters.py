"""A subscription's filters, compiled once and matched in bounded time.

``subjectFilter`` is a regular expression searched in the publication's subject. It runs on RE2 (the
``google-re2`` binding), whose matching time is linear in the subject's length whatever the pattern, so no
subscriber's filter can stall the delivery of every other's (Python's backtracking ``re`` took 40 s on
``^(.|.)*!``). RE2 is Python's syntax minus what needs backtracking: backreferences (``\\1``, ``(?P=name)``)
and lookaround (``(?=``, ``(?!``, ``(?<=``, ``(?<!``) are refused at subscription time with a 400 naming the
construct; Python's ``\\Z`` is translated to RE2's ``\\z`` (same meaning). A filter is at most
``SUBJECT_FILTER_MAX`` characters and its compiled program at most ``RE2_MAX_MEM`` bytes.

``publicationFilter`` is RFC 9535 JSONPath evaluated against ``{"publications": [publication]}``. It is at
most ``PUBLICATION_FILTER_MAX`` characters, has at most ``MAX_DESCENDANTS`` descendant segments (``..``) and
``MAX_FILTERS`` filter selectors (``[?``), so evaluating it against one publication is bounded; its
``match()`` and ``search()`` functions run on RE2 too (the library's default uses a backtracking engine), and a
pattern longer than ``SUBJECT_FILTER_MAX`` never matches.
"""
from __future__ import annotations

from typing import Any

import jsonpath_rfc9535 as jsonpath
import re2
from jsonpath_rfc9535.function_extensions import ExpressionType, FilterFunction

from callyard.core.errors import Invalid

SUBJECT_FILTER_MAX = 1_024
PUBLICATION_FILTER_MAX = 1_024
MAX_DESCENDANTS = 2
MAX_FILTERS = 4
RE2_MAX_MEM = 1 << 20   # bytes for one compiled pattern (RE2's own bound on the program it builds)

_UNSUPPORTED = (("(?=", "lookahead (?=…)"), ("(?!", "negative lookahead (?!…)"), ("(?<=", "lookbehind (?<=…)"),
                ("(?<!", "negative lookbehind (?<!…)"), ("(?P=", "named backreference (?P=…)"))


def _options() -> Any:
    options = re2.Options()
    options.max_mem = RE2_MAX_MEM
    options.log_errors = False
    return options


def _translate(pattern: str) -> str:
    """Python regular-expression syntax that RE2 spells differently: ``\\Z`` (end of text) is RE2's ``\\z``."""
    out: list[str] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "\\" and i + 1 < len(pattern):
            nxt = pattern[i + 1]
            out.append("\\z" if nxt == "Z" else ch + nxt)
            i += 2
            continue
        out.append(ch)
        i += 1
    return "".join(out)


def _unsupported(pattern: str) -> str | None:
    for marker, name in _UNSUPPORTED:
        if marker in pattern:
            return name
    escaped = False
    for ch in pattern:
        if escaped and ch.isdigit() and ch != "0":
            return f"backreference \\{ch}"
        escaped = not escaped and ch == "\\"
    return None


_SPECIAL = frozenset("\\.^$*+?{}[]|()")


class Literal:
    """A ``subjectFilter`` with no special character (a plain prefix such as ``/2017-09-01/endpoints/``, the
    common case): searching for it is finding it as a substring, which ``str.__contains__`` does in a fraction
    of what a call into RE2 costs (the binding re-encodes the subject on every search)."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def search(self, subject: str) -> bool:
        return self.text in subject


def compile_subject(pattern: str) -> Any:
    """``subjectFilter`` compiled for RE2 (or, when it has no special character, as a :class:`Literal`), or
    ``Invalid("InvalidSubjectFilter")`` saying why not."""
    if len(pattern) > SUBJECT_FILTER_MAX:
        raise Invalid("InvalidSubjectFilter", f"subjectFilter is at most {SUBJECT_FILTER_MAX} characters")
    construct = _unsupported(pattern)
    if construct is not None:
        raise Invalid("InvalidSubjectFilter", f"subjectFilter uses a {construct}, which the linear-time regular "
                                              "expression engine (RE2) does not support")
    if _SPECIAL.isdisjoint(pattern):
        return Literal(pattern)
    try:
        return re2.compile(_translate(pattern), _options())
    except re2.error as exc:
        detail = exc.args[0].decode(errors="replace") if exc.args and isinstance(exc.args[0], bytes) else str(exc)
        raise Invalid("InvalidSubjectFilter",
                      f"subjectFilter is not a valid regular expression (RE2 syntax): {detail}") from None


# ---------------------------------------------------------------------------------------------- JSONPath
def _iregexp(pattern: str) -> str:
    """An RFC 9485 I-Regexp as RE2: ``.`` outside a class is any character but CR and LF."""
    out: list[str] = []
    escaped = in_class = False
    for ch in pattern:
        if escaped:
            out.append(ch)
            escaped = False
        elif ch == "\\":
            escaped = True
            out.append(ch)
        elif ch == "[":
            in_class = True
            out.append(ch)
        elif ch == "]":
            in_class = False
            out.append(ch)
        elif ch == "." and not in_class:
            out.append("[^\\n\\r]")
        else:
            out.append(ch)
    return "".join(out)


class _Patterns:
    """I-Regexp patterns compiled for RE2, the last few hundred kept (patterns may come from the data)."""

    def __init__(self) -> None:
        self.cache: dict[tuple[str, bool], Any] = {}

    def get(self, pattern: str, whole: bool) -> Any:
        key = (pattern, whole)
        compiled = self.cache.get(key)
        if compiled is None and key not in self.cache:
            try:
                text = _iregexp(pattern)
                compiled = re2.compile(f"(?:{text})" if whole else text, _options())
            except re2.error:
                compiled = None
            if len(self.cache) >= 512:
                self.cache.pop(next(iter(self.cache)))
            self.cache[key] = compiled
        return compiled


_PATTERNS = _Patterns()


class _Re2Function(FilterFunction):
    arg_types = [ExpressionType.VALUE, ExpressionType.VALUE]
    return_type = ExpressionType.LOGICAL
    whole = False

    def __call__(self, string: object, pattern: object) -> bool:
        if not isinstance(string, str) or not isinstance(pattern, str) or len(pattern) > SUBJECT_FILTER_MAX:
            return False
        compiled = _PATTERNS.get(pattern, self.whole)
        if compiled is None:
            return False
        return bool(compiled.fullmatch(string) if self.whole else compiled.search(string))


class _Match(_Re2Function):
    whole = True


class _Environment(jsonpath.JSONPathEnvironment):
    def setup_function_extensions(self) -> None:
        super().setup_function_extensions()
        self.function_extensions["match"] = _Match()
        self.function_extensions["search"] = _Re2Function()


_ENV = _Environment()


def compile_publication(query: str) -> Any:
    """``publicationFilter`` compiled, or ``Invalid("InvalidPublicationFilter")`` saying why not."""
    if len(query) > PUBLICATION_FILTER_MAX:
        raise Invalid("InvalidPublicationFilter", f"publicationFilter is at most {PUBLICATION_FILTER_MAX} characters")
    if query.count("..") > MAX_DESCENDANTS:
        raise Invalid("InvalidPublicationFilter",
                      f"publicationFilter has at most {MAX_DESCENDANTS} descendant segments (..)")
    if query.count("?") > MAX_FILTERS:
        raise Invalid("InvalidPublicationFilter", f"publicationFilter has at most {MAX_FILTERS} filter selectors")
    try:
        return _ENV.compile(query)
    except (jsonpath.JSONPathError, RecursionError) as exc:
        raise Invalid("InvalidPublicationFilter",
                      f"publicationFilter is not a valid JSONPath (RFC 9535): {exc}") from None
