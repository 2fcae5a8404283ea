"""Canary results: one row per canary run, read at scrape time by /metrics."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from costsim_assets.store.tables import canary_results


def record_canary_result(conn: sa.Connection, **values: Any) -> int:
    return conn.execute(sa.insert(canary_results).values(**values)).inserted_primary_key[0]


def latest_canary_result(conn: sa.Connection) -> dict[str, Any] | None:
    row = (
        conn.execute(
            sa.select(canary_results)
            .order_by(canary_results.c.created_at.desc(), canary_results.c.id.desc())
            .limit(1)
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None
