"""CostSim V2: parameter-aware, priced by tokens, with a calibrated interval; vectorized."""

from __future__ import annotations

import numpy as np

from costsim_assets.simulator.batch import PlanBatch
from costsim_assets.simulator.feasibility import feasibility_status
from costsim_assets.simulator.output import SimulationOutput
from costsim_assets.simulator.segments import cumulative_risk, segment_any, segment_sum
from costsim_assets.simulator.skills import SKILL_CODES
from costsim_assets.simulator.v2_model import V2Model, latency_design

Z_80 = 1.2815515655446004  # standard normal quantile of 0.9: the 80 % central interval
TIMEOUT_CAPPED = (SKILL_CODES["http_call"], SKILL_CODES["webhook_send"], SKILL_CODES["shell_lite"])


def _input_tokens(batch: PlanBatch, model: V2Model) -> np.ndarray:
    tokens = batch.feature("prompt_tokens")
    from_chars = batch.feature("prompt_chars") / model.chars_per_token
    tokens = np.where(np.isnan(tokens), from_chars, tokens)
    return np.where(np.isnan(tokens), model.default_prompt_tokens, tokens)


def _step_prices(batch: PlanBatch, model: V2Model) -> tuple[np.ndarray, np.ndarray]:
    """Per-step (input, output) cents per token, from each step's `model` param."""
    default = model.prices.cents_per_token(model.prices.default_model)
    table = np.array([model.prices.cents_per_token(name) for name in batch.model_names] + [default])
    ids = np.where(batch.step_model_id < 0, len(batch.model_names), batch.step_model_id)
    return table[ids, 0], table[ids, 1]


def _llm_estimates(batch: PlanBatch, model: V2Model) -> dict[str, np.ndarray]:
    """Expected cost/latency and the 80 % cost interval of every step as if it were llm_invoke."""
    in_tokens = _input_tokens(batch, model)
    bins = np.clip(
        np.searchsorted(model.context_edges, in_tokens, side="right") - 1, 0, len(model.output_mean) - 1
    )
    cap = batch.feature("max_tokens")
    out_mean, out_low, out_high = (
        np.fmin(table[bins], cap) for table in (model.output_mean, model.output_low, model.output_high)
    )
    price_in, price_out = _step_prices(batch, model)
    intercept, per_in, per_out = model.llm_latency_coef
    return {
        "cost": in_tokens * price_in + out_mean * price_out,
        "cost_low": in_tokens * price_in + out_low * price_out,
        "cost_high": in_tokens * price_in + out_high * price_out,
        "latency": intercept + per_in * in_tokens + per_out * out_mean,
    }


def _other_latency(batch: PlanBatch, model: V2Model, codes: np.ndarray) -> np.ndarray:
    """Linear latency model per skill on step parameters, capped by the step's timeout."""
    design = latency_design(batch)
    latency = np.maximum(np.einsum("ij,ij->i", design, model.latency_coef[codes]), 0.1)
    timeout_ms = batch.feature("timeout_s") * 1000.0
    capped = np.isin(codes, TIMEOUT_CAPPED) & ~np.isnan(timeout_ms)
    return np.where(capped, np.minimum(latency, timeout_ms), latency)


def evaluate_v2(batch: PlanBatch, model: V2Model) -> SimulationOutput:
    """Evaluate every plan of the batch with the fitted V2 model."""
    codes = batch.step_skill_code
    is_llm = codes == SKILL_CODES["llm_invoke"]
    llm = _llm_estimates(batch, model)
    fixed_cost = model.skill_cost_cents[codes]
    step_cost = np.where(is_llm, llm["cost"], fixed_cost)
    step_latency = np.where(is_llm, llm["latency"], _other_latency(batch, model, codes))
    sigma = np.where(is_llm, model.llm_log_sigma, model.latency_log_sigma[codes])
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
    intervals = {
        "cost_low_cents": segment_sum(np.where(is_llm, llm["cost_low"], fixed_cost), offsets),
        "cost_high_cents": segment_sum(np.where(is_llm, llm["cost_high"], fixed_cost), offsets),
        "duration_low_ms": segment_sum(step_latency * np.exp(-Z_80 * sigma), offsets),
        "duration_high_ms": segment_sum(step_latency * np.exp(Z_80 * sigma), offsets),
        "confidence": np.full(batch.n_plans, model.interval_coverage),
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
    )
