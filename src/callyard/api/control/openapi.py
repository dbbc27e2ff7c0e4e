"""The control plane's part of the twin's OpenAPI document: the request bodies its handlers read raw (a
snapshot, endpoint settings with a behaviour profile) or optionally (a phone action), and which writes take
no body at all."""
from __future__ import annotations

import copy
from typing import Any

from callyard.sim.profiles import MODES

_SECONDS = {"oneOf": [{"type": "number", "minimum": 0}, {"type": "array", "items": {"type": "number"},
                                                           "minItems": 2, "maxItems": 2}],
            "description": "seconds, or [min, max] drawn uniformly"}
_SETTINGS = {
    "type": "object", "description": "Endpoint settings (any of them) and the simulated person's profile.",
    "properties": {
        **{flag: {"type": "boolean"} for flag in ("dnd", "messageWaiting", "pstnRouting", "outOfService",
                                                   "callWaiting", "voicemail")},
        "userAvailability": {"type": "string", "enum": ["available", "busy", "dnd", "away"]},
        **{forward: {"type": ["string", "null"], "description": "a number, or voicemail"}
           for forward in ("forwardAlways", "forwardBusy", "forwardNoAnswer", "forwardDnd")},
        "noAnswerSeconds": {"type": "number", "minimum": 0},
        "profile": {"type": ["object", "null"], "properties": {
            "mode": {"type": "string", "enum": list(MODES)}, "answerAfter": _SECONDS, "talkSeconds": _SECONDS,
            "device": {"type": "string"}}},
    }}
_SNAPSHOT = {"type": "object", "required": ["format", "version", "documents"],
             "description": "What GET /_callyard/state exported.",
             "properties": {"format": {"const": "callyard-state"}, "version": {"const": 1},
                            "documents": {"type": "object"}}}
_PHONE = {"type": "object", "properties": {"callId": {"type": "string", "description": "default: the only call"},
                                            "device": {"type": "string", "description": "answer: the terminal"}}}
_BODIES: dict[tuple[str, str], tuple[dict[str, Any], bool]] = {
    ("PUT", "/_callyard/sim/endpoints/{endpointId}"): (_SETTINGS, True),
    ("POST", "/_callyard/state"): (_SNAPSHOT, True),
    ("POST", "/_callyard/sim/endpoints/{endpointId}/{action}"): (_PHONE, False),
}
NO_BODY = {("POST", "/_callyard/reset"), ("POST", "/_callyard/deliveries/{deliveryId}/replay")}


def complete_openapi(doc: dict[str, Any], operations: dict[tuple[str, str], dict[str, Any]]) -> None:
    for key, op in operations.items():
        if "requestBody" in op:
            continue
        if key in _BODIES:
            schema, required = _BODIES[key]
            op["requestBody"] = {"required": required,
                                 "content": {"application/json": {"schema": copy.deepcopy(schema)}}}
        elif key in NO_BODY:
            op["description"] = (op.get("description", "") + "\n\nNo request body.").strip()
