"""The whole Definitions: loads lazily from the environment, has the documented shape (jobs that
match the work, each scheduled), validates with the dagster CLI."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from costsim_assets.canary.checks import CHECKS
from costsim_assets.definitions import build_definitions, defs
from costsim_assets.defs import keys
from costsim_assets.reference_data.build import DATASET_NAMES

DEFINITIONS = build_definitions()
STATIC = {
    *(keys.reference(n) for n in DATASET_NAMES),
    keys.MODEL,
    *(keys.simulation(n, v) for n in DATASET_NAMES for v in keys.VERSIONS),
    *(keys.metrics(n) for n in DATASET_NAMES),
    *(keys.verdict(n) for n in DATASET_NAMES),
    keys.M6_VERDICT,
}
DAILY = {
    keys.TRAFFIC_REPLAY,
    keys.CANARY_SAMPLE,
    keys.CANARY_DRIFT,
    keys.CANARY_VERDICT,
    keys.CHALLENGER,
    keys.DIVERGENCE_REPORT,
}


def job_keys(name: str) -> set[dg.AssetKey]:
    return set(DEFINITIONS.resolve_job_def(name).asset_layer.executable_asset_keys)


def test_asset_graph_shape():
    assert set(DEFINITIONS.resolve_all_asset_keys()) == STATIC | DAILY | {keys.ROUTING}
    graph = DEFINITIONS.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        assert graph.get(key).description
    assert {(c.asset_key, c.name) for c in graph.asset_check_keys} == {
        (keys.reference(n), "great_expectations_suite") for n in DATASET_NAMES
    } | {(keys.CANARY_DRIFT, check.name) for check in CHECKS}
    assert graph.get(keys.ROUTING).parent_keys == {keys.CANARY_DRIFT}


def test_everything_that_simulates_with_v2_reads_the_model_asset():
    graph = DEFINITIONS.resolve_asset_graph()
    readers = {key for key in graph.get_all_asset_keys() if keys.MODEL in graph.get(key).parent_keys}
    assert readers == {
        *(keys.simulation(n, "v2") for n in DATASET_NAMES),
        *(keys.metrics(n) for n in DATASET_NAMES),  # V2's naive baselines live in its artifact
        keys.TRAFFIC_REPLAY,
        keys.CANARY_DRIFT,
        keys.CHALLENGER,
    }


def test_jobs_match_the_work_and_each_is_scheduled():
    assert job_keys("m6_validation") == STATIC
    assert job_keys("daily_canary") == DAILY | {keys.MODEL}  # the serving model, refreshed daily
    assert job_keys("breach_response") == {keys.ROUTING}
    schedules = {
        name: DEFINITIONS.resolve_schedule_def(name)
        for name in ("m6_validation_schedule", "daily_canary_schedule")
    }
    assert {name: (s.job_name, s.cron_schedule) for name, s in schedules.items()} == {
        "m6_validation_schedule": ("m6_validation", "30 0 * * *"),
        "daily_canary_schedule": ("daily_canary", "15 1 * * *"),
    }
    assert DEFINITIONS.resolve_job_def("daily_canary").partitions_def is not None
    sensors = {s.name: s for s in DEFINITIONS.sensors}
    assert sensors["canary_drift_sensor"].job_name == "breach_response"
    assert set(sensors) == {"canary_drift_sensor", "routing_transitions_sensor"}


def test_steps_run_in_process_unless_the_deployment_asks_for_processes(monkeypatch):
    executors = {name: build_definitions(executor=name) for name in ("in_process", "multiprocess")}
    for name in ("m6_validation", "daily_canary", "breach_response"):
        assert DEFINITIONS.resolve_job_def(name).executor_def.name == "in_process"
        assert (
            executors["multiprocess"].resolve_job_def(name).executor_def.name
            == "multi_or_in_process_executor"
        )
    assert DEFINITIONS.resolve_implicit_global_asset_job_def().executor_def.name == "in_process"
    monkeypatch.setenv("COSTSIM_EXECUTOR", "threads")
    with pytest.raises(RuntimeError, match="COSTSIM_EXECUTOR must be one of in_process, multiprocess"):
        defs()


def test_definitions_validate_with_the_cli(tmp_path):
    dagster = Path(sys.executable).with_name("dagster")
    env = {**os.environ, "DAGSTER_HOME": str(tmp_path)}
    result = subprocess.run(
        [str(dagster), "definitions", "validate", "-w", "workspace.yaml"],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_deployed_definitions_read_the_environment_at_load_time_only(monkeypatch):
    monkeypatch.setenv("COSTSIM_SENSOR_INTERVAL_S", "7")
    loaded = defs()
    store = loaded.resources["store"]
    assert (
        isinstance(store.database_url, dg.EnvVar)
        and store.database_url.env_var_name == "COSTSIM_DATABASE_URL"
    )
    assert store.sandbox_database_url.env_var_name == "COSTSIM_SANDBOX_DATABASE_URL"
    assert loaded.resources["canary"].tenants_file.env_var_name == "COSTSIM_TENANTS_FILE"
    assert {s.name: s.minimum_interval_seconds for s in loaded.sensors} == {
        "canary_drift_sensor": 7,
        "routing_transitions_sensor": 7,
    }


def test_historical_checksum_is_a_run_time_setting_with_the_code_trace_as_default(monkeypatch):
    from costsim_assets import settings
    from costsim_assets.defs.resources import ReferenceDataResource
    from costsim_assets.reference_data.historical import SHA256_SETTING, TRACE_SHA256

    assert settings.HISTORICAL_SHA256 == SHA256_SETTING == "COSTSIM_HISTORICAL_SHA256"
    resource = ReferenceDataResource(historical_source="x", anonymization_salt="s")
    monkeypatch.delenv(SHA256_SETTING, raising=False)
    assert resource.expected_sha256() == TRACE_SHA256
    monkeypatch.setenv(SHA256_SETTING, "ab" * 32)
    assert resource.expected_sha256() == "ab" * 32
    explicit = ReferenceDataResource(
        historical_source="x", anonymization_salt="s", historical_sha256="cd" * 32
    )
    assert explicit.expected_sha256() == "cd" * 32
