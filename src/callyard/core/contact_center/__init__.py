"""The contact center: queues, agents, distribution and queue statistics over the PBX engine.

* A group of type ``ACD`` is a contact-center queue: only agents who are logged in, present in the group,
  ready (not in a not-ready/"make busy" state with a reason code), idle on their phone and out of wrap-up
  are offered calls. Distribution is ``longestIdle`` by default; ``priority`` (member order), ``skills``
  (highest level in the call's skill, then longest idle) and ``ringAll`` are options.
* Any other group with a number (``HUNT``, …) rings its members who are idle and not on DND, all at once.
* Calls wait in FIFO order within priority. An agent who does not answer within ``ringTimeoutSeconds`` is
  made not ready with reason ``RONA`` and the call goes back to the head of the queue.
* Queue statistics (waiting, longest wait, agents logged in and free, offered/answered/abandoned today)
  are derived from the live queue and the ``queue_call`` records written as calls leave the queue.

Queue settings live in the group document's ``acd`` object; agent state in ``agent`` documents.

Modules: ``queues`` (queue entries, settings, the waiting lists), ``agents`` (agent state, one document per
user and media), ``distribution`` (which agents may take an entry, and which of them is offered it),
``statistics``, ``service`` (:class:`ContactCenter`, which joins them to the engine through the engine's
public API only), and the contact center as the CX SDK family sees it: ``model`` (media, presence states,
security roles), ``config`` (sites, employees with one agent per media, agent groups, queues of a media type,
reason codes, DNIS, clients — loaded by ``tenant`` from an account's ``contactCenter``), ``employees``
(presence per media and aggregate), ``interactions`` (media-neutral conversation views), ``desk`` (what
employees, supervisors and clients do, with the security roles), ``authorization`` (the contact center's
authorization server) and ``announcements`` (the ``cc.*`` events the live hubs are built from).

Public API used by other families: ``ContactCenter.set_agent`` (login/logout, ready/not ready with a reason,
skills, per-group presence of a user's Voice agent), ``ContactCenter.stats_of`` / ``queue_stats`` (ACD
statistics), ``ContactCenter.queue_state_view`` (a contact-center queue's real-time numbers) and
``ContactCenter.desk`` (:class:`~callyard.core.contact_center.desk.Desk`).

Queues hold entries that wrap a voice call. Chat, e-mail, SMS and open-media interactions are
``cc_interaction`` documents routed through the same queues and agent state by ``media``
(:class:`~callyard.core.contact_center.media.Multimedia`, ``ContactCenter.media``: its module docstring lists
the API the media build on); their customers are directory contacts and their cases ``cc_case`` documents
(``cases``).
"""
from callyard.core.contact_center.service import ContactCenter

__all__ = ["ContactCenter"]
