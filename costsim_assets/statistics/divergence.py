"""Paired comparison of V2 against V1 outputs for the same requests (used by the daily canary)."""

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from costsim_assets.statistics.drift import js_distance, kl_divergence
from costsim_assets.statistics.outliers import outlier_mask
from costsim_assets.statistics.percentiles import (
    MIN_SAMPLE_SIZE,
    Status,
    nan_fields,
    percentile,
    result_to_dict,
)


@dataclass(frozen=True)
class DivergenceSummary:
    """How far V2 departs from V1; floats are NaN and outlier_count None when no_data."""

    status: Status
    n_pairs: int
    n_evaluations: int
    delta_p50: float
    delta_p90: float
    relative_median_shift: float
    kl_divergence: float
    drift_score: float
    outlier_count: int | None
    outlier_pct: float
    fail_ratio: float
    matching_rate: float

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe view (NaN -> None)."""
        return result_to_dict(self)


def divergence_summary(
    v1: np.ndarray,
    v2: np.ndarray,
    failed: np.ndarray | None = None,
    rel_tol: float = 0.05,
    abs_tol: float = 0.01,
) -> DivergenceSummary:
    """Summarise V2-vs-V1 divergence over usable pairs; failures always count toward fail_ratio."""
    v1, v2, failed = _checked_inputs(v1, v2, failed, rel_tol, abs_tol)
    v2_failed = failed | ~np.isfinite(v2)
    fail_ratio = float(np.mean(v2_failed)) if v1.size else math.nan
    usable = np.isfinite(v1) & ~v2_failed
    n_pairs = int(usable.sum())
    if n_pairs < MIN_SAMPLE_SIZE:
        return DivergenceSummary(
            **{**nan_fields(DivergenceSummary), "fail_ratio": fail_ratio},
            status="no_data",
            n_pairs=n_pairs,
            n_evaluations=v1.size,
            outlier_count=None,
        )
    return _summary(v1[usable], v2[usable], fail_ratio, v1.size, (rel_tol, abs_tol))


def within_tolerance(v1: np.ndarray, v2: np.ndarray, rel_tol: float, abs_tol: float) -> np.ndarray:
    """The matching rule: |v2 - v1| <= abs_tol + rel_tol * |v1| (a NaN never matches)."""
    return np.abs(v2 - v1) <= abs_tol + rel_tol * np.abs(v1)


def _checked_inputs(
    v1: np.ndarray, v2: np.ndarray, failed: np.ndarray | None, rel_tol: float, abs_tol: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Reject misaligned rows or negative tolerances rather than compare the wrong pairs."""
    v1 = np.asarray(v1, dtype=float)
    v2 = np.asarray(v2, dtype=float)
    failed = np.zeros(v1.shape, dtype=bool) if failed is None else np.asarray(failed, dtype=bool)
    if v1.ndim != 1 or not v1.shape == v2.shape == failed.shape:
        raise ValueError(f"need 1-D arrays of equal length: {v1.shape}, {v2.shape}, {failed.shape}")
    if rel_tol < 0 or abs_tol < 0:
        raise ValueError(f"tolerances must be non-negative: rel_tol={rel_tol}, abs_tol={abs_tol}")
    return v1, v2, failed


def _summary(
    v1: np.ndarray,
    v2: np.ndarray,
    fail_ratio: float,
    n_evaluations: int,
    tolerances: tuple[float, float],
) -> DivergenceSummary:
    """Compute every divergence statistic on clean, paired, large-enough samples."""
    rel_tol, abs_tol = tolerances
    difference = v2 - v1
    outlier_count = int(np.sum(outlier_mask(difference)))
    v1_p50 = percentile(v1, 50)
    delta_p50 = percentile(v2, 50) - v1_p50
    return DivergenceSummary(
        status="ok",
        n_pairs=int(v1.size),
        n_evaluations=n_evaluations,
        delta_p50=delta_p50,
        delta_p90=percentile(v2, 90) - percentile(v1, 90),
        relative_median_shift=math.nan if v1_p50 == 0 else delta_p50 / abs(v1_p50),
        kl_divergence=kl_divergence(reference=v1, current=v2),
        drift_score=js_distance(reference=v1, current=v2),
        outlier_count=outlier_count,
        outlier_pct=100.0 * outlier_count / v1.size,
        fail_ratio=fail_ratio,
        matching_rate=float(np.mean(within_tolerance(v1, v2, rel_tol, abs_tol))),
    )
