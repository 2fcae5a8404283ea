"""The one settings module: the name of every environment variable the project reads, and the
API's settings read from them. Pure (no Dagster): the API and the CLI import it; the Dagster
resources (defs/resources.py) read the same names through dg.EnvVar at run time. Nothing here
reads the environment at import.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

import sqlalchemy as sa

from costsim_assets.reports.divergence import REPORT_SUBDIR

# Read by Dagster runs (defs/resources.py) and, where noted, by the API.
DATABASE_URL = "COSTSIM_DATABASE_URL"  # sqlite:///... or postgresql+psycopg2://... (API too)
SANDBOX_DATABASE_URL = "COSTSIM_SANDBOX_DATABASE_URL"  # PostgreSQL sandbox role's URL; "": main (API too)
ARTIFACT_ROOT = "COSTSIM_ARTIFACT_ROOT"  # datasets, outputs, reports (API: where reports are served from)
HISTORICAL_SOURCE = "COSTSIM_HISTORICAL_SOURCE"  # path or URL of the Azure trace CSV
# expected sha256 of that trace; read by ReferenceDataResource at run time through dg.EnvVar, with
# the code trace's checksum as the default (unset is fine: no deployment has to carry it)
HISTORICAL_SHA256 = "COSTSIM_HISTORICAL_SHA256"
REPLAY_SOURCE = "COSTSIM_REPLAY_SOURCE"  # trace the daily replay reads; empty: the historical dataset
REPLAY_SHA256 = "COSTSIM_REPLAY_SHA256"  # its expected sha256; empty: the historical trace's
ANONYMIZATION_SALT = "COSTSIM_ANONYMIZATION_SALT"  # secret salt for historical identifiers
SLACK_WEBHOOK_URL = "COSTSIM_SLACK_WEBHOOK_URL"  # secret; "": deliveries are recorded as failed
API_BASE_URL = "COSTSIM_API_BASE_URL"  # where signed report links in the Dagster UI point; "": no links
SIGNING_KEYS = "COSTSIM_SIGNING_KEYS"  # secret "kid:<base64url key>,..." (security/signing.py) (API too)
TENANTS_FILE = "COSTSIM_TENANTS_FILE"  # YAML: per-tenant rate limits (API) and drift thresholds (canary)
# Read when the Dagster definitions load (not at import).
SENSOR_INTERVAL_S = "COSTSIM_SENSOR_INTERVAL_S"  # minimum seconds between drift-sensor ticks
DEFAULT_SENSOR_INTERVAL_S = 30
EXECUTOR = "COSTSIM_EXECUTOR"  # in_process (default: no process start-up per step) or multiprocess
EXECUTORS = ("in_process", "multiprocess")
# Read by the API only.
API_KEYS_FILE = "COSTSIM_API_KEYS_FILE"  # YAML of hashed API keys (see api/keys.py)
V2_SANDBOX = "COSTSIM_V2_SANDBOX"  # master switch: "true" runs V2 in shadow
RATE_LIMIT_PER_SECOND = "COSTSIM_RATE_LIMIT_PER_SECOND"
RATE_LIMIT_BURST = "COSTSIM_RATE_LIMIT_BURST"
V2_TIME_BUDGET_MS = "COSTSIM_V2_TIME_BUDGET_MS"
EXPORT_DIR = "COSTSIM_EXPORT_DIR"  # status-history exports; default beside the SQLite file
EXPORT_TTL_S = "COSTSIM_EXPORT_TTL_S"  # lifetime of a signed export download link
OUTCOME_MAX_AGE_DAYS = "COSTSIM_OUTCOME_MAX_AGE_DAYS"  # outcomes of older requests answer too_late
# Read by `costsim db provision-roles` only (with DATABASE_URL as the owner's URL).
APP_DB_ROLE = "COSTSIM_APP_DB_ROLE"  # the API's login role (row-level security applies to it)
APP_DB_PASSWORD = "COSTSIM_APP_DB_PASSWORD"  # secret, no default
SANDBOX_DB_ROLE = "COSTSIM_SANDBOX_DB_ROLE"  # the V2 sandbox's login role
SANDBOX_DB_PASSWORD = "COSTSIM_SANDBOX_DB_PASSWORD"  # secret, no default
DEFAULT_ROLES = {APP_DB_ROLE: "costsim_app", SANDBOX_DB_ROLE: "costsim_v2_sandbox"}


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


def sensor_interval_s(environ: Mapping[str, str] | None = None) -> int:
    """Minimum seconds between drift-sensor ticks (tests and demos shorten it)."""
    env = os.environ if environ is None else environ
    return int(env.get(SENSOR_INTERVAL_S, "").strip() or DEFAULT_SENSOR_INTERVAL_S)


def executor_name(environ: Mapping[str, str] | None = None) -> str:
    """How Dagster runs steps: in one process (default) or one process per step."""
    env = os.environ if environ is None else environ
    name = env.get(EXECUTOR, "").strip() or EXECUTORS[0]
    if name not in EXECUTORS:
        raise RuntimeError(f"{EXECUTOR} must be one of {', '.join(EXECUTORS)}, not {name!r}")
    return name


@dataclass(frozen=True)
class DatabaseRole:
    name: str
    password: str


def database_roles(environ: Mapping[str, str] | None = None) -> tuple[DatabaseRole, DatabaseRole]:
    """(app role, sandbox role) for `costsim db provision-roles`; passwords have no default."""
    env = os.environ if environ is None else environ
    return tuple(
        DatabaseRole(env.get(role, "").strip() or DEFAULT_ROLES[role], _required(env, password))
        for role, password in ((APP_DB_ROLE, APP_DB_PASSWORD), (SANDBOX_DB_ROLE, SANDBOX_DB_PASSWORD))
    )


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
