"""Account domains: the DNS name that addresses an account in the UC and CX families.

Every account has a ``domain`` (``acme.example``): the UC User API addresses a user as ``{domain}/{user}``.
Domains are DNS names (letters, digits and hyphens in dot-separated labels of at most 63 characters, at
least two labels, 253 characters in all), stored in lower case and unique across the twin regardless of
case. A tenant file may set an account's ``domain``; otherwise one is derived from the account's name: the
name's slug plus ``.example`` (``Callyard Partner`` → ``callyard-partner.example``), with ``-2``, ``-3`` …
appended to the slug while that is taken.

Not to be confused with the account's SIP domain (``sipDomain``, ``<accountId>.callyard.example``): that
is the platform domain CloudLink reports as the account's and the token's ``domain`` and that ends every
user's ``sipAddress``. A user document's own ``domain`` field is that SIP domain too (CloudLink's user
object). Accounts written before domains existed carry the SIP domain in ``domain`` and no ``sipDomain``;
``sip_domain`` reads either, and ``upgrade_accounts`` brings such documents up to date.
"""
from __future__ import annotations

import re
import unicodedata
from typing import Any
from collections.abc import Iterable

from callyard.core.errors import Invalid

SIP_DOMAIN_SUFFIX = "callyard.example"
DERIVED_SUFFIX = "example"
_LABEL = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")


def sip_domain(account: dict[str, Any]) -> str:
    """The account's SIP (CloudLink platform) domain, for documents of either generation."""
    return account.get("sipDomain") or account.get("domain") or f"{account['accountId']}.{SIP_DOMAIN_SUFFIX}"


def default_sip_domain(account_id: str) -> str:
    return f"{account_id}.{SIP_DOMAIN_SUFFIX}"


def is_domain(value: object) -> bool:
    if not isinstance(value, str) or len(value) > 253:
        return False
    labels = value.lower().split(".")
    return len(labels) >= 2 and all(_LABEL.match(label) for label in labels) and not labels[-1].isdigit()


def normalize(value: object, where: str = "domain") -> str:
    """A valid account domain in lower case, or ``Invalid``."""
    if not is_domain(value):
        raise Invalid("ValidationError", f"{where} {value!r} is not a valid DNS name (such as acme.example)")
    return str(value).lower()


def slug(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    text = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return text[:50].strip("-") or "account"


def derive(name: str, taken: set[str]) -> str:
    """A domain for an account called ``name`` that is not in ``taken`` (lower-case domains)."""
    base = slug(name)
    candidate, n = f"{base}.{DERIVED_SUFFIX}", 1
    while candidate in taken:
        n += 1
        candidate = f"{base}-{n}.{DERIVED_SUFFIX}"
    return candidate


def taken_by(accounts: Iterable[dict[str, Any]]) -> set[str]:
    return {a["domain"].lower() for a in accounts if isinstance(a.get("domain"), str)}


def upgrade_accounts(accounts: list[dict[str, Any]]) -> None:
    """Give accounts written before domains existed a ``sipDomain`` (their old ``domain``) and a ``domain``
    (kept when it is a valid, unclaimed name that is not the SIP domain; derived from the name otherwise),
    and an account without a ``domain`` a derived one. Changes the documents in place, in the given order
    (so the result is deterministic); accounts that already have both are left alone."""
    stale = [a for a in accounts if "sipDomain" not in a or not isinstance(a.get("domain"), str)]
    if not stale:
        return
    fresh = {id(a) for a in stale}
    taken = taken_by(a for a in accounts if id(a) not in fresh)
    kept: set[int] = set()
    for account in stale:
        old = account.get("domain")
        if "sipDomain" not in account:
            account["sipDomain"] = old if isinstance(old, str) and old else default_sip_domain(account["accountId"])
        if (isinstance(old, str) and is_domain(old) and old != default_sip_domain(account["accountId"])
                and old.lower() not in taken):
            taken.add(old.lower())
            account["domain"] = old.lower()
            kept.add(id(account))
    for account in stale:
        if id(account) not in kept:
            account["domain"] = derive(str(account.get("name") or "account"), taken)
            taken.add(account["domain"])
