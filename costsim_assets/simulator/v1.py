"""CostSim V1: the frozen M5 baseline, reproduced exactly and evaluated vectorized."""

from __future__ import annotations

import numpy as np

from costsim_assets.simulator.batch import PlanBatch
from costsim_assets.simulator.feasibility import feasibility_status
from costsim_assets.simulator.output import SimulationOutput
from costsim_assets.simulator.segments import cumulative_risk, segment_any, segment_sum
from costsim_assets.simulator.skills import SKILL_CODES, per_skill_table

V1_VERSION = "v1-m5-frozen"

# skill: (cost cents, latency ms, failure probability) — the frozen M5 table.
V1_TABLE: dict[str, tuple[float, float, float]] = {
    "http_call": (0, 500, 0.10),
    "llm_invoke": (5, 2000, 0.05),
    "json_transform": (0, 10, 0.01),
    "fs_read": (0, 50, 0.05),
    "fs_write": (0, 100, 0.05),
    "shell_lite": (0, 200, 0.10),
    "kv_get": (0, 5, 0.02),
    "kv_set": (0, 10, 0.02),
    "webhook_send": (0, 300, 0.10),
    "email_send": (1, 500, 0.05),
}
V1_UNKNOWN = (10, 1000, 0.20)
V1_LLM_MIN_COST = 5
V1_CHARS_PER_TOKEN = 4
V1_HTTP_MAX_LATENCY_MS = 500

_COST = per_skill_table({k: v[0] for k, v in V1_TABLE.items()}, V1_UNKNOWN[0])
_LATENCY = per_skill_table({k: v[1] for k, v in V1_TABLE.items()}, V1_UNKNOWN[1])
_FAILURE = per_skill_table({k: v[2] for k, v in V1_TABLE.items()}, V1_UNKNOWN[2])


def _llm_cost(batch: PlanBatch) -> np.ndarray:
    """max(5, prompt_chars // 1000), prompt_chars = len(prompt) or 4 x prompt_tokens."""
    chars = batch.feature("prompt_chars")
    chars = np.where(np.isnan(chars), V1_CHARS_PER_TOKEN * batch.feature("prompt_tokens"), chars)
    return np.where(
        np.isnan(chars), V1_LLM_MIN_COST, np.maximum(V1_LLM_MIN_COST, np.floor_divide(chars, 1000))
    )


def _http_latency(batch: PlanBatch, default: np.ndarray) -> np.ndarray:
    """min(500, timeout_s x 1000) when a timeout is given."""
    timeout = batch.feature("timeout_s")
    capped = np.minimum(V1_HTTP_MAX_LATENCY_MS, timeout * 1000.0)
    return np.where(np.isnan(timeout), default, capped)


def evaluate_v1(batch: PlanBatch) -> SimulationOutput:
    """Evaluate every plan of the batch with the frozen V1 rules."""
    codes = batch.step_skill_code
    is_llm = codes == SKILL_CODES["llm_invoke"]
    is_http = codes == SKILL_CODES["http_call"]
    step_cost = np.where(is_llm, _llm_cost(batch), _COST[codes])
    step_latency = np.where(is_http, _http_latency(batch, _LATENCY[codes]), _LATENCY[codes])
    step_p = _FAILURE[codes]
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
    return SimulationOutput(
        version=V1_VERSION,
        status=status,
        cost_cents=cost,
        duration_ms=segment_sum(step_latency, offsets),
        budget_remaining_cents=batch.budget_cents - cost,
        cumulative_risk=risk,
        step_offsets=offsets,
        step_cost_cents=step_cost,
        step_latency_ms=step_latency,
        step_failure_p=step_p,
        whole_cents=True,
    )
