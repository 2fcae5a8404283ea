"""Incidents link to the open incident that already disabled V2; every tenant reads global events.

A breach while V2 is already disabled still opens its incident, with `linked_incident_id` naming
the incident that disabled V2. On PostgreSQL the status-history policy lets every tenant scope
read the rows of tenant `_system` (routing transitions, canary and validation verdicts, incidents),
while writes stay limited to the scoped tenant (or '*'); a session with no scope still sees nothing.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-28 00:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SYSTEM_TENANT = "_system"
IN_SCOPE = (
    "(current_setting('costsim.tenant', true) = '*' OR tenant_id = current_setting('costsim.tenant', true))"
)
# Global rows need some tenant scope: a session that set none still sees nothing.
READABLE = (
    f"({IN_SCOPE} OR (tenant_id = '{SYSTEM_TENANT}' "
    "AND coalesce(current_setting('costsim.tenant', true), '') <> ''))"
)


def _policy(using: str) -> None:
    op.execute("DROP POLICY status_history_tenant ON status_history")
    op.execute(f"CREATE POLICY status_history_tenant ON status_history USING {using} WITH CHECK {IN_SCOPE}")


def upgrade() -> None:
    with op.batch_alter_table("incidents") as batch:
        batch.add_column(sa.Column("linked_incident_id", sa.String(36), nullable=True))
    if op.get_bind().dialect.name == "postgresql":
        _policy(READABLE)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _policy(IN_SCOPE)
    with op.batch_alter_table("incidents") as batch:
        batch.drop_column("linked_incident_id")
