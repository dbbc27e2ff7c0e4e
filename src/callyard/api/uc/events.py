"""Event (seed 003, 12 operations): scheduled meetings and conferences of a user under
``/api/event/{domain}/{userId}`` — the series (recurrence fields or an RFC 5545 ``rRule``), single occurrences
and exceptions (``/{confId}/{eventDate}``), joining and leaving the meeting's conference, its web meeting, and
the events of a (Moxtra) stream. The rules and the recurrence are the core's (``core/meetings/events.py``,
``recurrence.py`` on python-dateutil); each event is one of the core's conferences (pincode = access code), so
CloudLink's Media API shows the same conference and its attendances. A ticket with the USER API may use them.

The twin's addition: ``GET /api/event/{domain}/{userId}?from=…&to=…`` lists only the events with an
occurrence in that window, each with its expanded ``occurrences`` (exceptions applied)."""
from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from callyard.api.deps import CoreDep
from callyard.api.uc.edge import USER, UcCaller, caller_for
from callyard.api.uc.edge.errors import ERROR_RESPONSES, invalid
from callyard.api.uc.user_access import caller_any
from callyard.api.uc.user_schemas import ValidationResultOk
from callyard.core.meetings import recurrence as rec

router = APIRouter(prefix="/api/event", tags=["Event"], responses=ERROR_RESPONSES)
Caller = Annotated[UcCaller, Depends(caller_any(USER, user="userId"))]
OwnCaller = Annotated[UcCaller, Depends(caller_for(USER))]
EventId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The event's id")]
ConfId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The recurring event's id")]
EventDate = Annotated[str, Path(description="The date of the occurrence (yyyy-MM-dd) in the event's time zone",
                                max_length=10)]
OK: dict[str, Any] = {"field": [], "warning": [], "generated-id": ""}
Short = Annotated[str | None, Field(default=None, max_length=256)]


class Participant(BaseModel):
    """EventParticipantDTO (``email`` is the twin's addition: a user of the organisation is matched by it, by
    their extension as ``businessPhone`` or by their mobile number)."""
    model_config = ConfigDict(extra="forbid")
    firstName: Short
    lastName: Short
    businessPhone: Short
    mobilePhone: Short
    email: Short


class ExceptionOut(BaseModel):
    id: int | None = None
    dateTimeStart: str
    dateTimeEnd: str
    name: str
    note: str
    isUpdated: bool
    isCancelled: bool
    eventId: int
    organizer: Participant
    participants: list[Participant]
    dateTimeOld: str


class EventFields(BaseModel):
    """EventDTO as a request: the organizer is the path's user (a given ``organizer`` is not used), ``pincode``
    4 to 12 digits (else the conference's generated access code)."""
    model_config = ConfigDict(extra="forbid")
    id: int | None = None
    dateTimeStart: str = Field(max_length=40)
    dateTimeEnd: str = Field(max_length=40)
    endDate: str | None = Field(default=None, max_length=40)
    name: Short
    organizer: Participant | None = None
    participants: list[Participant] = Field(default_factory=list, max_length=200)
    minutesBeforeMeetingReminder: int | None = Field(default=None, ge=0, le=10080)
    minutesBeforeMeetingSMS: int | None = Field(default=None, ge=0, le=10080)
    pincode: str | None = Field(default=None, max_length=12)
    timeZone: str | None = Field(default=None, max_length=64)
    recurringType: Literal[rec.RECURRING_TYPES] | None = None  # type: ignore[valid-type]
    note: str | None = Field(default=None, max_length=4000)
    dialInNumbers: Short
    moxtraBinderId: Short
    moxtraMeetId: Short
    webmeetAllowed: bool | None = None
    interval: int | None = Field(default=None, ge=1, le=999)
    recurrenceRangeType: Literal[rec.RANGE_TYPES] | None = None  # type: ignore[valid-type]
    daysOfWeek: list[Literal[rec.DAYS]] | None = Field(default=None, max_length=7)  # type: ignore[valid-type]
    dayOfMonth: int | None = Field(default=None, ge=1, le=31)
    monthOfYear: int | None = Field(default=None, ge=1, le=12)
    weekPosition: Literal[tuple(rec.WEEK_POSITIONS)] | None = None  # type: ignore[valid-type]
    numberOfOccurrences: int | None = Field(default=None, ge=1, le=rec.COUNT_MAX)
    exceptions: list[dict[str, Any]] | None = Field(default=None, max_length=5000, description="Not changed through "
                                                    "this operation (use /{confId}/{eventDate}): accepted and ignored")
    synchronizedMeeting: bool | None = None
    synchronizedSeries: bool | None = None
    rRule: str | None = Field(default=None, max_length=512)


class EventOut(BaseModel):
    id: int
    dateTimeStart: str
    dateTimeEnd: str
    name: str
    organizer: Participant
    participants: list[Participant]
    minutesBeforeMeetingReminder: int
    minutesBeforeMeetingSMS: int
    pincode: str
    timeZone: str
    recurringType: str
    note: str
    dialInNumbers: str
    moxtraBinderId: str
    moxtraMeetId: str
    webmeetAllowed: bool
    interval: int | None = None
    recurrenceRangeType: str
    daysOfWeek: list[str] | None = None
    dayOfMonth: int | None = None
    monthOfYear: int | None = None
    weekPosition: str
    numberOfOccurrences: int | None = None
    endDate: str | None = None
    exceptions: list[ExceptionOut]
    synchronizedMeeting: bool
    synchronizedSeries: bool
    rRule: str | None = None
    conferenceId: str | None = Field(default=None, description="The twin's: the core conference of the meeting "
                                                               "(CloudLink /conferences/{conferenceId})")
    occurrences: list[ExceptionOut] | None = Field(default=None, description="The twin's: with from/to, the "
                                                                             "occurrences in that window")


class Events(BaseModel):
    events: list[EventOut]


class ExceptionFields(BaseModel):
    """An occurrence's change (eventexception)."""
    model_config = ConfigDict(extra="forbid")
    id: int | None = None
    dateTimeStart: str = Field(max_length=40)
    dateTimeEnd: str = Field(max_length=40)
    name: Short
    note: str | None = Field(default=None, max_length=4000)
    isUpdated: bool | None = None
    isCancelled: bool | None = None
    eventId: int | None = None
    organizer: Participant | None = None
    participants: list[Participant] | None = Field(default=None, max_length=200)
    dateTimeOld: str | None = Field(default=None, max_length=40)


class WebMeetData(BaseModel):
    id: str


class WebMeet(BaseModel):
    data: WebMeetData
    code: str


def _event(core: Any, event: dict[str, Any], occurrences: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    events = core.meeting_events
    conference = events.conference(event)
    out = {k: v for k, v in event.items() if k not in ("accountId", "organizerId", "createdOn", "createdBy",
                                                        "modifiedOn", "modifiedBy", "nextExceptionId",
                                                        "remindedUntil")}
    out.update(id=int(event["id"]), organizer=events.organizer(event),
               participants=[{k: v for k, v in p.items() if k != "userId"} for p in event["participants"]],
               pincode=conference["accessCode"] if conference else "",
               exceptions=[events.render_exception(event, e) for e in event.get("exceptions", [])])
    if occurrences is not None:
        out["occurrences"] = occurrences
    return out


def _fields(body: BaseModel) -> dict[str, Any]:
    return body.model_dump(exclude_none=True)


# The stream route and the literal sub-resources come first: their paths would match the templates below.
@router.get("/stream/{binder_id}/{unique_id}", response_model=Events, response_model_exclude_none=True,
            operation_id="getStreamEvents", summary="Fetch events for a (Moxtra) stream")
async def stream(who: OwnCaller, core: CoreDep,
                 binder_id: Annotated[str, Path(max_length=256, description="The stream's id (moxtraBinderId)")],
                 unique_id: Annotated[str, Path(max_length=256, description="An e-mail or mobile number")],
                 ) -> dict[str, Any]:
    viewer = None if who.grant.is_admin else str(who.caller["userId"])
    found = core.meeting_events.in_stream(who.account_id, binder_id, unique_id, viewer)
    return {"events": [_event(core, e) for e in found]}


@router.get("/{domain}/{userId}", response_model=Events, response_model_exclude_none=True,
            operation_id="getEvents", summary="Fetch events where the user is organizer or participant")
async def list_events(who: Caller, core: CoreDep,
                      start: Annotated[str | None, Query(alias="from", max_length=40,
                                                         description="The twin's: window start (ISO 8601)")] = None,
                      end: Annotated[str | None, Query(alias="to", max_length=40,
                                                       description="The twin's: window end (ISO 8601)")] = None,
                      ) -> dict[str, Any]:
    events = core.meeting_events.list(who.account_id, who.user["userId"])
    if start is None and end is None:
        return {"events": [_event(core, e) for e in events]}
    if start is None or end is None:
        invalid("to" if end is None else "from", "window.not.valid", "from and to are given together")
    low, high = rec.parse_instant(start, "from"), rec.parse_instant(end, "to")
    out = []
    for event in events:
        occurrences = core.meeting_events.occurrences(event, low, high)
        if occurrences:
            out.append(_event(core, event, occurrences))
    return {"events": out}


@router.post("/{domain}/{userId}", response_model=EventOut, response_model_exclude_none=True,
             operation_id="createEvent", summary="Schedule a new event")
async def create(body: EventFields, who: Caller, core: CoreDep) -> dict[str, Any]:
    event = await core.meeting_events.create(who.principal, who.account_id, who.user["userId"], _fields(body))
    return _event(core, event)


@router.get("/{domain}/{userId}/{eventId}/webmeet", response_model=WebMeet, operation_id="getWebMeet",
            summary="Get a web meeting")
async def webmeet(eventId: EventId, who: Caller, core: CoreDep) -> dict[str, Any]:
    event = core.meeting_events.event(who.account_id, who.user["userId"], eventId)
    if not event.get("webmeetAllowed"):
        invalid("eventId", "webmeet.not.allowed", "the event does not allow a web meeting", eventId)
    conference = core.meeting_events.conference(event) or {}
    return {"data": {"id": event.get("moxtraMeetId") or conference.get("externalId", "")},
            "code": "RESPONSE_SUCCESS"}


@router.post("/{domain}/{userId}/{eventId}/join", response_model=str, operation_id="joinEvent",
             summary="Join the event's conference (answers the connection id)")
async def join(eventId: EventId, who: Caller, core: CoreDep,
               selectedDeviceID: Annotated[str | None, Query(max_length=256)] = None,
               answerPlace: Annotated[str | None, Query(max_length=256, deprecated=True)] = None,
               sipInstance: Annotated[str | None, Query(max_length=256, deprecated=True)] = None,
               autoAnswer: Annotated[str | None, Query(max_length=16, deprecated=True)] = None) -> str:
    connected = await core.meeting_events.join(who.account_id, who.user["userId"], eventId)
    return str(connected["externalId"])


@router.post("/{domain}/{userId}/{eventId}/leave", response_model=ValidationResultOk, operation_id="leaveEvent",
             summary="Hang up the event's conference call")
async def leave(eventId: EventId, who: Caller, core: CoreDep,
                selectedDeviceID: Annotated[str | None, Query(max_length=256)] = None,
                answerPlace: Annotated[str | None, Query(max_length=256, deprecated=True)] = None,
                sipInstance: Annotated[str | None, Query(max_length=256, deprecated=True)] = None) -> dict[str, Any]:
    await core.meeting_events.leave(who.account_id, who.user["userId"], eventId)
    return OK


@router.get("/{domain}/{userId}/{eventId}", response_model=EventOut, response_model_exclude_none=True,
            operation_id="getEvent", summary="Fetch a specified event")
async def get_event(eventId: EventId, who: Caller, core: CoreDep) -> dict[str, Any]:
    return _event(core, core.meeting_events.event(who.account_id, who.user["userId"], eventId))


@router.put("/{domain}/{userId}/{eventId}", response_model=EventOut, response_model_exclude_none=True,
            operation_id="updateEvent", summary="Update an event (replaces its schedule and details)")
async def update(eventId: EventId, body: EventFields, who: Caller, core: CoreDep) -> dict[str, Any]:
    event = await core.meeting_events.update(who.principal, who.account_id, who.user["userId"], eventId,
                                             _fields(body))
    return _event(core, event)


@router.delete("/{domain}/{userId}/{eventId}", response_model=ValidationResultOk, operation_id="deleteEvent",
               summary="Remove a specified event (and its conference)")
async def delete(eventId: EventId, who: Caller, core: CoreDep) -> dict[str, Any]:
    await core.meeting_events.delete(who.principal, who.account_id, who.user["userId"], eventId)
    return OK


@router.get("/{domain}/{userId}/{confId}/{eventDate}", response_model=ExceptionOut, response_model_exclude_none=True,
            operation_id="getEventInstance", summary="Get a single occurrence or exception of a recurring event")
async def get_instance(confId: ConfId, eventDate: EventDate, who: Caller, core: CoreDep) -> dict[str, Any]:
    return core.meeting_events.instance(who.account_id, who.user["userId"], confId, eventDate)  # type: ignore[no-any-return]


@router.put("/{domain}/{userId}/{confId}/{eventDate}", response_model=ExceptionOut,
            response_model_exclude_none=True, operation_id="updateEventInstance",
            summary="Modify a single occurrence or exception of a recurring event")
async def change_instance(confId: ConfId, eventDate: EventDate, body: ExceptionFields, who: Caller,
                          core: CoreDep) -> dict[str, Any]:
    return await core.meeting_events.change_instance(  # type: ignore[no-any-return]
        who.principal, who.account_id, who.user["userId"], confId, eventDate, _fields(body))


@router.delete("/{domain}/{userId}/{confId}/{eventDate}", response_model=ExceptionOut,
               response_model_exclude_none=True, operation_id="cancelEventInstance",
               summary="Remove (cancel) a single occurrence of a recurring event")
async def cancel_instance(confId: ConfId, eventDate: EventDate, who: Caller, core: CoreDep) -> dict[str, Any]:
    return await core.meeting_events.cancel_instance(  # type: ignore[no-any-return]
        who.principal, who.account_id, who.user["userId"], confId, eventDate)
