"""The contact center as its users see it: employees and their state, agents, agent groups, queues and their
real-time numbers, the interactions in queues and in employees' inboxes, and what an employee does with them.
Every operation takes the acting ``Principal`` and applies the security roles (``desk_access.py``).

Reads and changes go to the one core: the PBX (calls, via the engine's verbs) and the agent documents. The
``Desk`` is one object made of its parts:

* ``desk_access.py`` — who is asking (``Caller``) and what they may see and change;
* ``employee_desk.py`` — employees, their state (log in, busy, DND, Away, log out), greetings, agent-group
  presence;
* ``agent_desk.py`` — agents and agent groups, their states, licences;
* ``queue_desk.py`` — queues, their real-time numbers, the conversations waiting in them;
* ``conversation_desk.py`` — conversations, inboxes, the actions on them, starting one;
* ``reference_desk.py`` — reason codes, DNIS, sites, extensions, status, the directory.
"""
from __future__ import annotations

from callyard.core.contact_center.agent_desk import AgentDesk
from callyard.core.contact_center.conversation_desk import ConversationDesk
from callyard.core.contact_center.queue_desk import QueueDesk
from callyard.core.contact_center.reference_desk import ReferenceDesk


class Desk(ConversationDesk, ReferenceDesk, AgentDesk, QueueDesk):
    """What employees, supervisors and registered clients do in the contact center."""
