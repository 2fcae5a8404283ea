"""The record of every status-history export: who asked, when, for what, and the file's hash."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from costsim_assets.store.tables import status_history_exports
from costsim_assets.store.tenancy import tenant_scope


def record_export(conn: sa.Connection, row: Mapping[str, Any]) -> None:
    """Insert one export record under the scope of the tenant it exported ('*': every tenant)."""
    tenant_scope(conn, None if row["tenant_id"] == "*" else row["tenant_id"])
    conn.execute(sa.insert(status_history_exports).values(**row))


def find_export(conn: sa.Connection, export_id: str) -> dict[str, Any] | None:
    """One export by id, across tenants: the caller must then check the signed tenant_id."""
    tenant_scope(conn, None)
    row = (
        conn.execute(sa.select(status_history_exports).where(status_history_exports.c.id == export_id))
        .mappings()
        .first()
    )
    return dict(row) if row else None
