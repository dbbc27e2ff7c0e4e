"""The schema, as SQLAlchemy Core tables. Alembic migrations in ``migrations/versions`` create it; keep the
two in step (a test compares them)."""
from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

documents = sa.Table(
    "documents", metadata,
    sa.Column("kind", sa.String(40), primary_key=True),
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("account_id", sa.String(64), nullable=True, index=True),
    sa.Column("body", sa.Text, nullable=False),
)

blobs = sa.Table(
    "blobs", metadata,
    sa.Column("id", sa.String(200), primary_key=True),
    sa.Column("content_type", sa.String(100), nullable=False),
    sa.Column("data", sa.LargeBinary, nullable=False),
)

events = sa.Table(
    "events", metadata,
    sa.Column("seq", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True, autoincrement=True),
    sa.Column("occurred_at", sa.String(40), nullable=False),
    sa.Column("type", sa.String(80), nullable=False),
    sa.Column("account_id", sa.String(64), nullable=True, index=True),
    sa.Column("subject", sa.String(400), nullable=False),
    sa.Column("correlation_id", sa.String(100), nullable=True),
    sa.Column("body", sa.Text, nullable=True),
)

meta = sa.Table(
    "meta", metadata,
    sa.Column("key", sa.String(100), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
