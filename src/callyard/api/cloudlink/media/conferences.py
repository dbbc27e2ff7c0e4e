"""Media API: conferences, participants, attendances and content search (swagger tags Conference and
Participant)."""
from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["media"])
