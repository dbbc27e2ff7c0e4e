"""Conferences (meeting rooms with access codes), their participants and the attendance history.

The rules of the Media API's Conference and Participant resources, with no HTTP in sight: the façade
(``callyard.api.cloudlink.media.conferences``) renders these documents in the swagger's wire shapes.

Documents (persisted through the unit of work like every core document):

* ``conference`` (id field ``id``): ``{id, accountId, name?, type, visibility, lobbyPolicy, accessCode,
  accessCodeLength, expiryDateTime?, state, instanceId?, externalId, recording?, tags, createdOn, createdBy,
  modifiedOn, modifiedBy}``. ``state`` is ``active`` while at least one participant is connected;
  ``instanceId`` names the current (or last) stretch of activity, a new one each time the conference goes
  inactive → active. ``recording`` is ``None`` or ``{state: recording|paused, startedOn, seconds, since}``:
  ``seconds`` already recorded before the current stretch, ``since`` when the current stretch started.
* ``participant`` (id field ``recordId`` = ``{conferenceId}:{participantId}``): ``{recordId, conferenceId,
  accountId, participantId, state, type, muted, externalId?, onetimeAcceptance?, associatedParticipantId?,
  attendanceId?, addedBy, createdOn, modifiedOn}``; ``attendanceId`` is the open attendance while active.
* ``attendance`` (id field ``id``): ``{id, accountId, conferenceId, conferenceInstanceId, participantId,
  joinTimeStamp, leaveTimeStamp?}``: one per connection stretch of a participant; open while the participant
  is connected (no ``leaveTimeStamp`` yet). Attendances outlive their conference (meeting history).

Access: a caller only ever sees its own account's conferences (other accounts' ids are 404). The creator
and ACCOUNT_ADMIN+ manage a conference (update, delete, actions, adding and removing others); participants
read it; an ``everyoneAllowed`` conference may be read and joined by any USER+ of the account, an
``inviteOnly`` one answers 403 to non-participants. Guests (role GUEST) see only conferences they were
added to.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone
from typing import Any

from callyard.core.clock import iso
from callyard.core.directory.access import Access
from callyard.core.engine.recordings import Recordings
from callyard.core.errors import Conflict, Forbidden, Invalid, NotFound
from callyard.core.principal import Principal
from callyard.core.runtime import Runtime
from callyard.core.state import UnitOfWork

CONFERENCE_TYPES = ("everyoneAllowed", "inviteOnly")
LOBBY_POLICIES = ("pstnLobby", "guestLobby", "nonOwnerLobby", "noLobby")
ACTIONS = ("end", "record", "stop-record", "pause-record", "resume-record")
PARTICIPANT_ACTIONS = ("leave",)
CREATE_FIELDS = {"id", "name", "type", "lobbyPolicy", "accessCodeLength", "expiryDateTime", "participants"}
UPDATE_FIELDS = {"name", "lobbyPolicy"}
PARTICIPANT_FIELDS = {"associatedParticipantId", "muted", "action", "onetimeAcceptance"}
NAME_MAX = 256
DEFAULT_CODE_LENGTH = 9
CODE_LENGTH_RANGE = (1, 99)
# A client-chosen conference id ends up in URL paths and in participant keys: keep it URL-safe, no ':'.
CONFERENCE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._~-]{0,127}$")
_DATE_TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:?\d\d)$", re.IGNORECASE)
_ENUMERATE_CODES_UP_TO = 10_000  # below this many possible codes, pick among the free ones exactly
_CODE_ATTEMPTS = 200


class Meetings:
    def __init__(self, runtime: Runtime, access: Access, recordings: Recordings) -> None:
        self.rt = runtime
        self.access = access
        self.recordings = recordings

    # ------------------------------------------------------------------ look-ups and access
    def _conference(self, actor: Principal, conference_id: str) -> dict[str, Any]:
        conference = self.rt.state.get("conference", conference_id)
        if conference is None or conference["accountId"] != actor.account_id:
            raise NotFound("ConferenceNotFound", f"conference {conference_id} was not found")
        return conference

    @staticmethod
    def _manages(actor: Principal, conference: dict[str, Any]) -> bool:
        return actor.principal_id == conference["createdBy"] or actor.at_least("ACCOUNT_ADMIN")

    def _participant(self, conference_id: str, participant_id: str) -> dict[str, Any] | None:
        return self.rt.state.get("participant", participant_key(conference_id, participant_id))

    def can_read(self, actor: Principal, conference: dict[str, Any]) -> bool:
        if conference["accountId"] != actor.account_id:
            return False
        return (self._manages(actor, conference)
                or self._participant(conference["id"], actor.principal_id) is not None
                or (conference["type"] == "everyoneAllowed" and actor.at_least("USER")))

    def _readable(self, actor: Principal, conference_id: str) -> dict[str, Any]:
        conference = self._conference(actor, conference_id)
        if not self.can_read(actor, conference):
            raise Forbidden("InsufficientPermissions",
                            f"conference {conference_id} is invite-only and the caller is not a participant")
        return conference

    def _managed(self, actor: Principal, conference_id: str, doing: str) -> dict[str, Any]:
        conference = self._readable(actor, conference_id)
        if not self._manages(actor, conference):
            raise Forbidden("InsufficientPermissions",
                            f"only the conference's creator or an ACCOUNT_ADMIN may {doing}")
        return conference

    def _user(self, account_id: str, ref: str) -> dict[str, Any] | None:
        """A user of ``account_id`` by userId or uniqueUserId."""
        user = self.rt.state.get("user", ref)
        if user is None:
            user = next((u for u in self.rt.state.all("user")
                         if u["accountId"] == account_id and u.get("uniqueUserId") == ref), None)
        return user if user is not None and user["accountId"] == account_id else None

    def _who(self, actor: Principal, ref: str) -> str:
        """A participant reference as a principal id: ``me`` is the caller, a uniqueUserId its user's id."""
        if ref == "me":
            return actor.principal_id
        user = self._user(actor.account_id, ref)
        return user["userId"] if user is not None else ref

    def _invitee(self, actor: Principal, ref: Any, where: str) -> str:
        """Someone who may be made a participant: the caller themselves, or a user of the caller's account."""
        if not isinstance(ref, str) or not ref.strip():
            raise Invalid("InvalidParticipant", f"{where} must be a non-empty principal id")
        principal_id = self._who(actor, ref)
        if principal_id == actor.principal_id or self._user(actor.account_id, principal_id) is not None:
            return principal_id
        raise Invalid("InvalidParticipant", f"{where} {ref} is not a user of this account")

    def _subject_user(self, actor: Principal, ref: str, listing: str) -> str:
        """The principal whose conferences or attendances are asked for: the caller (``me``, their userId or
        uniqueUserId) or, for an ACCOUNT_ADMIN, anyone of the account (unknown ids simply have none). A user of
        another account is refused (403, the swagger's status here)."""
        if ref in ("me", actor.principal_id) or (actor.user_id is not None and ref == actor.user_id):
            return actor.principal_id
        user = self._user(actor.account_id, ref)
        if user is not None and user["userId"] == actor.principal_id:
            return actor.principal_id
        if not actor.at_least("ACCOUNT_ADMIN"):
            raise Forbidden("InsufficientPermissions",
                            f"a user may only list their own {listing}; listing another user's needs ACCOUNT_ADMIN")
        if user is None and self.rt.state.get("user", ref) is not None:
            raise Forbidden("InsufficientPermissions", f"user {ref} is not in the caller's account")
        return user["userId"] if user is not None else ref

    def roster(self, conference: dict[str, Any]) -> list[dict[str, Any]]:
        """The participants of a conference the caller already holds: the creator first, then by arrival."""
        return self.rosters([conference]).get(conference["id"], [])

    def rosters(self, conferences: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
        wanted = {c["id"]: c for c in conferences}
        found: dict[str, list[dict[str, Any]]] = {cid: [] for cid in wanted}
        for participant in self.rt.state.all("participant"):
            if participant["conferenceId"] in wanted:
                found[participant["conferenceId"]].append(participant)
        for cid, participants in found.items():
            creator = wanted[cid]["createdBy"]
            participants.sort(key=lambda p: (p["participantId"] != creator, p["createdOn"], p["participantId"]))
        return found

    def find(self, conference_id: str) -> dict[str, Any] | None:
        """A conference by id regardless of the caller (for rendering documents that point at one)."""
        return self.rt.state.get("conference", conference_id)

    # ------------------------------------------------------------------ conferences: reads
    def list_conferences(self, actor: Principal, contains_all: list[str] | None = None) -> list[dict[str, Any]]:
        """The caller's account's conferences the caller may read, most recent first; ``contains_all``
        keeps those whose participants include every listed principal (``me`` is the caller)."""
        found = [c for c in self.rt.state.all("conference") if self.can_read(actor, c)]
        if contains_all:
            wanted = {self._who(actor, ref) for ref in contains_all}
            found = [c for c in found if all(self._participant(c["id"], p) is not None for p in wanted)]
        return _newest_first(found)

    def user_conferences(self, actor: Principal, user_ref: str) -> list[dict[str, Any]]:
        """Conferences the user created or participates in (within the caller's account)."""
        principal_id = self._subject_user(actor, user_ref, "conferences")
        found = [c for c in self.rt.state.all("conference")
                 if c["accountId"] == actor.account_id
                 and (c["createdBy"] == principal_id or self._participant(c["id"], principal_id) is not None)]
        return _newest_first(found)

    def get_conference(self, actor: Principal, conference_id: str) -> dict[str, Any]:
        return self._readable(actor, conference_id)

    # ------------------------------------------------------------------ conferences: writes
    async def create_conference(self, actor: Principal, fields: dict[str, Any]) -> dict[str, Any]:
        """A new conference, inactive, with its creator as an ``accepted`` participant and the listed
        ``participants`` as ``invited`` ones (each must be a user of the account)."""
        self.access.require_role(actor, "USER")
        _no_unknown(fields, CREATE_FIELDS)
        async with self.rt.write() as uow:
            if "id" in fields:
                conference_id = fields["id"]
                if not isinstance(conference_id, str) or not CONFERENCE_ID.match(conference_id):
                    raise Invalid("InvalidConferenceId", "id must be 1 to 128 letters, digits, '.', '_', '~' or '-', "
                                                         "starting with a letter or digit")
                if self.rt.state.get("conference", conference_id) is not None:
                    raise Conflict("ConferenceExists", f"a conference with id {conference_id} already exists")
            else:
                conference_id = self.rt.ids.uuid()
            conference_type = _choice(fields, "type", CONFERENCE_TYPES, "everyoneAllowed")
            lobby = _choice(fields, "lobbyPolicy", LOBBY_POLICIES, "guestLobby")
            length = _code_length(fields.get("accessCodeLength", DEFAULT_CODE_LENGTH))
            expiry = self._expiry(fields["expiryDateTime"]) if "expiryDateTime" in fields else None
            invited: list[str] = []
            participants = fields.get("participants", [])
            if not isinstance(participants, list):
                raise Invalid("ValidationError", "participants must be an array")
            for index, item in enumerate(participants):
                if not isinstance(item, dict) or set(item) - {"participantId"}:
                    raise Invalid("ValidationError",
                                  f"participants[{index}] must be {{participantId}} and nothing else")
                principal_id = self._invitee(actor, item.get("participantId"), f"participants[{index}].participantId")
                if principal_id != actor.principal_id and principal_id not in invited:
                    invited.append(principal_id)
            now = self.rt.now_iso()
            conference: dict[str, Any] = {
                "id": conference_id, "accountId": actor.account_id, "type": conference_type,
                "visibility": "private" if conference_type == "inviteOnly" else "public", "lobbyPolicy": lobby,
                "accessCode": self._access_code(actor.account_id, length), "accessCodeLength": length,
                "state": "inactive", "externalId": self.rt.ids.uuid(), "recording": None, "tags": {},
                "createdOn": now, "createdBy": actor.principal_id, "modifiedOn": now,
                "modifiedBy": actor.principal_id}
            if "name" in fields:
                conference["name"] = _name(fields["name"])
            if expiry is not None:
                conference["expiryDateTime"] = expiry
            uow.put("conference", conference_id, conference)
            self._emit(uow, "conference.created", conference)
            self._add(uow, conference, actor.principal_id, "accepted", actor, now)
            for principal_id in invited:
                self._add(uow, conference, principal_id, "invited", actor, now)
        return conference

    async def update_conference(self, actor: Principal, conference_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        _no_unknown(fields, UPDATE_FIELDS)
        if not fields:
            raise Invalid("ValidationError", "nothing to update: give name and/or lobbyPolicy")
        async with self.rt.write() as uow:
            conference = self._managed(actor, conference_id, "change it")
            changes: dict[str, Any] = {}
            if "name" in fields:
                changes["name"] = _name(fields["name"])
            if "lobbyPolicy" in fields:
                changes["lobbyPolicy"] = _choice(fields, "lobbyPolicy", LOBBY_POLICIES, None)
            updated = uow.update("conference", conference["id"], **changes, **self._modified(actor))
            self._emit(uow, "conference.updated", updated)
        return updated

    async def delete_conference(self, actor: Principal,
                                conference_id: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        """Deletes the conference and its participants. A meeting in progress ends first: open attendances
        close and a running recording is kept (as ``stop-record`` would). Attendances stay as history.
        Returns the conference and the participants it had."""
        async with self.rt.write() as uow:
            conference = self._managed(actor, conference_id, "delete it")
            roster = self.roster(conference)
            now = self.rt.now_iso()
            if conference.get("recording"):
                self._finish_recording(uow, conference, roster)
            for participant in roster:
                if participant.get("attendanceId"):
                    self._close_attendance(uow, participant, now)
                uow.delete("participant", participant["recordId"])
                self._emit(uow, "participant.removed", participant, gone=True)
            uow.delete("conference", conference["id"])
            self._emit(uow, "conference.deleted", conference, gone=True)
        return conference, roster

    async def act(self, actor: Principal, conference_id: str, action: Any) -> dict[str, Any]:
        """``end`` the meeting in progress, or ``record`` / ``pause-record`` / ``resume-record`` /
        ``stop-record`` it. Stopping (or ending while recording) stores a recording whose length is the
        virtual time recorded, paused stretches excluded."""
        if action is None:
            raise Invalid("ValidationError", "data should have required property 'action'")
        if action not in ACTIONS:
            raise Invalid("ValidationError", f"action must be one of {', '.join(ACTIONS)}")
        async with self.rt.write() as uow:
            conference = self._managed(actor, conference_id, "act on it")
            recording = conference.get("recording")
            now = self.rt.now_iso()
            changes: dict[str, Any]
            if action == "end":
                if conference["state"] != "active":
                    raise Conflict("ConferenceNotActive", f"conference {conference_id} is not in progress; "
                                                          "there is nothing to end")
                changes = self._end_instance(uow, conference, now)
            elif action == "record":
                if conference["state"] != "active":
                    raise Conflict("ConferenceNotActive", "only a conference in progress (someone connected) "
                                                          "can be recorded")
                if recording:
                    raise Conflict("AlreadyRecording", f"conference {conference_id} is already being recorded"
                                                       + (" (paused)" if recording["state"] == "paused" else ""))
                changes = {"recording": {"state": "recording", "startedOn": now, "seconds": 0.0, "since": now}}
            elif action == "pause-record":
                if not recording or recording["state"] != "recording":
                    raise Conflict("NotRecording", f"conference {conference_id} has no running recording to pause")
                changes = {"recording": {**recording, "state": "paused", "since": None,
                                         "seconds": recording["seconds"] + self._since(recording["since"])}}
            elif action == "resume-record":
                if not recording or recording["state"] != "paused":
                    raise Conflict("NotPaused", f"conference {conference_id} has no paused recording to resume")
                changes = {"recording": {**recording, "state": "recording", "since": now}}
            else:  # stop-record
                if not recording:
                    raise Conflict("NotRecording", f"conference {conference_id} is not being recorded")
                self._finish_recording(uow, conference, self.roster(conference))
                changes = {"recording": None}
            updated = uow.update("conference", conference["id"], **changes, **self._modified(actor))
            self._emit(uow, "conference.updated", updated)
        return updated

    # ------------------------------------------------------------------ participants
    def list_participants(self, actor: Principal, conference_id: str) -> list[dict[str, Any]]:
        return self.roster(self._readable(actor, conference_id))

    def get_participant(self, actor: Principal, conference_id: str, participant_ref: str) -> dict[str, Any]:
        conference = self._readable(actor, conference_id)
        return self._existing(conference, self._who(actor, participant_ref))

    def _existing(self, conference: dict[str, Any], principal_id: str) -> dict[str, Any]:
        participant = self._participant(conference["id"], principal_id)
        if participant is None:
            raise NotFound("ParticipantNotFound",
                           f"{principal_id} is not a participant of conference {conference['id']}")
        return participant

    async def add_participant(self, actor: Principal, conference_id: str, fields: dict[str, Any]) -> dict[str, Any]:
        """The creator or an admin invites a user of the account (state ``invited``); anyone who may read an
        ``everyoneAllowed`` conference may add themselves (state ``accepted``)."""
        _no_unknown(fields, {"participantId"})
        if "participantId" not in fields:
            raise Invalid("ValidationError", "data should have required property 'participantId'")
        async with self.rt.write() as uow:
            conference = self._readable(actor, conference_id)
            principal_id = self._invitee(actor, fields["participantId"], "participantId")
            is_self = principal_id == actor.principal_id
            if not is_self and not self._manages(actor, conference):
                raise Forbidden("InsufficientPermissions", "only the conference's creator or an ACCOUNT_ADMIN adds "
                                                           "other participants; a user may add only themselves")
            if self._participant(conference["id"], principal_id) is not None:
                raise Conflict("ParticipantExists",
                               f"{principal_id} is already a participant of conference {conference['id']}")
            participant = self._add(uow, conference, principal_id, "accepted" if is_self else "invited", actor,
                                    self.rt.now_iso())
        return participant

    async def update_participant(self, actor: Principal, conference_id: str, participant_ref: str,
                                 fields: dict[str, Any]) -> dict[str, Any]:
        """``action: leave`` (only while connected, else 409), ``muted``, ``onetimeAcceptance`` and
        ``associatedParticipantId`` (another participant of the same conference). A participant changes
        themselves; the creator or an admin may change anyone. When the last connected participant leaves,
        the conference goes inactive (a running recording is stored)."""
        _no_unknown(fields, PARTICIPANT_FIELDS)
        if not fields:
            raise Invalid("ValidationError", "nothing to update: give action, muted, onetimeAcceptance "
                                             "and/or associatedParticipantId")
        async with self.rt.write() as uow:
            conference = self._readable(actor, conference_id)
            participant = self._existing(conference, self._who(actor, participant_ref))
            principal_id = participant["participantId"]
            if principal_id != actor.principal_id and not self._manages(actor, conference):
                raise Forbidden("InsufficientPermissions", "a participant may only change themselves; the creator or "
                                                           "an ACCOUNT_ADMIN may change anyone")
            changes: dict[str, Any] = {}
            for flag in ("muted", "onetimeAcceptance"):
                if flag in fields:
                    if not isinstance(fields[flag], bool):
                        raise Invalid("ValidationError", f"{flag} must be a boolean")
                    changes[flag] = fields[flag]
            if "associatedParticipantId" in fields:
                ref = fields["associatedParticipantId"]
                if not isinstance(ref, str) or not ref.strip():
                    raise Invalid("InvalidAssociatedParticipant", "associatedParticipantId must be a participant id")
                other = self._who(actor, ref)
                # The swagger states no rule about associating a participant with itself, and Mitel's media
                # sample does exactly that ({associatedParticipantId: p, muted: true, action: leave}).
                if self._participant(conference["id"], other) is None:
                    raise Invalid("InvalidAssociatedParticipant",
                                  f"associatedParticipantId {ref} is not a participant of conference "
                                  f"{conference['id']}")
                changes["associatedParticipantId"] = other
            leaving = "action" in fields
            if leaving:
                if fields["action"] not in PARTICIPANT_ACTIONS:
                    raise Invalid("ValidationError", f"action must be one of {', '.join(PARTICIPANT_ACTIONS)}")
                if participant["state"] != "active":
                    raise Conflict("ParticipantNotActive", f"participant {principal_id} is {participant['state']}, "
                                                           "not connected; only an active participant can leave")
            now = self.rt.now_iso()
            if leaving:
                changes.update(self._close_attendance(uow, participant, now))
            updated = uow.update("participant", participant["recordId"], **changes, modifiedOn=now)
            self._emit(uow, "participant.updated", updated)
            if leaving:
                self._idle_if_empty(uow, conference, now)
        return updated

    async def remove_participant(self, actor: Principal, conference_id: str, participant_ref: str) -> dict[str, Any]:
        """A participant removes themselves, or the creator / an admin removes anyone but the creator. A
        connected participant is disconnected first (their attendance closes)."""
        async with self.rt.write() as uow:
            conference = self._readable(actor, conference_id)
            participant = self._existing(conference, self._who(actor, participant_ref))
            principal_id = participant["participantId"]
            if principal_id == conference["createdBy"]:
                raise Forbidden("CannotRemoveCreator", "the creator of a conference cannot be removed from it; "
                                                       "delete the conference instead")
            if principal_id != actor.principal_id and not self._manages(actor, conference):
                raise Forbidden("InsufficientPermissions", "only the conference's creator or an ACCOUNT_ADMIN removes "
                                                           "other participants")
            now = self.rt.now_iso()
            if participant.get("attendanceId"):
                self._close_attendance(uow, participant, now)
            uow.delete("participant", participant["recordId"])
            self._emit(uow, "participant.removed", participant, gone=True)
            for other in self.roster(conference):
                if other.get("associatedParticipantId") == principal_id:
                    unlinked = uow.update("participant", other["recordId"], associatedParticipantId=None,
                                          modifiedOn=now)
                    self._emit(uow, "participant.updated", unlinked)
            self._idle_if_empty(uow, conference, now)
        return participant

    async def connect(self, actor: Principal, conference_id: str, participant_ref: str) -> dict[str, Any]:
        """Connection details for a participant: they become ``active``, an attendance opens and, if nobody
        was connected, the conference becomes active under a new instance id. A caller who may read an
        ``everyoneAllowed`` conference joins it this way without being invited. Connecting again while
        active is a reconnect: new token, same attendance.

        Returns ``{token, externalId, externalConferenceId, conferenceId, participantId}``; the token is
        never stored (the twin serves no media)."""
        async with self.rt.write() as uow:
            conference = self._readable(actor, conference_id)
            principal_id = self._who(actor, participant_ref)
            if principal_id != actor.principal_id and not self._manages(actor, conference):
                raise Forbidden("InsufficientPermissions", "a participant connects themselves; only the creator or "
                                                           "an ACCOUNT_ADMIN connects others")
            participant = self._participant(conference["id"], principal_id)
            if participant is None and principal_id != actor.principal_id:
                self._existing(conference, principal_id)  # raises ParticipantNotFound
            now = self.rt.now_iso()
            connection_id = self.rt.ids.uuid()
            changes: dict[str, Any] = {"externalId": connection_id, "type": "webapi", "modifiedOn": now}
            if participant is None or participant["state"] != "active":
                if conference["state"] != "active":
                    conference = uow.update("conference", conference["id"], state="active",
                                            instanceId=self.rt.ids.uuid())
                    self._emit(uow, "conference.updated", conference)
                attendance = {"id": self.rt.ids.uuid(), "accountId": conference["accountId"],
                              "conferenceId": conference["id"], "conferenceInstanceId": conference["instanceId"],
                              "participantId": principal_id, "joinTimeStamp": now}
                uow.put("attendance", attendance["id"], attendance)
                uow.emit("attendance.created", attendance["accountId"], _attendance_subject(attendance),
                         attendance, now)
                changes.update(state="active", attendanceId=attendance["id"])
            if participant is None:
                changes.pop("state")
                self._add(uow, conference, principal_id, "active", actor, now, **changes)
            else:
                updated = uow.update("participant", participant["recordId"], **changes)
                self._emit(uow, "participant.updated", updated)
        return {"token": self.rt.ids.secret(), "externalId": connection_id,
                "externalConferenceId": conference["externalId"], "conferenceId": conference["id"],
                "participantId": principal_id}

    # ------------------------------------------------------------------ attendance history
    def attendances(self, actor: Principal, user_ref: str) -> list[tuple[dict[str, Any], dict[str, Any] | None]]:
        """The user's finished attendances, most recent first, each with its conference when it still exists
        and the caller may read it.

        An attendance that is still open (the participant is connected now) is not listed: the swagger's
        ``userAttendance`` requires ``leaveTimeStamp``, and the list is the meeting history. It appears once
        the participant leaves, the meeting ends or the participant or conference is removed. A USER lists
        only their own (``me``); ACCOUNT_ADMIN+ anyone's in their account."""
        principal_id = self._subject_user(actor, user_ref, "attendances")
        found = [a for a in self.rt.state.all("attendance")
                 if a["accountId"] == actor.account_id and a["participantId"] == principal_id
                 and a.get("leaveTimeStamp")]
        found.sort(key=lambda a: (a["joinTimeStamp"], a["leaveTimeStamp"], a["id"]), reverse=True)
        out = []
        for attendance in found:
            conference = self.find(attendance["conferenceId"])
            readable = conference is not None and self.can_read(actor, conference)
            out.append((attendance, conference if readable else None))
        return out

    # ------------------------------------------------------------------ content search
    def search(self, actor: Principal, text: Any) -> list[dict[str, Any]]:
        """Conferences (by name or access code), participants (by principal id or user name) and recordings
        (by label) of the conferences the caller may read, where every word of ``text`` occurs (case
        insensitive) in one field. One result per resource: ``{type, content, conferenceId,
        participantId? | recordingId?}``, ``content`` being the matching text."""
        if not isinstance(text, str) or not text.strip().strip('"').strip():
            raise Invalid("InvalidQueryParameter", "$search is required: one or more words to look for")
        words = [w.lower() for w in text.replace('"', " ").split()]

        def matching(*values: Any) -> str | None:
            return next((v for v in values if isinstance(v, str) and all(w in v.lower() for w in words)), None)

        results: list[dict[str, Any]] = []
        conferences = self.list_conferences(actor)
        rosters = self.rosters(conferences)
        for conference in conferences:
            hit = matching(conference.get("name"), conference["accessCode"])
            if hit is not None:
                results.append({"type": "conference", "content": hit, "conferenceId": conference["id"]})
            for participant in rosters[conference["id"]]:
                user = self._user(conference["accountId"], participant["participantId"])
                hit = matching(participant["participantId"], user.get("name") if user else None)
                if hit is not None:
                    results.append({"type": "participant", "content": hit, "conferenceId": conference["id"],
                                    "participantId": participant["participantId"]})
        readable = {c["id"] for c in conferences}
        for recording in self.recordings.list(actor):
            hit = matching(recording.get("label")) if recording["callId"] in readable else None
            if hit is not None:
                results.append({"type": "recording", "content": hit, "conferenceId": recording["callId"],
                                "recordingId": recording["recordingId"]})
        return results

    # ------------------------------------------------------------------ internals
    def _add(self, uow: UnitOfWork, conference: dict[str, Any], principal_id: str, state: str, actor: Principal,
             now: str, **extra: Any) -> dict[str, Any]:
        participant = {"recordId": participant_key(conference["id"], principal_id), "conferenceId": conference["id"],
                       "accountId": conference["accountId"], "participantId": principal_id, "state": state,
                       "type": "webapi", "muted": False, "addedBy": actor.principal_id, "createdOn": now,
                       "modifiedOn": now, **extra}
        uow.put("participant", participant["recordId"], participant)
        self._emit(uow, "participant.added", participant)
        return participant

    def _close_attendance(self, uow: UnitOfWork, participant: dict[str, Any], now: str) -> dict[str, Any]:
        """Closes the participant's open attendance; returns the participant changes (now inactive)."""
        attendance_id = participant.get("attendanceId")
        if attendance_id and self.rt.state.get("attendance", attendance_id) is not None:
            closed = uow.update("attendance", attendance_id, leaveTimeStamp=now)
            uow.emit("attendance.updated", closed["accountId"], _attendance_subject(closed), closed, now)
        return {"state": "inactive", "attendanceId": None}

    def _end_instance(self, uow: UnitOfWork, conference: dict[str, Any], now: str) -> dict[str, Any]:
        """Disconnects every active participant and stores a running recording; returns the conference
        changes (inactive, no recording) for the caller to apply and announce once."""
        roster = self.roster(conference)
        if conference.get("recording"):
            self._finish_recording(uow, conference, roster)
        for participant in roster:
            if participant["state"] == "active":
                changes = self._close_attendance(uow, participant, now)
                updated = uow.update("participant", participant["recordId"], **changes, modifiedOn=now)
                self._emit(uow, "participant.updated", updated)
        return {"state": "inactive", "recording": None}

    def _idle_if_empty(self, uow: UnitOfWork, conference: dict[str, Any], now: str) -> None:
        """After someone left: a conference with nobody connected is no longer in progress."""
        current = self.rt.state.get("conference", conference["id"])
        if current is None or current["state"] != "active":
            return
        if any(p["state"] == "active" for p in self.roster(current)):
            return
        changes = self._end_instance(uow, current, now)
        self._emit(uow, "conference.updated", uow.update("conference", current["id"], **changes))

    def _finish_recording(self, uow: UnitOfWork, conference: dict[str, Any], roster: list[dict[str, Any]]) -> None:
        recording = conference["recording"]
        seconds = recording["seconds"]
        if recording["state"] == "recording":
            seconds += self._since(recording["since"])
        self.recordings.create(uow, account_id=conference["accountId"], call_id=conference["id"],
                               started_on=recording["startedOn"], seconds=seconds,
                               principal_ids=[p["participantId"] for p in roster] or [conference["createdBy"]])

    def _since(self, stamp: str) -> float:
        return max(0.0, (self.rt.clock.now() - _parse(stamp)).total_seconds())

    def _modified(self, actor: Principal) -> dict[str, Any]:
        return {"modifiedOn": self.rt.now_iso(), "modifiedBy": actor.principal_id}

    def _emit(self, uow: UnitOfWork, type_: str, doc: dict[str, Any], gone: bool = False) -> None:
        if "recordId" in doc:
            subject = f"/conferences/{doc['conferenceId']}/participants/{doc['participantId']}"
        else:
            subject = f"/conferences/{doc['id']}"
        uow.emit(type_, doc["accountId"], subject, None if gone else doc, self.rt.now_iso())

    def _access_code(self, account_id: str, length: int) -> str:
        """``length`` digits, unique among the account's conferences."""
        used = {c["accessCode"] for c in self.rt.state.all("conference") if c["accountId"] == account_id}
        if 10 ** length <= _ENUMERATE_CODES_UP_TO:
            free = [code for code in (f"{n:0{length}d}" for n in range(10 ** length)) if code not in used]
            if free:
                return free[int(self.rt.ids.digits(18)) % len(free)]
        else:
            for _ in range(_CODE_ATTEMPTS):
                code = self._digits(length)
                if code not in used:
                    return code
        raise Conflict("AccessCodesExhausted", f"every {length}-digit access code is in use in this account; "
                                               "ask for a longer accessCodeLength")

    def _digits(self, length: int) -> str:
        out = ""
        while len(out) < length:
            out += self.rt.ids.digits(18)
        return out[:length]

    def _expiry(self, value: Any) -> str:
        if not isinstance(value, str) or not _DATE_TIME.match(value.strip()):
            raise Invalid("InvalidExpiryDateTime", "expiryDateTime must be an ISO 8601 date-time with a time zone, "
                                                   "e.g. 2030-01-31T17:00:00Z")
        try:
            when = _parse(value.strip())
        except ValueError:
            raise Invalid("InvalidExpiryDateTime", f"expiryDateTime {value!r} is not a valid date-time") from None
        when = (when + timedelta(microseconds=500_000)).replace(microsecond=0)  # rounded to the second
        if when <= self.rt.clock.now():
            raise Invalid("InvalidExpiryDateTime", "expiryDateTime must be in the future")
        return iso(when)


def participant_key(conference_id: str, participant_id: str) -> str:
    return f"{conference_id}:{participant_id}"


def _attendance_subject(attendance: dict[str, Any]) -> str:
    return f"/users/{attendance['participantId']}/attendances/{attendance['id']}"


def _newest_first(conferences: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(conferences, key=lambda c: (c["createdOn"], c["id"]), reverse=True)


def _parse(stamp: str) -> datetime:
    when = datetime.fromisoformat(stamp.replace("Z", "+00:00").replace("z", "+00:00"))
    if when.tzinfo is None:
        raise ValueError("no time zone")
    return when.astimezone(timezone.utc)


def _no_unknown(fields: dict[str, Any], allowed: set[str]) -> None:
    unknown = set(fields) - allowed
    if unknown:
        raise Invalid("ValidationError", f"data should NOT have additional properties: {sorted(unknown)}")


def _choice(fields: dict[str, Any], key: str, allowed: tuple[str, ...], default: str | None) -> str:
    value = fields.get(key, default)
    if value not in allowed:
        raise Invalid("ValidationError", f"{key} must be one of {', '.join(allowed)}")
    return str(value)


def _name(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("ValidationError", "name must be a non-empty string")
    if len(value.strip()) > NAME_MAX:
        raise Invalid("ValidationError", f"name is longer than {NAME_MAX} characters")
    return value.strip()


def _code_length(value: Any) -> int:
    low, high = CODE_LENGTH_RANGE
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != int(value) \
            or not low <= value <= high:
        raise Invalid("ValidationError", f"accessCodeLength must be a whole number from {low} to {high}")
    return int(value)
