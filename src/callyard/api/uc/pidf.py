"""PIDF (``application/pidf+xml``, RFC 3863) with RPID (RFC 4480) for the UC presence: the document the twin
produces for a user's presence, and the reading of one a client sends (the standard library's XML parser).

Produced: one ``<tuple>`` whose ``<basic>`` is ``open`` when the user is available (else ``closed``), and a
data-model ``<dm:person>`` (RFC 4479) carrying ``<rpid:activities>`` (the activity: RFC 4480's own element
when it has one — ``busy``, ``meeting``, ``meal`` for lunch, ``vacation`` for out_of_office, ``working`` —
else ``<rpid:other>`` with the activity id; none for ``available``; ``until`` = the expiration),
``<rpid:class>`` (the role) and ``<dm:note>`` (the note).

Read: the same elements; a ``<note>`` of the presence or the tuple is read too. A document that is not
well-formed XML, not a ``<presence>`` of the PIDF namespace, or that names no activity, role or note is
refused (400)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from callyard.api.uc.edge.errors import invalid

MEDIA_TYPE = "application/pidf+xml"
PIDF = "urn:ietf:params:xml:ns:pidf"
RPID = "urn:ietf:params:xml:ns:pidf:rpid"
DM = "urn:ietf:params:xml:ns:pidf:data-model"
MAX_BYTES = 64 * 1024
_TO_RPID = {"busy": "busy", "meeting": "meeting", "lunch": "meal", "out_of_office": "vacation", "working": "working"}
_FROM_RPID = {value: key for key, value in _TO_RPID.items()} | {"away": "out_of_office", "appointment": "meeting",
                                                                "on-the-phone": "busy", "holiday": "out_of_office"}


def render(presence: dict[str, Any], entity: str) -> str:
    """The PIDF document of a UC presence view (``view()`` of core/presence/uc.py)."""
    for prefix, uri in (("", PIDF), ("rpid", RPID), ("dm", DM)):
        ET.register_namespace(prefix, uri)
    root = ET.Element(f"{{{PIDF}}}presence", {"entity": entity})
    tuple_ = ET.SubElement(root, f"{{{PIDF}}}tuple", {"id": "t1"})
    status = ET.SubElement(tuple_, f"{{{PIDF}}}status")
    ET.SubElement(status, f"{{{PIDF}}}basic").text = "open" if presence["available"] else "closed"
    person = ET.SubElement(root, f"{{{DM}}}person", {"id": "p1"})
    activity = presence["activity"]
    attrs = {} if activity["expiration"] == "never" else {"until": activity["expiration"]}
    activities = ET.SubElement(person, f"{{{RPID}}}activities", attrs)
    if activity["id"] in _TO_RPID:
        ET.SubElement(activities, f"{{{RPID}}}{_TO_RPID[activity['id']]}")
    elif activity["id"] != "available":
        ET.SubElement(activities, f"{{{RPID}}}other").text = activity["id"]
    ET.SubElement(person, f"{{{RPID}}}class").text = presence["role"]
    if presence.get("note"):
        ET.SubElement(person, f"{{{DM}}}note").text = presence["note"]
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def parse(data: bytes) -> dict[str, Any]:
    """A PIDF document → ``{activity?, expiration?, role?, note?}`` (the fields it names)."""
    if len(data) > MAX_BYTES:
        invalid("presence", "pidf.too.large", f"a PIDF document is at most {MAX_BYTES} bytes")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        invalid("presence", "pidf.not.valid", "a PIDF document declares no DTD or entities")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        invalid("presence", "pidf.not.valid", f"the PIDF document is not well-formed XML: {exc}")
    if root.tag != f"{{{PIDF}}}presence":
        invalid("presence", "pidf.not.valid", f"the root element is {{{PIDF}}}presence", root.tag)
    out: dict[str, Any] = {}
    activities = root.find(f".//{{{RPID}}}activities")
    if activities is not None:
        children = list(activities)
        if children:
            first = children[0]
            name = first.tag.split("}", 1)[-1]
            out["activity"] = (first.text or "").strip() if name == "other" else _FROM_RPID.get(name, name)
        else:
            out["activity"] = "available"
        until = activities.get("until")
        if until:
            out["expiration"] = until
    role = root.find(f".//{{{RPID}}}class")
    if role is not None and (role.text or "").strip():
        out["role"] = role.text.strip() if role.text else ""
    for path in (f".//{{{DM}}}note", f"{{{PIDF}}}note", f".//{{{PIDF}}}tuple/{{{PIDF}}}note"):
        note = root.find(path)
        if note is not None:
            out["note"] = (note.text or "").strip()
            break
    if not out:
        invalid("presence", "pidf.empty", "the PIDF document names no activity, class (role) or note")
    return out
