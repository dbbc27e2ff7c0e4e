"""Customers and cases of the contact center.

* A customer of a non-voice interaction is a directory contact (``cc_directory``, type ``ElasticContact``):
  :func:`identify_contact` finds the one whose e-mail, phone or mobile phone matches (regardless of case and
  of the phone number's punctuation) or creates one (the seed's OpenMedia ``variableData`` Name/Email/Phone/
  MobilePhone; a chat's name and e-mail; an SMS's number; an e-mail's sender).
* A case (``cc_case``) groups the interactions of one customer: a new interaction joins the customer's case of
  the current month (cases are partitioned by month, ``monthYearCreated`` = ``MMYYYY``) or opens one. A case
  is ``Open`` while one of its interactions is active and ``Closed`` once all have ended; a closed case that
  gets a new interaction is reopened (``wasReopened``). It carries the seed's CaseModel fields: subject, the
  last queue and agent, their times, the media, queues and agents it went through.
"""
from __future__ import annotations

import re
from typing import Any

from callyard.core.contact_center.config import DIRECTORY
from callyard.core.runtime import Runtime
from callyard.core.state import UnitOfWork

CASE = "cc_case"
OPEN, CLOSED = "Open", "Closed"
CONTACT_FIELDS = ("name", "email", "phone", "mobilePhone")


def _phone_key(value: str) -> str:
    digits = re.sub(r"[^0-9]", "", value)
    return digits[-10:] if len(digits) >= 10 else digits


def month_year(iso_time: str) -> str:
    """``MMYYYY`` of an ISO time (the month partition of cases and e-mails)."""
    return f"{iso_time[5:7]}{iso_time[0:4]}"


def identify_contact(rt: Runtime, uow: UnitOfWork, account_id: str, details: dict[str, Any]) -> dict[str, Any] | None:
    """The directory contact matching ``details`` (``name``, ``email``, ``phone``, ``mobilePhone``), created when
    none matches; None when ``details`` names no e-mail or number (nothing identifies the customer)."""
    email = str(details.get("email") or "").strip().lower()
    phones = {_phone_key(str(details.get(k))) for k in ("phone", "mobilePhone") if details.get(k)}
    phones.discard("")
    if not email and not phones:
        return None
    for entry in rt.state.all(DIRECTORY):
        if entry["accountId"] != account_id or entry.get("type") != "ElasticContact":
            continue
        known = {_phone_key(str(entry.get(k))) for k in ("phone", "mobilePhone") if entry.get(k)}
        if (email and str(entry.get("email") or "").lower() == email) or (phones & known):
            missing = {k: details[k] for k in CONTACT_FIELDS if details.get(k) and not entry.get(k)}
            if missing:
                entry = uow.update(DIRECTORY, entry["id"], **missing, modifiedOn=rt.now_iso())
            return entry
    now = rt.now_iso()
    name = str(details.get("name") or details.get("email") or details.get("phone") or details.get("mobilePhone"))
    doc: dict[str, Any] = {"id": rt.ids.uuid(), "accountId": account_id, "type": "ElasticContact", "createdOn": now,
           "modifiedOn": now, "custom": {}, "name": name,
           **{k: str(details[k]) for k in ("email", "phone", "mobilePhone") if details.get(k)}}
    uow.put(DIRECTORY, doc["id"], doc)
    uow.emit("cc.directory.created", account_id, f"/directory/{doc['id']}", doc, now)
    return doc


def case_key(interaction: dict[str, Any]) -> str:
    """What identifies the customer of an interaction: its contact, else its address."""
    return str(interaction.get("contactId") or (interaction.get("fromAddress") or "").lower())


def join_case(rt: Runtime, uow: UnitOfWork, interaction: dict[str, Any], case_id: str | None = None
              ) -> dict[str, Any]:
    """The case ``interaction`` belongs to (``case_id``, or the customer's case of this month, or a new one),
    updated with it; the interaction's ``caseId`` is for the caller to set."""
    now = rt.now_iso()
    month = month_year(now)
    case = rt.state.get(CASE, case_id) if case_id else None
    if case is not None and case["accountId"] != interaction["accountId"]:
        case = None
    if case is None:
        key = case_key(interaction)
        case = next((c for c in rt.state.all(CASE) if c["accountId"] == interaction["accountId"]
                     and c["customerKey"] == key and c["monthYearCreated"] == month and key), None)
    if case is None:
        case = {"id": rt.ids.uuid(), "accountId": interaction["accountId"], "customerKey": case_key(interaction),
                "state": OPEN, "stateModifiedOn": now, "subject": interaction.get("subject") or "",
                "createdOn": now, "modifiedOn": now, "closedOn": None, "wasReopened": False,
                "monthYearCreated": month, "conversations": [], "mediaTypes": [], "queues": [], "agents": [],
                "contacts": [], "notes": [], "userNotes": [], "timeOfLastCustomerResponse": None}
    case = {**case, "conversations": list(case["conversations"]), "mediaTypes": list(case["mediaTypes"]),
            "queues": list(case["queues"]), "agents": list(case["agents"]), "contacts": list(case["contacts"])}
    if interaction["conversationId"] not in case["conversations"]:
        case["conversations"].append(interaction["conversationId"])
    if case["state"] == CLOSED:
        case.update(state=OPEN, stateModifiedOn=now, wasReopened=True, closedOn=None)
    if not case["subject"] and interaction.get("subject"):
        case["subject"] = interaction["subject"]
    if interaction.get("contactId") and interaction["contactId"] not in case["contacts"]:
        case["contacts"].append(interaction["contactId"])
    case["modifiedOn"] = now
    return follow(rt, uow, case, interaction)


def follow(rt: Runtime, uow: UnitOfWork, case: dict[str, Any], interaction: dict[str, Any]) -> dict[str, Any]:
    """``case`` with what ``interaction`` is now (its last media, queue, agent and times); stored."""
    case = dict(case)
    media = interaction["mediaType"]
    if media not in case["mediaTypes"]:
        case["mediaTypes"] = [*case["mediaTypes"], media]
    case["lastMediaType"] = media
    if interaction.get("queueId"):
        if interaction["queueId"] not in case["queues"]:
            case["queues"] = [*case["queues"], interaction["queueId"]]
        case.update(lastQueueId=interaction["queueId"], lastQueueName=interaction.get("queueName"),
                    lastQueueReporting=interaction.get("queueReporting"),
                    timeOfferedToLastQueue=interaction.get("timeOfferedToQueue"))
    if interaction.get("agentId"):
        if interaction["agentId"] not in case["agents"]:
            case["agents"] = [*case["agents"], interaction["agentId"]]
        name = " ".join(p for p in (interaction.get("agentFirstName"), interaction.get("agentLastName")) if p)
        case.update(lastAgentId=interaction["agentId"], lastAgentName=name or None,
                    lastAgentReporting=interaction.get("agentReporting"),
                    timeOfferedToLastAgent=interaction.get("timeOfferedToAgent"),
                    # a new interaction not answered yet keeps the case's last answer
                    timeOfLastAgentResponse=interaction.get("timeOfLastAgentResponse")
                    or case.get("timeOfLastAgentResponse"))
    if interaction.get("timeOfLastCustomerResponse"):
        case["timeOfLastCustomerResponse"] = interaction["timeOfLastCustomerResponse"]
    case["modifiedOn"] = rt.now_iso()
    uow.put(CASE, case["id"], case)
    return case


def settle(rt: Runtime, uow: UnitOfWork, case_id: str | None, active: set[str]) -> None:
    """Close the case once none of its interactions is active (``active``: the ids of the active ones)."""
    case = rt.state.get(CASE, case_id) if case_id else None
    if case is None:
        return
    now = rt.now_iso()
    still = any(c in active for c in case["conversations"])
    if not still and case["state"] == OPEN:
        uow.put(CASE, case["id"], {**case, "state": CLOSED, "stateModifiedOn": now, "closedOn": now,
                                   "modifiedOn": now})
