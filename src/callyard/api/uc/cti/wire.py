"""CallState (seed 003, Call State / Call Control) built from the engine's view of one leg (``snapshot``).

The UC ``callId`` is the user's leg id (the same id the Media API shows for the call on the user's endpoint);
``correlationId`` is the engine's call id, shared by every party. Status: INITIATED (calling out, not yet
answered), RINGING (an incoming call alerting), ACTIVE, HELD, TERMINATED.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any, Mapping

_STATUS = {"ringing": "RINGING", "connected": "ACTIVE", "held": "HELD", "completed": "TERMINATED"}
_FAILED = ("busy", "destNotObtainable", "callNotAnswer", "doNotDisturb", "callRejected")
_REMOTE_TYPE = {"extension": "USER_ID", "group": "FUNCTION_NUMBER_ID", "voicemail": "SERVICE_ID"}


def status_of(view: Mapping[str, Any]) -> str:
    if view["state"] == "connected" and view["direction"] == "outbound" and view.get("answeredOn") is None \
            and not view.get("intrusion"):
        return "INITIATED"
    return _STATUS.get(view["state"], "TERMINATED")


def tel_uri(number: str, domain: str) -> str:
    return f"tel:{number}" if number.startswith("+") else f"sip:{number}@{domain}"


def party(number: str, name: str, kind: str | None, domain: str, intrusion: str | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"type": _REMOTE_TYPE.get(kind or "", "USER_ID" if not number.startswith("+")
                                                      else "SERVICE_ID"),
                             "telUri": tel_uri(number, domain), "displayName": name or number,
                             "displayNumber": number}
    if intrusion:
        found["intrusionType"] = intrusion
    return found


def _seconds(start: Any, end: Any, now: datetime) -> int:
    if start is None:
        return 0
    begin = start if isinstance(start, datetime) else datetime.fromisoformat(str(start).replace("Z", "+00:00"))
    finish = end if isinstance(end, datetime) else (
        datetime.fromisoformat(str(end).replace("Z", "+00:00")) if end else now)
    return max(0, int((finish - begin).total_seconds()))


def call_state(view: Mapping[str, Any], devices: Mapping[str, str], domain: str, now: datetime,
               event: str | None = None) -> dict[str, Any]:
    """The CallState of the leg ``view`` (an engine snapshot); ``devices`` maps terminals to UC device ids."""
    inbound = view["direction"] == "inbound"
    number, name = (view["from"], view["fromName"]) if inbound else (view["to"], view["toName"])
    participants = view.get("participants") or []
    remote_kind = next((p["kind"] for p in participants if p["number"] == number), None)
    conference = len(participants) >= 2
    recording_info = view.get("recordingInfo")
    status = status_of(view)
    cause = view.get("cause")
    if event is None and status == "TERMINATED":
        if cause == "leftConference":
            event = "LEFT_CONFERENCE"
        elif cause in _FAILED and view.get("answeredOn") is None:
            event = "FAILED"
    retarget = "DISTRIBUTED" if view.get("queueId") else "TRANSFERRED" if cause == "transfer" else None
    history: dict[str, Any] = {"subject": None, "acdSupport": None, "campOn": False,
                               "initialParty": party(number, name, remote_kind, domain),
                               "previousParty": None, "previousRetargetReason": retarget}
    terminal = view.get("terminal")
    if terminal and status != "RINGING":
        device_list = [devices[terminal]] if terminal in devices else []
    else:
        device_list = list(devices.values())
    actions = [{"action": a["action"], "deviceIds": [devices[t] for t in a["terminals"] if t in devices]}
               for a in view.get("actions") or []]
    state: dict[str, Any] = {
        "stateToken": view["stateToken"], "callId": view["legId"], "correlationId": view["callId"],
        "remoteParty": party(number, name, remote_kind, domain),
        "participants": [{"id": p["legId"], "remoteParty": party(p["number"], p["name"], p["kind"], domain,
                                                                  p.get("intrusion")),
                          "historyInfo": {"subject": None, "acdSupport": None, "campOn": False,
                                          "initialParty": None, "previousParty": None,
                                          "previousRetargetReason": None}}
                         for p in participants] if conference else [],
        "conference": conference, "conferenceId": view["callId"] if conference else None,
        "historyInfo": history, "inbound": inbound,
        "intruded": bool(view.get("intrusion")) or any(p.get("intrusion") for p in participants),
        "status": status, "event": event, "eventDescription": cause,
        "muted": bool(view.get("muted")),
        "duration": _seconds(view.get("answeredOn"), view.get("endTime"), now),
        "recordable": status in ("ACTIVE", "HELD"),
        "recording": bool(recording_info and not recording_info["paused"]),
        "recordingDuration": int(recording_info["seconds"]) if recording_info else 0,
        "externalRecording": False, "externalRecordingDuration": 0,
        "externalRecordingPaused": bool(recording_info and recording_info["paused"]),
        "deviceIds": device_list, "actions": actions,
    }
    return state
