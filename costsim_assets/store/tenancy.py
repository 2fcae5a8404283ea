"""The tenant a PostgreSQL transaction may see, enforced by row-level security (migrations 0004, 0005)."""

from __future__ import annotations

import sqlalchemy as sa

ALL_TENANTS = "*"
# Every table whose PostgreSQL policy reads `costsim.tenant` (one predicate, on column tenant_id).
RLS_TABLES = ("status_history", "status_history_exports", "sandbox.outcomes", "sandbox.outcome_steps")


def tenant_scope(conn: sa.Connection, tenant_id: str | None) -> None:
    """Limit this transaction to one tenant's rows in RLS_TABLES (None: all, for admins and the system).

    PostgreSQL only, and transaction-local, so a pooled connection never carries it to another
    request; SQLite has no RLS and relies on the queries' tenant predicates.
    """
    if tenant_id == ALL_TENANTS:
        raise ValueError(f"{ALL_TENANTS!r} is not a tenant: pass None for every tenant")
    if conn.dialect.name == "postgresql":
        conn.execute(
            sa.text("SELECT set_config('costsim.tenant', :t, true)"),
            {"t": ALL_TENANTS if tenant_id is None else tenant_id},
        )
