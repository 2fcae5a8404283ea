"""Prometheus metrics computed from the databases on every scrape.

Dagster runs (canary, sensors) and API workers are separate processes, so nothing is kept in
process memory: each scrape aggregates the store with a few small queries.

Counting, so the alerts mean what they say: `costsim_requests_total` counts each simulate request
to the API once (V1 answered it, or the plan schema rejected it), whatever the routing state;
`costsim_schema_errors_total` counts the rejected ones, so P3's ratio is per request.
`costsim_runs_total` counts evaluations per version: V1 for every provenance row it answered, V2
only where it ran (rows whose V2 status is `skipped` are V1-only requests).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterator
from itertools import accumulate
from typing import Any

import sqlalchemy as sa
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.metrics_core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from prometheus_client.utils import floatToGoString

from costsim_assets.canary.checks import canary_check
from costsim_assets.store.canary_results import latest_canary_result
from costsim_assets.store.provenance import REPLAY_REQUEST_PREFIX
from costsim_assets.store.routing import read_routing_state
from costsim_assets.store.tables import V2_STATUSES, VERSIONS, provenance, schema_errors

LOG = logging.getLogger(__name__)
WINDOWS = ("canary", "reference")
SCHEMA_ERROR_SOURCE = "api"
NOT_V2_RUNS = ("skipped",)  # provenance of a request V2 did not run for (flag or routing off)


class StoreCollector:
    """A prometheus_client collector whose every metric is read from the store when scraped."""

    def __init__(self, engine: sa.Engine, sandbox_engine: sa.Engine) -> None:
        self._engine = engine
        self._sandbox_engine = sandbox_engine

    def collect(self) -> Iterator[Metric]:
        yield runs_total(self._sandbox_engine)
        with self._engine.connect() as conn:
            errors = _count_api_schema_errors(conn)
            canary = latest_canary_result(conn)
        yield CounterMetricFamily(
            "costsim_schema_errors_total",
            "API requests rejected by the plan schema (each once).",
            value=errors,
        )
        yield CounterMetricFamily(
            "costsim_requests_total",
            "API simulate requests, each once: answered by V1 or rejected by the plan schema.",
            value=_count_api_answers(self._sandbox_engine) + errors,
        )
        yield from canary_metrics(canary)
        yield routing_enabled(self._engine)


def render_metrics(engine: sa.Engine, sandbox_engine: sa.Engine) -> bytes:
    """The text exposition of a fresh registry, so no state is shared between scrapes."""
    registry = CollectorRegistry()
    registry.register(StoreCollector(engine, sandbox_engine))
    return generate_latest(registry)


def runs_total(sandbox_engine: sa.Engine) -> CounterMetricFamily:
    """Evaluations per version and status from one GROUP BY over sandbox provenance: V1 wherever
    it answered (whatever V2 did), V2 wherever it ran."""
    query = sa.select(
        provenance.c.v2_status, sa.func.count(), sa.func.count(provenance.c.v1_version)
    ).group_by(provenance.c.v2_status)
    with sandbox_engine.connect() as conn:
        rows = {status: (total, v1_ok) for status, total, v1_ok in conn.execute(query)}
    family = CounterMetricFamily(
        "costsim_runs_total", "Simulator evaluations recorded in provenance.", labels=["version", "status"]
    )
    family.add_metric(["v1", "ok"], sum(v1_ok for _, v1_ok in rows.values()))
    for status in V2_STATUSES:  # every status, zeros included, so rate() sees series from the start
        if status not in NOT_V2_RUNS:
            family.add_metric(["v2", status], rows.get(status, (0, 0))[0])
    return family


def _count_api_answers(sandbox_engine: sa.Engine) -> int:
    """API requests V1 answered: provenance rows with V1's half, the traffic replay's excluded."""
    query = sa.select(sa.func.count()).where(
        provenance.c.v1_version.is_not(None), provenance.c.request_id.not_like(f"{REPLAY_REQUEST_PREFIX}%")
    )
    with sandbox_engine.connect() as conn:
        return conn.execute(query).scalar_one()


def _count_api_schema_errors(conn: sa.Connection) -> int:
    """A record with several bad fields has several rows; count it once."""
    query = sa.select(sa.func.count(sa.distinct(schema_errors.c.record_id))).where(
        schema_errors.c.source == SCHEMA_ERROR_SOURCE
    )
    return conn.execute(query).scalar_one()


def canary_metrics(canary: dict[str, Any] | None) -> Iterator[Metric]:
    """Checks, drift, percentiles, runtimes and freshness of the latest canary result."""
    drift = canary["drift_score"] if canary else None
    yield GaugeMetricFamily(
        "costsim_drift_score",
        "Jensen-Shannon distance (0..1) of the latest canary's realized output tokens from the "
        "profile V2 was fitted on (NaN: none).",
        value=math.nan if drift is None else drift,
    )
    statistics = canary["statistics"] if canary else {}
    yield from check_gauges(statistics.get("checks") or {})
    yield from percentile_gauges(statistics.get("percentiles") or {})
    yield runtime_histogram(statistics.get("runtime_histogram") or {})
    if canary:  # no result: no series, so absent() alerts fire
        yield GaugeMetricFamily(
            "costsim_canary_last_success_timestamp_seconds",
            "Unix time the latest canary result was recorded.",
            value=canary["created_at"].timestamp(),
        )


def check_gauges(checks: dict[str, Any]) -> Iterator[GaugeMetricFamily]:
    """Each canary check's outcome (1 breach, 0 pass) and value; a no_data check has no series."""
    breached = GaugeMetricFamily(
        "costsim_canary_check_breached",
        "1 when the latest canary's check breached, 0 when it passed (no series: no data).",
        labels=["check", "priority"],
    )
    values = GaugeMetricFamily(
        "costsim_canary_check_value", "The latest canary's value of each check.", labels=["check"]
    )
    for name, check in checks.items():
        if check.get("outcome") in ("pass", "breach"):
            breached.add_metric([name, canary_check(name).priority], float(check["outcome"] == "breach"))
            values.add_metric([name], float(check["value"]))
    yield breached
    yield values


def percentile_gauges(percentiles: dict[str, Any]) -> Iterator[GaugeMetricFamily]:
    """p50 and p90 cost per version and window; values the canary could not compute are skipped."""
    for quantile in ("p50", "p90"):
        family = GaugeMetricFamily(
            f"costsim_output_{quantile}",
            f"{quantile} estimated cost (cents) in the latest canary.",
            labels=["version", "window"],
        )
        for window in WINDOWS:
            for version in VERSIONS:
                value = ((percentiles.get(window) or {}).get(version) or {}).get(quantile)
                if value is not None:
                    family.add_metric([version, window], value)
        yield family


def runtime_histogram(histogram: dict[str, Any]) -> HistogramMetricFamily:
    """Per-version runtimes of the latest canary, made cumulative as Prometheus expects."""
    family = HistogramMetricFamily(
        "costsim_runtime_ms", "Simulator runtime (ms) in the latest canary.", labels=["version"]
    )
    bounds = [floatToGoString(b) for b in histogram.get("buckets", [])] + ["+Inf"]
    for version in VERSIONS:
        if version in histogram:
            cumulative = accumulate(histogram[version]["counts"])
            family.add_metric(
                [version], list(zip(bounds, cumulative, strict=True)), histogram[version]["sum"]
            )
    return family


def routing_enabled(engine: sa.Engine) -> GaugeMetricFamily:
    """1 while V2 routing is enabled; 0 when disabled or unreadable (fail-safe, as for routing)."""
    try:
        with engine.connect() as conn:
            enabled = read_routing_state(conn).enabled
    except Exception:
        LOG.exception("routing state unreadable: costsim_routing_enabled reported as 0")
        enabled = False
    return GaugeMetricFamily(
        "costsim_routing_enabled", "1 if V2 routing is enabled, else 0.", value=int(enabled)
    )
