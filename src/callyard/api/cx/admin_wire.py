"""Wire shapes of the contact center's configuration and diagnostics operations (camelCase, ``_links`` on
every resource, times in ISO 8601 UTC), from the core's documents and views."""
from __future__ import annotations

from typing import Any

from callyard.api.cx.wire import links, when


def global_reply_template(doc: dict[str, Any]) -> dict[str, Any]:
    return {"_links": links(f"/globalreplytemplates/{doc['id']}"), "_embedded": {}, "id": doc["id"],
            "siteId": doc.get("siteId"), "createdOn": when(doc["createdOn"]), "modifiedOn": when(doc["modifiedOn"]),
            "customerText": doc["customerText"], "template": doc["template"], "templateText": doc["templateText"],
            "media": doc["media"], "tags": list(doc["tags"]), "queues": list(doc["queues"])}


def reply_template_folder(node: dict[str, Any]) -> dict[str, Any]:
    return {"label": node["label"], "path": node["path"], "noLeaf": node["noLeaf"], "data": {"path": node["path"]},
            "children": [reply_template_folder(child) for child in node["children"]]}


def reply_template(item: dict[str, Any]) -> dict[str, Any]:
    return {"path": item["path"], "template": item["template"], "templateName": item["templateName"]}


def webhook(doc: dict[str, Any]) -> dict[str, Any]:
    """A registered OSCMS; its token is a secret and is never listed back."""
    return {"id": doc["oscmsId"], "name": doc["name"], "url": doc["url"], "token": None,
            "hasToken": bool(doc.get("oscmsToken")), "registeredOn": when(doc["createdOn"]),
            "modifiedOn": when(doc["modifiedOn"])}


def recording(doc: dict[str, Any]) -> dict[str, Any]:
    rid = doc["recordingId"]
    return {"_links": links(f"/webhooks/recordings/{rid}/download", download=f"/webhooks/recordings/{rid}/download",
                            play=f"/webhooks/recordings/{rid}/play"), "_embedded": {},
            "id": rid, "callId": doc["callId"], "caseId": doc.get("caseId"), "createdOn": when(doc["createdOn"]),
            "durationInSeconds": doc["durationInSeconds"], "contentType": doc["contentType"]}


def media_server(view: dict[str, Any]) -> dict[str, Any]:
    return {"_links": links(f"/mediaservers/{view['id']}"), "_embedded": {}, "id": view["id"], "name": view["name"],
            "ipAddressOrDnsName": view["ipAddressOrDnsName"], "siteRefId": view["siteRefId"], "serverRefId": None,
            "mediaType": view["mediaType"], "mediaServerType": view["mediaServerType"],
            "inboundRoutingWorkflowRefId": None, "outboundRoutingWorkflowRefId": None,
            "responseRoutingWorkflowRefId": None, "inboundRoutingEnabled": view["inboundRoutingEnabled"],
            "outboundRoutingEnabled": view["outboundRoutingEnabled"],
            "responseRoutingEnabled": view["responseRoutingEnabled"], "username": None, "password": None,
            "mailServers": list(view["mailServers"]), "minDigitsDialed": view["minDigitsDialed"],
            "isDirectMediaEnabled": False, "ctiServer": None, "isAgentGreetingWorkflowValidated": False,
            "cloudlinkEnabled": view["cloudlinkEnabled"], "allowAgentPreview": False, "useAgentNickname": False}


def mail_server(view: dict[str, Any]) -> dict[str, Any]:
    """The seed spells the inbound settings ``Incomming…``; the wire keeps its spelling."""
    return {"_links": links(f"/mailservers/{view['id']}"), "_embedded": {}, "id": view["id"], "name": view["name"],
            "smtpServer": view["smtpServer"], "smtpUsesSsl": view["smtpUsesSsl"], "smtpPort": view["smtpPort"],
            "smtpConnectionTimeoutSeconds": view["smtpConnectionTimeoutSeconds"],
            "smtpFromName": view["smtpFromName"], "smtpFromEmail": view["smtpFromEmail"],
            "smtpAuthenticationRequired": view["smtpAuthenticationRequired"], "smtpUsername": None,
            "smtpPassword": None, "smtpDomain": None, "incommingServerName": view["incomingServerName"],
            "incommingEnableTLS": view["incomingEnableTls"], "incommingPort": view["incomingPort"],
            "incommingConnectionTimeout": 10 if view["incomingServerName"] else None, "incommingFolder": None,
            "incomingEmailAliases": ",".join(view["incomingEmailAliases"]) or None,
            "incommingUserInfoSameAsOutgoingUserInfo": True, "incommingUsername": None, "incommingPassword": None,
            "incommingDomain": None}


def application_profile(doc: dict[str, Any]) -> dict[str, Any]:
    return {"_links": links(f"/applicationprofiles/{doc['application']}/{doc['id']}"), "_embedded": {},
            "id": doc["id"], "name": doc["name"], "application": doc["application"], "site": doc.get("siteId"),
            "settings": dict(doc.get("settings") or {})}


def prompt(doc: dict[str, Any]) -> dict[str, Any]:
    return {"_links": links(f"/prompts/{doc['id']}", audio=f"/prompts/{doc['id']}/audio"), "_embedded": {},
            "id": doc["id"], "name": doc["name"], "description": doc.get("description") or "",
            "durationInSeconds": doc["durationInSeconds"], "contentType": doc["contentType"]}


def variable(doc: dict[str, Any]) -> dict[str, Any]:
    return {"_links": links(f"/variables/{doc['id']}"), "_embedded": {}, "id": doc["id"], "name": doc["name"],
            "type": doc["type"], "categoryType": doc.get("category"), "defaultValue": doc.get("defaultValue"),
            "description": doc.get("description") or ""}
