"""retrieval: the answer key of review items (reviewed answers are served back)

Revision ID: retrieval_0002
Revises: retrieval_0001
Create Date: 2026-06-15
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "retrieval_0002"
down_revision = "retrieval_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("retrieval_review") as batch:
        batch.add_column(sa.Column("answer_key", sa.String(64), nullable=True))
    op.create_index(
        "ix_retrieval_review_answer_key", "retrieval_review", ["answer_key", "decided_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_retrieval_review_answer_key", table_name="retrieval_review")
    with op.batch_alter_table("retrieval_review") as batch:
        batch.drop_column("answer_key")
