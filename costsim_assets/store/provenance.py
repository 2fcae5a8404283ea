"""Sandbox provenance: one row per shadow evaluation, written in batches, queried by the canary."""

from __future__ import annotations

import json
import zlib
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from costsim_assets.store.tables import provenance

REPLAY_REQUEST_PREFIX = "replay-"  # request ids of the traffic replay (sandbox/replay.py), not API calls
V2_COLUMNS = (
    "v2_status",
    "v2_version",
    "v2_output_hash",
    "v2_output_z",
    "v2_cost_cents",
    "v2_runtime_ms",
    "v2_error",
)


def compress(document: Any) -> bytes:
    return zlib.compress(json.dumps(document, sort_keys=True, separators=(",", ":")).encode())


def decompress(blob: bytes | None) -> Any:
    return None if blob is None else json.loads(zlib.decompress(blob))


def insert_provenance(conn: sa.Connection, rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        conn.execute(sa.insert(provenance), list(rows))


def complete_v2(conn: sa.Connection, results: Sequence[dict[str, Any]]) -> int:
    """Fill in V2's part of pending rows; rows already completed are left alone (idempotent)."""
    if not results:
        return 0
    statement = (
        sa.update(provenance)
        .where(provenance.c.id == sa.bindparam("row_id"))
        .where(provenance.c.v2_status == "pending")
        .values({c: sa.bindparam(c) for c in V2_COLUMNS})
    )
    return conn.execute(
        statement, [{"row_id": r["id"], **{c: r.get(c) for c in V2_COLUMNS}} for r in results]
    ).rowcount


def pending_rows(conn: sa.Connection, limit: int = 1000) -> list[dict[str, Any]]:
    """Rows whose V2 evaluation never finished (e.g. the process died): re-run after restart."""
    query = (
        sa.select(provenance.c.id, provenance.c.plan_z)
        .where(provenance.c.v2_status == "pending")
        .order_by(provenance.c.created_at)
        .limit(limit)
    )
    return [dict(r) for r in conn.execute(query).mappings()]


def query_provenance(
    conn: sa.Connection,
    *,
    tenant_id: str | None,
    start: datetime,
    end: datetime,
    v2_version: str | None = None,
    input_hash: str | None = None,
    limit: int | None = None,
    v1_version: str | None = None,
) -> list[dict[str, Any]]:
    """Rows in [start, end) for one tenant (None = every tenant: admin and canary only)."""
    query = sa.select(provenance).where(provenance.c.created_at >= start, provenance.c.created_at < end)
    if tenant_id is not None:
        query = query.where(provenance.c.tenant_id == tenant_id)
    if v1_version is not None:
        query = query.where(provenance.c.v1_version == v1_version)
    if v2_version is not None:
        query = query.where(provenance.c.v2_version == v2_version)
    if input_hash is not None:
        query = query.where(provenance.c.input_hash == input_hash)
    return [dict(r) for r in conn.execute(query.order_by(provenance.c.created_at).limit(limit)).mappings()]
