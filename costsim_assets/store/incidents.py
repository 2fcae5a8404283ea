"""Incidents (at most one per kind and canary day) and alert deliveries (one per key and channel).

The unique keys make the drift sensor's side effects idempotent: two sensors, or a rerun of the
same partition, race to insert and exactly one wins.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from costsim_assets.store.tables import alert_deliveries, incidents


def find_incident(conn: sa.Connection, kind: str, partition_key: str) -> dict[str, Any] | None:
    """The incident of this kind opened for this canary day, if any."""
    query = sa.select(incidents).where(incidents.c.kind == kind, incidents.c.partition_key == partition_key)
    row = conn.execute(query).mappings().first()
    return dict(row) if row else None


def open_incident(conn: sa.Connection, **values: Any) -> bool:
    """Insert the incident unless one of the same kind and day exists; True when inserted."""
    if find_incident(conn, values["kind"], values["partition_key"]) is not None:
        return False
    return _insert_unless_duplicate(conn, sa.insert(incidents).values(**values))


def _insert_unless_duplicate(conn: sa.Connection, statement: sa.Insert) -> bool:
    """Insert inside a savepoint; a unique-key loser rolls back only the savepoint and gets False."""
    try:
        with conn.begin_nested():
            conn.execute(statement)
    except sa.exc.IntegrityError:
        return False
    return True


def set_incident_files(conn: sa.Connection, incident_id: str, json_path: str, md_path: str) -> None:
    conn.execute(
        sa.update(incidents).where(incidents.c.id == incident_id).values(json_path=json_path, md_path=md_path)
    )


def list_incidents(conn: sa.Connection) -> list[dict[str, Any]]:
    return [dict(r) for r in conn.execute(sa.select(incidents).order_by(incidents.c.created_at)).mappings()]


def claim_delivery(
    conn: sa.Connection, dedupe_key: str, channel: str, payload: dict, resend_failed: bool = False
) -> dict | None:
    """Reserve the right to send this alert once: the payload to send, or None when someone already
    did. With `resend_failed`, a delivery that failed is claimed again (compare-and-set) and the
    payload it was first claimed with is returned, so a retried sender repeats the same message."""
    claimed = _insert_unless_duplicate(
        conn,
        sa.insert(alert_deliveries).values(
            dedupe_key=dedupe_key, channel=channel, status="sending", attempts=0, payload=payload
        ),
    )
    if claimed or not resend_failed:
        return payload if claimed else None
    again = conn.execute(
        sa.update(alert_deliveries)
        .where(
            alert_deliveries.c.dedupe_key == dedupe_key,
            alert_deliveries.c.channel == channel,
            alert_deliveries.c.status == "failed",
        )
        .values(status="sending")
        .returning(alert_deliveries.c.payload)
    ).first()
    return again.payload if again else None


def finish_delivery(
    conn: sa.Connection, dedupe_key: str, channel: str, *, status: str, attempts: int, last_error: str | None
) -> None:
    """Record how a claimed delivery went; attempts add up over resends."""
    conn.execute(
        sa.update(alert_deliveries)
        .where(alert_deliveries.c.dedupe_key == dedupe_key, alert_deliveries.c.channel == channel)
        .values(status=status, attempts=alert_deliveries.c.attempts + attempts, last_error=last_error)
    )


def list_deliveries(conn: sa.Connection) -> list[dict[str, Any]]:
    return [
        dict(r) for r in conn.execute(sa.select(alert_deliveries).order_by(alert_deliveries.c.id)).mappings()
    ]
