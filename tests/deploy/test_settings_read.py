"""Every setting a deployment sets is read by the code, named in settings.py and documented.

The environment variables come from the rendered chart (ConfigMap, every container, the migration
Job) and from the Dagster chart's run workers; each must change what some reader of the code
returns: the API's settings, the Dagster resources (dg.EnvVar, resolved at run time), the values
read when the definitions load, or the database roles of `costsim db provision-roles`.
"""

import os
from dataclasses import asdict
from pathlib import Path

import dagster as dg
import pytest
import yaml

from costsim_assets import settings
from costsim_assets.defs.resources import ReferenceDataResource, resources_from_env
from tests.deploy.test_helm_chart import (
    ALLOW_MISSING_ENV,
    DAGSTER_VALUES,
    PROD_VALUES,
    ROOT,
    _find_helm,
    render,
)

NAMES = {
    value for name, value in vars(settings).items() if name.isupper() and str(value).startswith("COSTSIM_")
}
VALUES = {  # two valid values each; the default pair suits paths, URLs and secrets
    settings.DATABASE_URL: ("sqlite:///one.db", "sqlite:///two.db"),
    settings.V2_SANDBOX: ("false", "true"),
    settings.RATE_LIMIT_PER_SECOND: ("50", "77"),
    settings.RATE_LIMIT_BURST: ("100", "7"),
    settings.V2_TIME_BUDGET_MS: ("250", "99"),
    settings.EXPORT_TTL_S: ("900", "60"),
    settings.SENSOR_INTERVAL_S: ("30", "5"),
    settings.EXECUTOR: ("in_process", "multiprocess"),
    settings.OUTCOME_MAX_AGE_DAYS: ("7", "3"),
    settings.HISTORICAL_SHA256: ("ab" * 32, "cd" * 32),
    settings.REPLAY_SHA256: ("ab" * 32, "cd" * 32),
}


def _expected_sha256(env: dict[str, str]) -> str:
    """The checksum the historical dataset expects, read at run time (it has a default)."""
    resource = ReferenceDataResource(historical_source="x", anonymization_salt="s")
    previous = os.environ.get(settings.HISTORICAL_SHA256)
    os.environ[settings.HISTORICAL_SHA256] = env[settings.HISTORICAL_SHA256]
    try:
        return resource.expected_sha256()
    finally:
        if previous is None:
            del os.environ[settings.HISTORICAL_SHA256]
        else:
            os.environ[settings.HISTORICAL_SHA256] = previous


def readings(env: dict[str, str]) -> dict:
    """Everything the code reads from an environment, as plain values."""
    dagster = {
        f"{key}.{field}": env.get(getattr(resource, field).env_var_name)
        for key, resource in resources_from_env().items()
        for field in type(resource).model_fields
        if isinstance(getattr(resource, field), dg.EnvVar)
    }
    return {
        "api": asdict(settings.load_api_settings(env)),
        "historical_sha256": _expected_sha256(env),
        "dagster": dagster,
        "definitions": (settings.sensor_interval_s(env), settings.executor_name(env)),
        "roles": [asdict(role) for role in settings.database_roles(env)],
    }


@pytest.fixture(scope="module")
def deployed() -> set[str]:
    """Names of the environment variables the production chart and the Dagster chart set."""
    helm = _find_helm()
    if helm is None:
        if os.environ.get(ALLOW_MISSING_ENV) == "1":
            pytest.skip("helm not found")
        pytest.fail("helm not found: run scripts/install-helm.sh")
    docs = render(helm, ROOT, (PROD_VALUES,))
    names = {key for doc in docs if doc["kind"] == "ConfigMap" for key in doc["data"] if key.isupper()}
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            names |= {
                e["name"] for c in doc["spec"]["template"]["spec"]["containers"] for e in c.get("env", [])
            }
    runs = yaml.safe_load(DAGSTER_VALUES.read_text())["runLauncher"]["config"]["k8sRunLauncher"]
    names |= {e["name"] for e in runs["runK8sConfig"]["containerConfig"]["env"]}
    return {name for name in names if name.startswith("COSTSIM_")}


def test_the_chart_sets_only_settings_the_code_names(deployed):
    assert deployed - NAMES == set()
    assert {settings.SANDBOX_DATABASE_URL, settings.TENANTS_FILE, settings.EXECUTOR} <= deployed


@pytest.mark.parametrize("name", sorted(NAMES))
def test_every_setting_is_read(name):
    base = {n: VALUES.get(n, ("/x/one", "/x/two"))[0] for n in NAMES}
    changed = {**base, name: VALUES.get(name, ("/x/one", "/x/two"))[1]}
    assert readings(changed) != readings(base), f"{name} is set but nothing reads it"


def test_every_setting_is_documented_in_the_readme():
    readme = Path(ROOT / "README.md").read_text()
    assert [name for name in sorted(NAMES) if f"`{name}`" not in readme] == []
