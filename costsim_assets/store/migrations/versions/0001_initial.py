"""Initial store schema: validation reports and schema errors.

Revision ID: 0001
Revises:
Create Date: 2025-11-26 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _json() -> sa.types.TypeEngine[object]:
    """Frozen copy of tables.json_type so later model edits cannot rewrite history."""
    return sa.JSON().with_variant(JSONB(), "postgresql")


def _created_at() -> sa.Column[object]:
    """Insert-time timestamp filled by the database clock."""
    return sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False)


def upgrade() -> None:
    """Create both tables with their indexes and CHECK constraints."""
    op.create_table(
        "validation_reports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _created_at(),
        sa.Column("dataset", sa.String(64), nullable=False),
        sa.Column("version", sa.String(16), nullable=False),
        sa.Column("model_version", sa.String(80), nullable=False),
        sa.Column("code_version", sa.String(80), nullable=False),
        sa.Column("verdict", sa.String(8), nullable=False),
        sa.Column("reasons", _json(), nullable=False),
        sa.Column("metrics", _json(), nullable=False),
        sa.Column("report_json_path", sa.Text(), nullable=False),
        sa.Column("report_md_path", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.CheckConstraint("version IN ('v1', 'v2')", name=op.f("ck_validation_reports_version")),
        sa.CheckConstraint(
            "verdict IN ('pass', 'warn', 'fail', 'no_data')", name=op.f("ck_validation_reports_verdict")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_validation_reports")),
    )
    op.create_index(
        "ix_validation_reports_dataset_version_created_at",
        "validation_reports",
        ["dataset", "version", "created_at"],
    )
    op.create_table(
        "schema_errors",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        _created_at(),
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("record_id", sa.String(128), nullable=False),
        sa.Column("field_path", sa.Text(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("raw_record", sa.Text(), nullable=False),
        sa.Column("run_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schema_errors")),
    )
    op.create_index("ix_schema_errors_source_created_at", "schema_errors", ["source", "created_at"])


def downgrade() -> None:
    """Drop everything upgrade created, indexes first."""
    op.drop_index("ix_schema_errors_source_created_at", table_name="schema_errors")
    op.drop_table("schema_errors")
    op.drop_index("ix_validation_reports_dataset_version_created_at", table_name="validation_reports")
    op.drop_table("validation_reports")
