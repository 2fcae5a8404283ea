"""Canary core: stratified seeded sampling, statistics and the V1-vs-V1 noise floor."""

import numpy as np
import pandas as pd
import pytest

from costsim_assets.canary.analysis import (
    CanaryDay,
    analyze,
    canary_statistics,
    log_ratio,
    relative_median_shift,
)
from costsim_assets.canary.checks import CHECKS
from costsim_assets.canary.config import load_canary_config
from costsim_assets.canary.judgement import P1, P2
from costsim_assets.canary.sampling import partition_seed, stratified_sample, stratum_sizes


def frame(n: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "id": [f"r{i}" for i in range(n)],
            "created_at": pd.date_range("2026-11-25", periods=n, freq="s"),
            "tenant_id": rng.choice(["a", "b", "c"], n, p=[0.6, 0.3, 0.1]),
        }
    )


def test_stratified_sample_keeps_tenant_shares_and_is_seeded():
    data = frame(5000)
    first = stratified_sample(data, 1000, partition_seed("2026-11-25"))
    again = stratified_sample(data, 1000, partition_seed("2026-11-25"))
    other = stratified_sample(data, 1000, partition_seed("2026-11-26"))
    assert len(first) == 1000 and first["id"].tolist() == again["id"].tolist()
    assert first["id"].tolist() != other["id"].tolist()
    expected = data["tenant_id"].value_counts() / len(data) * 1000
    assert (first["tenant_id"].value_counts() - expected).abs().max() < 1
    assert len(stratified_sample(data.head(10), 1000, 1)) == 10


def test_largest_remainder_allocation_sums_exactly():
    sizes = stratum_sizes(pd.Series({"a": 1, "b": 1, "c": 1}), 10)
    assert sizes.sum() == 10 and sorted(sizes.tolist()) == [3, 3, 4]


def day(v1, v2, status=None, ref_v1=None, ref_v2=None) -> CanaryDay:
    n = len(v1)
    hashes = np.array([f"h{i}" for i in range(n)])
    return CanaryDay(
        v2_status=np.array(status or ["ok"] * n),
        v1_stored_hash=hashes,
        v2_stored_hash=hashes,
        v1_rerun_hash=hashes,
        v2_rerun_hash=hashes,
        v1_cost=np.asarray(v1, float),
        v2_cost=np.asarray(v2, float),
        v1_runtime_ms=np.full(n, 0.2),
        v2_runtime_ms=np.full(n, 3.0),
        reference_v1_cost=np.asarray(v1 if ref_v1 is None else ref_v1, float),
        reference_v2_cost=np.asarray(v2 if ref_v2 is None else ref_v2, float),
    )


def test_v1_against_itself_is_zero_everywhere():
    costs = np.random.default_rng(1).gamma(2, 3, 500)
    stats = analyze(day(costs, costs), load_canary_config())
    assert stats["v2_vs_v1_drift"] == 0.0 and stats["v2_vs_v1_kl_divergence"] == 0.0
    assert stats["v2_estimate_median_shift"] == 0.0
    pairwise = stats["pairwise"]
    assert (pairwise["delta_p50"], pairwise["delta_p90"], pairwise["matching_rate"]) == (0.0, 0.0, 1.0)
    assert stats["noise_floor"] == {"v1_rerun_hash_match_rate": 1.0, "v2_rerun_hash_match_rate": 1.0}


def test_a_shifted_v2_is_context_drift_and_median_shift():
    rng = np.random.default_rng(2)
    v1 = rng.gamma(2, 3, 800)
    reference_v2 = v1 * 0.1
    stats = analyze(day(v1, v1 * 0.3, ref_v1=v1, ref_v2=reference_v2), load_canary_config())
    assert stats["v2_vs_v1_drift"] > 0.5 and stats["v2_estimate_median_shift"] == pytest.approx(2.0)
    assert "checks" not in stats  # context, never a check: P1 and P2 judge realized outcomes


def test_schema_errors_and_failures_are_ratios_of_all_evaluations():
    v = np.ones(100)
    status = ["schema_error"] * 10 + ["error"] * 9 + ["ok"] * 81
    stats = analyze(day(v, v, status=status), load_canary_config())
    assert stats["schema_error_ratio"] == pytest.approx(0.1)
    assert stats["fail_ratio"] == pytest.approx(9 / 90)
    histogram = stats["runtime_histogram"]
    assert sum(histogram["v1"]["counts"]) == 100 and histogram["v2"]["sum"] == pytest.approx(300.0)


def test_too_little_data_is_no_data():
    stats = analyze(day(np.ones(5), np.ones(5)), load_canary_config())
    assert stats["status"] == "no_data" and np.isnan(stats["v2_vs_v1_drift"])
    assert np.isnan(relative_median_shift(np.ones(5), np.ones(50)))
    assert np.isnan(relative_median_shift(np.zeros(50), np.ones(50)))
    assert log_ratio(np.zeros(1), np.zeros(1), 0.01)[0] == 0.0


def test_every_check_of_the_table_gets_value_threshold_outcome_detail_moved_evidence():
    rng = np.random.default_rng(3)
    v1 = rng.gamma(2, 3, 800)
    status = ["schema_error"] * 80 + ["ok"] * 720
    judged = {"checks": {name: {"outcome": "pass"} for name in (P1, P2)}, "statistics": {"moved": []}}
    stats = canary_statistics(day(v1, v1, status=status), judged, load_canary_config())
    assert list(stats["checks"]) == [check.name for check in CHECKS]
    p3 = stats["checks"]["schema_errors_p3"]
    assert (p3["outcome"], p3["value"], p3["threshold"], p3["moved"]) == (
        "breach",
        pytest.approx(0.1),
        0.05,
        [],
    )
    assert p3["detail"] == "schema-error ratio 0.1 > threshold 0.05" and p3["evidence"]["evaluations"] == 800
    assert stats["realized"] == judged["statistics"]


def test_too_little_data_is_no_data_for_p3():
    judged = {"checks": {}, "statistics": {}}
    p3 = canary_statistics(day(np.ones(0), np.ones(0)), judged, load_canary_config())["checks"][
        "schema_errors_p3"
    ]
    assert p3["outcome"] == "no_data" and p3["value"] is None


def test_per_tenant_drift_thresholds_come_from_the_tenants_file(tmp_path):
    tenants = tmp_path / "tenants.yaml"  # the shape the Helm chart renders
    tenants.write_text(
        "defaults: {drift: {warn: 0.3, fail: 0.5}, rateLimit: {requestsPerSecond: 50, burst: 100}}\n"
        "tenants:\n"
        "  tenant-b: {drift: {warn: 0.2, fail: 0.35}, rateLimit: {requestsPerSecond: 50, burst: 100}}\n"
    )
    config = load_canary_config(tenants_file=tenants)
    assert (config.drift_thresholds("tenant-b").warn, config.drift_thresholds("tenant-b").fail) == (0.2, 0.35)
    assert config.drift_thresholds("tenant-z").fail == 0.5
    assert load_canary_config().drift_thresholds("tenant-b") is None
