"""The whole Definitions: loads, has the documented shape, validates with the dagster CLI."""

import os
import subprocess
import sys
from pathlib import Path

import dagster as dg

from costsim_assets.definitions import defs
from costsim_assets.reference_data.build import DATASET_NAMES


def test_asset_graph_shape():
    keys = {key.to_user_string() for key in defs.resolve_all_asset_keys()}
    for name in DATASET_NAMES:
        assert {
            f"reference/{name}",
            f"simulation/{name}_v1",
            f"simulation/{name}_v2",
            f"validation/{name}_metrics",
            f"validation/{name}_verdict",
        } <= keys
    assert {
        "models/v2_model",
        "validation/m6_verdict",
        "sandbox/traffic_replay",
        "canary/sample",
        "canary/drift",
        "canary/verdict",
        "reports/divergence_report",
    } <= keys
    assert len(keys) == 5 * 5 + 7
    graph = defs.resolve_asset_graph()
    for key in graph.get_all_asset_keys():
        node = graph.get(key)
        assert node.group_name in {
            "reference_datasets",
            "models",
            "simulation",
            "validation",
            "sandbox",
            "canary",
            "reports",
        }
        assert node.description
    checks = defs.resolve_asset_graph().asset_check_keys
    assert {(c.asset_key.to_user_string(), c.name) for c in checks} == {
        (f"reference/{n}", "great_expectations_suite") for n in DATASET_NAMES
    } | {("canary/drift", name) for name in ("drift_p1", "median_shift_p2", "schema_errors_p3")}
    assert defs.resolve_job_def("m6_validation") and defs.resolve_job_def("daily_canary")
    schedule = defs.resolve_schedule_def("daily_canary_schedule")
    assert schedule.cron_schedule == "15 1 * * *"
    assert defs.resolve_sensor_def("canary_drift_sensor")


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


def test_settings_read_the_environment_only_at_run_time():
    store = defs.resources["store"]
    assert isinstance(store.database_url, dg.EnvVar)
    assert store.database_url.env_var_name == "COSTSIM_DATABASE_URL"


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
