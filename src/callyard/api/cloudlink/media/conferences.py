"""Media API: conferences, participants, attendances and content search (swagger tags Conference and
Participant).

Request bodies are pydantic models mirroring the swagger's request definitions (unknown properties and
wrong types are a 400 at the edge); the rules live in ``core.meetings``; this module only translates and
renders the core's documents in the swagger's ``conference``, ``participant``, ``participantConnection``,
``userAttendance`` and ``contentResultCollection`` shapes.
"""
from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict

from callyard.api.cloudlink.edge import BASE_PATH
from callyard.api.cloudlink.edge.odata import collection, query_string
from callyard.api.common.errors import ERROR_RESPONSES
from callyard.api.common.security import principal
from callyard.api.deps import MeetingsDep
from callyard.core.meetings.service import Meetings
from callyard.core.errors import Invalid
from callyard.core.principal import Principal
from callyard.api.cloudlink.edge.hosts import arrived_path

router = APIRouter(tags=["media"], responses=ERROR_RESPONSES)

BASE = BASE_PATH
# The twin's conference bridge: every conference is reachable by dialling this number and entering the
# access code (there is no PSTN side yet; the number is for display in meeting invitations and is not one of
# the demo tenant's PBX DIDs).
DIAL_IN = "+16135550177"
TURN_PORT = 3478
CONFERENCE_FIELDS = ("id", "externalId", "accountId", "name", "visibility", "accessCode", "createdBy", "createdOn",
                     "modifiedBy", "modifiedOn", "state", "type", "lobbyPolicy")
PARTICIPANT_FIELDS = ("participantId", "state", "type", "externalId", "onetimeAcceptance")
ATTENDANCE_FIELDS = ("id", "participantId", "conferenceId", "conferenceInstanceId", "accountId", "joinTimeStamp",
                     "leaveTimeStamp")

ConferenceType = Literal["everyoneAllowed", "inviteOnly"]
LobbyPolicy = Literal["pstnLobby", "guestLobby", "nonOwnerLobby", "noLobby"]


# ---------------------------------------------------------------------------- request bodies
class Strict(BaseModel):
    # The swagger's request definitions say additionalProperties: false; strict: no "9" for a number.
    model_config = ConfigDict(extra="forbid", strict=True)


class ParticipantRef(Strict):
    """postConferenceParticipantRequest"""
    participantId: str


class ConferenceCreate(Strict):
    """postConferenceRequest"""
    id: str | None = None
    name: str | None = None
    type: ConferenceType | None = None
    lobbyPolicy: LobbyPolicy | None = None
    accessCodeLength: float | None = None
    expiryDateTime: str | None = None
    participants: list[ParticipantRef] | None = None


class ConferenceAction(Strict):
    """postConferenceByIdRequest"""
    action: Literal["end", "record", "stop-record", "pause-record", "resume-record"] | None = None


class ConferenceUpdate(Strict):
    """updateConferenceRequest"""
    name: str | None = None
    lobbyPolicy: LobbyPolicy | None = None


class ParticipantUpdate(Strict):
    """updateConferenceParticipantRequest"""
    associatedParticipantId: str | None = None
    muted: bool | None = None
    action: Literal["leave"] | None = None
    onetimeAcceptance: bool | None = None


def _fields(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(exclude_unset=True)


# ---------------------------------------------------------------------------- rendering
def conference_path(conference_id: str) -> str:
    return f"{BASE}/conferences/{conference_id}"


def participant_wire(participant: dict[str, Any]) -> dict[str, Any]:
    out = {k: participant[k] for k in PARTICIPANT_FIELDS if participant.get(k) is not None}
    path = f"{conference_path(participant['conferenceId'])}/participants/{participant['participantId']}"
    out["_links"] = {"self": path}
    return out


def participant_collection(conference: dict[str, Any], roster: list[dict[str, Any]]) -> dict[str, Any]:
    items = [participant_wire(p) for p in roster]
    return {"count": len(items), "_links": {"self": f"{conference_path(conference['id'])}/participants"},
            "_embedded": {"items": items}}


def address_collection(_conference: dict[str, Any]) -> dict[str, Any]:
    items = [{"type": "pstn", "description": "Internal", "url": f"tel:{DIAL_IN}", "country": "CA",
              "city": "Ottawa", "tollFree": False}]
    return {"count": len(items), "_embedded": {"items": items}}


def tag_collection(conference: dict[str, Any]) -> dict[str, Any]:
    items = [{"id": tag_id, "conferenceId": conference["id"], "accountId": conference["accountId"], **tag}
             for tag_id, tag in sorted((conference.get("tags") or {}).items())]
    return {"count": len(items), "_links": {"self": f"{conference_path(conference['id'])}/tags"},
            "_embedded": {"items": items}}


def conference_wire(conference: dict[str, Any], roster: list[dict[str, Any]], tags: bool = False) -> dict[str, Any]:
    out = {k: conference[k] for k in CONFERENCE_FIELDS if conference.get(k) is not None}
    path = conference_path(conference["id"])
    out["_links"] = {"self": path, "participants": f"{path}/participants"}
    out["_embedded"] = {"participants": participant_collection(conference, roster),
                        "addresses": address_collection(conference)}
    if tags:
        out["_embedded"]["tags"] = tag_collection(conference)
    return out


def attendance_wire(attendance: dict[str, Any], conference: dict[str, Any] | None,
                    embedded: dict[str, Any] | None) -> dict[str, Any]:
    out = {k: attendance[k] for k in ATTENDANCE_FIELDS if attendance.get(k) is not None}
    if conference is not None:
        out["_links"] = {"conference": conference_path(conference["id"])}
    if embedded is not None:
        out["_embedded"] = {"conference": embedded}
    return out


def content_wire(result: dict[str, Any]) -> dict[str, Any]:
    conference = conference_path(result["conferenceId"])
    location = {"conference": conference,
                "participant": f"{conference}/participants/{result.get('participantId')}",
                "recording": f"{BASE}/recordings/{result.get('recordingId')}"}[result["type"]]
    return {"content": result["content"], "location": location, "type": result["type"],
            "_links": {"conference": conference}}


def connection_wire(connection: dict[str, Any], request: Request) -> dict[str, Any]:
    # The media, signalling and TURN URLs name this server but are NOT served: the twin has no media path.
    # They are well-formed so clients can parse them and store them.
    secure = request.url.scheme == "https"
    host = request.url.netloc
    root = f"{'wss' if secure else 'ws'}://{host}/_callyard/conferences/{connection['conferenceId']}"
    query = urlencode({"participantId": connection["participantId"]})
    return {"token": connection["token"], "mediaUrl": f"{root}/media?{query}",
            "signalingUrl": f"{root}/signaling?{query}",
            "turnUrl": f"turn:{request.url.hostname}:{TURN_PORT}?transport=udp",
            "externalId": connection["externalId"], "externalConferenceId": connection["externalConferenceId"]}


# ---------------------------------------------------------------------------- helpers
def _params(request: Request) -> dict[str, str]:
    return dict(request.query_params)


def _expanded(params: dict[str, str]) -> set[str]:
    return {e.strip() for e in params.get("$expand", "").split(",") if e.strip()}


def _page(items: list[dict[str, Any]], params: dict[str, str], path: str, expandable: tuple[str, ...] = (),
          extra: dict[str, str] | None = None) -> dict[str, Any]:
    """``collection`` over the OData options, keeping non-OData query parameters (``extra``) in the links."""
    body = collection(items, params, path, expandable=expandable)
    if extra:
        body["_links"]["self"] = path + "?" + query_string({**params, **extra})
        if "next" in body["_links"]:
            body["_links"]["next"] += "&" + query_string(extra)
    return body


def _conference_page(request: Request, meetings: Meetings, conferences: list[dict[str, Any]], params: dict[str, str],
                     extra: dict[str, str] | None = None) -> dict[str, Any]:
    rosters = meetings.rosters(conferences)
    items = []
    for conference in conferences:
        wire = conference_wire(conference, rosters[conference["id"]])
        wire["tags"] = tag_collection(conference)  # collection() drops it unless $expand=tags
        items.append(wire)
    body = _page(items, params, arrived_path(request.scope), ("tags",), extra)
    for item in body["_embedded"]["items"]:
        tags = item.pop("tags", None)
        if tags is not None:
            item["_embedded"]["tags"] = tags
    return body


def _single(meetings: Meetings, conference: dict[str, Any], params: dict[str, str] | None = None) -> dict[str, Any]:
    expand = _expanded(params or {})
    unsupported = expand - {"tags"}
    if unsupported:
        raise Invalid("InvalidQueryParameter", f"$expand={','.join(sorted(unsupported))} is not supported here; "
                                               "supported: tags")
    return conference_wire(conference, meetings.roster(conference), tags="tags" in expand)


# ---------------------------------------------------------------------------- conferences
@router.get("/conferences", summary="Conferences of the account visible to the caller, most recent first")
async def list_conferences(request: Request, meetings: MeetingsDep,
                           actor: Principal = Depends(principal)) -> dict[str, Any]:
    params = _params(request)
    extra = {}
    contains = None
    if "containsAllParticipants" in params:
        extra["containsAllParticipants"] = params.pop("containsAllParticipants")
        contains = [p.strip() for p in extra["containsAllParticipants"].split(",") if p.strip()]
    conferences = meetings.list_conferences(actor, contains)
    return _conference_page(request, meetings, conferences, params, extra)


@router.post("/conferences", summary="Create a conference")
async def create_conference(body: ConferenceCreate, request: Request, meetings: MeetingsDep,
                            actor: Principal = Depends(principal)) -> dict[str, Any]:
    return _single(meetings, await meetings.create_conference(actor, _fields(body)))


@router.get("/conferences/content", summary="Search conference names, access codes, participants and recordings")
async def search_content(request: Request, meetings: MeetingsDep, actor: Principal = Depends(principal)) -> dict[str,
                         Any]:
    params = _params(request)
    search = params.pop("$search", None)
    results = [content_wire(r) for r in meetings.search(actor, search)]
    return _page(results, params, arrived_path(request.scope), extra={"$search": search or ""})


@router.get("/conferences/{conferenceId}", summary="A conference")
async def get_conference(conferenceId: str, request: Request, meetings: MeetingsDep,
                         actor: Principal = Depends(principal)) -> dict[str, Any]:
    return _single(meetings, meetings.get_conference(actor, conferenceId), _params(request))


@router.post("/conferences/{conferenceId}", summary="Perform an action on a conference (end, recording control)")
async def act_on_conference(conferenceId: str, body: ConferenceAction, request: Request, meetings: MeetingsDep,
                            actor: Principal = Depends(principal)) -> dict[str, Any]:
    return _single(meetings, await meetings.act(actor, conferenceId, body.action))


@router.put("/conferences/{conferenceId}", summary="Update a conference")
async def update_conference(conferenceId: str, body: ConferenceUpdate, request: Request, meetings: MeetingsDep,
                            actor: Principal = Depends(principal)) -> dict[str, Any]:
    return _single(meetings, await meetings.update_conference(actor, conferenceId, _fields(body)))


@router.delete("/conferences/{conferenceId}", summary="Delete a conference and its participants")
async def delete_conference(conferenceId: str, request: Request, meetings: MeetingsDep,
                            actor: Principal = Depends(principal)) -> dict[str, Any]:
    conference, roster = await meetings.delete_conference(actor, conferenceId)
    return conference_wire(conference, roster)


# ---------------------------------------------------------------------------- participants
@router.get("/conferences/{conferenceId}/participants", summary="Participants of a conference")
async def list_participants(conferenceId: str, request: Request, meetings: MeetingsDep,
                            actor: Principal = Depends(principal)) -> dict[str, Any]:
    items = [participant_wire(p) for p in meetings.list_participants(actor, conferenceId)]
    return _page(items, _params(request), arrived_path(request.scope))


@router.post("/conferences/{conferenceId}/participants", summary="Add a participant")
async def add_participant(conferenceId: str, body: ParticipantRef, request: Request, meetings: MeetingsDep,
                          actor: Principal = Depends(principal)) -> dict[str, Any]:
    return participant_wire(await meetings.add_participant(actor, conferenceId, _fields(body)))


@router.get("/conferences/{conferenceId}/participants/{participantId}", summary="A participant")
async def get_participant(conferenceId: str, participantId: str, request: Request, meetings: MeetingsDep,
                          actor: Principal = Depends(principal)) -> dict[str, Any]:
    return participant_wire(meetings.get_participant(actor, conferenceId, participantId))


@router.put("/conferences/{conferenceId}/participants/{participantId}", summary="Update a participant (leave, mute)")
async def update_participant(conferenceId: str, participantId: str, body: ParticipantUpdate, request: Request,
                             meetings: MeetingsDep,
                             actor: Principal = Depends(principal)) -> dict[str, Any]:
    updated = await meetings.update_participant(actor, conferenceId, participantId, _fields(body))
    return participant_wire(updated)


@router.delete("/conferences/{conferenceId}/participants/{participantId}", summary="Remove a participant")
async def remove_participant(conferenceId: str, participantId: str, request: Request, meetings: MeetingsDep,
                             actor: Principal = Depends(principal)) -> dict[str, Any]:
    return participant_wire(await meetings.remove_participant(actor, conferenceId, participantId))


@router.post("/conferences/{conferenceId}/participants/{participantId}/connections",
             summary="Connect a participant: a media token and URLs")
async def connect_participant(conferenceId: str, participantId: str, request: Request, meetings: MeetingsDep,
                              actor: Principal = Depends(principal)) -> dict[str, Any]:
    connection = await meetings.connect(actor, conferenceId, participantId)
    return connection_wire(connection, request)


# ---------------------------------------------------------------------------- users
@router.get("/users/{userId}/conferences", summary="Conferences the user created or participates in")
async def user_conferences(userId: str, request: Request, meetings: MeetingsDep,
                           actor: Principal = Depends(principal)) -> dict[str, Any]:
    return _conference_page(request, meetings, meetings.user_conferences(actor, userId), _params(request))


@router.get("/users/{userId}/attendances", summary="The user's meeting attendance history, most recent first")
async def user_attendances(userId: str, request: Request, meetings: MeetingsDep,
                           actor: Principal = Depends(principal)) -> dict[str, Any]:
    params = _params(request)
    found = meetings.attendances(actor, userId)
    embed = "conference" in _expanded(params)
    rosters = meetings.rosters([c for _, c in found if c is not None]) if embed else {}
    items = [attendance_wire(a, c, conference_wire(c, rosters[c["id"]]) if embed and c is not None else None)
             for a, c in found]
    return _page(items, params, arrived_path(request.scope), ("conference",))
