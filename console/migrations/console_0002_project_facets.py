"""console: the rollup gains a per-project scope; fold the ledger in again

The facets are derived data: dropping them and resetting the watermark makes the refresher
rebuild every scope, the new one included, from the ledger (which is never touched).

Revision ID: console_0002
Revises: console_0001
Create Date: 2026-12-05
"""

from __future__ import annotations

from alembic import op

revision = "console_0002"
down_revision = "console_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("DELETE FROM console_usage_facets")
    op.execute("DELETE FROM console_rollup_state")


def downgrade() -> None:
    op.execute("DELETE FROM console_usage_facets")
    op.execute("DELETE FROM console_rollup_state")
