"""Verdict rules: thresholds from config, reasons for each metric, no data is never a pass."""

import pytest

from costsim_assets.validation.thresholds import load_thresholds
from costsim_assets.validation.verdict import Verdict, dataset_verdict, overall_verdict, v2_beats_v1


def metrics(
    cost_wape=0.05, duration_wape=0.3, drift=0.1, outliers=1.0, coverage=0.8, schema=0.0, status="ok"
) -> dict:
    return {
        "evaluated": 100,
        "schema_error_pct": schema,
        "interval_coverage": coverage,
        "cost": {"wape": cost_wape, "drift_score": drift, "outlier_pct": outliers, "mean_abs_error": 1.0},
        "duration": {"wape": duration_wape, "status": status},
    }


@pytest.fixture(scope="module")
def thresholds():
    return load_thresholds()


def test_pass_warn_fail(thresholds):
    assert dataset_verdict(metrics(), thresholds).verdict == "pass"
    warn = dataset_verdict(metrics(cost_wape=0.2), thresholds)
    assert warn.verdict == "warn" and "cost_wape 0.2 > warn threshold 0.15" in warn.reasons
    assert dataset_verdict(metrics(cost_wape=0.2, schema=30), thresholds).verdict == "fail"
    assert dataset_verdict(metrics(coverage=0.5), thresholds).verdict == "fail"


def test_not_applicable_metrics_are_said_not_scored(thresholds):
    verdict = dataset_verdict(metrics(cost_wape=None, coverage=None), thresholds)
    assert verdict.verdict == "pass"
    assert "cost_wape not applicable" in verdict.reasons and "cost_wape" not in verdict.checked


def test_no_data_is_not_a_pass(thresholds):
    assert dataset_verdict(metrics(status="no_data"), thresholds).verdict == "no_data"


def test_thresholds_come_from_a_file(tmp_path, thresholds):
    custom = tmp_path / "t.yaml"
    custom.write_text("metrics:\n  cost_wape: {warn: 0.01, fail: 0.02}\nnominal_interval_coverage: 0.9\n")
    loaded = load_thresholds(custom)
    assert loaded.bands["cost_wape"].fail == 0.02 and loaded.nominal_interval_coverage == 0.9
    assert thresholds.bands["cost_wape"].warn == 0.15


def test_overall_requires_v2_to_beat_v1_on_real_traffic():
    passing = {n: Verdict("pass") for n in ("a", "b")}
    better = {"v1": {"cost": {"mean_abs_error": 5.0}}, "v2": {"cost": {"mean_abs_error": 1.0}}}
    worse = {"v1": {"cost": {"mean_abs_error": 1.0}}, "v2": {"cost": {"mean_abs_error": 5.0}}}
    assert overall_verdict(passing, better, ("a", "b")).verdict == "pass"
    failed = overall_verdict(passing, worse, ("a", "b"))
    assert failed.verdict == "fail" and any("NOT lower" in r for r in failed.reasons)
    missing = overall_verdict({"a": Verdict("pass")}, better, ("a", "b"))
    assert missing.verdict == "no_data" and "b: no verdict (not materialized)" in missing.reasons
    assert v2_beats_v1({})[0] is None
