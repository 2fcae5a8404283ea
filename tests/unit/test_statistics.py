"""Statistics package checked against independent computations (numpy/scipy) on fixed inputs."""

import dataclasses
import json
import math

import numpy as np
import pytest
from scipy.spatial.distance import jensenshannon
from scipy.stats import entropy, median_abs_deviation, scoreatpercentile, tstd

from costsim_assets.statistics.divergence import DivergenceSummary, divergence_summary
from costsim_assets.statistics.drift import (
    DEFAULT_BINS,
    SMOOTHING,
    DriftResult,
    binned_distribution,
    drift_score,
    js_distance,
    kl_divergence,
    quantile_bin_edges,
)
from costsim_assets.statistics.outliers import (
    ROBUST_Z_THRESHOLD,
    ReferenceScale,
    outlier_mask,
    reference_scale,
    robust_z_scores,
)
from costsim_assets.statistics.percentiles import (
    MIN_SAMPLE_SIZE,
    PERCENTILE_METHOD,
    percentile,
)
from costsim_assets.statistics.validation_metrics import ValidationMetrics, validation_metrics

RNG_SEED = 20240601


@pytest.fixture
def rng() -> np.random.Generator:
    return np.random.default_rng(RNG_SEED)


@pytest.fixture
def costs(rng: np.random.Generator) -> np.ndarray:
    """500 right-skewed, cost-like values."""
    return rng.lognormal(mean=0.0, sigma=0.8, size=500)


def oracle_bins(reference: np.ndarray, current: np.ndarray, n_bins: int = DEFAULT_BINS):
    """Smoothed shared-bin probabilities rebuilt with np.quantile + np.histogram.

    np.histogram bins are [a, b) (the last one closed, irrelevant with a +inf edge),
    the same side as searchsorted(side="right").
    """
    levels = np.linspace(0, 1, n_bins + 1)[1:-1]
    edges = np.unique(np.quantile(reference, levels, method="linear"))
    bins = np.concatenate([[-np.inf], edges, [np.inf]])
    result = []
    for sample in (reference, current):
        counts, _ = np.histogram(sample, bins=bins)
        probabilities = counts / counts.sum() + SMOOTHING
        result.append(probabilities / probabilities.sum())
    return result


def oracle_robust_z(values: np.ndarray) -> np.ndarray:
    """Iglewicz-Hoaglin modified z from scipy's unscaled MAD."""
    return 0.6745 * (values - np.median(values)) / median_abs_deviation(values, scale=1.0)


def saturated_js(n_bins: int) -> float:
    """JS distance between equal-mass reference bins and a point mass in one outer bin."""
    return float(jensenshannon(np.full(n_bins, 1 / n_bins), np.eye(n_bins)[-1], base=2))


# --- percentiles -------------------------------------------------------------------------


def test_percentile_method_is_hyndman_fan_type_7() -> None:
    assert PERCENTILE_METHOD == "linear"
    assert MIN_SAMPLE_SIZE == 30


@pytest.mark.parametrize("q", [0.0, 1.0, 25.0, 50.0, 90.0, 99.5, 100.0])
def test_percentile_matches_numpy_and_scipy(costs: np.ndarray, q: float) -> None:
    result = percentile(costs, q)
    assert result == pytest.approx(np.percentile(costs, q, method="linear"), rel=1e-12)
    assert result == pytest.approx(scoreatpercentile(costs, q), rel=1e-12)


def test_percentile_hand_example_interpolates() -> None:
    assert percentile(np.array([1.0, 2.0, 3.0, 4.0]), 25) == pytest.approx(1.75)
    assert percentile(np.array([4.0, 1.0, 3.0, 2.0]), 90) == pytest.approx(3.7)
    assert percentile(np.array([1.0, 2.0, 4.0, 8.0]), 50) == 3.0


def test_percentile_no_data_is_nan_and_missing_values_ignored() -> None:
    assert math.isnan(percentile(np.array([]), 50))
    assert math.isnan(percentile(np.array([np.nan, np.inf]), 50))
    assert percentile(np.array([1.0, np.nan, 3.0, -np.inf]), 50) == 2.0


@pytest.mark.parametrize("q", [-0.1, 100.5, math.nan])
def test_percentile_rejects_q_outside_range(q: float) -> None:
    with pytest.raises(ValueError):
        percentile(np.array([1.0, 2.0]), q)


# --- outliers ----------------------------------------------------------------------------


def test_robust_z_matches_scipy_mad(costs: np.ndarray) -> None:
    z = robust_z_scores(costs)
    np.testing.assert_allclose(z, oracle_robust_z(costs), rtol=1e-12)
    normal_mad = median_abs_deviation(costs, scale="normal")
    np.testing.assert_allclose(z, (costs - np.median(costs)) / normal_mad, rtol=1e-4)


def test_robust_z_falls_back_to_mean_absolute_deviation_when_mad_is_zero() -> None:
    values = np.array([1.0, 1.0, 1.0, 1.0, 5.0])
    # median 1, MAD 0, meanAD = 4/5 = 0.8 -> z(5) = 4 / (1.253314 * 0.8)
    np.testing.assert_allclose(robust_z_scores(values), [0, 0, 0, 0, 3.989422], rtol=1e-6)
    assert outlier_mask(values).tolist() == [False, False, False, False, True]


def test_robust_z_constant_sample_is_all_zero() -> None:
    z = robust_z_scores(np.full(40, 7.5))
    assert np.array_equal(z, np.zeros(40))
    assert not outlier_mask(np.full(40, 7.5)).any()


def test_robust_z_zero_spread_gives_signed_infinity() -> None:
    # meanAD of two subnormal deviations over 41 values underflows to exactly 0.
    values = np.concatenate([np.zeros(39), [5e-324, -5e-324]])
    z = robust_z_scores(values)
    assert np.array_equal(z[:39], np.zeros(39))
    assert z[39] == np.inf and z[40] == -np.inf


def test_robust_z_nan_rows_stay_nan_and_do_not_move_the_centre(costs: np.ndarray) -> None:
    with_nan = np.insert(costs, [3, 100], np.nan)
    z = robust_z_scores(with_nan)
    assert np.isnan(z[[3, 101]]).all()
    np.testing.assert_allclose(np.delete(z, [3, 101]), robust_z_scores(costs), rtol=1e-12)
    assert not outlier_mask(with_nan)[[3, 101]].any()
    zero_spread = robust_z_scores(np.array([0.0, 0.0, np.nan, 0.0]))
    assert np.isnan(zero_spread[2]) and (zero_spread[[0, 1, 3]] == 0).all()


def test_robust_z_no_data() -> None:
    assert robust_z_scores(np.array([])).shape == (0,)
    assert np.isnan(robust_z_scores(np.array([np.nan, np.nan]))).all()


def test_outlier_mask_flags_planted_outliers(rng: np.random.Generator) -> None:
    values = np.concatenate([rng.normal(10.0, 1.0, size=200), [40.0, -25.0]])
    mask = outlier_mask(values)
    expected = np.abs(oracle_robust_z(values)) > ROBUST_Z_THRESHOLD
    assert np.array_equal(mask, expected)
    assert mask[-2:].all()
    assert outlier_mask(values, threshold=1e9).sum() == 0


# --- drift -------------------------------------------------------------------------------


def test_quantile_bin_edges_match_numpy_quantiles(costs: np.ndarray) -> None:
    expected = np.quantile(costs, np.arange(1, 10) / 10, method="linear")
    np.testing.assert_allclose(quantile_bin_edges(costs), expected, rtol=1e-12)
    assert np.array_equal(quantile_bin_edges(np.arange(9.0), n_bins=4), [2.0, 4.0, 6.0])
    assert quantile_bin_edges(costs, n_bins=1).size == 0


def test_quantile_bin_edges_collapse_ties() -> None:
    reference = np.repeat([1.0, 2.0], 50)
    assert np.array_equal(quantile_bin_edges(reference), [1.0, 1.5, 2.0])


def test_quantile_bin_edges_reject_bad_input() -> None:
    with pytest.raises(ValueError):
        quantile_bin_edges(np.arange(5.0), n_bins=0)
    with pytest.raises(ValueError):
        quantile_bin_edges(np.array([np.nan]))


def test_binned_distribution_matches_histogram(costs: np.ndarray, rng: np.random.Generator) -> None:
    edges = quantile_bin_edges(costs)
    current = rng.lognormal(0.3, 0.8, size=300)
    counts, _ = np.histogram(current, bins=np.concatenate([[-np.inf], edges, [np.inf]]))
    np.testing.assert_allclose(binned_distribution(current, edges), counts / 300, rtol=1e-12)


def test_binned_distribution_puts_edge_values_in_the_bin_above() -> None:
    values = np.array([0.0, 1.0, 2.0, 2.5, 3.0, np.nan])
    result = binned_distribution(values, np.array([1.0, 2.0, 3.0]))
    np.testing.assert_allclose(result, [0.2, 0.2, 0.4, 0.2])
    assert np.isnan(binned_distribution(np.array([]), np.array([1.0]))).all()


def test_kl_and_js_match_scipy(costs: np.ndarray, rng: np.random.Generator) -> None:
    current = rng.lognormal(0.3, 1.0, size=300)
    p, q = oracle_bins(costs, current)
    assert kl_divergence(costs, current) == pytest.approx(entropy(p, q), rel=1e-10)
    assert js_distance(costs, current) == pytest.approx(jensenshannon(p, q, base=2), rel=1e-10)
    p5, q5 = oracle_bins(costs, current, n_bins=5)
    assert kl_divergence(costs, current, n_bins=5) == pytest.approx(entropy(p5, q5), rel=1e-10)


def test_kl_is_reported_as_reference_to_current(costs: np.ndarray, rng: np.random.Generator) -> None:
    current = rng.normal(5.0, 0.1, size=300)
    p, q = oracle_bins(costs, current)
    assert kl_divergence(costs, current) == pytest.approx(entropy(p, q), rel=1e-10)
    assert kl_divergence(costs, current) != pytest.approx(kl_divergence(current, costs))


def test_identical_samples_give_exact_zero(costs: np.ndarray) -> None:
    assert kl_divergence(costs, costs.copy()) == 0.0
    assert js_distance(costs, costs.copy()) == 0.0
    result = drift_score(costs, costs.copy())
    assert (result.status, result.score, result.kl_divergence) == ("ok", 0.0, 0.0)


def test_js_distance_is_bounded_for_disjoint_samples(rng: np.random.Generator) -> None:
    reference = rng.normal(0.0, 1.0, size=400)
    current = rng.normal(1e6, 1.0, size=400)
    for n_bins in (1, 2, 10, 50):
        assert 0.0 <= js_distance(reference, current, n_bins=n_bins) <= 1.0
    # Disjoint: current lands wholly in the top bin, which still holds 1/n_bins of the
    # reference, so the score saturates below 1 (~0.87 at 10 bins, ~0.96 at 50).
    for n_bins in (10, 50):  # smoothing moves the value by ~n_bins * 1e-6
        score = js_distance(reference, current, n_bins=n_bins)
        assert score == pytest.approx(saturated_js(n_bins), rel=1e-3)
    assert js_distance(reference, current, n_bins=1) == 0.0
    result = drift_score(reference, current)
    assert 0.0 <= result.score <= 1.0 and result.kl_divergence > 5.0


def test_drift_ignores_missing_values(costs: np.ndarray, rng: np.random.Generator) -> None:
    current = rng.lognormal(0.2, 0.8, size=300)
    noisy_current = np.concatenate([current, [np.nan, np.inf]])
    noisy_reference = np.concatenate([[np.nan], costs])
    assert kl_divergence(noisy_reference, noisy_current) == kl_divergence(costs, current)
    result = drift_score(noisy_reference, noisy_current)
    assert (result.n_reference, result.n_current) == (500, 300)
    assert result.score == js_distance(costs, current)


def test_drift_no_data(costs: np.ndarray) -> None:
    assert math.isnan(kl_divergence(np.array([]), costs))
    assert math.isnan(js_distance(costs, np.array([np.nan])))
    short = drift_score(costs, costs[: MIN_SAMPLE_SIZE - 1])
    assert short.status == "no_data"
    assert math.isnan(short.score) and math.isnan(short.kl_divergence)
    assert (short.n_reference, short.n_current) == (500, MIN_SAMPLE_SIZE - 1)
    assert drift_score(costs[:MIN_SAMPLE_SIZE], costs).status == "ok"
    assert short.to_dict() == {
        "status": "no_data",
        "score": None,
        "kl_divergence": None,
        "n_reference": 500,
        "n_current": MIN_SAMPLE_SIZE - 1,
    }


def test_drift_result_is_frozen(costs: np.ndarray) -> None:
    result = drift_score(costs, costs)
    assert isinstance(result, DriftResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.score = 1.0  # type: ignore[misc]


# --- validation metrics ------------------------------------------------------------------


def test_validation_metrics_match_independent_computation(
    costs: np.ndarray, rng: np.random.Generator
) -> None:
    actual = costs
    predicted = actual * rng.normal(1.05, 0.1, size=actual.size)
    predicted[:5] += 20.0
    errors = predicted - actual
    scale = reference_scale(errors[5:] * 0.5)  # a reference where errors were half as large
    result = validation_metrics(predicted, actual, scale)
    p, q = oracle_bins(actual, predicted)
    mad = median_abs_deviation(errors[5:] * 0.5, scale="normal")
    expected_outliers = 100.0 * np.mean(np.abs(errors - np.median(errors[5:] * 0.5)) / mad > 3.5)
    assert result.status == "ok" and result.n == 500
    assert result.mean_error == pytest.approx(errors.sum() / 500, rel=1e-12)
    assert result.median_error == pytest.approx(scoreatpercentile(errors, 50), rel=1e-12)
    assert result.std_error == pytest.approx(tstd(errors), rel=1e-12)
    assert result.mean_abs_error == pytest.approx(np.abs(errors).sum() / 500, rel=1e-12)
    assert result.wape == pytest.approx(np.abs(errors).sum() / np.abs(actual).sum(), rel=1e-12)
    assert result.outlier_pct == pytest.approx(expected_outliers)
    assert result.outlier_pct >= 1.0
    assert result.drift_score == pytest.approx(jensenshannon(p, q, base=2), rel=1e-10)
    assert result.mean_predicted == pytest.approx(predicted.sum() / 500, rel=1e-12)
    assert result.mean_actual == pytest.approx(actual.sum() / 500, rel=1e-12)
    assert math.isnan(validation_metrics(predicted, actual).outlier_pct)  # never the sample's own spread


def test_validation_metrics_hand_example() -> None:
    actual = np.full(40, 10.0)
    predicted = np.concatenate([np.full(20, 11.0), np.full(20, 9.0)])
    result = validation_metrics(predicted, actual, ReferenceScale(0.0, 1.0))
    assert result.mean_error == 0.0
    assert result.mean_abs_error == 1.0
    assert result.wape == pytest.approx(40.0 / 400.0)
    assert result.std_error == pytest.approx(math.sqrt(40.0 / 39.0))
    assert result.outlier_pct == 0.0


def test_validation_metrics_perfect_prediction(costs: np.ndarray) -> None:
    result = validation_metrics(costs.copy(), costs, ReferenceScale(0.0, 1.0))
    assert (result.mean_abs_error, result.wape, result.drift_score, result.outlier_pct) == (
        0.0,
        0.0,
        0.0,
        0.0,
    )


def test_validation_metrics_drops_incomplete_pairs(costs: np.ndarray) -> None:
    predicted = costs * 1.1
    actual = costs.copy()
    predicted[[1, 7]] = np.nan
    actual[[7, 20, 30]] = [np.nan, np.nan, np.inf]
    keep = np.ones(500, dtype=bool)
    keep[[1, 7, 20, 30]] = False
    result = validation_metrics(predicted, actual)
    assert result == validation_metrics(predicted[keep], actual[keep])
    assert result.n == 496


def test_validation_metrics_no_data() -> None:
    values = np.arange(1.0, MIN_SAMPLE_SIZE + 1)
    values[0] = np.nan
    result = validation_metrics(values, values)
    assert result.status == "no_data" and result.n == MIN_SAMPLE_SIZE - 1
    floats = [f.name for f in dataclasses.fields(ValidationMetrics)][2:]
    assert all(math.isnan(getattr(result, name)) for name in floats)
    payload = result.to_dict()
    assert payload["n"] == MIN_SAMPLE_SIZE - 1
    assert all(payload[name] is None for name in floats)
    json.dumps(payload, allow_nan=False)
    assert validation_metrics(np.array([]), np.array([])).status == "no_data"


def test_validation_metrics_wape_undefined_when_actuals_sum_to_zero() -> None:
    predicted = np.linspace(-1.0, 1.0, 40)
    result = validation_metrics(predicted, np.zeros(40))
    assert result.status == "ok" and math.isnan(result.wape)
    payload = result.to_dict()
    assert payload["wape"] is None and isinstance(payload["mean_error"], float)
    json.dumps(payload, allow_nan=False)


def test_validation_metrics_rejects_shape_mismatch() -> None:
    with pytest.raises(ValueError, match="shape"):
        validation_metrics(np.ones(40), np.ones(39))


# --- divergence --------------------------------------------------------------------------


def test_divergence_v1_against_itself_is_zero(costs: np.ndarray) -> None:
    result = divergence_summary(costs, costs.copy())
    assert result.status == "ok"
    assert (result.n_pairs, result.n_evaluations) == (500, 500)
    assert (result.delta_p50, result.delta_p90, result.relative_median_shift) == (0.0, 0.0, 0.0)
    assert (result.kl_divergence, result.drift_score) == (0.0, 0.0)
    assert (result.outlier_count, result.outlier_pct) == (0, 0.0)
    assert (result.matching_rate, result.fail_ratio) == (1.0, 0.0)


def test_divergence_matches_independent_computation(costs: np.ndarray, rng: np.random.Generator) -> None:
    v1 = costs
    v2 = v1 * rng.normal(1.1, 0.08, size=v1.size)
    v2[:4] *= 10.0
    difference = v2 - v1
    p, q = oracle_bins(v1, v2)
    result = divergence_summary(v1, v2)
    p50_v1 = scoreatpercentile(v1, 50)
    p90_delta = np.percentile(v2, 90, method="linear") - np.percentile(v1, 90, method="linear")
    assert result.delta_p50 == pytest.approx(scoreatpercentile(v2, 50) - p50_v1, rel=1e-12)
    assert result.delta_p90 == pytest.approx(p90_delta, rel=1e-12)
    assert result.relative_median_shift == pytest.approx(result.delta_p50 / abs(p50_v1))
    assert result.kl_divergence == pytest.approx(entropy(p, q), rel=1e-10)
    assert result.drift_score == pytest.approx(jensenshannon(p, q, base=2), rel=1e-10)
    expected_outliers = int(np.sum(np.abs(oracle_robust_z(difference)) > 3.5))
    assert result.outlier_count == expected_outliers >= 4
    assert result.outlier_pct == pytest.approx(100.0 * expected_outliers / 500)
    tolerance = 0.01 + 0.05 * np.abs(v1)
    assert result.matching_rate == pytest.approx(np.mean(np.abs(difference) <= tolerance))
    assert 0.0 < result.matching_rate < 1.0


def test_divergence_hand_example_fail_ratio_and_matching_rate() -> None:
    v1 = np.full(40, 100.0)
    v2 = np.concatenate([np.full(20, 104.0), np.full(10, 94.0), np.full(5, 100.0), np.full(5, np.nan)])
    failed = np.zeros(40, dtype=bool)
    failed[30:35] = True  # V2 produced a number but reported failure: not a usable pair
    result = divergence_summary(v1, v2, failed=failed)
    assert (result.n_evaluations, result.n_pairs) == (40, 30)
    assert result.fail_ratio == 10 / 40
    assert result.matching_rate == pytest.approx(20 / 30)  # |4| <= 5.01, |-6| > 5.01
    assert result.delta_p50 == 4.0 and result.relative_median_shift == 0.04


def test_divergence_matching_tolerance_is_inclusive() -> None:
    v1 = np.full(30, 2.0)
    v2 = np.concatenate([np.full(15, 3.0), np.full(15, 3.5)])
    assert divergence_summary(v1, v2, rel_tol=0.5, abs_tol=0.0).matching_rate == 0.5
    assert divergence_summary(v1, v2, rel_tol=0.0, abs_tol=1.5).matching_rate == 1.0


def test_divergence_relative_shift_undefined_at_zero_median(rng: np.random.Generator) -> None:
    half = rng.uniform(1.0, 2.0, size=20)
    v1 = np.concatenate([-half, [0.0], half])
    result = divergence_summary(v1, v1 + 0.5)
    assert result.status == "ok" and math.isnan(result.relative_median_shift)
    assert result.delta_p50 == pytest.approx(0.5)


def test_divergence_no_data_still_reports_fail_ratio(costs: np.ndarray) -> None:
    v2 = costs[:40].copy()
    v2[:15] = np.nan
    result = divergence_summary(costs[:40], v2)
    assert (result.status, result.n_pairs, result.n_evaluations) == ("no_data", 25, 40)
    assert result.fail_ratio == 15 / 40
    assert result.outlier_count is None
    for name in (
        "delta_p50",
        "delta_p90",
        "relative_median_shift",
        "kl_divergence",
        "drift_score",
        "outlier_pct",
        "matching_rate",
    ):
        assert math.isnan(getattr(result, name))
    payload = result.to_dict()
    assert payload["fail_ratio"] == 0.375 and payload["drift_score"] is None
    json.dumps(payload, allow_nan=False)


def test_divergence_total_failure_and_empty_input(costs: np.ndarray) -> None:
    failed_everywhere = divergence_summary(costs, np.full(500, np.nan))
    assert failed_everywhere.status == "no_data" and failed_everywhere.fail_ratio == 1.0
    empty = divergence_summary(np.array([]), np.array([]))
    assert (empty.status, empty.n_evaluations) == ("no_data", 0)
    assert math.isnan(empty.fail_ratio)


def test_divergence_excludes_rows_where_v1_is_missing(costs: np.ndarray) -> None:
    v1 = costs.copy()
    v1[:10] = np.nan
    result = divergence_summary(v1, costs * 1.01)
    assert isinstance(result, DivergenceSummary)
    assert (result.n_pairs, result.n_evaluations, result.fail_ratio) == (490, 500, 0.0)


@pytest.mark.parametrize(
    ("v1", "v2", "failed", "tolerances"),
    [
        (np.ones(40), np.ones(39), None, {}),
        (np.ones(40), np.ones(40), np.zeros(39, dtype=bool), {}),
        (np.ones((40, 2)), np.ones((40, 2)), None, {}),
        (np.ones(40), np.ones(40), None, {"rel_tol": -0.1}),
        (np.ones(40), np.ones(40), None, {"abs_tol": -1.0}),
    ],
)
def test_divergence_rejects_bad_input(v1, v2, failed, tolerances) -> None:
    with pytest.raises(ValueError):
        divergence_summary(v1, v2, failed=failed, **tolerances)
