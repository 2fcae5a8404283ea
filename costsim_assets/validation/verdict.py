"""Verdicts: a dataset/version verdict from its metrics, and the overall M6 verdict."""

from __future__ import annotations

from dataclasses import dataclass, field

from costsim_assets.validation.thresholds import Band, Thresholds

SEVERITY = {"pass": 0, "warn": 1, "fail": 2, "no_data": 3}


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reasons: list[str] = field(default_factory=list)
    checked: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {"verdict": self.verdict, "reasons": self.reasons, "checked": self.checked}


def _grade(name: str, value: float, band: Band) -> tuple[str, str]:
    if value > band.fail:
        return "fail", f"{name} {value:.4g} > fail threshold {band.fail:g}"
    if value > band.warn:
        return "warn", f"{name} {value:.4g} > warn threshold {band.warn:g}"
    return "pass", f"{name} {value:.4g} within warn threshold {band.warn:g}"


def _checked_values(metrics: dict, thresholds: Thresholds) -> dict[str, float | None]:
    cost, duration = metrics["cost"], metrics["duration"]
    coverage = metrics.get("interval_coverage")
    return {
        "cost_wape": cost.get("wape"),
        "duration_wape": duration.get("wape"),
        "cost_drift_score": cost.get("drift_score") if cost.get("wape") is not None else None,
        "cost_outlier_pct": cost.get("outlier_pct") if cost.get("wape") is not None else None,
        "interval_shortfall": (
            thresholds.nominal_interval_coverage - coverage
            if coverage is not None and cost.get("wape") is not None
            else None
        ),
        "schema_error_pct": metrics.get("schema_error_pct"),
    }


def dataset_verdict(metrics: dict, thresholds: Thresholds) -> Verdict:
    """pass / warn / fail with one reason per checked metric; too little data is never a pass."""
    if metrics["duration"]["status"] != "ok":
        return Verdict(
            "no_data", [f"only {metrics['evaluated']} evaluable records: below the minimum sample size"]
        )
    worst, reasons, checked = "pass", [], {}
    for name, value in _checked_values(metrics, thresholds).items():
        if value is None:
            reasons.append(f"{name} not applicable")
            continue
        grade, reason = _grade(name, value, thresholds.bands[name])
        checked[name] = value
        reasons.append(reason)
        worst = max(worst, grade, key=SEVERITY.__getitem__)
    return Verdict(worst, reasons, checked)


def v2_beats_v1(historical_metrics: dict[str, dict]) -> tuple[bool | None, str]:
    """Whether V2's mean absolute cost error on real traffic is lower than V1's, said plainly."""
    v1 = historical_metrics.get("v1", {}).get("cost", {}).get("mean_abs_error")
    v2 = historical_metrics.get("v2", {}).get("cost", {}).get("mean_abs_error")
    if v1 is None or v2 is None:
        return None, "historical: no V1/V2 comparison available (dataset missing or too small)"
    lower = v2 < v1
    return lower, (
        f"historical: V2 mean absolute cost error {v2:.4f} cents vs V1 {v1:.4f} cents "
        f"({'V2 lower' if lower else 'V2 NOT lower than V1'})"
    )


def overall_verdict(
    v2_verdicts: dict[str, Verdict], historical_metrics: dict[str, dict], expected_datasets: tuple[str, ...]
) -> Verdict:
    """M6 passes only when V2 passes on every dataset and beats V1 on real traffic."""
    reasons = [
        f"{name}: V2 {v2_verdicts[name].verdict}"
        if name in v2_verdicts
        else f"{name}: no verdict (not materialized)"
        for name in expected_datasets
    ]
    grades = [v2_verdicts[n].verdict if n in v2_verdicts else "no_data" for n in expected_datasets]
    lower, comparison = v2_beats_v1(historical_metrics)
    reasons.append(comparison)
    if lower is False:
        grades.append("fail")
    worst = max(grades, key=SEVERITY.__getitem__)
    return Verdict(worst, reasons)
