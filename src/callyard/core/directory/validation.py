"""Field rules shared by every writer of directory data."""
from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

from callyard.core.errors import Invalid

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")
EXTENSION = re.compile(r"^[0-9]{2,15}$")
PHONE = re.compile(r"^\+?[0-9][0-9 ().\-/]{1,31}$")
NAME_MAX = 256          # names, titles, departments, login ids
TEXT_MAX = 2048         # descriptions and other free text


def extension(value: object, field: str = "extension") -> object:
    """An internal number: 2 to 15 digits (None or "" clear it and pass as they are)."""
    if value is None or value == "":
        return value
    if not isinstance(value, str) or not EXTENSION.match(value):
        raise Invalid("ValidationError", f'{field} should match pattern "{EXTENSION.pattern}" (2 to 15 digits)')
    return value


def phone(value: object, field: str) -> object:
    """A telephone number: digits with an optional leading + and the usual separators."""
    if value is None or value == "":
        return value
    if not isinstance(value, str) or not PHONE.match(value) or sum(ch.isdigit() for ch in value) < 3:
        raise Invalid("ValidationError", f"{field} should be a telephone number such as +16135550100")
    return value


def text_lengths(fields: dict[str, object], long: tuple[str, ...] = ("description",)) -> None:
    """Every string field at most ``NAME_MAX`` characters, the ``long`` ones at most ``TEXT_MAX``."""
    for key, value in fields.items():
        limit = TEXT_MAX if key in long else NAME_MAX
        if isinstance(value, str) and len(value) > limit:
            raise Invalid("ValidationError", f"{key} should NOT be longer than {limit} characters")


def email(value: object, field: str = "email") -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("ValidationError", f"{field} is required and must be a valid e-mail address")
    try:
        return validate_email(value.strip(), check_deliverability=False).normalized
    except EmailNotValidError as exc:
        raise Invalid("ValidationError", f"{field} is not a valid e-mail address: {exc}") from None


def language_code(value: object, field: str = "languageCode") -> str:
    if not isinstance(value, str) or not LANGUAGE_CODE.match(value):
        raise Invalid("ValidationError", f'{field} should match pattern "{LANGUAGE_CODE.pattern}" (BCP-47, e.g. en-US)')
    return value
