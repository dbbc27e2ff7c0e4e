"""Scheduled (future) presence of a user: "lunch every weekday 11:00-12:00", "in a meeting on Friday".

A scheduled presence (``future_presence``, id ``<userId>:<presenceId>``) has an activity, role, note,
priority, name, free/busy type, its first occurrence (``dt-start``/``dt-end`` in UTC, at most 30 days apart)
in a time zone (``tzid``), and an optional recurrence ``recur {freq, byday, bymonthday, interval, count,
until}``. Occurrences are computed with ``dateutil.rrule`` (RFC 5545) in the event's own time zone, so
"08:30 every Monday in Europe/Stockholm" stays 08:30 local across daylight-saving changes. Deleting a date
range of a recurring one removes those occurrences (kept as exception dates); deleting without a range (or
a range that covers every occurrence) deletes the whole thing. Only a user with WRITE ``futurePresenceAccess``
creates, changes or deletes; anyone of the organisation reads.

A scheduled presence *happens*: when an occurrence starts on the twin's clock, the user's activity (and its
role and note, when it names them) is set on the ONE presence (core/presence/uc.py) with the occurrence's end
as the activity's expiration, so CloudLink, the contacts' PIDF streams and the activity diversions follow.
Of overlapping occurrences the highest priority wins; when it ends, one it overrode that is still in progress
takes over again. One timer per scheduled presence waits for its next occurrence; timers are armed again
after a change, a reset, a snapshot import and a restart.
"""
from __future__ import annotations

from datetime import datetime, timedelta, timezone
from itertools import islice
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dateutil import rrule

from callyard.core.auth.tickets import principal_of
from callyard.core.errors import CoreError, Forbidden, Invalid, NotFound
from callyard.core.presence.uc import UcPresence
from callyard.core.principal import Principal
from callyard.core.runtime import Runtime
from callyard.core.scheduler import Scheduler, Timer
from callyard.events.event import TWIN_RESET

KIND = "future_presence"
FREQS: dict[str, Any] = {"DAILY": rrule.DAILY, "WEEKLY": rrule.WEEKLY, "MONTHLY": rrule.MONTHLY, "YEARLY": rrule.YEARLY}
DAYS = {"MO": rrule.MO, "TU": rrule.TU, "WE": rrule.WE, "TH": rrule.TH, "FR": rrule.FR, "SA": rrule.SA,
        "SU": rrule.SU}
BUSY_TYPES = ("FREE", "TENTATIVE", "BUSY", "OOF", "WORKING_ELSEWHERE")
SOURCES = ("INTERNAL", "CALENDAR")
NOTE_MAX = 250
NAME_MAX = 256
MAX_SPAN = timedelta(days=30)
MAX_INSTANCES = 1000
DEFAULT_WINDOW = timedelta(days=30)
TEXT_FIELDS = ("role", "note", "activity", "name")


def parse_utc(value: Any, field: str) -> datetime:
    """An ISO 8601 time with an offset or ``Z`` (``2021-02-01T08:30:00Z``), as an aware UTC datetime."""
    if not isinstance(value, str) or not value.strip():
        raise Invalid(f"{field}.required", f"{field} is an ISO 8601 UTC time (2021-02-01T08:30:00Z)", field=field)
    text = value.strip()
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise Invalid(f"{field}.not.valid", f"{value} is not an ISO 8601 time", field=field, value=value) from None
    if parsed.tzinfo is None:
        raise Invalid(f"{field}.not.valid", f"{field} needs Z or a UTC offset", field=field, value=value)
    return parsed.astimezone(timezone.utc)


def utc_text(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def zone(tzid: Any) -> ZoneInfo:
    if not isinstance(tzid, str) or not tzid:
        raise Invalid("tzid.not.valid", "tzid is a time zone id (Europe/Stockholm)", field="tzid")
    try:
        return ZoneInfo(tzid)
    except (ZoneInfoNotFoundError, ValueError):
        raise Invalid("tzid.not.valid", f"{tzid} is not a time zone id", field="tzid", value=tzid) from None


LOOKAHEAD = timedelta(days=400)


class FuturePresence:
    def __init__(self, runtime: Runtime, scheduler: Scheduler, presence: UcPresence) -> None:
        self.rt = runtime
        self.scheduler = scheduler
        self.presence = presence
        self._timers: dict[str, Timer] = {}     # scheduled presence key → its next occurrence's start
        self._resumes: dict[str, Timer] = {}    # userId → the end of the occurrence in force
        # a reset or import of the whole twin, or of some accounts (their scheduled presence replaced)
        runtime.projections.after_commit("scheduled presence timers after a reset or an import",
                                         lambda _e: self.rearm(),
                                         events=(TWIN_RESET, "twin.accountReset", "twin.accountImported"))

    # ------------------------------------------------------------------ validation
    def _validated(self, account_id: str, body: dict[str, Any], base: dict[str, Any] | None) -> dict[str, Any]:
        doc: dict[str, Any] = dict(base or {"role": "business", "priority": 0, "source": "INTERNAL",
                                            "modifiable": True, "deleted": False, "private": False,
                                            "tzid": "UTC", "exdates": []})
        for key in TEXT_FIELDS:
            if key in body and body[key] is not None:
                if not isinstance(body[key], str):
                    raise Invalid(f"{key}.not.valid", f"{key} is a string", field=key)
                doc[key] = body[key]
        if len(doc.get("note") or "") > NOTE_MAX:
            raise Invalid("note.too.long", f"note has at most {NOTE_MAX} characters", field="note")
        if len(doc.get("name") or "") > NAME_MAX:
            raise Invalid("name.too.long", f"name has at most {NAME_MAX} characters", field="name")
        if not doc.get("activity"):
            raise Invalid("activity.required", "activity is required (available, busy, lunch, meeting, …)",
                          field="activity")
        known = [a["id"] for a in self.presence.activities(account_id)]
        if doc["activity"] not in known:
            raise Invalid("activity.not.valid", f"{doc['activity']} is not an activity of the organisation "
                          f"({', '.join(known)})", field="activity", value=str(doc["activity"]))
        roles = [r["id"] for r in self.presence.roles(account_id)]
        if doc.get("role") not in roles:
            raise Invalid("role.not.valid", f"{doc.get('role')} is not a role of the organisation "
                          f"({', '.join(roles)})", field="role", value=str(doc.get("role")))
        if "priority" in body and body["priority"] is not None:
            if not isinstance(body["priority"], int) or isinstance(body["priority"], bool) or body["priority"] < 0:
                raise Invalid("priority.not.valid", "priority is a whole number, 0 or more", field="priority",
                              value=str(body["priority"]))
            doc["priority"] = body["priority"]
        for key, allowed in (("busyType", BUSY_TYPES), ("source", SOURCES)):
            if body.get(key) is not None:
                if body[key] not in allowed:
                    raise Invalid(f"{key}.not.valid", f"{key} is one of {', '.join(allowed)}", field=key,
                                  value=str(body[key]))
                doc[key] = body[key]
        for key in ("modifiable", "deleted", "private"):
            if body.get(key) is not None:
                if not isinstance(body[key], bool):
                    raise Invalid(f"{key}.not.valid", f"{key} is true or false", field=key)
                doc[key] = body[key]
        if body.get("tzid") is not None:
            zone(body["tzid"])
            doc["tzid"] = body["tzid"]
        for key in ("dt-start", "dt-end"):
            if body.get(key) is not None or key not in doc:
                doc[key] = utc_text(parse_utc(body.get(key), key))
        start, end = parse_utc(doc["dt-start"], "dt-start"), parse_utc(doc["dt-end"], "dt-end")
        if end <= start:
            raise Invalid("dt-end.before.dt-start", "dt-end is after dt-start", field="dt-end", value=doc["dt-end"])
        if end - start > MAX_SPAN:
            raise Invalid("dt-end.too.far", "dt-end is at most 30 days after dt-start", field="dt-end",
                          value=doc["dt-end"])
        if "recur" in body:
            doc["recur"] = self._recur(body["recur"]) if body["recur"] is not None else None
        self._rule(doc)   # the recurrence must expand
        return doc

    @staticmethod
    def _recur(recur: Any) -> dict[str, Any]:
        if not isinstance(recur, dict):
            raise Invalid("recur.not.valid", "recur is an object {freq, byday, until, …}", field="recur")
        freq = str(recur.get("freq") or "").upper()
        if freq not in FREQS:
            raise Invalid("recur.freq.not.valid", f"recur.freq is one of {', '.join(FREQS)}", field="recur.freq",
                          value=freq)
        out: dict[str, Any] = {"freq": freq}
        if recur.get("byday"):
            days = [d.strip().upper() for d in str(recur["byday"]).split(",") if d.strip()]
            if not days or any(d not in DAYS for d in days):
                raise Invalid("recur.byday.not.valid", "recur.byday lists days as MO,TU,WE,TH,FR,SA,SU",
                              field="recur.byday", value=str(recur["byday"]))
            out["byday"] = ",".join(days)
        for key in ("interval", "count", "bymonthday"):
            value = recur.get(key)
            if value is None:
                continue
            top = 31 if key == "bymonthday" else 1000
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
                raise Invalid(f"recur.{key}.not.valid", f"recur.{key} is a positive whole number",
                              field=f"recur.{key}", value=str(value))
            out[key] = value
        if recur.get("until"):
            out["until"] = utc_text(parse_utc(recur["until"], "recur.until"))
        return out

    @staticmethod
    def _rule(doc: dict[str, Any]) -> rrule.rrule | None:
        recur = doc.get("recur")
        if not recur:
            return None
        tz = zone(doc.get("tzid") or "UTC")
        start = parse_utc(doc["dt-start"], "dt-start").astimezone(tz).replace(tzinfo=None)
        until = None
        if recur.get("until"):
            until = parse_utc(recur["until"], "recur.until").astimezone(tz).replace(tzinfo=None)
        byweekday = [DAYS[d] for d in recur["byday"].split(",")] if recur.get("byday") else None
        return rrule.rrule(FREQS[recur["freq"]], dtstart=start, interval=recur.get("interval", 1),
                           count=recur.get("count"), until=until, byweekday=byweekday,
                           bymonthday=recur.get("bymonthday"))

    # ------------------------------------------------------------------ occurrences
    def instances(self, doc: dict[str, Any], start: datetime, end: datetime) -> list[dict[str, Any]]:
        """The occurrences that overlap [start, end) (UTC), each ``{deleted, dt-start, dt-end, instanceId}``
        (the id: the occurrence's start in epoch milliseconds)."""
        first, last = parse_utc(doc["dt-start"], "dt-start"), parse_utc(doc["dt-end"], "dt-end")
        duration = last - first
        rule = self._rule(doc)
        if rule is None:
            starts = [first]
        else:
            tz = zone(doc.get("tzid") or "UTC")
            local_from = (start - duration).astimezone(tz).replace(tzinfo=None)
            local_to = end.astimezone(tz).replace(tzinfo=None)
            starts = [moment.replace(tzinfo=tz).astimezone(timezone.utc)
                      for moment in rule.between(local_from, local_to, inc=True)[:MAX_INSTANCES]]
        deleted = set(doc.get("exdates") or ())
        out = []
        for moment in starts:
            if moment + duration <= start or moment >= end:
                continue
            instance_id = str(int(moment.timestamp() * 1000))
            out.append({"deleted": instance_id in deleted or bool(doc.get("deleted")),
                        "dt-start": utc_text(moment), "dt-end": utc_text(moment + duration),
                        "instanceId": instance_id})
        return out

    def active(self, user: dict[str, Any], at: datetime) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The scheduled presence in force for ``user`` at ``at`` and its occurrence: of the occurrences
        covering it, the highest priority (then the latest start). None when nothing is scheduled then."""
        best: tuple[int, str, dict[str, Any], dict[str, Any]] | None = None
        for doc in self.of_user(user):
            if doc.get("deleted"):
                continue
            for instance in self.instances(doc, at, at + timedelta(seconds=1)):
                if instance["deleted"]:
                    continue
                key = (int(doc.get("priority") or 0), instance["dt-start"], doc, instance)
                if best is None or key[:2] > best[:2]:
                    best = key
        return None if best is None else (best[2], best[3])

    # ------------------------------------------------------------------ reads
    def of_user(self, user: dict[str, Any]) -> list[dict[str, Any]]:
        docs = [d for d in self.rt.state.all(KIND) if d["userId"] == user["userId"]]
        return sorted(docs, key=lambda d: int(d["presenceId"]))

    def get(self, user: dict[str, Any], presence_id: str) -> dict[str, Any]:
        doc = self.rt.state.get(KIND, f"{user['userId']}:{presence_id}")
        if doc is None:
            raise NotFound("futurepresence.does.not.exist", f"there is no scheduled presence {presence_id}",
                           field="presenceId", value=presence_id)
        return doc

    def window(self, start: str | None, end: str | None) -> tuple[datetime, datetime]:
        begin = parse_utc(start, "startDate") if start else self.rt.clock.now().astimezone(timezone.utc)
        finish = parse_utc(end, "endDate") if end else begin + DEFAULT_WINDOW
        if finish <= begin:
            raise Invalid("endDate.before.startDate", "endDate is after startDate", field="endDate", value=end or "")
        return begin, finish

    def listing(self, user: dict[str, Any], start: datetime, end: datetime) -> list[dict[str, Any]]:
        """The scheduled presences with an occurrence in [start, end)."""
        return [doc for doc in self.of_user(user) if self.instances(doc, start, end)]

    # ------------------------------------------------------------------ writes
    @staticmethod
    def _may(actor: Principal, user: dict[str, Any]) -> None:
        if actor.user_id == user["userId"] or (actor.account_id == user["accountId"]
                                                and actor.at_least("ACCOUNT_ADMIN")):
            return
        raise Forbidden("access.denied", "the caller has no WRITE futurePresenceAccess for this contact",
                        field="futurePresenceAccess", value="NONE")

    async def create(self, actor: Principal, user: dict[str, Any], body: dict[str, Any]) -> dict[str, Any]:
        self._may(actor, user)
        doc = self._validated(user["accountId"], body, None)
        numbers = [int(d["presenceId"]) for d in self.of_user(user)]
        presence_id = str(max(numbers, default=0) + 1)
        doc.update(presenceId=presence_id, userId=user["userId"], accountId=user["accountId"],
                   key=f"{user['userId']}:{presence_id}", createdOn=self.rt.now_iso(), createdBy=actor.principal_id)
        await self._put(doc, "future_presence.created")
        return doc

    async def update(self, actor: Principal, user: dict[str, Any], presence_id: str,
                     body: dict[str, Any]) -> dict[str, Any]:
        self._may(actor, user)
        current = self.get(user, presence_id)
        if not current.get("modifiable", True):
            raise Forbidden("futurepresence.not.modifiable", "a scheduled presence synchronized from a calendar "
                            "is not modifiable", field="presenceId", value=presence_id)
        doc = self._validated(user["accountId"], body, current)
        doc.update(modifiedOn=self.rt.now_iso(), modifiedBy=actor.principal_id)
        await self._put(doc, "future_presence.updated")
        return doc

    async def delete(self, actor: Principal, user: dict[str, Any], presence_id: str, start: str | None,
                     until: str | None) -> None:
        """Delete it, or only its occurrences from ``start`` to ``until`` (either may be open)."""
        self._may(actor, user)
        doc = self.get(user, presence_id)
        if start is None and until is None:
            await self._drop(doc)
            return
        begin = parse_utc(start, "startDate") if start else parse_utc(doc["dt-start"], "dt-start")
        finish = parse_utc(until, "untilDate") if until else begin + timedelta(days=366 * 5)
        if finish <= begin:
            raise Invalid("untilDate.before.startDate", "untilDate is after startDate", field="untilDate",
                          value=until or "")
        gone = {i["instanceId"] for i in self.instances(doc, begin, finish)}
        if not doc.get("recur"):
            if gone:
                await self._drop(doc)
            return
        exdates = set(doc.get("exdates") or ()) | gone
        rule = self._rule(doc)
        bounded = rule is not None and (doc["recur"].get("until") or doc["recur"].get("count"))
        if bounded and rule is not None:
            tz = zone(doc.get("tzid") or "UTC")
            every = {str(int(m.replace(tzinfo=tz).timestamp() * 1000)) for m in islice(rule, MAX_INSTANCES)}
            if every <= exdates:
                await self._drop(doc)
                return
        await self._put({**doc, "exdates": sorted(exdates), "modifiedOn": self.rt.now_iso()},
                        "future_presence.updated")

    async def _put(self, doc: dict[str, Any], event: str) -> None:
        async with self.rt.write() as uow:
            uow.put(KIND, doc["key"], doc)
            uow.emit(event, doc["accountId"], f"/users/{doc['userId']}/futurepresence/{doc['presenceId']}",
                     public(doc), self.rt.now_iso())
            uow.after_commit.append(lambda: self._arm(doc["key"]))

    async def _drop(self, doc: dict[str, Any]) -> None:
        async with self.rt.write() as uow:
            uow.delete(KIND, doc["key"])
            uow.emit("future_presence.deleted", doc["accountId"],
                     f"/users/{doc['userId']}/futurepresence/{doc['presenceId']}", public(doc), self.rt.now_iso())
            uow.after_commit.append(lambda: self._arm(doc["key"]))

    # ------------------------------------------------------------------ happening on the clock
    def rearm(self) -> None:
        """A timer for every stored scheduled presence (after a reset, an import or a restart)."""
        for timer in [*self._timers.values(), *self._resumes.values()]:
            timer.cancel()
        self._timers.clear()
        self._resumes.clear()
        for doc in list(self.rt.state.all(KIND)):
            self._arm(doc["key"])

    def _arm(self, key: str, after: datetime | None = None) -> None:
        """Wait for the next occurrence of ``key`` that starts after ``after`` (default: one in progress now
        counts, so a presence scheduled for now happens at once)."""
        old = self._timers.pop(key, None)
        if old is not None:
            old.cancel()
        doc = self.rt.state.get(KIND, key)
        if doc is None or doc.get("deleted"):
            return
        now = self.rt.clock.now().astimezone(timezone.utc)
        upcoming = [i for i in self.instances(doc, now, now + LOOKAHEAD)
                    if not i["deleted"] and (after is None or parse_utc(i["dt-start"], "dt-start") > after)]
        if not upcoming:
            return
        instance = upcoming[0]
        start = parse_utc(instance["dt-start"], "dt-start")
        self._timers[key] = self.scheduler.after((start - now).total_seconds(),
                                                 lambda: self._begin(key, instance), f"scheduled presence {key}")

    async def _begin(self, key: str, instance: dict[str, Any]) -> None:
        """An occurrence starts: the user's activity becomes the scheduled one until the occurrence ends."""
        self._timers.pop(key, None)
        doc = self.rt.state.get(KIND, key)
        user = self.rt.state.get("user", doc["userId"]) if doc is not None else None
        if doc is None or user is None:
            return
        start = parse_utc(instance["dt-start"], "dt-start")
        try:
            winner = self.active(user, self.rt.clock.now().astimezone(timezone.utc))
            if winner is not None and winner[0]["key"] == key and winner[1]["instanceId"] == instance["instanceId"]:
                await self._apply(user, doc, instance)
        finally:
            self._arm(key, after=start)

    async def _apply(self, user: dict[str, Any], doc: dict[str, Any], instance: dict[str, Any]) -> None:
        changes: dict[str, Any] = {"activity": doc["activity"], "expiration": instance["dt-end"]}
        if doc.get("note"):
            changes["note"] = doc["note"]
        if doc.get("role"):
            changes["role"] = doc["role"]
        try:
            await self.presence.update(principal_of(user), user["accountId"], user["userId"], **changes)
        except CoreError:
            return   # the catalogue changed since (an activity removed): this occurrence changes nothing
        # when it ends, an occurrence it overrode (still in progress) takes over again
        end = parse_utc(instance["dt-end"], "dt-end")
        seconds = (end - self.rt.clock.now()).total_seconds() + 0.001
        user_id = user["userId"]
        old = self._resumes.pop(user_id, None)
        if old is not None:
            old.cancel()
        self._resumes[user_id] = self.scheduler.after(seconds, lambda: self._resume(user_id),
                                                      f"scheduled presence resumes {user_id}")

    async def _resume(self, user_id: str) -> None:
        self._resumes.pop(user_id, None)
        user = self.rt.state.get("user", user_id)
        winner = self.active(user, self.rt.clock.now().astimezone(timezone.utc)) if user is not None else None
        if user is not None and winner is not None:
            await self._apply(user, *winner)


def public(doc: dict[str, Any]) -> dict[str, Any]:
    """The seed's FuturePresence fields of a document."""
    keys = ("role", "note", "presenceId", "activity", "priority", "name", "busyType", "source", "modifiable",
            "deleted", "private", "dt-start", "dt-end", "tzid", "recur")
    return {k: doc[k] for k in keys if doc.get(k) is not None}
