"""PIDF (``application/pidf+xml``, RFC 3863) with the RPID extensions (RFC 4480) and the data model (RFC 4479),
produced and parsed with the standard library's ElementTree.

The UC presence maps onto it as follows (both ways):

* availability: the tuple's ``<status><basic>`` ``open`` (available) or ``closed``;
* activity: ``<rpid:activities>`` on the ``<dm:person>``: ``busy``, ``meeting``, ``working`` and ``away``
  (out_of_office) are RFC 4480 activities, ``lunch`` is RFC 4480's ``meal``; an activity with no RFC 4480
  name is ``<rpid:other>id</rpid:other>``; ``available`` is no activity element. The expiration is the
  activities' ``until`` attribute (absent: never);
* role: ``<rpid:class>`` of the person (business, private or an organisation's own role);
* note: ``<dm:note>`` of the person (a top-level ``<note>`` is read too).

Scheduled presence is the same person element with ``from``/``until`` on ``<rpid:activities>``, one per
occurrence (``id`` ``fp-<presenceId>-<instanceId>``).
"""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any, Iterable

from callyard.core.errors import Invalid

MEDIA_TYPE = "application/pidf+xml"
PIDF = "urn:ietf:params:xml:ns:pidf"
DM = "urn:ietf:params:xml:ns:pidf:data-model"
RPID = "urn:ietf:params:xml:ns:pidf:rpid"
MAX_BYTES = 64 * 1024
# UC activity id → RFC 4480 activity element
TO_RPID = {"busy": "busy", "meeting": "meeting", "working": "working", "lunch": "meal", "out_of_office": "away"}
FROM_RPID = {v: k for k, v in TO_RPID.items()} | {"vacation": "out_of_office", "holiday": "out_of_office",
                                                    "on-the-phone": "busy", "appointment": "meeting"}

for _prefix, _uri in (("", PIDF), ("dm", DM), ("rpid", RPID)):
    ET.register_namespace(_prefix, _uri)


def _q(ns: str, tag: str) -> str:
    return f"{{{ns}}}{tag}"


def _activities(parent: ET.Element, activity: str, **window: str | None) -> None:
    attrs = {k: v for k, v in window.items() if v}
    element = ET.SubElement(parent, _q(RPID, "activities"), attrs)
    if activity in TO_RPID:
        ET.SubElement(element, _q(RPID, TO_RPID[activity]))
    elif activity != "available":
        ET.SubElement(element, _q(RPID, "other")).text = activity


def render(entity: str, presence: dict[str, Any]) -> str:
    """A PIDF document of a UC ``Presence``."""
    root = ET.Element(_q(PIDF, "presence"), {"entity": entity})
    tuple_ = ET.SubElement(root, _q(PIDF, "tuple"), {"id": "uc"})
    status = ET.SubElement(tuple_, _q(PIDF, "status"))
    ET.SubElement(status, _q(PIDF, "basic")).text = "open" if presence.get("available") else "closed"
    person = ET.SubElement(root, _q(DM, "person"), {"id": "p"})
    activity = presence.get("activity") or {}
    expiration = activity.get("expiration")
    _activities(person, str(activity.get("id") or "available"),
                until=expiration if expiration and str(expiration).lower() != "never" else None)
    if presence.get("role"):
        ET.SubElement(person, _q(RPID, "class")).text = str(presence["role"])
    if presence.get("note"):
        ET.SubElement(person, _q(DM, "note")).text = str(presence["note"])
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def render_future(entity: str, occurrences: Iterable[tuple[dict[str, Any], dict[str, Any]]]) -> str:
    """Scheduled presence as PIDF: a person per (scheduled presence, occurrence)."""
    root = ET.Element(_q(PIDF, "presence"), {"entity": entity})
    for doc, instance in occurrences:
        person = ET.SubElement(root, _q(DM, "person"), {"id": f"fp-{doc['presenceId']}-{instance['instanceId']}"})
        _activities(person, str(doc.get("activity") or "available"), **{"from": instance["dt-start"],
                                                                        "until": instance["dt-end"]})
        if doc.get("role"):
            ET.SubElement(person, _q(RPID, "class")).text = str(doc["role"])
        if doc.get("note"):
            ET.SubElement(person, _q(DM, "note")).text = str(doc["note"])
    return ET.tostring(root, encoding="unicode", xml_declaration=True)


def parse(data: bytes) -> dict[str, Any]:
    """The presence changes a PIDF document carries: any of ``activity``, ``expiration``, ``role``, ``note``,
    ``available``. 400 for a document that is not PIDF."""
    if not data:
        raise Invalid("pidf.required", "the body is a PIDF document (application/pidf+xml)", field="body")
    if len(data) > MAX_BYTES:
        raise Invalid("pidf.too.large", f"a PIDF document has at most {MAX_BYTES} bytes", field="body")
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise Invalid("pidf.not.valid", "a PIDF document declares no DTD or entities", field="body")
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        raise Invalid("pidf.not.valid", f"the body is not well-formed XML: {exc}", field="body") from None
    if root.tag != _q(PIDF, "presence"):
        raise Invalid("pidf.not.valid", "the root element is urn:ietf:params:xml:ns:pidf presence", field="body",
                      value=root.tag)
    out: dict[str, Any] = {}
    basic = root.find(f"{_q(PIDF, 'tuple')}/{_q(PIDF, 'status')}/{_q(PIDF, 'basic')}")
    if basic is not None and basic.text:
        if basic.text.strip() not in ("open", "closed"):
            raise Invalid("pidf.basic.not.valid", "basic is open or closed", field="basic", value=basic.text)
        out["available"] = basic.text.strip() == "open"
    person = root.find(_q(DM, "person"))
    if person is not None:
        activities = person.find(_q(RPID, "activities"))
        if activities is not None:
            children = list(activities)
            if not children:
                out["activity"] = "available"
            else:
                child = children[0]
                local = child.tag.rpartition("}")[2]
                if local == "other":
                    out["activity"] = (child.text or "").strip()
                elif local in FROM_RPID:
                    out["activity"] = FROM_RPID[local]
                else:
                    raise Invalid("pidf.activity.not.supported", f"the activity {local} has no UC activity",
                                  field="activities", value=local)
            until = activities.get("until")
            out["expiration"] = until if until else "never"
        role = person.find(_q(RPID, "class"))
        if role is not None and role.text:
            out["role"] = role.text.strip()
        note = person.find(_q(DM, "note"))
        if note is not None:
            out["note"] = note.text or ""
    if "note" not in out:
        note = root.find(_q(PIDF, "note"))
        if note is not None:
            out["note"] = note.text or ""
    if not out:
        raise Invalid("presence.empty", "the PIDF document carries no availability, activity, role or note",
                      field="body")
    return out
