"""CostSim V2: parameter-aware, priced by tokens, with per-request calibrated intervals; vectorized.

Each LLM step gets its segment's output-token distribution (mean, median, conformal 80 % interval)
and that segment's calibration record. Plan level: the expected cost adds step means, the median
cost prices step medians, the cost interval adds step bounds (exact for one LLM step, conservative
for several), and confidence is the lowest segment coverage among the plan's LLM steps (NaN, shown
as null, for a plan without one: its cost is deterministic).
"""

from __future__ import annotations

import numpy as np

from costsim_assets.simulator.batch import PlanBatch
from costsim_assets.simulator.feasibility import feasibility_status
from costsim_assets.simulator.output import CALIBRATION_FIELDS, SimulationOutput, StepPredictions
from costsim_assets.simulator.segments import cumulative_risk, segment_any, segment_min, segment_sum
from costsim_assets.simulator.skills import SKILL_CODES
from costsim_assets.simulator.v2_fit import capped_mean
from costsim_assets.simulator.v2_model import V2Model, latency_design
from costsim_assets.simulator.v2_segments import lookup_segments, prompt_bin

TIMEOUT_CAPPED = (SKILL_CODES["http_call"], SKILL_CODES["webhook_send"], SKILL_CODES["shell_lite"])
BOUNDS = ("p50", "low", "high")


def input_tokens(batch: PlanBatch, model: V2Model) -> np.ndarray:
    """Prompt tokens as given, else prompt characters / chars-per-token, else the fitted default."""
    tokens = batch.feature("prompt_tokens")
    from_chars = batch.feature("prompt_chars") / model.chars_per_token
    tokens = np.where(np.isnan(tokens), from_chars, tokens)
    return np.where(np.isnan(tokens), model.default_prompt_tokens, tokens)


def priced_models(batch: PlanBatch, model: V2Model) -> tuple[tuple[str, ...], np.ndarray]:
    """(model names, id per step): steps without a `model` param use the price table's default."""
    names = (*batch.model_names, model.prices.default_model)
    return names, np.where(batch.step_model_id < 0, len(batch.model_names), batch.step_model_id)


def step_prices(batch: PlanBatch, model: V2Model) -> tuple[np.ndarray, np.ndarray]:
    """Per-step (input, output) cents per token of each step's model."""
    names, ids = priced_models(batch, model)
    table = np.array([model.prices.cents_per_token(name) for name in names])
    return table[ids, 0], table[ids, 1]


def _segments(batch: PlanBatch, model: V2Model, llm: np.ndarray, tokens_in: np.ndarray) -> np.ndarray:
    names, ids = priced_models(batch, model)
    segment = np.full(len(tokens_in), -1, dtype=np.int64)
    segment[llm] = lookup_segments(
        model.segments.index,
        batch.tenant_names,
        batch.step_tenant_id[llm],
        names,
        ids[llm],
        prompt_bin(tokens_in[llm]),
    )
    return segment


def _output_tokens(model: V2Model, segment: np.ndarray, cap: np.ndarray, llm: np.ndarray) -> dict:
    """Expected, median, low and high output tokens of the LLM steps, honouring max_tokens."""
    stats, seg, cap = model.segments.stats, segment[llm], cap[llm]
    tokens = {key: np.full(len(segment), np.nan) for key in ("expected", *BOUNDS)}
    for key in BOUNDS:
        tokens[key][llm] = np.fmin(stats[key][seg], cap)
    expected = stats["mean"][seg]
    capped = ~np.isnan(cap)
    expected[capped] = np.minimum(
        expected[capped], capped_mean(model.segments.quantiles[seg[capped]], cap[capped])
    )
    tokens["expected"][llm] = expected
    return tokens


def llm_predictions(batch: PlanBatch, model: V2Model) -> StepPredictions:
    """Segment, output-token distribution, calibration record and costs of every LLM step."""
    llm = np.flatnonzero(batch.step_skill_code == SKILL_CODES["llm_invoke"])
    tokens_in = input_tokens(batch, model)
    segment = _segments(batch, model, llm, tokens_in)
    tokens = _output_tokens(model, segment, batch.feature("max_tokens"), llm)
    calibration = {key: np.full(len(segment), np.nan) for key in CALIBRATION_FIELDS}
    for key in CALIBRATION_FIELDS:
        calibration[key][llm] = model.segments.stats[key][segment[llm]]
    price_in, price_out = step_prices(batch, model)
    base = tokens_in * price_in
    return StepPredictions(
        segment=segment,
        segment_names=model.segments.names,
        input_tokens=tokens_in,
        output_tokens=tokens,
        calibration=calibration,
        cost={
            "expected_cost_cents": base + tokens["expected"] * price_out,
            "median_cost_cents": base + tokens["p50"] * price_out,
            "cost_low_cents": base + tokens["low"] * price_out,
            "cost_high_cents": base + tokens["high"] * price_out,
        },
    )


def _other_latency(batch: PlanBatch, model: V2Model, codes: np.ndarray) -> np.ndarray:
    """Linear latency prior per skill on step parameters, capped by the step's timeout."""
    design = latency_design(batch)
    latency = np.maximum(np.einsum("ij,ij->i", design, model.latency_coef[codes]), 0.1)
    timeout_ms = batch.feature("timeout_s") * 1000.0
    capped = np.isin(codes, TIMEOUT_CAPPED) & ~np.isnan(timeout_ms)
    return np.where(capped, np.minimum(latency, timeout_ms), latency)


def _latency(batch: PlanBatch, model: V2Model, steps: StepPredictions, is_llm: np.ndarray):
    """(latency, low factor, high factor) per step."""
    codes = batch.step_skill_code
    intercept, per_in, per_out = model.llm_latency_coef
    llm_ms = intercept + per_in * steps.input_tokens + per_out * steps.output_tokens["expected"]
    latency = np.where(is_llm, llm_ms, _other_latency(batch, model, codes))
    low, high = (
        np.where(is_llm, model.llm_latency_factors[side], model.latency_factors[codes, side])
        for side in (0, 1)
    )
    return latency, low, high


def evaluate_v2(batch: PlanBatch, model: V2Model) -> SimulationOutput:
    """Evaluate every plan of the batch with the fitted V2 model."""
    codes = batch.step_skill_code
    is_llm = codes == SKILL_CODES["llm_invoke"]
    steps = llm_predictions(batch, model)
    fixed_cost = model.skill_cost_cents[codes]
    step_cost = np.where(is_llm, steps.cost["expected_cost_cents"], fixed_cost)
    step_latency, low_factor, high_factor = _latency(batch, model, steps, is_llm)
    step_p = model.failure_p[codes]
    offsets = batch.step_offsets
    cost = segment_sum(step_cost, offsets)
    risk = cumulative_risk(step_p, offsets)
    status = feasibility_status(
        cost,
        batch.budget_cents,
        segment_any(~batch.step_permitted, offsets),
        risk,
        batch.risk_threshold,
        batch.n_steps,
    )
    plan_cost = {
        key: segment_sum(np.where(is_llm, steps.cost[key], fixed_cost), offsets)
        for key in ("median_cost_cents", "cost_low_cents", "cost_high_cents")
    }
    intervals = {
        **plan_cost,
        "duration_low_ms": segment_sum(step_latency * low_factor, offsets),
        "duration_high_ms": segment_sum(step_latency * high_factor, offsets),
        "confidence": segment_min(np.where(is_llm, steps.calibration["coverage"], np.nan), offsets),
    }
    return SimulationOutput(
        version=model.version,
        status=status,
        cost_cents=cost,
        duration_ms=segment_sum(step_latency, offsets),
        budget_remaining_cents=batch.budget_cents - cost,
        cumulative_risk=risk,
        step_offsets=offsets,
        step_cost_cents=step_cost,
        step_latency_ms=step_latency,
        step_failure_p=step_p,
        intervals=intervals,
        steps=steps,
    )
