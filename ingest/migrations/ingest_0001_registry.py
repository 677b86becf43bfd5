"""ingest: the document registry and the ingestion jobs

Revision ID: ingest_0001
Revises:
Create Date: 2026-06-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "ingest_0001"
down_revision = None
branch_labels = ("ingest",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "ingest_documents",
        sa.Column("collection", sa.String(200), primary_key=True),
        sa.Column("doc_id", sa.String(512), primary_key=True),
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("origin", sa.String(1000), nullable=False),
        sa.Column("source", sa.String(1000), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("doc_type", sa.String(16), nullable=False),
        sa.Column("department", sa.String(200), nullable=False),
        sa.Column("owner", sa.String(200), nullable=False),
        sa.Column("access", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("meta_hash", sa.String(64), nullable=False),
        sa.Column("config_hash", sa.String(32), nullable=False),
        sa.Column("chunk_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("error_code", sa.String(64), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("ingested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_ingest_documents_scope", "ingest_documents", ["collection", "scope"])
    op.create_table(
        "ingest_jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("collection", sa.String(200), nullable=False),
        sa.Column("scope", sa.String(200), nullable=True),
        sa.Column("request", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("total_files", sa.Integer(), nullable=False),
        sa.Column("done_files", sa.Integer(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("counts", sa.JSON(), nullable=False),
        sa.Column("errors", sa.JSON(), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("index_version", sa.String(64), nullable=True),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index("ix_ingest_jobs_collection", "ingest_jobs", ["collection", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_ingest_jobs_collection", table_name="ingest_jobs")
    op.drop_table("ingest_jobs")
    op.drop_index("ix_ingest_documents_scope", table_name="ingest_documents")
    op.drop_table("ingest_documents")
