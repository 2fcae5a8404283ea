"""Persist rejected input records so bad data is auditable rather than silently dropped."""

import json
from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from costsim_assets.store.tables import schema_errors


def _as_text(raw_record: object) -> str:
    """Keep strings verbatim and serialise structured records deterministically."""
    if isinstance(raw_record, str):
        return raw_record
    return json.dumps(raw_record, sort_keys=True, default=str)


def record_schema_errors(
    conn: sa.Connection,
    source: str,
    errors: Iterable[Mapping[str, Any]],
    run_id: str | None = None,
) -> int:
    """Bulk-insert errors in one executemany inside the caller's transaction; return the count."""
    rows = [
        {
            "source": source,
            "record_id": str(error["record_id"]),
            "field_path": error["field_path"],
            "reason": error["reason"],
            "raw_record": _as_text(error["raw_record"]),
            "run_id": run_id,
        }
        for error in errors
    ]
    if rows:  # an empty executemany would insert one all-default row
        conn.execute(schema_errors.insert(), rows)
    return len(rows)


def count_schema_errors(conn: sa.Connection, source: str | None = None) -> int:
    """Count errors for one source, or all of them, for metrics and health checks."""
    statement = sa.select(sa.func.count()).select_from(schema_errors)
    if source is not None:
        statement = statement.where(schema_errors.c.source == source)
    return conn.execute(statement).scalar_one()


def list_schema_errors(conn: sa.Connection, source: str, limit: int = 100) -> list[dict[str, Any]]:
    """Return a source's errors newest first, capped so an API response stays small."""
    statement = (
        sa.select(schema_errors)
        .where(schema_errors.c.source == source)
        .order_by(schema_errors.c.created_at.desc(), schema_errors.c.id.desc())
        .limit(limit)
    )
    return [dict(row) for row in conn.execute(statement).mappings()]
