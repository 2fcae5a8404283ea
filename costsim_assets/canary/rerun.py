"""Rerunning the day's sample and the golden reference with the current V1 and V2."""

from __future__ import annotations

import numpy as np
import pandas as pd

from costsim_assets.canary.analysis import CanaryDay
from costsim_assets.sandbox.evaluation import Evaluated, V2Evaluator, evaluate_v1_plans
from costsim_assets.simulator.plan_schema import Plan, validate_plan
from costsim_assets.validation.evaluate import simulate


def _rerun(plans: list[Plan | None], evaluate) -> list[Evaluated | None]:
    valid = [p for p in plans if isinstance(p, Plan)]
    results = iter(evaluate(valid) if valid else [])
    return [next(results) if isinstance(p, Plan) else None for p in plans]


def rerun_sample(sample: pd.DataFrame, v2: V2Evaluator) -> tuple[list, list]:
    """V1 and V2 results per sampled row (None for schema-invalid plans)."""
    plans = [validate_plan(text) for text in sample["plan_json"]]
    plans = [p if isinstance(p, Plan) else None for p in plans]
    return _rerun(plans, evaluate_v1_plans), _rerun(plans, v2)


def _column(results: list, attribute: str, missing) -> np.ndarray:
    return np.array([getattr(r, attribute) if r is not None else missing for r in results])


def canary_day(sample: pd.DataFrame, v1: list, v2: list, reference: pd.DataFrame, v2_model) -> CanaryDay:
    """Arrays for the analysis: stored vs rerun hashes, rerun costs, runtimes, reference costs."""
    ref_v1 = simulate(reference, "v1")["cost_cents"].to_numpy(np.float64)
    ref_v2 = simulate(reference, "v2", v2_model)["cost_cents"].to_numpy(np.float64)
    return CanaryDay(
        v2_status=sample["v2_status"].to_numpy(str),
        v1_stored_hash=sample["v1_output_hash"].fillna("").to_numpy(str),
        v2_stored_hash=sample["v2_output_hash"].fillna("").to_numpy(str),
        v1_rerun_hash=_column(v1, "output_hash", ""),
        v2_rerun_hash=_column(v2, "output_hash", ""),
        v1_cost=_column(v1, "cost_cents", np.nan).astype(np.float64),
        v2_cost=_column(v2, "cost_cents", np.nan).astype(np.float64),
        v1_runtime_ms=sample["v1_runtime_ms"].to_numpy(np.float64),
        v2_runtime_ms=sample["v2_runtime_ms"].to_numpy(np.float64),
        reference_v1_cost=ref_v1,
        reference_v2_cost=ref_v2,
    )
