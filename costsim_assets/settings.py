"""The one settings module: every environment variable the project reads, and the resources
built from them. Values are resolved by Dagster at run time (dg.EnvVar), never at import."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import dagster as dg

from costsim_assets.defs.resources import (
    ArtifactStoreResource, CanaryResource, ReferenceDataResource, StoreResource,
)

DATABASE_URL = "COSTSIM_DATABASE_URL"            # sqlite:///... or postgresql+psycopg2://...
ARTIFACT_ROOT = "COSTSIM_ARTIFACT_ROOT"          # directory for datasets, outputs and reports
HISTORICAL_SOURCE = "COSTSIM_HISTORICAL_SOURCE"  # path or URL of the Azure trace CSV
ANONYMIZATION_SALT = "COSTSIM_ANONYMIZATION_SALT"  # secret salt for historical identifiers
SLACK_WEBHOOK_URL = "COSTSIM_SLACK_WEBHOOK_URL"  # secret; empty: deliveries are recorded as failed


def resources() -> dict[str, dg.ConfigurableResource]:
    """Resources for the deployed Definitions, all configured from the environment."""
    return {
        "store": StoreResource(database_url=dg.EnvVar(DATABASE_URL)),
        "artifacts": ArtifactStoreResource(root=dg.EnvVar(ARTIFACT_ROOT)),
        "reference_data": ReferenceDataResource(
            historical_source=dg.EnvVar(HISTORICAL_SOURCE),
            anonymization_salt=dg.EnvVar(ANONYMIZATION_SALT),
        ),
        "canary": CanaryResource(slack_webhook_url=dg.EnvVar(SLACK_WEBHOOK_URL)),
    }

API_KEYS_FILE = "COSTSIM_API_KEYS_FILE"              # YAML of hashed API keys (see api/keys.py)
V2_SANDBOX = "COSTSIM_V2_SANDBOX"                    # master switch: "true" runs V2 in shadow
SANDBOX_DATABASE_URL = "COSTSIM_SANDBOX_DATABASE_URL"  # PostgreSQL: the sandbox role's URL
RATE_LIMIT_PER_SECOND = "COSTSIM_RATE_LIMIT_PER_SECOND"
RATE_LIMIT_BURST = "COSTSIM_RATE_LIMIT_BURST"
V2_TIME_BUDGET_MS = "COSTSIM_V2_TIME_BUDGET_MS"


@dataclass(frozen=True)
class ApiSettings:
    """What the API process needs; read once when the app is created, never at import."""

    database_url: str
    api_keys_file: str
    v2_sandbox: bool = False
    sandbox_database_url: str | None = None
    rate_limit_per_second: float = 50.0
    rate_limit_burst: int = 100
    v2_time_budget_ms: float = 250.0


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise RuntimeError(f"{name} must be set (see README, Configuration)")
    return value


def load_api_settings(environ: Mapping[str, str] | None = None) -> ApiSettings:
    """API settings from the environment; the database and key file have no working default."""
    env = os.environ if environ is None else environ
    return ApiSettings(
        database_url=_required(env, DATABASE_URL),
        api_keys_file=_required(env, API_KEYS_FILE),
        v2_sandbox=env.get(V2_SANDBOX, "false").strip().lower() in ("1", "true", "yes", "on"),
        sandbox_database_url=env.get(SANDBOX_DATABASE_URL) or None,
        rate_limit_per_second=float(env.get(RATE_LIMIT_PER_SECOND, "50")),
        rate_limit_burst=int(env.get(RATE_LIMIT_BURST, "100")),
        v2_time_budget_ms=float(env.get(V2_TIME_BUDGET_MS, "250")),
    )
