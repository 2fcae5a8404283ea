"""Realized performance: a forecaster judged on what really happened, beside naive baselines.

Arrays in, dataclasses out, numpy only, so validation, `costsim evaluate-trace` and the canary score
V2 the same way. Conventions (docs/statistics.md):

- MAE is scored on the median forecast and bias on the mean forecast: each is the optimal point for
  its loss (Gneiting 2011, "Making and evaluating point forecasts"). WAPE = sum |median - actual| /
  sum |actual| (NaN when the actuals sum to 0).
- Interval coverage carries a two-sided Wilson score interval for the binomial proportion
  (`scipy.stats.binomtest(...).proportion_ci(method="wilson")` gives the same numbers).
- Skill against a baseline = 1 - MAE_model / MAE_baseline (> 0: better than the baseline). Its
  lower confidence bound comes from the paired loss differential d = |baseline - actual| -
  |model - actual| (a Diebold-Mariano test without autocorrelation correction): the one-sided
  normal bound of mean(d), divided by MAE_baseline. "Demonstrably better" means that bound is > 0.
- Every score needs MIN_SAMPLE_SIZE finite rows, else status "no_data" with NaN values.
"""

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from statistics import NormalDist
from typing import Any

import numpy as np

from costsim_assets.statistics.outliers import ReferenceScale, fixed_scale_outlier_pct
from costsim_assets.statistics.percentiles import (
    MIN_SAMPLE_SIZE,
    Status,
    json_value,
    nan_fields,
    result_to_dict,
)

CONFIDENCE_LEVEL = 0.95


def _paired(*arrays: np.ndarray | None) -> tuple[np.ndarray, ...]:
    """The given arrays restricted to rows where every one of them is finite."""
    present = [np.asarray(a, dtype=float) for a in arrays if a is not None]
    shapes = {a.shape for a in present}
    if len(shapes) > 1:
        raise ValueError(f"shape mismatch: {sorted(shapes)}")
    keep = np.logical_and.reduce([np.isfinite(a) for a in present])
    return tuple(a[keep] for a in present)


def _wape(abs_errors: np.ndarray, actual: np.ndarray) -> float:
    total = float(np.sum(np.abs(actual)))
    return math.nan if total == 0 else float(np.sum(abs_errors)) / total


@dataclass(frozen=True)
class PointScore:
    """MAE and WAPE of a median forecast and the bias of a mean forecast against the actuals."""

    status: Status
    n: int
    mae: float
    wape: float
    bias: float
    mean_actual: float

    def to_dict(self) -> dict[str, Any]:
        return result_to_dict(self)


def point_score(actual: np.ndarray, median: np.ndarray, mean: np.ndarray | None = None) -> PointScore:
    """Score one forecaster; a forecaster with one number per row passes it as `median` only."""
    actual, median, mean = _paired(actual, median, median if mean is None else mean)
    if actual.size < MIN_SAMPLE_SIZE:
        return PointScore("no_data", int(actual.size), **nan_fields(PointScore))
    abs_errors = np.abs(median - actual)
    return PointScore(
        status="ok",
        n=int(actual.size),
        mae=float(np.mean(abs_errors)),
        wape=_wape(abs_errors, actual),
        bias=float(np.mean(mean - actual)),
        mean_actual=float(np.mean(actual)),
    )


def wilson_interval(successes: int, n: int, confidence: float = CONFIDENCE_LEVEL) -> tuple[float, float]:
    """Two-sided Wilson score interval of a binomial proportion (no continuity correction)."""
    if n == 0:
        return math.nan, math.nan
    z = NormalDist().inv_cdf(0.5 + confidence / 2)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return max(0.0, centre - half), min(1.0, centre + half)


@dataclass(frozen=True)
class CoverageScore:
    """Share of actuals inside [low, high], its Wilson interval, and where the misses fell."""

    status: Status
    n: int
    covered: int
    rate: float
    ci_low: float
    ci_high: float
    share_below: float
    share_above: float
    nominal: float
    confidence_level: float

    def to_dict(self) -> dict[str, Any]:
        return result_to_dict(self)


def interval_coverage(
    actual: np.ndarray,
    low: np.ndarray,
    high: np.ndarray,
    nominal: float,
    confidence: float = CONFIDENCE_LEVEL,
) -> CoverageScore:
    """Coverage of a prediction interval (bounds inclusive, as integer token counts need)."""
    actual, low, high = _paired(actual, low, high)
    n = int(actual.size)
    if n < MIN_SAMPLE_SIZE:
        return CoverageScore(
            "no_data", n, 0, math.nan, math.nan, math.nan, math.nan, math.nan, nominal, confidence
        )
    below, above = actual < low, actual > high
    covered = int(n - below.sum() - above.sum())
    ci_low, ci_high = wilson_interval(covered, n, confidence)
    return CoverageScore(
        status="ok",
        n=n,
        covered=covered,
        rate=covered / n,
        ci_low=ci_low,
        ci_high=ci_high,
        share_below=float(below.mean()),
        share_above=float(above.mean()),
        nominal=nominal,
        confidence_level=confidence,
    )


@dataclass(frozen=True)
class SkillScore:
    """1 - MAE_model / MAE_baseline on the same rows, with its one-sided lower confidence bound."""

    status: Status
    n: int
    skill: float
    lower_bound: float
    mae_model: float
    mae_baseline: float
    confidence_level: float = CONFIDENCE_LEVEL

    @property
    def demonstrated(self) -> bool:
        """True only when the lower bound is above zero (never on no_data)."""
        return self.status == "ok" and self.lower_bound > 0

    def to_dict(self) -> dict[str, Any]:
        return {**result_to_dict(self), "demonstrated": self.demonstrated}


def skill_score(
    actual: np.ndarray, model: np.ndarray, baseline: np.ndarray, confidence: float = CONFIDENCE_LEVEL
) -> SkillScore:
    """Skill of `model` over `baseline` (both median forecasts) with a paired lower bound."""
    actual, model, baseline = _paired(actual, model, baseline)
    n = int(actual.size)
    if n < MIN_SAMPLE_SIZE:
        return SkillScore("no_data", n, math.nan, math.nan, math.nan, math.nan, confidence)
    model_errors, baseline_errors = np.abs(model - actual), np.abs(baseline - actual)
    mae_model, mae_baseline = float(model_errors.mean()), float(baseline_errors.mean())
    if mae_baseline == 0:
        return SkillScore("ok", n, math.nan, math.nan, mae_model, mae_baseline, confidence)
    differential = baseline_errors - model_errors
    z = NormalDist().inv_cdf(confidence)
    lower = float(differential.mean()) - z * float(differential.std(ddof=1)) / math.sqrt(n)
    return SkillScore(
        "ok", n, 1 - mae_model / mae_baseline, lower / mae_baseline, mae_model, mae_baseline, confidence
    )


@dataclass(frozen=True)
class Forecasts:
    """One component's actuals, V2's forecasts and each baseline's (a median forecast per row).

    `low`/`high` are V2's interval (None where it has none); baselines missing for a component
    (V1 predicts no output tokens) are simply absent from `baselines`.
    """

    actual: np.ndarray
    median: np.ndarray
    mean: np.ndarray
    low: np.ndarray | None = None
    high: np.ndarray | None = None
    baselines: Mapping[str, np.ndarray] = field(default_factory=dict)


@dataclass(frozen=True)
class ComponentPerformance:
    """V2 on one component, each baseline on the same rows, skill against each, interval, outliers."""

    model: PointScore
    interval: CoverageScore | None
    baselines: dict[str, PointScore]
    skill: dict[str, SkillScore]
    outlier_pct: float

    def best_baseline(self) -> str | None:
        """The baseline with the lowest MAE (the one V2 must beat); None if none was scored."""
        scored = {name: s.mae for name, s in self.baselines.items() if s.status == "ok"}
        return min(scored, key=scored.__getitem__) if scored else None

    def to_dict(self) -> dict[str, Any]:
        best = self.best_baseline()
        return {
            **self.model.to_dict(),
            "interval": self.interval.to_dict() if self.interval else None,
            "outlier_pct": json_value(self.outlier_pct),
            "baselines": {name: score.to_dict() for name, score in self.baselines.items()},
            "skill": {name: score.to_dict() for name, score in self.skill.items()},
            "best_baseline": best,
        }


def component_performance(
    forecasts: Forecasts, nominal: float, error_scale: ReferenceScale | None = None
) -> ComponentPerformance:
    """Score V2 and every baseline on one component; outliers only against a fixed reference scale."""
    f = forecasts
    interval = (
        interval_coverage(f.actual, f.low, f.high, nominal)
        if f.low is not None and f.high is not None
        else None
    )
    outliers = (
        fixed_scale_outlier_pct(np.asarray(f.actual, float) - np.asarray(f.median, float), error_scale)
        if error_scale is not None
        else math.nan
    )
    return ComponentPerformance(
        model=point_score(f.actual, f.median, f.mean),
        interval=interval,
        baselines={name: point_score(f.actual, b) for name, b in f.baselines.items()},
        skill={name: skill_score(f.actual, f.median, b) for name, b in f.baselines.items()},
        outlier_pct=outliers,
    )


@dataclass(frozen=True)
class RealizedPerformance:
    """Output tokens (per LLM step, the uncertain component) and cost (per plan), each on its own."""

    output_tokens: ComponentPerformance
    cost: ComponentPerformance

    def to_dict(self) -> dict[str, Any]:
        return {"output_tokens": self.output_tokens.to_dict(), "cost": self.cost.to_dict()}


def realized_performance(
    output_tokens: Forecasts,
    cost: Forecasts,
    nominal: float,
    token_error_scale: ReferenceScale | None = None,
) -> RealizedPerformance:
    """Both components; the outlier rate is on output-token errors against the reference scale."""
    return RealizedPerformance(
        output_tokens=component_performance(output_tokens, nominal, token_error_scale),
        cost=component_performance(cost, nominal),
    )
