"""Live call state for the SSE streams: a hub fed after each commit with the engine's ``call.state`` (and
``call.dtmf``) events, and the stream bodies (CallState JSON, RFC 4235 dialog-info XML).

Keys: ``("leg", account, legId)`` for one call, ``("endpoint", account, number)`` for a user's dialogs.
A subscriber that falls ``MAX_BACKLOG`` events behind is closed (the client reconnects and gets a fresh full
state), so a slow reader never holds memory without bound.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, Mapping, Sequence

from callyard.delivery.fanout import Fanout
from callyard.events.event import Event

KEEP_ALIVE_SECONDS = 15.0
MAX_BACKLOG = 256
DIALOG_NS = "urn:ietf:params:xml:ns:dialog-info"
DIALOG_MEDIA_TYPE = "application/dialog-info+xml"
Key = tuple[str, str, str]
_CLOSED: dict[str, Any] = {}


class CallStreams(Fanout[Key, dict[str, Any]]):
    def __init__(self) -> None:
        super().__init__(_CLOSED, MAX_BACKLOG)

    def publish(self, event: Event) -> None:
        data = event.data
        if not data or "legId" not in data:
            return
        account = data["accountId"]
        keys = [("leg", account, data["legId"]), ("endpoint", account, data["endpointId"])]
        # the other parties' states changed too (their state tokens follow the call's)
        keys += [("leg", account, p["legId"]) for p in data.get("participants") or []]
        for key in keys:
            self.offer(key, data)


def closed(item: Mapping[str, Any]) -> bool:
    return item is _CLOSED


def sse(data: str, *, event: str | None = None, event_id: str | int | None = None) -> str:
    """One server-sent event (multi-line data is split into ``data:`` lines)."""
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    if event:
        lines.append(f"event: {event}")
    lines += [f"data: {line}" for line in data.splitlines() or [""]]
    return "\n".join(lines) + "\n\n"


KEEP_ALIVE = ": keep-alive\n\n"

_DIALOG_STATE = {"ringing": "early", "connected": "confirmed", "held": "confirmed", "completed": "terminated"}


def dialog_info(views: Sequence[Mapping[str, Any]], entity: str, domain: str, version: int,
                ended: Sequence[Mapping[str, Any]] | None = None) -> str:
    """A full RFC 4235 dialog-info document for the user's dialogs (``views``: the user's live legs;
    ``ended``: legs that just terminated, reported once)."""
    ET.register_namespace("", DIALOG_NS)
    root = ET.Element(f"{{{DIALOG_NS}}}dialog-info", {"version": str(version), "state": "full", "entity": entity})
    for view in [*views, *(ended or [])]:
        partner = next(iter(view.get("participants") or []), None)
        attrs = {"id": view["legId"], "call-id": view["callId"] or view["legId"], "local-tag": view["legId"],
                 "direction": "recipient" if view["direction"] == "inbound" else "initiator"}
        if partner is not None:
            attrs["remote-tag"] = partner["legId"]
        dialog = ET.SubElement(root, f"{{{DIALOG_NS}}}dialog", attrs)
        state = _DIALOG_STATE.get(view["state"], "terminated")
        if view["state"] == "connected" and view["direction"] == "outbound" and view.get("answeredOn") is None:
            state = "early" if partner is not None and partner["state"] == "ringing" else "proceeding"
        ET.SubElement(dialog, f"{{{DIALOG_NS}}}state").text = state
        local = ET.SubElement(dialog, f"{{{DIALOG_NS}}}local")
        ET.SubElement(local, f"{{{DIALOG_NS}}}identity").text = f"sip:{view['endpointId']}@{domain}"
        remote_number = view["from"] if view["direction"] == "inbound" else view["to"]
        remote_name = view["fromName"] if view["direction"] == "inbound" else view["toName"]
        remote = ET.SubElement(dialog, f"{{{DIALOG_NS}}}remote")
        identity = ET.SubElement(remote, f"{{{DIALOG_NS}}}identity")
        identity.text = f"tel:{remote_number}" if remote_number.startswith("+") else f"sip:{remote_number}@{domain}"
        if remote_name:
            identity.set("display", remote_name)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
