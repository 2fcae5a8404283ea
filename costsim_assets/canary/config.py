"""Canary thresholds and sizes, read from YAML so they are configuration, not code."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml


@dataclass(frozen=True)
class CanaryConfig:
    sample_size: int
    p1_drift_score: float
    p2_median_shift: float
    p3_schema_error_ratio: float
    matching_rel_tol: float
    matching_abs_tol: float
    ratio_epsilon_cents: float
    reenable_after_passes: int
    runtime_buckets_ms: tuple[float, ...]


def load_canary_config(path: str | Path | None = None) -> CanaryConfig:
    text = (
        Path(path).read_text()
        if path
        else resources.files("costsim_assets.config").joinpath("canary.yaml").read_text()
    )
    data = yaml.safe_load(text)
    data["runtime_buckets_ms"] = tuple(float(b) for b in data["runtime_buckets_ms"])
    return CanaryConfig(**data)
