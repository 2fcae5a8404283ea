"""Materializing the whole graph with real resources (the static job, then the daily job for one
day, as the README's first command does): SQLite and PostgreSQL stores, files, checks, lineage."""

import json

import dagster as dg
import pandas as pd
import pytest
import sqlalchemy as sa

from costsim_assets.definitions import build_definitions
from costsim_assets.defs import keys
from costsim_assets.reference_data.build import DATASET_NAMES
from costsim_assets.store.tables import schema_errors, validation_reports
from tests.dagster.conftest import make_resources

DAY = "2026-11-25"
SMALL_REPLAY = {"ops": {"sandbox__traffic_replay": {"config": {"requests_per_day": 1500}}}}


def materialize_all(resources: dict) -> list[dg.ExecuteInProcessResult]:
    """The static m6_validation job, then the daily job for DAY (replay, canary, report)."""
    definitions, instance = build_definitions(resources), dg.DagsterInstance.ephemeral()
    static = definitions.resolve_job_def("m6_validation").execute_in_process(
        instance=instance, raise_on_error=False
    )
    daily = definitions.resolve_job_def("daily_canary").execute_in_process(
        instance=instance, partition_key=DAY, run_config=SMALL_REPLAY, raise_on_error=False
    )
    return [static, daily]


def materializations(results: list[dg.ExecuteInProcessResult]) -> dict[dg.AssetKey, dict]:
    return {
        e.asset_key: e.materialization.metadata for r in results for e in r.get_asset_materialization_events()
    }


@pytest.fixture(scope="module")
def materialized(tmp_path_factory):
    root = tmp_path_factory.mktemp("graph")
    resources = make_resources(root / "artifacts", f"sqlite:///{root}/store.db")
    return resources, materialize_all(resources)


def test_every_asset_materializes_and_every_check_passes(materialized):
    resources, results = materialized
    assert all(r.success for r in results)
    done = materializations(results)
    assert len(done) == 33 and keys.CHALLENGER in done
    checks = [c for r in results for c in r.get_asset_check_evaluations()]
    assert len(checks) == 8 and all(c.passed for c in checks)


def test_every_materialization_downstream_of_the_model_names_its_version(materialized):
    resources, results = materialized
    version = json.loads(resources["artifacts"].v2_model_file().read_text())["version"]
    done = materializations(results)
    assert done[keys.MODEL]["model_version"].value == version
    downstream = [
        *(keys.simulation(n, "v2") for n in DATASET_NAMES),
        *(keys.metrics(n) for n in DATASET_NAMES),
        *(keys.verdict(n) for n in DATASET_NAMES),
        keys.M6_VERDICT,
        keys.TRAFFIC_REPLAY,
        keys.CANARY_SAMPLE,
        keys.CANARY_DRIFT,
        keys.DIVERGENCE_REPORT,
    ]
    assert {key: done[key]["model_version"].value for key in downstream} == {
        key: version for key in downstream
    }


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
    static, daily = materialize_all(resources)
    assert not static.success
    failures = [e for e in static.all_events if e.event_type_value == "STEP_FAILURE"]
    assert sorted(e.step_key for e in failures) == sorted(f"reference__{name}" for name in DATASET_NAMES)
    assert all("COSTSIM_HISTORICAL_SOURCE" in str(e.event_specific_data.error) for e in failures)
    done = materializations([static, daily])
    assert keys.MODEL in done and not any(key.path[0] == "validation" for key in done)
    assert keys.CANARY_SAMPLE not in done  # the replay needs the historical dataset


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
    result = job.execute_in_process(asset_selection=[dg.AssetKey.from_user_string(s) for s in selection])
    assert result.success
    with resources["store"].engine().connect() as conn:
        verdicts = conn.execute(sa.select(validation_reports.c.version, validation_reports.c.verdict)).all()
    assert sorted(v for v, _ in verdicts) == ["v1", "v2"]
