"""The communication log of every user: a projection of the engine's events.

In the transaction that produced them, these events become ``commlog_item`` documents of the users
concerned (nothing else writes items):

* ``call.state`` for a completed leg of a user's extension: ``OUTGOING_CALL`` (the user dialled),
  ``INCOMING_CALL`` (answered) or ``MISSED_CALL`` (rang out, was rejected or the caller gave up). Offers of
  a queue or hunt-group call that another member took, and calls redirected away, are not the user's
  missed calls (the group call log has them);
* ``voicemail.created``: ``VOICEMAIL`` in the mailbox owner's log (``isPlayed`` false, ``callItemId`` the
  missed call that led to it); a message left on a group's mailbox becomes a group-inbox item for every
  member (``inboxName`` the group's name);
* ``recording.created``: ``RECORDING`` for every user recorded on the call.

Item ids are integers that only grow, per account, so ``since``/``olderThan`` watermarks work across users
and restarts. Items have a seen mark, a played mark, a deletion time (trash; clearing it restores the item)
and a separate ``deleted`` flag (kept for expunging voicemail). Every change emits ``commlog.*``.
"""
from __future__ import annotations

import builtins
from typing import Any, Iterable

from callyard.core.devices.service import acting_for
from callyard.core.errors import Invalid, NotFound
from callyard.core.principal import Principal
from callyard.core.runtime import Runtime
from callyard.core.state import UnitOfWork
from callyard.events.event import Event
from callyard.events.projections import DERIVE

ITEM_TYPES = ("OUTGOING_CALL", "MISSED_CALL", "INCOMING_CALL", "VOICEMAIL", "RECORDING", "FAX")
CALL_TYPES = ("OUTGOING_CALL", "MISSED_CALL", "INCOMING_CALL")
NOT_MISSED_CAUSES = ("redirected", "transfer", "pickup")


def public_item(item: dict[str, Any]) -> dict[str, Any]:
    """An item without the bookkeeping only the core needs."""
    return {k: v for k, v in item.items() if k not in ("itemKey", "accountId", "userId", "legId")}


class CommLog:
    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime
        runtime.projections.in_transaction("communication log", self.project,
                                           events=("call.state", "voicemail.created", "recording.created"),
                                           order=DERIVE)

    # ================================================================== the projection
    def project(self, uow: UnitOfWork, events: builtins.list[Event]) -> None:
        # Recordings last: their item takes the remote party from the call items of the same transaction.
        ordered = [e for e in events if e.type != "recording.created"] + [
            e for e in events if e.type == "recording.created"]
        for event in ordered:
            data = event.data or {}
            if event.type == "call.state":
                self._call_item(uow, data)
            elif event.type == "voicemail.created":
                self._voicemail_items(uow, data)
            else:
                self._recording_items(uow, data)

    def _next_id(self, uow: UnitOfWork, account_id: str) -> int:
        counter = self.rt.state.get("commlog_counter", account_id) or {"accountId": account_id, "last": 0}
        item_id = int(counter["last"]) + 1
        uow.put("commlog_counter", account_id, {**counter, "last": item_id})
        return item_id

    def _add(self, uow: UnitOfWork, account_id: str, user_id: str, item_type: str, *, start: str,
             number: str, name: str, duration: float, call_id: str | None, **extra: Any) -> dict[str, Any]:
        item_id = self._next_id(uow, account_id)
        item = {"itemKey": f"{account_id}:{user_id}:{item_id}", "accountId": account_id, "userId": user_id,
                "itemId": item_id, "startTime": start, "remoteParty": {"number": number, "displayName": name},
                "itemType": item_type, "isSeen": False, "duration": int(round(duration)), "callId": call_id,
                "deletionTime": None, "deleted": False, **extra}
        if item_type in ("VOICEMAIL", "RECORDING"):
            item["isPlayed"] = False
        uow.put("commlog_item", item["itemKey"], item)
        public = public_item(item)   # a new dict of plain values but the party, which gets its own copy
        public["remoteParty"] = dict(item["remoteParty"])
        uow.emit("commlog.created", account_id, f"/users/{user_id}/commlog/{item_id}", public, self.rt.now_iso(),
                 fresh=True)
        return item

    def _call_item(self, uow: UnitOfWork, leg: dict[str, Any]) -> None:
        if leg.get("state") != "completed" or leg.get("endpointKind") != "extension" or not leg.get("principalId"):
            return
        user_id = leg["principalId"]
        if leg["direction"] == "outbound":
            item_type, number, name = "OUTGOING_CALL", leg["to"], leg.get("toName") or ""
        else:
            number, name = leg["from"], leg.get("fromName") or ""
            if leg.get("answeredOn"):
                item_type = "INCOMING_CALL"
            elif leg.get("queueId") or leg.get("cause") in NOT_MISSED_CAUSES:
                return
            else:
                item_type = "MISSED_CALL"
        self._add(uow, leg["accountId"], user_id, item_type, start=leg["createdOn"], number=number, name=name,
                  duration=float(leg.get("billingTime") or 0), call_id=leg.get("callId"), legId=leg["legId"],
                  contactId=(leg.get("toPrincipalId") if item_type == "OUTGOING_CALL"
                             else leg.get("fromPrincipalId")))

    def _items_of_call(self, account_id: str, user_id: str, call_id: str | None) -> builtins.list[dict[str, Any]]:
        if not call_id:
            return []
        return [i for i in self.rt.state.all("commlog_item") if i["accountId"] == account_id
                and i["userId"] == user_id and i.get("callId") == call_id and i["itemType"] in CALL_TYPES]

    def _voicemail_items(self, uow: UnitOfWork, message: dict[str, Any]) -> None:
        account_id = message["accountId"]
        common = {"start": message["createdOn"], "number": message.get("from") or "",
                  "name": message.get("fromName") or "", "duration": float(message.get("durationInSeconds") or 0),
                  "call_id": message.get("callId"), "voicemailId": message["voicemailId"]}
        if message.get("userId"):
            user_id = message["userId"]
            missed = self._items_of_call(account_id, user_id, message.get("callId"))
            self._add(uow, account_id, user_id, "VOICEMAIL", **common,
                      callItemId=missed[-1]["itemId"] if missed else 0)
            return
        group = next((g for g in self.rt.state.all("group") if g["accountId"] == account_id
                      and str(g.get("extension") or "") == str(message.get("endpointId"))), None)
        if group is None:
            return
        for member in group.get("members", []):
            if member.get("status", "ACCEPTED") == "ACCEPTED":
                self._add(uow, account_id, member["memberId"], "VOICEMAIL", **common, callItemId=0,
                          inboxName=str(group.get("name") or ""), groupInbox=group["groupId"])

    def _recording_items(self, uow: UnitOfWork, recording: dict[str, Any]) -> None:
        account_id = recording["accountId"]
        for principal_id in recording.get("principalIds", []):
            user = self.rt.state.get("user", principal_id)
            if user is None or user["accountId"] != account_id:
                continue
            calls = self._items_of_call(account_id, principal_id, recording.get("callId"))
            remote = calls[-1]["remoteParty"] if calls else {"number": "", "displayName": ""}
            self._add(uow, account_id, principal_id, "RECORDING", start=recording["createdOn"],
                      number=remote["number"], name=remote["displayName"],
                      duration=float(recording.get("durationInSeconds") or 0), call_id=recording.get("callId"),
                      recordingId=recording["recordingId"], callItemId=calls[-1]["itemId"] if calls else 0)

    # ================================================================== reads
    def _items(self, account_id: str, user_id: str) -> builtins.list[dict[str, Any]]:
        return sorted((i for i in self.rt.state.all("commlog_item")
                       if i["accountId"] == account_id and i["userId"] == user_id),
                      key=lambda i: int(i["itemId"]))

    @staticmethod
    def _in_view(item: dict[str, Any], deleted: bool, mark_as_delete: bool) -> bool:
        """The inbox (neither trashed nor flagged deleted), the trash (``mark_as_delete``) or the flagged
        (``deleted``)."""
        if deleted:
            return bool(item.get("deleted"))
        if mark_as_delete:
            return item.get("deletionTime") is not None and not item.get("deleted")
        return item.get("deletionTime") is None and not item.get("deleted")

    def _history(self, items: builtins.list[dict[str, Any]], flush: bool, hint: int | None = None) -> dict[str, Any]:
        return {"items": [public_item(i) for i in items], "flushCache": flush, "generatedAt": self.rt.now_iso(),
                "hintCount": len(items) if hint is None else hint}

    def list(self, actor: Principal, account_id: str, user_id: str, *, since: int | None = None,
             older_than: int | None = None, since_time: str | None = None, until_time: str | None = None,
             limit: int | None = None, item_types: Iterable[str] = (), contact_id: str | None = None,
             number: str | None = None, deleted: bool = False, mark_as_delete: bool = False,
             group_inbox: bool = False) -> dict[str, Any]:
        """Items oldest first. ``since``/``olderThan``: item-id watermarks (exclusive); ``sinceTime``/
        ``untilTime``: a window on the start time; ``limit``: the newest items when paging back with
        ``olderThan``, else the oldest after ``since``. ``hintCount``: how many items match before the limit.
        ``flushCache`` is true unless the client asked for a delta (``since``)."""
        acting_for(self.rt, actor, account_id, user_id)
        types = set(item_types)
        unknown = types - set(ITEM_TYPES)
        if unknown:
            raise Invalid("InvalidItemType", f"itemType must be one of {', '.join(ITEM_TYPES)}", field="itemType")
        if limit is not None and limit < 0:
            raise Invalid("InvalidLimit", "limit is a positive number", field="limit")
        found = []
        for item in self._items(account_id, user_id):
            if bool(item.get("groupInbox")) != group_inbox or not self._in_view(item, deleted, mark_as_delete):
                continue
            if since is not None and item["itemId"] <= since or older_than is not None and item["itemId"] >= older_than:
                continue
            if since_time and item["startTime"] <= since_time or until_time and item["startTime"] >= until_time:
                continue
            if types and item["itemType"] not in types:
                continue
            if contact_id and item.get("contactId") != contact_id:
                continue
            if number and item["remoteParty"]["number"] != number:
                continue
            found.append(item)
        hint = len(found)
        if limit is not None:
            found = found[-limit:] if older_than is not None and since is None else found[:limit]
            if limit == 0:
                found = []
        return self._history(found, since is None, hint)

    def get(self, actor: Principal, account_id: str, user_id: str, item_id: int, *, deleted: bool = False,
            mark_as_delete: bool = False) -> dict[str, Any]:
        acting_for(self.rt, actor, account_id, user_id)
        item = self._item(account_id, user_id, item_id)
        if (deleted or mark_as_delete) and not self._in_view(item, deleted, mark_as_delete):
            raise NotFound("item.does.not.exist", f"item {item_id} is not {'deleted' if deleted else 'in the trash'}")
        return self._history([item], True)

    def _item(self, account_id: str, user_id: str, item_id: int) -> dict[str, Any]:
        item = self.rt.state.get("commlog_item", f"{account_id}:{user_id}:{item_id}")
        if item is None:
            raise NotFound("item.does.not.exist", f"communication log item {item_id} was not found",
                           field="itemId", value=str(item_id))
        return item

    # ================================================================== changes
    def _save(self, uow: UnitOfWork, item: dict[str, Any], **fields: Any) -> None:
        changed = {k: v for k, v in fields.items() if item.get(k) != v}
        if not changed:
            return
        new = uow.update("commlog_item", item["itemKey"], **changed)
        uow.emit("commlog.updated", item["accountId"], f"/users/{item['userId']}/commlog/{item['itemId']}",
                 public_item(new), self.rt.now_iso())

    def _mark(self, uow: UnitOfWork, item: dict[str, Any], seen: bool | None, played: bool | None,
              update_call_item: bool) -> None:
        fields: dict[str, Any] = {}
        if seen is not None:
            fields["isSeen"] = seen
        if played is not None and "isPlayed" in item:
            fields["isPlayed"] = played
        self._save(uow, item, **fields)
        related = item.get("callItemId")
        if update_call_item and related and seen is not None:
            other = self.rt.state.get("commlog_item", f"{item['accountId']}:{item['userId']}:{related}")
            if other is not None:
                self._save(uow, other, isSeen=seen)

    async def mark(self, actor: Principal, account_id: str, user_id: str, item_id: int, *, seen: bool | None,
                   played: bool | None, update_call_item: bool = False) -> None:
        async with self.rt.write() as uow:
            acting_for(self.rt, actor, account_id, user_id)
            self._mark(uow, self._item(account_id, user_id, item_id), seen, played, update_call_item)

    def _selected(self, account_id: str, user_id: str, item_ids: Iterable[int], until_item_id: int | None,
                  item_types: Iterable[str]) -> tuple[builtins.list[dict[str, Any]], builtins.list[int]]:
        """The items named by id or up to ``until_item_id`` (filtered by ``item_types``), and the ids named
        that do not exist."""
        types = set(item_types)
        if types - set(ITEM_TYPES):
            raise Invalid("InvalidItemType", f"itemType must be one of {', '.join(ITEM_TYPES)}", field="itemType")
        ids = builtins.list(item_ids)
        mine = {i["itemId"]: i for i in self._items(account_id, user_id)}
        chosen = [mine[i] for i in ids if i in mine]
        if until_item_id is not None:
            chosen += [i for k, i in mine.items() if k <= until_item_id and k not in ids]
        if not ids and until_item_id is None:
            chosen = builtins.list(mine.values()) if types else []
        if types:
            chosen = [i for i in chosen if i["itemType"] in types]
        return chosen, [i for i in ids if i not in mine]

    async def mark_many(self, actor: Principal, account_id: str, user_id: str, *, item_ids: Iterable[int] = (),
                        until_item_id: int | None = None, item_types: Iterable[str] = (), seen: bool | None,
                        played: bool | None, update_call_item: bool = False) -> builtins.list[int]:
        """Mark the selected items; returns the named ids that were not found."""
        async with self.rt.write() as uow:
            acting_for(self.rt, actor, account_id, user_id)
            chosen, missing = self._selected(account_id, user_id, item_ids, until_item_id, item_types)
            for item in chosen:
                self._mark(uow, item, seen, played, update_call_item)
            return missing

    def _remove(self, uow: UnitOfWork, item: dict[str, Any], update_call_item: bool) -> None:
        uow.delete("commlog_item", item["itemKey"])
        uow.emit("commlog.deleted", item["accountId"], f"/users/{item['userId']}/commlog/{item['itemId']}",
                 public_item(item), self.rt.now_iso())
        related = item.get("callItemId")
        if update_call_item and related:
            other = self.rt.state.get("commlog_item", f"{item['accountId']}:{item['userId']}:{related}")
            if other is not None:
                self._remove(uow, other, False)

    async def delete(self, actor: Principal, account_id: str, user_id: str, item_id: int,
                     update_call_item: bool = False) -> None:
        async with self.rt.write() as uow:
            acting_for(self.rt, actor, account_id, user_id)
            self._remove(uow, self._item(account_id, user_id, item_id), update_call_item)

    async def delete_many(self, actor: Principal, account_id: str, user_id: str, *, item_ids: Iterable[int] = (),
                          until_item_id: int | None = None, item_types: Iterable[str] = (),
                          update_call_item: bool = False) -> builtins.list[int]:
        async with self.rt.write() as uow:
            acting_for(self.rt, actor, account_id, user_id)
            chosen, missing = self._selected(account_id, user_id, item_ids, until_item_id, item_types)
            for item in chosen:
                if self.rt.state.get("commlog_item", item["itemKey"]) is not None:
                    self._remove(uow, item, update_call_item)
            return missing

    async def set_deletion_time(self, actor: Principal, account_id: str, user_id: str, item_id: int,
                                delete: bool) -> None:
        """Move the item to the trash (deletion time now) or back to the inbox."""
        async with self.rt.write() as uow:
            acting_for(self.rt, actor, account_id, user_id)
            item = self._item(account_id, user_id, item_id)
            if delete and item.get("deletionTime") is None:
                self._save(uow, item, deletionTime=self.rt.now_iso())
            elif not delete:
                self._save(uow, item, deletionTime=None)

    async def set_deleted(self, actor: Principal, account_id: str, user_id: str, item_id: int) -> None:
        """Flag the item deleted (expunged later; it leaves the inbox and the trash)."""
        async with self.rt.write() as uow:
            acting_for(self.rt, actor, account_id, user_id)
            self._save(uow, self._item(account_id, user_id, item_id), deleted=True)
