"""Dagster resources: thin wrappers that hand the core its store, artifact root and inputs, and
the deployed set of them, configured from the environment (names in settings.py) at run time."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import dagster as dg
import sqlalchemy as sa

from costsim_assets import settings
from costsim_assets.reference_data.historical import SHA256_SETTING, TRACE_SHA256, read_trace_bytes
from costsim_assets.reports.divergence import LINK_TTL_S, signed_report_url
from costsim_assets.security.signing import parse_signing_keys
from costsim_assets.simulator.v2_model import V2Model, load_v2_model
from costsim_assets.store.engine import make_engine, make_sandbox_engine, upgrade_to_head
from costsim_assets.validation.thresholds import Thresholds, load_thresholds


@lru_cache(maxsize=8)
def _migrated_engine(url: str) -> sa.Engine:
    engine = make_engine(url)
    upgrade_to_head(engine)
    return engine


@lru_cache(maxsize=8)
def _sandbox_engine(url: str, sandbox_url: str) -> sa.Engine:
    _migrated_engine(url)
    return make_sandbox_engine(url, sandbox_url or None)


class StoreResource(dg.ConfigurableResource):
    """The application store (SQLite file or PostgreSQL), migrated to head on first use.

    `sandbox_database_url` is the sandbox role's URL on PostgreSQL (empty: the main URL).
    """

    database_url: str
    sandbox_database_url: str = ""

    def engine(self) -> sa.Engine:
        return _migrated_engine(self.database_url)

    def sandbox_engine(self) -> sa.Engine:
        """The engine V2's code path writes through: it reaches only the sandbox area."""
        return _sandbox_engine(self.database_url, self.sandbox_database_url)


class ArtifactStoreResource(dg.ConfigurableResource):
    """Root directory of every artifact file; paths are derived, never stored twice."""

    root: str

    def path(self, *parts: str) -> Path:
        return Path(self.root).resolve().joinpath(*parts)

    def dataset_file(self, name: str) -> Path:
        return self.path("datasets", name, f"{name}.parquet")

    def dataset_steps_file(self, name: str) -> Path:
        """Step-level ground truth (tokens, cost, latency, status per step) of a dataset."""
        return self.path("datasets", name, f"{name}_steps.parquet")

    def outputs_file(self, name: str, version: str) -> Path:
        return self.path("outputs", name, f"{name}_{version}.parquet")

    def step_predictions_file(self, name: str) -> Path:
        """V2's per-LLM-step output-token predictions (with the naive baselines') on a dataset."""
        return self.path("outputs", name, f"{name}_v2_steps.parquet")

    def report_file(self, stem: str, suffix: str) -> Path:
        return self.path("reports", f"{stem}.{suffix}")

    def metrics_file(self, name: str) -> Path:
        return self.path("validation", f"{name}_metrics.json")

    def canary_file(self, day: str, name: str) -> Path:
        return self.path("canary", day, name)

    def v2_model_file(self, version: str | None = None) -> Path:
        """The artifact the models/v2_model asset wrote: the current one, or a kept version."""
        return self.path("models", f"{version}.json" if version else "v2_model.json")

    def v2_model(self) -> V2Model:
        """The V2 model every V2 simulation uses: the models/v2_model asset's artifact (a missing
        file means that asset was never materialized here)."""
        return load_v2_model(self.v2_model_file())


REPLAY_SETTINGS = "COSTSIM_REPLAY_SOURCE and COSTSIM_REPLAY_SHA256"


class ReferenceDataResource(dg.ConfigurableResource):
    """Where the real trace lives (and its expected sha256), the anonymization salt, the verdict
    thresholds file, and the trace the traffic replay reads (empty: the historical dataset; its
    sha256 empty: the historical trace's checksum).

    `historical_sha256` empty means COSTSIM_HISTORICAL_SHA256 read at run time, and the code
    trace's checksum when that is unset too, so validating against your own trace is one setting.
    """

    historical_source: str
    anonymization_salt: str
    thresholds_file: str = ""
    historical_sha256: str = ""
    replay_source: str = ""
    replay_sha256: str = ""

    def expected_sha256(self) -> str:
        return self.historical_sha256 or dg.EnvVar(SHA256_SETTING).get_value(TRACE_SHA256) or TRACE_SHA256

    def trace_bytes(self) -> bytes:
        return read_trace_bytes(self.historical_source, self.expected_sha256())

    def replay_trace_bytes(self) -> bytes | None:
        """The replay's own trace, sha256-verified; None when the replay uses the historical dataset."""
        if not self.replay_source:
            return None
        return read_trace_bytes(
            self.replay_source, self.replay_sha256 or self.expected_sha256(), REPLAY_SETTINGS
        )

    def thresholds(self) -> Thresholds:
        return load_thresholds(self.thresholds_file or None)


class CanaryResource(dg.ConfigurableResource):
    """Canary thresholds file (empty: packaged defaults), the tenants file with per-tenant drift
    thresholds (empty: none), where incident files go (empty: under the artifact root) and Slack."""

    config_file: str = ""
    tenants_file: str = ""
    incident_dir: str = ""
    slack_webhook_url: str = ""

    def config(self):
        from costsim_assets.canary.config import load_canary_config

        return load_canary_config(self.config_file or None, self.tenants_file or None)

    def notifier(self):
        """The Slack notifier, or None when no webhook is configured (deliveries then record why)."""
        from costsim_assets.alerts.slack import SlackNotifier

        return SlackNotifier(self.slack_webhook_url) if self.slack_webhook_url else None


class ReportLinksResource(dg.ConfigurableResource):
    """Where the API serves report files and the key that signs links to them (empty: no links).

    Deployed from COSTSIM_API_BASE_URL and COSTSIM_SIGNING_KEYS, which must be set (dg.EnvVar fails
    a run on an unset variable) but may be empty: an empty value only leaves the links out.
    """

    api_base_url: str = ""
    signing_keys: str = ""

    def enabled(self) -> bool:
        """Links need both an address to point at and a key to sign with."""
        return bool(self.api_base_url and self.signing_keys)

    def url(self, name: str) -> str:
        """A signed link to a report file, valid for LINK_TTL_S (7 days)."""
        return signed_report_url(parse_signing_keys(self.signing_keys), self.api_base_url, name, LINK_TTL_S)


def resources_from_env() -> dict[str, dg.ConfigurableResource]:
    """The deployed resources: every field from its environment variable, resolved by Dagster at
    run time. Optional settings must still be set (possibly empty): the Makefile and the Helm
    chart set them all."""
    return {
        "store": StoreResource(
            database_url=dg.EnvVar(settings.DATABASE_URL),
            sandbox_database_url=dg.EnvVar(settings.SANDBOX_DATABASE_URL),
        ),
        "artifacts": ArtifactStoreResource(root=dg.EnvVar(settings.ARTIFACT_ROOT)),
        "reference_data": ReferenceDataResource(
            historical_source=dg.EnvVar(settings.HISTORICAL_SOURCE),
            anonymization_salt=dg.EnvVar(settings.ANONYMIZATION_SALT),
            replay_source=dg.EnvVar(settings.REPLAY_SOURCE),
            replay_sha256=dg.EnvVar(settings.REPLAY_SHA256),
        ),
        "canary": CanaryResource(
            slack_webhook_url=dg.EnvVar(settings.SLACK_WEBHOOK_URL),
            tenants_file=dg.EnvVar(settings.TENANTS_FILE),
        ),
        "report_links": ReportLinksResource(
            api_base_url=dg.EnvVar(settings.API_BASE_URL), signing_keys=dg.EnvVar(settings.SIGNING_KEYS)
        ),
    }
