"""Verdict rules: thresholds from config, output tokens graded apart from cost, duration never graded,
no data is never a pass, and M6 needs V2 to beat the best naive baseline on real traffic."""

import pytest

from costsim_assets.validation.thresholds import load_thresholds
from costsim_assets.validation.verdict import (
    Verdict,
    beats_best_naive_baseline,
    dataset_verdict,
    overall_verdict,
)


def tokens(rate=0.8, lower_bound=0.05, skill=0.1, outliers=14.0, n=1000, status="ok") -> dict:
    return {
        "status": status,
        "n": n,
        "mae": 16.2,
        "interval": {"rate": rate},
        "outlier_pct": outliers,
        "best_baseline": "global_median",
        "baselines": {"global_median": {"mae": 18.0}},
        "skill": {
            "global_median": {"skill": skill, "lower_bound": lower_bound, "demonstrated": lower_bound > 0}
        },
    }


def metrics(token_metrics=None, cost_wape=0.05, cost_rate=0.8, drift=0.1, schema=0.0, evaluated=100) -> dict:
    return {
        "evaluated": evaluated,
        "schema_error_pct": schema,
        "output_tokens": token_metrics,
        "cost": {
            "status": "ok",
            "n": evaluated,
            "wape": cost_wape,
            "interval": {"rate": cost_rate},
            "errors": {"drift_score": drift},
        },
        "duration": {"status": "ok", "wape": 3.0, "truth": "modelled"},
    }


@pytest.fixture(scope="module")
def thresholds():
    return load_thresholds()


def test_pass_warn_fail(thresholds):
    assert dataset_verdict(metrics(tokens()), thresholds).verdict == "pass"
    warn = dataset_verdict(metrics(tokens(), cost_wape=0.2), thresholds)
    assert warn.verdict == "warn" and "cost_wape 0.2 > warn threshold 0.15" in warn.reasons
    assert dataset_verdict(metrics(tokens(), schema=30), thresholds).verdict == "fail"
    assert dataset_verdict(metrics(tokens(rate=0.65)), thresholds).verdict == "fail"
    assert dataset_verdict(metrics(tokens(outliers=25.0)), thresholds).verdict == "warn"


def test_no_skill_over_the_best_naive_baseline_is_said_and_graded(thresholds):
    verdict = dataset_verdict(metrics(tokens(lower_bound=0.0, skill=0.0)), thresholds)
    assert verdict.verdict == "warn"
    assert (
        "output_token_skill 0 <= warn threshold 0 (V2 MAE 16.20 vs global_median 18.00 tokens)"
        in verdict.reasons
    )
    worse = dataset_verdict(metrics(tokens(lower_bound=-0.2, skill=-0.1)), thresholds)
    assert worse.verdict == "fail"


def test_not_applicable_metrics_are_said_not_scored(thresholds):
    verdict = dataset_verdict(metrics(None, cost_wape=None), thresholds)
    assert verdict.verdict == "pass"
    assert "cost_wape not applicable" in verdict.reasons and "cost_wape" not in verdict.checked
    assert "output_token_coverage_gap not applicable" in verdict.reasons


def test_duration_is_described_never_graded(thresholds):
    verdict = dataset_verdict(metrics(tokens()), thresholds)
    assert verdict.verdict == "pass" and not any(name.startswith("duration") for name in verdict.checked)
    assert any("latency modelled, not validated; not graded" in reason for reason in verdict.reasons)


def test_no_data_is_not_a_pass(thresholds):
    assert dataset_verdict(metrics(tokens(), evaluated=10), thresholds).verdict == "no_data"
    few = dataset_verdict(metrics(tokens(n=12, status="no_data")), thresholds)
    assert few.verdict == "no_data" and "output tokens: no data (only 12 completed LLM steps)" in few.reasons


def test_thresholds_come_from_a_file(tmp_path, thresholds):
    custom = tmp_path / "t.yaml"
    custom.write_text(
        "metrics:\n  cost_wape: {warn: 0.01, fail: 0.02}\n"
        "  output_token_skill: {warn: 0.1, fail: 0.0, higher_is_better: true}\n"
        "nominal_interval_coverage: 0.9\n"
    )
    loaded = load_thresholds(custom)
    assert loaded.bands["cost_wape"].fail == 0.02 and loaded.nominal_interval_coverage == 0.9
    assert loaded.bands["output_token_skill"].higher_is_better
    assert (
        thresholds.bands["cost_wape"].warn == 0.15 and thresholds.bands["output_token_skill"].higher_is_better
    )


def test_m6_needs_v2_to_beat_the_best_naive_baseline_on_real_traffic():
    passing = {n: Verdict("pass") for n in ("a", "b")}
    better = {"output_tokens": tokens()}
    assert overall_verdict(passing, better, ("a", "b")).verdict == "pass"
    none = overall_verdict(passing, {"output_tokens": tokens(lower_bound=-0.01, skill=0.0)}, ("a", "b"))
    assert none.verdict == "fail" and any("does NOT beat the best naive baseline" in r for r in none.reasons)
    unsure = overall_verdict(passing, {"output_tokens": tokens(lower_bound=-0.01, skill=0.02)}, ("a", "b"))
    assert unsure.verdict == "warn" and any("NOT demonstrably" in r for r in unsure.reasons)
    missing = overall_verdict({"a": Verdict("pass")}, better, ("a", "b"))
    assert missing.verdict == "no_data" and "b: no verdict (not materialized)" in missing.reasons
    assert beats_best_naive_baseline(None)[0] == "no_data"
    assert beats_best_naive_baseline({"output_tokens": tokens(n=5, status="no_data")})[0] == "no_data"
