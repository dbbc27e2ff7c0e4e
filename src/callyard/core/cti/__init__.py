"""CTI webhook registrations (the UC User API's per-call and per-user call-state webhooks)."""
