"""Time-ordered evaluation on the real code trace: interval coverage per fold and per segment."""

import numpy as np
import pytest

from costsim_assets.reference_data.historical import (
    HISTORICAL_MODEL,
    parse_trace,
    read_trace_bytes,
    train_rows,
)
from costsim_assets.simulator.prices import load_price_table
from costsim_assets.simulator.v2 import evaluate_v2
from costsim_assets.simulator.v2_model import load_v2_model
from costsim_assets.simulator.v2_priors import load_priors
from costsim_assets.training.folds import rolling_origin_folds
from costsim_assets.training.observations import trace_observations
from costsim_assets.validation.realized import observation_batch

TRACE = "../shared/data/azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv"


@pytest.fixture(scope="module")
def observations():
    return trace_observations(parse_trace(read_trace_bytes(TRACE)), HISTORICAL_MODEL)


@pytest.fixture(scope="module")
def folds(observations):
    return rolling_origin_folds(observations, prices=load_price_table(), priors=load_priors())


def test_folds_are_time_ordered_and_the_interval_covers_75_to_85_percent_on_each(folds):
    assert len(folds) >= 4
    for fold in folds:
        assert fold.train["last_ts"] <= fold.test["first_ts"]
        coverage = fold.performance.output_tokens.interval
        print(
            f"origin {fold.origin:.1f}: coverage {coverage.rate:.3f} [{coverage.ci_low:.3f}, "
            f"{coverage.ci_high:.3f}] on {coverage.n} calls"
        )
        assert 0.75 <= coverage.rate <= 0.85


def test_each_fold_reports_v2_beside_every_baseline(folds):
    for fold in folds:
        tokens, cost = fold.performance.output_tokens, fold.performance.cost
        assert set(tokens.baselines) == {"model_median", "global_median", "input_only"}
        assert set(cost.baselines) == {"model_median", "global_median", "input_only", "v1"}
        assert tokens.skill["global_median"].status == "ok"
        assert cost.model.mae < cost.baselines["v1"].mae / 10  # V1 charges >= 5 cents per call


def test_confidence_of_each_segment_matches_its_held_out_coverage_within_5_points(observations):
    """The packaged champion on the held-out 30 % (later in time than everything it was fitted on)."""
    model = load_v2_model()
    held_out = observations.iloc[train_rows(len(observations)) :]
    steps = evaluate_v2(observation_batch(held_out), model).steps
    actual = held_out["output_tokens"].to_numpy()
    inside = (actual >= steps.output_tokens["low"]) & (actual <= steps.output_tokens["high"])
    for segment in np.unique(steps.segment):
        rows = steps.segment == segment
        confidence, measured = steps.calibration["coverage"][rows][0], inside[rows].mean()
        print(f"{model.segments.names[segment]}: confidence {confidence:.3f}, held-out {measured:.3f}")
        assert abs(confidence - measured) <= 0.05
