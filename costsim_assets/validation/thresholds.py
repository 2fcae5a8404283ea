"""Verdict thresholds, read from a YAML file so they are configuration, not code."""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import yaml

PACKAGED_THRESHOLDS = "validation_thresholds.yaml"


@dataclass(frozen=True)
class Band:
    """Warn and fail limits; `higher_is_better` flips the direction (a skill must stay above them)."""

    warn: float
    fail: float
    higher_is_better: bool = False


@dataclass(frozen=True)
class Thresholds:
    bands: dict[str, Band]
    nominal_interval_coverage: float


def load_thresholds(path: str | Path | None = None) -> Thresholds:
    """Thresholds from `path`, or the packaged defaults."""
    text = (
        Path(path).read_text()
        if path
        else resources.files("costsim_assets.config").joinpath(PACKAGED_THRESHOLDS).read_text()
    )
    data = yaml.safe_load(text)
    bands = {
        name: Band(float(b["warn"]), float(b["fail"]), bool(b.get("higher_is_better", False)))
        for name, b in data["metrics"].items()
    }
    return Thresholds(bands, float(data["nominal_interval_coverage"]))
