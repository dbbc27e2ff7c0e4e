"""The event path: ``Event`` (event.py), the projection registry that derives everything from events inside or
after the committing transaction (projections.py), and the family-neutral durable webhook outbox
(outbox.py). The store writes each transaction's events to its event log in the same commit."""
