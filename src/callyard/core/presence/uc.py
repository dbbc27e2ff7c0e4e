"""The UC User API's presence (seed 003: User Information, Presence Shortcuts): the SAME presentity as
CloudLink's (core/presence/service.py), seen as an activity, a role, a note, an activity expiration and an
availability.

* Setting an activity sets the presentity's status and reason (``lunch`` → ``away``/``Lunch``; the catalogue
  in activities.py), so CloudLink shows it and its subscribers receive one publication per change. A status
  set through CloudLink ends the UC activity (the one shown is derived from the status).
* ``available`` (top level) is what callers get: the activity's availability (or the override sent with it),
  and false while the aggregate is ``dnd`` (DND on the phone) or ``busy`` (a connected or held call).
* An activity's expiration is an instant on the twin's clock: a scheduler timer ends it (back to
  ``available``) and announces that once; ``never`` (None) keeps it. Timers are armed again after a reset or a
  restart from the stored documents.
* Presence shortcuts are per user (documents ``presence_shortcuts``, id field ``userId``): ``{shortcuts: [
  PresenceShortcut…]}``. Applying one (``shortcutId`` on the activity update) sets its activity and
  availability, the end its duration gives, and — with ``applyDiversionNumber`` — its diversion number as the
  active diversion (core/devices/diversion.py listens to activity changes).

Access: the user, or an ACCOUNT_ADMIN of the account for any of its users (``acting_for``); the access fields
of the view say WRITE for those, NONE otherwise.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from callyard.core.devices.service import acting_for
from callyard.core.engine.dialplan import is_dialable
from callyard.core.errors import Invalid, NotFound
from callyard.core.presence import activities
from callyard.core.presence.service import NOTE_MAX, UC_ACTIVITY_FIELDS, Presence
from callyard.core.principal import Principal
from callyard.core.runtime import Runtime
from callyard.core.scheduler import Scheduler, Timer
from callyard.core.state import UnitOfWork
from callyard.events.event import TWIN_RESET, Event

NEVER = "never"
SHORTCUTS = "presence_shortcuts"
# Every document kind of a user's UC settings (core/devices/diversion.py, core/devices/user_settings.py).
USER_KINDS = (SHORTCUTS, "activity_diversion", "mobile_diversion", "voicemail_settings", "mobile_subscriber")
DURATION_TYPES = ("NO_END_TIME", "UNTIL_NEXT_WORKING_DAY", "MINUTES")
IMAGE_IDS = ("ic_shortcut_big_green", "ic_shortcut_big_red", "ic_shortcut_car", "ic_shortcut_coffee",
             "ic_shortcut_home", "ic_shortcut_office", "ic_shortcut_pizza", "ic_shortcut_plane", "ic_shortcut_watch")
SHORTCUTS_MAX = 50
MINUTES_MAX = 7 * 24 * 60
WORKDAY_STARTS = 8   # UNTIL_NEXT_WORKING_DAY ends at 08:00 UTC of the next Monday-to-Friday day
CAPABILITIES = ("MESSAGE", "SMS")


def parse_instant(value: object, field: str) -> str | None:
    """An expiration: ``never`` (any case) or empty → None; an ISO 8601 date-time with an offset → UTC ISO."""
    if value is None or (isinstance(value, str) and value.strip().lower() in ("", NEVER)):
        return None
    if not isinstance(value, str):
        raise Invalid(f"{field}.not.valid", f"{field} is an ISO 8601 date-time or 'never'", field=field,
                      value=str(value))
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        raise Invalid(f"{field}.not.valid", f"{field} is an ISO 8601 date-time or 'never'", field=field,
                      value=value) from None
    if moment.tzinfo is None:
        raise Invalid(f"{field}.not.valid", f"{field} needs an offset (Z or +hh:mm)", field=field, value=value)
    return iso(moment)


def iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def next_working_day(now: datetime) -> datetime:
    day = (now.astimezone(timezone.utc) + timedelta(days=1)).replace(hour=WORKDAY_STARTS, minute=0, second=0,
                                                                    microsecond=0)
    while day.weekday() >= 5:
        day += timedelta(days=1)
    return day


class UcPresence:
    def __init__(self, runtime: Runtime, presence: Presence, scheduler: Scheduler) -> None:
        self.rt = runtime
        self.presence = presence
        self.scheduler = scheduler
        self._timers: dict[str, Timer] = {}
        self._armed_for: Any = None
        runtime.projections.after_commit("UC activity expirations after a reset", lambda _e: self.rearm(),
                                         events=(TWIN_RESET,))
        runtime.projections.after_commit("UC user settings leave with their user", self._forget,
                                         events=("user.deleted", "account.deleted"))

    # ================================================================== the catalogue
    def account(self, account_id: str) -> dict[str, Any] | None:
        return self.rt.state.get("account", account_id)

    def activities(self, account_id: str) -> list[dict[str, Any]]:
        return activities.activities(self.account(account_id))

    def roles(self, account_id: str) -> list[dict[str, Any]]:
        return activities.roles(self.account(account_id))

    def _activity(self, account_id: str, activity_id: object, field: str = "activity") -> dict[str, Any]:
        if not isinstance(activity_id, str) or not activity_id.strip():
            raise Invalid(f"{field}.required", f"{field} names an activity", field=field)
        found = activities.find(self.account(account_id), activity_id.strip())
        if found is None:
            raise Invalid(f"{field}.not.valid", f"{activity_id} is not an activity of the organisation "
                          f"({', '.join(a['id'] for a in self.activities(account_id))})", field=field,
                          value=activity_id)
        return found

    # ================================================================== reads
    def view(self, actor: Principal, account_id: str, user_id: str) -> dict[str, Any]:
        user = acting_for(self.rt, actor, account_id, user_id)
        self._ensure_timers()
        layer = self.presence.layer(user)
        activity_id = self.presence.activity_of(user, layer)
        activity = activities.find(self.account(account_id), activity_id) or {"available": True}
        own = layer.get("activityAvailable")
        activity_available = bool(activity["available"] if own is None else own)
        aggregate = self.presence.aggregate(user)
        access = "WRITE"   # acting_for let the caller in: the user or an administrator of the account
        return {"futurePresenceAccess": access, "activityAccess": access, "roleAccess": access,
                "noteAccess": access, "role": layer.get("role") or activities.DEFAULT_ROLE,
                "note": layer.get("note") or "",
                "activity": {"id": activity_id, "expiration": layer.get("activityExpires") or NEVER,
                             "available": activity_available},
                "idle": False,
                "available": activity_available and aggregate not in ("dnd", "busy", "offline"),
                "capabilities": [c for c in CAPABILITIES if c != "SMS" or user.get("mobile")]}

    # ================================================================== writes
    async def update(self, actor: Principal, account_id: str, user_id: str, *, role: object = ...,
                     note: object = ..., activity: object = ..., expiration: object = ...,
                     available: object = ..., force_diversion: bool = False,
                     shortcut_id: str | None = None) -> dict[str, Any]:
        """Set any of role, note, activity (with its expiration and availability override); ``shortcut_id``
        applies a presence shortcut instead of ``activity``. Unknown activities and roles, a note over 1024
        characters and an expiration in the past are refused (400) and change nothing."""
        changes: dict[str, Any] = {}
        options: dict[str, Any] = {"force": force_diversion}
        if role is not ...:
            if not isinstance(role, str) or role not in {r["id"] for r in self.roles(account_id)}:
                raise Invalid("role.not.valid", f"{role} is not a role of the organisation "
                              f"({', '.join(r['id'] for r in self.roles(account_id))})", field="role",
                              value=str(role))
            changes["role"] = role
        if note is not ...:
            if note is not None and not isinstance(note, str):
                raise Invalid("note.not.valid", "note is a text", field="note")
            if note is not None and len(note) > NOTE_MAX:
                raise Invalid("note.too.long", f"note is at most {NOTE_MAX} characters", field="note")
            changes["note"] = note or None
        if shortcut_id is not None:
            shortcut = self.shortcut(actor, account_id, user_id, shortcut_id)
            activity, available = shortcut["activityId"], shortcut["available"]
            expiration = self._shortcut_end(shortcut)
            if shortcut.get("applyDiversionNumber") and shortcut.get("diversionPhoneNumber"):
                options["diversion"] = shortcut["diversionPhoneNumber"]
            options["always"] = True
        if activity is not ...:
            found = self._activity(account_id, activity)
            if available is not ... and available is not None and not isinstance(available, bool):
                raise Invalid("available.not.valid", "available is true or false", field="available",
                              value=str(available))
            changes.update(activity=found["id"], status=found["status"], reason=found["reason"],
                           activityAvailable=None if available is ... else available)
            changes["activityExpires"] = None
        elif available is not ...:
            raise Invalid("activity.required", "available goes with an activity", field="activity")
        if expiration is not ...:
            end = parse_instant(expiration, "expiration")
            if end is not None and end <= iso(self.rt.clock.now()):
                raise Invalid("expiration.not.valid", "the expiration is in the past", field="expiration",
                              value=str(expiration))
            changes["activityExpires"] = end
        if not changes:
            raise Invalid("presence.empty", "give a role, a note or an activity", field="activity")
        async with self.rt.write() as uow:
            user = acting_for(self.rt, actor, account_id, user_id)
            self._write(uow, actor.principal_id, user, changes, options)
        return self.view(actor, account_id, user_id)

    async def set_expiration(self, actor: Principal, account_id: str, user_id: str, expires: object) -> str:
        """End the current activity at ``expires`` (ISO 8601, or ``never``). Returns it as stored."""
        if expires is None:
            raise Invalid("expires.required", "expires is an ISO 8601 date-time or 'never'", field="expires")
        end = parse_instant(expires, "expires")
        if end is not None and end <= iso(self.rt.clock.now()):
            raise Invalid("expires.not.valid", "the expiration is in the past", field="expires", value=str(expires))
        async with self.rt.write() as uow:
            user = acting_for(self.rt, actor, account_id, user_id)
            layer = self.presence.layer(user)
            changes: dict[str, Any] = {"activityExpires": end}
            if not layer.get("activity"):   # the derived activity becomes the UC one, so it can end
                changes["activity"] = self.presence.activity_of(user, layer)
            self._write(uow, actor.principal_id, user, changes, {})
        return end or NEVER

    def _write(self, uow: UnitOfWork, actor_id: str, user: dict[str, Any], changes: dict[str, Any],
               options: dict[str, Any]) -> None:
        self.presence.write(uow, actor_id, user, changes, options)
        if "activityExpires" in changes:
            end = changes["activityExpires"]
            uow.after_commit.append(lambda: self._arm(user["userId"], end))

    # ================================================================== expiration timers
    def _arm(self, user_id: str, end: str | None) -> None:
        old = self._timers.pop(user_id, None)
        if old is not None:
            old.cancel()
        if end is None:
            return
        due = datetime.fromisoformat(end.replace("Z", "+00:00"))
        seconds = (due - self.rt.clock.now()).total_seconds()
        self._timers[user_id] = self.scheduler.after(seconds, lambda: self._expire(user_id, end),
                                                     f"activity expires {user_id}")

    async def _expire(self, user_id: str, end: str) -> None:
        """The activity ended on the clock: back to the default activity (one announcement)."""
        self._timers.pop(user_id, None)
        user = self.rt.state.get("user", user_id)
        if user is None or self.presence.layer(user).get("activityExpires") != end:
            return   # changed since, or gone
        default = activities.find(self.account(user["accountId"]), activities.DEFAULT_ACTIVITY) or {
            "status": "available", "reason": None}
        async with self.rt.write() as uow:
            self.presence.write(uow, "callyard", user, {
                **{key: None for key in UC_ACTIVITY_FIELDS}, "activity": activities.DEFAULT_ACTIVITY,
                "status": default["status"], "reason": default["reason"]}, {})

    def _ensure_timers(self) -> None:
        if self._armed_for is not self.rt.state.docs:
            self.rearm()

    def rearm(self) -> None:
        """Arm a timer for every stored expiration (after a reset, a snapshot import or a restart)."""
        self._armed_for = self.rt.state.docs
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        for doc in self.rt.state.all("presence"):
            if doc.get("activityExpires"):
                self._arm(doc["principalId"], doc["activityExpires"])

    async def _forget(self, event: Event) -> None:
        """A deleted user (or account) takes their shortcuts, diversion mappings, mobile-line rules, voicemail
        and mobile subscriber settings along (the extension's own settings stay with the extension)."""
        user_id = event.subject.rstrip("/").rsplit("/", 1)[-1] if event.type == "user.deleted" else None
        gone = [(kind, doc) for kind in USER_KINDS for doc in self.rt.state.all(kind)
                if (doc.get("userId") == user_id if user_id else doc.get("accountId") == event.account_id)]
        if not gone:
            return
        async with self.rt.write() as uow:
            for kind, doc in gone:
                key = doc.get("subscriberKey") or doc["userId"]
                if self.rt.state.get(kind, key) is not None:
                    uow.delete(kind, key)

    # ================================================================== presence shortcuts
    def shortcuts(self, actor: Principal, account_id: str, user_id: str) -> list[dict[str, Any]]:
        acting_for(self.rt, actor, account_id, user_id)
        doc = self.rt.state.get(SHORTCUTS, user_id) or {}
        return sorted((dict(s) for s in doc.get("shortcuts") or []), key=lambda s: (s["order"], s["id"]))

    def shortcut(self, actor: Principal, account_id: str, user_id: str, shortcut_id: str) -> dict[str, Any]:
        for shortcut in self.shortcuts(actor, account_id, user_id):
            if shortcut["id"] == shortcut_id:
                return shortcut
        raise NotFound("shortcut.does.not.exist", f"presence shortcut {shortcut_id} was not found", field="id",
                       value=shortcut_id)

    def _valid_shortcut(self, account_id: str, spec: object, path_id: str | None = None) -> dict[str, Any]:
        if not isinstance(spec, dict):
            raise Invalid("presenceShortcut.not.valid", "a presence shortcut is an object", field="presenceShortcut")
        for key in ("id", "name", "activityId", "available", "durationType", "order", "imageId"):
            if spec.get(key) is None or spec.get(key) == "":
                raise Invalid(f"{key}.required", f"a presence shortcut needs {key}", field=key)
        shortcut_id = str(spec["id"])
        if path_id is not None and shortcut_id != path_id:
            raise Invalid("id.not.valid", "the body's id is the path's id", field="id", value=shortcut_id)
        self._activity(account_id, spec["activityId"], "activityId")
        if not isinstance(spec["available"], bool):
            raise Invalid("available.not.valid", "available is true or false", field="available")
        if spec["durationType"] not in DURATION_TYPES:
            raise Invalid("durationType.not.valid", f"durationType is one of {', '.join(DURATION_TYPES)}",
                          field="durationType", value=str(spec["durationType"]))
        minutes = spec.get("durationMinutes")
        if spec["durationType"] == "MINUTES" and (not isinstance(minutes, int) or isinstance(minutes, bool)
                                                  or not 1 <= minutes <= MINUTES_MAX):
            raise Invalid("durationMinutes.not.valid", f"MINUTES needs durationMinutes 1-{MINUTES_MAX}",
                          field="durationMinutes", value=str(minutes))
        if not isinstance(spec["order"], int) or isinstance(spec["order"], bool):
            raise Invalid("order.not.valid", "order is a whole number", field="order", value=str(spec["order"]))
        if spec["imageId"] not in IMAGE_IDS:
            raise Invalid("imageId.not.valid", f"imageId is one of {', '.join(IMAGE_IDS)}", field="imageId",
                          value=str(spec["imageId"]))
        number = spec.get("diversionPhoneNumber")
        if number not in (None, "") and (not isinstance(number, str) or not is_dialable(number)):
            raise Invalid("diversionPhoneNumber.not.valid", "diversionPhoneNumber is a dialable number",
                          field="diversionPhoneNumber", value=str(number))
        apply = spec.get("applyDiversionNumber", False)
        if not isinstance(apply, bool):
            raise Invalid("applyDiversionNumber.not.valid", "applyDiversionNumber is true or false",
                          field="applyDiversionNumber")
        name = str(spec["name"])
        if len(name) > 64:
            raise Invalid("name.too.long", "name is at most 64 characters", field="name")
        return {"id": shortcut_id, "name": name, "activityId": str(spec["activityId"]),
                "available": spec["available"], "durationType": spec["durationType"],
                "durationMinutes": minutes if spec["durationType"] == "MINUTES" else None,
                "order": spec["order"], "imageId": spec["imageId"], "diversionPhoneNumber": number or None,
                "applyDiversionNumber": apply}

    async def put_shortcut(self, actor: Principal, account_id: str, user_id: str, shortcut_id: str,
                           spec: object) -> dict[str, Any]:
        shortcut = self._valid_shortcut(account_id, spec, shortcut_id)
        async with self.rt.write() as uow:
            current = [s for s in self.shortcuts(actor, account_id, user_id) if s["id"] != shortcut_id]
            if len(current) >= SHORTCUTS_MAX:
                raise Invalid("presenceShortcut.too.many", f"at most {SHORTCUTS_MAX} shortcuts", field="id")
            self._save_shortcuts(uow, account_id, user_id, [*current, shortcut])
        return shortcut

    async def replace_shortcuts(self, actor: Principal, account_id: str, user_id: str,
                                specs: object) -> list[dict[str, Any]]:
        if not isinstance(specs, list):
            raise Invalid("presenceShortcut.required", "presenceShortcut is a list", field="presenceShortcut")
        if len(specs) > SHORTCUTS_MAX:
            raise Invalid("presenceShortcut.too.many", f"at most {SHORTCUTS_MAX} shortcuts", field="presenceShortcut")
        shortcuts = [self._valid_shortcut(account_id, spec) for spec in specs]
        ids = [s["id"] for s in shortcuts]
        if len(set(ids)) != len(ids):
            raise Invalid("id.not.unique", "each shortcut id once", field="id")
        async with self.rt.write() as uow:
            acting_for(self.rt, actor, account_id, user_id)
            self._save_shortcuts(uow, account_id, user_id, shortcuts)
        return self.shortcuts(actor, account_id, user_id)

    async def delete_shortcut(self, actor: Principal, account_id: str, user_id: str, shortcut_id: str) -> None:
        async with self.rt.write() as uow:
            self.shortcut(actor, account_id, user_id, shortcut_id)
            rest = [s for s in self.shortcuts(actor, account_id, user_id) if s["id"] != shortcut_id]
            self._save_shortcuts(uow, account_id, user_id, rest)

    def _save_shortcuts(self, uow: UnitOfWork, account_id: str, user_id: str,
                        shortcuts: list[dict[str, Any]]) -> None:
        uow.put(SHORTCUTS, user_id, {"userId": user_id, "accountId": account_id, "shortcuts": shortcuts})
        uow.emit("presence_shortcuts.updated", account_id, f"/users/{user_id}/presenceshortcuts",
                 {"userId": user_id}, self.rt.now_iso())

    def _shortcut_end(self, shortcut: dict[str, Any]) -> str:
        now = self.rt.clock.now()
        if shortcut["durationType"] == "MINUTES":
            return iso(now + timedelta(minutes=int(shortcut["durationMinutes"])))
        if shortcut["durationType"] == "UNTIL_NEXT_WORKING_DAY":
            return iso(next_working_day(now))
        return NEVER
