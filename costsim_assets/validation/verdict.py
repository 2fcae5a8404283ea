"""Verdicts: a dataset/version verdict from its metrics, and the overall M6 verdict.

A dataset verdict grades output tokens (interval calibration, skill over the best naive baseline,
outliers against a fixed reference scale) separately from cost (WAPE, interval, drift), plus schema
errors. Duration is described, never graded: its truth is modelled or absent. The M6 verdict also
asks whether V2 beats the best naive baseline on held-out real traffic; if that is not shown, M6
does not pass and the reason says so.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from costsim_assets.statistics.percentiles import MIN_SAMPLE_SIZE
from costsim_assets.validation.thresholds import Band, Thresholds

SEVERITY = {"pass": 0, "warn": 1, "fail": 2, "no_data": 3}
NO_DATA = "no_data"


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reasons: list[str] = field(default_factory=list)
    checked: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "reasons": self.reasons, "checked": self.checked}


def _grade(name: str, value: float, band: Band) -> tuple[str, str]:
    if band.higher_is_better:
        if value <= band.fail:
            return "fail", f"{name} {value:.4g} <= fail threshold {band.fail:g}"
        if value <= band.warn:
            return "warn", f"{name} {value:.4g} <= warn threshold {band.warn:g}"
        return "pass", f"{name} {value:.4g} above warn threshold {band.warn:g}"
    if value > band.fail:
        return "fail", f"{name} {value:.4g} > fail threshold {band.fail:g}"
    if value > band.warn:
        return "warn", f"{name} {value:.4g} > warn threshold {band.warn:g}"
    return "pass", f"{name} {value:.4g} within warn threshold {band.warn:g}"


def _component_state(component: dict | None) -> str:
    """'ok', 'not_applicable' (nothing to score) or 'no_data' (something, but too little)."""
    if not component or component.get("n", 0) == 0:
        return "not_applicable"
    return "ok" if component.get("status") == "ok" else NO_DATA


def _token_values(tokens: dict, nominal: float) -> dict[str, float | None]:
    rate = (tokens.get("interval") or {}).get("rate")
    best = tokens.get("best_baseline")
    skill = tokens["skill"][best]["lower_bound"] if best else None
    return {
        "output_token_coverage_gap": abs(rate - nominal) if rate is not None else None,
        "output_token_skill": skill,
        "output_token_outlier_pct": tokens.get("outlier_pct"),
    }


def _cost_values(cost: dict, nominal: float) -> dict[str, float | None]:
    priced = cost.get("wape") is not None  # all-free datasets have no cost WAPE, interval or drift
    interval = cost.get("interval") or {}
    return {
        "cost_wape": cost.get("wape"),
        "cost_interval_shortfall": (
            nominal - interval["rate"] if priced and interval.get("rate") is not None else None
        ),
        "cost_drift_score": cost["errors"].get("drift_score") if priced else None,
    }


def _checked(metrics: dict, thresholds: Thresholds) -> tuple[dict[str, float | None], str | None]:
    """(value per check, a note when output tokens exist but are too few to score)."""
    nominal = thresholds.nominal_interval_coverage
    values: dict[str, float | None] = {"schema_error_pct": metrics.get("schema_error_pct")}
    tokens = metrics.get("output_tokens")
    state = _component_state(tokens)
    if state == "ok":
        values |= _token_values(tokens, nominal)
    if _component_state(metrics["cost"]) == "ok":
        values |= _cost_values(metrics["cost"], nominal)
    too_few = f"output tokens: no data (only {tokens['n']} completed LLM steps)" if state == NO_DATA else None
    return values, too_few


def _skill_context(metrics: dict) -> str:
    tokens = metrics.get("output_tokens") or {}
    best = tokens.get("best_baseline")
    if not best:
        return ""
    baseline = tokens["baselines"][best]["mae"]
    return f" (V2 MAE {tokens['mae']:.2f} vs {best} {baseline:.2f} tokens)"


def duration_note(metrics: dict) -> str:
    """How duration stands: reported beside its truth's origin, never graded."""
    duration = metrics["duration"]
    if duration.get("truth") == "none" or duration.get("status") != "ok":
        return "duration: no truth (no latency was measured): latency modelled, not validated; not graded"
    return (
        f"duration: WAPE {duration['wape']:.3g} against execution-model truth: latency modelled, "
        "not validated; not graded"
    )


def dataset_verdict(metrics: dict, thresholds: Thresholds) -> Verdict:
    """pass / warn / fail with one reason per checked metric; too little data is never a pass."""
    if metrics["evaluated"] < MIN_SAMPLE_SIZE:
        return Verdict(
            NO_DATA, [f"only {metrics['evaluated']} evaluable records: below the minimum sample size"]
        )
    values, too_few = _checked(metrics, thresholds)
    worst, reasons, checked = (NO_DATA if too_few else "pass"), [], {}
    for name, band in thresholds.bands.items():
        value = values.get(name)
        if value is None:
            reasons.append(f"{name} not applicable")
            continue
        grade, reason = _grade(name, value, band)
        checked[name] = value
        reasons.append(reason + (_skill_context(metrics) if name == "output_token_skill" else ""))
        worst = max(worst, grade, key=SEVERITY.__getitem__)
    return Verdict(worst, [*reasons, *([too_few] if too_few else []), duration_note(metrics)], checked)


REAL_TRAFFIC = "held-out real traffic (historical)"


def beats_best_naive_baseline(historical_v2: dict | None, label: str = REAL_TRAFFIC) -> tuple[str, str]:
    """Whether V2's output-token MAE beats the best naive baseline on held-out real traffic.

    Demonstrated (lower confidence bound of the skill > 0): pass. Better but not demonstrably: warn.
    No better: fail. Either way the reason gives both MAEs and the skill with its bound.
    """
    tokens = (historical_v2 or {}).get("output_tokens")
    best = (tokens or {}).get("best_baseline")
    skill = tokens["skill"][best] if best else {}
    if _component_state(tokens) != "ok" or skill.get("skill") is None:
        return NO_DATA, f"{label}: no output-token data to compare V2 with"
    text = (
        f"{label}: output-token MAE V2 {tokens['mae']:.2f} vs {best} "
        f"{tokens['baselines'][best]['mae']:.2f} tokens, skill {skill['skill']:.3f} "
        f"(95 % lower bound {skill['lower_bound']:.3f})"
    )
    if skill["demonstrated"]:
        return "pass", f"{text}: V2 beats the best naive baseline"
    if skill["skill"] > 0:
        return "warn", f"{text}: V2 does NOT demonstrably beat the best naive baseline"
    return "fail", f"{text}: V2 does NOT beat the best naive baseline"


def overall_verdict(
    v2_verdicts: dict[str, Verdict], historical_v2: dict | None, expected_datasets: tuple[str, ...]
) -> Verdict:
    """M6 passes only when V2 passes on every dataset and beats the best naive baseline on real traffic."""
    reasons = [
        f"{name}: V2 {v2_verdicts[name].verdict}"
        if name in v2_verdicts
        else f"{name}: no verdict (not materialized)"
        for name in expected_datasets
    ]
    grades = [v2_verdicts[n].verdict if n in v2_verdicts else NO_DATA for n in expected_datasets]
    grade, comparison = beats_best_naive_baseline(historical_v2)
    reasons.append(comparison)
    grades.append(grade)
    return Verdict(max(grades, key=SEVERITY.__getitem__), reasons)
