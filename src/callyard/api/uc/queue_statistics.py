"""Queue Statistics (seed 003, 5 operations, 2 deprecated): the QueueStat of the organisation's ACD and hunt
groups, of one group, and of the groups a user may supervise; and the XML document of the Distribution
Group's SSE stream (``application/telepo-queue-statistics+xml``).

Who may read: the organisation's figures need a Supervisor licence (``SUPERVISOR`` in the user's
``ucLicences``) or an administrator; one group's figures also its members; a user's supervised groups are
every group for a supervisor, else the groups they are a member of (docs/compatibility.md)."""
from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Annotated, Any

from fastapi import APIRouter, Depends

from callyard.api.deps import CoreDep
from callyard.api.uc.edge.auth import UcCaller
from callyard.api.uc.edge.errors import ERROR_RESPONSES, forbidden
from callyard.api.uc.user_access import caller_any
from callyard.api.uc.user_schemas import QueueStat, QueueStats

router = APIRouter(tags=["Queue Statistics"], responses=ERROR_RESPONSES)
MEDIA_TYPE = "application/telepo-queue-statistics+xml"
NAMESPACE = "urn:telepo:queue-statistics"
Caller = Annotated[UcCaller, Depends(caller_any("QUEUE_STATISTICS", user=None))]
UserCaller = Annotated[UcCaller, Depends(caller_any("QUEUE_STATISTICS"))]


def own_domain(core: Any, who: UcCaller, domain: str) -> str:
    """The organisation ``domain`` names: the ticket user's own (another is never visible)."""
    account = core.rt.state.get("account", who.caller["accountId"]) or {}
    if str(account.get("domain", "")).lower() != domain.lower():
        forbidden("domain", "access.denied", "the ticket does not give access to that domain", domain)
    return str(who.caller["accountId"])


def queue_xml(stats: list[dict[str, Any]], generated_at: str) -> str:
    """A telepo-queue-statistics document: one ``<queue>`` per group with the QueueStat figures."""
    root = ET.Element("queue-statistics", {"xmlns": NAMESPACE, "generatedAt": generated_at})
    for stat in stats:
        queue = ET.SubElement(root, "queue", {"id": str(stat["id"]), "name": stat["name"], "domain": stat["domain"],
                                              "number": stat["number"]})
        for key, value in stat.items():
            if key in ("id", "name", "domain", "number"):
                continue
            if key == "current-agent-presence":
                presence = ET.SubElement(queue, "current-agent-presence")
                for entry in value:
                    ET.SubElement(presence, "presence", {"name": entry["name"], "count": str(entry["count"])})
            else:
                ET.SubElement(queue, key).text = str(value)
    return ET.tostring(root, encoding="unicode", xml_declaration=False)


@router.get("/api/queue/statistics/{domain}", response_model=QueueStats, operation_id="getQueueStatistics",
            summary="Queue statistics of the organisation")
async def organisation(domain: str, who: Caller, core: CoreDep) -> dict[str, Any]:
    return {"queue": core.user_groups.organisation_stats(who.principal, own_domain(core, who, domain))}


@router.get("/api/queuestatistics/{domain}", response_model=QueueStats, operation_id="getQueueStatisticsLegacy",
            deprecated=True, summary="Queue statistics of the organisation (deprecated since 5.1)")
async def organisation_legacy(domain: str, who: Caller, core: CoreDep) -> dict[str, Any]:
    return {"queue": core.user_groups.organisation_stats(who.principal, own_domain(core, who, domain))}


@router.get("/api/queue/statistics/{domain}/user/{user}", response_model=QueueStats,
            operation_id="getSupervisedQueueStatistics", summary="Queue statistics of the groups a user supervises")
async def supervised(who: UserCaller, core: CoreDep, includeFederation: bool = False) -> dict[str, Any]:
    return {"queue": core.user_groups.supervised(who.principal, who.account_id, who.user["userId"])}


@router.get("/api/queuestatistics/{domain}/{user}", response_model=QueueStats,
            operation_id="getSupervisedQueueStatisticsLegacy", deprecated=True,
            summary="Queue statistics of the groups a supervisor supervises (deprecated since 5.1)")
async def supervised_legacy(who: UserCaller, core: CoreDep) -> dict[str, Any]:
    return {"queue": core.user_groups.supervised(who.principal, who.account_id, who.user["userId"])}


@router.get("/api/queue/statistics/{domain}/{queueId}", response_model=QueueStat,
            operation_id="getGroupQueueStatistics", summary="Queue statistics of one distribution group")
async def group(domain: str, queueId: str, who: Caller, core: CoreDep) -> dict[str, Any]:
    return core.user_groups.group_stat(who.principal, own_domain(core, who, domain), queueId)
