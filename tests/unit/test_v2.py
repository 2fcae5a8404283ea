"""V2: token pricing, per-request calibrated intervals and confidence, artifact-hash version."""

import json

import numpy as np
import pandas as pd
import pytest

from costsim_assets.reference_data.historical import read_trace_bytes
from costsim_assets.simulator.prices import load_price_table
from costsim_assets.simulator.v2 import evaluate_v2
from costsim_assets.simulator.v2_model import (
    V2Model,
    artifact_text,
    load_v2_model,
    model_version,
    packaged_artifact_path,
)
from costsim_assets.simulator.v2_priors import load_priors
from costsim_assets.training.bootstrap import train_v2_artifact
from costsim_assets.training.fit import FitConfig, fit_v2_artifact
from tests.helpers import batch_of, plan

TRACE = "../shared/data/azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv"


@pytest.fixture(scope="module")
def model() -> V2Model:
    return load_v2_model()


def run(model, *records):
    batch = batch_of(*records)
    output = evaluate_v2(batch, model)
    return [output.plan_result(i, batch) for i in range(len(records))]


def llm(tokens=900, **params) -> dict:
    return {"skill": "llm_invoke", "params": {"prompt_tokens": tokens, "model": "gpt-4o", **params}}


def test_llm_cost_is_tokens_times_list_price(model):
    [out] = run(model, plan([llm(1000, max_tokens=1)]))
    # 1000 input tokens at $2.50/M + 1 output token at $10/M, in cents, no rounding
    assert out["estimated_cost_cents"] == pytest.approx(1000 * 2.5e-4 + 1 * 1e-3)
    assert out["cost_low_cents"] <= out["estimated_cost_cents"] <= out["cost_high_cents"]


def test_step_carries_the_output_token_distribution_and_its_calibration(model):
    [out] = run(model, plan([llm(2000)]))
    step = out["steps"][0]
    segment = model.artifact["output_tokens"]["segments"][step["segment"]]
    assert step["output_tokens"] == {k: segment[k] for k in ("p50", "low", "high")} | {
        "expected": segment["mean"]
    }
    assert step["calibration"] == segment["calibration"]
    assert out["confidence"] == segment["calibration"]["coverage"]
    price_in, price_out = model.prices.cents_per_token("gpt-4o")
    assert out["estimated_cost_cents"] == pytest.approx(2000 * price_in + segment["mean"] * price_out)
    assert out["median_cost_cents"] == pytest.approx(2000 * price_in + segment["p50"] * price_out)
    assert out["cost_low_cents"] == pytest.approx(2000 * price_in + segment["low"] * price_out)
    assert out["cost_low_cents"] <= out["median_cost_cents"] <= out["cost_high_cents"]


def test_max_tokens_caps_every_quantity_and_the_expected_value_below_the_mean(model):
    [free, capped] = run(model, plan([llm(2000)]), plan([llm(2000, max_tokens=16)]))
    tokens = capped["steps"][0]["output_tokens"]
    assert tokens["high"] == 16 and tokens["p50"] == min(16, free["steps"][0]["output_tokens"]["p50"])
    assert tokens["low"] <= tokens["expected"] < 16 < free["steps"][0]["output_tokens"]["expected"]


def test_confidence_is_per_request_lowest_segment_and_null_without_llm(model):
    long, short, mixed, none = run(
        model,
        plan([llm(2000)]),
        plan([llm(100)]),
        plan([llm(2000), llm(100), {"skill": "kv_get"}], risk=1.0),
        plan([{"skill": "kv_get"}, {"skill": "email_send"}]),
    )
    assert long["steps"][0]["segment"] != short["steps"][0]["segment"]
    assert long["confidence"] != short["confidence"]
    assert mixed["confidence"] == min(long["confidence"], short["confidence"])
    assert none["confidence"] is None and "segment" not in none["steps"][0]
    assert none["estimated_cost_cents"] == none["cost_low_cents"] == none["cost_high_cents"] == 0.01


def test_unknown_model_is_priced_as_the_default_model(model):
    unknown, default = run(
        model,
        *(
            plan([{"skill": "llm_invoke", "params": {"prompt_tokens": 500, "model": m}}])
            for m in ("no-such-model", "gpt-4o-mini")
        ),
    )
    assert unknown["estimated_cost_cents"] == default["estimated_cost_cents"] > 0


def test_parameters_change_estimates(model):
    slow, fast = run(
        model,
        plan([{"skill": "http_call", "params": {"url": "https://x.example"}}]),
        plan([{"skill": "http_call", "params": {"url": "http://localhost/x"}}]),
    )
    assert slow["estimated_duration_ms"] > 3 * fast["estimated_duration_ms"]
    (capped,) = run(
        model, plan([{"skill": "http_call", "params": {"url": "https://x.example", "timeout": 0.05}}])
    )
    assert capped["estimated_duration_ms"] == pytest.approx(50)
    short, long = run(
        model, *(plan([{"skill": "shell_lite", "params": {"command": "x" * n}}]) for n in (5, 400))
    )
    assert long["estimated_duration_ms"] > short["estimated_duration_ms"]


def test_latency_is_a_documented_prior_marked_not_validated(model):
    latency = model.artifact["llm_latency"]
    assert latency["validated"] is False and latency["coef"] == load_priors().llm_latency["coef"]
    assert model.artifact["skill_cost_cents"]["email_send"] == 0.01  # Amazon SES list price
    assert model.artifact["skill_cost_cents"]["unknown"] == 10.0  # V1's frozen default, as a prior


def tenant_observations() -> pd.DataFrame:
    """Two tenants: 'verbose' generates ten times the tokens of 'terse'; 9 prompts in 10 are in
    the 1,024-4,096 token bin, the rest too few for segments of their own."""
    rng = np.random.default_rng(4)
    n = 6000
    tenant = np.where(np.arange(n) % 2 == 0, "verbose", "terse")
    base = np.maximum(6, np.round(rng.lognormal(np.log(13), 0.8, n)))
    return pd.DataFrame(
        {
            "ts": pd.Timestamp("2026-01-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="s"),
            "tenant_id": tenant,
            "model": "gpt-4o",
            "input_tokens": np.where(rng.random(n) < 0.9, rng.integers(1024, 4096, n), 100).astype(float),
            "output_tokens": np.where(tenant == "verbose", 10 * base, base),
            "latency_ms": np.nan,
        }
    )


def test_segments_depend_on_the_tenant_and_pool_when_small():
    artifact = fit_v2_artifact(
        tenant_observations(), prices=load_price_table(), priors=load_priors(), source={"test": True}
    )
    segments = artifact["output_tokens"]["segments"]
    assert "tenant=verbose|model=gpt-4o|bin=2" in segments
    assert not any(key.startswith("tenant=") and "bin=0" in key for key in segments)  # too small: pooled
    fitted = V2Model.from_artifact(artifact)
    verbose, terse, stranger = run(
        fitted, *(plan([llm(2000)], tenant=t) for t in ("verbose", "terse", "stranger"))
    )
    assert verbose["steps"][0]["output_tokens"]["p50"] > 5 * terse["steps"][0]["output_tokens"]["p50"]
    assert stranger["steps"][0]["segment"] == "model=gpt-4o|bin=2"


def test_small_observation_sets_are_refused():
    with pytest.raises(ValueError, match="too few observations"):
        fit_v2_artifact(
            tenant_observations().head(300), prices=load_price_table(), priors=load_priors(), source={}
        )
    with pytest.raises(ValueError, match="min_calibration_rows"):
        FitConfig(min_calibration_rows=3)


def test_version_is_the_content_hash_of_the_artifact(model):
    artifact = json.loads(packaged_artifact_path().read_text())
    assert model.version == artifact["version"] == model_version(artifact)
    artifact["chars_per_token"] = 3.0
    assert model_version(artifact) != model.version


def test_refit_from_the_real_trace_reproduces_the_packaged_artifact_byte_for_byte(model):
    refit = train_v2_artifact(read_trace_bytes(TRACE), load_price_table())
    assert artifact_text(refit) == packaged_artifact_path().read_text()
    assert refit["output_tokens"]["segments"]["all"]["calibration_rows"] >= 492


def test_not_an_artifact_is_rejected():
    with pytest.raises(ValueError, match="not a V2 model artifact"):
        V2Model.from_artifact({"schema": "other"})


def test_vectorized_v2_matches_plan_by_plan(model):
    rng = np.random.default_rng(3)
    skills = ["llm_invoke", "http_call", "shell_lite", "fs_read", "email_send", "mystery"]
    records = [
        plan(
            [
                {
                    "skill": str(rng.choice(skills)),
                    "params": {
                        "payload_bytes": int(rng.integers(0, 10**6)),
                        "prompt_tokens": int(rng.integers(1, 9000)),
                    },
                }
                for _ in range(int(rng.integers(0, 5)))
            ],
            tenant=f"t{int(rng.integers(0, 3))}",
        )
        for _ in range(40)
    ]
    together = run(model, *records)
    assert together == [run(model, r)[0] for r in records]
