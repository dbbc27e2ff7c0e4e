"""What the UC family's routers build on — import from here:

* ``caller_for(api, others=…, cti=…)``: the dependency resolving the ticket and the ``{domain}/{user}`` (or
  ``{userId}``) of the path to a ``UcCaller`` (``.principal`` for the core, ``.user`` the user acted on,
  ``.caller`` the ticket's user, ``.is_self``);
* the API group names (``CALL_CONTROL``, ``CALLS``, ``USER``, ``QUEUE_STATISTICS``, ``CONTACT_SEARCH``, ``SMS``);
* ``invalid``/``not_found``/``forbidden``/``conflict``: raise a refusal in the ValidationResult envelope
  (field, i18n code, description, offending value);
* ``ERROR_RESPONSES``: ``responses=`` for a router, so its OpenAPI documents the error body;
* ``ValidationResult``: the error model.
"""
from callyard.api.uc.edge.auth import UcCaller, caller_for, grant, ticket_token
from callyard.api.uc.edge.errors import (ERROR_RESPONSES, ERRORS, ValidationResult, conflict, forbidden, invalid,
                                         not_found)
from callyard.core.auth.tickets import APIS

CALL_CONTROL, CALLS, USER, QUEUE_STATISTICS, CONTACT_SEARCH, SMS = APIS

__all__ = ["APIS", "CALLS", "CALL_CONTROL", "CONTACT_SEARCH", "ERRORS", "ERROR_RESPONSES", "QUEUE_STATISTICS",
           "SMS", "USER", "UcCaller", "ValidationResult", "caller_for", "conflict", "forbidden", "grant",
           "invalid", "not_found", "ticket_token"]
