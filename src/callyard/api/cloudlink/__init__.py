"""The CloudLink family: one router per service (authentication, admin; media, chat, notifications and
presence follow), each served at the root path, under its service prefix and by Host header."""
