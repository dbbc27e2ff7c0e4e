"""Communication Log (seed 003, 9 operations): the user's call items (outgoing, incoming, missed), voicemail
and recordings, projected from the engine's events by the core; marks, trash, the deleted flag and the group
inbox. Items are wrapped by their DTO class as the seed shows (``{".CallDTO": {...}}``)."""
from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response

from callyard.api.deps import CoreDep
from callyard.api.uc.edge.auth import UcCaller
from callyard.api.uc.edge.errors import ERROR_RESPONSES, invalid
from callyard.api.uc.user_access import caller_any, flag, whole_number
from callyard.api.uc.user_schemas import GroupInboxList, HistoryCount, HistoryList

router = APIRouter(prefix="/api/commlog/{domain}/{userId}", tags=["Communication Log"], responses=ERROR_RESPONSES)
Caller = Annotated[UcCaller, Depends(caller_any("CALLS", "USER", user="userId"))]
CALL_FIELDS = ("itemId", "startTime", "remoteParty", "itemType", "isSeen", "duration")
MEDIA_FIELDS = ("isPlayed", "callItemId")


def call_dto(item: dict[str, Any]) -> dict[str, Any]:
    out = {k: item[k] for k in CALL_FIELDS}
    out.update({k: item[k] for k in MEDIA_FIELDS if k in item})
    if item.get("deletionTime"):
        out["deletionTime"] = item["deletionTime"]
    if item.get("deleted"):
        out["deleted"] = True
    return {".CallDTO": out}


def group_inbox_dto(item: dict[str, Any]) -> dict[str, Any]:
    return {".GroupInboxVoiceMailDTO": {**{k: item[k] for k in CALL_FIELDS if k != "duration"},
                                        "callItemId": item.get("callItemId", 0), "isPlayed": item["isPlayed"],
                                        "inboxName": item.get("inboxName", "")}}


def history(listed: dict[str, Any], dto: Any = call_dto) -> dict[str, Any]:
    return {"historyItems": [dto(i) for i in listed["items"]], "flushCache": listed["flushCache"],
            "generatedAt": listed["generatedAt"], "hintCount": listed["hintCount"]}


@router.get("/groupinbox", response_model=GroupInboxList, operation_id="getGroupInbox",
            summary="Read group inbox messages")
async def group_inbox(who: Caller, core: CoreDep) -> dict[str, Any]:
    listed = core.commlog.list(who.principal, who.account_id, who.user["userId"], group_inbox=True)
    return history(listed, group_inbox_dto)


@router.get("", response_model=HistoryList | HistoryCount, operation_id="getCommLog",
            summary="List communication log items (since/olderThan or sinceTime/untilTime)")
async def list_items(who: Caller, core: CoreDep, since: str | None = None, olderThan: str | None = None,
                     sinceTime: str | None = None, untilTime: str | None = None, limit: str | None = None,
                     itemType: Annotated[list[str] | None, Query()] = None, contactId: str | None = None,
                     number: str | None = None, deleted: str | None = None, markAsDelete: str | None = None,
                     count: str | None = None) -> dict[str, Any]:
    listed = core.commlog.list(who.principal, who.account_id, who.user["userId"],
                               since=whole_number("since", since), older_than=whole_number("olderThan", olderThan),
                               since_time=sinceTime, until_time=untilTime, limit=whole_number("limit", limit),
                               item_types=itemType or (), contact_id=contactId, number=number, deleted=flag(deleted),
                               mark_as_delete=flag(markAsDelete))
    if flag(count):
        return {"count": listed["hintCount"]}
    return history(listed)


@router.put("", operation_id="markCommLogItems", status_code=204, response_class=Response,
            responses={200: {"content": {"application/json": {"schema": {"type": "string"}}},
                             "description": "The ids that were not found, comma-separated"},
                       204: {"description": "Every item was found"}},
            summary="Mark several items as seen and/or played")
async def mark_items(who: Caller, core: CoreDep, itemId: Annotated[list[str] | None, Query()] = None,
                     untilItemId: str | None = None, itemType: Annotated[list[str] | None, Query()] = None,
                     isSeen: str | None = None, isPlayed: str | None = None,
                     updateCallItem: str | None = None) -> Response:
    missing = await core.commlog.mark_many(
        who.principal, who.account_id, who.user["userId"],
        item_ids=[whole_number("itemId", i) or 0 for i in itemId or []],
        until_item_id=whole_number("untilItemId", untilItemId), item_types=itemType or (),
        seen=None if isSeen is None else flag(isSeen), played=None if isPlayed is None else flag(isPlayed),
        update_call_item=flag(updateCallItem))
    return _missing(missing)


@router.delete("", operation_id="deleteCommLogItems", status_code=204, response_class=Response,
               responses={200: {"content": {"application/json": {"schema": {"type": "string"}}},
                                "description": "The ids that were not found, comma-separated"},
                          204: {"description": "Deleted"}},
               summary="Delete several items")
async def delete_items(who: Caller, core: CoreDep, itemId: Annotated[list[str] | None, Query()] = None,
                       untilItemId: str | None = None, itemType: Annotated[list[str] | None, Query()] = None,
                       updateCallItem: str | None = None) -> Response:
    if not itemId and untilItemId is None and not itemType:
        invalid("itemId", "itemId.required", "name the items: itemId, untilItemId or itemType")
    missing = await core.commlog.delete_many(
        who.principal, who.account_id, who.user["userId"],
        item_ids=[whole_number("itemId", i) or 0 for i in itemId or []],
        until_item_id=whole_number("untilItemId", untilItemId), item_types=itemType or (),
        update_call_item=flag(updateCallItem))
    return _missing(missing)


def _missing(missing: list[int]) -> Response:
    if not missing:
        return Response(status_code=204)
    return Response(json.dumps(",".join(str(i) for i in missing)), status_code=200, media_type="application/json")


@router.get("/{itemId}", response_model=HistoryList, operation_id="getCommLogItem",
            summary="Read one communication log item")
async def get_item(itemId: int, who: Caller, core: CoreDep, deleted: str | None = None,
                   markAsDelete: str | None = None) -> dict[str, Any]:
    return history(core.commlog.get(who.principal, who.account_id, who.user["userId"], itemId,
                                    deleted=flag(deleted), mark_as_delete=flag(markAsDelete)))


@router.put("/{itemId}", status_code=204, response_class=Response, operation_id="markCommLogItem",
            summary="Mark one item as seen and/or played")
async def mark_item(itemId: int, who: Caller, core: CoreDep, isSeen: str | None = None, isPlayed: str | None = None,
                    updateCallItem: str | None = None) -> Response:
    await core.commlog.mark(who.principal, who.account_id, who.user["userId"], itemId,
                            seen=None if isSeen is None else flag(isSeen),
                            played=None if isPlayed is None else flag(isPlayed), update_call_item=flag(updateCallItem))
    return Response(status_code=204)


@router.delete("/{itemId}", status_code=204, response_class=Response, operation_id="deleteCommLogItem",
               summary="Delete one item")
async def delete_item(itemId: int, who: Caller, core: CoreDep, updateCallItem: str | None = None) -> Response:
    await core.commlog.delete(who.principal, who.account_id, who.user["userId"], itemId, flag(updateCallItem))
    return Response(status_code=204)


@router.put("/{itemId}/deletiontime", status_code=204, response_class=Response, operation_id="setDeletionTime",
            summary="Move an item to the trash (delete=true) or back to the inbox")
async def deletion_time(itemId: int, who: Caller, core: CoreDep, delete: str | None = None) -> Response:
    await core.commlog.set_deletion_time(who.principal, who.account_id, who.user["userId"], itemId,
                                         flag(delete, True))
    return Response(status_code=204)


@router.put("/{itemId}/deleted", status_code=204, response_class=Response, operation_id="setDeletedFlag",
            summary="Set the deleted flag of an item (voicemail is expunged later)")
async def deleted_flag(itemId: int, who: Caller, core: CoreDep) -> Response:
    await core.commlog.set_deleted(who.principal, who.account_id, who.user["userId"], itemId)
    return Response(status_code=204)
