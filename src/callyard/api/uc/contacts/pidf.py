"""Scheduled presence as PIDF (RFC 3863 with RPID, RFC 4480): one ``<dm:person>`` per occurrence, its
``<rpid:activities>`` carrying ``from``/``until`` (RFC 4480 §3.1) and the activity as the UC presence's PIDF
writes it (api/uc/pidf.py), ``<rpid:class>`` the role and ``<dm:note>`` the note."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, Iterable

from callyard.api.uc.pidf import DM, PIDF, RPID, render as render_presence

__all__ = ["render_future", "render_presence"]


def render_future(entity: str, occurrences: Iterable[tuple[dict[str, Any], dict[str, Any]]]) -> str:
    """Scheduled presence as PIDF: a person per (scheduled presence, occurrence)."""
    root = ET.Element(f"{{{PIDF}}}presence", {"entity": entity})
    for doc, instance in occurrences:
        shown = ET.fromstring(render_presence({
            "available": False, "role": doc.get("role") or "", "note": doc.get("note") or "",
            "activity": {"id": doc.get("activity") or "available", "expiration": instance["dt-end"]}}, entity))
        person = shown.find(f"{{{DM}}}person")
        if person is None:
            continue
        person.set("id", f"fp-{doc['presenceId']}-{instance['instanceId']}")
        activities = person.find(f"{{{RPID}}}activities")
        if activities is not None:
            activities.set("from", instance["dt-start"])
        root.append(person)
    return ET.tostring(root, encoding="unicode", xml_declaration=True)
