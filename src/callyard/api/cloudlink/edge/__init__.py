"""CloudLink's edge: what every CloudLink request goes through and no other family's does — the service
hosts and prefixes, the ``X-Mitel-App`` header, the best-practice audit hookup, the ``{name, message}``
envelope with CloudLink's statuses, OData paging and the JSON body readers."""
from __future__ import annotations

# The API version segment of every CloudLink path (``/2017-09-01/…``, ``/media/2017-09-01/…``).
BASE_PATH = "/2017-09-01"
# The services, each mounted at the root and under its own prefix (and reached by its host).
# Stamped on every refresh token the twin issues (the platform's tokens carry it).
REFRESH_CLAIMS = {"authProvider": "cloudlink"}
SERVICES = ("authentication", "admin", "media", "chat", "notifications", "presence")
