"""Thresholds from a measured A/A distribution: the canary's false-alarm rate and detection power.

Runs seeded days of unchanged traffic (A/A: the real code trace replayed, real outcomes) and of
five named shifts through the pure judgement (no Dagster, no database), with the thresholds of
config/canary.yaml, and prints per sample size:

- A/A: days, P1 / P2 false alarms with a Clopper-Pearson 95 % upper bound on the daily rate, the
  0.1 % / 99.9 % quantiles of each calibration effect and bias beside its margin, and how often
  each component was (wrongly) reported as moved;
- each shift: how often P1 and P2 fire (detection power) and which components are named.

    .venv/bin/python benchmarks/aa_thresholds.py [--days 10000] [--shift-days 300] [--sizes 1000,2000]
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from scipy.stats import binomtest

from costsim_assets.canary.config import load_canary_config
from costsim_assets.canary.judgement import COMPONENTS, P1, P2
from costsim_assets.canary.simulated_days import AA, NAMED_SHIFTS, DaySimulator, judge_days, trace_pool
from costsim_assets.reference_data.historical import HISTORICAL_MODEL, parse_trace, read_trace_bytes
from costsim_assets.simulator.v2_model import load_v2_model

TRACE = (
    Path(__file__).resolve().parents[1]
    / "../shared/data/azure-llm-inference-2023/AzureLLMInferenceTrace_code.csv"
)
CALIBRATION = ("above_median", "above_interval", "below_interval", "interval_coverage")
BIASES = ("output_token_bias", "cost_bias")


def rate(results: list[dict], check: str) -> tuple[int, float]:
    """Days the check fired, and the 95 % upper bound on its daily rate."""
    fired = sum(r["checks"][check]["outcome"] == "breach" for r in results)
    return fired, binomtest(fired, len(results)).proportion_ci(0.95, method="exact").high


def moved_share(results: list[dict]) -> dict[str, float]:
    return {c: np.mean([c in r["statistics"]["moved"] for r in results]) for c in COMPONENTS}


def aa_table(results: list[dict], config) -> list[str]:
    lines = ["| statistic | A/A 0.1 % | A/A 99.9 % | margin | max abs z |", "|---|---|---|---|---|"]
    rules = {
        **dict.fromkeys(CALIBRATION[:3], config.calibration),
        "interval_coverage": config.coverage,
        "output_token_bias": config.output_bias,
        "cost_bias": config.cost_bias,
    }
    for name in (*CALIBRATION, *BIASES):
        group, key = ("calibration", "effect") if name in CALIBRATION else ("bias", "relative_bias")
        effects = np.array([r["statistics"][group][name][key] for r in results], dtype=float)
        z = np.array([r["statistics"][group][name]["z"] for r in results], dtype=float)
        low, high = np.nanquantile(effects, [0.001, 0.999])
        lines.append(
            f"| {name} | {low:+.4f} | {high:+.4f} | {rules[name].margin} ({rules[name].direction}) "
            f"| {np.nanmax(np.abs(z[np.isfinite(z)])):.2f} |"
        )
    p2 = np.array([r["checks"][P2]["value"] for r in results], dtype=float)
    lines.append(f"| P2 median shift | | {np.nanquantile(p2, 0.999):.4f} | {config.p2_median_shift} | |")
    for name, threshold in config.moved.items():
        values = np.abs(np.array([r["statistics"]["movement"][name] for r in results], dtype=float))
        if np.isfinite(values).any():
            lines.append(f"| moved: {name} | | {np.nanquantile(values, 0.999):.4f} | {threshold} | |")
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=10_000)
    parser.add_argument("--shift-days", type=int, default=300)
    parser.add_argument("--sizes", default="1000,2000")
    args = parser.parse_args()
    source = os.environ.get("COSTSIM_HISTORICAL_SOURCE") or str(TRACE)
    trace = parse_trace(read_trace_bytes(source))
    model, config = load_v2_model(), load_canary_config().judgement
    pool = trace_pool(
        trace["ContextTokens"].to_numpy(), trace["GeneratedTokens"].to_numpy(), HISTORICAL_MODEL
    )
    simulator = DaySimulator(*pool, model)
    print(f"V2 {model.version}; trace {len(trace)} requests; thresholds config/canary.yaml")
    for size in (int(s) for s in args.sizes.split(",")):
        started = time.perf_counter()
        aa = judge_days(simulator, config, size, args.days, AA, seed=size)
        elapsed = time.perf_counter() - started
        p1, p1_bound = rate(aa, P1)
        p2, p2_bound = rate(aa, P2)
        print(
            f"\n## {size} requests per day: {args.days} A/A days "
            f"({elapsed / args.days * 1000:.1f} ms per day)\n"
        )
        print(
            f"P1 false alarms: {p1} ({p1 / args.days:.5f} per day, 95 % upper bound {p1_bound:.5f}); "
            f"P2 false alarms: {p2} (bound {p2_bound:.5f}); moved wrongly: "
            + ", ".join(f"{c} {s:.4f}" for c, s in moved_share(aa).items())
            + "\n"
        )
        print("\n".join(aa_table(aa, config)))
        print("\n| shift | P1 fired | P2 fired | named as moved |\n|---|---|---|---|")
        for index, shift in enumerate(NAMED_SHIFTS):
            days = judge_days(simulator, config, size, args.shift_days, shift, seed=1000 + index)
            named = ", ".join(f"{c} {s:.2f}" for c, s in moved_share(days).items() if s > 0)
            print(
                f"| {shift.name} | {rate(days, P1)[0] / len(days):.2f} | {rate(days, P2)[0] / len(days):.2f} "
                f"| {named or 'nothing'} |"
            )


if __name__ == "__main__":
    main()
