"""The canary's statistics for one day (pure numpy; see docs/statistics.md for definitions).

The trust signal is the judgement on realized outcomes (canary/judgement.py: P1 and P2). Around it,
as context that explains a breach and never is one: V2 against V1 paired per request (the
divergence the specification asks for), the drift of the per-request log ratio log((V2 + e) /
(V1 + e)) against the same ratio on the golden historical dataset, V2's median estimate against
its median there, and the noise floor (V1 rerun against V1 stored). P3 is the schema-error ratio.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costsim_assets.canary.config import CanaryConfig
from costsim_assets.statistics.divergence import divergence_summary
from costsim_assets.statistics.drift import drift_score
from costsim_assets.statistics.percentiles import MIN_SAMPLE_SIZE, percentile

FAILED_STATUSES = ("error", "timeout")
P3 = "schema_errors_p3"


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
    """The day's context statistics, JSON-ready; status 'no_data' below the minimum sample."""
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
    return {
        "status": drift.status,
        "evaluations": n,
        "v2_vs_v1_drift": drift.score,
        "v2_vs_v1_kl_divergence": drift.kl_divergence,
        "v2_estimate_median_shift": relative_median_shift(day.reference_v2_cost, day.v2_cost[evaluable]),
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


def schema_check(stats: dict, config: CanaryConfig) -> dict:
    """P3 from the day's share of evaluations the plan schema rejected."""
    return check_outcome(
        "schema-error ratio",
        stats["schema_error_ratio"],
        config.p3_schema_error_ratio,
        {"schema_error_ratio": stats["schema_error_ratio"], "evaluations": stats["evaluations"]},
    )


def canary_statistics(day: CanaryDay, judged: dict, config: CanaryConfig) -> dict:
    """The day's context statistics, the realized judgement, and every check of canary/checks.py."""
    stats = analyze(day, config)
    return {
        **stats,
        "realized": judged["statistics"],
        "checks": {**judged["checks"], P3: schema_check(stats, config)},
    }
