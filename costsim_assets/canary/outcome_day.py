"""A day's realized outcomes lined up with what a V2 model forecast for the same requests.

Pure: plans (as stored) and outcome steps in, the judgement's arrays out. The model is rerun on
the plans, so a day recorded while V2 was disabled (or with another version serving) is judged
just the same, and a challenger can be judged on the very same requests as the champion.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from costsim_assets.canary.judgement import ReferenceProfile, RequestOutcomes, StepForecasts
from costsim_assets.simulator.batch import PlanBatch
from costsim_assets.simulator.plan_schema import Plan, validate_plan
from costsim_assets.simulator.skills import SKILL_CODES
from costsim_assets.simulator.v2 import evaluate_v2
from costsim_assets.simulator.v2_model import V2Model
from costsim_assets.statistics.drift import Profile
from costsim_assets.validation.realized import score_plans

LLM = "llm_invoke"
JUDGED_STATUS = "ok"  # output tokens are judged on calls that completed; every step counts for cost


def reference_profile(model: V2Model) -> ReferenceProfile:
    """The profile of the traffic the model was fitted on (stored in its artifact)."""
    data = model.artifact["reference_profile"]
    return ReferenceProfile(
        input_tokens=Profile.from_dict(data["input_tokens"]),
        output_tokens=Profile.from_dict(data["output_tokens"]),
        skills=data["skills"],
        models=data["models"],
        median_cost=data["median_call_cost_cents"],
        nominal_coverage=model.nominal_interval,
    )


def _plans(sample: pd.DataFrame) -> tuple[list[Plan], np.ndarray]:
    """Schema-valid plans of the sample and the sample rows they came from."""
    plans, rows = [], []
    for row, text in enumerate(sample["plan_json"]):
        plan = validate_plan(text)
        if isinstance(plan, Plan):
            plans.append(plan)
            rows.append(row)
    return plans, np.array(rows, dtype=np.int64)


def _aligned(batch: PlanBatch, ids: np.ndarray, steps: pd.DataFrame) -> tuple[pd.DataFrame, np.ndarray]:
    """Outcome steps that match a forecast step (same request, same index) and that step's index."""
    counts = batch.n_steps
    forecast = pd.DataFrame(
        {
            "provenance_id": np.repeat(ids, counts),
            "step_index": np.arange(counts.sum()) - np.repeat(batch.step_offsets[:-1], counts),
            "forecast_step": np.arange(counts.sum()),
        }
    )
    joined = steps.merge(forecast, on=["provenance_id", "step_index"], how="inner", validate="one_to_one")
    return joined, joined["forecast_step"].to_numpy(np.int64)


def _list_cost(joined: pd.DataFrame, model: V2Model, fixed: np.ndarray) -> np.ndarray:
    """What each step costs at list price: tokens x the reported model's price for LLM calls, the
    published price of the skill otherwise."""
    names = joined["model"].fillna(model.prices.default_model).astype(str)
    table = {name: model.prices.cents_per_token(name) for name in names.unique()}
    price_in = names.map(lambda name: table[name][0]).to_numpy(np.float64)
    price_out = names.map(lambda name: table[name][1]).to_numpy(np.float64)
    tokens = joined["input_tokens"].to_numpy() * price_in + joined["output_tokens"].to_numpy() * price_out
    return np.where(joined["skill"].to_numpy() == LLM, np.nan_to_num(tokens), fixed)


def _per_request(joined: pd.DataFrame, values: np.ndarray, requests: pd.Index) -> np.ndarray:
    """Sum per request; NaN when any of its steps has no value."""
    frame = pd.DataFrame({"id": joined["provenance_id"].to_numpy(), "v": values})
    sums = frame.groupby("id", sort=False)["v"].agg(lambda v: v.sum() if v.notna().all() else np.nan)
    return sums.reindex(requests).to_numpy(np.float64)


@dataclass(frozen=True)
class OutcomeDay:
    """The judgement's arrays, and V2's realized errors beside the naive baselines (same rows)."""

    steps: StepForecasts
    requests: RequestOutcomes
    performance: dict


def outcome_day(sample: pd.DataFrame, steps: pd.DataFrame, model: V2Model) -> OutcomeDay:
    """The sampled requests that have outcomes, forecast by `model`, lined up with what happened."""
    with_outcome = sample[sample["id"].isin(steps["provenance_id"])]
    plans, rows = _plans(with_outcome)
    batch = PlanBatch.from_plans(plans)
    output = evaluate_v2(batch, model)
    ids = with_outcome["id"].to_numpy()[rows]
    joined, at = _aligned(batch, ids, steps)
    predicted = output.steps
    is_llm = (joined["skill"].to_numpy() == LLM) & (batch.step_skill_code[at] == SKILL_CODES[LLM])
    judged = is_llm & (joined["status"].to_numpy() == JUDGED_STATUS) & np.isfinite(joined["output_tokens"])
    pick = at[judged]
    forecasts = StepForecasts(
        actual_tokens=joined["output_tokens"].to_numpy()[judged],
        input_tokens=joined["input_tokens"].to_numpy()[judged],
        model=joined["model"].fillna(model.prices.default_model).astype(str).to_numpy()[judged],
        p50=predicted.output_tokens["p50"][pick],
        low=predicted.output_tokens["low"][pick],
        high=predicted.output_tokens["high"][pick],
        expected=predicted.output_tokens["expected"][pick],
        rate_above_p50=predicted.calibration["share_above_p50"][pick],
        rate_above_high=predicted.calibration["share_above_high"][pick],
        rate_below_low=predicted.calibration["share_below_low"][pick],
        coverage=predicted.calibration["coverage"][pick],
        billed_cost=joined["cost_cents"].to_numpy()[judged],
    )
    requests = pd.Index(ids)
    fixed = model.skill_cost_cents[batch.step_skill_code[at]]
    billed = _per_request(joined, joined["cost_cents"].to_numpy(), requests)
    step_tokens = np.full(len(batch.step_skill_id), np.nan)
    step_tokens[pick] = forecasts.actual_tokens
    return OutcomeDay(
        steps=forecasts,
        requests=RequestOutcomes(
            predicted_cost=output.cost_cents,
            billed_cost=billed,
            list_cost=_per_request(joined, _list_cost(joined, model, fixed), requests),
            predicted_latency=output.duration_ms,
            actual_latency=_per_request(joined, joined["latency_ms"].to_numpy(), requests),
            skills=joined["skill"].astype(str).to_numpy(),
        ),
        performance=score_plans(batch, model, step_tokens, billed).to_dict(),
    )
