"""The one settings module: every environment variable the project reads, and the resources
built from them. Values are resolved by Dagster at run time (dg.EnvVar), never at import."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import dagster as dg
import sqlalchemy as sa

from costsim_assets.defs.resources import (
    ArtifactStoreResource,
    CanaryResource,
    ReferenceDataResource,
    ReportLinksResource,
    StoreResource,
)
from costsim_assets.reports.divergence import REPORT_SUBDIR

DATABASE_URL = "COSTSIM_DATABASE_URL"  # sqlite:///... or postgresql+psycopg2://...
ARTIFACT_ROOT = "COSTSIM_ARTIFACT_ROOT"  # directory for datasets, outputs and reports
HISTORICAL_SOURCE = "COSTSIM_HISTORICAL_SOURCE"  # path or URL of the Azure trace CSV
# expected sha256 of that trace; read by ReferenceDataResource at run time through dg.EnvVar, with
# the code trace's checksum as the default (unset is fine: no deployment has to carry it)
HISTORICAL_SHA256 = "COSTSIM_HISTORICAL_SHA256"
REPLAY_SOURCE = "COSTSIM_REPLAY_SOURCE"  # trace the daily replay reads; empty: the historical dataset
REPLAY_SHA256 = "COSTSIM_REPLAY_SHA256"  # its expected sha256; empty: the historical trace's
ANONYMIZATION_SALT = "COSTSIM_ANONYMIZATION_SALT"  # secret salt for historical identifiers
SLACK_WEBHOOK_URL = "COSTSIM_SLACK_WEBHOOK_URL"  # secret; empty: deliveries are recorded as failed
API_BASE_URL = "COSTSIM_API_BASE_URL"  # where report links in the Dagster UI point


def resources() -> dict[str, dg.ConfigurableResource]:
    """Resources for the deployed Definitions, all configured from the environment."""
    return {
        "store": StoreResource(database_url=dg.EnvVar(DATABASE_URL)),
        "artifacts": ArtifactStoreResource(root=dg.EnvVar(ARTIFACT_ROOT)),
        "reference_data": ReferenceDataResource(
            historical_source=dg.EnvVar(HISTORICAL_SOURCE),
            anonymization_salt=dg.EnvVar(ANONYMIZATION_SALT),
            replay_source=dg.EnvVar(REPLAY_SOURCE),
            replay_sha256=dg.EnvVar(REPLAY_SHA256),
        ),
        "canary": CanaryResource(slack_webhook_url=dg.EnvVar(SLACK_WEBHOOK_URL)),
        # Not dg.EnvVar: that fails when unset, and links are optional. Set api_base_url and
        # signing_keys through run/resource config or the deployment to get signed report URLs.
        "report_links": ReportLinksResource(
            api_base_url=dg.EnvVar(API_BASE_URL), signing_keys=dg.EnvVar(SIGNING_KEYS)
        ),
    }


API_KEYS_FILE = "COSTSIM_API_KEYS_FILE"  # YAML of hashed API keys (see api/keys.py)
V2_SANDBOX = "COSTSIM_V2_SANDBOX"  # master switch: "true" runs V2 in shadow
SANDBOX_DATABASE_URL = "COSTSIM_SANDBOX_DATABASE_URL"  # PostgreSQL: the sandbox role's URL
RATE_LIMIT_PER_SECOND = "COSTSIM_RATE_LIMIT_PER_SECOND"
RATE_LIMIT_BURST = "COSTSIM_RATE_LIMIT_BURST"
V2_TIME_BUDGET_MS = "COSTSIM_V2_TIME_BUDGET_MS"
TENANTS_FILE = "COSTSIM_TENANTS_FILE"  # YAML: defaults + per-tenant rate limits
SIGNING_KEYS = "COSTSIM_SIGNING_KEYS"  # secret "kid:<base64url key>,..." (security/signing.py)
EXPORT_DIR = "COSTSIM_EXPORT_DIR"  # status-history exports; default beside the SQLite file
EXPORT_TTL_S = "COSTSIM_EXPORT_TTL_S"  # lifetime of a signed export download link
OUTCOME_MAX_AGE_DAYS = "COSTSIM_OUTCOME_MAX_AGE_DAYS"  # outcomes of older requests answer too_late


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
    report_dir: str | None = None  # divergence reports served by signed URL (None: none served)
    signing_keys: str | None = None  # None: signed URLs and cursors answer 503
    export_dir: str | None = None  # None: status-history exports answer 503
    export_ttl_s: int = 900
    tenants_file: str | None = None  # per-tenant overrides (the Helm chart's tenants.yaml)
    outcome_max_age_days: float = 7.0


def _required(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise RuntimeError(f"{name} must be set (see README, Configuration)")
    return value


def _positive(environ: Mapping[str, str], name: str, default: str) -> float:
    """A positive number, or a start-up error naming the setting (not a silent misconfiguration)."""
    text = environ.get(name, "").strip() or default
    try:
        value = float(text)
    except ValueError:
        value = float("nan")
    if not value > 0:
        raise RuntimeError(f"{name} must be a positive number, got {text!r}")
    return value


def database_url_from_env(environ: Mapping[str, str] | None = None) -> str:
    """The application store URL, for commands that need nothing else."""
    return _required(os.environ if environ is None else environ, DATABASE_URL)


def _report_dir(artifact_root: str) -> str | None:
    """Where the Dagster divergence_report asset writes (<artifact root>/reports/divergence)."""
    return os.path.join(artifact_root, *REPORT_SUBDIR) if artifact_root else None


def _export_dir(explicit: str, database_url: str) -> str | None:
    """COSTSIM_EXPORT_DIR, else `exports/` beside a SQLite file; PostgreSQL needs it set."""
    if explicit:
        return explicit
    url = sa.make_url(database_url)
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
        return None
    return os.path.join(os.path.dirname(os.path.abspath(url.database)), "exports")


def load_api_settings(environ: Mapping[str, str] | None = None) -> ApiSettings:
    """API settings from the environment; the database and key file have no working default."""
    env = os.environ if environ is None else environ
    database_url = _required(env, DATABASE_URL)
    return ApiSettings(
        database_url=database_url,
        api_keys_file=_required(env, API_KEYS_FILE),
        v2_sandbox=env.get(V2_SANDBOX, "false").strip().lower() in ("1", "true", "yes", "on"),
        sandbox_database_url=env.get(SANDBOX_DATABASE_URL) or None,
        rate_limit_per_second=float(env.get(RATE_LIMIT_PER_SECOND, "50")),
        rate_limit_burst=int(env.get(RATE_LIMIT_BURST, "100")),
        v2_time_budget_ms=float(env.get(V2_TIME_BUDGET_MS, "250")),
        report_dir=_report_dir(env.get(ARTIFACT_ROOT, "").strip()),
        signing_keys=env.get(SIGNING_KEYS, "").strip() or None,
        export_dir=_export_dir(env.get(EXPORT_DIR, "").strip(), database_url),
        export_ttl_s=int(env.get(EXPORT_TTL_S, "900")),
        tenants_file=env.get(TENANTS_FILE, "").strip() or None,
        outcome_max_age_days=_positive(env, OUTCOME_MAX_AGE_DAYS, "7"),
    )
