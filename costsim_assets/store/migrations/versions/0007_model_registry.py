"""The V2 model registry (champion, challengers and their validation) and the serving version in
the routing state, so a promotion is one audited routing-state change.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES = ("champion", "challenger", "validated", "rejected", "retired")


def _json() -> sa.types.TypeEngine[object]:
    return sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    op.create_table(
        "model_registry",
        sa.Column("version", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("window_start", sa.String(10), nullable=True),
        sa.Column("window_end", sa.String(10), nullable=True),
        sa.Column("artifact", _json(), nullable=False),
        sa.Column("validation", _json(), nullable=False),
        sa.PrimaryKeyConstraint("version", name="pk_model_registry"),
        sa.CheckConstraint(
            "role IN (" + ", ".join(f"'{r}'" for r in ROLES) + ")", name="ck_model_registry_role"
        ),
        sa.CheckConstraint("source IN ('bootstrap', 'outcomes')", name="ck_model_registry_source"),
    )
    op.create_index("ix_model_registry_role", "model_registry", ["role"])
    with op.batch_alter_table("routing_state") as batch:
        batch.add_column(sa.Column("model_version", sa.String(80), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("routing_state") as batch:
        batch.drop_column("model_version")
    op.drop_index("ix_model_registry_role", "model_registry")
    op.drop_table("model_registry")
