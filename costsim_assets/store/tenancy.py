"""Which history rows a tenant may see: its own and the global events of tenant `_system`
(routing transitions, canary and validation verdicts, incidents). The query layer filters by
`visible_tenants`; on PostgreSQL, row-level security (migrations 0004 and 0006) enforces the same
rule for the tenant set on the transaction; the sandbox outcomes tables (migration 0005) use the
same setting with the tenant's own rows only."""

from __future__ import annotations

import sqlalchemy as sa

ALL_TENANTS = "*"
# Every table whose PostgreSQL policy reads `costsim.tenant` (on column tenant_id).
RLS_TABLES = ("status_history", "status_history_exports", "sandbox.outcomes", "sandbox.outcome_steps")
SYSTEM_TENANT = "_system"  # global events, readable by every tenant


def visible_tenants(tenant_id: str) -> tuple[str, ...]:
    """The tenants whose history rows `tenant_id` may read."""
    return (tenant_id,) if tenant_id == SYSTEM_TENANT else (tenant_id, SYSTEM_TENANT)


def tenant_scope(conn: sa.Connection, tenant_id: str | None) -> None:
    """Limit this transaction to one tenant's history rows and the global ones (None: all, for
    admins and the system); writes stay limited to that tenant.

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
