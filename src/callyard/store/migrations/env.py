"""Alembic environment: callyard runs migrations programmatically on its own connection at start."""
from alembic import context

from callyard.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
