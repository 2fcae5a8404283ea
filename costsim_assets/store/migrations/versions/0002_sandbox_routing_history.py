"""Routing state, append-only status history (immutability triggers) and sandbox provenance.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 00:00:00
"""

from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SANDBOX = "sandbox"
PG_IMMUTABLE = """
CREATE OR REPLACE FUNCTION status_history_is_append_only() RETURNS trigger AS $$
BEGIN
  RAISE EXCEPTION 'status_history is append-only: % rejected', TG_OP USING ERRCODE = 'insufficient_privilege';
END $$ LANGUAGE plpgsql;
CREATE TRIGGER status_history_no_update BEFORE UPDATE OR DELETE ON status_history
  FOR EACH ROW EXECUTE FUNCTION status_history_is_append_only();
CREATE TRIGGER status_history_no_truncate BEFORE TRUNCATE ON status_history
  FOR EACH STATEMENT EXECUTE FUNCTION status_history_is_append_only();
"""
SQLITE_IMMUTABLE = (
    "CREATE TRIGGER status_history_no_update BEFORE UPDATE ON status_history "
    "BEGIN SELECT RAISE(ABORT, 'status_history is append-only: UPDATE rejected'); END",
    "CREATE TRIGGER status_history_no_delete BEFORE DELETE ON status_history "
    "BEGIN SELECT RAISE(ABORT, 'status_history is append-only: DELETE rejected'); END",
)


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(JSONB(), "postgresql")


def _status_history() -> None:
    op.create_table(
        "status_history",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("tenant_id", sa.String(128), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("entity_type", sa.String(64), nullable=False),
        sa.Column("entity_id", sa.String(128), nullable=False),
        sa.Column("old_status", sa.String(64), nullable=True),
        sa.Column("new_status", sa.String(64), nullable=False),
        sa.Column("actor_type", sa.String(32), nullable=False),
        sa.Column("actor_id", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("correlation_id", sa.String(128), nullable=True),
        sa.Column("metadata", _json(), nullable=False),
        sa.Column("created_at", sa.String(32), nullable=False),
        sa.Column("prev_hash", sa.String(64), nullable=False),
        sa.Column("chain_hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_status_history"),
        sa.UniqueConstraint("tenant_id", "seq", name="uq_status_history_tenant_seq"),
    )
    op.create_index("ix_status_history_entity", "status_history", ["tenant_id", "entity_type", "entity_id"])
    if op.get_bind().dialect.name == "postgresql":
        op.execute(PG_IMMUTABLE)
    else:
        for statement in SQLITE_IMMUTABLE:
            op.execute(statement)


def _routing_state() -> None:
    table = op.create_table(
        "routing_state",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_type", sa.String(32), nullable=False),
        sa.Column("actor_id", sa.String(128), nullable=False),
        sa.Column("reason", sa.Text, nullable=False),
        sa.Column("incident_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_routing_state"),
        sa.CheckConstraint("id = 1", name="ck_routing_state_singleton"),
        sa.CheckConstraint("state IN ('enabled', 'disabled')", name="ck_routing_state_state"),
    )
    op.bulk_insert(
        table,
        [
            {
                "id": 1,
                "state": "enabled",
                "revision": 0,
                "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
                "actor_type": "system",
                "actor_id": "migration-0002",
                "reason": "initial state",
                "incident_id": None,
            }
        ],
    )


def _provenance() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE SCHEMA IF NOT EXISTS {SANDBOX}")
    op.create_table(
        "provenance",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(128), nullable=False),
        sa.Column("request_id", sa.String(64), nullable=False),
        sa.Column("input_hash", sa.String(64), nullable=True),
        sa.Column("plan_z", sa.LargeBinary, nullable=False),
        sa.Column("code_version", sa.String(80), nullable=False),
        sa.Column("v1_version", sa.String(80), nullable=True),
        sa.Column("v1_output_hash", sa.String(64), nullable=True),
        sa.Column("v1_output_z", sa.LargeBinary, nullable=True),
        sa.Column("v1_cost_cents", sa.Float, nullable=True),
        sa.Column("v1_runtime_ms", sa.Float, nullable=True),
        sa.Column("v2_status", sa.String(16), nullable=False),
        sa.Column("v2_version", sa.String(80), nullable=True),
        sa.Column("v2_output_hash", sa.String(64), nullable=True),
        sa.Column("v2_output_z", sa.LargeBinary, nullable=True),
        sa.Column("v2_cost_cents", sa.Float, nullable=True),
        sa.Column("v2_runtime_ms", sa.Float, nullable=True),
        sa.Column("v2_error", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_provenance"),
        sa.CheckConstraint(
            "v2_status IN ('pending', 'ok', 'error', 'timeout', 'schema_error')",
            name="ck_provenance_v2_status",
        ),
        schema=SANDBOX,
    )
    for name, columns in (
        ("ix_provenance_created_at", ["created_at"]),
        ("ix_provenance_tenant_created_at", ["tenant_id", "created_at"]),
        ("ix_provenance_input_hash", ["input_hash"]),
        ("ix_provenance_v2_status", ["v2_status"]),
    ):
        op.create_index(name, "provenance", columns, schema=SANDBOX)


def upgrade() -> None:
    _status_history()
    _routing_state()
    _provenance()


def downgrade() -> None:
    op.drop_table("provenance", schema=SANDBOX)
    op.drop_table("routing_state")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TABLE status_history")
        op.execute("DROP FUNCTION status_history_is_append_only()")
    else:
        op.drop_table("status_history")
