"""The canary's Markdown report and its diff artifact (mismatching pairs)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd

from costsim_assets.canary.analysis import CanaryDay
from costsim_assets.canary.config import CanaryConfig
from costsim_assets.statistics.divergence import within_tolerance


def mismatching_pairs(
    sample: pd.DataFrame, day: CanaryDay, v1: list, v2: list, config: CanaryConfig
) -> pd.DataFrame:
    """Pairs whose V2 cost is outside the matching tolerance of V1 (or V2 failed), with both outputs."""
    matched = within_tolerance(day.v1_cost, day.v2_cost, config.matching_rel_tol, config.matching_abs_tol)
    evaluable = day.v2_status != "schema_error"
    rows = np.flatnonzero(evaluable & ~matched)
    return pd.DataFrame(
        {
            "provenance_id": sample["id"].to_numpy()[rows],
            "tenant_id": sample["tenant_id"].to_numpy()[rows],
            "input_hash": sample["input_hash"].to_numpy()[rows],
            "v1_output_hash": day.v1_rerun_hash[rows],
            "v2_output_hash": day.v2_rerun_hash[rows],
            "v1_cost_cents": day.v1_cost[rows],
            "v2_cost_cents": day.v2_cost[rows],
            "v1_output": [json.dumps(v1[i].document, sort_keys=True) for i in rows],
            "v2_output": [json.dumps(v2[i].document, sort_keys=True) if v2[i] else None for i in rows],
        }
    )


def _cell(value) -> str:
    return "n/a" if value is None or (isinstance(value, float) and np.isnan(value)) else f"{value:.4g}"


def _realized_lines(realized: dict) -> list[str]:
    """V2 judged on the day's outcomes: calibration events, biases, and what moved."""
    lines = [
        "",
        f"## V2 on {realized['outcome_steps']} realized LLM calls",
        "",
        "| statistic | observed | calibrated / relative | z |",
        "|---|---|---|---|",
    ]
    for name, test in realized["calibration"].items():
        lines.append(
            f"| {name} | {_cell(test['observed'])} | {_cell(test['expected'])} | {_cell(test['z'])} |"
        )
    for name, test in realized["bias"].items():
        lines.append(f"| {name} | | {_cell(test['relative_bias'])} | {_cell(test['z'])} |")
    lines += ["", "| what moved (vs the profile V2 was fitted on) | value |", "|---|---|"]
    lines += [f"| {name} | {_cell(value)} |" for name, value in realized["movement"].items()]
    lines += ["", f"Moved: {', '.join(realized['moved']) or 'nothing beyond its threshold'}"]
    return lines


def canary_markdown(
    partition_key: str, stats: dict, checks: list[tuple[str, bool, str]], golden: dict[str, dict]
) -> str:
    pairwise = stats["pairwise"]
    lines = [
        f"# CostSim canary {partition_key}: {stats['evaluations']} evaluations sampled",
        "",
        "| check | passed | detail |",
        "|---|---|---|",
    ]
    lines += [f"| {name} | {passed} | {detail} |" for name, passed, detail in checks]
    lines += _realized_lines(stats["realized"])
    lines += [
        "",
        "## Context: V2 against V1 and the golden reference",
        "",
        "| statistic | value |",
        "|---|---|",
    ]
    for name in (
        "v2_vs_v1_drift",
        "v2_vs_v1_kl_divergence",
        "v2_estimate_median_shift",
        "schema_error_ratio",
        "fail_ratio",
    ):
        lines.append(f"| {name} | {_cell(stats[name])} |")
    for name in ("delta_p50", "delta_p90", "matching_rate", "outlier_pct"):
        lines.append(f"| pairwise {name} (V2 - V1) | {_cell(pairwise.get(name))} |")
    for name, value in stats["noise_floor"].items():
        lines.append(f"| noise floor {name} | {_cell(value)} |")
    lines += ["", "| golden dataset | V2 cost WAPE | V2 output-token MAE |", "|---|---|---|"]
    for name, metrics in golden.items():
        cost, tokens = metrics.get("cost") or {}, metrics.get("output_tokens") or {}
        lines.append(f"| {name} | {_cell(cost.get('wape'))} | {_cell(tokens.get('mae'))} |")
    return "\n".join(lines) + "\n"
