"""Fitting V2: split-conformal bounds, latency only from real latencies, no execution-model data."""

import subprocess
import sys

import numpy as np
import pandas as pd
import pytest

from costsim_assets.reference_data import execution_model
from costsim_assets.reference_data.historical import read_trace_bytes
from costsim_assets.simulator.prices import load_price_table
from costsim_assets.simulator.v2_fit import (
    QUANTILE_GRID,
    capped_mean,
    conformal_bounds,
    rows_for_tolerance,
    segment_statistics,
)
from costsim_assets.simulator.v2_model import artifact_text, packaged_artifact_path
from costsim_assets.simulator.v2_priors import load_priors
from costsim_assets.training.bootstrap import train_v2_artifact
from costsim_assets.training.fit import fit_v2_artifact
from costsim_assets.training.observations import ObservationError, prepare_observations

TRACE = "../shared/data/azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv"


def observations(n=4000, latency=False, seed=1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    tokens_in = rng.integers(1024, 4096, n).astype(float)
    tokens_out = np.maximum(6, np.round(rng.lognormal(np.log(13), 1.0, n)))
    measured = 300 + 0.05 * tokens_in + 20 * tokens_out + rng.normal(0, 20, n)
    return pd.DataFrame(
        {
            "ts": pd.Timestamp("2026-02-01", tz="UTC") + pd.to_timedelta(np.arange(n), unit="s"),
            "tenant_id": None,
            "model": "gpt-4o",
            "input_tokens": tokens_in,
            "output_tokens": tokens_out,
            "latency_ms": measured if latency else np.nan,
        }
    )


def fit(frame: pd.DataFrame) -> dict:
    return fit_v2_artifact(frame, prices=load_price_table(), priors=load_priors(), source={"test": 1})


def test_conformal_bounds_are_the_documented_order_statistics():
    sample = np.arange(1.0, 100.0)  # n = 99: ranks floor(100 * 0.1) = 10 and ceil(100 * 0.9) = 90
    assert conformal_bounds(sample, 0.8) == (10.0, 90.0)
    assert conformal_bounds(np.arange(1.0, 9.0), 0.5) == (2.0, 7.0)
    with pytest.raises(ValueError, match="cannot bound"):
        conformal_bounds(np.arange(5.0), 0.8)


@pytest.mark.parametrize("integers", [True, False])
def test_conformal_interval_covers_at_least_nominal_on_exchangeable_data(integers):
    """Many splits: the average miss on each side stays within a/2; without ties it is tight."""
    rng = np.random.default_rng(9)
    below, above = [], []
    for _ in range(300):
        data = rng.lognormal(np.log(13), 1.0, 700)
        data = np.maximum(6, np.round(data)) if integers else data
        low, high = conformal_bounds(data[:500], 0.8)
        below.append(np.mean(data[500:] < low))
        above.append(np.mean(data[500:] > high))
    assert np.mean(below) <= 0.1 + 0.005 and np.mean(above) <= 0.1 + 0.005
    if not integers:
        assert 1 - np.mean(below) - np.mean(above) == pytest.approx(0.8, abs=0.01)


def test_segment_statistics_measure_the_interval_on_the_calibration_window():
    fit_y, cal_y = np.array([5.0, 10, 15, 20, 25] * 10), np.arange(1.0, 100.0)
    stats = segment_statistics(fit_y, cal_y, 0.8)
    assert (stats["p50"], stats["mean"], stats["low"], stats["high"]) == (15.0, 15.0, 10.0, 90.0)
    assert stats["calibration"] == {
        "coverage": round(81 / 99, 6),
        "share_below_low": round(9 / 99, 6),
        "share_above_high": round(9 / 99, 6),
        "share_above_p50": round(84 / 99, 6),
    }


def test_capped_mean_matches_the_sample_it_summarises():
    rng = np.random.default_rng(2)
    sample = np.maximum(6, np.round(rng.lognormal(np.log(13), 1.0, 20000)))
    grid = np.percentile(sample, QUANTILE_GRID)[None, :]
    for cap in (8.0, 16.0, 64.0):
        expected = np.minimum(sample, cap).mean()
        assert capped_mean(grid, np.array([cap]))[0] == pytest.approx(expected, rel=0.02)


def test_minimum_segment_size_comes_from_the_confidence_tolerance():
    assert rows_for_tolerance(0.8, 0.05) == 492


def test_observations_are_checked_and_sorted_by_time():
    frame = observations(50)
    with pytest.raises(ObservationError, match="latency_ms"):
        prepare_observations(frame.drop(columns="latency_ms"))
    with pytest.raises(ObservationError, match="negative"):
        prepare_observations(frame.assign(output_tokens=-1.0))
    shuffled = prepare_observations(frame.sample(frac=1.0, random_state=3))
    assert shuffled["ts"].is_monotonic_increasing
    assert prepare_observations(frame.assign(tenant_id=""))["tenant_id"].isna().all()


def test_fit_is_deterministic_and_independent_of_row_order():
    frame = observations()
    assert artifact_text(fit(frame)) == artifact_text(fit(frame.sample(frac=1.0, random_state=5)))


def test_latency_is_fitted_only_from_real_latencies_and_then_marked_validated():
    prior = fit(observations())["llm_latency"]
    assert prior["validated"] is False and prior["coef"] == load_priors().llm_latency["coef"]
    fitted = fit(observations(latency=True))["llm_latency"]
    assert fitted["validated"] is True
    assert fitted["coef"] == pytest.approx([300, 0.05, 20], rel=0.05)
    low, high = fitted["interval_factors"]
    assert 0.9 < low < 1 < high < 1.1


def test_training_never_touches_the_execution_model(monkeypatch):
    """V2 is fitted on the real trace and documented priors only: an execution model that cannot run
    and whose constants change leaves the artifact byte-identical."""

    def refuse(*args, **kwargs):
        raise AssertionError("V2 training called the execution model")

    monkeypatch.setattr(execution_model, "execute", refuse)
    for name in dir(execution_model):
        if name.isupper() and isinstance(getattr(execution_model, name), float):
            monkeypatch.setattr(execution_model, name, getattr(execution_model, name) * 3 + 1)
    refit = train_v2_artifact(read_trace_bytes(TRACE), load_price_table())
    assert artifact_text(refit) == packaged_artifact_path().read_text()


def test_training_modules_do_not_import_the_execution_model():
    script = (
        "import sys\n"
        "from costsim_assets.training import bootstrap, fit, observations\n"
        "from costsim_assets.simulator import v2, v2_fit, v2_model\n"
        "assert not [m for m in sys.modules if m.startswith('costsim_assets.reference_data.execution')], "
        "sorted(sys.modules)\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, cwd=".")
