"""The contact groups of the UC User API (Buddy List, Contacts, Contacts Information legacy and V1)."""
