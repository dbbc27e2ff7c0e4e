"""Presence: what each user says about their availability, and what the others see of it."""
from callyard.core.presence.service import STATUSES, WORK_MODES, Presence

__all__ = ["Presence", "STATUSES", "WORK_MODES"]
