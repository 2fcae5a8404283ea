"""The outcome and replay settings: named in settings.py, read at run time, validated at start-up."""

import pytest

from costsim_assets import settings
from costsim_assets.defs.resources import REPLAY_SETTINGS, resources_from_env
from costsim_assets.settings import load_api_settings

BASE = {"COSTSIM_DATABASE_URL": "sqlite://", "COSTSIM_API_KEYS_FILE": "keys.yaml"}


def test_outcome_max_age_defaults_to_a_week_and_is_configurable():
    assert load_api_settings(BASE).outcome_max_age_days == 7.0
    assert load_api_settings({**BASE, "COSTSIM_OUTCOME_MAX_AGE_DAYS": "2.5"}).outcome_max_age_days == 2.5


@pytest.mark.parametrize("value", ["0", "-1", "soon", "nan"])
def test_a_bad_outcome_max_age_stops_start_up_naming_the_setting(value):
    with pytest.raises(
        RuntimeError, match=f"COSTSIM_OUTCOME_MAX_AGE_DAYS must be a positive number, got '{value}'"
    ):
        load_api_settings({**BASE, "COSTSIM_OUTCOME_MAX_AGE_DAYS": value})


def test_the_replay_source_is_read_from_the_environment_at_run_time(monkeypatch):
    resource = resources_from_env()["reference_data"]
    for name, value in {
        "COSTSIM_HISTORICAL_SOURCE": "historical.csv",
        "COSTSIM_ANONYMIZATION_SALT": "salt",
        settings.REPLAY_SOURCE: "other_service.csv",
        settings.REPLAY_SHA256: "ab" * 32,
    }.items():
        monkeypatch.setenv(name, value)
    resolved = resource.process_config_and_initialize()
    assert (resolved.replay_source, resolved.replay_sha256) == ("other_service.csv", "ab" * 32)
    assert REPLAY_SETTINGS == f"{settings.REPLAY_SOURCE} and {settings.REPLAY_SHA256}"
