"""Call Recording (CTI), 6 operations: start, stop, pause, resume, save and discard the recording of a call.
A stopped recording is stored as a WAV (the Media API's recordings); a discarded one is dropped when it stops
unless saved again."""
from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from callyard.api.uc.cti.common import CtiDep, tokens
from callyard.api.uc.cti.schemas import CallState, StateToken
from callyard.api.uc.edge import ERROR_RESPONSES

router = APIRouter(prefix="/api/cti/{domain}/{userId}/calls/{callId}/recording", tags=["Call Recording (CTI)"],
                   responses=ERROR_RESPONSES)

_VERBS = {"start": "start_recording", "stop": "stop_recording", "pause": "pause_recording",
          "resume": "resume_recording", "save": "save_recording", "discard": "discard_recording"}
_SUMMARIES = {"start": "Start recording the call (the earlier part is not recorded)",
              "stop": "Stop the recording (it is stored unless discarded)",
              "pause": "Pause the recording", "resume": "Resume a paused recording",
              "save": "Save the recording (undo a discard)",
              "discard": "Discard the recording: it goes on but is dropped when it stops unless saved again"}


def _route(action: str) -> None:
    verb = _VERBS[action]

    async def recording_action(callId: str, ctx: CtiDep, body: StateToken | None = None) -> dict[str, Any]:
        method = getattr(ctx.core.engine, verb)
        view = await method(ctx.caller.principal, ctx.number, callId,
                            expect=tokens(callId, body.stateToken if body else None))
        return ctx.render(view)

    recording_action.__name__ = f"{action}_recording"
    router.add_api_route(f"/{action}", recording_action, methods=["POST"], response_model=CallState,
                         operation_id=f"{action}Recording", summary=_SUMMARIES[action])


for _action in _VERBS:
    _route(_action)
