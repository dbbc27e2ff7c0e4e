"""Recording of a call: start, stop, pause, resume and tag, and the parties who may read the result.

A call's recording lives on the call while it runs (it follows the call through transfers) and becomes a
stored recording (``callyard.core.engine.recordings``, shared with meetings) when it stops or the call ends.
"""
from __future__ import annotations

import json
from typing import Any

from callyard.core.clock import iso
from callyard.core.engine.calls import CallListener, CallTable, CallTransaction, require_state, seconds_between
from callyard.core.engine.model import Call, Leg, Recording
from callyard.core.engine.recordings import Recordings
from callyard.core.errors import Conflict, Invalid


class CallRecording(CallListener):
    def __init__(self, table: CallTable, recordings: Recordings) -> None:
        self.table = table
        self.recordings = recordings

    # ------------------------------------------------------------------ building blocks
    def start(self, call: Call) -> None:
        now = self.table.now()
        call.recording = Recording(started_on=now, running_since=now)

    def stop(self, tx: CallTransaction, call: Call) -> None:
        """Stop ``call``'s recording, if any, and store it."""
        recording = call.recording
        if recording is None:
            return
        call.recording = None
        if not recording.keep:
            return   # discarded (UC on-demand recording): nothing is stored
        if recording.running_since is not None:
            recording.seconds += seconds_between(recording.running_since, self.table.now())
        principals = recording.principal_ids | {
            leg.endpoint.principal_id for leg in call.live_legs() if leg.endpoint.principal_id}
        label = json.dumps(recording.tags, sort_keys=True) if recording.tags else None
        self.recordings.create(tx.uow, account_id=call.account_id, call_id=call.call_id,
                               started_on=iso(recording.started_on), seconds=recording.seconds,
                               principal_ids=sorted(principals), label=label)

    def hand_over(self, source: Call, target: Call) -> None:
        """``source``'s parties joined ``target`` (a transfer): a running recording goes with them unless
        ``target`` is recorded already."""
        if source.recording and not target.recording:
            target.recording, source.recording = source.recording, None

    @staticmethod
    def _recording_of(leg: Leg, action: str) -> Recording:
        if leg.call is None or leg.call.recording is None:
            raise Conflict("NotRecording", f"cannot {action}: call {leg.leg_id} is not being recorded")
        return leg.call.recording

    @staticmethod
    def _call_of(leg: Leg) -> Call:
        call = leg.call
        assert call is not None
        return call

    # ------------------------------------------------------------------ call listener
    def leg_leaving_call(self, call: Call, leg: Leg) -> None:
        """If ``leg`` talked while the call was recorded, it is one of the recording's parties (who may read
        it besides the account's admins)."""
        if call.recording is not None and leg.answered_on is not None and leg.endpoint.principal_id:
            call.recording.principal_ids.add(leg.endpoint.principal_id)

    def call_finished(self, tx: CallTransaction, call: Call) -> None:
        self.stop(tx, call)

    # ------------------------------------------------------------------ the verbs
    def start_recording(self, tx: CallTransaction, leg: Leg) -> None:
        require_state(leg, "connected", "held", action="startRecording")
        call = self._call_of(leg)
        if call.recording is not None:
            raise Conflict("AlreadyRecording", f"call {leg.leg_id} is already being recorded")
        self.start(call)
        self.table.emit_state(tx, leg)

    def stop_recording(self, tx: CallTransaction, leg: Leg) -> None:
        require_state(leg, "connected", "held", action="stopRecording")
        self._recording_of(leg, "stopRecording")
        self.stop(tx, self._call_of(leg))
        self.table.emit_state(tx, leg)

    def pause_recording(self, tx: CallTransaction, leg: Leg) -> None:
        require_state(leg, "connected", "held", action="pauseRecording")
        recording = self._recording_of(leg, "pauseRecording")
        if recording.paused:
            raise Conflict("RecordingPaused", "the recording is already paused")
        recording.seconds += seconds_between(recording.running_since, self.table.now())
        recording.running_since = None
        self.table.emit_state(tx, leg)

    def resume_recording(self, tx: CallTransaction, leg: Leg) -> None:
        require_state(leg, "connected", "held", action="resumeRecording")
        recording = self._recording_of(leg, "resumeRecording")
        if not recording.paused:
            raise Conflict("RecordingNotPaused", "the recording is not paused")
        recording.running_since = self.table.now()
        self.table.emit_state(tx, leg)

    def save_recording(self, tx: CallTransaction, leg: Leg) -> None:
        """Keep the running recording when it stops (undoes a discard)."""
        require_state(leg, "connected", "held", action="saveRecording")
        recording = self._recording_of(leg, "saveRecording")
        if recording.keep:
            raise Conflict("RecordingSaved", "the recording is already to be saved")
        recording.keep = True
        self.table.emit_state(tx, leg)

    def discard_recording(self, tx: CallTransaction, leg: Leg) -> None:
        """The call goes on being recorded, but the recording is dropped when it stops unless saved again."""
        require_state(leg, "connected", "held", action="discardRecording")
        recording = self._recording_of(leg, "discardRecording")
        if not recording.keep:
            raise Conflict("RecordingDiscarded", "the recording is already to be discarded")
        recording.keep = False
        self.table.emit_state(tx, leg)

    def tag_recording(self, tx: CallTransaction, leg: Leg, tags: dict[str, Any] | None) -> None:
        """Add tags (a non-empty JSON object) to the running recording. ``tags`` is checked here, after the
        call's state, so a call in the wrong state is reported as such whatever the tags."""
        require_state(leg, "connected", "held", action="tagRecording")
        if not isinstance(tags, dict) or not tags:
            raise Invalid("InvalidArgs", 'tagRecording args are a JSON object, e.g. {"CustomP100": "Queue Name"}')
        self._recording_of(leg, "tagRecording").tags.update(tags)
        self.table.emit_state(tx, leg)
