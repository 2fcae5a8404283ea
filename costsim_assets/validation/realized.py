"""V2 and its naive baselines scored on what really happened: golden-dataset plans or observed calls.

One scoring path for validation, `costsim evaluate-trace`, the time-ordered folds and (later) the
canary: build V2's and every baseline's forecasts for the same plans, then hand arrays to
`statistics.realized`. Output tokens are scored per LLM step, cost per plan.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from costsim_assets.simulator.baselines import naive_forecasts
from costsim_assets.simulator.batch import PlanBatch
from costsim_assets.simulator.output import SimulationOutput
from costsim_assets.simulator.v1 import evaluate_v1
from costsim_assets.simulator.v2 import evaluate_v2
from costsim_assets.simulator.v2_model import V2Model
from costsim_assets.statistics.outliers import ReferenceScale
from costsim_assets.statistics.realized import Forecasts, RealizedPerformance, realized_performance


def token_error_scale(model: V2Model) -> ReferenceScale | None:
    """The artifact's fixed reference scale for output-token errors (None when it has none)."""
    scale = model.token_error_scale
    return ReferenceScale.from_dict(scale) if scale else None


def plan_forecasts(
    batch: PlanBatch,
    model: V2Model,
    actual_step_tokens: np.ndarray,
    actual_plan_cost: np.ndarray,
    v2: SimulationOutput | None = None,
) -> tuple[Forecasts, Forecasts]:
    """(output tokens per LLM step, cost per plan) forecasts of V2 and of every baseline."""
    v2 = v2 or evaluate_v2(batch, model)
    steps = v2.steps
    llm = steps.segment >= 0
    naive = naive_forecasts(batch, model, steps)
    tokens = Forecasts(
        actual=np.asarray(actual_step_tokens, dtype=np.float64)[llm],
        median=steps.output_tokens["p50"][llm],
        mean=steps.output_tokens["expected"][llm],
        low=steps.output_tokens["low"][llm],
        high=steps.output_tokens["high"][llm],
        baselines={name: forecast.step_tokens[llm] for name, forecast in naive.items()},
    )
    cost = Forecasts(
        actual=np.asarray(actual_plan_cost, dtype=np.float64),
        median=v2.intervals["median_cost_cents"],
        mean=v2.cost_cents,
        low=v2.intervals["cost_low_cents"],
        high=v2.intervals["cost_high_cents"],
        baselines={**{name: f.plan_cost for name, f in naive.items()}, "v1": evaluate_v1(batch).cost_cents},
    )
    return tokens, cost


def score_plans(
    batch: PlanBatch, model: V2Model, actual_step_tokens: np.ndarray, actual_plan_cost: np.ndarray
) -> RealizedPerformance:
    """V2 beside every baseline on these plans and their realized tokens and costs."""
    tokens, cost = plan_forecasts(batch, model, actual_step_tokens, actual_plan_cost)
    return realized_performance(tokens, cost, model.nominal_interval, token_error_scale(model))


def observation_batch(observations: pd.DataFrame) -> PlanBatch:
    """One single-step llm_invoke plan per observed call (tenant, model, real input tokens)."""
    return PlanBatch.from_llm_calls(
        observations["tenant_id"].tolist(),
        observations["model"].astype(str).tolist(),
        observations["input_tokens"].to_numpy(np.float64),
    )


def list_price_cost(observations: pd.DataFrame, model: V2Model) -> np.ndarray:
    """Real tokens x list price: the cost truth of a trace, which bills nothing else."""
    prices = np.array([model.prices.cents_per_token(m) for m in observations["model"].astype(str)])
    prices = prices.reshape(len(observations), 2)
    tokens = observations[["input_tokens", "output_tokens"]].to_numpy(np.float64)
    return tokens[:, 0] * prices[:, 0] + tokens[:, 1] * prices[:, 1]


def observation_forecasts(model: V2Model, observations: pd.DataFrame) -> tuple[Forecasts, Forecasts]:
    """Forecasts for observed calls; cost truth is `cost_cents` when given (billed), else list price."""
    actual_cost = (
        observations["cost_cents"].to_numpy(np.float64)
        if "cost_cents" in observations
        else list_price_cost(observations, model)
    )
    return plan_forecasts(
        observation_batch(observations),
        model,
        observations["output_tokens"].to_numpy(np.float64),
        actual_cost,
    )


def score_observations(model: V2Model, observations: pd.DataFrame) -> RealizedPerformance:
    """V2 beside every baseline on observed calls."""
    tokens, cost = observation_forecasts(model, observations)
    return realized_performance(tokens, cost, model.nominal_interval, token_error_scale(model))
