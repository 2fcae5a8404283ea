"""Scoring V2 and the naive baselines on plans and observed calls: one path for every consumer."""

import numpy as np
import pandas as pd
import pytest

from costsim_assets.simulator.v2 import evaluate_v2
from costsim_assets.simulator.v2_model import load_v2_model
from costsim_assets.validation.realized import plan_forecasts, score_observations, score_plans
from tests.helpers import batch_of, plan


@pytest.fixture(scope="module")
def model():
    return load_v2_model()


def test_plan_forecasts_line_up_llm_steps_and_plans_for_v2_and_every_baseline(model):
    llm = {"skill": "llm_invoke", "params": {"prompt_tokens": 2000, "model": "gpt-4o", "max_tokens": 10}}
    batch = batch_of(plan([llm, {"skill": "email_send"}, llm]), plan([{"skill": "kv_get"}]))
    tokens, cost = plan_forecasts(batch, model, np.array([12.0, np.nan, 7.0, np.nan]), np.array([1.0, 0.0]))
    assert tokens.actual.tolist() == [12.0, 7.0] and tokens.high.tolist() == [10.0, 10.0]  # capped
    assert set(tokens.baselines) == {"model_median", "global_median", "input_only"}
    assert tokens.baselines["input_only"].tolist() == [0.0, 0.0]
    assert set(cost.baselines) == {"model_median", "global_median", "input_only", "v1"}
    price_in, _ = model.prices.cents_per_token("gpt-4o")
    assert cost.baselines["input_only"][0] == pytest.approx(2 * 2000 * price_in + 0.01)
    assert cost.baselines["v1"].tolist() == [17.0, 0.0]  # max(5, 4 x 2000 // 1000) x 2 + 1, a free plan
    assert cost.mean.tolist() == evaluate_v2(batch, model).cost_cents.tolist()


def test_score_plans_and_observations_agree_on_single_calls(model):
    rng = np.random.default_rng(6)
    n = 200
    observations = pd.DataFrame(
        {
            "tenant_id": None,
            "model": "gpt-4o",
            "input_tokens": rng.integers(10, 6000, n).astype(float),
            "output_tokens": np.maximum(6, np.round(rng.lognormal(np.log(13), 1.0, n))),
        }
    )
    observed = score_observations(model, observations)
    billed = score_observations(model, observations.assign(cost_cents=1.0))
    assert observed.output_tokens.model == billed.output_tokens.model
    assert billed.cost.model.bias != observed.cost.model.bias  # billed cost is the truth when given
    records = [
        plan([{"skill": "llm_invoke", "params": {"prompt_tokens": int(t), "model": "gpt-4o"}}])
        for t in observations["input_tokens"]
    ]
    price_in, price_out = model.prices.cents_per_token("gpt-4o")
    actual = observations["input_tokens"] * price_in + observations["output_tokens"] * price_out
    planned = score_plans(
        batch_of(*records), model, observations["output_tokens"].to_numpy(), actual.to_numpy()
    )
    assert planned.output_tokens.model == observed.output_tokens.model
    assert planned.cost.model.mae == pytest.approx(observed.cost.model.mae)
