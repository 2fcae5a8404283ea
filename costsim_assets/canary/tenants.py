"""The canary's per-tenant view: the same judgement on each tenant's own outcomes, graded by the
tenant's drift thresholds (the Helm chart's tenants.yaml), so each tenant's auditor reads a verdict
about its own traffic in its own status history."""

from __future__ import annotations

import math

import pandas as pd

from costsim_assets.canary.config import CanaryConfig
from costsim_assets.canary.judgement import P1, judge
from costsim_assets.canary.outcome_day import outcome_day, reference_profile
from costsim_assets.simulator.v2_model import V2Model


def _grade(p1: dict, drift: float | None, config: CanaryConfig, tenant: str) -> tuple[str, str]:
    """fail on a P1 breach or drift beyond `fail`; warn beyond `warn`; no_data is never a pass."""
    if p1["outcome"] == "no_data":
        return "no_data", p1["detail"]
    thresholds = config.drift_thresholds(tenant)
    if p1["outcome"] == "breach":
        return "fail", p1["detail"]
    if drift is None or math.isnan(drift) or thresholds is None:
        return "pass", "V2 calibrated on this tenant's outcomes"
    if drift > thresholds.fail:
        return "fail", f"output-length drift {drift:.3f} > fail {thresholds.fail:g}"
    if drift > thresholds.warn:
        return "warn", f"output-length drift {drift:.3f} > warn {thresholds.warn:g}"
    return "pass", f"calibrated; output-length drift {drift:.3f} <= warn {thresholds.warn:g}"


def tenant_views(sample: pd.DataFrame, steps: pd.DataFrame, model: V2Model, config: CanaryConfig) -> dict:
    """Per tenant of the sample: status, reason, P1 outcome, drift and the number of outcomes."""
    profile, views = reference_profile(model), {}
    for tenant, requests in sample.groupby("tenant_id", sort=True):
        own = steps[steps["provenance_id"].isin(requests["id"])]
        day = outcome_day(requests, own, model)
        judged = judge(day.steps, day.requests, profile, config.judgement)
        drift = judged["statistics"]["movement"]["output_tokens_js"]
        status, reason = _grade(judged["checks"][P1], drift, config, str(tenant))
        views[str(tenant)] = {
            "status": status,
            "reason": reason,
            "outcome_steps": int(day.steps.actual_tokens.size),
            "output_tokens_drift": drift,
            "moved": judged["statistics"]["moved"],
        }
    return views
