"""Reading the status history: keyset pages for the API and a constant-memory stream for exports.

Every query is tenant-scoped twice: a `tenant_id` predicate (the tenant's rows and the global
`_system` rows, unless the caller is an admin asking for every tenant) and, on PostgreSQL, the
row-level-security scope of the transaction.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import sqlalchemy as sa

from costsim_assets.store.tables import status_history
from costsim_assets.store.tenancy import tenant_scope, visible_tenants

EQUALITY_FILTERS = ("entity_type", "entity_id", "new_status", "actor_type", "actor_id")
RANGE_FILTERS = ("created_from", "created_to")
FILTERS = EQUALITY_FILTERS + RANGE_FILTERS
EXPORT_BATCH = 5000


def _history_query(tenant_id: str | None, filters: Mapping[str, str | None]) -> sa.Select:
    """Rows one tenant may read (None: every tenant) matching the filters, in id order.

    created_from is inclusive and created_to exclusive; both compare as ISO-8601 UTC text.
    """
    unknown = set(filters) - set(FILTERS)
    if unknown:
        raise ValueError(f"unknown history filters: {sorted(unknown)}")
    query = sa.select(status_history).order_by(status_history.c.id)
    if tenant_id is not None:
        query = query.where(status_history.c.tenant_id.in_(visible_tenants(tenant_id)))
    for name in EQUALITY_FILTERS:
        if filters.get(name) is not None:
            query = query.where(status_history.c[name] == filters[name])
    if filters.get("created_from") is not None:
        query = query.where(status_history.c.created_at >= filters["created_from"])
    if filters.get("created_to") is not None:
        query = query.where(status_history.c.created_at < filters["created_to"])
    return query


def history_page(
    conn: sa.Connection,
    *,
    tenant_id: str | None,
    filters: Mapping[str, str | None],
    after_id: int | None,
    limit: int,
) -> list[dict[str, Any]]:
    """Up to `limit` rows with id > after_id: ids only grow, so later inserts land on later pages."""
    tenant_scope(conn, tenant_id)
    query = _history_query(tenant_id, filters).limit(limit)
    if after_id is not None:
        query = query.where(status_history.c.id > after_id)
    return [dict(row) for row in conn.execute(query).mappings()]


def iter_history(
    conn: sa.Connection,
    *,
    tenant_id: str | None,
    filters: Mapping[str, str | None],
    batch: int = EXPORT_BATCH,
) -> Iterator[dict[str, Any]]:
    """Every matching row through a server-side cursor, `batch` rows in memory at a time."""
    tenant_scope(conn, tenant_id)
    streaming = conn.execution_options(stream_results=True, yield_per=batch)
    for row in streaming.execute(_history_query(tenant_id, filters)).mappings():
        yield dict(row)
