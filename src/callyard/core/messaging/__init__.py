"""Conversations (chat): streams, direct conversations, participants, messages and transcripts."""
