"""Accuracy of predicted against actual values, row by row (error = predicted - actual).

The outlier rate needs a scale fixed on a reference (`ReferenceScale`): measured against the
sample's own spread it would shrink exactly when errors grow everywhere. Without one it is NaN.
"""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from costsim_assets.statistics.drift import js_distance
from costsim_assets.statistics.outliers import ReferenceScale, fixed_scale_outlier_pct
from costsim_assets.statistics.percentiles import (
    MIN_SAMPLE_SIZE,
    Status,
    nan_fields,
    result_to_dict,
)


@dataclass(frozen=True)
class ValidationMetrics:
    """Error summary of one predicted/actual comparison; every float is NaN when no_data."""

    status: Status
    n: int
    mean_error: float
    median_error: float
    std_error: float
    mean_abs_error: float
    wape: float
    outlier_pct: float
    drift_score: float
    mean_predicted: float
    mean_actual: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe view (NaN -> None)."""
        return result_to_dict(self)


def validation_metrics(
    predicted: np.ndarray, actual: np.ndarray, error_scale: ReferenceScale | None = None
) -> ValidationMetrics:
    """Summarise prediction error over rows where both sides are finite; no_data below minimum.

    `error_scale` (of predicted - actual on a reference) is what outlier_pct is measured against.
    """
    predicted = np.asarray(predicted, dtype=float)
    actual = np.asarray(actual, dtype=float)
    if predicted.shape != actual.shape:
        raise ValueError(f"shape mismatch: predicted {predicted.shape} vs actual {actual.shape}")
    keep = np.isfinite(predicted) & np.isfinite(actual)
    n = int(keep.sum())
    if n < MIN_SAMPLE_SIZE:
        return ValidationMetrics(status="no_data", n=n, **nan_fields(ValidationMetrics))
    return _metrics(predicted[keep], actual[keep], error_scale)


def _metrics(
    predicted: np.ndarray, actual: np.ndarray, error_scale: ReferenceScale | None
) -> ValidationMetrics:
    """Compute every metric on already-cleaned, paired, large-enough samples."""
    errors = predicted - actual
    abs_errors = np.abs(errors)
    return ValidationMetrics(
        status="ok",
        n=int(errors.size),
        mean_error=float(np.mean(errors)),
        median_error=float(np.median(errors)),
        std_error=float(np.std(errors, ddof=1)),
        mean_abs_error=float(np.mean(abs_errors)),
        wape=_wape(abs_errors, actual),
        outlier_pct=fixed_scale_outlier_pct(errors, error_scale) if error_scale else math.nan,
        drift_score=js_distance(reference=actual, current=predicted),
        mean_predicted=float(np.mean(predicted)),
        mean_actual=float(np.mean(actual)),
    )


def _wape(abs_errors: np.ndarray, actual: np.ndarray) -> float:
    """Weighted absolute percentage error; undefined (NaN) when the actual total is zero."""
    denominator = float(np.sum(np.abs(actual)))
    return math.nan if denominator == 0 else float(np.sum(abs_errors)) / denominator
