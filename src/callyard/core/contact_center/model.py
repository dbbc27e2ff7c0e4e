"""The contact center's vocabulary: media, presence states, reason-code types, security roles.

Names follow the Mitel CX SDK (seed 004) where it names them (PresenceAvailability, AvailableReason,
MediaType); a family renders them (names or numbers) as its wire wants.
"""
from __future__ import annotations

# Media of a queue, an agent and an interaction. Voice interactions are engine calls; the others are
# ``cc_interaction`` documents routed through the same queues and agent state (``media``).
MEDIA = ("Voice", "Chat", "Email", "Sms", "OpenMedia")
MEDIA_KEYS = {"Voice": "voice", "Chat": "chat", "Email": "email", "Sms": "sms", "OpenMedia": "openMedia"}

# PresenceAvailability, in the seed's order (0 Unknown … 5 Offline).
PRESENCE = ("Unknown", "Available", "Busy", "DoNotDisturb", "Away", "Offline")
# AvailableReason, in the seed's order.
AVAILABLE_REASONS = ("Available", "ClearWorkTimer", "ClearBusy", "ClearDoNotDisturb", "Login")

# Reason-code types: Busy ("make busy") and Dnd.
REASON_TYPES = ("Busy", "Dnd")

# Security roles of an employee: a supervisor sees and changes every employee and queue of the site; an
# agent sees the queues of their own agent groups and changes only themselves.
SUPERVISOR = "Supervisor"
AGENT = "Agent"
SECURITY_ROLES = (SUPERVISOR, AGENT)

# Why the ACD made an agent not ready by itself (not a configured reason code).
RONA = "RONA"
REJECTED = "Rejected"
AWAY = "Away"

# Interaction (conversation) states.
IN_QUEUE, OFFERED, ACD, NON_ACD, OUTBOUND, HELD, ENDED = ("InQueue", "Offered", "Acd", "NonAcd", "Outbound",
                                                        "Held", "Ended")
# Where a non-voice interaction ends up: handled (by an agent, or junk / no reply), abandoned (completed before
# an agent accepted it) or failed (routing gave up; an employee or the third party may reroute it).
HANDLED, ABANDONED, FAILED = "Handled", "Abandoned", "Failed"

# ConversationActionType as seed 004 numbers it (the index is the number).
CONVERSATION_ACTIONS = (
    "Unknown", "Accept", "AutoAnswer", "Decline", "Junk", "NoReply", "Hold", "RemoveHold", "Transfer", "Pick", "End",
    "EnterAccountCode", "EnterClassificationCode", "Tag", "Invite", "ConferenceAction", "Delete", "Save", "Send",
    "Dtmf", "Cancel", "ConsultationCall", "Forward", "JunkFailed", "Retry", "Reroute", "ChangeCase",
    "EnhancedTransfer", "CompleteTransfer", "SwapHold", "Preview", "CancelRequestHelp", "Like", "UndoLike", "Reuse",
    "Dislike", "Warn", "RemoveWarning", "LinkToTemplate", "UnlinkTemplate", "StartRecord", "StopRecord")
