"""Engine views → the Media swagger's definitions (``call``, ``endpoint``, ``recording``)."""
from __future__ import annotations

from typing import Any

import orjson

from callyard.api.cloudlink.edge import BASE_PATH as BASE


def _drop_none(out: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in out.items() if v is not None}


def call_wire(leg: dict[str, Any]) -> dict[str, Any]:
    """A leg as the swagger's ``call``: ``callId`` is the leg's id on this endpoint."""
    pbx = {"callTrackingID": leg["callId"], "sequence": leg["sequence"], "endpointKind": leg["endpointKind"]}
    for key in ("terminal", "queueId", "consultFor", "dtmf"):
        if leg.get(key):
            pbx[key] = leg[key]
    return _drop_none({
        "callId": leg["legId"], "from": leg["from"], "fromNumberE164": leg["from"].startswith("+"),
        "fromName": leg["fromName"], "fromPrincipalId": leg["fromPrincipalId"], "to": leg["to"],
        "toNumberE164": leg["to"].startswith("+"), "toName": leg["toName"], "toPrincipalId": leg["toPrincipalId"],
        "state": leg["state"], "cause": leg["cause"], "direction": leg["direction"],
        "extraPbxData": orjson.dumps(pbx).decode(), "createdOn": leg["createdOn"],
        "endTime": leg.get("endTime"), "completed": leg["completed"], "ringTime": leg["ringTime"],
        "billingTime": leg["billingTime"],
        "_links": {"self": f"{BASE}/endpoints/{leg['endpointId']}/calls/{leg['legId']}"}})


def record_wire(record: dict[str, Any]) -> dict[str, Any]:
    """A call record (history) as the swagger's ``call``, plus ``principal`` for the documented
    ``$filter=contains(principal, '…')``."""
    return _drop_none({
        "callId": record["legId"], "from": record["from"], "fromNumberE164": record["fromNumberE164"],
        "fromName": record["fromName"], "fromPrincipalId": record.get("fromPrincipalId"), "to": record["to"],
        "toNumberE164": record["toNumberE164"], "toName": record["toName"],
        "toPrincipalId": record.get("toPrincipalId"), "state": record["state"], "cause": record["cause"],
        "direction": record["direction"], "createdOn": record["createdOn"], "endTime": record.get("endTime"),
        "completed": record["completed"], "ringTime": record["ringTime"], "billingTime": record["billingTime"],
        "extraPbxData": orjson.dumps({"callTrackingID": record["callId"],
                                      "endpointId": record["endpointId"]}).decode(),
        "principal": record.get("principalId"),
        "_links": {"self": f"{BASE}/calls/{record['legId']}/records"}})


def endpoint_wire(view: dict[str, Any]) -> dict[str, Any]:
    return {"endpointId": view["endpointId"], "name": view["name"], "type": view["kind"], "state": view["state"],
            "userAvailability": view["userAvailability"], "messageWaiting": view["messageWaiting"],
            "pstnRouting": "enabled" if view["pstnRouting"] else "disabled", "dnd": view["dnd"],
            "_links": {"self": f"{BASE}/endpoints/{view['endpointId']}",
                       "calls": f"{BASE}/endpoints/{view['endpointId']}/calls"}}


def recording_wire(doc: dict[str, Any], media: dict[str, str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"recordingId": doc["recordingId"], "callId": doc["callId"], "createdOn": doc["createdOn"],
                           "contentType": doc["contentType"], "durationInSeconds": doc["durationInSeconds"],
                           "_links": {"self": f"{BASE}/recordings/{doc['recordingId']}"}}
    if doc.get("label"):
        out["label"] = doc["label"]
    if media is not None:
        out["_embedded"] = {"media": media}
    return out
