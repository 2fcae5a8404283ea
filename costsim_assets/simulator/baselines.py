"""Naive forecasters V2 must beat, on the same plans, prices and max_tokens caps as V2.

- `model_median`: a constant median of output tokens per segment, the segment being the requested
  model (fitted on the artifact's fit window; models it has not seen get the global median);
- `global_median`: one constant median for every LLM call (same window);
- `input_only`: no output tokens at all, i.e. cost = price table x input tokens (+ fixed costs).
V1 is the fourth baseline for cost; it is a simulator of its own, so callers add it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from costsim_assets.simulator.batch import PlanBatch
from costsim_assets.simulator.output import StepPredictions
from costsim_assets.simulator.segments import segment_sum
from costsim_assets.simulator.skills import SKILL_CODES
from costsim_assets.simulator.v2 import priced_models, step_prices
from costsim_assets.simulator.v2_model import V2Model

BASELINES = ("model_median", "global_median", "input_only")


@dataclass(frozen=True)
class NaiveForecast:
    """Output tokens per step (NaN on non-LLM steps) and the resulting cost per plan."""

    step_tokens: np.ndarray
    plan_cost: np.ndarray


def _token_forecasts(batch: PlanBatch, model: V2Model) -> dict[str, np.ndarray]:
    global_median, per_model = model.baseline_medians()
    names, ids = priced_models(batch, model)
    per_step = np.array([per_model.get(name, global_median) for name in names])[ids]
    cap = batch.feature("max_tokens")
    return {
        "model_median": np.fmin(per_step, cap),
        "global_median": np.fmin(np.full(len(ids), global_median), cap),
        "input_only": np.zeros(len(ids)),
    }


def naive_forecasts(batch: PlanBatch, model: V2Model, steps: StepPredictions) -> dict[str, NaiveForecast]:
    """Each baseline's forecasts; input tokens are V2's own estimate, so only output tokens differ."""
    is_llm = batch.step_skill_code == SKILL_CODES["llm_invoke"]
    price_in, price_out = step_prices(batch, model)
    fixed = model.skill_cost_cents[batch.step_skill_code]
    forecasts = {}
    for name, tokens in _token_forecasts(batch, model).items():
        step_cost = np.where(is_llm, steps.input_tokens * price_in + tokens * price_out, fixed)
        forecasts[name] = NaiveForecast(
            step_tokens=np.where(is_llm, tokens, np.nan),
            plan_cost=segment_sum(step_cost, batch.step_offsets),
        )
    return forecasts
