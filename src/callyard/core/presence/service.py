"""Presence: one *presentity* per user (principal), in two layers, as the Router's ``CLEndpointPresences``
has them.

* **principal**: what the user (or an admin for them) set: ``status`` (``available``, ``busy``, ``dnd``,
  ``away``, ``offline``), ``reason`` (free text, at most 256 characters), ``note`` (at most 1024),
  ``workMode`` (where they work: ``office``, ``remote`` or ``mobile``; ``None`` when unset) and
  ``enteredOn`` (when that status was set). It is persisted as a ``presence`` document (id field
  ``principalId``): ``{principalId, accountId, status, reason, note, workMode, enteredOn, modifiedOn,
  modifiedBy}``. A user who never set anything is ``available`` since their user's ``createdOn``.
* **aggregate**: what the others see: the principal status combined with the PBX, first rule that holds:
  1. ``dnd`` while the user's extension has DND on (or the user set ``dnd``);
  2. ``busy`` while any extension of the user has a call connected or on hold (ringing does not count);
  3. otherwise the principal status (``offline`` only ever comes from the user).
  Its ``enteredOn`` is when the aggregate status last changed. The aggregate is derived, never persisted:
  an in-memory map holds the last one announced, so a ``presence.updated`` event goes out exactly when it
  changes (or when the principal layer changes), once per change.

DND has one source of truth, the extension's setting in the engine: setting the status ``dnd`` turns DND on
on the user's extension in the same transaction, setting any other status turns it off; turning DND off on
the extension elsewhere (Media ``PUT /endpoints/{id}``) ends a ``dnd`` principal status (it becomes
``available``). Turning DND on elsewhere leaves the principal layer as the user set it; the aggregate
shows ``dnd``.

The UC User API's presence (core/presence/uc.py) is the same document with a UC layer: ``activity`` (None:
derived from status and reason), ``activityExpires``, ``activityAvailable`` and ``role``; setting a UC
activity sets the status and reason, and a status or reason set here ends the UC activity. ``write()`` is the
one path both take; ``activity_listeners`` (the UC activity diversion) run in its transaction when the
activity shown changes.

Access: anyone of the user's account reads a presentity; a USER sets only their own, an ACCOUNT_ADMIN (or
an application acting as one) anyone's of the account; other accounts' users are simply not found (404).

Events: ``presence.updated`` with subject ``/presentities/{principalId}`` and the presentity as ``data``
(``view()``: ``{principalId, accountId, status, reason, note, workMode, enteredOn, principal{status,
enteredOn}, aggregate{status, enteredOn}}``; the top-level ``status``/``enteredOn`` are the aggregate's).
"""
from __future__ import annotations

from typing import Any

from collections.abc import Callable

from callyard.core.directory.access import Access
from callyard.core.engine.model import EXTENSION, Endpoint
from callyard.core.engine.service import Engine
from callyard.core.errors import Forbidden, Invalid, NotFound
from callyard.core.presence import activities
from callyard.core.principal import Principal
from callyard.core.runtime import Runtime
from callyard.core.state import UnitOfWork
from callyard.events.event import TWIN_RESET, Event
from callyard.events.projections import DERIVE

STATUSES = ("available", "busy", "dnd", "away", "offline")
WORK_MODES = ("office", "remote", "mobile")
FIELDS = ("status", "reason", "note", "workMode")
REASON_MAX = 256
NOTE_MAX = 1024
BATCH_MAX = 100
DEFAULT_STATUS = "available"
TALKING = ("connected", "held")
KIND = "presence"
# The UC layer of the same document (core/presence/uc.py): the activity chosen through the UC API (None: derived
# from status and reason), when it ends (ISO, None: never), its availability override, the role.
UC_ACTIVITY_FIELDS = ("activity", "activityExpires", "activityAvailable")
UC_FIELDS = (*UC_ACTIVITY_FIELDS, "role")
ActivityListener = Callable[[UnitOfWork, dict[str, Any], str, str, dict[str, Any]], None]

_Undo = dict[str, "dict[str, str] | None"]


class Presence:
    def __init__(self, runtime: Runtime, access: Access, engine: Engine) -> None:
        self.rt = runtime
        self.access = access
        self.engine = engine
        self._aggregate: dict[str, dict[str, str]] = {}  # principalId → the aggregate last announced
        self._built_for: Any = None  # the state's document map the aggregate map was built from
        # Called inside the transaction when a user's activity changes (the UC activity diversion).
        self.activity_listeners: list[ActivityListener] = []
        # The aggregate follows the PBX and the directory inside the transaction that changed them (before
        # the notifications hook, which then publishes the presence change with the rest), so a call and the
        # presence it causes commit together: one transaction, one fsync.
        runtime.projections.in_transaction("presence follows the PBX and the directory", self._on_commit,
                                           events=("call.state", "endpoint.updated", "user.created",
                                                   "user.updated"), order=DERIVE)
        runtime.projections.after_commit("presence forgets deleted users", self._on_event,
                                         events=("user.deleted", "account.deleted"))
        runtime.projections.after_commit("presence rebuilds after a reset", lambda _event: self.reset(),
                                         events=(TWIN_RESET,))

    # ================================================================== the aggregate map
    def reset(self) -> None:
        """Rebuild the aggregate map from the state as it is now. The engine calls it after a reset or a
        snapshot import (live calls dropped, documents replaced); otherwise it is built on first use."""
        self._built_for = self.rt.state.docs
        self._aggregate = {}
        talking = self._talking_users()
        now = self.rt.now_iso()
        for user in self.rt.state.all("user"):
            layer = self._layer(user)
            status = self._compute(user, layer, user["userId"] in talking)
            self._aggregate[user["userId"]] = {"status": status,
                                               "enteredOn": layer["enteredOn"] if status == layer["status"] else now}

    def _ensure(self) -> None:
        if self._built_for is not self.rt.state.docs:
            self.reset()

    def _talking_users(self) -> set[str]:
        return {leg.endpoint.user_id for leg in self.engine.legs.values()
                if leg.endpoint.kind == EXTENSION and leg.endpoint.user_id and leg.state in TALKING}

    def _extension(self, user: dict[str, Any]) -> Endpoint | None:
        """The user's extension as the dial plan has it (``None`` without one, or when inactive)."""
        number = user.get("extension")
        if not isinstance(number, str) or not number:
            return None
        found = self.engine.dialplan.internal(user["accountId"], number)
        if found is None or found[0] != EXTENSION or found[1].get("userId") != user["userId"]:
            return None
        return self.engine.endpoint(user["accountId"], number)

    def _compute(self, user: dict[str, Any], layer: dict[str, Any], talking: bool | None = None) -> str:
        """``talking``: whether the user's extension has a call connected or held, when the caller knows; else
        that endpoint's own legs are looked at, so a call event costs the same with ten calls in the PBX or
        ten thousand."""
        if layer["status"] == "dnd":
            return "dnd"
        endpoint = self._extension(user)
        if endpoint is not None and self.engine.settings(endpoint)["dnd"]:
            return "dnd"
        if talking is None:
            talking = endpoint is not None and any(leg.state in TALKING for leg in endpoint.legs)
        if talking:
            return "busy"
        return str(layer["status"])

    # ================================================================== documents and views
    def _layer(self, user: dict[str, Any]) -> dict[str, Any]:
        doc = self.rt.state.get(KIND, user["userId"])
        if doc is not None:
            return doc
        return {"principalId": user["userId"], "accountId": user["accountId"], "status": DEFAULT_STATUS,
                "reason": None, "note": None, "workMode": None,
                "enteredOn": user.get("createdOn") or user.get("modifiedOn") or self.rt.now_iso()}

    def _entry(self, user: dict[str, Any]) -> dict[str, str]:
        """The aggregate as announced; a user the map does not know yet (created since) is entered as is."""
        entry = self._aggregate.get(user["userId"])
        if entry is None:
            layer = self._layer(user)
            status = self._compute(user, layer)
            entry = self._aggregate[user["userId"]] = {
                "status": status, "enteredOn": layer["enteredOn"] if status == layer["status"] else self.rt.now_iso()}
        return entry

    def view(self, user: dict[str, Any], layer: dict[str, Any] | None = None,
             entry: dict[str, str] | None = None) -> dict[str, Any]:
        """The presentity as a plain dict (the ``presence.updated`` event's data; façades add links)."""
        layer = layer if layer is not None else self._layer(user)
        entry = entry if entry is not None else self._entry(user)
        return {"principalId": user["userId"], "accountId": user["accountId"], "status": entry["status"],
                "reason": layer.get("reason"), "note": layer.get("note"), "workMode": layer.get("workMode"),
                "enteredOn": entry["enteredOn"],
                "principal": {"status": layer["status"], "enteredOn": layer["enteredOn"]},
                "aggregate": {"status": entry["status"], "enteredOn": entry["enteredOn"]}}

    # ================================================================== access
    def _user(self, actor: Principal, ref: str) -> dict[str, Any]:
        """A user of the caller's account by userId, uniqueUserId or ``me``; anything else is not found."""
        if ref == "me":
            if actor.user_id is None:
                raise NotFound("PresentityNotFound", "'me' names the calling user; this token is not a user's")
            ref = actor.user_id
        user = self.rt.state.get("user", ref)
        if user is None:
            user = next((u for u in self.rt.state.all("user")
                         if u["accountId"] == actor.account_id and u.get("uniqueUserId") == ref), None)
        if user is None or user["accountId"] != actor.account_id:
            raise NotFound("PresentityNotFound", f"presentity {ref} was not found")
        return user

    @staticmethod
    def _may_set(actor: Principal, user: dict[str, Any]) -> None:
        if actor.user_id is not None and actor.user_id == user["userId"]:
            return
        if actor.at_least("ACCOUNT_ADMIN"):
            return
        raise Forbidden("InsufficientPermissions",
                        "a user may only set their own presence; another user's needs ACCOUNT_ADMIN")

    # ================================================================== reads
    def get(self, actor: Principal, ref: str) -> dict[str, Any]:
        self._ensure()
        return self.view(self._user(actor, ref))

    def get_many(self, actor: Principal, refs: list[str] | None) -> list[dict[str, Any]]:
        """Several presentities (at most 100, in the order asked, each once); ids that name nobody of the
        caller's account are left out. Without ``refs``: every user of the caller's account."""
        self._ensure()
        if refs is None:
            return [self.view(u) for u in self.rt.state.all("user") if u["accountId"] == actor.account_id]
        refs = [r.strip() for r in refs if r.strip()]
        if not refs:
            raise Invalid("ValidationError", "principalIds must name at least one principal")
        if len(refs) > BATCH_MAX:
            raise Invalid("ValidationError", f"principalIds names at most {BATCH_MAX} principals")
        found: dict[str, dict[str, Any]] = {}
        for ref in refs:
            try:
                user = self._user(actor, ref)
            except NotFound:
                continue
            found.setdefault(user["userId"], user)
        return [self.view(user) for user in found.values()]

    # ================================================================== writes
    @staticmethod
    def _validate(fields: dict[str, Any]) -> dict[str, Any]:
        unknown = set(fields) - set(FIELDS)
        if unknown:
            raise Invalid("ValidationError", f"data should NOT have additional properties ('{sorted(unknown)[0]}')")
        if not fields:
            raise Invalid("ValidationError", "data should have at least one of " + ", ".join(FIELDS))
        changes: dict[str, Any] = {}
        if "status" in fields:
            if fields["status"] not in STATUSES:
                raise Invalid("ValidationError", f"status should be one of {', '.join(STATUSES)}")
            changes["status"] = fields["status"]
        for key, limit in (("reason", REASON_MAX), ("note", NOTE_MAX)):
            if key in fields:
                value = fields[key]
                if value is not None and not isinstance(value, str):
                    raise Invalid("ValidationError", f"{key} should be a string")
                if value is not None and len(value) > limit:
                    raise Invalid("ValidationError", f"{key} should NOT be longer than {limit} characters")
                changes[key] = value or None
        if "workMode" in fields:
            if fields["workMode"] is not None and fields["workMode"] not in WORK_MODES:
                raise Invalid("ValidationError", f"workMode should be one of {', '.join(WORK_MODES)}")
            changes["workMode"] = fields["workMode"]
        return changes

    async def update(self, actor: Principal, ref: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Set some of status, reason, note and workMode (the others keep their values; ``None`` clears
        reason, note and workMode). A status also sets the extension's DND (on for ``dnd``, off otherwise).
        Emits one ``presence.updated`` when anything the presentity shows changed, none otherwise. A new status
        or reason ends a UC activity (the activity shown is then derived from them)."""
        changes = self._validate(fields)
        self._ensure()
        async with self.rt.write() as uow:
            user = self._user(actor, ref)
            self._may_set(actor, user)
            layer = self._layer(user)
            if any(key in changes and changes[key] != layer.get(key) for key in ("status", "reason")):
                changes.update({key: None for key in UC_ACTIVITY_FIELDS})
            return self.write(uow, actor.principal_id, user, changes)[1]

    def write(self, uow: UnitOfWork, actor_id: str, user: dict[str, Any], changes: dict[str, Any],
              options: dict[str, Any] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
        """Inside ``uow``: merge validated ``changes`` (presentity fields and the UC fields ``activity``,
        ``activityExpires``, ``activityAvailable``, ``role``) into the user's layer; a status sets the extension's
        DND; when the activity shown changes, the activity listeners run (``options`` passed along: the UC
        diversion's ``forcePremappedDiversion`` and a shortcut's diversion). Returns (the previous layer, the
        presentity's view); one ``presence.updated`` when anything shown changed."""
        self._ensure()
        undo: _Undo = {}
        uow.on_rollback.append(lambda: self._undo(undo))
        layer = self._layer(user)
        new = {**layer, **changes}
        now = self.rt.now_iso()
        if new["status"] != layer["status"]:
            new["enteredOn"] = now
        principal_changed = any(new.get(key) != layer.get(key) for key in (*FIELDS, *UC_FIELDS))
        if principal_changed:
            new.update(modifiedOn=now, modifiedBy=actor_id)
            uow.put(KIND, user["userId"], new)
        if "status" in changes:
            endpoint = self._extension(user)
            if endpoint is not None:
                self.engine.set_dnd(uow, endpoint, new["status"] == "dnd")
        view = self._refresh(uow, user, principal_changed, undo)
        before, after = self.activity_of(user, layer), self.activity_of(user, new)
        if before != after or (options or {}).get("always"):
            for listener in self.activity_listeners:
                listener(uow, user, before, after, options or {})
        return layer, view

    def layer(self, user: dict[str, Any]) -> dict[str, Any]:
        """The user's principal layer as stored (or the default one)."""
        self._ensure()
        return self._layer(user)

    def aggregate(self, user: dict[str, Any]) -> str:
        """The status the others see (``dnd``, ``busy`` in a call, else the principal status)."""
        self._ensure()
        return self._entry(user)["status"]

    def activity_of(self, user: dict[str, Any], layer: dict[str, Any] | None = None) -> str:
        """The UC activity ``layer`` (default: the stored one) shows: its own, or one derived from the status."""
        layer = layer if layer is not None else self._layer(user)
        if layer.get("activity"):
            return str(layer["activity"])
        account = self.rt.state.get("account", user["accountId"])
        return activities.derive(account, str(layer["status"]), layer.get("reason"))

    def _refresh(self, uow: UnitOfWork, user: dict[str, Any], principal_changed: bool,
                 undo: _Undo) -> dict[str, Any]:
        """Recompute the user's aggregate inside ``uow``; emit when it or the principal layer changed."""
        user_id = user["userId"]
        layer = self._layer(user)
        status = self._compute(user, layer)
        entry = self._aggregate.get(user_id)
        aggregate_changed = entry is not None and entry["status"] != status
        if entry is None or aggregate_changed:
            undo.setdefault(user_id, entry)
            entry = self._aggregate[user_id] = {
                "status": status,
                "enteredOn": (self.rt.now_iso() if entry is not None or status != layer["status"]
                              else layer["enteredOn"])}
        view = self.view(user, layer, entry)
        if aggregate_changed or principal_changed:
            # a view of its own for the event (plain values and new dicts: no copy needed), the other is returned
            uow.emit("presence.updated", user["accountId"], f"/presentities/{user_id}", self.view(user, layer, entry),
                     self.rt.now_iso(), fresh=True)
        return view

    def _undo(self, undo: _Undo) -> None:
        for user_id, entry in undo.items():
            if entry is None:
                self._aggregate.pop(user_id, None)
            else:
                self._aggregate[user_id] = entry

    # ================================================================== following the PBX and the directory
    def _reconciled(self, user: dict[str, Any]) -> dict[str, Any] | None:
        """A ``dnd`` principal status whose extension's DND was turned off elsewhere ends: the new layer."""
        layer = self._layer(user)
        if layer["status"] != "dnd":
            return None
        endpoint = self._extension(user)
        if endpoint is None or self.engine.settings(endpoint)["dnd"]:
            return None
        now = self.rt.now_iso()
        return {**layer, "status": DEFAULT_STATUS, "enteredOn": now, "modifiedOn": now, "modifiedBy": "callyard"}

    def _stale(self, user: dict[str, Any], reconcile: bool) -> bool:
        if reconcile and self._reconciled(user) is not None:
            return True
        entry = self._aggregate.get(user["userId"])
        return entry is None or entry["status"] != self._compute(user, self._layer(user))

    @staticmethod
    def _target(event: Event) -> tuple[str, bool] | None:
        """The user whose aggregate ``event`` may change, and whether a DND set elsewhere must be reconciled."""
        data = event.data or {}
        if event.type == "call.state":
            if data.get("endpointKind") != EXTENSION or not data.get("principalId"):
                return None
            return data["principalId"], False
        if event.type == "endpoint.updated" and data.get("userId"):
            return data["userId"], True
        if event.type in ("user.created", "user.updated") and data.get("userId"):
            return data["userId"], False
        return None

    def _on_commit(self, uow: UnitOfWork, events: list[Event]) -> None:
        undo: _Undo = {}
        for event in events:
            target = self._target(event)
            if target is None:
                continue
            user_id, reconcile = target
            self._ensure()
            user = self.rt.state.get("user", user_id)
            if user is None or not self._stale(user, reconcile):
                continue  # the common case: a call event that changes nobody's presence
            layer = self._reconciled(user) if reconcile else None
            if layer is not None:
                uow.put(KIND, user_id, layer)
            self._refresh(uow, user, layer is not None, undo)
        if undo:
            uow.on_rollback.append(lambda: self._undo(undo))

    async def _on_event(self, event: Event) -> None:
        if event.type in ("user.deleted", "account.deleted"):
            await self._forget(event)

    async def _forget(self, event: Event) -> None:
        """A deleted user (or account) takes their presence documents along; nothing is announced."""
        if event.type == "user.deleted":
            user_id = event.subject.rstrip("/").rsplit("/", 1)[-1]
            gone = [user_id] if self.rt.state.get(KIND, user_id) is not None else []
            self._aggregate.pop(user_id, None)
        else:
            gone = [doc["principalId"] for doc in self.rt.state.all(KIND) if doc.get("accountId") == event.account_id]
            for user_id in list(self._aggregate):
                if self.rt.state.get("user", user_id) is None:
                    self._aggregate.pop(user_id, None)
        if gone:
            async with self.rt.write() as uow:
                for user_id in gone:
                    if self.rt.state.get(KIND, user_id) is not None:
                        uow.delete(KIND, user_id)
