"""promtool unit tests whose input series come from the real exporter, not from a hand.

deploy/prometheus/tests/costsim-alerts.scenarios.yaml describes each test as a history of the
store (API requests, rejected plans, replayed traffic, canary results, routing transitions, the
target being down). This module replays each history against a real SQLite store, scrapes
observability.metrics.render_metrics after every interval as Prometheus would (adding the
`job` and `instance` labels), and renders promtool's input_series; `alert_rule_test` is copied
as written. Promtool's clock starts at the Unix epoch, so the store's timestamps do too.
"""

from __future__ import annotations

import math
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from costsim_assets.observability.metrics import render_metrics
from costsim_assets.store.canary_results import record_canary_result
from costsim_assets.store.engine import make_engine, make_sandbox_engine, upgrade_to_head
from costsim_assets.store.provenance import REPLAY_REQUEST_PREFIX, compress, insert_provenance
from costsim_assets.store.routing import transition_routing
from costsim_assets.store.schema_errors import record_schema_errors

Sample = dict[tuple[str, tuple], float]
UNITS = {"s": 1, "m": 60, "h": 3600}


def seconds(duration: str) -> int:
    """A promtool duration such as 1m or 5m as seconds (one unit, as the scenarios use)."""
    return int(duration[:-1]) * UNITS[duration[-1]]


class Store:
    """A fresh migrated store that scenario steps write to, as the API and Dagster runs do."""

    def __init__(self, path: Path) -> None:
        url = f"sqlite:///{path}"
        self.engine = make_engine(url)
        upgrade_to_head(self.engine)
        self.sandbox = make_sandbox_engine(url)

    def scrape(self, labels: dict[str, str]) -> Sample:
        text = render_metrics(self.engine, self.sandbox).decode()
        return {
            (sample.name, tuple(sorted({**labels, **sample.labels}.items()))): sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
        }

    def requests(self, at: datetime, v2_statuses: dict[str, int], rejected: int, replayed: int) -> None:
        """API requests V1 answered (V2 status per row), plans the schema rejected, replay rows."""
        answered = [
            _provenance(at, uuid.uuid4().hex, status, answered=True)
            for status, count in v2_statuses.items()
            for _ in range(count)
        ]
        replay = [
            _provenance(at, f"{REPLAY_REQUEST_PREFIX}{uuid.uuid4().hex}", "ok", True) for _ in range(replayed)
        ]
        rejections = [uuid.uuid4().hex for _ in range(rejected)]
        with self.sandbox.begin() as conn:
            insert_provenance(
                conn, answered + replay + [_provenance(at, r, "schema_error", False) for r in rejections]
            )
        with self.engine.begin() as conn:
            record_schema_errors(
                conn,
                "api",
                [
                    {"record_id": r, "field_path": "steps", "reason": "not a list", "raw_record": "{}"}
                    for r in rejections
                ],
            )

    def canary(self, at: datetime, result: dict) -> None:
        """A canary result recorded at `at`: its drift score (null: no data) and p50 by window."""
        percentiles = {
            window: {version: {"p50": p50} for version, p50 in by_version.items()}
            for window, by_version in result.get("p50", {}).items()
        }
        statistics = {"percentiles": percentiles, "checks": result.get("checks", {})}
        with self.engine.begin() as conn:
            record_canary_result(
                conn,
                partition_key=at.date().isoformat(),
                status="ok" if result.get("drift_score") is not None else "no_data",
                sample_size=1000,
                drift_score=result.get("drift_score"),
                statistics=statistics,
                report_path="canary.json",
                diff_path="diff_pairs.parquet",
                created_at=at,
            )

    def route(self, state: str) -> None:
        with self.engine.begin() as conn:
            transition_routing(
                conn, to_state=state, actor_type="person", actor_id="oncall", reason="scenario"
            )


def _provenance(at: datetime, request_id: str, v2_status: str, answered: bool) -> dict:
    """A provenance row as the API writes it: V1's half when V1 answered, none for a rejected plan."""
    return {
        "id": str(uuid.uuid4()),
        "created_at": at,
        "tenant_id": "tenant-a",
        "request_id": request_id,
        "plan_z": compress({}),
        "code_version": "scenario",
        "v1_version": "v1-frozen" if answered else None,
        "v1_cost_cents": 5.0 if answered else None,
        "v2_status": v2_status,
    }


def _scrapes(store: Store, scenario: dict, labels: dict[str, str]) -> Iterator[Sample | None]:
    """One scrape per interval (None while the target is down); idle samples repeat the last one."""
    interval, t = seconds(scenario["interval"]), 0
    for step in scenario["steps"]:
        at = datetime.fromtimestamp(t, UTC)
        if "canary" in step:
            store.canary(at, step["canary"])
        if "routing" in step:
            store.route(step["routing"])
        every = step.get("every_sample")
        scraped = None if step.get("down") else store.scrape(labels)
        for _ in range(step["samples"]):
            if every and not step.get("down"):
                at = datetime.fromtimestamp(t, UTC)
                store.requests(
                    at, every.get("requests", {}), every.get("schema_errors", 0), every.get("replayed", 0)
                )
                scraped = store.scrape(labels)
            yield scraped
            t += interval


def _value(value: float) -> str:
    if math.isnan(value):
        return "NaN"
    return str(int(value)) if value == int(value) else repr(value)


def input_series(scrapes: list[Sample | None]) -> list[dict]:
    """promtool input_series: every sample name and label set seen, `_` where a scrape lacked it."""
    keys = sorted({key for scrape in scrapes if scrape for key in scrape})
    series = []
    for name, labels in keys:
        selector = ", ".join(f'{k}="{v}"' for k, v in labels)
        values = " ".join(_value(s[(name, labels)]) if s and (name, labels) in s else "_" for s in scrapes)
        series.append({"series": f"{name}{{{selector}}}", "values": values})
    return series


def render_tests(scenarios_file: Path, rules_file: Path, work_dir: Path) -> Path:
    """The promtool test file for every scenario, written into work_dir."""
    spec = yaml.safe_load(scenarios_file.read_text())
    tests = []
    for number, scenario in enumerate(spec["scenarios"]):
        store = Store(work_dir / f"scenario-{number}.db")
        scrapes = list(_scrapes(store, scenario, spec["labels"]))
        tests.append(
            {
                "name": scenario["name"],
                "interval": scenario["interval"],
                "input_series": input_series(scrapes),
                "alert_rule_test": scenario["alert_rule_test"],
            }
        )
        store.sandbox.dispose()
        store.engine.dispose()
    document = {
        "rule_files": [str(rules_file.resolve())],
        "evaluation_interval": spec["evaluation_interval"],
        "tests": tests,
    }
    path = work_dir / "costsim-alerts.test.yml"
    path.write_text(yaml.safe_dump(document, sort_keys=False, width=10_000))
    return path
