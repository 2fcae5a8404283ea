"""Realized outcomes (what really happened after a simulated plan ran), per request and per step.

Every function is tenant-scoped twice: a `tenant_id` predicate (None: every tenant, for the canary
and the replay only) and, on PostgreSQL, the transaction's row-level-security scope
(store.tenancy). The canary reads a day back in keyset-paged batches of plain columns (never the
output blobs), so memory stays flat however many requests the day had.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import pandas as pd
import sqlalchemy as sa

from costsim_assets.store.tables import outcome_steps, outcomes, provenance
from costsim_assets.store.tenancy import tenant_scope

READ_BATCH = 5000
MAX_READ_BATCH = 10_000  # ids of one batch go into one IN list: stay well under SQLite's 32,766
REQUEST_COLUMNS = (
    provenance.c.id.label("provenance_id"),
    provenance.c.tenant_id,
    provenance.c.request_id,
    provenance.c.created_at,
    provenance.c.input_hash,
    provenance.c.plan_z,
    provenance.c.v1_version,
    provenance.c.v1_cost_cents,
    provenance.c.v2_status,
    provenance.c.v2_version,
    provenance.c.v2_cost_cents,
    outcomes.c.received_at,
    outcomes.c.source,
)
STEP_COLUMNS = (
    outcome_steps.c.provenance_id,
    outcome_steps.c.step_index,
    outcome_steps.c.skill,
    outcome_steps.c.model,
    outcome_steps.c.input_tokens,
    outcome_steps.c.output_tokens,
    outcome_steps.c.cost_cents,
    outcome_steps.c.latency_ms,
    outcome_steps.c.status,
)
FLOAT_COLUMNS = (
    "v1_cost_cents",
    "v2_cost_cents",
    "input_tokens",
    "output_tokens",
    "cost_cents",
    "latency_ms",
)


@dataclass(frozen=True)
class RequestRef:
    """What reporting an outcome needs to know about the request it is for."""

    provenance_id: str
    created_at: datetime
    plan_z: bytes
    v2_status: str


@dataclass(frozen=True)
class OutcomeBatch:
    """Requests with outcomes (one row each) and their steps (one row per step, in the requests'
    order and then step order, so single-step plans line up row by row).

    Numbers are float64 with NaN where nothing was recorded (a latency nobody measured, tokens of a
    step that has none, V2's cost when V2 did not run); `created_at` and `received_at` are UTC.
    """

    requests: pd.DataFrame
    steps: pd.DataFrame


def find_requests(conn: sa.Connection, tenant_id: str, request_ids: Sequence[str]) -> dict[str, RequestRef]:
    """The tenant's requests among `request_ids`; another tenant's id is simply absent."""
    tenant_scope(conn, tenant_id)
    query = sa.select(
        provenance.c.request_id,
        provenance.c.id,
        provenance.c.created_at,
        provenance.c.plan_z,
        provenance.c.v2_status,
    ).where(provenance.c.tenant_id == tenant_id, provenance.c.request_id.in_(sorted(set(request_ids))))
    return {row[0]: RequestRef(*row[1:]) for row in conn.execute(query)}


def recorded_digests(
    conn: sa.Connection, tenant_id: str | None, provenance_ids: Sequence[str]
) -> dict[str, str]:
    """provenance id -> payload digest of the outcomes already recorded for those requests."""
    tenant_scope(conn, tenant_id)
    query = sa.select(outcomes.c.provenance_id, outcomes.c.payload_sha256).where(
        outcomes.c.provenance_id.in_(sorted(set(provenance_ids)))
    )
    if tenant_id is not None:
        query = query.where(outcomes.c.tenant_id == tenant_id)
    return dict(conn.execute(query).tuples().all())


def insert_outcomes(
    conn: sa.Connection,
    requests: Sequence[dict[str, Any]],
    steps: Sequence[dict[str, Any]],
    *,
    tenant_id: str | None,
) -> None:
    """Insert request and step rows in the caller's transaction; rows of another tenant are refused."""
    foreign = {r["tenant_id"] for r in (*requests, *steps)} - {tenant_id}
    if tenant_id is not None and foreign:
        raise ValueError(f"outcome rows of tenants {sorted(foreign)} in a write scoped to {tenant_id!r}")
    tenant_scope(conn, tenant_id)
    if requests:
        conn.execute(sa.insert(outcomes), list(requests))
    if steps:
        conn.execute(sa.insert(outcome_steps), list(steps))


def _in_day(query: sa.Select, start: datetime, end: datetime, tenant_id: str | None) -> sa.Select:
    query = query.where(provenance.c.created_at >= start, provenance.c.created_at < end)
    return query if tenant_id is None else query.where(provenance.c.tenant_id == tenant_id)


def count_outcomes(
    conn: sa.Connection, *, start: datetime, end: datetime, tenant_id: str | None = None
) -> dict[str, int]:
    """Requests created in [start, end) that have an outcome, per tenant (one GROUP BY)."""
    tenant_scope(conn, tenant_id)
    joined = provenance.join(outcomes, outcomes.c.provenance_id == provenance.c.id)
    query = _in_day(
        sa.select(provenance.c.tenant_id, sa.func.count()).select_from(joined), start, end, tenant_id
    )
    return dict(conn.execute(query.group_by(provenance.c.tenant_id)).tuples().all())


def _frame(rows: Sequence[sa.Row], columns: Sequence[sa.ColumnElement]) -> pd.DataFrame:
    frame = pd.DataFrame.from_records(rows, columns=[c.key for c in columns])
    for name in FLOAT_COLUMNS:
        if name in frame:
            frame[name] = pd.to_numeric(frame[name]).astype(np.float64)
    for name in ("created_at", "received_at"):
        if name in frame:
            frame[name] = pd.to_datetime(frame[name], utc=True).astype("datetime64[us, UTC]")
    return frame


def _steps_of(conn: sa.Connection, ids: list[str], tenant_id: str | None) -> pd.DataFrame:
    """The steps of these requests, in the requests' order and then step order."""
    query = sa.select(*STEP_COLUMNS).where(outcome_steps.c.provenance_id.in_(ids))
    if tenant_id is not None:
        query = query.where(outcome_steps.c.tenant_id == tenant_id)
    steps = _frame(conn.execute(query).all(), STEP_COLUMNS)
    position = steps["provenance_id"].map({pid: i for i, pid in enumerate(ids)})
    order = np.lexsort((steps["step_index"].to_numpy(), position.to_numpy()))
    return steps.iloc[order].reset_index(drop=True)


def outcome_steps_of(
    conn: sa.Connection, provenance_ids: Sequence[str], tenant_id: str | None = None
) -> pd.DataFrame:
    """The outcome steps of these requests (any number of them, read MAX_READ_BATCH ids at a time),
    in the requests' order and then step order; requests without an outcome have no rows."""
    tenant_scope(conn, tenant_id)
    ids = list(provenance_ids)
    parts = [
        _steps_of(conn, ids[i : i + MAX_READ_BATCH], tenant_id) for i in range(0, len(ids), MAX_READ_BATCH)
    ]
    return pd.concat(parts, ignore_index=True) if parts else _frame([], STEP_COLUMNS)


OBSERVATION_COLUMNS = (
    provenance.c.created_at.label("ts"),
    provenance.c.tenant_id,
    outcome_steps.c.model,
    outcome_steps.c.input_tokens,
    outcome_steps.c.output_tokens,
    outcome_steps.c.latency_ms,
)


def llm_observations(conn: sa.Connection, *, start: datetime, end: datetime) -> pd.DataFrame:
    """Every completed LLM call with reported tokens among requests created in [start, end), in time
    order: what a challenger is refitted on (columns of training.observations, all tenants)."""
    tenant_scope(conn, None)
    joined = provenance.join(outcome_steps, outcome_steps.c.provenance_id == provenance.c.id)
    query = (
        sa.select(*OBSERVATION_COLUMNS)
        .select_from(joined)
        .where(provenance.c.created_at >= start, provenance.c.created_at < end)
        .where(outcome_steps.c.skill == "llm_invoke", outcome_steps.c.status == "ok")
        .where(outcome_steps.c.input_tokens.is_not(None), outcome_steps.c.output_tokens.is_not(None))
        .order_by(provenance.c.created_at, provenance.c.id, outcome_steps.c.step_index)
    )
    frame = pd.DataFrame.from_records(conn.execute(query).all(), columns=[c.key for c in OBSERVATION_COLUMNS])
    for name in ("input_tokens", "output_tokens", "latency_ms"):
        frame[name] = pd.to_numeric(frame[name]).astype(np.float64)
    frame["ts"] = pd.to_datetime(frame["ts"], utc=True)
    return frame


def iter_outcome_batches(
    conn: sa.Connection,
    *,
    start: datetime,
    end: datetime,
    tenant_id: str | None = None,
    batch_size: int = READ_BATCH,
) -> Iterator[OutcomeBatch]:
    """Requests created in [start, end) that have outcomes, joined to their provenance, with their
    steps, `batch_size` requests at a time in (created_at, provenance id) order (keyset paging)."""
    if not 0 < batch_size <= MAX_READ_BATCH:
        raise ValueError(f"batch_size must be in 1..{MAX_READ_BATCH}")
    tenant_scope(conn, tenant_id)
    joined = provenance.join(outcomes, outcomes.c.provenance_id == provenance.c.id)
    base = _in_day(sa.select(*REQUEST_COLUMNS).select_from(joined), start, end, tenant_id)
    base = base.order_by(provenance.c.created_at, provenance.c.id).limit(batch_size)
    query = base
    while rows := conn.execute(query).all():
        requests = _frame(rows, REQUEST_COLUMNS)
        yield OutcomeBatch(requests, _steps_of(conn, requests["provenance_id"].tolist(), tenant_id))
        if len(rows) < batch_size:
            return
        last_at, last_id = rows[-1].created_at, rows[-1].provenance_id
        query = base.where(
            sa.or_(
                provenance.c.created_at > last_at,
                sa.and_(provenance.c.created_at == last_at, provenance.c.id > last_id),
            )
        )
