"""Field rules shared by every writer of directory data."""
from __future__ import annotations

import re

from email_validator import EmailNotValidError, validate_email

from callyard.core.errors import Invalid

LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$")


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
