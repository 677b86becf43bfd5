"""governance: keys, rate limits, budgets, prompt versions and the append-only audit log.

Revision ID: gov_0001
Revises:
Create Date: 2026-06-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "gov_0001"
down_revision = None
branch_labels = ("governance",)
depends_on = None

TS = sa.DateTime(timezone=True)

_PG_APPEND_ONLY = """
CREATE OR REPLACE FUNCTION governance_audit_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'governance_audit_log is append-only: % refused', TG_OP;
END;
$$ LANGUAGE plpgsql
"""


def upgrade() -> None:
    op.create_table(
        "governance_api_keys",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
        sa.Column("user_id", sa.String(128), nullable=False),
        sa.Column("department", sa.String(128), nullable=False, server_default=""),
        sa.Column("project", sa.String(128), nullable=False, server_default=""),
        sa.Column("groups", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("allowed_routes", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("allowed_models", sa.Text(), nullable=False, server_default="[]"),
        sa.Column("description", sa.Text(), nullable=False, server_default=""),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("created_by", sa.String(128), nullable=False, server_default=""),
        sa.Column("revoked_at", TS, nullable=True),
    )
    op.create_table(
        "governance_rate_limits",
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("subject", sa.String(128), nullable=False),
        sa.Column("requests_per_minute", sa.Integer(), nullable=True),
        sa.Column("tokens_per_minute", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("scope", "subject"),
    )
    op.create_table(
        "governance_budgets",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("scope", sa.String(16), nullable=False),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("period", sa.String(8), nullable=False),
        sa.Column("hard_limit_nano", sa.BigInteger(), nullable=False),
        sa.Column("soft_limit_nano", sa.BigInteger(), nullable=True),
        sa.Column("updated_at", TS, nullable=False),
        sa.UniqueConstraint("scope", "name", name="uq_governance_budgets_scope_name"),
    )
    op.create_table(
        "governance_budget_usage",
        sa.Column("budget_id", sa.Integer(), nullable=False),
        sa.Column("window", sa.String(16), nullable=False),
        sa.Column("spent_nano", sa.BigInteger(), nullable=False, server_default="0"),
        sa.Column("reserved_nano", sa.BigInteger(), nullable=False, server_default="0"),
        sa.PrimaryKeyConstraint("budget_id", "window"),
    )
    op.create_table(
        "governance_budget_reservations",
        sa.Column("id", sa.String(40), nullable=False),
        sa.Column("budget_id", sa.Integer(), nullable=False),
        sa.Column("window", sa.String(16), nullable=False),
        sa.Column("amount_nano", sa.BigInteger(), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("id", "budget_id"),
    )
    op.create_index(
        "ix_governance_budget_reservations_created_at",
        "governance_budget_reservations",
        ["created_at"],
    )
    op.create_table(
        "governance_prompt_versions",
        sa.Column("prompt_id", sa.String(128), nullable=False),
        sa.Column("version", sa.String(16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False, server_default=""),
        sa.Column("first_seen_at", TS, nullable=False),
        sa.PrimaryKeyConstraint("prompt_id", "version"),
    )
    op.create_table(
        "governance_prompt_activations",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("prompt_id", sa.String(128), nullable=False),
        sa.Column("version", sa.String(16), nullable=False),
        sa.Column("action", sa.String(16), nullable=False),
        sa.Column("activated_by", sa.String(128), nullable=False, server_default=""),
        sa.Column("activated_at", TS, nullable=False),
    )
    op.create_index(
        "ix_governance_prompt_activations_prompt",
        "governance_prompt_activations",
        ["prompt_id", "id"],
    )
    op.create_table(
        "governance_audit_log",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            primary_key=True,
            autoincrement=False,
        ),
        sa.Column("request_id", sa.String(128), nullable=False),
        sa.Column("created_at", TS, nullable=False),
        sa.Column("payload", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
    )
    op.create_index("ix_governance_audit_log_request_id", "governance_audit_log", ["request_id"])
    head = op.create_table(
        "governance_audit_head",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "record_hash": "0" * 64}])
    _append_only_triggers()


def _append_only_triggers() -> None:
    """The audit table refuses UPDATE and DELETE (and TRUNCATE on PostgreSQL)."""
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute(_PG_APPEND_ONLY)
        op.execute(
            "CREATE TRIGGER governance_audit_no_change BEFORE UPDATE OR DELETE "
            "ON governance_audit_log FOR EACH ROW EXECUTE FUNCTION governance_audit_append_only()"
        )
        op.execute(
            "CREATE TRIGGER governance_audit_no_truncate BEFORE TRUNCATE "
            "ON governance_audit_log FOR EACH STATEMENT "
            "EXECUTE FUNCTION governance_audit_append_only()"
        )
    elif dialect == "sqlite":
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER governance_audit_no_{verb.lower()} BEFORE {verb} "
                "ON governance_audit_log BEGIN "
                f"SELECT RAISE(ABORT, 'governance_audit_log is append-only: {verb} refused'); "
                "END"
            )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS governance_audit_no_change ON governance_audit_log")
        op.execute("DROP TRIGGER IF EXISTS governance_audit_no_truncate ON governance_audit_log")
        op.execute("DROP FUNCTION IF EXISTS governance_audit_append_only()")
    for name in (
        "governance_audit_head",
        "governance_audit_log",
        "governance_prompt_activations",
        "governance_prompt_versions",
        "governance_budget_reservations",
        "governance_budget_usage",
        "governance_budgets",
        "governance_rate_limits",
        "governance_api_keys",
    ):
        op.drop_table(name)
