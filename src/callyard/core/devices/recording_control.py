"""Legacy call recording control (the UC Call Recording Control group, deprecated since 5.1): the user's
calls being recorded, and SAVE/DISCARD/PAUSE/RESUME on one when its ``allowedActions`` list the action.

A recording is the engine's recording of the call (``Call.recording``); the actions are the engine's verbs
(save and discard decide whether it is stored when it stops; pause and resume stop and restart the clock of
the recorded length)."""
from __future__ import annotations

from typing import Any

from callyard.core.devices.service import Devices, acting_for
from callyard.core.engine.calls import seconds_between
from callyard.core.engine.model import Leg
from callyard.core.errors import Conflict, Invalid, NotFound
from callyard.core.principal import Principal

ACTIONS = ("SAVE", "DISCARD", "PAUSE", "RESUME")


class RecordingControl:
    def __init__(self, devices: Devices) -> None:
        self.devices = devices
        self.engine = devices.engine
        self.rt = devices.rt

    def _recorded_legs(self, account_id: str, user_id: str) -> list[Leg]:
        endpoint = self.devices.extension(account_id, user_id)
        return [leg for leg in (endpoint.legs if endpoint else []) if leg.call is not None
                and leg.call.recording is not None and leg.state in ("connected", "held")]

    @staticmethod
    def allowed(leg: Leg) -> list[str]:
        recording = leg.call.recording if leg.call else None
        if recording is None:
            return []
        return ["DISCARD" if recording.keep else "SAVE", "RESUME" if recording.paused else "PAUSE"]

    def view(self, leg: Leg) -> dict[str, Any]:
        assert leg.call is not None and leg.call.recording is not None
        recording = leg.call.recording
        now = self.engine.now()
        recorded = recording.seconds + (seconds_between(recording.running_since, now)
                                        if recording.running_since is not None else 0.0)
        terminal = next((t for t in leg.endpoint.terminals if t["deviceId"] == leg.terminal), None)
        mobile = next((t.get("number", "") for t in leg.endpoint.terminals if t["type"] == "MOBILE"), "")
        inbound = leg.direction == "inbound"
        return {"id": leg.leg_id, "deviceType": terminal["type"] if terminal else "DESKPHONE",
                "mobileNumber": str(mobile or ""), "isLocalDevice": bool(terminal and terminal["type"] != "MOBILE"),
                "displayName": leg.from_name if inbound else leg.to_name,
                "number": leg.from_number if inbound else leg.to_number, "calledNumber": leg.to_number,
                "isSaved": recording.keep, "isPaused": recording.paused, "allowedActions": self.allowed(leg),
                "duration": int(seconds_between(leg.answered_on or leg.created_on, now)),
                "recordDuration": int(recorded), "callId": leg.call.call_id}

    def list(self, actor: Principal, account_id: str, user_id: str) -> list[dict[str, Any]]:
        acting_for(self.rt, actor, account_id, user_id)
        return [self.view(leg) for leg in self._recorded_legs(account_id, user_id)]

    async def act(self, actor: Principal, account_id: str, user_id: str, recording_id: str,
                  action: object) -> dict[str, Any]:
        if action not in ACTIONS:
            raise Invalid("action.not.valid", f"action must be one of {', '.join(ACTIONS)}", field="action",
                          value=str(action))
        acting_for(self.rt, actor, account_id, user_id)
        leg = next((leg for leg in self._recorded_legs(account_id, user_id) if leg.leg_id == recording_id), None)
        if leg is None:
            raise NotFound("recording.does.not.exist", f"no recorded call {recording_id}", field="id",
                           value=recording_id)
        if action not in self.allowed(leg):
            raise Conflict("action.not.allowed", f"{action} is not allowed now (allowed: "
                           f"{', '.join(self.allowed(leg))})", field="action", value=str(action))
        verb = {"SAVE": self.engine.save_recording, "DISCARD": self.engine.discard_recording,
                "PAUSE": self.engine.pause_recording, "RESUME": self.engine.resume_recording}[str(action)]
        await verb(actor, leg.endpoint.number, leg.leg_id)
        return self.view(leg)
