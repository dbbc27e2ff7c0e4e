"""The vendor's own specs (specs/, unchanged copies) run by schemathesis against the twin.

Each operation of the Media swagger and of the Authentication OpenAPI gets generated requests (an ACCOUNT_ADMIN
token of Acme on each), and each answer is held to the real spec: no status >= 500, the status declared, the
content type declared, the body valid against the declared schema. Known differences are listed below with
their reason (each is in docs/compatibility.md); anything else fails, so a new mismatch cannot slip in.

``CONFORMANCE_SURVEY=FILE`` lists every mismatch of a run in FILE (JSON lines) instead of failing at the first
one per operation: the way to review what a new seed or a longer run finds.
"""
from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

import schemathesis

from callyard.api.cloudlink import auth as auth_routes

from tests.conformance.checks import conformance_failures, server_error
from tests.conformance.conftest import BASE_PATH, Caller, config

SPECS = Path(__file__).resolve().parents[2] / "specs"
COLLECT = os.environ.get("CONFORMANCE_SURVEY")  # a file: record mismatches there instead of failing

# (operation, "<check> <status>") -> why the twin answers differently. Checks: "server" (>= 500), "status",
# "content-type", "schema".
NOT_BUILT = "not implemented by the twin: answers 501 NotImplemented (docs/compatibility.md, Authentication)"
BAD_INPUT = ("bad input (a body that is not a JSON object, a field of the wrong type) answers 400, which the spec "
             "does not declare for this operation")
UNPARSABLE = ("a body that is not JSON or not an object is 400 MalformedJSON, the name the spec gives it on "
              "POST /assume-role/token; this operation's 400 enum omits it")
AUTH_DEVIATIONS: dict[tuple[str, str], str] = {
    ("POST /token", "server 501"): "the token-exchange grant answers 501 NotImplemented",
    ("POST /token", "status 501"): "the token-exchange grant answers 501 NotImplemented",
    ("POST /authorize", "schema 400 InvalidRequest"):
        "input other than a missing field (e.g. response_type not code) is InvalidRequest, OAuth's invalid_request; "
        "the spec's only 400 name is MissingBodyInRequest",
    ("POST /assume-role/token", "schema 400 MissingParameters"):
        "a field of the wrong type is MissingParameters, as on POST /token; the spec's 400 enum here omits it",
    ("POST /applications", "schema 400 MalformedJSON"): UNPARSABLE,
    ("PUT /applications/{applicationId}", "schema 400 MalformedJSON"): UNPARSABLE,
    ("DELETE /applications/{applicationId}", "status 400"): BAD_INPUT,
    ("POST /applications/{applicationId}/tags", "status 400"): BAD_INPUT,
    ("PUT /applications/{applicationId}/tags/{tagId}", "status 400"): BAD_INPUT,
    ("DELETE /applications/{applicationId}", "schema 404 AccountNotFound"):
        "a body naming an unknown accountId is 404 AccountNotFound, as on GET and PUT of the same path; the "
        "spec's 404 enum for DELETE lists only ApplicationNotFound",
}
UNDECLARED_STATUS = ("the swagger declares no such status here, but real input needs it (docs/compatibility.md, "
                     "Conferences)")
MEDIA_DEVIATIONS: dict[tuple[str, str], str] = {
    ("GET /conferences", "status 400"): "bad OData ($skip, $top, $filter) is 400; " + UNDECLARED_STATUS,
    ("GET /conferences/content", "status 400"): "a search without $search, or bad OData, is 400; " + UNDECLARED_STATUS,
    ("GET /conferences/{conferenceId}/participants", "status 403"): "not a participant; " + UNDECLARED_STATUS,
    ("GET /conferences/{conferenceId}/participants", "status 404"): "unknown conference; " + UNDECLARED_STATUS,
    ("GET /users/{userId}/attendances", "status 400"): "bad OData is 400; " + UNDECLARED_STATUS,
    ("GET /users/{userId}/attendances", "status 403"): "another user's attendances; " + UNDECLARED_STATUS,
    # The two the Media tests accept too (tests/support/pbx.py UNDECLARED).
    ("PUT /endpoints/{endpointId}/calls/{callId}", "status 409"):
        "an action invalid in the call's state is 409 InvalidCallState (docs/compatibility.md, Media)",
    ("PUT /endpoints/{endpointId}", "status 403"): "a user changing another user's endpoint is 403",
    ("POST /conferences", "schema 200"):
        "the swagger's participant definition cannot be satisfied (one allOf half requires _links, the other "
        "forbids properties it does not list); participants carry the union of its properties",
}


# The Authentication routes the twin does not build (src/callyard/api/cloudlink/auth.py) answer 501.
AUTH_DEVIATIONS.update({(f"{method} {path}", key): NOT_BUILT for method, path in auth_routes.NOT_BUILT
                        for key in ("server 501", "status 501")})

# The Authentication spec references parameters and responses it never defines (components.parameters and
# components.responses are missing) and leaves some path parameters undeclared. The run supplies them with the
# plainest reading (documented in docs/compatibility.md); nothing else in the spec is changed.
_PARAMETERS = {
    "accountIdParam": {"name": "accountId", "in": "query", "schema": {"type": "string"}},
    "userIdParam": {"name": "userId", "in": "query", "schema": {"type": "string"}},
    "applicationIdParam": {"name": "applicationId", "in": "path", "required": True, "schema": {"type": "string"}},
    "tagIdParam": {"name": "tagId", "in": "path", "required": True, "schema": {"type": "string"}},
    "credentialIdParam": {"name": "credentialId", "in": "path", "required": True, "schema": {"type": "string"}},
    "issuerIdParam": {"name": "issuerId", "in": "path", "required": True, "schema": {"type": "string"}},
    "filterParam": {"name": "$filter", "in": "query", "schema": {"type": "string"}},
    "topParam": {"name": "$top", "in": "query", "schema": {"type": "integer", "minimum": 1}},
    "skipTokenParam": {"name": "$skipToken", "in": "query", "schema": {"type": "string"}},
    "expandParam": {"name": "$expand", "in": "query", "schema": {"type": "string"}},
}
_ERROR = {"type": "object", "required": ["name", "message"],
          "properties": {"name": {"type": "string"}, "message": {"type": "string"}}}
_RESPONSES = {"200": {"description": "OK"},
              **{status: {"description": status, "content": {"application/json": {"schema": _ERROR}}}
                 for status in ("400", "401", "403", "404", "409", "500")}}


def auth_spec() -> dict[str, Any]:
    spec = json.loads((SPECS / "cloudlink-auth.openapi.json").read_text())
    spec["components"]["parameters"] = _PARAMETERS
    spec["components"]["responses"] = _RESPONSES
    for path, operations in spec["paths"].items():
        for _method, operation in operations.items():
            parameters = []
            for parameter in operation.get("parameters", []):
                if parameter not in parameters:  # several operations list each reference twice
                    parameters.append(parameter)
            declared = {_PARAMETERS[p["$ref"].rsplit("/", 1)[1]]["name"] if "$ref" in p else p["name"]
                        for p in parameters}
            parameters += [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                           for name in re.findall(r"{(\w+)}", path) if name not in declared]
            if parameters:
                operation["parameters"] = parameters
    return spec


media = schemathesis.openapi.from_dict(json.loads((SPECS / "cloudlink-media-api.swagger.json").read_text()),
                                       config=config())
authentication = schemathesis.openapi.from_dict(auth_spec(), config=config())


def conforms(case: Any, response: Any, deviations: dict[tuple[str, str], str]) -> None:
    failures = conformance_failures(case, response)
    problem = server_error(case, response)
    if problem:
        failures.append((f"server {response.status_code}", problem))
    unexpected = [(key, detail) for key, detail in failures if (case.operation.label, key) not in deviations]
    if unexpected and COLLECT:
        # Survey mode: list every mismatch of the run in a file instead of stopping at the first per operation.
        with open(COLLECT, "a") as out:
            for key, detail in unexpected:
                out.write(json.dumps({"operation": case.operation.label, "key": key, "detail": detail[:1500]}) + "\n")
        return
    assert not unexpected, "\n".join(f"[{case.operation.label}: {key}] {detail}" for key, detail in unexpected)


@media.parametrize()
def test_media_swagger(case, caller: Caller, fuzz_server) -> None:
    conforms(case, caller.call(case, base_url=fuzz_server.url + BASE_PATH), MEDIA_DEVIATIONS)


@authentication.parametrize()
def test_authentication_openapi(case, caller: Caller, fuzz_server) -> None:
    conforms(case, caller.call(case, base_url=fuzz_server.url + BASE_PATH), AUTH_DEVIATIONS)
