"""Storage: the durable record of the core's documents, blobs and event log.

``open_store(url)`` gives a SQLAlchemy-backed store (SQLite by default, PostgreSQL with a
``postgresql+asyncpg://`` URL) whose schema Alembic migrates at start, or, for ``--ephemeral``, a
``MemoryStore`` that keeps nothing beyond the process.
"""
from callyard.store.database import MemoryStore, SqlStore, Store, open_store

__all__ = ["MemoryStore", "SqlStore", "Store", "open_store"]
