"""Conferences (meeting rooms with access codes), their participants, tags and attendance history."""
