"""The append-only, tenant-scoped status history with a per-tenant hash chain.

Each row carries the tenant's next sequence number and chain_hash = sha256(prev_hash | canonical
row), so an export can be verified offline and the first broken link named.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa

from costsim_assets.store.tables import status_history
from costsim_assets.store.tenancy import SYSTEM_TENANT, tenant_scope

GENESIS_HASH = "0" * 64
CHAINED_FIELDS = (
    "tenant_id",
    "seq",
    "entity_type",
    "entity_id",
    "old_status",
    "new_status",
    "actor_type",
    "actor_id",
    "reason",
    "correlation_id",
    "metadata",
    "created_at",
)


def chain_hash(prev_hash: str, row: Mapping[str, Any]) -> str:
    """The link of one row: hash of the previous link and this row's chained fields."""
    body = json.dumps({f: row[f] for f in CHAINED_FIELDS}, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(f"{prev_hash}|{body}".encode()).hexdigest()


def _lock_tenant(conn: sa.Connection, tenant_id: str) -> None:
    """Serialize appends per tenant (SQLite's BEGIN IMMEDIATE already serializes writers)."""
    if conn.dialect.name == "postgresql":
        conn.execute(sa.text("SELECT pg_advisory_xact_lock(hashtext(:t))"), {"t": tenant_id})


def append_status(
    conn: sa.Connection,
    *,
    tenant_id: str,
    entity_type: str,
    entity_id: str,
    old_status: str | None,
    new_status: str,
    actor_type: str,
    actor_id: str,
    reason: str,
    correlation_id: str | None = None,
    metadata: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Append one row in the caller's transaction and return it (system rows are written with '*')."""
    tenant_scope(conn, None if tenant_id == SYSTEM_TENANT else tenant_id)
    _lock_tenant(conn, tenant_id)
    last = conn.execute(
        sa.select(status_history.c.seq, status_history.c.chain_hash)
        .where(status_history.c.tenant_id == tenant_id)
        .order_by(status_history.c.seq.desc())
        .limit(1)
    ).first()
    row = {
        "tenant_id": tenant_id,
        "seq": (last.seq + 1) if last else 1,
        "entity_type": entity_type,
        "entity_id": entity_id,
        "old_status": old_status,
        "new_status": new_status,
        "actor_type": actor_type,
        "actor_id": actor_id,
        "reason": reason,
        "correlation_id": correlation_id,
        "metadata": dict(metadata or {}),
        "created_at": datetime.now(UTC).isoformat(timespec="microseconds"),
    }
    prev = last.chain_hash if last else GENESIS_HASH
    row.update(prev_hash=prev, chain_hash=chain_hash(prev, row))
    row["id"] = conn.execute(sa.insert(status_history).values(**row)).inserted_primary_key[0]
    return row


def latest_statuses(conn: sa.Connection, tenant_id: str, entity_type: str, limit: int = 1000) -> list[str]:
    """The newest `new_status` values of one tenant's entities of a type, newest first."""
    tenant_scope(conn, tenant_id)
    query = (
        sa.select(status_history.c.new_status)
        .where(status_history.c.tenant_id == tenant_id, status_history.c.entity_type == entity_type)
        .order_by(status_history.c.seq.desc())
        .limit(limit)
    )
    return list(conn.execute(query).scalars())


def first_broken_link(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any] | None:
    """Walk rows (ordered by tenant, seq) and name the first whose link does not verify."""
    expected: dict[str, tuple[int, str]] = {}
    for row in rows:
        tenant = row["tenant_id"]
        seq, prev = expected.get(tenant, (1, GENESIS_HASH))
        problem = None
        if row["seq"] != seq:
            problem = f"sequence gap: expected {seq}, found {row['seq']}"
        elif row["prev_hash"] != prev:
            problem = "prev_hash does not match the previous row's chain_hash"
        elif row["chain_hash"] != chain_hash(prev, row):
            problem = "chain_hash does not match the row's content"
        if problem:
            return {"tenant_id": tenant, "seq": row["seq"], "problem": problem}
        expected[tenant] = (seq + 1, row["chain_hash"])
    return None
