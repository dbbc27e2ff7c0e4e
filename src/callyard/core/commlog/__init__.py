"""The users' communication log: a projection of engine events (see ``service.py``)."""
from callyard.core.commlog.service import CommLog

__all__ = ["CommLog"]
