"""The canary's judgement of V2 on a day of realized outcomes (pure numpy; docs/statistics.md).

P1 (`realized_drift_p1`) is V2's realized miscalibration or inaccuracy, never its divergence from
V1: the day's outcomes land above V2's median, above or below its interval, more or less often than
V2's calibration says they should (Poisson-binomial z per event), or V2's mean forecasts of output
tokens or cost are biased. A statistic breaches only when it is both improbable under calibration
(|z| beyond `z`) and large (beyond its margin): on big days everything is "significant".

What moved is measured apart from whether V2 is wrong, against the profile of the traffic V2 was
calibrated on: inputs (prompt lengths, skill and model mix), output lengths, prices (billed against
tokens x list price), latency. The incident names them, so an on-call engineer knows where to look.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from costsim_assets.statistics.calibration import (
    BiasTest,
    RateTest,
    bias_test,
    category_shares,
    rate_test,
    total_variation,
)
from costsim_assets.statistics.drift import Profile, drift_from_profile
from costsim_assets.statistics.percentiles import json_safe, percentile

P1 = "realized_drift_p1"
P2 = "median_shift_p2"
COMPONENTS = ("inputs", "output_lengths", "prices", "latency")


@dataclass(frozen=True)
class StepForecasts:
    """One row per LLM step with an outcome: V2's forecast, its calibration rates, what happened."""

    actual_tokens: np.ndarray
    input_tokens: np.ndarray
    model: np.ndarray
    p50: np.ndarray
    low: np.ndarray
    high: np.ndarray
    expected: np.ndarray
    rate_above_p50: np.ndarray
    rate_above_high: np.ndarray
    rate_below_low: np.ndarray
    coverage: np.ndarray
    billed_cost: np.ndarray


@dataclass(frozen=True)
class RequestOutcomes:
    """One row per request with an outcome (latencies NaN where nobody measured them)."""

    predicted_cost: np.ndarray
    billed_cost: np.ndarray
    list_cost: np.ndarray
    predicted_latency: np.ndarray
    actual_latency: np.ndarray
    skills: np.ndarray = field(default_factory=lambda: np.array([], dtype=str))


@dataclass(frozen=True)
class ReferenceProfile:
    """The traffic V2 was calibrated on, as bins and shares (stored with the model)."""

    input_tokens: Profile
    output_tokens: Profile
    skills: dict[str, float]
    models: dict[str, float]
    median_cost: float
    nominal_coverage: float = 0.8


@dataclass(frozen=True)
class Rule:
    """Breach when |z| > z and |effect| > margin (direction: 'both', 'low' or 'high')."""

    z: float
    margin: float
    direction: str = "both"

    def breached(self, z: float, effect: float) -> bool:
        if math.isnan(z) or math.isnan(effect):
            return False
        signed = {"both": (abs(z), abs(effect)), "low": (-z, -effect), "high": (z, effect)}[self.direction]
        return signed[0] > self.z and signed[1] > self.margin


@dataclass(frozen=True)
class JudgementConfig:
    """Minimum sample, P1 rules, P2 threshold and the 'moved' thresholds (config/canary.yaml)."""

    min_outcomes: int
    calibration: Rule
    coverage: Rule
    output_bias: Rule
    cost_bias: Rule
    p2_median_shift: float
    moved: dict[str, float]

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JudgementConfig:
        """From the `judgement` block of config/canary.yaml."""
        rules = {name: Rule(**data[name]) for name in ("calibration", "coverage", "output_bias", "cost_bias")}
        return cls(
            min_outcomes=int(data["min_outcomes"]),
            p2_median_shift=float(data["p2_median_shift"]),
            moved={k: float(v) for k, v in data["moved"].items()},
            **rules,
        )


def _calibration_tests(steps: StepForecasts, nominal: float) -> dict[str, RateTest]:
    """Events against each request's calibrated rate; coverage against what V2 promises (nominal)."""
    actual = steps.actual_tokens
    return {
        "above_median": rate_test(actual > steps.p50, steps.rate_above_p50),
        "above_interval": rate_test(actual > steps.high, steps.rate_above_high),
        "below_interval": rate_test(actual < steps.low, steps.rate_below_low),
        "interval_coverage": rate_test(
            (actual >= steps.low) & (actual <= steps.high), np.full(actual.shape, nominal)
        ),
    }


def _p1_breaches(
    tests: dict[str, RateTest], biases: dict[str, BiasTest], config: JudgementConfig
) -> list[str]:
    """Names of the P1 statistics that breached, each with its value (for the incident)."""
    rules = {
        "above_median": config.calibration,
        "above_interval": config.calibration,
        "below_interval": config.calibration,
        "interval_coverage": config.coverage,
    }
    breaches = [
        f"{name}: observed {t.observed:.3f} vs calibrated {t.expected:.3f} (z {t.z:.1f})"
        for name, t in tests.items()
        if t.status == "ok" and rules[name].breached(t.z, t.effect)
    ]
    bias_rules = {"output_token_bias": config.output_bias, "cost_bias": config.cost_bias}
    breaches += [
        f"{name}: {b.relative_bias:+.1%} (z {b.z:.1f})"
        for name, b in biases.items()
        if b.status == "ok" and bias_rules[name].breached(b.z, b.relative_bias)
    ]
    return breaches


def _latency_shift(requests: RequestOutcomes) -> float:
    """Median log(actual / predicted) latency over requests where latency was measured; NaN if none."""
    keep = (
        np.isfinite(requests.actual_latency)
        & (requests.actual_latency > 0)
        & (requests.predicted_latency > 0)
    )
    if keep.sum() < 30:
        return math.nan
    return percentile(np.log(requests.actual_latency[keep] / requests.predicted_latency[keep]), 50)


def movement(steps: StepForecasts, requests: RequestOutcomes, profile: ReferenceProfile) -> dict[str, Any]:
    """How far each component moved from the calibration profile (bounded or ratio scales)."""
    billed, listed = np.nansum(requests.billed_cost), np.nansum(requests.list_cost)
    return {
        "input_tokens_js": drift_from_profile(profile.input_tokens, steps.input_tokens).score,
        "skill_mix_tv": total_variation(profile.skills, category_shares(requests.skills)),
        "model_mix_tv": total_variation(profile.models, category_shares(steps.model)),
        "output_tokens_js": drift_from_profile(profile.output_tokens, steps.actual_tokens).score,
        "price_ratio": billed / listed - 1.0 if listed > 0 else math.nan,
        "latency_log_ratio": _latency_shift(requests),
    }


def moved_components(moves: dict[str, Any], thresholds: dict[str, float]) -> list[str]:
    """The components whose movement statistic is beyond its threshold."""
    by_component = {
        "inputs": ("input_tokens_js", "skill_mix_tv", "model_mix_tv"),
        "output_lengths": ("output_tokens_js",),
        "prices": ("price_ratio",),
        "latency": ("latency_log_ratio",),
    }
    moved = []
    for component, names in by_component.items():
        values = [
            (abs(moves[n]), thresholds[n]) for n in names if moves[n] is not None and not math.isnan(moves[n])
        ]
        if any(value > limit for value, limit in values):
            moved.append(component)
    return moved


def _check(
    value: float | None,
    threshold: float,
    outcome: str,
    detail: str,
    moved: list[str],
    evidence: dict[str, Any],
) -> dict[str, Any]:
    return json_safe(
        {
            "value": value,
            "threshold": threshold,
            "outcome": outcome,
            "detail": detail,
            "moved": moved,
            "evidence": evidence,
        }
    )


def judge(
    steps: StepForecasts, requests: RequestOutcomes, profile: ReferenceProfile, config: JudgementConfig
) -> dict[str, Any]:
    """Every realized statistic of the day and the P1/P2 check outcomes (CONTRACT: value, threshold,
    outcome, detail, moved, evidence). Fewer than `min_outcomes` LLM steps with outcomes: no_data."""
    tests = _calibration_tests(steps, profile.nominal_coverage)
    biases = {
        "output_token_bias": bias_test(steps.expected, steps.actual_tokens),
        "cost_bias": bias_test(requests.predicted_cost, requests.billed_cost),
    }
    moves = movement(steps, requests, profile)
    moved = moved_components(moves, config.moved)
    statistics = {
        "outcome_steps": int(steps.actual_tokens.size),
        "outcome_requests": int(requests.billed_cost.size),
        "calibration": {k: t.to_dict() for k, t in tests.items()},
        "bias": {k: b.to_dict() for k, b in biases.items()},
        "movement": moves,
        "moved": moved,
    }
    evidence = {"calibration": statistics["calibration"], "bias": statistics["bias"], "movement": moves}
    if steps.actual_tokens.size < config.min_outcomes:
        p1 = _check(
            None,
            config.calibration.z,
            "no_data",
            f"{steps.actual_tokens.size} LLM steps with outcomes; at least {config.min_outcomes} needed",
            moved,
            evidence,
        )
    else:
        breaches = _p1_breaches(tests, biases, config)
        strongest = max(
            [abs(t.z) for t in tests.values() if t.status == "ok"]
            + [abs(b.z) for b in biases.values() if b.status == "ok" and math.isfinite(b.z)],
            default=0.0,
        )
        p1 = _check(
            strongest,
            config.calibration.z,
            "breach" if breaches else "pass",
            "; ".join(breaches) or "V2 calibrated on realized outcomes",
            moved,
            evidence,
        )
    median_cost = percentile(steps.billed_cost, 50)
    shift = (
        abs(median_cost - profile.median_cost) / profile.median_cost
        if profile.median_cost > 0 and steps.billed_cost.size >= config.min_outcomes
        else math.nan
    )
    p2_outcome = "no_data" if math.isnan(shift) else ("breach" if shift > config.p2_median_shift else "pass")
    p2 = _check(
        shift,
        config.p2_median_shift,
        p2_outcome,
        f"realized median LLM call cost {median_cost:.4g} vs reference {profile.median_cost:.4g} cents",
        moved,
        {"median_cost": median_cost, "reference_median_cost": profile.median_cost},
    )
    return {"statistics": json_safe(statistics), "checks": {P1: p1, P2: p2}}
