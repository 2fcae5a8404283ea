"""Validation metrics of one version on one dataset, as a JSON-ready dict.

Output tokens (per LLM step, the uncertain component) and cost (per plan) are reported separately,
each beside the naive baselines with V2's skill over them; cost also carries the error summary the
product brief asks for (mean/median/std error, drift). Duration is reported with where its truth
comes from ("modelled" by the execution model, or "none" on the historical trace) and is never
graded as if it were validated.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from costsim_assets.simulator.baselines import BASELINES
from costsim_assets.simulator.v2_model import V2Model
from costsim_assets.statistics.outliers import ReferenceScale
from costsim_assets.statistics.percentiles import json_safe
from costsim_assets.statistics.realized import Forecasts, component_performance
from costsim_assets.statistics.validation_metrics import validation_metrics
from costsim_assets.validation.realized import observation_forecasts, token_error_scale

STEP_KEYS = ["record_id", "step_index"]


def _column(frame: pd.DataFrame, name: str) -> np.ndarray:
    return frame[name].to_numpy(np.float64)


def token_forecasts(predictions: pd.DataFrame, truth: pd.DataFrame) -> Forecasts:
    """V2's and the baselines' output tokens against the truth of completed LLM steps.

    A failed call generated nothing; V2 forecasts the length of a completed generation, so failed
    steps are left out here (their cost is still in the plan's cost).
    """
    completed = truth.loc[truth["status"] == "ok", [*STEP_KEYS, "output_tokens"]]
    joined = predictions.merge(completed, on=STEP_KEYS, how="inner")
    return Forecasts(
        actual=_column(joined, "output_tokens"),
        median=_column(joined, "tokens_p50"),
        mean=_column(joined, "tokens_expected"),
        low=_column(joined, "tokens_low"),
        high=_column(joined, "tokens_high"),
        baselines={name: _column(joined, f"baseline_{name}_tokens") for name in BASELINES},
    )


def cost_forecasts(outputs: pd.DataFrame, v1_cost: np.ndarray | None = None) -> Forecasts:
    """A version's plan costs (V2: median, mean and interval; V1: one number) with the baselines."""
    baselines = {
        name: _column(outputs, f"baseline_{name}_cost_cents")
        for name in BASELINES
        if f"baseline_{name}_cost_cents" in outputs
    }
    if v1_cost is not None:
        baselines["v1"] = v1_cost
    interval = "cost_low_cents" in outputs
    return Forecasts(
        actual=_column(outputs, "actual_cost_cents"),
        median=_column(outputs, "median_cost_cents" if interval else "cost_cents"),
        mean=_column(outputs, "cost_cents"),
        low=_column(outputs, "cost_low_cents") if interval else None,
        high=_column(outputs, "cost_high_cents") if interval else None,
        baselines=baselines,
    )


def _components(
    tokens: Forecasts | None, cost: Forecasts, nominal: float, token_error_scale: ReferenceScale | None
) -> dict:
    """Output tokens (None where the version predicts none) and cost with its error summary."""
    return {
        "output_tokens": component_performance(tokens, nominal, token_error_scale).to_dict()
        if tokens
        else None,
        "cost": {
            **component_performance(cost, nominal).to_dict(),
            "errors": validation_metrics(cost.mean, cost.actual).to_dict(),
        },
    }


def dataset_metrics(
    outputs: pd.DataFrame,
    total_records: int,
    *,
    tokens: Forecasts | None = None,
    v1_cost: np.ndarray | None = None,
    nominal: float = 0.8,
    token_error_scale: ReferenceScale | None = None,
    duration_truth: str = "modelled",
) -> dict:
    """Every metric of one version on one dataset (`tokens` only for V2, which predicts them)."""
    cost = cost_forecasts(outputs, v1_cost)
    rejected = total_records - len(outputs)
    duration = validation_metrics(
        outputs["duration_ms"].to_numpy(np.float64), outputs["actual_duration_ms"].to_numpy(np.float64)
    )
    return json_safe(
        {
            "records": int(total_records),
            "evaluated": int(len(outputs)),
            "schema_errors": int(rejected),
            "schema_error_pct": 100.0 * rejected / total_records if total_records else None,
            **_components(tokens, cost, nominal, token_error_scale),
            "duration": {**duration.to_dict(), "truth": duration_truth, "graded": False},
        }
    )


def versions_metrics(
    outputs: dict[str, pd.DataFrame],
    step_predictions: pd.DataFrame,
    step_truth: pd.DataFrame,
    total_records: int,
    model: V2Model,
    duration_truth: str,
) -> dict[str, dict]:
    """V1's and V2's metrics on the same evaluated records; V1's cost is also a baseline of V2's."""
    v1, v2 = outputs["v1"], outputs["v2"]
    v1_cost = v2[["record_id"]].merge(v1[["record_id", "cost_cents"]], on="record_id", how="left")
    return {
        "v1": dataset_metrics(v1, total_records, duration_truth=duration_truth),
        "v2": dataset_metrics(
            v2,
            total_records,
            tokens=token_forecasts(step_predictions, step_truth),
            v1_cost=v1_cost["cost_cents"].to_numpy(np.float64),
            nominal=model.nominal_interval,
            token_error_scale=token_error_scale(model),
            duration_truth=duration_truth,
        ),
    }


def observation_metrics(model: V2Model, observations: pd.DataFrame) -> dict:
    """V2's metrics on observed calls (a trace), in the shape `dataset_metrics` gives for datasets.

    A trace measures no latency: duration has no truth here.
    """
    tokens, cost = observation_forecasts(model, observations)
    n = int(len(observations))
    return json_safe(
        {
            "records": n,
            "evaluated": n,
            "schema_errors": 0,
            "schema_error_pct": 0.0,
            **_components(tokens, cost, model.nominal_interval, token_error_scale(model)),
            "duration": {"status": "no_data", "n": 0, "truth": "none", "graded": False},
        }
    )
