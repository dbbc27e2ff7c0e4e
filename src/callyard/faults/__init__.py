"""Fault injection: the ways the real platform fails, on demand (``/_callyard/faults``)."""
