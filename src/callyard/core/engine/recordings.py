"""Call and conference recordings: metadata documents plus a real, playable audio file.

The twin has no media path, so the audio is synthesised: 8 kHz 16-bit mono PCM WAV of the recorded length,
a quiet tone whose pitch changes every second (so a player shows a real waveform and the duration is
exactly what the metadata says). Paused stretches are silence-free: a paused recording does not grow.
"""
from __future__ import annotations

import io
import math
import struct
import wave
from typing import Any

from callyard.core.errors import Forbidden, Invalid, NotFound
from callyard.core.principal import Principal
from callyard.core.runtime import Runtime
from callyard.core.state import UnitOfWork

SAMPLE_RATE = 8000
CONTENT_TYPE = "audio/wav"
MAX_SECONDS = 4 * 3600
LABEL_MAX = 256


def synthesise_wav(seconds: float) -> bytes:
    """A WAV file of ``seconds`` (rounded to 1/8000 s) of audible tone."""
    frames = max(0, int(round(min(seconds, MAX_SECONDS) * SAMPLE_RATE)))
    one_second = []
    for pitch in (440.0, 554.37, 659.25, 554.37):
        one_second.append(b"".join(struct.pack("<h", int(3000 * math.sin(2 * math.pi * pitch * n / SAMPLE_RATE)))
                                   for n in range(SAMPLE_RATE)))
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        written, index = 0, 0
        while written < frames:
            chunk = min(SAMPLE_RATE, frames - written)
            out.writeframes(one_second[index % len(one_second)][: chunk * 2])
            written += chunk
            index += 1
    return buffer.getvalue()


class Recordings:
    """Documents of kind ``recording``: ``{recordingId, accountId, callId, createdOn, contentType,
    durationInSeconds, label?, principalIds[], blobId}``."""

    def __init__(self, runtime: Runtime) -> None:
        self.rt = runtime

    def create(self, uow: UnitOfWork, *, account_id: str, call_id: str, started_on: str, seconds: float,
               principal_ids: list[str], label: str | None = None) -> dict[str, Any]:
        """Store a finished recording of ``seconds`` for ``call_id`` (a call or conference id); the principals
        listed (the parties recorded) may see it besides the account's admins."""
        recording_id = self.rt.ids.uuid()
        blob_id = f"recording:{recording_id}"
        uow.put_blob(blob_id, CONTENT_TYPE, synthesise_wav(seconds))
        doc: dict[str, Any] = {
            "recordingId": recording_id, "accountId": account_id, "callId": call_id, "createdOn": started_on,
            "contentType": CONTENT_TYPE, "durationInSeconds": round(seconds, 3),
            "principalIds": sorted(set(principal_ids)), "blobId": blob_id}
        if label:
            doc["label"] = label
        uow.put("recording", recording_id, doc)
        uow.emit("recording.created", account_id, f"/recordings/{recording_id}", _public(doc), self.rt.now_iso())
        return doc

    # ------------------------------------------------------------------ reads and edits (the Media API)
    def _visible(self, actor: Principal, doc: dict[str, Any]) -> bool:
        if doc["accountId"] != actor.account_id and not actor.at_least("GLOBAL_ADMIN"):
            return False
        return actor.at_least("ACCOUNT_ADMIN") or actor.principal_id in doc.get("principalIds", [])

    def list(self, actor: Principal) -> list[dict[str, Any]]:
        found = [d for d in self.rt.state.all("recording") if self._visible(actor, d)]
        return sorted(found, key=lambda d: (d["createdOn"], d["recordingId"]), reverse=True)

    def get(self, actor: Principal, recording_id: str) -> dict[str, Any]:
        doc = self.rt.state.get("recording", recording_id)
        if doc is None or not self._visible(actor, doc):
            raise NotFound("RecordingNotFound", f"recording {recording_id} was not found")
        return doc

    async def update(self, actor: Principal, recording_id: str, label: str | None) -> dict[str, Any]:
        async with self.rt.write() as uow:
            doc = self.get(actor, recording_id)
            if label is not None and len(label) > LABEL_MAX:
                raise Invalid("InvalidLabel", f"label is longer than {LABEL_MAX} characters")
            fields = {k: v for k, v in doc.items() if k != "label"}
            if label:
                fields["label"] = label
            doc = uow.put("recording", recording_id, fields)
            uow.emit("recording.updated", doc["accountId"], f"/recordings/{recording_id}", _public(doc),
                     self.rt.now_iso())
            return doc

    async def delete(self, actor: Principal, recording_id: str) -> dict[str, Any]:
        async with self.rt.write() as uow:
            doc = self.get(actor, recording_id)
            if not actor.at_least("ACCOUNT_ADMIN"):
                raise Forbidden("InsufficientPermissions", "deleting a recording needs the ACCOUNT_ADMIN role")
            uow.delete("recording", recording_id)
            uow.delete_blob(doc["blobId"])
            uow.emit("recording.deleted", doc["accountId"], f"/recordings/{recording_id}", None, self.rt.now_iso())
            return doc

    def media(self, doc: dict[str, Any]) -> tuple[str, bytes]:
        blob = self.rt.state.blobs.get(doc["blobId"])
        if blob is None:
            raise NotFound("RecordingNotFound", "the recording's media is gone")
        return blob


def _public(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in doc.items() if k != "blobId"}
