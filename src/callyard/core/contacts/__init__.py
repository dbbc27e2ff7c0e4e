"""A user's contacts: the directory as one user sees it (contact ids, search), their contact list with
favourites and VIP/BLOCKED status, directory fields, presence authorization and scheduled (future) presence."""
from callyard.core.contacts.service import Contacts, Entry

__all__ = ["Contacts", "Entry"]
