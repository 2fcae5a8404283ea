"""The execution model (ground truth): real held-out output lengths by latent task type, billing
details V2 does not model, load-dependent latency; seeded and independent of V2."""

import numpy as np
import pytest

from costsim_assets.reference_data import billing
from costsim_assets.reference_data.execution_model import Conditions, execute, unknown_skill_price
from costsim_assets.reference_data.historical import parse_trace, read_trace_bytes, train_rows
from costsim_assets.reference_data.load import hourly_utilisation, llm_failure_probability, queue_wait_ms
from costsim_assets.reference_data.task_types import TRACE_MIX, draw_task_types, output_length_pool
from costsim_assets.simulator.prices import load_price_table
from tests.helpers import batch_of, plan

TRACE = "../shared/data/azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv"


@pytest.fixture(scope="module")
def trace():
    return parse_trace(read_trace_bytes(TRACE))


@pytest.fixture(scope="module")
def pool(trace):
    return output_length_pool(trace, "test")


def conditions(n, mix=TRACE_MIX, hour=None):
    return Conditions(task_mix=np.tile(mix, (n, 1)), hour=np.zeros(n, dtype=int) if hour is None else hour)


def llm_plans(n, **params):
    return batch_of(*[plan([{"skill": "llm_invoke", "params": {"prompt_tokens": 500, **params}}])] * n)


def test_output_lengths_are_real_held_out_counts_split_into_task_type_terciles(trace, pool):
    held_out = trace["GeneratedTokens"].to_numpy()[train_rows(len(trace)) :]
    assert sum(len(t) for t in pool.by_type) == len(held_out)
    assert pool.by_type[0].max() <= pool.by_type[1].min() <= pool.by_type[1].max() <= pool.by_type[2].min()
    outcome = execute(llm_plans(3000), load_price_table(), pool, conditions(3000), np.random.default_rng(1))
    completed = outcome.step_output_tokens[~outcome.step_failed]
    assert set(completed) <= set(held_out.astype(float))
    assert np.median(completed) == pytest.approx(np.median(held_out), abs=2)


def test_task_mix_moves_the_output_lengths_and_max_tokens_truncates(pool):
    rng = np.random.default_rng(2)
    long_mix = execute(llm_plans(2000), load_price_table(), pool, conditions(2000, (0.0, 0.0, 1.0)), rng)
    assert np.median(long_mix.step_output_tokens) >= pool.describe()["task_types"]["generation"]["median"] - 5
    capped = execute(llm_plans(500, max_tokens=8), load_price_table(), pool, conditions(500), rng)
    assert capped.step_output_tokens.max() <= 8
    types = draw_task_types(np.tile((0.2, 0.3, 0.5), (20000, 1)), rng)
    assert np.bincount(types) / 20000 == pytest.approx([0.2, 0.3, 0.5], abs=0.02)


def test_same_seed_same_execution_and_timeouts_fail(pool):
    batch = batch_of(
        plan([{"skill": "http_call", "params": {"url": "https://x", "timeout": 0.001}}]),
        plan([{"skill": "llm_invoke", "params": {"prompt_tokens": 100}}]),
    )
    first = execute(batch, load_price_table(), pool, conditions(2), np.random.default_rng(7))
    second = execute(batch, load_price_table(), pool, conditions(2), np.random.default_rng(7))
    assert np.array_equal(first.cost_cents, second.cost_cents)
    assert (
        first.step_attempts[0] == 2 and first.step_latency_ms[0] >= 1000
    )  # timed out, retried after backoff
    assert first.cost_cents[1] > 0 and first.cost_cents[0] == 0


def test_cached_prefixes_follow_the_published_rule():
    rng = np.random.default_rng(3)
    prompts = rng.integers(10, 20000, 5000).astype(float)
    cached = billing.cached_tokens(prompts, rng)
    hit = cached > 0
    assert 0.2 < hit.mean() < billing.CACHE_HIT_PROBABILITY
    assert (cached[hit] >= 1024).all() and (cached[hit] % 128 == 0).all() and (cached <= prompts).all()
    assert not hit[prompts < 1024].any()


def test_failed_attempts_bill_input_only_and_retries_bill_again():
    prices = np.array([[0.00025, 0.001]])
    kwargs = {"cached": np.array([0.0]), "output_tokens": np.array([100.0]), "prices": prices}
    ok = billing.attempt_cost(
        np.array([1000.0]), succeeded=np.array([True]), cache_factor=np.ones(1), **kwargs
    )
    failed = billing.attempt_cost(
        np.array([1000.0]), succeeded=np.array([False]), cache_factor=np.ones(1), **kwargs
    )
    assert ok[0] == pytest.approx(1000 * 0.00025 + 100 * 0.001) and failed[0] == pytest.approx(0.25)
    discounted = billing.attempt_cost(
        np.array([1000.0]), np.array([512.0]), np.array([0.0]), np.array([True]), prices, np.array([0.5])
    )
    assert discounted[0] == pytest.approx((488 + 256) * 0.00025)
    assert billing.billed_input_tokens(np.array([5.0, 1000.0])).tolist() == [64.0, 1009.0]


def test_busy_hours_queue_longer_and_fail_more():
    utilisation = hourly_utilisation(np.array([1, 1, 1, 1, 2]), np.ones(5))
    assert utilisation[0] == pytest.approx(0.85) and utilisation[4] == pytest.approx(0.85 / 4)
    assert queue_wait_ms(utilisation)[0] > 5 * queue_wait_ms(utilisation)[4]
    assert llm_failure_probability(np.array([0.85]))[0] > llm_failure_probability(np.array([0.2]))[0]


def test_load_slows_the_llm_calls_of_a_busy_hour(pool):
    n = 400
    hours = np.where(np.arange(n) < 300, 9, 3)  # 300 plans at 09:00, 100 at 03:00
    outcome = execute(
        llm_plans(n), load_price_table(), pool, conditions(n, hour=hours), np.random.default_rng(5)
    )
    assert np.median(outcome.duration_ms[:300]) > np.median(outcome.duration_ms[300:]) + 300


def test_unknown_skills_have_prices_v2_cannot_know():
    assert unknown_skill_price("gpu_render") == unknown_skill_price("gpu_render")
    prices = {name: unknown_skill_price(name) for name in ("ftp_upload", "gpu_render", "sms_send")}
    assert len(set(prices.values())) == 3 and all(p > 0 for p in prices.values())
