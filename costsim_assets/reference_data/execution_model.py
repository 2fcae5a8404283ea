"""The execution model: a seeded stochastic stand-in for what plans *really* cost and take.

It shares with V2 ONLY the billing rule providers publish (tokens x list price, the same price
table) and the published per-email price. Everything else comes from sources V2 never fits on:

- output lengths: real generated-token counts from the trace's held-out window, by a latent task
  type V2 cannot see (`task_types.py`), truncated by max_tokens;
- tokenization: ~3.8 characters per token for text prompts (V2 assumes 4);
- billing details (`billing.py`): cached-input discounts, framing overhead, a minimum billable
  input, retries billed again, failed attempts billed for input only;
- latency and failures under load (`load.py`): queueing under the hour's own LLM traffic, rate
  limiting near saturation, one retry after a backoff, timeouts;
- non-LLM costs: Amazon SES per email, AWS Lambda GB-seconds for shell_lite, and prices V2 has no
  table for on unknown skills (a fixed draw per skill name).
V2 is never fitted on its draws (tests/unit/test_training.py fails if it is).
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from statistics import NormalDist

import numpy as np

from costsim_assets.reference_data.billing import (
    CACHE_READ_PRICE_FACTOR,
    attempt_cost,
    billed_input_tokens,
    cached_tokens,
)
from costsim_assets.reference_data.load import (
    hourly_utilisation,
    llm_failure_probability,
    queue_wait_ms,
)
from costsim_assets.reference_data.task_types import OutputLengthPool, draw_output_tokens, draw_task_types
from costsim_assets.simulator.batch import PlanBatch
from costsim_assets.simulator.prices import PriceTable
from costsim_assets.simulator.segments import segment_any, segment_sum
from costsim_assets.simulator.skills import ALL_SKILL_LABELS, SKILL_CODES, UNKNOWN_CODE

TRUE_CHARS_PER_TOKEN = 3.8
LLM_TTFT_MS = 350.0
LLM_PREFILL_MS_PER_TOKEN = 0.12
LLM_CACHED_PREFILL_MS_PER_TOKEN = 0.02
LLM_DECODE_MS_PER_TOKEN = 24.0
LLM_LATENCY_SIGMA = 0.3
RETRY_BACKOFF_MS = 1000.0
NETWORK_LOAD_SLOWDOWN = 0.5
SES_CENTS_PER_EMAIL = 0.01  # Amazon SES list price: USD 0.10 per 1,000 emails
LAMBDA_CENTS_PER_GB_SECOND = 0.00166667  # AWS Lambda x86 list price: USD 0.0000166667 per GB-s
LAMBDA_CENTS_PER_REQUEST = 0.00002  # AWS Lambda: USD 0.20 per 1M requests
SHELL_MEMORY_GB = 0.5
UNKNOWN_PRICE_MEDIAN_CENTS = 4.0
UNKNOWN_PRICE_LOG_SIGMA = 1.0

# label: (median latency ms, log sigma, failure probability per attempt)
SKILL_BEHAVIOUR: dict[str, tuple[float, float, float]] = {
    "http_call": (350.0, 0.5, 0.06),
    "llm_invoke": (0.0, LLM_LATENCY_SIGMA, 0.0),
    "json_transform": (2.0, 0.3, 0.005),
    "fs_read": (5.0, 0.4, 0.02),
    "fs_write": (10.0, 0.4, 0.02),
    "shell_lite": (30.0, 0.6, 0.04),
    "kv_get": (1.5, 0.3, 0.005),
    "kv_set": (2.5, 0.3, 0.005),
    "webhook_send": (250.0, 0.5, 0.05),
    "email_send": (300.0, 0.4, 0.01),
    "unknown": (800.0, 0.8, 0.15),
}
LOCAL_HTTP_MEDIAN_MS = 40.0
LOCAL_HTTP_FAILURE = 0.01
FS_MS_PER_KB = {"fs_read": 0.005, "fs_write": 0.01, "json_transform": 0.01}
SHELL_MS_PER_CHAR = 0.5
NETWORK_SKILLS = (SKILL_CODES["http_call"], SKILL_CODES["webhook_send"])


@dataclass(frozen=True)
class Conditions:
    """Per-plan circumstances of one execution: task mix, hour of day, regional multipliers."""

    task_mix: np.ndarray
    hour: np.ndarray
    latency_multiplier: np.ndarray | None = None
    price_multiplier: np.ndarray | None = None


@dataclass(frozen=True)
class Execution:
    """What really happened, per step (task_type -1 on non-LLM steps) and per plan."""

    step_latency_ms: np.ndarray
    step_cost_cents: np.ndarray
    step_failed: np.ndarray
    step_attempts: np.ndarray
    step_prompt_tokens: np.ndarray
    step_billed_input_tokens: np.ndarray
    step_cached_tokens: np.ndarray
    step_output_tokens: np.ndarray
    step_task_type: np.ndarray
    cost_cents: np.ndarray
    duration_ms: np.ndarray
    failed: np.ndarray


def _table(column: int) -> np.ndarray:
    return np.array([SKILL_BEHAVIOUR[label][column] for label in ALL_SKILL_LABELS])


def unknown_skill_price(name: str) -> float:
    """A price V2 cannot know: a lognormal draw fixed by the skill's name (same in every dataset)."""
    digest = int.from_bytes(hashlib.blake2b(name.encode(), digest_size=8).digest(), "big")
    quantile = (digest + 0.5) / 2**64
    return UNKNOWN_PRICE_MEDIAN_CENTS * math.exp(UNKNOWN_PRICE_LOG_SIGMA * NormalDist().inv_cdf(quantile))


def true_prompt_tokens(batch: PlanBatch, rng: np.random.Generator) -> np.ndarray:
    """Real tokenization: ~3.8 chars per token for text prompts; unspecified prompts are short."""
    tokens = batch.feature("prompt_tokens")
    from_chars = np.ceil(batch.feature("prompt_chars") / TRUE_CHARS_PER_TOKEN)
    tokens = np.where(np.isnan(tokens), from_chars, tokens)
    fallback = rng.integers(50, 2000, size=len(tokens)).astype(np.float64)
    return np.where(np.isnan(tokens), fallback, tokens)


def _llm_tokens(
    batch: PlanBatch, pool: OutputLengthPool, conditions: Conditions, is_llm: np.ndarray, rng
) -> tuple[np.ndarray, np.ndarray]:
    """(task type, output tokens) per step: drawn for LLM steps, -1 / 0 elsewhere."""
    llm = np.flatnonzero(is_llm)
    task = np.full(len(is_llm), -1)
    task[llm] = draw_task_types(conditions.task_mix[batch.step_plan_index[llm]], rng)
    tokens = np.zeros(len(is_llm))
    tokens[llm] = np.fmin(draw_output_tokens(pool, task[llm], rng), batch.feature("max_tokens")[llm])
    return task, tokens


def _base_latency(batch: PlanBatch, codes: np.ndarray) -> np.ndarray:
    """Median latency of each non-LLM step before noise, from its parameters."""
    median = _table(0)[codes]
    external = np.nan_to_num(batch.feature("url_external"), nan=1.0)
    median = np.where((codes == SKILL_CODES["http_call"]) & (external == 0), LOCAL_HTTP_MEDIAN_MS, median)
    payload_kb = np.nan_to_num(batch.feature("payload_bytes")) / 1000.0
    for skill, per_kb in FS_MS_PER_KB.items():
        median = np.where(codes == SKILL_CODES[skill], median + per_kb * payload_kb, median)
    shell = codes == SKILL_CODES["shell_lite"]
    return np.where(shell, median + SHELL_MS_PER_CHAR * np.nan_to_num(batch.feature("command_chars")), median)


def _latency(batch, codes, is_llm, tokens, utilisation, rng) -> np.ndarray:
    """One attempt's latency per step: LLM queueing + first token + prefill + decode; others by skill."""
    prompt, cached, output = tokens
    llm_ms = (
        queue_wait_ms(utilisation)
        + LLM_TTFT_MS
        + LLM_PREFILL_MS_PER_TOKEN * (prompt - cached)
        + LLM_CACHED_PREFILL_MS_PER_TOKEN * cached
        + LLM_DECODE_MS_PER_TOKEN * output
    )
    network = np.isin(codes, NETWORK_SKILLS) & (np.nan_to_num(batch.feature("url_external"), nan=1.0) == 1)
    other_ms = _base_latency(batch, codes) * np.where(network, 1.0 + NETWORK_LOAD_SLOWDOWN * utilisation, 1.0)
    return np.where(is_llm, llm_ms, other_ms) * rng.lognormal(0.0, _table(1)[codes])


def _failure_probability(batch: PlanBatch, codes: np.ndarray, utilisation: np.ndarray) -> np.ndarray:
    external = np.nan_to_num(batch.feature("url_external"), nan=1.0)
    local_http = (codes == SKILL_CODES["http_call"]) & (external == 0)
    p = np.where(local_http, LOCAL_HTTP_FAILURE, _table(2)[codes])
    return np.where(codes == SKILL_CODES["llm_invoke"], llm_failure_probability(utilisation), p)


def _other_cost(batch: PlanBatch, codes: np.ndarray, latency: np.ndarray, attempts: np.ndarray, failed):
    """Published per-call prices (SES, Lambda) and the hidden prices of unknown skills."""
    names = np.array([unknown_skill_price(name) for name in batch.skill_names] or [0.0])
    unknown = names[batch.step_skill_id] if len(codes) else np.zeros(0)
    gb_seconds = SHELL_MEMORY_GB * latency / 1000.0
    shell = LAMBDA_CENTS_PER_GB_SECOND * gb_seconds + LAMBDA_CENTS_PER_REQUEST * attempts
    cost = np.where(codes == UNKNOWN_CODE, unknown, 0.0)
    cost = np.where(codes == SKILL_CODES["shell_lite"], shell, cost)
    return np.where((codes == SKILL_CODES["email_send"]) & ~failed, SES_CENTS_PER_EMAIL, cost)


def _llm_cost(batch, prices: PriceTable, tokens, first_failed, failed) -> np.ndarray:
    """Both attempts of every LLM step at list price with the billing details applied."""
    names = (*batch.model_names, prices.default_model)
    model_ids = np.where(batch.step_model_id < 0, len(batch.model_names), batch.step_model_id)
    table = np.array([prices.cents_per_token(name) for name in names])[model_ids].reshape(-1, 2)
    providers = [prices.models.get(name, prices.models[prices.default_model])["provider"] for name in names]
    cache_factor = np.array([CACHE_READ_PRICE_FACTOR.get(p, 1.0) for p in providers])[model_ids]
    prompt, cached, output = tokens
    billed = billed_input_tokens(prompt)
    first = attempt_cost(billed, cached, output, ~first_failed, table, cache_factor)
    second = attempt_cost(billed, cached, output, ~failed, table, cache_factor)
    return first + np.where(first_failed, second, 0.0)


def execute(
    batch: PlanBatch,
    prices: PriceTable,
    pool: OutputLengthPool,
    conditions: Conditions,
    rng: np.random.Generator,
) -> Execution:
    """Sample one execution of every plan of the batch under the given conditions."""
    codes = batch.step_skill_code
    is_llm = codes == SKILL_CODES["llm_invoke"]
    plan_of_step = batch.step_plan_index
    prompt = np.where(is_llm, true_prompt_tokens(batch, rng), 0.0)
    cached = np.where(is_llm, cached_tokens(prompt, rng), 0.0)
    task, output = _llm_tokens(batch, pool, conditions, is_llm, rng)
    utilisation = hourly_utilisation(conditions.hour, segment_sum(is_llm.astype(float), batch.step_offsets))
    step_utilisation = utilisation[plan_of_step]
    latency = _latency(batch, codes, is_llm, (prompt, cached, output), step_utilisation, rng)
    if conditions.latency_multiplier is not None:
        latency = latency * conditions.latency_multiplier[plan_of_step]
    timeout_ms = batch.feature("timeout_s") * 1000.0
    timed_out = latency > np.nan_to_num(timeout_ms, nan=np.inf)
    latency = np.fmin(latency, timeout_ms)
    p = _failure_probability(batch, codes, step_utilisation)
    first_failed = timed_out | (rng.random(len(codes)) < p)
    failed = first_failed & (rng.random(len(codes)) < p)
    attempts = 1 + first_failed.astype(np.int64)
    latency = np.where(first_failed, 2.0 * latency + RETRY_BACKOFF_MS, latency)
    cost = np.where(
        is_llm,
        _llm_cost(batch, prices, (prompt, cached, output), first_failed, failed),
        _other_cost(batch, codes, latency, attempts, failed),
    )
    if conditions.price_multiplier is not None:
        cost = cost * conditions.price_multiplier[plan_of_step]
    offsets = batch.step_offsets
    return Execution(
        step_latency_ms=latency,
        step_cost_cents=cost,
        step_failed=failed,
        step_attempts=attempts,
        step_prompt_tokens=prompt,
        step_billed_input_tokens=np.where(is_llm, billed_input_tokens(prompt), 0.0),
        step_cached_tokens=cached,
        step_output_tokens=np.where(is_llm & ~failed, output, 0.0),
        step_task_type=task,
        cost_cents=segment_sum(cost, offsets),
        duration_ms=segment_sum(latency, offsets),
        failed=segment_any(failed, offsets),
    )
