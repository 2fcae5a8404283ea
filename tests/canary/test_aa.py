"""A/A: unchanged traffic on many days with different seeds must trip no check (false alarms)."""

from datetime import date, timedelta

import numpy as np
import pytest

from costsim_assets.canary.analysis import CanaryDay, analyze
from costsim_assets.canary.config import load_canary_config
from costsim_assets.canary.rerun import rerun_sample
from costsim_assets.reference_data.build import finish_historical
from costsim_assets.reference_data.historical import (
    anonymize,
    historical_records,
    parse_trace,
    read_trace_bytes,
)
from costsim_assets.sandbox.evaluation import V2Evaluator
from costsim_assets.sandbox.replay import day_sample
from costsim_assets.simulator.prices import load_price_table
from costsim_assets.simulator.v2_model import load_v2_model
from costsim_assets.validation.evaluate import simulate

TRACE = "../shared/data/azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv"
DAYS = 20


@pytest.fixture(scope="module")
def historical():
    trace = parse_trace(read_trace_bytes(TRACE))
    return finish_historical(historical_records(anonymize(trace, "aa"), load_price_table()))


def day_statistics(historical, model, reference, day: date, salt: str, prompt_scale: float = 1.0) -> dict:
    config = load_canary_config()
    sample = day_sample(historical[["plan_json", "tenant_id"]], day, config.sample_size, salt, prompt_scale)
    v1, v2 = rerun_sample(sample, V2Evaluator(model))
    n = len(sample)
    hashes = np.array([r.output_hash for r in v1]), np.array([r.output_hash for r in v2])
    canary = CanaryDay(
        v2_status=np.array(["ok"] * n),
        v1_stored_hash=hashes[0],
        v2_stored_hash=hashes[1],
        v1_rerun_hash=hashes[0],
        v2_rerun_hash=hashes[1],
        v1_cost=np.array([r.cost_cents for r in v1]),
        v2_cost=np.array([r.cost_cents for r in v2]),
        v1_runtime_ms=np.zeros(n),
        v2_runtime_ms=np.zeros(n),
        reference_v1_cost=reference[0],
        reference_v2_cost=reference[1],
    )
    return analyze(canary, config)


def test_unchanged_traffic_raises_no_false_alarms(historical):
    model, config = load_v2_model(), load_canary_config()
    reference = (
        simulate(historical, "v1")["cost_cents"].to_numpy(),
        simulate(historical, "v2", model)["cost_cents"].to_numpy(),
    )
    alarms, drift, shift = 0, [], []
    for offset in range(DAYS):
        stats = day_statistics(
            historical, model, reference, date(2026, 10, 1) + timedelta(days=offset), f"aa-{offset}"
        )
        drift.append(stats["drift_score"])
        shift.append(stats["median_shift"])
        alarms += (stats["drift_score"] > config.p1_drift_score) + (
            stats["median_shift"] > config.p2_median_shift
        )
    print(
        f"A/A over {DAYS} days: false alarms {alarms}; drift max {max(drift):.4f} "
        f"mean {np.mean(drift):.4f}; median shift max {max(shift):.4f}"
    )
    assert alarms == 0
    assert max(drift) < config.p1_drift_score / 2  # a comfortable margin, not a near miss
    shifted = day_statistics(historical, model, reference, date(2026, 10, 1), "aa-0", prompt_scale=6.0)
    assert shifted["drift_score"] > config.p1_drift_score and shifted["median_shift"] > config.p2_median_shift
    print(
        f"shifted (prompts x6): drift {shifted['drift_score']:.4f}, "
        f"median shift {shifted['median_shift']:.4f}"
    )
