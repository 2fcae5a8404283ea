"""The traffic replay attaches each request's real outcome, with named shifts, on both databases."""

from datetime import UTC, date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from costsim_assets.reference_data.historical import (
    TRACE_SHA256,
    HistoricalSourceError,
    read_trace_bytes,
)
from costsim_assets.sandbox.evaluation import V2Evaluator
from costsim_assets.sandbox.replay import ReplayShift, day_sample, llm_outcome, replay_day, trace_requests
from costsim_assets.simulator.plan_schema import validate_plan
from costsim_assets.simulator.prices import load_price_table
from costsim_assets.simulator.v2_model import load_v2_model
from costsim_assets.store.engine import make_engine, make_sandbox_engine, upgrade_to_head
from costsim_assets.store.outcomes import iter_outcome_batches
from costsim_assets.store.tables import provenance

TRACE = "../shared/data/azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv"
DAY = date(2026, 11, 20)
SIZE = 300
PRICES = load_price_table()


@pytest.fixture(scope="module")
def requests() -> pd.DataFrame:
    return trace_requests(read_trace_bytes(TRACE), "replay-test-salt", PRICES)


@pytest.fixture
def sandbox(database_url):
    upgrade_to_head(make_engine(database_url))
    engine = make_sandbox_engine(database_url)
    yield engine
    engine.dispose()


def day_outcomes(sandbox, day: date) -> tuple[pd.DataFrame, pd.DataFrame]:
    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    with sandbox.connect() as conn:
        [batch] = list(iter_outcome_batches(conn, start=start, end=start + timedelta(days=1)))
    return batch.requests, batch.steps


def test_trace_requests_are_the_trace_anonymized(requests):
    trace = pd.read_csv(TRACE)
    assert list(requests.columns) == ["plan_json", "tenant_id", "generated_tokens"]
    assert requests["generated_tokens"].tolist() == trace["GeneratedTokens"].tolist()
    prompts = [validate_plan(p).steps[0].params["prompt_tokens"] for p in requests["plan_json"].head(50)]
    assert prompts == trace["ContextTokens"].head(50).tolist()
    assert requests["tenant_id"].str.fullmatch(r"tenant-h0\d").all()
    assert not any(ts in text for ts in trace["TIMESTAMP"].head(20) for text in requests["plan_json"])


@pytest.mark.parametrize(
    "text,message",
    [
        (
            "TIMESTAMP,ContextTokens\n2023-11-16 18:15:46.6805900,10\n",
            "lacks the Azure-format column.*Generated",
        ),
        ("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,ten,5\n", "not a trace in the Azure"),
        ("TIMESTAMP,ContextTokens,GeneratedTokens\nyesterday,10,5\n", "not a trace in the Azure format"),
        ("TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,10,-5\n", "negative token counts"),
        ("\x00\x01 binary", "not a trace in the Azure format|lacks"),
    ],
)
def test_a_trace_in_another_format_is_refused(text, message):
    with pytest.raises(HistoricalSourceError, match=message):
        trace_requests(text.encode(), "s", PRICES)


def test_llm_outcome_bills_real_tokens_at_list_price_with_shifts():
    plan = validate_plan(
        {
            "steps": [{"skill": "llm_invoke", "params": {"prompt_tokens": 1000, "model": "gpt-4o"}}],
            "budget_cents": 9,
            "tenant_id": "t",
        }
    )
    price_in, price_out = PRICES.cents_per_token("gpt-4o")
    [base] = llm_outcome(plan, 200, ReplayShift(), PRICES)
    assert (base.input_tokens, base.output_tokens, base.model, base.status) == (1000, 200, "gpt-4o", "ok")
    assert base.cost_cents == pytest.approx(1000 * price_in + 200 * price_out) and base.latency_ms is None
    [longer] = llm_outcome(plan, 200, ReplayShift(output_scale=1.3), PRICES)
    assert (longer.input_tokens, longer.output_tokens) == (1000, 260)
    [dearer] = llm_outcome(plan, 200, ReplayShift(price_scale=2.0), PRICES)
    assert dearer.cost_cents == pytest.approx(2 * base.cost_cents) and dearer.output_tokens == 200
    two_steps = validate_plan(
        {
            "steps": [{"skill": "llm_invoke", "params": {"prompt_tokens": 1}}, {"skill": "kv_get"}],
            "budget_cents": 9,
            "tenant_id": "t",
        }
    )
    with pytest.raises(ValueError, match="one llm_invoke step"):
        llm_outcome(two_steps, 1, ReplayShift(), PRICES)


def test_replayed_outcomes_are_the_trace_ground_truth(sandbox, requests):
    truth = requests.assign(
        context=[validate_plan(p).steps[0].params["prompt_tokens"] for p in requests["plan_json"]]
    )
    price_in, price_out = PRICES.cents_per_token("gpt-4o")
    truth["actual_cost_cents"] = truth["context"] * price_in + truth["generated_tokens"] * price_out
    assert replay_day(sandbox, truth, DAY, SIZE, V2Evaluator(load_v2_model()), PRICES) == SIZE
    assert replay_day(sandbox, truth, DAY, SIZE, V2Evaluator(load_v2_model()), PRICES) == 0  # idempotent
    expected = day_sample(truth, DAY, SIZE)
    rows, steps = day_outcomes(sandbox, DAY)
    assert len(rows) == SIZE and rows["request_id"].tolist() == [f"replay-{DAY}-{i:07d}" for i in range(SIZE)]
    assert (rows["source"] == "replay").all() and (rows["v2_status"] == "ok").all()
    assert (rows["received_at"] == rows["created_at"]).all()
    assert steps["output_tokens"].tolist() == expected["generated_tokens"].astype(float).tolist()
    assert steps["input_tokens"].tolist() == expected["context"].astype(float).tolist()
    np.testing.assert_allclose(steps["cost_cents"], expected["actual_cost_cents"], rtol=1e-12)
    assert steps["latency_ms"].isna().all() and (steps["status"] == "ok").all()
    assert (steps["model"] == "gpt-4o").all() and (steps["skill"] == "llm_invoke").all()


@pytest.mark.parametrize(
    "shift",
    [ReplayShift(output_scale=1.3), ReplayShift(price_scale=1.5), ReplayShift(prompt_scale=2.0)],
    ids=["outputs", "prices", "prompts"],
)
def test_shifted_days_change_only_what_they_name(sandbox, requests, shift):
    replay_day(sandbox, requests, DAY, SIZE, None, PRICES)
    shifted_day = DAY + timedelta(days=1)
    replay_day(sandbox, requests, shifted_day, SIZE, None, PRICES, salt="", shift=shift)
    # each day draws its own seeded sample; its real generated tokens are what the outcomes scale
    base_sample, shifted_sample = day_sample(requests, DAY, SIZE), day_sample(requests, shifted_day, SIZE)
    base = day_outcomes(sandbox, DAY)[1].assign(gen=base_sample["generated_tokens"].to_numpy())
    moved = day_outcomes(sandbox, shifted_day)[1].assign(gen=shifted_sample["generated_tokens"].to_numpy())
    price_in, price_out = PRICES.cents_per_token("gpt-4o")
    for frame, scale in ((base, ReplayShift()), (moved, shift)):
        np.testing.assert_array_equal(frame["output_tokens"], np.round(frame["gen"] * scale.output_scale))
        listed = frame["input_tokens"] * price_in + frame["output_tokens"] * price_out
        np.testing.assert_allclose(frame["cost_cents"], listed * scale.price_scale, rtol=1e-12)
    prompts = [validate_plan(p).steps[0].params["prompt_tokens"] for p in shifted_sample["plan_json"]]
    assert moved["input_tokens"].tolist() == [float(int(p * shift.prompt_scale)) for p in prompts]


def test_with_routing_disabled_only_v1_is_recorded_and_outcomes_still_are(sandbox, requests):
    assert replay_day(sandbox, requests, DAY, SIZE, None, PRICES) == SIZE
    with sandbox.connect() as conn:
        stored = conn.execute(
            sa.select(provenance.c.v2_status, provenance.c.v2_output_z, provenance.c.v1_output_hash)
        ).all()
    assert {r.v2_status for r in stored} == {"skipped"} and all(r.v2_output_z is None for r in stored)
    assert all(len(r.v1_output_hash) == 64 for r in stored)
    rows, steps = day_outcomes(sandbox, DAY)
    assert len(rows) == SIZE == len(steps) and rows["v2_cost_cents"].isna().all()


def test_default_replay_checksum_is_the_historical_one():
    assert read_trace_bytes(TRACE, TRACE_SHA256, "X") == read_trace_bytes(TRACE)
    with pytest.raises(HistoricalSourceError, match="expected 0+; check COSTSIM_REPLAY_SHA256"):
        read_trace_bytes(TRACE, "0" * 64, "COSTSIM_REPLAY_SHA256")
