"""Realized outcomes per request and per step; provenance for every request (V2 'skipped').

Outcomes live in the sandbox area beside provenance (one row per request, keyed by its provenance
id; one row per step). On PostgreSQL both tables get the same row-level security as the history
tables (migration 0004): a session sees and writes only the tenant in `costsim.tenant`, or every
tenant when it is '*'. Provenance gains a unique (tenant_id, request_id) index, the key outcomes are
reported by, and the status `skipped` (V1's half recorded while V2 does not run). A downgrade
fails while `skipped` rows exist, rather than deleting provenance.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SANDBOX = "sandbox"
RLS_TABLES = ("outcomes", "outcome_steps")
IN_SCOPE = (
    "(current_setting('costsim.tenant', true) = '*' OR tenant_id = current_setting('costsim.tenant', true))"
)
V2_STATUS_BEFORE = "v2_status IN ('pending', 'ok', 'error', 'timeout', 'schema_error')"
V2_STATUS_AFTER = "v2_status IN ('pending', 'ok', 'error', 'timeout', 'schema_error', 'skipped')"


def _provenance(check: str) -> None:
    """Swap the v2_status check (SQLite rebuilds the table in batch mode; PostgreSQL alters it)."""
    with op.batch_alter_table("provenance", schema=SANDBOX) as batch:
        batch.drop_constraint("ck_provenance_v2_status", type_="check")
        batch.create_check_constraint("ck_provenance_v2_status", sa.text(check))


def _outcomes() -> None:
    op.create_table(
        "outcomes",
        sa.Column("provenance_id", sa.String(36), nullable=False),
        sa.Column("tenant_id", sa.String(128), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("source", sa.String(8), nullable=False),
        sa.Column("payload_sha256", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("provenance_id", name="pk_outcomes"),
        sa.ForeignKeyConstraint(
            ["provenance_id"], [f"{SANDBOX}.provenance.id"], name="fk_outcomes_provenance_id_provenance"
        ),
        sa.CheckConstraint("source IN ('api', 'replay')", name="ck_outcomes_source"),
        schema=SANDBOX,
    )
    op.create_index(
        "ix_outcomes_tenant_received_at", "outcomes", ["tenant_id", "received_at"], schema=SANDBOX
    )


def _outcome_steps() -> None:
    op.create_table(
        "outcome_steps",
        sa.Column("provenance_id", sa.String(36), nullable=False),
        sa.Column("step_index", sa.Integer, nullable=False, autoincrement=False),
        sa.Column("tenant_id", sa.String(128), nullable=False),
        sa.Column("skill", sa.String(128), nullable=False),
        sa.Column("model", sa.String(128), nullable=True),
        sa.Column("input_tokens", sa.BigInteger, nullable=True),
        sa.Column("output_tokens", sa.BigInteger, nullable=True),
        sa.Column("cost_cents", sa.Float, nullable=False),
        sa.Column("latency_ms", sa.Float, nullable=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.PrimaryKeyConstraint("provenance_id", "step_index", name="pk_outcome_steps"),
        sa.ForeignKeyConstraint(
            ["provenance_id"],
            [f"{SANDBOX}.outcomes.provenance_id"],
            name="fk_outcome_steps_provenance_id_outcomes",
        ),
        sa.CheckConstraint("status IN ('ok', 'error', 'timeout', 'skipped')", name="ck_outcome_steps_status"),
        sa.CheckConstraint(
            "step_index >= 0 AND cost_cents >= 0 AND (input_tokens IS NULL OR input_tokens >= 0) "
            "AND (output_tokens IS NULL OR output_tokens >= 0) AND (latency_ms IS NULL OR latency_ms >= 0)",
            name="ck_outcome_steps_non_negative",
        ),
        schema=SANDBOX,
    )


def _enable_rls(table: str) -> None:
    qualified = f"{SANDBOX}.{table}"
    op.execute(f"ALTER TABLE {qualified} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {qualified} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY {table}_tenant ON {qualified} USING {IN_SCOPE} WITH CHECK {IN_SCOPE}")


def upgrade() -> None:
    _provenance(V2_STATUS_AFTER)
    op.create_index(
        "ix_provenance_tenant_request", "provenance", ["tenant_id", "request_id"], unique=True, schema=SANDBOX
    )
    _outcomes()
    _outcome_steps()
    if op.get_bind().dialect.name == "postgresql":
        for table in RLS_TABLES:
            _enable_rls(table)


def downgrade() -> None:
    op.drop_table("outcome_steps", schema=SANDBOX)
    op.drop_table("outcomes", schema=SANDBOX)
    op.drop_index("ix_provenance_tenant_request", "provenance", schema=SANDBOX)
    _provenance(V2_STATUS_BEFORE)  # refused while 'skipped' rows exist: provenance is never deleted here
