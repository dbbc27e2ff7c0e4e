"""Personal contacts (speed dials, abbreviated numbers) owned by a user, a user group or the organisation."""
from callyard.core.personal_contacts.service import PersonalContacts

__all__ = ["PersonalContacts"]
