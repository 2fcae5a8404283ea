"""Status-history export records, and PostgreSQL row-level security on both history tables.

A session sees and writes only rows of the tenant in `costsim.tenant` (set per transaction by
store.tenancy.tenant_scope), or every row when it is '*'. Superusers bypass RLS; the app role
(engine.provision_app_role) does not.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

RLS_TABLES = ("status_history", "status_history_exports")
IN_SCOPE = (
    "(current_setting('costsim.tenant', true) = '*' OR tenant_id = current_setting('costsim.tenant', true))"
)


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(JSONB(), "postgresql")


def _enable_rls(table: str) -> None:
    op.execute(f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY")
    op.execute(f"CREATE POLICY {table}_tenant ON {table} USING {IN_SCOPE} WITH CHECK {IN_SCOPE}")


def _disable_rls(table: str) -> None:
    op.execute(f"DROP POLICY {table}_tenant ON {table}")
    op.execute(f"ALTER TABLE {table} NO FORCE ROW LEVEL SECURITY")
    op.execute(f"ALTER TABLE {table} DISABLE ROW LEVEL SECURITY")


def upgrade() -> None:
    op.create_table(
        "status_history_exports",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant_id", sa.String(128), nullable=False),
        sa.Column("actor_key_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("filters", _json(), nullable=False),
        sa.Column("format", sa.String(8), nullable=False),
        sa.Column("row_count", sa.Integer, nullable=False),
        sa.Column("file_path", sa.Text, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_status_history_exports"),
        sa.CheckConstraint("format IN ('csv', 'jsonl')", name="ck_status_history_exports_format"),
    )
    op.create_index(
        "ix_status_history_exports_tenant_created_at", "status_history_exports", ["tenant_id", "created_at"]
    )
    if op.get_bind().dialect.name == "postgresql":
        for table in RLS_TABLES:
            _enable_rls(table)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _disable_rls("status_history")
    op.drop_table("status_history_exports")
