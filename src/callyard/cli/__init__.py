"""The ``callyard`` command."""
