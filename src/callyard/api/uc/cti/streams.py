"""Live call state for the SSE streams: a hub fed after each commit with the engine's ``call.state`` (and
``call.dtmf``) events, and what the streams send (CallState JSON, RFC 4235 dialog-info XML); the body loop is
``callyard.api.common.sse``.

Keys: ``("leg", account, legId)`` for one call, ``("endpoint", account, number)`` for a user's dialogs.
A subscriber that falls ``MAX_BACKLOG`` events behind is closed (the client reconnects and gets a fresh full
state), so a slow reader never holds memory without bound.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, Callable, Mapping, Sequence

from callyard.api.common import sse
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


RETRY = "retry: 3000\n\n"   # what the UC streams send first: the client reconnects after 3 s


def dialog_stream(document: Callable[[int, list[dict[str, Any]] | None], str]) -> Callable[[Any], str]:
    """The replies of a dialog-info stream (a user's dialogs, a contact's line state) for ``sse.sse_body``:
    the full document ``document(version, ended)`` first (version 0), then again at each call event, the
    version counting up, a call that just ended reported once."""
    version = 0

    def respond(view: Any) -> str:
        nonlocal version
        if view is sse.START:
            return sse.message(document(version, None), event="dialog-info", event_id=version)
        version += 1
        ended = [view] if view["state"] == "completed" else []
        return sse.message(document(version, ended), event="dialog-info", event_id=version)
    return respond


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
