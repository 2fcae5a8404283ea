"""Calibration statistics against scipy, and the canary's judgement on a synthetic calibrated world."""

import math

import numpy as np
import pytest
import scipy.stats

from costsim_assets.canary.judgement import (
    P1,
    P2,
    JudgementConfig,
    ReferenceProfile,
    RequestOutcomes,
    Rule,
    StepForecasts,
    judge,
)
from costsim_assets.statistics.calibration import bias_test, category_shares, rate_test, total_variation
from costsim_assets.statistics.drift import drift_from_profile, drift_score, profile_of


def test_rate_test_is_the_poisson_binomial_z():
    rng = np.random.default_rng(3)
    p = rng.uniform(0.05, 0.6, 400)
    events = rng.random(400) < p * 1.1
    result = rate_test(events, p)
    reference = scipy.stats.poisson_binom(p)
    assert result.z == pytest.approx((events.sum() - reference.mean()) / math.sqrt(reference.var()))
    assert result.observed == pytest.approx(events.mean()) and result.expected == pytest.approx(p.mean())
    assert result.to_dict()["effect"] == pytest.approx(events.mean() - p.mean())


def test_rate_test_no_data_below_minimum_or_without_variance():
    assert rate_test(np.ones(29, dtype=bool), np.full(29, 0.5)).status == "no_data"
    assert rate_test(np.ones(100, dtype=bool), np.ones(100)).status == "no_data"
    assert math.isnan(rate_test(np.zeros(10, dtype=bool), np.full(10, 0.1)).z)
    with pytest.raises(ValueError):
        rate_test(np.zeros(3, dtype=bool), np.zeros(4))


def test_bias_test_is_a_paired_t_statistic():
    rng = np.random.default_rng(4)
    actual = rng.lognormal(3, 1, 500)
    predicted = actual * 0.9 + rng.normal(0, 2, 500)
    result = bias_test(predicted, actual)
    assert result.z == pytest.approx(scipy.stats.ttest_1samp(predicted - actual, 0.0).statistic)
    assert result.relative_bias == pytest.approx(predicted.sum() / actual.sum() - 1)
    whole = np.arange(1.0, 101.0)
    assert bias_test(whole + 1.0, whole).z == math.inf and bias_test(whole, whole).z == 0.0
    assert bias_test(actual[:10], actual[:10]).status == "no_data"


def test_total_variation_is_half_the_l1_distance_of_shares():
    a, b = category_shares(np.array(["x", "x", "y", "z"])), category_shares(np.array(["x", "y", "y", "y"]))
    assert a == {"x": 0.5, "y": 0.25, "z": 0.25}
    assert total_variation(a, b) == pytest.approx(0.5 * (0.25 + 0.5 + 0.25))
    assert total_variation(a, b) == total_variation(b, a)
    assert total_variation(a, a) == 0.0 and total_variation({"x": 1.0}, {"y": 1.0}) == 1.0
    assert math.isnan(total_variation({}, a))


def test_drift_from_a_stored_profile_equals_drift_from_the_rows():
    rng = np.random.default_rng(5)
    reference, current = rng.lognormal(size=800), rng.lognormal(0.3, size=600)
    assert drift_from_profile(profile_of(reference), current) == drift_score(reference, current)
    assert drift_from_profile(profile_of(reference), current[:10]).status == "no_data"


# A synthetic world where V2 is calibrated by construction: tokens come from one integer
# distribution; V2's quantiles and its event rates are measured on a large calibration draw.
def draw_tokens(rng, n, scale=1.0):
    return np.round(np.ceil(rng.lognormal(2.3, 1.0, n) + 5) * scale)


@pytest.fixture(scope="module")
def world():
    rng = np.random.default_rng(7)
    calibration = draw_tokens(rng, 200_000)
    low, p50, high = np.percentile(calibration, [10, 50, 90], method="lower")
    rates = {
        "above_p50": np.mean(calibration > p50),
        "above_high": np.mean(calibration > high),
        "below_low": np.mean(calibration < low),
        "coverage": np.mean((calibration >= low) & (calibration <= high)),
    }
    inputs = rng.lognormal(7, 1, 200_000)
    price_in, price_out = 0.00025, 0.001
    profile = ReferenceProfile(
        input_tokens=profile_of(inputs),
        output_tokens=profile_of(calibration),
        skills={"llm_invoke": 1.0},
        models={"gpt-4o": 1.0},
        median_cost=float(np.median(inputs * price_in + calibration * price_out)),
        nominal_coverage=float(rates["coverage"]),
    )
    return {
        "quantiles": (low, p50, high),
        "mean": calibration.mean(),
        "rates": rates,
        "profile": profile,
        "prices": (price_in, price_out),
    }


def day(world, rng, n=2000, output_scale=1.0, price_scale=1.0, prompt_scale=1.0):
    low, p50, high = world["quantiles"]
    price_in, price_out = world["prices"]
    actual = draw_tokens(rng, n, output_scale)
    inputs = rng.lognormal(7, 1, n) * prompt_scale
    full = np.full(n, 1.0)
    listed = inputs * price_in + actual * price_out
    steps = StepForecasts(
        actual_tokens=actual,
        input_tokens=inputs,
        model=np.full(n, "gpt-4o"),
        p50=full * p50,
        low=full * low,
        high=full * high,
        expected=full * world["mean"],
        rate_above_p50=full * world["rates"]["above_p50"],
        rate_above_high=full * world["rates"]["above_high"],
        rate_below_low=full * world["rates"]["below_low"],
        coverage=full * world["rates"]["coverage"],
        billed_cost=listed * price_scale,
    )
    requests = RequestOutcomes(
        predicted_cost=inputs * price_in + world["mean"] * price_out,
        billed_cost=listed * price_scale,
        list_cost=listed,
        predicted_latency=np.full(n, np.nan),
        actual_latency=np.full(n, np.nan),
        skills=np.full(n, "llm_invoke"),
    )
    return steps, requests


CONFIG = JudgementConfig(
    min_outcomes=300,
    calibration=Rule(z=4.0, margin=0.03),
    coverage=Rule(z=4.0, margin=0.05, direction="low"),
    output_bias=Rule(z=4.0, margin=0.15),
    cost_bias=Rule(z=4.0, margin=0.05),
    p2_median_shift=0.3,
    moved={
        "input_tokens_js": 0.1,
        "skill_mix_tv": 0.1,
        "model_mix_tv": 0.1,
        "output_tokens_js": 0.1,
        "price_ratio": 0.05,
        "latency_log_ratio": 0.2,
    },
)


def test_calibrated_days_raise_no_p1(world):
    rng = np.random.default_rng(11)
    outcomes = [judge(*day(world, rng), world["profile"], CONFIG)["checks"] for _ in range(300)]
    assert all(o[P1]["outcome"] == "pass" for o in outcomes)
    assert all(o[P1]["moved"] == [] for o in outcomes)
    assert max(o[P1]["value"] for o in outcomes) < CONFIG.calibration.z


def test_output_lengths_x13_trip_p1_and_name_output_lengths(world):
    result = judge(*day(world, np.random.default_rng(12), output_scale=1.3), world["profile"], CONFIG)
    p1 = result["checks"][P1]
    assert p1["outcome"] == "breach" and "above_median" in p1["detail"]
    assert p1["moved"] == ["output_lengths"]


def test_a_price_change_trips_cost_bias_and_names_prices(world):
    p1 = judge(*day(world, np.random.default_rng(13), price_scale=1.2), world["profile"], CONFIG)["checks"][
        P1
    ]
    assert p1["outcome"] == "breach" and "cost_bias" in p1["detail"] and "above_median" not in p1["detail"]
    assert p1["moved"] == ["prices"]


def test_longer_prompts_move_inputs_and_median_cost_but_v2_stays_trusted(world):
    checks = judge(*day(world, np.random.default_rng(14), prompt_scale=3.0), world["profile"], CONFIG)[
        "checks"
    ]
    assert checks[P1]["outcome"] == "pass" and checks[P1]["moved"] == ["inputs"]
    assert checks[P2]["outcome"] == "breach" and checks[P2]["value"] > 1.0


def test_too_few_outcomes_is_no_data_never_pass(world):
    checks = judge(*day(world, np.random.default_rng(15), n=100), world["profile"], CONFIG)["checks"]
    assert checks[P1]["outcome"] == "no_data" and checks[P1]["value"] is None
    assert "100 LLM steps" in checks[P1]["detail"]
