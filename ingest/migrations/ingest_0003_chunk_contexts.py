"""ingest: chunk contexts written by a model, kept per document and chunk text

Revision ID: ingest_0003_chunk_contexts
Revises: ingest_0002_tasks
Create Date: 2026-12-05
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ingest_0003_chunk_contexts"
down_revision = "ingest_0002_tasks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_chunk_contexts",
        sa.Column("collection", sa.String(200), primary_key=True),
        sa.Column("doc_id", sa.String(512), primary_key=True),
        sa.Column("chunk_hash", sa.String(64), primary_key=True),
        sa.Column("writer", sa.String(128), primary_key=True),
        sa.Column("context", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("ingest_chunk_contexts")
