"""Scheduled meetings (the UC Event API's events): a schedule — start, end, time zone, recurrence, exceptions —
over one of the core's conferences (``core/meetings/service.py``), so the event's ``pincode`` is the
conference's access code and joining a meeting is joining that conference: CloudLink's Media API lists the
same conference, participants and attendances.

Document ``meeting_event`` (id field ``id``, an int64 as the seed shows — ten digits —, unique in the
twin): ``{id, accountId,
organizerId, conferenceId, name, note, dateTimeStart, dateTimeEnd, timeZone, recurringType, interval,
recurrenceRangeType, endDate?, numberOfOccurrences?, daysOfWeek, dayOfMonth?, monthOfYear?, weekPosition,
rRule?, participants: [{firstName, lastName, businessPhone, mobilePhone, email?, userId?}],
minutesBeforeMeetingReminder, minutesBeforeMeetingSMS, dialInNumbers, moxtraBinderId, moxtraMeetId,
webmeetAllowed, synchronizedMeeting, synchronizedSeries, exceptions: [{id, dateTimeOld, dateTimeStart,
dateTimeEnd, name?, note?, participants?, isUpdated, isCancelled}], nextExceptionId, createdOn, modifiedOn}``.

A participant who is a user of the organisation (by ``email``, their extension as ``businessPhone``, or their
mobile number) is also a participant of the conference (invited) and sees the event in their list; others are
kept on the event only. The organizer (the user the path names) owns the conference. Recurrence: see
``recurrence.py`` (python-dateutil's RFC 5545 rrule).

Access: the organizer (and the organisation's administrators acting for them) change the event; its
participants read it and join or leave its conference; anyone else gets 404 (another organisation's ids too).
"""
from __future__ import annotations

import builtins
import copy
from datetime import date, datetime, timedelta
from typing import Any

from callyard.core.auth.tickets import principal_of
from callyard.core.errors import Conflict, Forbidden, Invalid, NotFound
from callyard.core.meetings import recurrence as rec
from callyard.core.meetings.service import Meetings, participant_key
from callyard.core.principal import Principal
from callyard.core.runtime import Runtime

KIND = "meeting_event"
TEXT_MAX = 256
NOTE_MAX = 4000
PARTICIPANTS_MAX = 200
DURATION_MAX = timedelta(days=31)
WINDOW_MAX = timedelta(days=3 * 366)
SCHEDULE_FIELDS = ("recurringType", "interval", "recurrenceRangeType", "endDate", "numberOfOccurrences",
                   "daysOfWeek", "dayOfMonth", "monthOfYear", "weekPosition")
FLAGS = ("webmeetAllowed", "synchronizedMeeting", "synchronizedSeries")
TEXTS = {"name": TEXT_MAX, "note": NOTE_MAX, "dialInNumbers": TEXT_MAX, "moxtraBinderId": TEXT_MAX,
         "moxtraMeetId": TEXT_MAX}
PARTICIPANT_FIELDS = ("firstName", "lastName", "businessPhone", "mobilePhone", "email")
DEFAULT_ZONE = "UTC"


REMINDER_SWEEP_SECONDS = 60.0
REMINDER_LOOKBACK = timedelta(days=2)   # reminders due longer ago than this (the twin was down) are not sent


class MeetingEvents:
    def __init__(self, runtime: Runtime, meetings: Meetings) -> None:
        self.rt = runtime
        self.meetings = meetings

    # ------------------------------------------------------------------ SMS reminders
    def keep_reminding(self, scheduler: Any, sms: Any) -> None:
        """Every minute of the twin's clock, send the SMS reminders that fell due (``minutesBeforeMeetingSMS``
        before an occurrence, to each participant with a mobile number) into the SMS outbox. Call again after
        the scheduler was cleared (a reset)."""
        async def sweep() -> None:
            try:
                await self.send_reminders(sms)
            finally:
                scheduler.after(REMINDER_SWEEP_SECONDS, sweep, "meeting SMS reminders")
        scheduler.after(REMINDER_SWEEP_SECONDS, sweep, "meeting SMS reminders")

    async def send_reminders(self, sms: Any) -> int:
        """Send the reminders due since each event's watermark (``remindedUntil``); returns how many."""
        now = self.rt.clock.now()
        sent = 0
        for event in builtins.list(self.rt.state.all(KIND)):
            minutes = event.get("minutesBeforeMeetingSMS") or 0
            if minutes <= 0 or self.rt.state.get(KIND, event["id"]) is None:
                continue
            lead = timedelta(minutes=minutes)
            since = max(rec.parse_instant(event.get("remindedUntil") or event["createdOn"], "remindedUntil"),
                        now - REMINDER_LOOKBACK)
            if now <= since:
                continue
            due = [o for o in self.occurrences(event, since + lead, now + lead)
                   if since < rec.parse_instant(o["dateTimeStart"], "dateTimeStart") - lead <= now]
            if not due:
                continue
            organizer = self.rt.state.get("user", event["organizerId"]) or {}
            conference = self.conference(event)
            for occurrence in due:
                for person in occurrence["participants"]:
                    number = person.get("mobilePhone")
                    if not number:
                        continue
                    text = (f"Reminder: {occurrence['name'] or 'meeting'} starts at {occurrence['dateTimeStart']}"
                            + (f", pincode {conference['accessCode']}" if conference else "")
                            + (f", dial in {event['dialInNumbers']}" if event.get("dialInNumbers") else ""))
                    try:
                        await sms.send(event["accountId"], sender=sms.sender_number(organizer) if organizer else "",
                                       to=number, text=text, source="uc", user_id=event["organizerId"],
                                       extra={"reason": "meetingReminder", "eventId": int(event["id"]),
                                              "occurrence": occurrence["dateTimeStart"]})
                        sent += 1
                    except Invalid:
                        continue   # a participant's number that is not one: nothing to send to
            async with self.rt.write() as uow:
                if self.rt.state.get(KIND, event["id"]) is not None:
                    uow.update(KIND, event["id"], remindedUntil=rec.iso_z(now))
        return sent

    # ------------------------------------------------------------------ look-ups
    def _user(self, account_id: str, user_id: str) -> dict[str, Any]:
        user = self.rt.state.get("user", user_id)
        if user is None or user["accountId"] != account_id:
            raise NotFound("user.does.not.exist", "no such user", field="userId", value=user_id)
        return user

    def _attends(self, event: dict[str, Any], user_id: str) -> bool:
        return event["organizerId"] == user_id or any(p.get("userId") == user_id for p in event["participants"])

    def event(self, account_id: str, user_id: str, event_id: Any) -> dict[str, Any]:
        """The event ``user_id`` organizes or attends (404 otherwise, another organisation's too)."""
        found = self.rt.state.get(KIND, str(event_id))
        if found is None or found["accountId"] != account_id or not self._attends(found, user_id):
            raise NotFound("event.does.not.exist", f"the user has no event {event_id}", field="eventId",
                           value=str(event_id))
        return found

    def _organized(self, account_id: str, user_id: str, event_id: Any) -> dict[str, Any]:
        found = self.event(account_id, user_id, event_id)
        if found["organizerId"] != user_id:
            raise Forbidden("event.organizer.only", "only the organizer changes the event", field="userId",
                            value=user_id)
        return found

    def list(self, account_id: str, user_id: str) -> list[dict[str, Any]]:
        found = [e for e in self.rt.state.all(KIND) if e["accountId"] == account_id and self._attends(e, user_id)]
        return sorted(found, key=lambda e: (e["dateTimeStart"], int(e["id"])))

    def in_stream(self, account_id: str, binder_id: str, unique_id: str,
                  viewer_id: str | None) -> builtins.list[dict[str, Any]]:
        """The events of a (Moxtra) stream that the person ``unique_id`` (e-mail or mobile number) attends, among
        those the viewer (a user id; None: an administrator, every event of the account) organizes or attends."""
        wanted = unique_id.strip().lower()
        found = []
        for event in self.rt.state.all(KIND):
            if event["accountId"] != account_id or event.get("moxtraBinderId") != binder_id:
                continue
            if viewer_id is not None and not self._attends(event, viewer_id):
                continue
            people = [self.organizer(event), *event["participants"]]
            if any(wanted in (str(p.get("email") or "").lower(), str(p.get("mobilePhone") or "").lower())
                   for p in people):
                found.append(event)
        return sorted(found, key=lambda e: (e["dateTimeStart"], int(e["id"])))

    def organizer(self, event: dict[str, Any]) -> dict[str, Any]:
        user = self.rt.state.get("user", event["organizerId"]) or {}
        return _person(user)

    def conference(self, event: dict[str, Any]) -> dict[str, Any] | None:
        return self.rt.state.get("conference", event["conferenceId"])

    # ------------------------------------------------------------------ recurrence
    def rule(self, event: dict[str, Any]) -> tuple[Any, datetime, Any]:
        tz = rec.zone(event["timeZone"])
        start = rec.parse_instant(event["dateTimeStart"], "dateTimeStart")
        return rec.series(event.get("rRule"), start, tz), start, tz

    def occurrences(self, event: dict[str, Any], window_start: datetime,
                    window_end: datetime) -> builtins.list[dict[str, Any]]:
        """The event's occurrences that start in ``[window_start, window_end)``, exceptions applied (a cancelled
        one is left out; a modified one is where it was moved to), oldest first."""
        if window_end <= window_start or window_end - window_start > WINDOW_MAX:
            raise Invalid("window.not.valid", "the window ends after it starts and spans at most three years",
                          field="to")
        rule, start, tz = self.rule(event)
        duration = rec.parse_instant(event["dateTimeEnd"], "dateTimeEnd") - start
        moved = {e["dateTimeOld"]: e for e in event.get("exceptions", [])}
        out: builtins.list[dict[str, Any]] = []
        for original in rec.starts(rule, start, tz, window_start, window_end):
            if rec.iso_z(original) in moved:
                continue
            out.append(self._occurrence(event, original, original, original + duration))
        for exception in event.get("exceptions", []):
            if exception["isCancelled"]:
                continue
            begin = rec.parse_instant(exception["dateTimeStart"], "dateTimeStart")
            if window_start <= begin < window_end:
                out.append(self.render_exception(event, exception))
        out.sort(key=lambda o: o["dateTimeStart"])
        return out[:rec.EXPANSION_MAX]

    def _occurrence(self, event: dict[str, Any], original: datetime, begin: datetime,
                    end: datetime) -> dict[str, Any]:
        return {"dateTimeStart": rec.iso_z(begin), "dateTimeEnd": rec.iso_z(end), "name": event.get("name", ""),
                "note": event.get("note", ""), "isUpdated": False, "isCancelled": False, "eventId": int(event["id"]),
                "organizer": self.organizer(event), "participants": [_public(p) for p in event["participants"]],
                "dateTimeOld": rec.iso_z(original)}

    def render_exception(self, event: dict[str, Any], exception: dict[str, Any]) -> dict[str, Any]:
        participants = exception.get("participants")
        return {"id": exception["id"], "dateTimeStart": exception["dateTimeStart"],
                "dateTimeEnd": exception["dateTimeEnd"], "name": exception.get("name", event.get("name", "")),
                "note": exception.get("note", event.get("note", "")), "isUpdated": exception["isUpdated"],
                "isCancelled": exception["isCancelled"], "eventId": int(event["id"]),
                "organizer": self.organizer(event),
                "participants": [_public(p) for p in (participants if participants is not None
                                                      else event["participants"])],
                "dateTimeOld": exception["dateTimeOld"]}

    def instance(self, account_id: str, user_id: str, event_id: Any, day: Any) -> dict[str, Any]:
        """The occurrence (or its exception) of the series on local date ``day`` (``yyyy-MM-dd``)."""
        event = self.event(account_id, user_id, event_id)
        original = self._original(event, day)
        exception = next((e for e in event.get("exceptions", []) if e["dateTimeOld"] == rec.iso_z(original)), None)
        if exception is not None:
            return self.render_exception(event, exception)
        _rule, start, _tz = self.rule(event)
        duration = rec.parse_instant(event["dateTimeEnd"], "dateTimeEnd") - start
        return self._occurrence(event, original, original, original + duration)

    def _original(self, event: dict[str, Any], day: Any) -> datetime:
        try:
            wanted = date.fromisoformat(day) if isinstance(day, str) and len(day) == 10 else None
        except ValueError:
            wanted = None
        if wanted is None:
            raise Invalid("eventDate.not.valid", "eventDate is a date (yyyy-MM-dd)", field="eventDate", value=str(day))
        rule, start, tz = self.rule(event)
        found = rec.on_date(rule, start, tz, wanted)
        if found is None:
            raise NotFound("event.occurrence.does.not.exist", f"event {event['id']} has no occurrence on {day}",
                           field="eventDate", value=str(day))
        return found

    # ------------------------------------------------------------------ writes
    async def create(self, actor: Principal, account_id: str, organizer_id: str,
                     fields: dict[str, Any]) -> dict[str, Any]:
        organizer = self._user(account_id, organizer_id)
        values = self._validated(account_id, fields)
        pincode = _pincode(fields.get("pincode"))
        conference = await self.meetings.create_conference(principal_of(organizer), {
            "name": values.get("name") or "Meeting", "type": "inviteOnly",
            "participants": [{"participantId": uid} for uid in _users(values["participants"])]})
        try:
            async with self.rt.write() as uow:
                if pincode is not None:
                    self._take_code(uow, account_id, conference, pincode)
                event_id = self._new_id()
                now = self.rt.now_iso()
                event = {"id": str(event_id), "accountId": account_id, "organizerId": organizer_id,
                         "conferenceId": conference["id"], **values, "exceptions": [], "nextExceptionId": 1,
                         "createdOn": now, "createdBy": actor.principal_id, "modifiedOn": now,
                         "modifiedBy": actor.principal_id}
                uow.put(KIND, event["id"], event)
                uow.emit("meetingEvent.created", account_id, f"/events/{event_id}", _public_event(event), now)
        except BaseException:
            await self.meetings.delete_conference(principal_of(organizer), conference["id"])
            raise
        return event

    async def update(self, actor: Principal, account_id: str, organizer_id: str, event_id: Any,
                     fields: dict[str, Any]) -> dict[str, Any]:
        """Replace the event's schedule and details; exceptions of occurrences the new series no longer has
        are dropped. The conference's name and invitees follow."""
        current = self._organized(account_id, organizer_id, event_id)
        if fields.get("id") not in (None, int(current["id"]), current["id"]):
            raise Invalid("id.not.valid", "the id of the body must be the path's", field="id", value=str(fields["id"]))
        values = self._validated(account_id, fields)
        pincode = _pincode(fields.get("pincode"))
        organizer = principal_of(self._user(account_id, organizer_id))
        await self._sync_conference(organizer, current, values)
        async with self.rt.write() as uow:
            conference = self.conference(current)
            if pincode is not None and conference is not None and pincode != conference["accessCode"]:
                self._take_code(uow, account_id, conference, pincode)
            kept = ("id", "accountId", "organizerId", "conferenceId", "createdOn", "createdBy", "nextExceptionId",
                    "remindedUntil")
            event: dict[str, Any] = {k: current[k] for k in kept if k in current}
            event.update(values)
            event["exceptions"] = self._kept_exceptions(event, current.get("exceptions", []))
            event.update(modifiedOn=self.rt.now_iso(), modifiedBy=actor.principal_id)
            uow.put(KIND, event["id"], event)
            uow.emit("meetingEvent.updated", account_id, f"/events/{event['id']}", _public_event(event),
                     self.rt.now_iso())
        return event

    async def delete(self, actor: Principal, account_id: str, organizer_id: str, event_id: Any) -> dict[str, Any]:
        """Remove the event and its conference (a meeting in progress ends)."""
        event = self._organized(account_id, organizer_id, event_id)
        if self.conference(event) is not None:
            await self.meetings.delete_conference(principal_of(self._user(account_id, organizer_id)),
                                                  event["conferenceId"])
        async with self.rt.write() as uow:
            uow.delete(KIND, event["id"])
            uow.emit("meetingEvent.deleted", account_id, f"/events/{event['id']}", None, self.rt.now_iso())
        return event

    async def change_instance(self, actor: Principal, account_id: str, organizer_id: str, event_id: Any, day: Any,
                              fields: dict[str, Any]) -> dict[str, Any]:
        """Modify one occurrence (``dateTimeStart`` and ``dateTimeEnd`` required): it becomes an exception."""
        event = self._organized(account_id, organizer_id, event_id)
        original = rec.iso_z(self._original(event, day))
        begin = rec.parse_instant(fields.get("dateTimeStart"), "dateTimeStart")
        end = rec.parse_instant(fields.get("dateTimeEnd"), "dateTimeEnd")
        if not begin < end <= begin + DURATION_MAX:
            raise Invalid("dateTimeEnd.not.valid", "an occurrence ends after it starts, within 31 days",
                          field="dateTimeEnd", value=str(fields.get("dateTimeEnd")))
        cancelled = fields.get("isCancelled", False)
        if not isinstance(cancelled, bool):
            raise Invalid("isCancelled.not.valid", "isCancelled is a boolean", field="isCancelled",
                          value=str(cancelled))
        changes: dict[str, Any] = {"dateTimeStart": rec.iso_z(begin), "dateTimeEnd": rec.iso_z(end),
                                   "isUpdated": True, "isCancelled": cancelled}
        for name in ("name", "note"):
            if fields.get(name) is not None:
                changes[name] = _text(fields[name], name, TEXTS[name])
        if fields.get("participants") is not None:
            changes["participants"] = self._participants(account_id, fields["participants"])
        return await self._put_exception(actor, event, original, changes)

    async def cancel_instance(self, actor: Principal, account_id: str, organizer_id: str, event_id: Any,
                              day: Any) -> dict[str, Any]:
        event = self._organized(account_id, organizer_id, event_id)
        original_at = self._original(event, day)
        original = rec.iso_z(original_at)
        existing = next((e for e in event.get("exceptions", []) if e["dateTimeOld"] == original), None)
        if existing is not None and existing["isCancelled"]:
            raise Conflict("event.occurrence.already.cancelled", f"the occurrence on {day} is already cancelled",
                           field="eventDate", value=str(day))
        _rule, start, _tz = self.rule(event)
        duration = rec.parse_instant(event["dateTimeEnd"], "dateTimeEnd") - start
        changes: dict[str, Any] = {"isUpdated": False, "isCancelled": True}
        if existing is None:
            changes.update(dateTimeStart=original, dateTimeEnd=rec.iso_z(original_at + duration))
        return await self._put_exception(actor, event, original, changes)

    async def _put_exception(self, actor: Principal, event: dict[str, Any], original: str,
                             changes: dict[str, Any]) -> dict[str, Any]:
        async with self.rt.write() as uow:
            current = self.rt.state.get(KIND, event["id"])
            if current is None:
                raise NotFound("event.does.not.exist", "the event was removed", field="eventId", value=event["id"])
            exceptions = copy.deepcopy(current.get("exceptions", []))
            exception = next((e for e in exceptions if e["dateTimeOld"] == original), None)
            next_id = current.get("nextExceptionId", 1)
            if exception is None:
                exception = {"id": next_id, "dateTimeOld": original}
                exceptions.append(exception)
                next_id += 1
            exception.update(changes)
            exceptions.sort(key=lambda e: e["dateTimeOld"])
            updated = uow.update(KIND, event["id"], exceptions=exceptions, nextExceptionId=next_id,
                                 modifiedOn=self.rt.now_iso(), modifiedBy=actor.principal_id)
            uow.emit("meetingEvent.updated", updated["accountId"], f"/events/{updated['id']}",
                     _public_event(updated), self.rt.now_iso())
        return self.render_exception(updated, exception)

    def _new_id(self) -> str:
        """A fresh int64 id (ten digits: never mistaken for another document's short id in a snapshot)."""
        while True:
            event_id = self.rt.ids.digits(10)
            if self.rt.state.get(KIND, event_id) is None:
                return event_id

    # ------------------------------------------------------------------ joining
    async def join(self, account_id: str, user_id: str, event_id: Any) -> dict[str, Any]:
        """The user joins the event's conference (the same as CloudLink's connect): they become an active
        participant and an attendance opens."""
        event = self.event(account_id, user_id, event_id)
        if self.conference(event) is None:
            raise Conflict("event.conference.gone", "the event's conference no longer exists", field="eventId",
                           value=str(event_id))
        user = self._user(account_id, user_id)
        return await self.meetings.connect(principal_of(user), event["conferenceId"], "me")

    async def leave(self, account_id: str, user_id: str, event_id: Any) -> dict[str, Any]:
        event = self.event(account_id, user_id, event_id)
        participant = self.rt.state.get("participant", participant_key(event["conferenceId"], user_id))
        if participant is None or participant["state"] != "active":
            raise Conflict("event.not.joined", "the user is not connected to the event's conference", field="eventId",
                           value=str(event_id))
        user = self._user(account_id, user_id)
        return await self.meetings.update_participant(principal_of(user), event["conferenceId"], "me",
                                                      {"action": "leave"})

    # ------------------------------------------------------------------ helpers
    def _validated(self, account_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        tz_name = fields.get("timeZone") or DEFAULT_ZONE
        tz = rec.zone(tz_name)
        start = rec.parse_instant(fields.get("dateTimeStart"), "dateTimeStart")
        end = rec.parse_instant(fields.get("dateTimeEnd"), "dateTimeEnd")
        if not start < end <= start + DURATION_MAX:
            raise Invalid("dateTimeEnd.not.valid", "an event ends after it starts, within 31 days", field="dateTimeEnd",
                          value=str(fields.get("dateTimeEnd")))
        values: dict[str, Any] = {"dateTimeStart": rec.iso_z(start), "dateTimeEnd": rec.iso_z(end),
                                  "timeZone": tz_name}
        for name, limit in TEXTS.items():
            values[name] = _text(fields.get(name), name, limit) if fields.get(name) is not None else ""
        for name in FLAGS:
            value = fields.get(name, False) if fields.get(name) is not None else False
            if not isinstance(value, bool):
                raise Invalid(f"{name}.not.valid", f"{name} is a boolean", field=name, value=str(value))
            values[name] = value
        for name in ("minutesBeforeMeetingReminder", "minutesBeforeMeetingSMS"):
            value = fields.get(name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int)
                                      or not 0 <= value <= 7 * 24 * 60):
                raise Invalid(f"{name}.not.valid", f"{name} is a whole number of minutes up to a week", field=name,
                              value=str(value))
            values[name] = value if value is not None else 0
        explicit = fields.get("rRule")
        derived = rec.rule_text(fields, start, tz)
        text = explicit if isinstance(explicit, str) and explicit.strip() else derived
        rule = rec.series(text, start, tz)
        if rule is not None and not rec.starts(rule, start, tz, start - timedelta(days=1),
                                               start + timedelta(days=3660), limit=1):
            raise Invalid("rRule.not.valid", "the recurrence has no occurrence", field="rRule", value=str(text)[:64])
        values["rRule"] = text
        values["recurringType"] = fields.get("recurringType") or _kind_of(text)
        for name in SCHEDULE_FIELDS[1:]:
            if fields.get(name) is not None:
                values[name] = fields[name]
        values.setdefault("recurrenceRangeType", "NONE")
        values.setdefault("weekPosition", "NONE")
        values["participants"] = self._participants(account_id, fields.get("participants") or [])
        return values

    def _participants(self, account_id: str, items: Any) -> builtins.list[dict[str, Any]]:
        if not isinstance(items, list) or len(items) > PARTICIPANTS_MAX:
            raise Invalid("participants.not.valid", f"participants is a list of at most {PARTICIPANTS_MAX}",
                          field="participants")
        people: builtins.list[dict[str, Any]] = []
        for index, item in enumerate(items):
            if not isinstance(item, dict):
                raise Invalid("participants.not.valid", f"participants[{index}] is an EventParticipantDTO",
                              field=f"participants[{index}]")
            person = {name: _text(item.get(name), f"participants[{index}].{name}", TEXT_MAX)
                      for name in PARTICIPANT_FIELDS if item.get(name) is not None}
            user = self._match(account_id, person)
            if user is not None:
                person["userId"] = user["userId"]
            people.append(person)
        return people

    def _match(self, account_id: str, person: dict[str, Any]) -> dict[str, Any] | None:
        email = str(person.get("email") or "").lower()
        business, mobile = person.get("businessPhone"), person.get("mobilePhone")
        for user in self.rt.state.all("user"):
            if user["accountId"] != account_id or not user.get("active", True):
                continue
            if (email and str(user.get("email", "")).lower() == email) or \
                    (business and business == user.get("extension")) or (mobile and mobile == user.get("mobile")):
                return user
        return None

    async def _sync_conference(self, organizer: Principal, event: dict[str, Any], values: dict[str, Any]) -> None:
        conference = self.conference(event)
        if conference is None:
            return
        if values.get("name") and values["name"] != conference.get("name"):
            await self.meetings.update_conference(organizer, conference["id"], {"name": values["name"]})
        wanted = set(_users(values["participants"])) - {event["organizerId"]}
        present = {p["participantId"] for p in self.meetings.roster(conference)} - {conference["createdBy"]}
        for user_id in sorted(wanted - present):
            await self.meetings.add_participant(organizer, conference["id"], {"participantId": user_id})
        for user_id in sorted(present - wanted):
            await self.meetings.remove_participant(organizer, conference["id"], user_id)

    def _take_code(self, uow: Any, account_id: str, conference: dict[str, Any], pincode: str) -> None:
        if any(c["accessCode"] == pincode and c["id"] != conference["id"] for c in self.rt.state.all("conference")
               if c["accountId"] == account_id):
            raise Conflict("pincode.already.used", "another conference of the organisation has this pincode",
                           field="pincode", value=pincode)
        uow.update("conference", conference["id"], accessCode=pincode, accessCodeLength=len(pincode))

    def _kept_exceptions(self, event: dict[str, Any],
                         exceptions: builtins.list[dict[str, Any]]) -> builtins.list[dict[str, Any]]:
        rule, start, tz = self.rule(event)
        kept = []
        for exception in exceptions:
            original = rec.parse_instant(exception["dateTimeOld"], "dateTimeOld")
            if rec.starts(rule, start, tz, original, original + timedelta(seconds=1), limit=1):
                kept.append(exception)
        return kept


def _text(value: Any, field: str, limit: int) -> str:
    if not isinstance(value, str):
        raise Invalid(f"{field}.not.valid", f"{field} is a string", field=field, value=str(value)[:64])
    if len(value) > limit:
        raise Invalid(f"{field}.too.long", f"{field} is at most {limit} characters", field=field, value=value[:64])
    return value


def _pincode(value: Any) -> str | None:
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.isdigit() or not 4 <= len(value) <= 12:
        raise Invalid("pincode.not.valid", "pincode is 4 to 12 digits", field="pincode", value=str(value)[:16])
    return value


def _users(participants: list[dict[str, Any]]) -> list[str]:
    seen: list[str] = []
    for person in participants:
        if person.get("userId") and person["userId"] not in seen:
            seen.append(person["userId"])
    return seen


def _kind_of(text: str | None) -> str:
    if not text:
        return "NONE"
    for part in text.upper().removeprefix("RRULE:").split(";"):
        if part.startswith("FREQ="):
            freq = part[5:]
            return freq if freq in ("DAILY", "WEEKLY", "MONTHLY", "YEARLY") else "NONE"
    return "NONE"


def _person(user: dict[str, Any]) -> dict[str, Any]:
    first = user.get("firstName") or (str(user.get("name", "")).split(" ")[0] if user.get("name") else "")
    last = user.get("lastName") or " ".join(str(user.get("name", "")).split(" ")[1:])
    return {"firstName": first, "lastName": last, "businessPhone": user.get("extension") or "",
            "mobilePhone": user.get("mobile") or ""}


def _public(person: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in person.items() if k != "userId"}


def _public_event(event: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(event)
