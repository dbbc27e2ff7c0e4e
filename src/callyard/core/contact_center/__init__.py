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

Modules: ``queues`` (queue entries, settings, the waiting lists), ``agents`` (agent state),
``distribution`` (which agents may take an entry, and which of them is offered it), ``statistics``, and
``service`` (:class:`ContactCenter`, which joins them to the engine through the engine's public API only).

Queues hold entries that wrap an interaction; today every interaction is a voice call. The entry and the
agent state are where a chat or email could later join the same queues and agents (see ``queues``); no
non-voice routing exists yet.
"""
from callyard.core.contact_center.service import ContactCenter

__all__ = ["ContactCenter"]
