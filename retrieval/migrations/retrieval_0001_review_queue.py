"""retrieval: the human review queue

Revision ID: retrieval_0001
Revises:
Create Date: 2026-06-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "retrieval_0001"
down_revision = None
branch_labels = ("retrieval",)
depends_on = None


def upgrade() -> None:
    op.create_table(
        "retrieval_review",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.String(200), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("draft_answer", sa.Text(), nullable=False),
        sa.Column("passages", sa.JSON(), nullable=False),
        sa.Column("asker_user_id", sa.String(200), nullable=False),
        sa.Column("asker_department", sa.String(200), nullable=False),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("prompt_version", sa.String(200), nullable=True),
        sa.Column("model", sa.String(200), nullable=True),
        sa.Column("reviewer", sa.String(200), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("final_answer", sa.Text(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
    )
    op.create_index("ix_retrieval_review_status", "retrieval_review", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_retrieval_review_status", table_name="retrieval_review")
    op.drop_table("retrieval_review")
