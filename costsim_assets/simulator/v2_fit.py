"""The numeric pieces of fitting V2 (pure numpy; the observation frame lives in `training/`).

Output tokens, per segment: median, mean and a quantile grid from the fit window; an interval by
split-conformal prediction on the later calibration window; and what that interval and median
really did on the calibration window (coverage, misses below and above, share above the median),
which V2 reports per request as its confidence.

Split-conformal, written out in numpy rather than via MAPIE or crepes: the base predictor is a
constant per segment, and for a constant the conformal interval reduces exactly to two order
statistics of the segment's calibration outputs, lower = the floor((n + 1) a/2)-th smallest and
upper = the ceil((n + 1)(1 - a/2))-th smallest (a = 1 - nominal). Each side then misses with
probability at most a/2 on exchangeable data, so coverage >= nominal. Integer outputs with many
ties need no special care: the bounds are observed values, the inclusive test `low <= y <= high`
only over-covers on ties, and the calibration statistics measure exactly that. A library would add
a dependency and an estimator wrapper around these two lines.
"""

from __future__ import annotations

import math

import numpy as np

QUANTILE_GRID = np.linspace(0.0, 100.0, 101)
"""Percentiles kept per segment, so E[min(Y, max_tokens)] can be computed for capped calls."""
DECIMALS = 9
RANK_EPSILON = 1e-9


def rounded(values) -> list[float]:
    """Round fitted numbers so the artifact (and its hash) is stable across BLAS builds."""
    return [round(float(v), DECIMALS) for v in np.atleast_1d(values)]


def conformal_bounds(calibration: np.ndarray, nominal: float) -> tuple[float, float]:
    """Split-conformal interval of a constant predictor: two order statistics (see module doc)."""
    ordered = np.sort(np.asarray(calibration, dtype=np.float64))
    n, alpha = len(ordered), 1.0 - nominal
    # 1 - 0.8 is 0.19999999999999996 in floating point: nudge so exact ranks are not lost to it
    low_rank = math.floor((n + 1) * alpha / 2 + RANK_EPSILON)
    high_rank = math.ceil((n + 1) * (1 - alpha / 2) - RANK_EPSILON)
    if high_rank > n:
        raise ValueError(f"{n} calibration rows cannot bound a {nominal:.0%} interval")
    low = ordered[low_rank - 1] if low_rank >= 1 else 0.0
    return float(low), float(ordered[high_rank - 1])


def rows_for_tolerance(nominal: float, tolerance: float, z: float = 1.959964) -> int:
    """Rows a segment needs so its reported coverage and a later window's coverage (both binomial
    estimates of the same rate) differ by more than `tolerance` only 5 % of the time:
    z * sqrt(2 p (1 - p) / n) <= tolerance, p = nominal. 492 rows for 80 % within 5 points."""
    return math.ceil(2 * z * z * nominal * (1 - nominal) / (tolerance * tolerance))


def min_calibration_rows(nominal: float) -> int:
    """The fewest calibration rows for which the upper conformal bound is finite."""
    return math.ceil(2.0 / (1.0 - nominal)) - 1


def segment_statistics(fit: np.ndarray, calibration: np.ndarray, nominal: float) -> dict:
    """Point forecasts from the fit window, the conformal interval and its calibration record."""
    fit = np.asarray(fit, dtype=np.float64)
    calibration = np.asarray(calibration, dtype=np.float64)
    low, high = conformal_bounds(calibration, nominal)
    p50 = float(np.percentile(fit, 50))
    return {
        "fit_rows": int(fit.size),
        "calibration_rows": int(calibration.size),
        "mean": round(float(fit.mean()), DECIMALS),
        "p50": round(p50, DECIMALS),
        "low": round(low, DECIMALS),
        "high": round(high, DECIMALS),
        "quantiles": rounded(np.percentile(fit, QUANTILE_GRID)),
        "calibration": {
            "coverage": round(float(np.mean((calibration >= low) & (calibration <= high))), 6),
            "share_below_low": round(float(np.mean(calibration < low)), 6),
            "share_above_high": round(float(np.mean(calibration > high)), 6),
            "share_above_p50": round(float(np.mean(calibration > p50)), 6),
        },
    }


def capped_mean(quantiles: np.ndarray, cap: np.ndarray) -> np.ndarray:
    """E[min(Y, cap)] per row from each row's quantile grid (trapezoid over the 101 percentiles)."""
    clipped = np.minimum(quantiles, cap[:, None])
    return (clipped[:, 1:] + clipped[:, :-1]).sum(axis=1) / (2.0 * (len(QUANTILE_GRID) - 1))


def fit_llm_latency(
    fit: tuple[np.ndarray, np.ndarray, np.ndarray],
    calibration: tuple[np.ndarray, np.ndarray, np.ndarray],
    nominal: float,
) -> dict:
    """latency = intercept + per input token + per output token, least squares on real latencies.

    The interval is conformal too: order statistics of observed / predicted latency on the
    calibration window give the low and high multipliers.
    """
    design = np.column_stack([np.ones(len(fit[0])), fit[0], fit[1]])
    coef = np.linalg.lstsq(design, fit[2], rcond=None)[0]
    predicted = coef[0] + coef[1] * calibration[0] + coef[2] * calibration[1]
    ratio = np.asarray(calibration[2]) / np.maximum(predicted, 1e-3)
    low, high = conformal_bounds(ratio, nominal)
    return {"coef": rounded(coef), "interval_factors": rounded([low, high])}
