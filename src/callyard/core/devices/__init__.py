"""A user's devices as the end user sees them: the terminals of their extension on the engine (desk phone,
softphone, mobile; ``core/engine/terminals.py``) with the names, icons and status they keep, and their
caller-id lines (``core/engine/lines.py``). See ``service.py``."""
from callyard.core.devices.service import Devices, acting_for

__all__ = ["Devices", "acting_for"]
