"""Canary thresholds and sizes, read from YAML so they are configuration, not code.

Per-tenant drift thresholds come from the tenants file the Helm chart renders
(`defaults.drift` and `tenants.<id>.drift`, each `{warn, fail}`), for the canary's per-tenant view.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import yaml

from costsim_assets.canary.judgement import JudgementConfig


@dataclass(frozen=True)
class DriftThresholds:
    warn: float
    fail: float


@dataclass(frozen=True)
class RecalibrationConfig:
    """When a challenger is fitted, how long it must validate, and whether it promotes itself."""

    window_days: int
    validation_days: int
    auto_promote: bool


@dataclass(frozen=True)
class CanaryConfig:
    sample_size: int
    judgement: JudgementConfig
    recalibration: RecalibrationConfig
    p3_schema_error_ratio: float
    matching_rel_tol: float
    matching_abs_tol: float
    ratio_epsilon_cents: float
    reenable_after_passes: int
    runtime_buckets_ms: tuple[float, ...]
    tenant_drift_default: DriftThresholds | None = None  # None: no tenants file
    tenant_drift: Mapping[str, DriftThresholds] = field(default_factory=dict)

    def drift_thresholds(self, tenant_id: str) -> DriftThresholds | None:
        """The tenant's own drift thresholds, else the file's defaults (None without a file)."""
        return self.tenant_drift.get(tenant_id, self.tenant_drift_default)


def _drift(entry: Mapping | None) -> DriftThresholds | None:
    drift = (entry or {}).get("drift")
    return DriftThresholds(float(drift["warn"]), float(drift["fail"])) if drift else None


def _tenant_thresholds(path: str | Path | None) -> dict:
    """CanaryConfig fields from the tenants file; nothing when there is none."""
    if not path:
        return {}
    document = yaml.safe_load(Path(path).read_text()) or {}
    tenants = {tenant: _drift(entry) for tenant, entry in (document.get("tenants") or {}).items()}
    return {
        "tenant_drift_default": _drift(document.get("defaults")),
        "tenant_drift": {tenant: drift for tenant, drift in tenants.items() if drift is not None},
    }


def load_canary_config(
    path: str | Path | None = None, tenants_file: str | Path | None = None
) -> CanaryConfig:
    """The canary YAML (default: the packaged one) plus per-tenant drift thresholds, if a file is given."""
    text = (
        Path(path).read_text()
        if path
        else resources.files("costsim_assets.config").joinpath("canary.yaml").read_text()
    )
    data = yaml.safe_load(text)
    data["runtime_buckets_ms"] = tuple(float(b) for b in data["runtime_buckets_ms"])
    data["judgement"] = JudgementConfig.from_dict(data["judgement"])
    data["recalibration"] = RecalibrationConfig(**data["recalibration"])
    return CanaryConfig(**data, **_tenant_thresholds(tenants_file))
