"""The canary's statistics for one day (pure numpy; see docs/statistics.md for definitions).

Drift (P1) is measured on the per-request log ratio log((V2 + e) / (V1 + e)) against the same
ratio on the golden historical dataset: V2 is meant to differ from V1, so what matters is whether
it now differs *differently* than when it was validated. The median shift (P2) compares V2's
median cost today with its median on the reference. V1 rerun against V1 stored is the noise floor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costsim_assets.canary.config import CanaryConfig
from costsim_assets.statistics.divergence import divergence_summary
from costsim_assets.statistics.drift import drift_score
from costsim_assets.statistics.percentiles import MIN_SAMPLE_SIZE, percentile

FAILED_STATUSES = ("error", "timeout")


@dataclass(frozen=True)
class CanaryDay:
    """One day's sampled evaluations (stored and rerun) and the golden reference costs."""

    v2_status: np.ndarray
    v1_stored_hash: np.ndarray
    v2_stored_hash: np.ndarray
    v1_rerun_hash: np.ndarray
    v2_rerun_hash: np.ndarray
    v1_cost: np.ndarray
    v2_cost: np.ndarray
    v1_runtime_ms: np.ndarray
    v2_runtime_ms: np.ndarray
    reference_v1_cost: np.ndarray
    reference_v2_cost: np.ndarray


def log_ratio(v1: np.ndarray, v2: np.ndarray, epsilon: float) -> np.ndarray:
    return np.log((v2 + epsilon) / (v1 + epsilon))


def relative_median_shift(reference: np.ndarray, current: np.ndarray) -> float:
    """|median(current) - median(reference)| / median(reference); NaN below the minimum sample."""
    reference, current = reference[np.isfinite(reference)], current[np.isfinite(current)]
    if min(reference.size, current.size) < MIN_SAMPLE_SIZE:
        return float("nan")
    base = percentile(reference, 50)
    return abs(percentile(current, 50) - base) / base if base > 0 else float("nan")


def _rate(matches: np.ndarray) -> float | None:
    return float(np.mean(matches)) if matches.size else None


def _percentiles(v1: np.ndarray, v2: np.ndarray) -> dict:
    return {
        version: {
            "p50": percentile(values[np.isfinite(values)], 50),
            "p90": percentile(values[np.isfinite(values)], 90),
        }
        for version, values in (("v1", v1), ("v2", v2))
    }


def runtime_histogram(day: CanaryDay, buckets: tuple[float, ...]) -> dict:
    """Non-cumulative counts per bucket (last entry: above the top bucket) and sums, per version."""
    histogram: dict = {"buckets": list(buckets)}
    for version, values in (("v1", day.v1_runtime_ms), ("v2", day.v2_runtime_ms)):
        values = values[np.isfinite(values)]
        index = np.searchsorted(np.array(buckets), values, side="left")
        histogram[version] = {
            "counts": np.bincount(index, minlength=len(buckets) + 1).tolist(),
            "sum": float(values.sum()),
        }
    return histogram


def analyze(day: CanaryDay, config: CanaryConfig) -> dict:
    """Every canary statistic for the day, JSON-ready; status 'no_data' below the minimum sample."""
    n = len(day.v2_status)
    evaluable = day.v2_status != "schema_error"
    failed = np.isin(day.v2_status, FAILED_STATUSES)
    pairwise = divergence_summary(
        day.v1_cost[evaluable],
        day.v2_cost[evaluable],
        failed[evaluable],
        config.matching_rel_tol,
        config.matching_abs_tol,
    )
    eps = config.ratio_epsilon_cents
    drift = drift_score(
        log_ratio(day.reference_v1_cost, day.reference_v2_cost, eps),
        log_ratio(day.v1_cost[evaluable], day.v2_cost[evaluable], eps),
    )
    completed = day.v2_status == "ok"
    stats = {
        "status": drift.status,
        "evaluations": n,
        "drift_score": drift.score,
        "kl_divergence": drift.kl_divergence,
        "median_shift": relative_median_shift(day.reference_v2_cost, day.v2_cost[evaluable]),
        "schema_error_ratio": float(1 - evaluable.mean()) if n else float("nan"),
        "fail_ratio": pairwise.fail_ratio,
        "pairwise": pairwise.to_dict(),
        "noise_floor": {
            "v1_rerun_hash_match_rate": _rate(day.v1_stored_hash[evaluable] == day.v1_rerun_hash[evaluable]),
            "v2_rerun_hash_match_rate": _rate(day.v2_stored_hash[completed] == day.v2_rerun_hash[completed]),
        },
        "percentiles": {
            "canary": _percentiles(day.v1_cost[evaluable], day.v2_cost[evaluable]),
            "reference": _percentiles(day.reference_v1_cost, day.reference_v2_cost),
        },
        "runtime_histogram": runtime_histogram(day, config.runtime_buckets_ms),
    }
    return {**stats, "checks": evaluate_checks(stats, config)}


def check_outcome(measure: str, value: float | None, threshold: float, evidence: dict) -> dict:
    """One check's verdict: a breach above the threshold; no value (too little data) is no_data."""
    no_data = value is None or not np.isfinite(value)
    outcome = "no_data" if no_data else ("pass" if value <= threshold else "breach")
    if no_data:
        detail = f"{measure}: no data ({evidence['evaluations']} evaluations, minimum {MIN_SAMPLE_SIZE})"
    else:
        detail = f"{measure} {value:.4g} {'>' if outcome == 'breach' else '<='} threshold {threshold:g}"
    return {
        "value": None if no_data else float(value),
        "threshold": float(threshold),
        "outcome": outcome,
        "detail": detail,
        "moved": [],
        "evidence": evidence,
    }


def evaluate_checks(stats: dict, config: CanaryConfig) -> dict[str, dict]:
    """Each check of canary/checks.py from today's statistics (P1: drift score, P2: median shift,
    P3: schema-error ratio). `moved` names the segments that moved; these statistics have none."""
    n = stats["evaluations"]
    return {
        "realized_drift_p1": check_outcome(
            "drift score",
            stats["drift_score"],
            config.p1_drift_score,
            {"drift_score": stats["drift_score"], "kl_divergence": stats["kl_divergence"], "evaluations": n},
        ),
        "median_shift_p2": check_outcome(
            "V2 median shift",
            stats["median_shift"],
            config.p2_median_shift,
            {"median_shift": stats["median_shift"], "percentiles": stats["percentiles"], "evaluations": n},
        ),
        "schema_errors_p3": check_outcome(
            "schema-error ratio",
            stats["schema_error_ratio"],
            config.p3_schema_error_ratio,
            {"schema_error_ratio": stats["schema_error_ratio"], "evaluations": n},
        ),
    }
