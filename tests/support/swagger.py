"""Validate what the server answered against the vendor's Media swagger (specs/).

``check(response, "GET", "/endpoints/{endpointId}")`` looks up the operation, requires the status to be one
the swagger declares, and validates the JSON body against that status's schema (errors against
``definitions.error``). Swagger 2 schemas are JSON Schema draft 4 with ``#/definitions`` references, so
the whole document is the root the validator resolves against.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import Any

import httpx
from jsonschema import Draft4Validator

SPEC = Path(__file__).resolve().parents[2] / "specs" / "cloudlink-media-api.swagger.json"
BASE = "/2017-09-01"


@lru_cache(maxsize=1)
def spec() -> dict[str, Any]:
    return json.loads(SPEC.read_text())


def schema_for(method: str, path: str, status: int) -> dict[str, Any] | None:
    operation = spec()["paths"][path][method.lower()]
    declared = operation["responses"]
    if str(status) not in declared:
        raise AssertionError(f"{method} {path} answered {status}, which the swagger does not declare "
                             f"(declared: {sorted(declared)})")
    answer = declared[str(status)]
    if "$ref" in answer:
        answer = spec()["responses"][answer["$ref"].rsplit("/", 1)[1]]
    return answer.get("schema")


def validate(instance: Any, schema: dict[str, Any]) -> None:
    root = {**schema, "definitions": spec()["definitions"]}
    errors = sorted(Draft4Validator(root).iter_errors(instance), key=lambda e: list(e.path))
    if errors:
        raise AssertionError("; ".join(f"{'/'.join(map(str, e.path)) or '<root>'}: {e.message}" for e in errors[:5])
                             + f"\nbody: {json.dumps(instance)[:800]}")


def definition(name: str, instance: Any) -> None:
    validate(instance, {"$ref": f"#/definitions/{name}"})


def check(response: httpx.Response, method: str, path: str) -> Any:
    """Assert ``response`` conforms to the swagger for ``method path`` and return its JSON body."""
    schema = schema_for(method, path, response.status_code)
    if response.headers.get("content-type", "").startswith("application/json"):
        body = response.json()
    else:
        raise AssertionError(f"{method} {path} answered {response.status_code} with "
                             f"{response.headers.get('content-type')}, not JSON: {response.text[:200]}")
    if response.status_code >= 400:
        assert set(body) >= {"name", "message"}, body
        definition("error", body)
    elif schema is not None:
        validate(body, schema)
    return body
