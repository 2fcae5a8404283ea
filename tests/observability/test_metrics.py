"""/metrics values come from the store at scrape time, on both databases and across processes."""

from __future__ import annotations

import math
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from prometheus_client.parser import text_string_to_metric_families

import costsim_assets.observability.metrics as metrics_module
from costsim_assets.observability.metrics import render_metrics
from costsim_assets.store.canary_results import record_canary_result
from costsim_assets.store.engine import make_engine, make_sandbox_engine, upgrade_to_head
from costsim_assets.store.provenance import compress, insert_provenance
from costsim_assets.store.routing import transition_routing
from costsim_assets.store.schema_errors import record_schema_errors

CREATED = datetime(2024, 5, 2, 3, 4, 5, tzinfo=UTC)
STATISTICS = {
    "percentiles": {
        "canary": {"v1": {"p50": 100.0, "p90": 200.0}, "v2": {"p50": 110.0, "p90": None}},
        "reference": {"v1": {"p50": 90.0, "p90": 180.0}},
    },
    "runtime_histogram": {
        "buckets": [1, 5, 10],
        "v1": {"counts": [1, 2, 3, 4], "sum": 123.5},
        "v2": {"counts": [0, 0, 1, 0], "sum": 7.0},
    },
}


@pytest.fixture
def stores(database_url: str) -> Iterator[tuple[sa.Engine, sa.Engine]]:
    """A migrated production engine and its sandbox engine, disposed so PostgreSQL can drop the DB."""
    engine = make_engine(database_url)
    upgrade_to_head(engine)
    sandbox = make_sandbox_engine(database_url)
    yield engine, sandbox
    sandbox.dispose()
    engine.dispose()


def scrape(engine: sa.Engine, sandbox: sa.Engine) -> dict[tuple[str, frozenset], float]:
    """Every sample of one scrape, keyed by sample name and labels."""
    text = render_metrics(engine, sandbox).decode()
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def samples(scraped: dict, name: str) -> dict[frozenset, float]:
    return {labels: value for (sample, labels), value in scraped.items() if sample == name}


def labels(**values: str) -> frozenset:
    return frozenset(values.items())


def provenance_row(v2_status: str, v1_version: str | None = "v1-1") -> dict:
    return {
        "id": str(uuid.uuid4()),
        "created_at": datetime.now(UTC),
        "tenant_id": "tenant-a",
        "request_id": uuid.uuid4().hex,
        "plan_z": compress({}),
        "code_version": "test",
        "v1_version": v1_version,
        "v2_status": v2_status,
    }


def canary_row(**overrides) -> dict:
    return {
        "partition_key": "2024-05-01",
        "status": "ok",
        "sample_size": 500,
        "drift_score": 0.125,
        "statistics": STATISTICS,
        "report_path": "r.json",
        "diff_path": "d.parquet",
        "created_at": CREATED,
        **overrides,
    }


def populate(engine: sa.Engine, sandbox: sa.Engine) -> None:
    rows = (
        [provenance_row("ok") for _ in range(3)]
        + [provenance_row("error"), provenance_row("timeout"), provenance_row("pending")]
        + [provenance_row("schema_error", None) for _ in range(2)]
    )
    with sandbox.begin() as conn:
        insert_provenance(conn, rows)
    bad = {"raw_record": {}, "reason": "missing"}
    with engine.begin() as conn:
        record_schema_errors(
            conn,
            "api",
            [
                {**bad, "record_id": "r1", "field_path": "steps"},
                {**bad, "record_id": "r1", "field_path": "budget_cents"},
                {**bad, "record_id": "r2", "field_path": "steps"},
            ],
        )
        record_schema_errors(conn, "historical", [{**bad, "record_id": "r3", "field_path": "steps"}])
        record_canary_result(
            conn,
            **canary_row(
                partition_key="2024-04-30", drift_score=0.9, created_at=datetime(2024, 5, 1, tzinfo=UTC)
            ),
        )
        record_canary_result(conn, **canary_row())
        transition_routing(conn, to_state="disabled", actor_type="sensor", actor_id="drift", reason="drift")


def test_empty_store(stores):
    scraped = scrape(*stores)
    assert samples(scraped, "costsim_runs_total") == {
        labels(version="v1", status="ok"): 0,
        **{labels(version="v2", status=s): 0 for s in ("pending", "ok", "error", "timeout", "schema_error")},
    }
    assert scraped[("costsim_schema_errors_total", labels())] == 0
    assert scraped[("costsim_requests_total", labels())] == 0
    assert math.isnan(scraped[("costsim_drift_score", labels())])
    assert scraped[("costsim_routing_enabled", labels())] == 1
    for absent in (
        "costsim_output_p50",
        "costsim_output_p90",
        "costsim_runtime_ms_bucket",
        "costsim_canary_last_success_timestamp_seconds",
    ):
        assert samples(scraped, absent) == {}, absent


def test_every_metric_from_the_store(stores):
    populate(*stores)
    scraped = scrape(*stores)
    assert samples(scraped, "costsim_runs_total") == {
        labels(version="v1", status="ok"): 6,
        labels(version="v2", status="ok"): 3,
        labels(version="v2", status="error"): 1,
        labels(version="v2", status="timeout"): 1,
        labels(version="v2", status="pending"): 1,
        labels(version="v2", status="schema_error"): 2,
    }
    assert scraped[("costsim_schema_errors_total", labels())] == 2
    # each request once: 6 answered by V1 and 2 rejected (r1 had two bad fields); the
    # provenance rows of rejected plans are not answers, and a historical record is not a request
    assert scraped[("costsim_requests_total", labels())] == 8
    assert scraped[("costsim_drift_score", labels())] == 0.125
    assert samples(scraped, "costsim_output_p50") == {
        labels(version="v1", window="canary"): 100,
        labels(version="v2", window="canary"): 110,
        labels(version="v1", window="reference"): 90,
    }
    assert samples(scraped, "costsim_output_p90") == {
        labels(version="v1", window="canary"): 200,
        labels(version="v1", window="reference"): 180,
    }
    assert samples(scraped, "costsim_runtime_ms_bucket") == {
        labels(version="v1", le="1.0"): 1,
        labels(version="v1", le="5.0"): 3,
        labels(version="v1", le="10.0"): 6,
        labels(version="v1", le="+Inf"): 10,
        labels(version="v2", le="1.0"): 0,
        labels(version="v2", le="5.0"): 0,
        labels(version="v2", le="10.0"): 1,
        labels(version="v2", le="+Inf"): 1,
    }
    assert samples(scraped, "costsim_runtime_ms_count") == {labels(version="v1"): 10, labels(version="v2"): 1}
    assert samples(scraped, "costsim_runtime_ms_sum") == {
        labels(version="v1"): 123.5,
        labels(version="v2"): 7,
    }
    assert scraped[("costsim_routing_enabled", labels())] == 0
    assert scraped[("costsim_canary_last_success_timestamp_seconds", labels())] == CREATED.timestamp()


def test_metric_types(stores):
    populate(*stores)
    text = render_metrics(*stores).decode()
    types = {family.name: family.type for family in text_string_to_metric_families(text)}
    assert types == {
        "costsim_runs": "counter",
        "costsim_schema_errors": "counter",
        "costsim_requests": "counter",
        "costsim_drift_score": "gauge",
        "costsim_canary_check_breached": "gauge",
        "costsim_canary_check_value": "gauge",
        "costsim_output_p50": "gauge",
        "costsim_output_p90": "gauge",
        "costsim_runtime_ms": "histogram",
        "costsim_routing_enabled": "gauge",
        "costsim_canary_last_success_timestamp_seconds": "gauge",
    }


def test_replayed_traffic_is_a_v1_run_but_not_an_api_request(stores):
    engine, sandbox = stores
    replayed = {**provenance_row("ok"), "request_id": "replay-2024-05-01-0000001"}
    with sandbox.begin() as conn:
        insert_provenance(conn, [replayed, provenance_row("ok")])
    scraped = scrape(engine, sandbox)
    assert scraped[("costsim_runs_total", labels(version="v1", status="ok"))] == 2
    assert scraped[("costsim_requests_total", labels())] == 1


def test_canary_without_drift_or_statistics(stores):
    engine, sandbox = stores
    with engine.begin() as conn:
        record_canary_result(conn, **canary_row(status="no_data", drift_score=None, statistics={}))
    scraped = scrape(engine, sandbox)
    assert math.isnan(scraped[("costsim_drift_score", labels())])
    assert (
        samples(scraped, "costsim_output_p50") == {} and samples(scraped, "costsim_runtime_ms_bucket") == {}
    )
    assert scraped[("costsim_canary_last_success_timestamp_seconds", labels())] == CREATED.timestamp()


def test_unreadable_routing_state_reports_disabled(stores, monkeypatch):
    def unreadable(conn):
        raise sa.exc.OperationalError("select", {}, Exception("database gone"))

    monkeypatch.setattr(metrics_module, "read_routing_state", unreadable)
    assert scrape(*stores)[("costsim_routing_enabled", labels())] == 0


def test_a_value_written_by_another_process_shows_in_the_next_scrape(stores, database_url):
    engine, sandbox = stores
    assert samples(scrape(engine, sandbox), "costsim_canary_last_success_timestamp_seconds") == {}
    writer = textwrap.dedent(f"""
        from datetime import UTC, datetime
        from costsim_assets.store.canary_results import record_canary_result
        from costsim_assets.store.engine import make_engine
        with make_engine({database_url!r}).begin() as conn:
            record_canary_result(conn, partition_key="2024-05-02", status="ok", sample_size=9,
                                 drift_score=0.375, statistics={{}}, report_path="r", diff_path="d",
                                 created_at=datetime(2024, 5, 3, tzinfo=UTC))
    """)
    subprocess.run([sys.executable, "-c", writer], check=True, timeout=120)
    scraped = scrape(engine, sandbox)
    assert scraped[("costsim_drift_score", labels())] == 0.375
    assert (
        scraped[("costsim_canary_last_success_timestamp_seconds", labels())]
        == datetime(2024, 5, 3, tzinfo=UTC).timestamp()
    )


def test_canary_checks_are_mirrored_and_no_data_has_no_series(stores):
    engine, sandbox = stores
    checks = {
        "realized_drift_p1": {"outcome": "breach", "value": 13.7},
        "median_shift_p2": {"outcome": "pass", "value": 0.04},
        "schema_errors_p3": {"outcome": "no_data", "value": None},
    }
    with engine.begin() as conn:
        record_canary_result(conn, **{**canary_row(), "statistics": {"checks": checks}})
    samples = [
        s for f in text_string_to_metric_families(render_metrics(engine, sandbox).decode()) for s in f.samples
    ]
    breached = {
        s.labels["check"]: (s.labels["priority"], s.value)
        for s in samples
        if s.name == "costsim_canary_check_breached"
    }
    values = {s.labels["check"]: s.value for s in samples if s.name == "costsim_canary_check_value"}
    assert breached == {"realized_drift_p1": ("P1", 1.0), "median_shift_p2": ("P2", 0.0)}
    assert values == {"realized_drift_p1": 13.7, "median_shift_p2": 0.04}
