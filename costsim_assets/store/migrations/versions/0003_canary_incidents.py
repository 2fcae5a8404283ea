"""Canary results, incidents (one per kind and day) and alert deliveries (one per key and channel).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(JSONB(), "postgresql")


def _created_at() -> sa.Column:
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    op.create_table(
        "canary_results",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _created_at(),
        sa.Column("partition_key", sa.String(10), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(8), nullable=False),
        sa.Column("sample_size", sa.Integer, nullable=False),
        sa.Column("drift_score", sa.Float, nullable=True),
        sa.Column("median_shift", sa.Float, nullable=True),
        sa.Column("schema_error_ratio", sa.Float, nullable=True),
        sa.Column("statistics", _json(), nullable=False),
        sa.Column("report_path", sa.Text, nullable=False),
        sa.Column("diff_path", sa.Text, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_canary_results"),
        sa.CheckConstraint("status IN ('ok', 'no_data')", name="ck_canary_results_status"),
    )
    op.create_index(
        "ix_canary_results_partition_created_at", "canary_results", ["partition_key", "created_at"]
    )
    op.create_table(
        "incidents",
        sa.Column("id", sa.String(36), nullable=False),
        _created_at(),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("partition_key", sa.String(10), nullable=False),
        sa.Column("priority", sa.String(4), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("evidence", _json(), nullable=False),
        sa.Column("json_path", sa.Text, nullable=True),
        sa.Column("md_path", sa.Text, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_incidents"),
        sa.UniqueConstraint("kind", "partition_key", name="uq_incidents_kind_partition"),
    )
    op.create_table(
        "alert_deliveries",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        _created_at(),
        sa.Column("dedupe_key", sa.String(128), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("payload", _json(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_alert_deliveries"),
        sa.UniqueConstraint("dedupe_key", "channel", name="uq_alert_deliveries_dedupe"),
    )


def downgrade() -> None:
    op.drop_table("alert_deliveries")
    op.drop_table("incidents")
    op.drop_table("canary_results")
