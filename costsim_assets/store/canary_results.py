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


def p1_outcomes(conn: sa.Connection, partition_keys: list[str]) -> dict[str, str]:
    """The latest canary's P1 outcome (pass, breach, no_data) of each of these days that has one."""
    rows = (
        conn.execute(
            sa.select(canary_results.c.partition_key, canary_results.c.statistics)
            .where(canary_results.c.partition_key.in_(partition_keys))
            .order_by(canary_results.c.created_at, canary_results.c.id)
        )
        .mappings()
        .all()
    )
    by_day: dict[str, str] = {}
    for row in rows:  # later rows of a day overwrite earlier ones
        check = ((row["statistics"] or {}).get("checks") or {}).get("realized_drift_p1") or {}
        if "outcome" in check:
            by_day[row["partition_key"]] = check["outcome"]
    return by_day
