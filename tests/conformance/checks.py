"""Checks shared by the conformance runs, and the way their failures are keyed for allow-lists."""
from __future__ import annotations

import json
from typing import Any, Callable

from schemathesis import Case
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (content_type_conformance, response_schema_conformance,
                                               status_code_conformance)

CHECKS: dict[str, Callable[..., Any]] = {
    "status": status_code_conformance,
    "content-type": content_type_conformance,
    "schema": response_schema_conformance,
}


def declared_501(case: Case) -> bool:
    """Routes the twin does not build declare 501 and no success (docs/compatibility.md)."""
    declared = set(case.operation.definition.raw.get("responses", {}))
    return "501" in declared and not any(status.startswith("2") for status in declared)


def server_error(case: Case, response: Any) -> str | None:
    if response.status_code < 500:
        return None
    return f"{case.operation.label} answered {response.status_code}: {response.text[:300]}\n{case.as_curl_command()}"


def envelope_error(case: Case, response: Any) -> str | None:
    """Every CloudLink error answer is JSON ``{name, message}`` with string values."""
    if response.status_code < 400:
        return None
    try:
        body = json.loads(response.content)
    except ValueError:
        return f"{case.operation.label} answered {response.status_code} without a JSON body: {response.text[:200]}"
    if not (isinstance(body, dict) and isinstance(body.get("name"), str) and isinstance(body.get("message"), str)):
        return (f"{case.operation.label} answered {response.status_code} outside the {{name, message}} envelope: "
                f"{body!r:.300}")
    return None


def conformance_failures(case: Case, response: Any, checks: dict[str, Callable[..., Any]] = CHECKS
                         ) -> list[tuple[str, str]]:
    """Run each schemathesis check on its own; answer ``(key, report)`` per failure, where ``key`` is
    ``"<check> <status>"`` (e.g. ``"status 409"``, ``"schema 200"``; an error body's name follows, e.g.
    ``"schema 400 MalformedJSON"``) for allow-lists."""
    found: list[tuple[str, str]] = []
    for name, check in checks.items():
        try:
            case.validate_response(response, checks=[check])
        except (FailureGroup, Failure) as exc:
            failures = exc.exceptions if isinstance(exc, FailureGroup) else (exc,)
            detail = "\n".join(f"{f.title}: {f.message}" for f in failures)
            detail += f"\nbody: {response.text[:300]}\n{case.as_curl_command()}"
            key = f"{name} {response.status_code}"
            if name == "schema" and response.status_code >= 400:
                key += f" {error_name(response)}"
            found.append((key, detail))
    return found


def error_name(response: Any) -> str | None:
    try:
        body = json.loads(response.content)
    except ValueError:
        return None
    return body.get("name") if isinstance(body, dict) else None
