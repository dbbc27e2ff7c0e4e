"""CloudLink Media API façade (contract: specs/cloudlink-media-api.swagger.json).

One router per swagger tag: endpoints and their calls, call history, recordings, conferences and
participants. Each module translates wire requests into core calls (``core.engine`` for telephony,
``core.meetings`` for conferences) and core results into the swagger's definitions.
"""
from __future__ import annotations

from fastapi import APIRouter

from callyard.api.cloudlink.media import conferences, endpoints, history, recordings

router = APIRouter(tags=["media"])
router.include_router(endpoints.router)
router.include_router(history.router)
router.include_router(recordings.router)
router.include_router(conferences.router)
