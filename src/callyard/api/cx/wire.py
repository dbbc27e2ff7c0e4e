"""The CX SDK family's wire shapes, built from allow-lists over the core's views: camelCase properties, enum
values as names, durations as .NET ``TimeSpan`` strings (``hh:mm:ss``), times in ISO 8601 (UTC, or local at
the client's ``offset`` where the route takes one), and ``_links`` on every resource.

The payloads the SignalR hubs push are shaped here too (``hub_*``), from the contact center's events
(``core/contact_center/announcements.py``), so the hub wiring only routes them:

| event | hub | client method | payload |
|---|---|---|---|
| ``cc.employee.state`` | employeeHub | ``employeeStateChanged`` | EmployeeState |
| ``cc.conversation.changed`` (employeeId) | employeeHub | ``employeeConversationChanged`` | [Conversation] |
| ``cc.conversation.removed`` (employeeId) | employeeHub | ``employeeConversationRemoved`` | [conversationId] |
| ``cc.agent.state`` | agentHub | ``onAgentStateChanged`` | AgentState |
| ``cc.queue.state`` | queueHub | ``queueStateChanged`` | QueueState |
| ``cc.conversation.changed`` (queueId) | queueHub | ``queueConversationChanged`` | [Conversation] |
| ``cc.conversation.removed`` (queueId) | queueHub | ``queueConversationRemoved`` | [conversationId] |
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable
from urllib.parse import quote

from callyard.api.cx.edge import BASE
from callyard.events.event import Event


def timespan(seconds: float | None) -> str:
    """Seconds as a .NET TimeSpan string: ``hh:mm:ss`` (``d.hh:mm:ss`` from a day on)."""
    total = int(round(seconds or 0))
    days, rest = divmod(total, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    text = f"{hours:02d}:{minutes:02d}:{secs:02d}"
    return f"{days}.{text}" if days else text


def when(value: str | None, offset: int | None = None) -> str | None:
    """An ISO time, in UTC or at the client's ``offset`` (minutes west of UTC)."""
    if not value:
        return None
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    if offset is None:
        return moment.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")
    return moment.astimezone(timezone(timedelta(minutes=-offset))).isoformat()


def links(path: str, **more: str) -> dict[str, Any]:
    out = {"self": {"href": f"{BASE}{path}"}}
    out.update({k: {"href": f"{BASE}{v}"} for k, v in more.items()})
    return out


def _embedded(embedded: dict[str, Any] | None) -> dict[str, Any]:
    return embedded or {}


# ---------------------------------------------------------------------- employees and agents
def employee(doc: dict[str, Any], user: dict[str, Any] | None, embedded: dict[str, Any] | None = None
             ) -> dict[str, Any]:
    user = user or {}
    media = doc["agents"]
    return {
        "_links": links(f"/employees/{doc['id']}", state=f"/employees/{doc['id']}/state",
                        conversations=f"/employees/{doc['id']}/conversations"),
        "_embedded": _embedded(embedded), "id": doc["id"],
        "name": f"{doc['firstName']} {doc['lastName']}".strip(), "firstName": doc["firstName"],
        "lastName": doc["lastName"], "nickName": None, "reporting": doc["reporting"], "email": user.get("email"),
        "username": doc["username"], "lineUri": user.get("extension"), "siteRefId": doc.get("siteId"),
        "securityRoleRefId": doc["securityRole"], "language": user.get("languageCode", "en-US"),
        "supervisorLicenseType": "Supervisor" if doc["securityRole"] == "Supervisor" else "None",
        "photoUrl": None, "canStartStopRecording": True,
        "isEnabledForVoice": "Voice" in media, "isEnabledForEmail": "Email" in media,
        "isEnabledForChat": "Chat" in media, "isEnabledForSMS": "Sms" in media,
        "isEnabledForOpenMedia": "OpenMedia" in media, "isRealTime": True, "cloudlinkId": doc["userId"],
        "lastModified": when(doc.get("modifiedOn")), "isMaySeeAllQueuesEnabled": doc["securityRole"] == "Supervisor",
        "isLicensedForWFS": False, "isCloudlinkChat": False, "isOSCMSRecorderEnabled": False,
    }


def _presence_entry(entry: dict[str, Any]) -> dict[str, Any]:
    return {"state": entry["state"], "acdState": entry["acdState"], "reason": entry.get("reasonName"),
            "reasonId": entry.get("reasonId"), **({"id": entry["agentId"], "reporting": entry["reporting"],
                                                   "mediaType": entry["mediaType"]} if "agentId" in entry else {})}


def employee_state(view: dict[str, Any], offset: int | None = None) -> dict[str, Any]:
    presence: dict[str, Any] = {}
    for key, value in view["presence"].items():
        presence[key] = [_presence_entry(e) for e in value] if isinstance(value, list) else _presence_entry(value)
    today = view["today"]
    return {
        "_links": links(f"/employees/{view['employeeId']}/state"), "_embedded": {},
        "id": view["employeeId"], "name": view["name"], "firstName": view["firstName"], "lastName": view["lastName"],
        "reporting": view["reporting"], "photoUrl": None, "presence": presence,
        "acdChatConversationsToday": today["Chat"], "acdEmailConversationsToday": today["Email"],
        "acdOpenMediaConversationsToday": today["OpenMedia"], "acdSmsConversationsToday": today["Sms"],
        "acdVoiceConversationsToday": today["Voice"],
        "firstAgentLoginTimeToday": when(view.get("firstLoginToday"), offset),
        "lastAgentLogoutTimeToday": when(view.get("lastLogoutToday"), offset),
        "enteredStateOn": when(view.get("enteredStateOn"), offset), "timeMediaServerId": None,
    }


def agent(item: dict[str, Any]) -> dict[str, Any]:
    employee_doc = item["employee"]
    return {
        "_links": links(f"/agents/{item['id']}", state=f"/agents/{item['id']}/state"), "_embedded": {},
        "id": item["id"], "reporting": item["reporting"], "mediaType": item["mediaType"], "mediaServer": None,
        "mediaServerRefId": None, "firstName": employee_doc["firstName"], "lastName": employee_doc["lastName"],
        "employeeRefId": employee_doc["id"], "photourl": None, "isHotDesking": item["mediaType"] == "Voice",
        "isExternalHotDeskingEnabled": False, "hotDeskExternalDialingPrefix": None, "hotDeskExternalNumber": None,
        "isSip": True,
    }


def agent_state(view: dict[str, Any], offset: int | None = None) -> dict[str, Any]:
    return {
        "_links": links(f"/agents/{view['agentId']}/state"), "_embedded": {},
        "id": view["agentId"], "firstName": view["firstName"], "lastName": view["lastName"],
        "reporting": view["reporting"], "employeeRefId": view["employeeId"], "mediaServerRefId": None,
        "mediaType": view["mediaType"], "mediaServerType": "SIP", "currentState": view["acdState"],
        "availableState": view["state"], "enteredStateOn": when(view.get("enteredStateOn"), offset),
        "reason": view.get("reasonName"), "photoUrl": None, "acdConversationsToday": view["acdConversationsToday"],
        "presentInAgentGroups": list(view["presentInAgentGroups"]),
        "lastLoginTime": when(view.get("lastLogin"), offset), "lastLogoffTime": when(view.get("lastLogout"), offset),
        "hotDeskExtension": view.get("hotDeskExtension"),
        **{f"{name}DurationToday": timespan(view["durationsToday"][name]) for name in (
            "loggedIn", "makeBusy", "doNotDisturb", "workTimer", "nonAcd", "outbound")},
        "acdDurationToday": timespan(view["durationsToday"]["acd"] + view["durationsToday"]["held"]),
        "holdAcdDurationToday": timespan(view["durationsToday"]["held"]),
    }


def agent_group(doc: dict[str, Any]) -> dict[str, Any]:
    media = doc.get("media", [])
    return {"_links": links(f"/agentgroups/{doc['id']}", states=f"/agentgroups/{doc['id']}/states"),
            "_embedded": {}, "id": doc["id"], "name": doc["name"], "reporting": doc.get("reporting"),
            "voiceMediaServerRefId": None, "isVoiceEnabled": "Voice" in media, "isEmailEnabled": "Email" in media,
            "isChatEnabled": "Chat" in media, "isSmsEnabled": "Sms" in media,
            "isOpenMediaEnabled": "OpenMedia" in media}


def group_presence(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], "name": item["name"], "reporting": item["reporting"],
            "statuses": [dict(s) for s in item["statuses"]]}


def licenses(view: dict[str, Any]) -> dict[str, Any]:
    return {**view, "blockedVoiceAgents": 0, "blockedMultimediaAgents": 0, "blockedEmployeeCount": 0,
            "isVoiceLicenseAvailable": view["activeVoiceAgents"] < view["maximumVoiceAgents"],
            "isMultimediaLicenseAvailable": view["activeMultimediaAgents"] < view["maximumMultimediaAgents"],
            "inVoiceAlarmState": False, "inMultimediaAlarmState": False}


def softphone(item: dict[str, Any]) -> dict[str, Any]:
    return {"gatewayMediaServerType": "SIP", "gatewayMediaServerDomain": None, "gatewayMediaServerPort": None,
            "gatewayMediaServerConsumerId": item["id"], "gatewayMediaServerSharedSecret": None,
            "integratedSoftphonePassword": None, "jwtIssuer": None}


# ---------------------------------------------------------------------- queues
def queue(doc: dict[str, Any]) -> dict[str, Any]:
    return {"_links": links(f"/queues/{doc['id']}", state=f"/queues/{doc['id']}/state",
                            conversations=f"/queues/{doc['id']}/conversations"), "_embedded": {},
            "id": doc["id"], "name": doc["name"], "reporting": doc["reporting"], "mediaType": doc["mediaType"],
            "mediaServerRefId": None, "members": list(doc.get("members", [])), "isClassificationCodeEnabled": False,
            "dialable": doc["reporting"] if doc["mediaType"] == "Voice" else None,
            "generateStatsDuringBusinessHoursOnly": False, "businessHoursRefId": None, "businessSchedule": None,
            "serviceLevel": timespan(doc.get("serviceLevelSeconds")), "mediaServer": None, "isRealTime": True,
            "isGroup": bool(doc.get("members"))}


def queue_state(view: dict[str, Any], offset: int | None = None) -> dict[str, Any]:
    return {
        "_links": links(f"/queues/{view['queueId']}/state"), "_embedded": {},
        "id": view["queueId"], "name": view["name"], "reporting": view["reporting"], "mediaType": view["mediaType"],
        "isGroup": False, "isInDoNotDisturb": False,
        "waitingConversations": view["waiting"],
        "longestWaitingConversationDuration": timespan(view["longestWaitSeconds"]),
        "longestWaitingStartedTime": when(view.get("longestWaitingStartedTime"), offset),
        "estimatedWaitTimeForNewConversations": timespan(view["estimatedWaitSeconds"]),
        "offeredConversationsToday": view["offeredToday"], "answeredConversationsToday": view["answeredToday"],
        "abandonedConversationsToday": view["abandonedToday"],
        "answeredConversationsPercentageToday": round(100.0 * view["answeredToday"] / view["offeredToday"], 1)
        if view["offeredToday"] else 0.0,
        "abandonedConversationsPercentageToday": round(100.0 * view["abandonedToday"] / view["offeredToday"], 1)
        if view["offeredToday"] else 0.0,
        "serviceLevelPercentageToday": view["serviceLevelPercentToday"],
        "serviceLevelGoalPercentage": view["serviceLevelGoal"],
        "agentsAvailable": view["agentsAvailable"], "agentsIdle": view["agentsIdle"],
        "agentsOnAcdConversations": view["agentsOnAcd"], "agentsOnNonAcdConversations": view["agentsOnNonAcd"],
        "agentsOnOutboundConversations": view["agentsOnOutbound"], "agentsUnavailable": view["agentsUnavailable"],
        "agentsLoggedIn": view["agentsLoggedIn"],
        "timeOfLastReceivedUpdate": when(view.get("updatedOn"), offset),
        **_windows(view["windows"]),
    }


def _windows(windows: dict[str, dict[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, suffix in (("last15Minutes", "InTheLast15Minutes"), ("lastHour", "InTheLastHour")):
        window = windows[key]
        offered = window["offered"]
        out.update({
            f"offeredConversations{suffix}": offered, f"answeredConversations{suffix}": window["answered"],
            f"abandonedConversations{suffix}": window["abandoned"],
            f"answeredConversationsPercentage{suffix}": round(100.0 * window["answered"] / offered, 1)
            if offered else 0.0,
            f"abandonedConversationsPercentage{suffix}": round(100.0 * window["abandoned"] / offered, 1)
            if offered else 0.0,
            f"serviceLevelPercentage{suffix}": window["serviceLevelPercent"]})
    return out


# ---------------------------------------------------------------------- conversations
def conversation(view: dict[str, Any], offset: int | None = None) -> dict[str, Any]:
    agent_name = " ".join(p for p in (view.get("agentFirstName"), view.get("agentLastName")) if p) or None
    voice = view.get("mediaType") == "Voice"
    return {
        "_links": links(f"/conversations/{view['conversationId']}"), "_embedded": {},
        "conversationId": view["conversationId"], "type": view.get("mediaType"), "mediaType": view.get("mediaType"),
        "conversationState": view.get("conversationState"), "direction": view.get("direction"),
        "fromAddress": view.get("fromAddress"), "fromName": view.get("fromName"),
        "toAddress": view.get("toAddress"), "toName": view.get("toName"), "subject": view.get("subject"),
        "caseId": view.get("caseId"), "queueId": view.get("queueId"), "queueName": view.get("queueName"),
        "queueReporting": view.get("queueReporting"),
        "queueDialable": view.get("queueReporting") if voice else None,
        "agentId": view.get("agentId"), "agentName": agent_name, "agentFirstName": view.get("agentFirstName"),
        "agentLastName": view.get("agentLastName"), "agentReporting": view.get("agentReporting"),
        "ownerId": view.get("employeeId"), "positionInQueue": view.get("positionInQueue", 0),
        "timeOfferedToSystem": when(view.get("timeOfferedToSystem"), offset),
        "timeOfferedToQueue": when(view.get("timeOfferedToQueue"), offset),
        "timeOfferedToAgent": when(view.get("timeOfferedToAgent"), offset),
        "timeOfLastAgentResponse": when(view.get("timeOfLastAgentResponse"), offset),
        "ani": view.get("fromAddress") if voice else None, "dnis": view.get("toAddress") if voice else None,
        "isRecording": bool(view.get("isRecording")), "supportsRecording": voice, "canRecord": voice,
        "modifiedOn": when(view.get("modifiedOn"), offset),
        # the other media's interactions (core/contact_center/media.py)
        "mediaFolder": view.get("mediaFolder"), "monthYearCreated": view.get("monthYearCreated"),
        "timeOfLastCustomerResponse": when(view.get("timeOfLastCustomerResponse"), offset),
        "transferCount": view.get("transferCount", 0), "priority": view.get("priority", 0),
        "lastAgentAction": view.get("lastAgentAction"),
        "lastAgentActionDate": when(view.get("lastAgentActionDate"), offset),
        "failedRouteReason": view.get("failedRouteReason"), "variables": dict(view.get("variables") or {}),
        "contacts": [view["contactId"]] if view.get("contactId") else [],
        "tags": [dict(t) for t in view.get("tags") or []],
    }


def open_media(view: dict[str, Any], offset: int | None = None) -> dict[str, Any]:
    """OpenMediaConversation: the item as the third party that posted it follows it."""
    payload = view.get("payload") or {}
    agent_name = " ".join(p for p in (view.get("agentFirstName"), view.get("agentLastName")) if p) or None
    return {
        "_links": links(f"/openmedia/{view['conversationId']}"), "_embedded": {},
        "id": view["conversationId"], "conversationState": view["conversationState"],
        "positionInQueue": view.get("positionInQueue", 0), "queueId": view.get("queueId"),
        "queueName": view.get("queueName"), "queueReporting": view.get("queueReporting"), "agentName": agent_name,
        "agentId": view.get("agentId"), "agentReporting": view.get("agentReporting"),
        "timeOfferedToAgent": when(view.get("timeOfferedToAgent"), offset),
        "timeOfferedToQueue": when(view.get("timeOfferedToQueue"), offset),
        "timeOfferedToSystem": when(view.get("timeOfferedToSystem"), offset),
        "subject": view.get("subject"), "from": view.get("fromAddress"), "to": view.get("toAddress"),
        "targetUri": payload.get("targetUri"), "previewUrl": payload.get("previewUrl"),
        "historyUrl": payload.get("historyUrl"), "externalId": payload.get("externalId"),
        "caseId": view.get("caseId"), "variableData": dict(view.get("variables") or {}),
    }


def _between(start: str | None, end: str | None) -> str | None:
    """The TimeSpan from ``start`` to ``end`` (None unless both are known and in order)."""
    if not start or not end or end < start:
        return None
    seconds = (datetime.fromisoformat(end.replace("Z", "+00:00"))
               - datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()
    return timespan(seconds)


def case(doc: dict[str, Any], offset: int | None = None) -> dict[str, Any]:
    """CaseModel."""
    return {
        "_links": links(f"/cases/{doc['id']}/{doc['monthYearCreated']}"), "_embedded": {},
        "id": doc["id"], "siteId": None, "state": doc["state"],
        "stateModifiedOn": when(doc.get("stateModifiedOn"), offset), "subject": doc.get("subject") or "",
        "lastMediaType": doc.get("lastMediaType"), "lastQueueName": doc.get("lastQueueName"),
        "lastQueueId": doc.get("lastQueueId"), "lastQueueReporting": doc.get("lastQueueReporting"),
        "lastQueueDialable": None, "lastAgentName": doc.get("lastAgentName"), "lastAgentId": doc.get("lastAgentId"),
        "lastAgentReporting": doc.get("lastAgentReporting"),
        "timeOfferedToLastQueue": when(doc.get("timeOfferedToLastQueue"), offset),
        "durationInLastQueue": _between(doc.get("timeOfferedToLastQueue"), doc.get("timeOfferedToLastAgent")),
        "timeOfferedToLastAgent": when(doc.get("timeOfferedToLastAgent"), offset),
        "timeOfLastAgentResponse": when(doc.get("timeOfLastAgentResponse"), offset),
        "timeOfLastCustomerResponse": when(doc.get("timeOfLastCustomerResponse"), offset),
        "createdOn": when(doc["createdOn"], offset), "modifiedOn": when(doc.get("modifiedOn"), offset),
        "closedOn": when(doc.get("closedOn"), offset), "wasReopened": bool(doc.get("wasReopened")),
        "monthYearCreated": doc["monthYearCreated"], "likes": 0, "reuses": 0, "suggestable": False,
        "notes": list(doc.get("notes") or []), "userNotes": list(doc.get("userNotes") or []),
        "contacts": list(doc.get("contacts") or []), "directory": [], "mediaTypes": list(doc["mediaTypes"]),
        "queues": list(doc["queues"]), "agents": list(doc["agents"]), "conversations": list(doc["conversations"]),
    }


# ---------------------------------------------------------------------- the rest
def reason_code(doc: dict[str, Any]) -> dict[str, Any]:
    return {"_links": links(f"/reasoncodes/{doc['id']}"), "_embedded": {}, "id": doc["id"], "name": doc["name"],
            "reporting": doc.get("reporting"), "type": doc["type"], "siteRefId": doc.get("siteId")}


def warning_reason(doc: dict[str, Any]) -> dict[str, Any]:
    return {"_links": links(f"/warningreasons/{doc['id']}"), "_embedded": {}, "id": doc["id"], "name": doc["name"]}


def site(doc: dict[str, Any]) -> dict[str, Any]:
    return {"_links": links(f"/sites/{doc['id']}"), "_embedded": {}, "id": doc["id"], "name": doc["name"],
            "timeZone": doc.get("timeZone"), "language": doc.get("language"), "mailServerRefId": None,
            "storagePath": None, "isAgentGreetingEnabled": False}


def dnis(doc: dict[str, Any]) -> dict[str, Any]:
    return {"_links": links(f"/dnis/{doc['id']}"), "_embedded": {}, "id": doc["id"], "name": doc["name"],
            "reporting": doc.get("reporting"), "phoneNumber": doc.get("phoneNumber"), "mediaServerRefId": None,
            "shortAbandon": timespan(doc.get("shortAbandon")), "serviceLevel": timespan(doc.get("serviceLevel")),
            "useAsDefault": bool(doc.get("useAsDefault"))}


def extension(view: dict[str, Any]) -> dict[str, Any]:
    return {"_links": links(f"/extensions/{view['id']}"), "_embedded": {}, "id": view["id"],
            "reporting": view["reporting"], "mediaType": view["mediaType"], "mediaServer": None,
            "mediaServerRefId": None, "name": view["name"], "isMitaiEnabled": False, "acdEnabled": view["acdEnabled"]}


def directory_entry(doc: dict[str, Any]) -> dict[str, Any]:
    return {"_links": links(f"/directory/{doc['id']}"), "_embedded": {}, "id": doc["id"], "siteId": None,
            "name": doc.get("name"), "email": doc.get("email"), "phone": doc.get("phone"),
            "mobilePhone": doc.get("mobilePhone"), "type": doc["type"], "presence": doc.get("presence"),
            "photoUrl": None, "custom": doc.get("custom") or {}, "createdOn": when(doc.get("createdOn")),
            "modifiedOn": when(doc.get("modifiedOn")), "phoneDialable": doc.get("phone"),
            "mobilePhoneDialable": doc.get("mobilePhone"), "extension": doc.get("extension")}


def status(view: dict[str, Any]) -> dict[str, Any]:
    now = datetime.fromisoformat(view["serverTime"].replace("Z", "+00:00"))
    up = (now - datetime.fromisoformat(view["startedOn"].replace("Z", "+00:00"))).total_seconds()
    return {"serverUpTime": timespan(up), "serverTime": when(view["serverTime"]), "applicationUpTime": timespan(up),
            "isReady": view["isReady"], "isRealtimeConnected": view["isRealtimeConnected"],
            "isDataAccessConnected": view["isDataAccessConnected"]}


# ---------------------------------------------------------------------- the SignalR hubs' payloads
HubMessage = tuple[str, str, Any]   # (hub, client method, argument)


LazyHubMessage = tuple[str, str, Callable[[], Any]]   # (hub, client method, what builds the argument)


def hub_messages(event: Event) -> list[HubMessage]:
    """What a contact-center event pushes: ``(hub, method, argument)`` for each hub it concerns."""
    return [(hub, method, build()) for hub, method, build in lazy_hub_messages(event)]


def lazy_hub_messages(event: Event) -> list[LazyHubMessage]:
    """``hub_messages`` with each argument built only when asked for (when a connection will receive it)."""
    d = event.data or {}
    kind = event.type
    if kind == "cc.employee.state":
        return [("employeeHub", "employeeStateChanged", lambda: employee_state(d))]
    if kind == "cc.agent.state":
        return [("agentHub", "onAgentStateChanged", lambda: agent_state(d))]
    if kind == "cc.queue.state":
        return [("queueHub", "queueStateChanged", lambda: queue_state(d))]
    if kind == "cc.conversation.changed":
        return [("employeeHub" if d.get("employeeId") else "queueHub",
                 "employeeConversationChanged" if d.get("employeeId") else "queueConversationChanged",
                 lambda: [conversation(d["conversation"])])]
    if kind == "cc.conversation.removed":
        return [("employeeHub" if d.get("employeeId") else "queueHub",
                 "employeeConversationRemoved" if d.get("employeeId") else "queueConversationRemoved",
                 lambda: [d["conversationId"]])]
    return []


def hub_audience(event: Event) -> dict[str, str | None]:
    """Whom a hub message is for: the employee (employeeHub: their own monitor), the agent (agentHub) or
    the queue (queueHub monitors), plus the account (no tenant sees another's)."""
    data = event.data or {}
    return {"accountId": event.account_id, "employeeId": data.get("employeeId"), "agentId": data.get("agentId"),
            "queueId": data.get("queueId")}


# ---------------------------------------------------------------------- e-mail
def email(doc: dict[str, Any], offset: int | None = None) -> dict[str, Any]:
    """One e-mail of a conversation (a received message, a draft or a sent one): the ConversationModel's e-mail
    fields (Body, Cc, Bcc, Attachments, OriginalMessageIdReplyingTo/ForwardingFrom, MonthYearCreated) and the
    message's own (emailType, messageId, htmlBody, …)."""
    cid = doc["conversationId"]
    return {
        "_links": links(f"/email/{cid}/{_EMAIL_TYPE.get(doc['type'], doc['type'])}/{doc['monthYearCreated']}",
                        conversation=f"/conversations/{cid}"), "_embedded": {},
        "id": doc["id"], "conversationId": cid, "caseId": doc.get("caseId"), "mediaType": "Email", "type": "Email",
        "emailType": doc["type"], "direction": doc["direction"], "messageId": doc.get("messageId"),
        "inReplyTo": doc.get("inReplyTo"), "references": list(doc.get("references") or []),
        "fromAddress": doc["fromAddress"], "fromName": doc.get("fromName") or None,
        "toAddress": ", ".join(doc["to"]), "to": list(doc["to"]), "cc": ", ".join(doc["cc"]),
        "bcc": ", ".join(doc["bcc"]), "subject": doc["subject"], "body": doc["body"], "htmlBody": doc.get("htmlBody"),
        "attachments": [{"id": a["id"], "fileName": a["fileName"], "contentType": a["contentType"],
                         "size": a["size"], "isInline": bool(a.get("inline")), "contentId": a.get("contentId"),
                         "href": f"{BASE}/email/{cid}/images/{a['id']}" if a.get("inline")
                         else f"{BASE}/email/{cid}/attachments?fileName={quote(a['fileName'])}"}
                        for a in doc.get("attachments") or []],
        "originalMessageIdReplyingTo": doc.get("originalMessageIdReplyingTo"),
        "originalMessageIdForwardingFrom": doc.get("originalMessageIdForwardingFrom"),
        "queueId": doc.get("queueId"), "ownerId": doc.get("employeeId"),
        "monthYearCreated": doc["monthYearCreated"], "createdOn": when(doc["createdOn"], offset),
        "sentOn": when(doc.get("sentOn"), offset), "modifiedOn": when(doc.get("modifiedOn"), offset),
        "bounced": bool(doc.get("bounced")), "failureReason": doc.get("failureReason") or doc.get("bounceReason"),
        "likes": doc.get("likes", 0), "reuses": doc.get("reuses", 0), "suggestable": doc.get("suggestable", True)}


# The GetEmailType that reads each kind of e-mail document.
_EMAIL_TYPE = {"Received": "Preview", "Sent": "Preview"}


def queue_email(item: dict[str, Any]) -> dict[str, Any]:
    return {"_links": links(f"/queues/{item['queueId']}"), "_embedded": {}, "id": item["id"],
            "queueId": item["queueId"], "name": item["name"], "reporting": item.get("reporting"),
            "emailAddress": item["emailAddress"], "isDefault": item["isDefault"]}
