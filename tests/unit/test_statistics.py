"""Statistics checked against independent scipy/numpy computations on fixed inputs."""

import numpy as np
import pytest
from scipy import stats
from scipy.spatial.distance import jensenshannon

from costsim_assets.statistics.drift import (
    SMOOTHING, drift_score, js_distance, kl_divergence, quantile_bin_edges,
)
from costsim_assets.statistics.outliers import outlier_mask, robust_z_scores
from costsim_assets.statistics.percentiles import percentile
from costsim_assets.statistics.validation_metrics import validation_metrics

RNG = np.random.default_rng(20261126)
REFERENCE = RNG.lognormal(1.0, 0.6, 400)
SHIFTED = RNG.lognormal(1.4, 0.6, 300)


def oracle_bins(reference, current):
    edges = np.percentile(reference, np.arange(10, 100, 10))
    edges = np.unique(edges)
    full = np.concatenate([[-np.inf], edges, [np.inf]])
    # np.histogram's bins are [a, b): the same "right" side as searchsorted(side='right')
    p = np.histogram(reference, full)[0] / len(reference) + SMOOTHING
    q = np.histogram(current, full)[0] / len(current) + SMOOTHING
    return p / p.sum(), q / q.sum()


def test_percentile_is_linear_interpolation():
    values = np.array([1.0, 2.0, 4.0, 8.0])
    assert percentile(values, 90) == pytest.approx(stats.scoreatpercentile(values, 90))
    assert percentile(values, 50) == 3.0
    assert np.isnan(percentile(np.array([]), 50))


def test_kl_matches_scipy_entropy_on_the_same_smoothed_bins():
    p, q = oracle_bins(REFERENCE, SHIFTED)
    assert kl_divergence(REFERENCE, SHIFTED) == pytest.approx(stats.entropy(p, q), rel=1e-9)
    assert kl_divergence(REFERENCE, SHIFTED) != pytest.approx(kl_divergence(SHIFTED, REFERENCE))


def test_js_distance_matches_scipy_and_is_bounded():
    p, q = oracle_bins(REFERENCE, SHIFTED)
    assert js_distance(REFERENCE, SHIFTED) == pytest.approx(jensenshannon(p, q, base=2), rel=1e-9)
    far_reference, far_current = np.arange(100.0), np.arange(100.0) + 1e6
    far = js_distance(far_reference, far_current)
    assert far == pytest.approx(jensenshannon(*oracle_bins(far_reference, far_current), base=2))
    assert 0.8 < far <= 1.0


def test_identical_samples_have_exactly_zero_drift():
    result = drift_score(REFERENCE, REFERENCE.copy())
    assert (result.status, result.score, result.kl_divergence) == ("ok", 0.0, 0.0)


def test_no_data_is_never_a_score():
    result = drift_score(REFERENCE, REFERENCE[:29])
    assert result.status == "no_data" and np.isnan(result.score)
    assert np.isnan(kl_divergence(np.array([]), REFERENCE)) and np.isnan(js_distance(REFERENCE, np.array([np.nan])))


def test_tied_reference_collapses_bins():
    assert quantile_bin_edges(np.array([1.0] * 50 + [2.0] * 50)).tolist() == [1.0, 1.5, 2.0]


def test_robust_z_matches_scipy_mad():
    values = np.array([1.0, 2.0, 2.5, 3.0, 3.5, 4.0, 40.0])
    mad = stats.median_abs_deviation(values)
    assert np.allclose(robust_z_scores(values), 0.6745 * (values - np.median(values)) / mad)
    assert outlier_mask(values).tolist() == [False] * 6 + [True]


def test_robust_z_fallbacks_when_mad_is_zero():
    values = np.array([5.0] * 6 + [6.0, 9.0])
    mean_ad = np.mean(np.abs(values - 5.0))
    assert np.allclose(robust_z_scores(values), (values - 5.0) / (1.253314 * mean_ad))
    flat = robust_z_scores(np.array([2.0, 2.0, 2.0]))
    assert flat.tolist() == [0.0, 0.0, 0.0]
    assert robust_z_scores(np.array([])).size == 0


def test_validation_metrics_against_direct_numpy():
    actual = RNG.gamma(2.0, 3.0, 200)
    predicted = actual * 1.1 + RNG.normal(0, 0.5, 200)
    errors = predicted - actual
    m = validation_metrics(predicted, actual)
    assert m.status == "ok" and m.n == 200
    assert m.mean_error == pytest.approx(errors.mean())
    assert m.median_error == pytest.approx(np.median(errors))
    assert m.std_error == pytest.approx(stats.tstd(errors))
    assert m.wape == pytest.approx(np.abs(errors).sum() / actual.sum())
    assert m.outlier_pct == pytest.approx(100 * np.mean(np.abs(0.6745 * (errors - np.median(errors))
                                                         / stats.median_abs_deviation(errors)) > 3.5))
    assert 0 <= m.drift_score <= 1


def test_validation_metrics_edge_cases():
    assert validation_metrics(np.ones(10), np.ones(10)).to_dict()["mean_error"] is None
    zero = validation_metrics(np.zeros(40), np.zeros(40))
    assert zero.wape is not None and np.isnan(zero.wape) and zero.to_dict()["wape"] is None
    with_nan = validation_metrics(np.r_[np.ones(40), np.nan], np.r_[np.ones(40), 1.0])
    assert with_nan.n == 40
    with pytest.raises(ValueError, match="shape mismatch"):
        validation_metrics(np.ones(3), np.ones(4))
