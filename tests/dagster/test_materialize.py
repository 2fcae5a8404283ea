"""Materializing the whole graph with real resources: SQLite and PostgreSQL stores, files, checks."""

import json

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from costsim_assets.definitions import build_definitions
from costsim_assets.reference_data.build import DATASET_NAMES
from costsim_assets.store.tables import schema_errors, validation_reports
from tests.dagster.conftest import make_resources

DAY = "2026-11-25"
SMALL_REPLAY = {"ops": {"sandbox__traffic_replay": {"config": {"requests_per_day": 1500}}}}


def materialize_all(resources: dict, instance: dg.DagsterInstance | None = None) -> dg.ExecuteInProcessResult:
    """The m6_validation job for one day: every asset, the day's replay and canary included."""
    job = build_definitions(resources).resolve_job_def("m6_validation")
    return job.execute_in_process(
        instance=instance or dg.DagsterInstance.ephemeral(),
        partition_key=DAY,
        run_config=SMALL_REPLAY,
        raise_on_error=False,
    )


@pytest.fixture(scope="module")
def materialized(tmp_path_factory):
    root = tmp_path_factory.mktemp("graph")
    resources = make_resources(root / "artifacts", f"sqlite:///{root}/store.db")
    return resources, materialize_all(resources)


def test_every_asset_materializes_and_every_check_passes(materialized):
    resources, result = materialized
    assert result.success
    materialized_keys = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert len(materialized_keys) == 32
    checks = result.get_asset_check_evaluations()
    assert len(checks) == 8 and all(c.passed for c in checks)


def test_reports_are_persisted_as_rows_and_files(materialized):
    resources, _ = materialized
    engine = resources["store"].engine()
    with engine.connect() as conn:
        rows = conn.execute(sa.select(validation_reports)).mappings().all()
        noise_errors = conn.execute(
            sa.select(sa.func.count())
            .select_from(schema_errors)
            .where(schema_errors.c.source == "noise_injected")
        ).scalar()
    assert {(r["dataset"], r["version"]) for r in rows} == {
        (n, v) for n in DATASET_NAMES for v in ("v1", "v2")
    }
    for row in rows:
        assert json.loads(open(row["report_json_path"]).read())["dataset"] == row["dataset"]
        assert open(row["report_md_path"]).read().startswith("# Validation")
    assert noise_errors > 100
    kept = pd.read_parquet(resources["artifacts"].path("datasets", "noise_injected", "schema_errors.parquet"))
    assert len(kept) == noise_errors and kept["raw_record"].notna().all()


def test_real_traffic_judges_v2_against_the_naive_baselines_not_v1(materialized):
    resources, _ = materialized
    report = json.loads(resources["artifacts"].report_file("historical_validation", "json").read_text())
    v2 = report["versions"]["v2"]["metrics"]
    tokens, cost = v2["output_tokens"], v2["cost"]
    assert set(tokens["baselines"]) == {"model_median", "global_median", "input_only"}
    assert cost["mae"] < cost["baselines"]["v1"]["mae"] / 10  # beating V1 is easy and says little
    assert 0.75 <= tokens["interval"]["rate"] <= 0.85
    assert v2["duration"]["truth"] == "none" and v2["duration"]["status"] == "no_data"
    folds = v2["time_ordered_folds"]
    assert len(folds) >= 4 and all(0.75 <= fold["interval"]["rate"] <= 0.85 for fold in folds)
    overall = json.loads(resources["artifacts"].report_file("m6_validation", "json").read_text())
    comparison = next(r for r in overall["reasons"] if r.startswith("held-out real traffic"))
    if not tokens["skill"][tokens["best_baseline"]]["demonstrated"]:
        assert overall["verdict"] != "pass" and "NOT" in comparison


def test_manifest_describes_the_file(materialized):
    resources, _ = materialized
    import hashlib

    for name in DATASET_NAMES:
        manifest = json.loads(resources["artifacts"].path("datasets", name, "manifest.json").read_text())
        data = resources["artifacts"].dataset_file(name)
        assert manifest["files"][f"{name}.parquet"]["sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
        assert manifest["rows"] == len(pd.read_parquet(data))
    assert (
        "CC-BY-4.0"
        in json.loads(resources["artifacts"].path("datasets", "historical", "manifest.json").read_text())[
            "attribution"
        ]
    )


def test_missing_historical_source_fails_the_datasets_that_need_it_naming_the_setting(tmp_path):
    """Every golden dataset needs the real trace (synthetic output lengths are resampled from it)."""
    resources = make_resources(
        tmp_path / "a", f"sqlite:///{tmp_path}/s.db", historical_source=str(tmp_path / "nowhere.csv")
    )
    result = materialize_all(resources)
    assert not result.success
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    assert sorted(e.step_key for e in failures) == sorted(f"reference__{name}" for name in DATASET_NAMES)
    assert all("COSTSIM_HISTORICAL_SOURCE" in str(e.event_specific_data.error) for e in failures)
    done = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert "models/v2_model" in done and not any(key.startswith("validation/") for key in done)
    assert "canary/sample" not in done  # the replay needs the historical dataset


def test_whole_graph_on_postgresql_store(tmp_path, postgres_database_factory):
    resources = make_resources(tmp_path / "a", postgres_database_factory())
    selection = [
        "reference/low_variance",
        "simulation/low_variance_v1",
        "simulation/low_variance_v2",
        "models/v2_model",
        "validation/low_variance_metrics",
        "validation/low_variance_verdict",
    ]
    job = build_definitions(resources).resolve_job_def("m6_validation")
    result = job.execute_in_process(
        asset_selection=[dg.AssetKey.from_user_string(s) for s in selection], partition_key=DAY
    )
    assert result.success
    with resources["store"].engine().connect() as conn:
        verdicts = conn.execute(sa.select(validation_reports.c.version, validation_reports.c.verdict)).all()
    assert sorted(v for v, _ in verdicts) == ["v1", "v2"]
