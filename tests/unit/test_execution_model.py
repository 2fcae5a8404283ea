"""The execution model (ground truth) is seeded, trace-shaped and independent of V1/V2."""

import numpy as np

from costsim_assets.reference_data.execution_model import execute, sample_output_tokens
from costsim_assets.simulator.prices import load_price_table
from tests.helpers import batch_of, plan


def test_output_lengths_have_the_trace_shape():
    tokens = sample_output_tokens(np.full(20000, 1000.0), np.full(20000, np.nan), np.random.default_rng(1))
    assert 10 <= np.median(tokens) <= 18  # the trace: median 13
    assert 40 <= np.percentile(tokens, 90) <= 70  # the trace: p90 55
    capped = sample_output_tokens(np.full(100, 1000.0), np.full(100, 8.0), np.random.default_rng(1))
    assert capped.max() <= 8


def test_same_seed_same_execution_and_timeouts_fail():
    batch = batch_of(
        plan([{"skill": "http_call", "params": {"url": "https://x", "timeout": 0.001}}]),
        plan([{"skill": "llm_invoke", "params": {"prompt_tokens": 100}}]),
    )
    first = execute(batch, load_price_table(), np.random.default_rng(7))
    second = execute(batch, load_price_table(), np.random.default_rng(7))
    assert np.array_equal(first.cost_cents, second.cost_cents)
    assert first.step_latency_ms[0] >= 1.0  # timed out at 1 ms, retried with backoff
    assert first.cost_cents[1] > 0 and first.cost_cents[0] == 0
