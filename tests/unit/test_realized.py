"""Realized-performance metrics checked against scipy and hand computations on fixed inputs."""

import math

import numpy as np
import pytest
from scipy.stats import binomtest, median_abs_deviation, norm

from costsim_assets.statistics.outliers import (
    ReferenceScale,
    fixed_scale_outlier_pct,
    outlier_mask,
    reference_scale,
)
from costsim_assets.statistics.realized import (
    Forecasts,
    interval_coverage,
    point_score,
    realized_performance,
    skill_score,
    wilson_interval,
)


@pytest.fixture
def tokens() -> np.ndarray:
    """Trace-like integer output lengths: heavy right tail, many ties at the minimum."""
    rng = np.random.default_rng(11)
    return np.maximum(6, np.round(rng.lognormal(np.log(13), 1.0, 2000)))


@pytest.mark.parametrize(("k", "n"), [(0, 40), (17, 40), (40, 40), (812, 1000), (3, 31)])
@pytest.mark.parametrize("confidence", [0.9, 0.95])
def test_wilson_interval_matches_scipy(k, n, confidence):
    expected = binomtest(k, n).proportion_ci(confidence_level=confidence, method="wilson")
    assert wilson_interval(k, n, confidence) == pytest.approx((expected.low, expected.high), abs=1e-12)


def test_point_score_scores_median_for_mae_and_mean_for_bias():
    actual = np.arange(1.0, 41.0)
    score = point_score(actual, np.full(40, 20.0), np.full(40, 22.0))
    assert score.mae == pytest.approx(np.mean(np.abs(20 - actual)))
    assert score.wape == pytest.approx(np.sum(np.abs(20 - actual)) / actual.sum())
    assert score.bias == pytest.approx(22 - actual.mean())
    alone = point_score(actual, np.full(40, 20.0))
    assert alone.bias == pytest.approx(20 - actual.mean())


def test_point_score_drops_incomplete_rows_and_says_no_data():
    actual = np.arange(50.0)
    median = actual.copy()
    median[:25] = np.nan
    score = point_score(actual, median)
    assert score.n == 25 and score.status == "no_data" and math.isnan(score.mae)
    with pytest.raises(ValueError, match="shape mismatch"):
        point_score(np.ones(40), np.ones(39))


def test_interval_coverage_counts_inclusive_bounds_and_misses(tokens):
    low, high = np.full(tokens.size, 7.0), np.full(tokens.size, 55.0)
    score = interval_coverage(tokens, low, high, nominal=0.8)
    covered = int(((tokens >= 7) & (tokens <= 55)).sum())
    assert score.covered == covered and score.rate == covered / tokens.size
    assert score.share_below == np.mean(tokens < 7) and score.share_above == np.mean(tokens > 55)
    expected = binomtest(covered, tokens.size).proportion_ci(0.95, method="wilson")
    assert (score.ci_low, score.ci_high) == pytest.approx((expected.low, expected.high))
    assert interval_coverage(tokens[:10], low[:10], high[:10], 0.8).status == "no_data"


def test_skill_and_its_paired_lower_bound(tokens):
    rng = np.random.default_rng(5)
    model = tokens + rng.normal(0, 3, tokens.size)
    baseline = np.full(tokens.size, np.median(tokens))
    score = skill_score(tokens, model, baseline)
    d = np.abs(baseline - tokens) - np.abs(model - tokens)
    bound = d.mean() - norm.ppf(0.95) * d.std(ddof=1) / np.sqrt(d.size)
    assert score.skill == pytest.approx(1 - np.abs(model - tokens).mean() / np.abs(baseline - tokens).mean())
    assert score.lower_bound == pytest.approx(bound / np.abs(baseline - tokens).mean())
    assert score.demonstrated
    against_itself = skill_score(tokens, baseline, baseline)
    assert against_itself.skill == 0 and not against_itself.demonstrated


def test_skill_no_data_and_perfect_baseline():
    assert not skill_score(np.ones(5), np.ones(5), np.ones(5)).demonstrated
    perfect = skill_score(np.ones(40), np.zeros(40), np.ones(40))
    assert math.isnan(perfect.skill) and not perfect.demonstrated


def test_reference_scale_matches_scipy_mad(tokens):
    scale = reference_scale(tokens)
    assert scale.center == np.median(tokens)
    assert scale.scale == pytest.approx(median_abs_deviation(tokens, scale="normal"), rel=1e-4)
    assert math.isnan(reference_scale(np.array([np.nan])).scale)
    assert math.isnan(reference_scale(np.ones(10)).scale)
    assert reference_scale(np.array([1.0] * 9 + [2.0])).scale > 0  # mean-AD fallback
    assert ReferenceScale.from_dict(scale.to_dict()) == scale


def test_fixed_scale_outliers_rise_under_systematic_failure_while_own_scale_hides_it(tokens):
    """Errors three times larger everywhere: the day's own MAD grows with them, the reference does not."""
    reference_errors = tokens - np.median(tokens)
    scale = reference_scale(reference_errors)
    failing = 3 * tokens - np.median(tokens)
    before = fixed_scale_outlier_pct(reference_errors, scale)
    after = fixed_scale_outlier_pct(failing, scale)
    own_before, own_after = (100 * outlier_mask(e).mean() for e in (reference_errors, failing))
    assert after > 2 * before
    assert own_after < own_before + 5  # the day's own spread hides the failure
    assert math.isnan(fixed_scale_outlier_pct(np.array([]), scale))


def test_realized_performance_reports_each_component_beside_baselines(tokens):
    n = tokens.size
    rng = np.random.default_rng(2)
    price = 0.001
    token_forecasts = Forecasts(
        actual=tokens,
        median=np.full(n, 13.0),
        mean=np.full(n, tokens.mean()),
        low=np.full(n, 7.0),
        high=np.full(n, 55.0),
        baselines={"global_median": np.full(n, 13.0), "input_only": np.zeros(n)},
    )
    input_cost = rng.uniform(0.1, 1.0, n)
    cost_forecasts = Forecasts(
        actual=input_cost + tokens * price,
        median=input_cost + 13 * price,
        mean=input_cost + tokens.mean() * price,
        baselines={"input_only": input_cost, "v1": np.full(n, 5.0)},
    )
    result = realized_performance(token_forecasts, cost_forecasts, 0.8, reference_scale(tokens - 13))
    doc = result.to_dict()
    assert doc["output_tokens"]["best_baseline"] == "global_median"
    assert doc["output_tokens"]["skill"]["global_median"]["skill"] == 0
    assert doc["output_tokens"]["skill"]["input_only"]["demonstrated"] is True
    assert doc["cost"]["interval"] is None and doc["cost"]["outlier_pct"] is None
    assert doc["cost"]["best_baseline"] == "input_only"
    assert doc["output_tokens"]["interval"]["rate"] == pytest.approx(np.mean((tokens >= 7) & (tokens <= 55)))
    assert 0 < doc["output_tokens"]["outlier_pct"] < 30
