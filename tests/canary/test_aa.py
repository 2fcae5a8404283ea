"""A/A and named shifts through the canary's judgement, on the real trace with the real V2: 1,000
days of unchanged traffic trip nothing; output lengths x1.3 alone trip P1 and name output lengths;
V1 against V1 is exactly zero. (benchmarks/aa_thresholds.py runs 10,000 days for the figures.)"""

import numpy as np
import pytest

from costsim_assets.canary.analysis import CanaryDay, analyze
from costsim_assets.canary.config import load_canary_config
from costsim_assets.canary.judgement import P1, P2
from costsim_assets.canary.simulated_days import AA, NAMED_SHIFTS, DaySimulator, judge_days, trace_pool
from costsim_assets.reference_data.historical import HISTORICAL_MODEL, parse_trace, read_trace_bytes
from costsim_assets.sandbox.evaluation import evaluate_v1_plans
from costsim_assets.simulator.plan_schema import validate_plan
from costsim_assets.simulator.v2_model import load_v2_model

TRACE = "../shared/data/azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv"
SIZE = 1000  # the judgement's minimum: the noisiest day the canary judges


@pytest.fixture(scope="module")
def simulator() -> DaySimulator:
    trace = parse_trace(read_trace_bytes(TRACE))
    pool = trace_pool(
        trace["ContextTokens"].to_numpy(), trace["GeneratedTokens"].to_numpy(), HISTORICAL_MODEL
    )
    return DaySimulator(*pool, load_v2_model())


def fired(results: list[dict], check: str) -> int:
    return sum(r["checks"][check]["outcome"] == "breach" for r in results)


def test_a_thousand_unchanged_days_trip_nothing(simulator):
    config = load_canary_config().judgement
    days = judge_days(simulator, config, SIZE, 1000, AA, seed=7)
    assert (fired(days, P1), fired(days, P2)) == (0, 0)
    assert all(day["statistics"]["moved"] == [] for day in days)


def test_output_lengths_alone_x13_trip_p1_on_the_day_and_name_output_lengths(simulator):
    config = load_canary_config().judgement
    [shift] = [s for s in NAMED_SHIFTS if s.output_scale == 1.3]
    days = judge_days(simulator, config, SIZE, 50, shift, seed=8)
    assert fired(days, P1) == 50 and fired(days, P2) == 0
    assert all(day["checks"][P1]["moved"] == ["output_lengths"] for day in days)
    assert all("above_median" in day["checks"][P1]["detail"] for day in days)


@pytest.mark.parametrize("shift", NAMED_SHIFTS, ids=lambda s: s.name)
def test_each_named_shift_is_named(simulator, shift):
    config = load_canary_config().judgement
    [day] = judge_days(simulator, config, 2000, 1, shift, seed=9)
    expected = {1.3: ["output_lengths"], 2.0: ["output_lengths"]}.get(shift.output_scale)
    if shift.prompt_scale != 1 or shift.other_skill_share:
        expected = ["inputs"]
    if shift.price_scale != 1:
        expected = ["prices"]
    assert day["statistics"]["moved"] == expected
    v2_still_right = shift.prompt_scale != 1 or shift.other_skill_share
    assert day["checks"][P1]["outcome"] == ("pass" if v2_still_right else "breach")


def test_v1_against_v1_is_exactly_zero(simulator):
    plans = [validate_plan(text) for text in simulator.sample["plan_json"].head(500)]
    results = evaluate_v1_plans(plans)
    costs = np.array([r.cost_cents for r in results])
    hashes = np.array([r.output_hash for r in results])
    n = len(results)
    day = CanaryDay(
        v2_status=np.full(n, "ok"),
        v1_stored_hash=hashes,
        v2_stored_hash=hashes,
        v1_rerun_hash=hashes,
        v2_rerun_hash=hashes,
        v1_cost=costs,
        v2_cost=costs,
        v1_runtime_ms=np.zeros(n),
        v2_runtime_ms=np.zeros(n),
        reference_v1_cost=costs,
        reference_v2_cost=costs,
    )
    stats = analyze(day, load_canary_config())
    pairwise = stats["pairwise"]
    assert stats["v2_vs_v1_drift"] == 0.0 and stats["v2_vs_v1_kl_divergence"] == 0.0
    assert (pairwise["delta_p50"], pairwise["delta_p90"], pairwise["outlier_count"]) == (0.0, 0.0, 0)
    assert pairwise["matching_rate"] == 1.0 and stats["noise_floor"]["v1_rerun_hash_match_rate"] == 1.0
