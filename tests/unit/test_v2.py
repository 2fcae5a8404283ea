"""V2: token pricing from the real price table, calibrated interval, artifact-hash version."""

import json

import numpy as np
import pytest

from costsim_assets.reference_data.historical import read_trace_bytes
from costsim_assets.reference_data.train_v2 import train_v2_artifact
from costsim_assets.simulator.prices import load_price_table
from costsim_assets.simulator.v2 import evaluate_v2
from costsim_assets.simulator.v2_model import V2Model, load_v2_model, model_version, packaged_artifact_path
from tests.helpers import batch_of, plan

TRACE = "../shared/data/azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv"


@pytest.fixture(scope="module")
def model() -> V2Model:
    return load_v2_model()


def run(model, *records):
    batch = batch_of(*records)
    output = evaluate_v2(batch, model)
    return [output.plan_result(i, batch) for i in range(len(records))]


def test_llm_cost_is_tokens_times_list_price(model):
    [out] = run(
        model,
        plan(
            [{"skill": "llm_invoke", "params": {"prompt_tokens": 1000, "model": "gpt-4o", "max_tokens": 1}}]
        ),
    )
    # 1000 input tokens at $2.50/M + 1 output token at $10/M, in cents, no rounding
    assert out["estimated_cost_cents"] == pytest.approx(1000 * 2.5e-4 + 1 * 1e-3)
    assert out["cost_low_cents"] <= out["estimated_cost_cents"] <= out["cost_high_cents"]


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


def test_cost_is_fractional_and_confidence_is_the_measured_coverage(model):
    [out] = run(model, plan([{"skill": "llm_invoke", "params": {"prompt": "y" * 333}}]))
    assert out["estimated_cost_cents"] != round(out["estimated_cost_cents"])
    assert out["confidence"] == model.artifact["calibration"]["heldout_interval_coverage"]
    assert 0.7 < out["confidence"] < 0.9  # an 80 % interval that really covers about 80 %


def test_confidence_does_not_collapse_with_plan_length(model):
    one, many = run(model, plan([{"skill": "llm_invoke"}]), plan([{"skill": "llm_invoke"}] * 20, risk=1.0))
    assert one["confidence"] == many["confidence"]


def test_version_is_the_content_hash_of_the_artifact(model):
    artifact = json.loads(packaged_artifact_path().read_text())
    assert model.version == artifact["version"] == model_version(artifact)
    artifact["chars_per_token"] = 3.0
    assert model_version(artifact) != model.version


def test_refit_from_the_real_trace_reproduces_the_packaged_artifact(model):
    refit = train_v2_artifact(read_trace_bytes(TRACE), load_price_table())
    assert refit == model.artifact


def test_not_an_artifact_is_rejected():
    with pytest.raises(ValueError, match="not a V2 model artifact"):
        V2Model.from_artifact({"schema": "other"})


def test_vectorized_v2_matches_plan_by_plan(model):
    rng = np.random.default_rng(3)
    skills = ["llm_invoke", "http_call", "shell_lite", "fs_read", "email_send", "mystery"]
    records = [
        plan(
            [
                {"skill": str(rng.choice(skills)), "params": {"payload_bytes": int(rng.integers(0, 10**6))}}
                for _ in range(int(rng.integers(0, 5)))
            ]
        )
        for _ in range(40)
    ]
    together = run(model, *records)
    assert together == [run(model, r)[0] for r in records]
